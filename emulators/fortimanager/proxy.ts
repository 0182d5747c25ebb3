/**
 * FortiManager's `exec /sys/proxy/json` and the managed-device inventory (`/dvmdb/...device`) in the emulator:
 * FortiManager relays a FortiOS REST call to managed FortiGates, each of which is an in-process FortiGate
 * emulator backend (devices.ts), and answers one `data` element per device. Facts:
 * docs/reference/fortigate-feeds.md §8–§9 (keys cited per rule); the answers no source shows are
 * {@link ProxySettings} whose defaults are the unhelpful ones.
 *
 * **API summary** (for clients and tests):
 * - Start options (`startFortimanagerEmulator`): `devices: [{name, adom?, connStatus?, version?, vdoms?, feeds?, feedSettings?, sn?, ip?, latencyMs?}]`
 *   ({@link ManagedDeviceSeed}; @default two FortiGates "fgt-hq" and "fgt-br1" in ADOM root, FortiOS 7.6.4, each with push feed
 *   "jit-allow" in root), `proxy: {offlineDevice?, unknownDevice?, outOfScope?, readWithRpcRead?, order?}` ({@link ProxySettings}).
 * - JSON-RPC: `get /dvmdb/adom/<adom>/device` (`fields`, `filter`, `verbose`), `get /dvmdb/adom/<adom>/device/<dev>`,
 *   `get /dvmdb/adom/<adom>/device/<dev>/vdom`, `get /dvmdb/device`, `get /dvmdb/device/<dev>`;
 *   `exec /sys/proxy/json` `{data:{target:[…], action:"get|post|put|delete", resource:"/api/v2/…?vdom=root", payload?, timeout?}}`
 *   → `data:[{target:"<device>", status:{code,message}, response:<the FortiGate's answer>}]`.
 *   Targets: `adom/<a>/device/<d>`, `adom/<a>/group/All_FortiGate`, `device/<d>`, `group/All_FortiGate`, `dev_oid/<oid>`, leading `/`
 *   optional, a device reached twice answered once. Offline device: element `{target, status:{code:-1, message:"…offline…"}}` (no `response`);
 *   unknown: `{target, status:{code:-3,…}}`; timed out (`latencyMs` > `timeout` s): `{target, status:{code:-24, message:"Timeout"}}`.
 *   Rights: `rpc-permit read-write` for proxied writes (-11), and for gets unless `readWithRpcRead: "allowed"`; profile
 *   `device-config` read-write (Manage Device Configurations) or Super_User for post/put/delete (-11); ADOM in the admin's scope (-11).
 * - Control routes (under `/__emulator/`, JSON): `GET devices` → `{devices:[{name, adom, connStatus, version, sn, ip, vdoms, latencyMs,
 *   requests, feeds}]}`; `POST devices` a {@link ManagedDeviceSeed} (replaces one of that name); `GET|DELETE devices/{name}`;
 *   `PUT devices/{name}` `{connStatus?: "up"|"down"|"unknown", latencyMs?, adom?}` (online/offline);
 *   `devices/{name}/<FortiGate control route>` reaches the device's own control routes, e.g. `GET devices/fgt-hq/entries?feed=jit-allow`,
 *   `POST devices/fgt-hq/entries {feed, entries}`, `DELETE devices/fgt-hq/entries {feed, entries?}`, `POST devices/fgt-hq/reboot`,
 *   `GET devices/fgt-hq/feeds`, `POST devices/fgt-hq/settings {entryLimit…}`; `GET proxy` / `PUT proxy` the {@link ProxySettings}.
 *   `GET state` lists `devices` too; `POST reset` restores the seeded devices.
 */
import type { EmulatorRequest } from "../kit";
import { fortigateDispatch } from "../fortigate/emulator";
import type { FortimanagerBackend } from "./backend";
import { listDevices, type ManagedDevice, type ProxySettings } from "./devices";
import { INVALID_DATA, NOT_FOUND, NO_PERMISSION, OK, st, type ParamResult, type Route, type RouteCtx } from "./rpc";

export type { ManagedDeviceSeed, ProxySettings, ConnStatus } from "./devices";

/** Per-device answers no source shows (§8 "offline or unknown device"); the codes are this emulator's choice. */
const OFFLINE = (name: string) => st(-1, `Device ${name} is offline (connection down)`);
/** -24 "Timeout" is in FortiManager's error list (PYFORTINET-ERR, fortimanager.md §3); its use here is a choice. */
const TIMEOUT = st(-24, "Timeout");

const inScope = (c: RouteCtx, adom: string) => c.caller.admin.adoms === "all" || c.caller.admin.adoms.includes(adom);

// ---- inventory (§9) ----
function adomDevices(b: FortimanagerBackend, c: RouteCtx): ParamResult {
  const [, adom = "", dev, sub] = c.match;
  if (!b.adoms.includes(adom)) return { status: st(-6, "Invalid url"), url: c.url };
  if (!inScope(c, adom)) return { status: NO_PERMISSION, url: c.url };
  if (dev === undefined) return { status: OK, url: c.url, data: listDevices(b.devices, b.devices.inAdom(adom), c.param, c.verbose) };
  const d = b.devices.devices.get(dev);
  if (!d || d.adom !== adom) return { status: NOT_FOUND, url: c.url };
  if (sub !== undefined) return { status: OK, url: c.url, data: b.devices.record(d, c.verbose).vdom };
  return { status: OK, url: c.url, data: listDevices(b.devices, [d], { fields: c.param.fields }, c.verbose)[0] };
}
function anyDevice(b: FortimanagerBackend, c: RouteCtx): ParamResult {
  const dev = c.match[1];
  const visible = [...b.devices.devices.values()].filter((d) => inScope(c, d.adom));
  if (dev === undefined) return { status: OK, url: c.url, data: listDevices(b.devices, visible, c.param, c.verbose) };
  const d = b.devices.devices.get(dev);
  if (!d) return { status: NOT_FOUND, url: c.url };
  if (!inScope(c, d.adom)) return { status: NO_PERMISSION, url: c.url };
  return { status: OK, url: c.url, data: listDevices(b.devices, [d], { fields: c.param.fields }, c.verbose)[0] };
}

// ---- proxy (§8) ----
type Resolved = { label: string; device?: ManagedDevice; adom?: string };

/** Devices a target string reaches [JPF-PROXY]; undefined when the string is no target form at all. */
function resolve(b: FortimanagerBackend, raw: string): Resolved[] | undefined {
  const p = raw.replace(/^\//, "").split("/");
  const devs = b.devices;
  const one = (name: string, adom?: string): Resolved[] => {
    const d = devs.devices.get(name);
    return [d && (adom === undefined || d.adom === adom) ? { label: name, device: d } : { label: name, ...(adom !== undefined && { adom }) }];
  };
  if (p.length === 4 && p[0] === "adom" && p[2] === "device") return one(p[3]!, p[1]!);
  if (p.length === 4 && p[0] === "adom" && p[2] === "group") {
    if (p[3] !== "All_FortiGate" || !b.adoms.includes(p[1]!)) return [{ label: raw, adom: p[1]! }];
    return devs.inAdom(p[1]!).map((d) => ({ label: d.name, device: d }));
  }
  if (p.length === 2 && p[0] === "device") return one(p[1]!);
  if (p.length === 2 && p[0] === "group")
    return p[1] === "All_FortiGate" ? [...devs.devices.values()].map((d) => ({ label: d.name, device: d })) : [{ label: raw }];
  if (p.length === 2 && p[0] === "dev_oid") {
    const d = [...devs.devices.values()].find((x) => String(x.oid) === p[1]);
    return [d ? { label: d.name, device: d } : { label: raw }];
  }
  return undefined;
}

function proxy(b: FortimanagerBackend, c: RouteCtx): ParamResult & { delayMs?: number } {
  const s: ProxySettings = b.devices.settings;
  const data = (Array.isArray(c.param.data) ? c.param.data[0] : c.param.data) as Record<string, unknown> | undefined;
  const action = String(data?.action ?? "").toLowerCase();
  const targets = typeof data?.target === "string" ? [data.target] : data?.target;
  const resource = data?.resource;
  // `target` list of strings, `action` get|post|put|delete, `resource` the FortiOS path with its query [ANS-PROXY, JPF-PROXY].
  if (
    !Array.isArray(targets) ||
    targets.length === 0 ||
    !targets.every((t) => typeof t === "string") ||
    !["get", "post", "put", "delete"].includes(action) ||
    typeof resource !== "string" ||
    !resource.startsWith("/")
  ) {
    return { status: INVALID_DATA, url: c.url };
  }
  // Rights: rpc-permit read → -11 on proxied writes even for Super_User [JPF-001 "Permissions"]; writes need Manage Device
  // Configurations read-write or Super_User [P-KK 202002, 202100] (`device-config`, fortimanager.md §5).
  const admin = c.caller.admin;
  const rpc = b.effectiveRpcPermit(admin);
  const write = action !== "get";
  if (rpc === "none" || (rpc !== "read-write" && (write || s.readWithRpcRead === "no-permission"))) return { status: NO_PERMISSION, url: c.url };
  if (write && !b.isSuper(admin) && b.profileOf(admin).permissions?.["device-config"] !== "read-write") return { status: NO_PERMISSION, url: c.url };

  const resolved: Resolved[] = [];
  for (const t of targets as string[]) {
    const r = resolve(b, t);
    if (!r) return { status: INVALID_DATA, url: c.url };
    resolved.push(...r);
  }
  // ADOM scope of proxy targets is UNCONFIRMED (§8); -11 for the call by default, as for /pm/config writes [JPF-001].
  const outside = (r: Resolved) => (r.device ? !inScope(c, r.device.adom) : r.adom !== undefined && !inScope(c, r.adom));
  if (s.outOfScope === "call" && resolved.some(outside)) return { status: NO_PERMISSION, url: c.url };
  if (s.unknownDevice === "call" && resolved.some((r) => !r.device)) return { status: NOT_FOUND, url: c.url };

  const v = b.version;
  const before701 = v.major < 7 || (v.major === 7 && v.minor === 0 && v.patch < 1);
  if (data?.timeout !== undefined && before701 && s.timeoutBefore701 === "refuse") return { status: INVALID_DATA, url: c.url };
  // `timeout` in seconds, default 60, at most 28800 [JPF-PROXY].
  const timeoutS = Math.min(28800, Math.max(1, Number.isFinite(Number(data?.timeout)) && data?.timeout !== undefined ? Number(data.timeout) : 60));
  const [path = "", query = ""] = resource.split(/\?(.*)/s);
  const seen = new Set<string>();
  const elements: Record<string, unknown>[] = [];
  let delayMs = 0;
  for (const r of resolved) {
    // A device reached twice (directly and through a group) gets one request [JPF-PROXY].
    if (seen.has(r.label)) continue;
    seen.add(r.label);
    const d = r.device;
    if (!d) {
      if (s.unknownDevice === "status") elements.push({ target: r.label, status: NOT_FOUND });
      continue;
    }
    if (outside(r)) {
      elements.push({ target: d.name, status: NO_PERMISSION });
      continue;
    }
    if (d.connStatus !== "up") {
      if (s.offlineDevice === "status") elements.push({ target: d.name, status: OFFLINE(d.name) });
      continue;
    }
    if (d.latencyMs > timeoutS * 1000) {
      delayMs = Math.max(delayMs, timeoutS * 1000);
      elements.push({ target: d.name, status: TIMEOUT });
      continue;
    }
    delayMs = Math.max(delayMs, d.latencyMs);
    d.requests++;
    const req: EmulatorRequest = {
      method: action.toUpperCase(),
      rawPath: path,
      rawQuery: query,
      query: new URLSearchParams(query),
      headers: { authorization: `Bearer ${d.mgmtToken}`, "content-type": "application/json" },
      body: data?.payload === undefined ? "" : JSON.stringify(data.payload),
      remoteAddress: "127.0.0.1",
    };
    const reply = fortigateDispatch(d.backend, req);
    const response = reply === undefined ? { status: "error", http_status: 404 } : reply.text !== undefined ? reply.text : reply.json;
    // `response` is the FortiGate's own envelope; the per-device status is 0 whatever FortiOS answered [JPF-PROXY, JPF-001].
    elements.push({ target: d.name, status: OK, response });
  }
  // The order of `data` elements varies between calls: match on `target` [JPF-PROXY, JPF-001].
  const turn = s.order === "rotate" && elements.length > 1 ? b.devices.calls++ % elements.length : 0;
  const ordered = [...elements.slice(turn), ...elements.slice(0, turn)];
  return { status: OK, url: c.url, data: ordered, delayMs, changed: write && elements.some((e) => e.response !== undefined) };
}

/** Routes joined into routes.ts's table. */
export const DEVICE_ROUTES: readonly Route[] = [
  // Inventory per ADOM and global [JPF-DEV, ANS-DVMDEV, MCP]; an ADOM outside the admin's scope answers -11 as for /dvmdb/adom [JPF-001].
  { methods: ["get"], url: /^dvmdb\/adom\/([^/]+)\/device(?:\/([^/]+)(?:\/(vdom))?)?$/, privilege: "admin-read", handle: adomDevices },
  { methods: ["get"], url: /^dvmdb\/device(?:\/([^/]+))?$/, privilege: "admin-read", handle: anyDevice },
  // The proxy judges rpc-permit itself (proxied gets may be allowed with `read`, see ProxySettings).
  { methods: ["exec"], url: /^sys\/proxy\/json$/, privilege: "proxy", handle: proxy },
];

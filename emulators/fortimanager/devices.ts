/**
 * Managed FortiGates of the FortiManager emulator: the device inventory per ADOM (`/dvmdb/...`), each device
 * owning an in-process FortiGate emulator backend that `/sys/proxy/json` relays to (proxy.ts), and
 * the control routes that reach them. Facts: docs/reference/fortigate-feeds.md §8–§9 (source keys cited
 * per rule). API summary: proxy.ts.
 */
import { randomBytes } from "node:crypto";
import type { EmulatorReply, EmulatorRequest } from "../kit";
import { FortigateBackend } from "../fortigate/backend";
import { fortigateControl } from "../fortigate/emulator";
import type { FeedSeed, FeedSettings } from "../fortigate/feeds";
import { pickFields, toWire } from "./wire";

export type ConnStatus = "up" | "down" | "unknown";

/** A managed FortiGate as start options and control routes give it. */
export interface ManagedDeviceSeed {
  readonly name: string;
  /** @default "root" */
  readonly adom?: string;
  /** FortiManager's connection to the device (`conn_status`). @default "up" */
  readonly connStatus?: ConnStatus;
  /** FortiOS version of the device's emulated backend. @default "7.6.x" */
  readonly version?: string;
  /** @default ["root"] */
  readonly vdoms?: readonly string[];
  /** Threat feeds on the device. @default the FortiGate emulator's seed (push feed "jit-allow" in root from 7.2.1) */
  readonly feeds?: readonly FeedSeed[];
  readonly feedSettings?: Partial<FeedSettings>;
  /** Serial number. @default a synthetic FGVM02TM… serial */
  readonly sn?: string;
  /** @default 192.0.2.<n> */
  readonly ip?: string;
  /** How long the device takes to answer a proxied call, in ms; past the call's `timeout` it times out. @default 0 */
  readonly latencyMs?: number;
}

export interface ManagedDevice {
  readonly name: string;
  adom: string;
  connStatus: ConnStatus;
  readonly sn: string;
  readonly ip: string;
  readonly oid: number;
  latencyMs: number;
  /** The device itself: a FortiGate emulator backend (its feeds, VDOMs, admins). */
  readonly backend: FortigateBackend;
  /** Token of the api-user FortiManager's proxied calls run as (which account the real FMG uses is UNCONFIRMED, §8). */
  readonly mgmtToken: string;
  /** Proxied requests the device received since the last reset (a device reached twice in one call gets one). */
  requests: number;
}

/**
 * The proxy's answers the sources leave open (fortigate-feeds.md §8, "Not verified"); each default is the unhelpful one.
 */
export interface ProxySettings {
  /** A targeted device with `conn_status` down or unknown: "status" (an element with code ≠ 0 and a message, no `response`) or "missing" (no element). @default "status" */
  offlineDevice: "status" | "missing";
  /** A target naming no managed device (or a group other than All_FortiGate): "status" (element with -3), "missing", or "call" (the whole call -3). @default "status" */
  unknownDevice: "status" | "missing" | "call";
  /** A target in an ADOM outside the admin's scope: "call" (the whole call -11) or "device" (that device's element -11). @default "call" */
  outOfScope: "call" | "device";
  /** A proxied `get` by an admin with `rpc-permit read`: "no-permission" (-11, as every `exec`) or "allowed". @default "no-permission" */
  readWithRpcRead: "no-permission" | "allowed";
  /** Order of `data` elements: "rotate" (changes every call; match on `target`, JPF-PROXY) or "fixed". @default "rotate" */
  order: "rotate" | "fixed";
  /**
   * A `timeout` attribute before FortiManager 7.0.1, where the Ansible arg spec has none (`fmgr_sys_proxy_json.py`
   * v_range from 7.0.1, fortimanager.md Turn 3): "refuse" (the whole call -10) or "ignore". No source shows the
   * answer. @default "refuse"
   */
  timeoutBefore701: "refuse" | "ignore";
}

export const DEFAULT_PROXY_SETTINGS: Readonly<ProxySettings> = {
  offlineDevice: "status",
  unknownDevice: "status",
  outOfScope: "call",
  readWithRpcRead: "no-permission",
  order: "rotate",
  timeoutBefore701: "refuse",
};

/** The managed devices of one FortiManager. */
export class ManagedDevices {
  readonly devices = new Map<string, ManagedDevice>();
  settings: ProxySettings;
  private nextOid = 200;
  /** Proxy calls so far (turns the `data` order). */
  calls = 0;

  constructor(
    seeds: readonly ManagedDeviceSeed[],
    settings: Partial<ProxySettings> | undefined,
    private readonly adoms: () => readonly string[],
  ) {
    this.settings = { ...DEFAULT_PROXY_SETTINGS, ...settings };
    for (const s of seeds) this.add(s);
  }

  /** Adds (or replaces) a device; its ADOM must exist. */
  add(seed: ManagedDeviceSeed): ManagedDevice {
    const adom = seed.adom ?? "root";
    if (typeof seed.name !== "string" || seed.name === "") throw new Error('a device needs a "name"');
    if (!this.adoms().includes(adom)) throw new Error(`no ADOM "${adom}" (ADOMs: ${this.adoms().join(", ")})`);
    const n = this.devices.has(seed.name) ? this.devices.get(seed.name)!.oid - 200 : this.nextOid++ - 200;
    const mgmtToken = randomBytes(15).toString("hex");
    const vdoms = seed.vdoms ?? ["root"];
    const sn = seed.sn ?? `FGVM02TM24${String(100 + n).padStart(6, "0")}`;
    const backend = new FortigateBackend({
      version: seed.version ?? "7.6.x",
      vdoms,
      serial: sn,
      users: [{ name: "fmg-mgmt", token: mgmtToken, fwgrp: "read-write", sysgrp: "read-write", vdoms }],
      ...(seed.feeds && { feeds: seed.feeds }),
      ...(seed.feedSettings && { feedSettings: seed.feedSettings }),
    });
    const d: ManagedDevice = {
      name: seed.name,
      adom,
      connStatus: seed.connStatus ?? "up",
      sn,
      ip: seed.ip ?? `192.0.2.${10 + n}`,
      oid: 200 + n,
      latencyMs: seed.latencyMs ?? 0,
      backend,
      mgmtToken,
      requests: 0,
    };
    this.devices.set(d.name, d);
    return d;
  }
  inAdom(adom: string): ManagedDevice[] {
    return [...this.devices.values()].filter((d) => d.adom === adom);
  }

  /**
   * A device as `get /dvmdb/.../device` lists it with `verbose: 1` [ANS-DVMDEV, JPF-DEV, MCP]; without `verbose`
   * `conn_status` 0 unknown / 1 up / 2 down and `conf_status` 0 unknown / 1 insync [MCP `CONN_STATUS`, JPF-DEV].
   * `os_ver` "7.0" + `mr` + `patch` carry the FortiOS version [ANS-DVMDEV].
   */
  record(d: ManagedDevice, verbose: boolean): Record<string, unknown> {
    const fw = d.backend.firmware;
    const conn = { unknown: ["UNKNOWN", 0], up: ["up", 1], down: ["down", 2] }[d.connStatus];
    const rec = {
      name: d.name,
      hostname: d.name,
      sn: d.sn,
      ip: d.ip,
      oid: d.oid,
      os_ver: `${fw.major}.0`,
      mr: fw.minor,
      patch: fw.patch,
      build: fw.build,
      platform_str: "FortiGate-VM64",
      mgmt_mode: verbose ? "fmg" : 2,
      conn_status: verbose ? conn[0] : conn[1],
      conf_status: verbose ? "insync" : 1,
      vdom: d.backend.vdoms().map((name, i) => ({ name, oid: 3 + i })),
    };
    return toWire(rec, verbose);
  }
}

/** `filter` of a `get`: `["name","==","x"]` or a list of such triples (ANDed), operators `==`, `!=`, `in` [JPF-DEV, ANS-DVMDEV]. */
function matches(rec: Record<string, unknown>, filter: unknown): boolean {
  if (!Array.isArray(filter) || filter.length === 0) return true;
  const triples = Array.isArray(filter[0]) ? (filter as unknown[][]) : [filter as unknown[]];
  return triples.every(([k, op, ...want]) => {
    const have = rec[String(k)];
    if (op === "==") return have === want[0] || String(have) === String(want[0]);
    if (op === "!=") return String(have) !== String(want[0]);
    if (op === "in") return want.map(String).includes(String(have));
    return true;
  });
}

/** The `get` answers of the inventory routes; scope checks are the caller's (proxy.ts routes). */
export function listDevices(
  reg: ManagedDevices,
  devices: readonly ManagedDevice[],
  param: Record<string, unknown>,
  verbose: boolean,
): Record<string, unknown>[] {
  return pickFields(
    devices.map((d) => reg.record(d, verbose)).filter((r) => matches(r, param.filter)),
    param.fields,
  );
}

const ok = (extra: Record<string, unknown> = {}): EmulatorReply => ({ status: 200, json: { status: "ok", ...extra } });
const fail = (status: number, error: string): EmulatorReply => ({ status, json: { error } });

/** A device as the control routes list it. */
export function deviceState(d: ManagedDevice): Record<string, unknown> {
  return {
    name: d.name,
    adom: d.adom,
    connStatus: d.connStatus,
    version: d.backend.firmware.text,
    sn: d.sn,
    ip: d.ip,
    vdoms: d.backend.vdoms(),
    latencyMs: d.latencyMs,
    requests: d.requests,
    feeds: d.backend.feeds.all().map((f) => d.backend.feeds.describe(f)),
  };
}

/**
 * Control routes `devices…` and `proxy` (documented in proxy.ts). `devices/{name}/<route>` hands `<route>`
 * to that device's FortiGate control routes (`feeds`, `entries`, `reboot`, `settings`, `state`, …).
 */
export function deviceControl(reg: ManagedDevices, req: EmulatorRequest, parts: readonly string[], d: Record<string, unknown>): EmulatorReply | undefined {
  const m = req.method;
  if (parts[0] === "proxy") {
    if (parts.length !== 1) return undefined;
    if (m === "GET") return { status: 200, json: reg.settings };
    if (m !== "PUT" && m !== "POST") return undefined;
    const choices: Record<keyof ProxySettings, readonly string[]> = {
      offlineDevice: ["status", "missing"],
      unknownDevice: ["status", "missing", "call"],
      outOfScope: ["call", "device"],
      readWithRpcRead: ["no-permission", "allowed"],
      order: ["rotate", "fixed"],
      timeoutBefore701: ["refuse", "ignore"],
    };
    for (const [k, allowed] of Object.entries(choices))
      if (d[k] !== undefined && !allowed.includes(String(d[k]))) return fail(400, `${k} must be ${allowed.join(" | ")}`);
    for (const k of Object.keys(choices)) if (d[k] !== undefined) (reg.settings as unknown as Record<string, unknown>)[k] = d[k];
    return ok({ settings: reg.settings });
  }
  const [name, ...rest] = parts.slice(1);
  if (name === undefined) {
    if (m === "GET") return { status: 200, json: { devices: [...reg.devices.values()].map(deviceState) } };
    if (m !== "POST") return undefined;
    try {
      return ok({ device: deviceState(reg.add(d as unknown as ManagedDeviceSeed)) });
    } catch (e) {
      return fail(400, (e as Error).message);
    }
  }
  const dev = reg.devices.get(name);
  if (!dev) return fail(404, `no managed device "${name}"`);
  if (rest.length === 0) {
    if (m === "GET") return { status: 200, json: deviceState(dev) };
    if (m === "DELETE") return (reg.devices.delete(name), ok());
    if (m !== "PUT") return undefined;
    if (d.connStatus !== undefined) {
      if (!["up", "down", "unknown"].includes(String(d.connStatus))) return fail(400, "connStatus must be up | down | unknown");
      dev.connStatus = d.connStatus as ConnStatus;
    }
    if (d.latencyMs !== undefined) {
      if (!Number.isInteger(d.latencyMs) || (d.latencyMs as number) < 0) return fail(400, "latencyMs must be a non-negative integer");
      dev.latencyMs = d.latencyMs as number;
    }
    if (d.adom !== undefined) {
      if (!reg["adoms"]().includes(String(d.adom))) return fail(400, `no ADOM "${String(d.adom)}"`);
      dev.adom = String(d.adom);
    }
    return ok({ device: deviceState(dev) });
  }
  return fortigateControl(dev.backend, req, rest.join("/"));
}

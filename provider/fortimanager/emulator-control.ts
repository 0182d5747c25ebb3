/**
 * The FortiManager emulator's control routes under `/__emulator/` (beside the kit's `GET|DELETE log`,
 * `POST reset`, `POST|DELETE faults`). One vocabulary: a noun per kind of state, the HTTP method
 * says what happens (GET lists, POST adds, PUT sets, DELETE clears). The routes are documented on
 * `startFortimanagerEmulator` (emulator.ts). They change emulator state directly and are never
 * recorded in the request log.
 */
import type { EmulatorReply, EmulatorRequest } from "../emulator-kit";
import type { FortimanagerBackend, RpcFault } from "./emulator-backend";
import { IPV4_UNUSED, IPV6_UNUSED, SLOT_COUNT, type EmulatedAdmin, type EmulatedAdminSeed } from "./emulator-seed";
import { ipv4SlotFromWire, ipv6SlotFromWire } from "./emulator-wire";
import { deviceControl, deviceState } from "./emulator-devices";

const ok = (extra: Record<string, unknown> = {}): EmulatorReply => ({ status: 200, json: { status: "ok", ...extra } });
const fail = (status: number, error: string): EmulatorReply => ({ status, json: { error } });

/** An admin as the control routes list it: who it is, its rights, and its slots in the device's GET shape. */
export function adminState(b: FortimanagerBackend, a: EmulatedAdmin): Record<string, unknown> {
  return {
    userid: a.userid,
    profileid: a.profileid,
    rpcPermit: a.rpcPermit,
    userType: a.userType,
    adoms: a.adoms,
    superUser: b.isSuper(a),
    slots: structuredClone(a.slots),
    /** The slots in use (not the unused placeholder), e.g. `{ trusthost2: "203.0.113.7 255.255.255.255" }`. */
    trustedHosts: Object.fromEntries(
      Object.entries(a.slots)
        .filter(([, v]) => (Array.isArray(v) ? v[0] !== IPV4_UNUSED[0] : v !== IPV6_UNUSED))
        .map(([k, v]) => [k, Array.isArray(v) ? v.join(" ") : v]),
    ),
  };
}

function body(req: EmulatorRequest): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(req.body || "{}") as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Answers one control route, or undefined (the kit then answers its loud 404). */
export function fortimanagerControl(b: FortimanagerBackend, req: EmulatorRequest, action: string): EmulatorReply | undefined {
  const m = req.method;
  const parts = action.split("/").map(decodeURIComponent);
  const data = body(req);
  if (data === undefined && (m === "POST" || m === "PUT")) return fail(400, "body must be a JSON object");
  const d = data ?? {};
  switch (parts[0]) {
    case "state":
      if (m !== "GET" || parts.length !== 1) return undefined;
      return {
        status: 200,
        json: {
          version: b.version.label,
          admins: [...b.admins.values()].map((a) => adminState(b, a)),
          sessions: b.activeSessions,
          adoms: b.adoms,
          workspaceLockedBy: b.workspaceLockedBy ?? null,
          updateFailure: b.updateFailure ?? null,
          rpcFaults: b.rpcFaults.map((f) => ({ ...f.fault, left: Number.isFinite(f.left) ? f.left : null })),
          devices: [...b.devices.devices.values()].map(deviceState),
          proxy: b.devices.settings,
        },
      };
    case "admins":
      return admins(b, m, parts.slice(1), d);
    case "devices":
    case "proxy":
      return deviceControl(b.devices, req, parts, d);
    case "seed-admin": // earlier name of POST admins
      if (m !== "POST") return undefined;
      b.seedAdmin(d as unknown as EmulatedAdminSeed);
      return ok();
    case "sessions":
      if (m === "GET") return { status: 200, json: { active: b.activeSessions } };
      if (m === "DELETE") return { status: 200, json: { expired: b.expireSessions() } };
      return undefined;
    case "expire-sessions": // earlier name of DELETE sessions
      return m === "POST" ? { status: 200, json: { expired: b.expireSessions() } } : undefined;
    case "rpc-faults":
      if (m === "DELETE") return ((b.rpcFaults = []), ok());
      if (m !== "POST") return undefined;
      if (!Number.isInteger(d.code)) return fail(400, 'rpc-faults needs an integer "code"');
      b.rpcFaults.push({ fault: d as unknown as RpcFault, left: typeof d.times === "number" ? d.times : Number.POSITIVE_INFINITY });
      return ok();
    case "update-failure":
      b.updateFailure = m === "DELETE" ? undefined : (d as { code: number; message: string });
      return ok();
    case "workspace-lock":
      b.workspaceLockedBy = m === "DELETE" ? undefined : String(d.user ?? "other");
      return ok();
    default:
      return undefined;
  }
}

function admins(b: FortimanagerBackend, m: string, path: string[], d: Record<string, unknown>): EmulatorReply | undefined {
  const [userid, sub, slot] = path;
  if (userid === undefined) {
    if (m === "GET") return { status: 200, json: [...b.admins.values()].map((a) => adminState(b, a)) };
    if (m !== "POST") return undefined;
    if (typeof d.userid !== "string" || d.userid === "") return fail(400, 'an admin needs a "userid"');
    return ok({ admin: adminState(b, b.seedAdmin(d as unknown as EmulatedAdminSeed)) });
  }
  const a = b.admins.get(userid);
  if (!a) return fail(404, `no administrator "${userid}"`);
  if (sub === undefined) {
    if (m === "GET") return { status: 200, json: adminState(b, a) };
    if (m === "DELETE") return (b.removeAdmin(userid), ok());
    return undefined;
  }
  if (sub !== "slots" || slot === undefined || path.length !== 3) return undefined;
  const s = /^(ipv6_)?trusthost(\d+)$/.exec(slot);
  if (!s || Number(s[2]) < 1 || Number(s[2]) > SLOT_COUNT) return fail(404, `no slot "${slot}" (trusthost1..${SLOT_COUNT}, ipv6_trusthost1..${SLOT_COUNT})`);
  if (m === "DELETE") {
    a.slots[slot] = s[1] ? IPV6_UNUSED : [...IPV4_UNUSED];
    return ok({ admin: adminState(b, a) });
  }
  if (m !== "PUT") return undefined;
  const value = s[1] ? ipv6SlotFromWire(d.value) : ipv4SlotFromWire(d.value);
  if (value === undefined) return fail(400, `"value" is not a valid ${s[1] ? 'IPv6 "addr/len"' : 'IPv4 ["ip","mask"], "ip mask" or "ip/len"'}`);
  a.slots[slot] = value;
  return ok({ admin: adminState(b, a) });
}

/**
 * The FortiManager emulator's control routes under `/__emulator/` (beside the kit's `GET|DELETE log`,
 * `POST reset`, `POST|DELETE faults`). One vocabulary: a noun per kind of state, the HTTP method
 * says what happens (GET lists, POST adds, PUT sets, DELETE clears). The routes are documented on
 * `startFortimanagerEmulator` (emulator.ts). They change emulator state directly and are never
 * recorded in the request log. Each route's body has a `.strict()` schema: a body the route does not
 * understand is a 400 naming the field, never an ok for nothing done.
 */
import { z } from "zod";
import { controlBody, NO_BODY, type EmulatorReply, type EmulatorRequest } from "../kit";
import type { FortimanagerBackend, RpcFault } from "./backend";
import { IPV4_UNUSED, IPV6_UNUSED, SLOT_COUNT, type EmulatedAdmin, type EmulatedAdminSeed } from "./seed";
import { ipv4SlotFromWire, ipv6SlotFromWire } from "./wire";
import { deviceControl, deviceState } from "./devices";

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

const Name = z.string().min(1);
const AdminSeedSchema = z
  .object({
    userid: Name,
    password: z.string().optional(),
    profileid: Name.optional(),
    rpcPermit: z.enum(["none", "read", "read-write", "from-profile"]).optional(),
    userType: z.enum(["local", "api"]).optional(),
    apiKey: Name.optional(),
    adoms: z.union([z.literal("all"), z.array(Name)]).optional(),
    loginMax: z.number().int().positive().optional(),
    slots: z.record(z.string(), z.unknown()).optional(),
    fields: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  })
  .strict();
const nonEmpty = { message: "name at least one field" };
const PROXY_KEYS = ["offlineDevice", "unknownDevice", "outOfScope", "readWithRpcRead", "order"] as const;
const ProxySchema = z
  .object(Object.fromEntries(PROXY_KEYS.map((k) => [k, z.string().optional()])))
  .strict()
  .refine((b) => Object.values(b).some((v) => v !== undefined), nonEmpty);

/**
 * The body schema of a route (`.strict()`: an unknown field is a 400, never an ok for nothing done),
 * "forward" for a managed device's own control routes, or undefined for no such route.
 */
function routeSchema(m: string, parts: readonly string[]): z.ZodType | "forward" | undefined {
  const [noun, id, sub, slot] = parts;
  const only = (methods: Record<string, z.ZodType>, len = 1) => (parts.length === len ? methods[m] : undefined);
  switch (noun) {
    case "state":
      return only({ GET: NO_BODY });
    case "admins":
      if (id === undefined) return only({ GET: NO_BODY, POST: AdminSeedSchema });
      if (sub === undefined) return only({ GET: NO_BODY, DELETE: NO_BODY }, 2);
      return sub === "slots" && slot !== undefined ? only({ PUT: z.object({ value: z.unknown() }).strict(), DELETE: NO_BODY }, 4) : undefined;
    case "proxy":
      return only({ GET: NO_BODY, PUT: ProxySchema, POST: ProxySchema });
    case "devices":
      if (id === undefined)
        return only({
          GET: NO_BODY,
          POST: z
            .object({
              name: Name,
              adom: Name.optional(),
              connStatus: z.enum(["up", "down", "unknown"]).optional(),
              version: Name.optional(),
              vdoms: z.array(Name).optional(),
              feeds: z.array(z.object({ name: Name }).passthrough()).optional(),
              feedSettings: z.record(z.string(), z.unknown()).optional(),
              sn: Name.optional(),
              ip: Name.optional(),
              latencyMs: z.number().int().nonnegative().optional(),
            })
            .strict(),
        });
      if (sub !== undefined) return "forward";
      return only(
        {
          GET: NO_BODY,
          DELETE: NO_BODY,
          PUT: z
            .object({ connStatus: z.unknown().optional(), latencyMs: z.unknown().optional(), adom: z.unknown().optional() })
            .strict()
            .refine((b) => Object.values(b).some((v) => v !== undefined), nonEmpty),
        },
        2,
      );
    case "seed-admin": // earlier name of POST admins
      return only({ POST: AdminSeedSchema });
    case "sessions":
      return only({ GET: NO_BODY, DELETE: NO_BODY });
    case "expire-sessions": // earlier name of DELETE sessions
      return only({ POST: NO_BODY });
    case "rpc-faults":
      return only({
        DELETE: NO_BODY,
        POST: z
          .object({
            code: z.number().int(),
            method: Name.optional(),
            url: Name.optional(),
            auth: z.enum(["session", "token"]).optional(),
            message: z.string().optional(),
            times: z.number().int().positive().optional(),
            probability: z.number().min(0).max(1).optional(),
          })
          .strict(),
      });
    case "update-failure":
      return only({ POST: z.object({ code: z.number().int(), message: z.string() }).strict(), DELETE: NO_BODY });
    case "workspace-lock":
      return only({ POST: z.object({ user: Name.optional() }).strict(), DELETE: NO_BODY });
    default:
      return undefined;
  }
}

/** Answers one control route, or undefined (the kit then answers its loud 404). */
export function fortimanagerControl(b: FortimanagerBackend, req: EmulatorRequest, action: string): EmulatorReply | undefined {
  const m = req.method;
  const parts = action.split("/").map(decodeURIComponent);
  const schema = routeSchema(m, parts);
  if (schema === undefined) return undefined;
  let d: Record<string, unknown> = {};
  if (schema !== "forward") {
    const parsed = controlBody(req, action, schema);
    if ("error" in parsed) return fail(400, parsed.error);
    d = parsed.value as Record<string, unknown>;
  }
  switch (parts[0]) {
    case "state":
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
    case "seed-admin":
      b.seedAdmin(d as unknown as EmulatedAdminSeed);
      return ok();
    case "sessions":
      if (m === "GET") return { status: 200, json: { active: b.activeSessions } };
      return { status: 200, json: { expired: b.expireSessions() } };
    case "expire-sessions":
      return { status: 200, json: { expired: b.expireSessions() } };
    case "rpc-faults":
      if (m === "DELETE") return ((b.rpcFaults = []), ok());
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

/**
 * An HTTPS double of the FortiManager JSON-RPC API (one `POST /jsonrpc` endpoint), for tests, the
 * benchmark and users' CI. Behaviour follows shared/reference/fortimanager.md §10 (emulator
 * checklist): HTTP 200 for everything with the JSON-RPC status code in the body, sessions and API
 * keys, `rpc-permit`, Super_User-only admin edits, ADOM scope, login-max, and the kit's faults.
 *
 * Log semantics: `sideEffect` is true only for requests that changed configuration (an admin's
 * fields). Login and logout change session state, not configuration, so they are not side effects;
 * tests count sessions with `backend.activeSessions`.
 */
import { isIPv4, isIPv6 } from "node:net";
import { maskToPrefix } from "../address";
import { startEmulatorServer, type EmulatorRequest, type EmulatorServer, type EmulatorServerOptions, type HandledReply } from "../emulator-kit";
import { FortimanagerBackend, SLOT_COUNT, type BackendOptions, type EmulatedAdmin, type EmulatedAdminSeed } from "./emulator-backend";

export { FortimanagerBackend, DEFAULT_CREDENTIALS, IPV4_UNUSED, IPV6_UNUSED, type EmulatedAdminSeed, type EmulatedProfile } from "./emulator-backend";

type Status = { code: number; message: string };
type ParamResult = { status: Status; url: string; data?: unknown; changed?: boolean };
interface Caller {
  readonly admin: EmulatedAdmin;
}
interface RouteCtx {
  readonly caller: Caller;
  readonly url: string;
  readonly match: RegExpMatchArray;
  readonly param: Record<string, unknown>;
}
/** What a route needs beyond an authenticated caller. */
type Privilege = "system-read" | "admin-read" | "super-write";
interface Route {
  readonly methods: readonly string[];
  readonly url: RegExp;
  readonly privilege: Privilege;
  readonly handle: (b: FortimanagerBackend, ctx: RouteCtx, method: string) => ParamResult;
}

const OK: Status = { code: 0, message: "OK" };
const st = (code: number, message: string): Status => ({ code, message });
const NO_PERMISSION = st(-11, "No permission for the resource");
const WRITE_METHODS = new Set(["set", "add", "update", "delete", "clone", "move", "replace", "unset", "exec"]);
const ADMIN_FIELDS = new Set(["userid", "profileid", "rpc-permit", "user_type", "password", "login-max", "adom", "adom-access"]);

/** JSON-RPC endpoint path (JPF-001): the URL and HTTP method never change. */
export const JSONRPC_PATH = "/jsonrpc";

// 1. Route table: JSON-RPC method(s), url, privilege, handler. Sources: reference §2 and §4.
const ROUTES: readonly Route[] = [
  // get /sys/status (JPF-CLOUD); needs system access (ANS-I58, ANS-I98).
  { methods: ["get"], url: /^sys\/status$/, privilege: "system-read", handle: (b, c) => ({ status: OK, url: c.url, data: statusData(b) }) },
  // get /cli/global/system/global (ANS-HTTPAPI check_mode).
  { methods: ["get"], url: /^cli\/global\/system\/global$/, privilege: "system-read", handle: (_b, c) => ({ status: OK, url: c.url, data: { "workspace-mode": "disabled", "adom-status": "enable" } }) },
  // Admin list: only Super_User admins see the complete list (ADM-187819); others see themselves.
  { methods: ["get"], url: /^cli\/global\/system\/admin\/user$/, privilege: "admin-read", handle: listAdmins },
  { methods: ["add", "set"], url: /^cli\/global\/system\/admin\/user$/, privilege: "super-write", handle: createAdmin },
  // One admin: get/update/set (ANS-ADMINUSER, TF-SDK); primary key `userid`.
  { methods: ["get"], url: /^cli\/global\/system\/admin\/user\/(.+)$/, privilege: "admin-read", handle: getAdmin },
  { methods: ["update", "set"], url: /^cli\/global\/system\/admin\/user\/(.+)$/, privilege: "super-write", handle: updateAdmin },
  { methods: ["get"], url: /^cli\/global\/system\/admin\/profile(?:\/(.+))?$/, privilege: "system-read", handle: getProfile },
  // ADOM list / one ADOM, limited to the caller's scope (JPF-001: out-of-scope ADOM → -11).
  { methods: ["get"], url: /^dvmdb\/adom(?:\/([^/]+))?$/, privilege: "admin-read", handle: getAdom },
];

function statusData(b: FortimanagerBackend): Record<string, unknown> {
  const version = b.options.version ?? "v7.4.5-build2588 240827 (GA)";
  const m = /^v(\d+)\.(\d+)\.(\d+)/.exec(version);
  return {
    Version: version,
    Major: Number(m?.[1] ?? 7),
    Minor: Number(m?.[2] ?? 4),
    Patch: Number(m?.[3] ?? 5),
    Hostname: "fmg-emulator",
    "Serial Number": "FMG-VMTM00000000",
    "Admin Domain Configuration": "Enabled",
    "Platform Type": "FMG-VM64",
  };
}

function listAdmins(b: FortimanagerBackend, c: RouteCtx): ParamResult {
  const visible = b.isSuper(c.caller.admin) ? [...b.admins.values()] : [c.caller.admin];
  let data = visible.map((a) => b.adminRecord(a));
  const filter = c.param.filter;
  if (Array.isArray(filter) && filter.length === 3 && filter[1] === "==") data = data.filter((r) => r[String(filter[0])] === filter[2]);
  return { status: OK, url: c.url, data: pickFields(data, c.param.fields) };
}

function getAdmin(b: FortimanagerBackend, c: RouteCtx): ParamResult {
  const id = unescapeMkey(c.match[1] ?? "");
  if (!b.isSuper(c.caller.admin) && id !== c.caller.admin.userid) return { status: NO_PERMISSION, url: c.url };
  const a = b.admins.get(id);
  if (!a) return { status: st(-3, "Object does not exist"), url: c.url };
  return { status: OK, url: c.url, data: pickFields(b.adminRecord(a), c.param.fields) };
}

function createAdmin(b: FortimanagerBackend, c: RouteCtx, method: string): ParamResult {
  const data = c.param.data as Record<string, unknown> | undefined;
  const userid = data?.userid;
  if (typeof userid !== "string" || userid === "") return { status: st(-10, "The data is invalid for selected url"), url: c.url };
  if (method === "add" && b.admins.has(userid)) return { status: st(-2, "Object already exists"), url: c.url };
  b.seedAdmin({ userid, profileid: typeof data?.profileid === "string" ? data.profileid : "Restricted_User" });
  return { status: OK, url: c.url, data: { userid }, changed: true };
}

function updateAdmin(b: FortimanagerBackend, c: RouteCtx): ParamResult {
  const id = unescapeMkey(c.match[1] ?? "");
  const a = b.admins.get(id);
  if (!a) return { status: st(-3, "Object does not exist"), url: c.url };
  if (b.updateFailure) return { status: { ...b.updateFailure }, url: c.url };
  const data = c.param.data;
  if (!data || typeof data !== "object" || Array.isArray(data)) return { status: st(-10, "The data is invalid for selected url"), url: c.url };
  const next = { ...a.slots };
  for (const [k, v] of Object.entries(data)) {
    const slot = /^(ipv6_)?trusthost(\d+)$/.exec(k);
    if (slot && Number(slot[2]) >= 1 && Number(slot[2]) <= SLOT_COUNT) {
      const value = slot[1] ? ipv6Slot(v) : ipv4Slot(v);
      if (value === undefined) return { status: st(-10, "The data is invalid for selected url"), url: c.url };
      next[k] = value;
    } else if (k === "userid" ? v !== id : !ADMIN_FIELDS.has(k)) {
      return { status: st(-10, "The data is invalid for selected url"), url: c.url };
    }
  }
  const changed = JSON.stringify(next) !== JSON.stringify(a.slots);
  a.slots = next;
  return { status: OK, url: c.url, data: { userid: id }, changed };
}

function getProfile(b: FortimanagerBackend, c: RouteCtx): ParamResult {
  const id = c.match[1];
  if (id === undefined) return { status: OK, url: c.url, data: [...b.profiles.values()].map((p) => b.profileRecord(p)) };
  const p = b.profiles.get(unescapeMkey(id));
  return p ? { status: OK, url: c.url, data: pickFields(b.profileRecord(p), c.param.fields) } : { status: st(-3, "Object does not exist"), url: c.url };
}

function getAdom(b: FortimanagerBackend, c: RouteCtx): ParamResult {
  const scope = c.caller.admin.adoms;
  const inScope = (n: string) => scope === "all" || scope.includes(n);
  const name = c.match[1];
  if (name === undefined) return { status: OK, url: c.url, data: b.adoms.filter(inScope).map((n) => ({ name: n })) };
  if (!b.adoms.includes(name)) return { status: st(-6, "Invalid url"), url: c.url };
  return inScope(name) ? { status: OK, url: c.url, data: { name } } : { status: NO_PERMISSION, url: c.url };
}

/** IPv4 slots are written as `["ip","mask"]` (TF-RES-ADMINUSER); string forms are UNCONFIRMED, so refused. */
function ipv4Slot(v: unknown): [string, string] | undefined {
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== "string" || typeof v[1] !== "string") return undefined;
  return isIPv4(v[0]) && maskToPrefix(v[1]) !== undefined ? [v[0], v[1]] : undefined;
}

/** IPv6 slots are strings `addr/len` (JPF-CFG sample). */
function ipv6Slot(v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  const m = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(v);
  return m && isIPv6(m[1]!) && Number(m[2]) <= 128 ? v.toLowerCase() : undefined;
}

/** Object names escape `/` as `\/` inside the url (reference §2). */
function unescapeMkey(s: string): string {
  return s.replace(/\\\//g, "/");
}

function pickFields<T>(data: T, fields: unknown): T {
  if (!Array.isArray(fields)) return data;
  const pick = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([k]) => fields.includes(k)));
  return (Array.isArray(data) ? data.map(pick) : pick(data as Record<string, unknown>)) as T;
}

// 3. Auth + privilege gate, then routing, per entry of `params` (multiplexing, JPF-001).
function runParam(b: FortimanagerBackend, caller: Caller, method: string, param: Record<string, unknown>): ParamResult {
  const rawUrl = typeof param.url === "string" ? param.url : "";
  const url = rawUrl.replace(/^\//, "");
  const candidates = ROUTES.filter((r) => r.url.test(url));
  if (candidates.length === 0) return { status: st(-6, "Invalid url"), url: rawUrl };
  const route = candidates.find((r) => r.methods.includes(method));
  if (!route) return { status: st(-9, "The command is invalid for selected url"), url: rawUrl };
  const admin = caller.admin;
  const rpc = b.effectiveRpcPermit(admin);
  if (rpc === "none" || (WRITE_METHODS.has(method) && rpc !== "read-write")) return { status: NO_PERMISSION, url: rawUrl };
  if (route.privilege === "system-read" && !b.isSuper(admin) && b.profileOf(admin).systemSetting === "none") return { status: NO_PERMISSION, url: rawUrl };
  if (route.privilege === "super-write" && !b.isSuper(admin)) {
    const code = b.options.nonSuperAdminEditCode ?? -11;
    return { status: code === -11 ? NO_PERMISSION : st(-60804, "Only super users can edit/create administrators"), url: rawUrl };
  }
  if (route.privilege === "super-write" && b.workspaceLockedBy !== undefined) return { status: st(-20055, "Workspace is locked by other user"), url: rawUrl };
  const r = route.handle(b, { caller, url: rawUrl, match: url.match(route.url)!, param }, method);
  return r;
}

function sourceAllowed(admin: EmulatedAdmin, remote: string): boolean {
  const ip = remote.replace(/^::ffff:/, "");
  if (!isIPv4(ip)) return true; // IPv6 source matching is not emulated
  const n = (s: string) => s.split(".").reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
  return Object.entries(admin.slots).some(([k, v]) => k.startsWith("trusthost") && Array.isArray(v) && ((n(ip) & n(v[1])) >>> 0) === ((n(v[0]) & n(v[1])) >>> 0) && v[0] !== "255.255.255.255");
}

export function fortimanagerDispatch(b: FortimanagerBackend): (req: EmulatorRequest) => HandledReply | undefined {
  return (req) => {
    if (req.rawPath !== JSONRPC_PATH) return undefined;
    if (req.method !== "POST") return { status: 405, text: "Method Not Allowed", route: `${req.method} ${req.rawPath}` };
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(req.body) as Record<string, unknown>;
    } catch {
      return { status: 200, json: { id: null, result: [{ status: st(-8, "Invalid parameter"), url: "" }] }, route: "invalid-json" };
    }
    const method = typeof body.method === "string" ? body.method : "";
    const params = (Array.isArray(body.params) ? body.params : []) as Record<string, unknown>[];
    const first = params[0] ?? {};
    const url0 = String(first.url ?? "").replace(/^\//, "");
    const route = `${method} /${url0}`;
    // Login and logout (JPF-001). `data` may be an object or a one-element list (TF-CLIENT).
    if (method === "exec" && url0 === "sys/login/user") {
      const d = (Array.isArray(first.data) ? first.data[0] : first.data) as Record<string, unknown> | undefined;
      const r = b.login(d?.user, d?.passwd);
      return { status: 200, json: { id: body.id, result: [{ status: st(r.code, r.message), url: first.url }], ...(r.sid && { session: r.sid }) }, route, user: typeof d?.user === "string" ? d.user : undefined };
    }
    // API key: Bearer header only; `?access_token=` was removed in 7.4.7/7.6.2 and is ignored (ANS-I107).
    const auth = req.headers.authorization;
    const bearer = typeof auth === "string" && /^Bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
    const bySession = bearer === undefined ? b.sessionAdmin(body.session) : undefined;
    const admin = bearer !== undefined ? b.apiKeyAdmin(bearer) : bySession?.admin;
    const denied = (user?: string): HandledReply => ({ status: 200, json: { id: body.id, result: params.map((p) => ({ status: NO_PERMISSION, url: p.url })) }, route, user });
    if (!admin || (b.options.enforceTrustedHosts && !sourceAllowed(admin, req.remoteAddress))) return denied(admin?.userid);
    if (method === "exec" && url0 === "sys/logout") {
      if (bySession) b.logout(bySession.session.sid);
      return { status: 200, json: { id: body.id, result: [{ status: OK, url: first.url }] }, route, user: admin.userid };
    }
    const results = params.map((p) => runParam(b, { admin }, method, p));
    const sideEffect = results.some((r) => r.changed === true);
    return {
      status: 200,
      json: { id: body.id, result: results.map(({ changed: _c, ...r }) => r), ...(bySession && { session: bySession.session.numericId }) },
      route,
      user: admin.userid,
      sideEffect,
    };
  };
}

export interface FortimanagerEmulatorOptions extends EmulatorServerOptions, BackendOptions {}

export interface FortimanagerEmulator extends EmulatorServer {
  readonly backend: FortimanagerBackend;
}

/**
 * Starts the FortiManager emulator. Control routes beyond the kit's: `POST /__emulator/expire-sessions`,
 * `GET /__emulator/sessions`, `POST /__emulator/seed-admin` (an {@link EmulatedAdminSeed}),
 * `POST|DELETE /__emulator/workspace-lock` (`{"user": "..."}`), `POST|DELETE /__emulator/update-failure` (`{"code":-9998,"message":"..."}`).
 * @example
 * const emu = await startFortimanagerEmulator({});
 * // connection: { url: emu.url, caCert: emu.caCert, token: DEFAULT_CREDENTIALS.apiKey }
 */
export async function startFortimanagerEmulator(opts: FortimanagerEmulatorOptions = {}): Promise<FortimanagerEmulator> {
  const backend = new FortimanagerBackend(opts);
  const server = await startEmulatorServer("fortimanager", opts, fortimanagerDispatch(backend), {
    reset: () => backend.reset(),
    control: (req, action) => {
      if (action === "expire-sessions" && req.method === "POST") return { status: 200, json: { expired: backend.expireSessions() } };
      if (action === "sessions" && req.method === "GET") return { status: 200, json: { active: backend.activeSessions } };
      if (action === "seed-admin" && req.method === "POST") {
        backend.seedAdmin(JSON.parse(req.body || "{}") as EmulatedAdminSeed);
        return { status: 200, json: { status: "ok" } };
      }
      if (action === "update-failure") {
        backend.updateFailure = req.method === "DELETE" ? undefined : (JSON.parse(req.body || "{}") as { code: number; message: string });
        return { status: 200, json: { status: "ok" } };
      }
      if (action === "workspace-lock") {
        backend.workspaceLockedBy = req.method === "DELETE" ? undefined : String((JSON.parse(req.body || "{}") as { user?: string }).user ?? "other");
        return { status: 200, json: { status: "ok" } };
      }
      return undefined;
    },
  });
  return Object.assign(server, { backend });
}

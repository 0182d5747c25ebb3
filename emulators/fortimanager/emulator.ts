/**
 * An HTTPS double of the FortiManager JSON-RPC API (one `POST /jsonrpc` endpoint), for tests, the
 * benchmark and users' CI. Behaviour follows docs/reference/fortimanager.md §10 (emulator
 * checklist) and "Behaviours to model": HTTP 200 for every JSON-RPC answer with the status code in
 * the body, sessions and API keys by version, `verbose`, `/sys/session`, `rpc-permit`, Super_User-only
 * admin edits, ADOM scope, login-max, and the kit's faults. Files: routes.ts (route table
 * and privilege gate), backend.ts (state), version.ts (what differs by firmware),
 * wire.ts (names vs numbers, value forms), control.ts (control routes).
 *
 * Log semantics: `sideEffect` is true only for requests that changed configuration (an admin's
 * fields). Login and logout change session state, not configuration, so they are not side effects;
 * tests count sessions with `backend.activeSessions`. A `params` url the emulator does not know is
 * answered as the device does (-6 "Invalid url", HTTP 200) and logged with `unhandled: true`.
 */
import { isIPv4 } from "node:net";
import { startEmulatorServer, type EmulatorRequest, type EmulatorServer, type EmulatorServerOptions, type HandledReply } from "../kit";
import { FortimanagerBackend } from "./backend";
import { fortimanagerControl } from "./control";
import { runParam } from "./routes";
import { NO_PERMISSION, OK, st, type Caller } from "./rpc";
import { OPTION_DEFAULTS, type BackendOptions, type EmulatedAdmin } from "./seed";
import { acceptsAccessTokenQuery, acceptsBearer } from "./version";

export { FortimanagerBackend, DEFAULT_CREDENTIALS, IPV4_UNUSED, IPV6_UNUSED, type EmulatedAdminSeed, type EmulatedProfile, type RpcFault } from "./backend";
export type { ManagedDeviceSeed, ProxySettings, ConnStatus } from "./proxy";
export { DEFAULT_FMG_VERSION, resolveVersion as resolveFortimanagerVersion, type FmgVersion } from "./version";

/** JSON-RPC endpoint path (JPF-001): the URL and HTTP method never change. */
export const JSONRPC_PATH = "/jsonrpc";

/** Route names of answers with an unknown url end with this; the log marks them unhandled. */
const UNHANDLED_MARK = " [unhandled]";

function sourceAllowed(admin: EmulatedAdmin, remote: string): boolean {
  const ip = remote.replace(/^::ffff:/, "");
  if (!isIPv4(ip)) return true; // IPv6 source matching is not emulated
  const n = (s: string) => s.split(".").reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
  return Object.entries(admin.slots).some(
    ([k, v]) => k.startsWith("trusthost") && Array.isArray(v) && (n(ip) & n(v[1])) >>> 0 === (n(v[0]) & n(v[1])) >>> 0 && v[0] !== "255.255.255.255",
  );
}

/**
 * The API key of a request, by version: the `Authorization: Bearer` header from 7.2.2 (JPF-001); the
 * `?access_token=` query only on 7.2.2–7.4.6 and 7.6.0–7.6.1 (JPF-001 #1084776, ANS-I107). The header
 * wins when both come (Ansible sends both, ANS-HTTPAPI `send_request`). Before 7.2.2 there are no API
 * keys, so neither is looked at and the call is judged by its `session` alone.
 */
function apiKeyOf(b: FortimanagerBackend, req: EmulatorRequest): string | undefined {
  if (!acceptsBearer(b.version)) return undefined;
  const auth = req.headers.authorization;
  if (typeof auth === "string" && /^Bearer /i.test(auth)) return auth.slice(7).trim();
  const q = req.query.get("access_token");
  return q !== null && acceptsAccessTokenQuery(b.version) ? q : undefined;
}

export function fortimanagerDispatch(b: FortimanagerBackend): (req: EmulatorRequest) => HandledReply | Promise<HandledReply> | undefined {
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
    // `verbose: 1` turns enum numbers into names in `get` answers (JPF-001); Ansible sends 1, pyFMG none.
    const verbose = body.verbose === 1 || body.verbose === true || body.verbose === "1";
    // Login (JPF-001): `data` may be an object or a one-element list (TF-CLIENT); `session` absent or null.
    if (method === "exec" && url0 === "sys/login/user") {
      const d = (Array.isArray(first.data) ? first.data[0] : first.data) as Record<string, unknown> | undefined;
      const r = b.login(d?.user, d?.passwd);
      return {
        status: 200,
        json: { id: body.id, result: [{ status: st(r.code, r.message), url: first.url }], ...(r.sid && { session: r.sid }) },
        route,
        user: typeof d?.user === "string" ? d.user : undefined,
      };
    }
    const key = apiKeyOf(b, req);
    const bySession = key === undefined ? b.sessionAdmin(body.session) : undefined;
    const admin = key !== undefined ? b.apiKeyAdmin(key) : bySession?.admin;
    // No or bad session, no or bad key: -11 for every entry, HTTP 200 (reference §3a; HTTP code UNCONFIRMED).
    const denied = (user?: string): HandledReply => ({
      status: 200,
      json: { id: body.id, result: params.map((p) => ({ status: NO_PERMISSION, url: p.url })) },
      route,
      user,
    });
    // Outside the admin's trusted hosts: -11 here; the device's answer is UNCONFIRMED (§3a), so opt-in.
    if (!admin || ((b.options.enforceTrustedHosts ?? OPTION_DEFAULTS.enforceTrustedHosts) && !sourceAllowed(admin, req.remoteAddress)))
      return denied(admin?.userid);
    if (method === "exec" && url0 === "sys/logout") {
      if (bySession) b.logout(bySession.session.sid);
      return { status: 200, json: { id: body.id, result: [{ status: OK, url: first.url }] }, route, user: admin.userid };
    }
    const caller: Caller = { admin, session: bySession?.session, auth: key !== undefined ? "token" : "session" };
    const results = params.map((p) => runParam(b, caller, method, p, verbose));
    const unhandled = results.some((r) => r.unhandled === true);
    // A proxied device that takes its time delays the whole answer (proxy.ts).
    const delayMs = Math.max(0, ...results.map((r) => r.delayMs ?? 0));
    const reply: HandledReply = {
      status: 200,
      // Answers to session callers carry the numeric session id (JPF-001, ANS-I58); on key answers it is UNCONFIRMED, so absent.
      json: {
        id: body.id,
        result: results.map(({ changed: _c, unhandled: _u, delayMs: _d, ...r }) => r),
        ...(bySession && { session: bySession.session.numericId }),
      },
      route: unhandled ? `${route}${UNHANDLED_MARK}` : route,
      user: admin.userid,
      sideEffect: results.some((r) => r.changed === true),
    };
    return delayMs > 0 ? new Promise<HandledReply>((resolve) => setTimeout(() => resolve(reply), delayMs)) : reply;
  };
}

export interface FortimanagerEmulatorOptions extends EmulatorServerOptions, BackendOptions {}

export interface FortimanagerEmulator extends EmulatorServer {
  readonly backend: FortimanagerBackend;
}

/**
 * Starts the FortiManager emulator: `POST <url>/jsonrpc` answers as a FortiManager of
 * `options.version` (default 7.6.4) would, HTTP 200 with the JSON-RPC status in the body.
 *
 * Control routes (under `<url>/__emulator/`, JSON in and out, never in the request log). Errors
 * answer 400 (bad body), 404 (unknown admin, slot or route) with `{"error": "..."}`.
 *
 * | Method and path | Body | Answer |
 * |---|---|---|
 * | `GET state` | – | `{version, admins:[…], sessions, adoms, workspaceLockedBy, updateFailure, rpcFaults}` |
 * | `GET admins` | – | `[{userid, profileid, rpcPermit, userType, adoms, superUser, slots, trustedHosts}]`; `slots` in the device's GET shape, `trustedHosts` only the slots in use as `"ip mask"` / `"addr/len"` |
 * | `GET admins/{userid}` | – | one admin as above |
 * | `POST admins` | an {@link EmulatedAdminSeed}, e.g. `{"userid":"ci","userType":"api","apiKey":"…","profileid":"Super_User"}` | `{status:"ok", admin}`; replaces an admin of that userid |
 * | `DELETE admins/{userid}` | – | `{status:"ok"}`; ends its sessions |
 * | `PUT admins/{userid}/slots/{slot}` | `{"value": ["203.0.113.7","255.255.255.255"]}` or `"203.0.113.7 255.255.255.255"`, `"203.0.113.0/24"`; IPv6 slots `"2001:db8::7/128"` | `{status:"ok", admin}` |
 * | `DELETE admins/{userid}/slots/{slot}` | – | `{status:"ok", admin}`; the slot back to unused (`255.255.255.255 255.255.255.255`, `ffff:…:ffff/128`) |
 * | `GET sessions` | – | `{active}` |
 * | `DELETE sessions` | – | `{expired}`: every session ends, as at the API idle timeout (calls then answer -11) |
 * | `POST rpc-faults` | an {@link RpcFault}: `{"code":-11, "auth":"token", "url":"cli/global/system/admin/user", "method":"update", "times":1, "probability":0.5}` | `{status:"ok"}`; matching `params` entries answer that code |
 * | `DELETE rpc-faults` | – | `{status:"ok"}` |
 * | `POST workspace-lock` / `DELETE workspace-lock` | `{"user":"bob"}` | admin writes answer -20055 until deleted |
 * | `POST update-failure` / `DELETE update-failure` | `{"code":-9998,"message":"…"}` | admin updates answer that status until deleted |
 *
 * Managed FortiGates and `/sys/proxy/json`: `GET|POST devices`, `GET|PUT|DELETE devices/{name}`, `devices/{name}/<FortiGate
 * control route>`, `GET|PUT proxy` — see proxy.ts.
 *
 * The kit adds `GET log`, `DELETE log`, `POST reset` (back to the seed, faults and log cleared) and
 * `POST faults` / `DELETE faults` (HTTP-level latency, status, reset, hang; see `FaultRule`). Earlier
 * names still answer: `POST seed-admin` (= `POST admins`), `POST expire-sessions` (= `DELETE sessions`).
 * @example
 * const emu = await startFortimanagerEmulator({ version: "7.4.5" });
 * // connection: { url: emu.url, caCert: emu.caCert, token: DEFAULT_CREDENTIALS.apiKey }
 * // curl --cacert ca.pem -X PUT $URL/__emulator/admins/alice/slots/trusthost2 -d '{"value":"198.51.100.7/32"}'
 */
export async function startFortimanagerEmulator(opts: FortimanagerEmulatorOptions = {}): Promise<FortimanagerEmulator> {
  const backend = new FortimanagerBackend(opts);
  const server = await startEmulatorServer("fortimanager", opts, fortimanagerDispatch(backend), {
    reset: () => backend.reset(),
    control: (req, action) => fortimanagerControl(backend, req, action),
  });
  // JSON-RPC answers an unknown url with HTTP 200 and -6, so the kit cannot see it was unhandled: the
  // dispatcher marks the route name and the log entry is flagged here.
  const record = server.log.record.bind(server.log);
  server.log.record = (e) => record(e.route?.endsWith(UNHANDLED_MARK) ? { ...e, unhandled: true } : e);
  return Object.assign(server, { backend });
}

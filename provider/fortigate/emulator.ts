/**
 * An HTTPS double of the FortiOS 7.x REST API subset this library uses (shared/reference/fortigate.md
 * §8 checklist): API-token auth with trusted hosts and lockout, VDOM scope, admin-profile permissions,
 * the CMDB envelopes and error codes, and the per-member child paths of address groups.
 * Three parts, in order: the route table, the backend (emulator-backend.ts), and the auth+privilege gate.
 */
import { startEmulatorServer, type EmulatorReply, type EmulatorRequest, type EmulatorServerOptions, type HandledReply, type EmulatorServer } from "../emulator-kit";
import { CmdbError, FortigateBackend, type AddrFamily, type FortigateApiUser, type FortigateBackendOptions, type StoredAddress, type StoredGroup } from "./emulator-backend";

export { FortigateBackend, type FortigateApiUser, type AccessLevel, type AddrFamily } from "./emulator-backend";

type Access = "any" | "read" | "write";
interface Ctx {
  readonly req: EmulatorRequest;
  readonly vdom: string;
  readonly params: readonly string[];
  readonly body: Record<string, unknown>;
}
interface Route {
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  readonly pattern: RegExp;
  readonly access: Access;
  readonly name: string;
  readonly handler: (b: FortigateBackend, c: Ctx) => Reply;
}
type Reply = { status: number; json: Record<string, unknown>; sideEffect?: boolean };

const CMDB = "/api/v2/cmdb/firewall";
const family = (table: string | undefined): AddrFamily => (table?.endsWith("6") ? "ipv6" : "ipv4");

// ---- 1. Route table. Paths and methods: reference §2a (SW-CMDB 6.4.14; child member paths AN-GRP,
// AN#300). Access "read"/"write" is on Firewall > Address (fwgrp / fwgrp-permission.address, §5);
// monitor/system/status is Access Group "any" (SW-MON).
const ROUTES: readonly Route[] = [
  { method: "GET", pattern: /^\/api\/v2\/monitor\/system\/status$/, access: "any", name: "GET /api/v2/monitor/system/status", handler: systemStatus },
  { method: "GET", pattern: /^\/api\/v2\/cmdb\/firewall\/(address6?)$/, access: "read", name: "GET /api/v2/cmdb/firewall/address", handler: (b, c) => ok(b, c, "address", { results: b.addresses(c.vdom, family(c.params[0])).map(addrJson(c.params[0])) }) },
  { method: "POST", pattern: /^\/api\/v2\/cmdb\/firewall\/(address6?)$/, access: "write", name: "POST /api/v2/cmdb/firewall/address", handler: (b, c) => write(b, c, String(c.body.name ?? ""), () => b.createAddress(c.vdom, family(c.params[0]), c.body)) },
  { method: "GET", pattern: /^\/api\/v2\/cmdb\/firewall\/(address6?)\/([^/]+)$/, access: "read", name: "GET /api/v2/cmdb/firewall/address/{name}", handler: (b, c) => one(b, c, b.getAddress(c.vdom, family(c.params[0]), c.params[1]!), addrJson(c.params[0])) },
  { method: "PUT", pattern: /^\/api\/v2\/cmdb\/firewall\/(address6?)\/([^/]+)$/, access: "write", name: "PUT /api/v2/cmdb/firewall/address/{name}", handler: (b, c) => write(b, c, c.params[1]!, () => b.updateAddress(c.vdom, family(c.params[0]), c.params[1]!, c.body)) },
  { method: "DELETE", pattern: /^\/api\/v2\/cmdb\/firewall\/(address6?)\/([^/]+)$/, access: "write", name: "DELETE /api/v2/cmdb/firewall/address/{name}", handler: (b, c) => write(b, c, c.params[1]!, () => b.deleteAddress(c.vdom, family(c.params[0]), c.params[1]!)) },
  { method: "GET", pattern: /^\/api\/v2\/cmdb\/firewall\/(addrgrp6?)$/, access: "read", name: "GET /api/v2/cmdb/firewall/addrgrp", handler: (b, c) => ok(b, c, "addrgrp", { results: b.groups(c.vdom, family(c.params[0])).map(grpJson) }) },
  { method: "POST", pattern: /^\/api\/v2\/cmdb\/firewall\/(addrgrp6?)$/, access: "write", name: "POST /api/v2/cmdb/firewall/addrgrp", handler: (b, c) => write(b, c, String(c.body.name ?? ""), () => b.createGroup(c.vdom, family(c.params[0]), String(c.body.name ?? ""), memberNames(c.body.member), String(c.body.comment ?? ""))) },
  { method: "GET", pattern: /^\/api\/v2\/cmdb\/firewall\/(addrgrp6?)\/([^/]+)$/, access: "read", name: "GET /api/v2/cmdb/firewall/addrgrp/{name}", handler: (b, c) => one(b, c, b.getGroup(c.vdom, family(c.params[0]), c.params[1]!), grpJson) },
  { method: "PUT", pattern: /^\/api\/v2\/cmdb\/firewall\/(addrgrp6?)\/([^/]+)$/, access: "write", name: "PUT /api/v2/cmdb/firewall/addrgrp/{name}", handler: (b, c) => write(b, c, c.params[1]!, () => b.setGroupMembers(c.vdom, family(c.params[0]), c.params[1]!, memberNames(c.body.member) ?? b.groupMembers(c.vdom, c.params[1]!, family(c.params[0])))) },
  { method: "DELETE", pattern: /^\/api\/v2\/cmdb\/firewall\/(addrgrp6?)\/([^/]+)$/, access: "write", name: "DELETE /api/v2/cmdb/firewall/addrgrp/{name}", handler: (b, c) => write(b, c, c.params[1]!, () => b.deleteGroup(c.vdom, family(c.params[0]), c.params[1]!)) },
  { method: "GET", pattern: /^\/api\/v2\/cmdb\/firewall\/(addrgrp6?)\/([^/]+)\/member$/, access: "read", name: "GET /api/v2/cmdb/firewall/addrgrp/{name}/member", handler: (b, c) => memberList(b, c) },
  { method: "POST", pattern: /^\/api\/v2\/cmdb\/firewall\/(addrgrp6?)\/([^/]+)\/member$/, access: "write", name: "POST /api/v2/cmdb/firewall/addrgrp/{name}/member", handler: (b, c) => write(b, c, String(c.body.name ?? ""), () => b.addMember(c.vdom, family(c.params[0]), c.params[1]!, String(c.body.name ?? ""))) },
  { method: "GET", pattern: /^\/api\/v2\/cmdb\/firewall\/(addrgrp6?)\/([^/]+)\/member\/([^/]+)$/, access: "read", name: "GET /api/v2/cmdb/firewall/addrgrp/{name}/member/{member}", handler: (b, c) => memberOne(b, c) },
  { method: "DELETE", pattern: /^\/api\/v2\/cmdb\/firewall\/(addrgrp6?)\/([^/]+)\/member\/([^/]+)$/, access: "write", name: "DELETE /api/v2/cmdb/firewall/addrgrp/{name}/member/{member}", handler: (b, c) => write(b, c, c.params[2]!, () => b.removeMember(c.vdom, family(c.params[0]), c.params[1]!, c.params[2]!)) },
];

function envelope(b: FortigateBackend, c: Ctx, name: string): Record<string, unknown> {
  // Field names from the 6.2.3 captures (reference §3, R7 payloads).
  return { http_method: c.req.method, revision: b.revision, vdom: c.vdom, path: c.req.rawPath.startsWith("/api/v2/monitor") ? "system" : "firewall", name, serial: b.serial, version: b.version, build: b.build };
}
const objName = (c: Ctx) => c.req.rawPath.slice(CMDB.length + 1).split("/")[0] ?? "";
function ok(b: FortigateBackend, c: Ctx, _name: string, extra: Record<string, unknown>, sideEffect = false): Reply {
  return { status: 200, json: { ...envelope(b, c, objName(c)), ...extra, status: "success", http_status: 200 }, sideEffect };
}
function err(b: FortigateBackend, c: Ctx, e: CmdbError, mkey?: string): Reply {
  // 403/404 carry no `error` code; 500 carries the negative CLI code (+ cli_error on 7.x), reference §4.
  const json: Record<string, unknown> = { ...envelope(b, c, objName(c)), status: "error", http_status: e.httpStatus };
  if (e.code !== undefined) Object.assign(json, { error: e.code, revision_changed: false });
  if (e.cliError !== undefined) json.cli_error = e.cliError;
  if (mkey) json.mkey = mkey;
  return { status: e.httpStatus, json };
}
function write(b: FortigateBackend, c: Ctx, mkey: string, apply: () => { revision: string; old_revision: string }): Reply {
  try {
    const rev = apply();
    return ok(b, c, "", { ...rev, revision_changed: true, mkey }, true);
  } catch (e) {
    if (e instanceof CmdbError) return err(b, c, e, mkey);
    throw e;
  }
}
function one<T>(b: FortigateBackend, c: Ctx, obj: T | undefined, json: (o: T) => Record<string, unknown>): Reply {
  const mkey = c.params[1]!;
  return obj === undefined ? err(b, c, new CmdbError(404, undefined), mkey) : ok(b, c, "", { mkey, results: [json(obj)] });
}
function memberList(b: FortigateBackend, c: Ctx): Reply {
  const g = b.getGroup(c.vdom, family(c.params[0]), c.params[1]!);
  if (!g) return err(b, c, new CmdbError(404, undefined), c.params[1]);
  return ok(b, c, "", { results: g.members.map((m) => ({ name: m, q_origin_key: m })) });
}
function memberOne(b: FortigateBackend, c: Ctx): Reply {
  const g = b.getGroup(c.vdom, family(c.params[0]), c.params[1]!);
  const m = c.params[2]!;
  if (!g || !g.members.includes(m)) return err(b, c, new CmdbError(404, undefined), m);
  return ok(b, c, "", { mkey: m, results: [{ name: m, q_origin_key: m }] });
}
const addrJson = (table: string | undefined) => (a: StoredAddress) =>
  family(table) === "ipv4"
    ? { name: a.name, q_origin_key: a.name, uuid: a.uuid, type: "ipmask", subnet: a.value, comment: a.comment }
    : { name: a.name, q_origin_key: a.name, uuid: a.uuid, type: "ipprefix", ip6: a.value, comment: a.comment };
const grpJson = (g: StoredGroup) => ({ name: g.name, q_origin_key: g.name, uuid: g.uuid, member: g.members.map((m) => ({ name: m, q_origin_key: m })), comment: g.comment });
function memberNames(raw: unknown): string[] | undefined {
  return Array.isArray(raw) ? raw.map((m) => String((m as { name?: unknown })?.name ?? "")) : undefined;
}
function systemStatus(b: FortigateBackend, c: Ctx): Reply {
  // Shape after prometheus-community/fortigate_exporter pkg/probe/testdata/status.jsonnet.
  return { status: 200, json: { ...envelope(b, c, "status"), action: "", status: "success", results: { model_name: "FortiGate", model_number: "VM64", model: "FGVM64", hostname: "FGT-EMULATOR", log_disk_status: "available" } } };
}

// ---- 3. Auth + privilege gate (reference §1 "Emulator decision order").
const html = (status: number, title: string, text: string): HandledReply => ({
  status,
  text: `<!DOCTYPE html><html><head><title>${status} ${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>`,
  contentType: "text/html",
});

function inTrustHosts(u: FortigateApiUser, remote: string): boolean {
  const ip = remote.replace(/^::ffff:/, "");
  return (u.trusthosts ?? ["0.0.0.0/0", "::/0"]).some((th) => {
    if (th === "::/0") return ip.includes(":");
    const [net = "", bits = "32"] = th.split("/");
    if (ip.includes(":") || net.includes(":")) return ip === net;
    const p = Number(bits);
    const toInt = (s: string) => s.split(".").reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
    const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
    return ((toInt(ip) & mask) >>> 0) === ((toInt(net) & mask) >>> 0);
  });
}

function dispatch(b: FortigateBackend, req: EmulatorRequest): HandledReply | undefined {
  const route = ROUTES.find((r) => r.method === req.method && r.pattern.test(req.rawPath));
  if (!route) return undefined;
  const source = req.remoteAddress;
  if (b.isLockedOut(source)) return { ...html(429, "Too Many Requests", "Access temporarily blocked: Maximum failed authentications reached. The offended source is temporarily blocked for certain amount of time."), route: route.name };
  const auth = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ""));
  const queryToken = b.urlQueryToken ? (req.query.get("access_token") ?? undefined) : undefined;
  const user = b.userByToken(auth?.[1] ?? queryToken ?? "");
  if (!user || !inTrustHosts(user, source)) {
    b.recordAuthFailure(source);
    return { ...html(401, "Unauthorized", "This server could not verify that you are authorized to access the document requested."), route: route.name };
  }
  b.recordAuthSuccess(source);
  let params: string[];
  try {
    params = route.pattern.exec(req.rawPath)!.slice(1).map((p) => decodeURIComponent(p));
  } catch {
    return { status: 400, json: { status: "error", http_status: 400 }, route: route.name, user: user.name };
  }
  let body: Record<string, unknown> = {};
  if (req.body !== "") {
    try {
      body = JSON.parse(req.body) as Record<string, unknown>;
    } catch {
      return { status: 400, json: { status: "error", http_status: 400 }, route: route.name, user: user.name };
    }
  }
  const ctx: Ctx = { req, vdom: req.query.get("vdom") ?? "root", params, body };
  const forbidden = () => ({ ...err(b, ctx, new CmdbError(403, undefined), params[params.length - 1]), route: route.name, user: user.name });
  // VDOM not in the api-user's scope, or not existing → 403 JSON (P-VDOM403, TF#138).
  if (!(user.vdoms ?? ["root"]).includes(ctx.vdom) || !b.hasVdom(ctx.vdom)) return forbidden();
  const level = b.addressAccess(user);
  if ((route.access === "read" && level === "none") || (route.access === "write" && level !== "read-write")) return forbidden();
  const r = route.handler(b, ctx);
  return { status: r.status, json: r.json, sideEffect: r.sideEffect ?? false, route: route.name, user: user.name };
}

export interface FortigateEmulatorOptions extends EmulatorServerOptions, FortigateBackendOptions {
  /** Address groups to create at start (and after each reset). */
  readonly groups?: readonly { vdom?: string; name: string; family?: AddrFamily; members?: readonly string[] }[];
}

export interface FortigateEmulator extends EmulatorServer {
  readonly backend: FortigateBackend;
  /** The default administrator's token (the first user's). */
  readonly token: string;
}

/**
 * Starts the FortiGate emulator on HTTPS with the shipped test CA. Control routes beyond the kit's:
 * `POST /__emulator/users` (an api-user), `POST /__emulator/groups` ({vdom,name,family,members}),
 * `POST /__emulator/remove-member` and `POST /__emulator/delete-address` (out-of-band edits),
 * `GET /__emulator/state?vdom=`, `DELETE /__emulator/lockouts`.
 * @example const emu = await startFortigateEmulator({ groups: [{ name: "jit-admins" }] });
 */
export async function startFortigateEmulator(opts: FortigateEmulatorOptions = {}): Promise<FortigateEmulator> {
  const backend = new FortigateBackend(opts);
  const seed = () => {
    for (const g of opts.groups ?? []) backend.createGroup(g.vdom ?? "root", g.family ?? "ipv4", g.name, g.members ?? []);
  };
  seed();
  const server = await startEmulatorServer("fortigate", opts, (req) => dispatch(backend, req), {
    reset: () => {
      backend.reset();
      seed();
    },
    control: (req, action) => control(backend, req, action),
  });
  return Object.assign(server, { backend, token: backend.defaultToken });
}

function control(b: FortigateBackend, req: EmulatorRequest, action: string): EmulatorReply | undefined {
  const body = (req.body ? JSON.parse(req.body) : {}) as Record<string, unknown>;
  const vdom = String(body.vdom ?? req.query.get("vdom") ?? "root");
  const fam = (body.family === "ipv6" ? "ipv6" : "ipv4") as AddrFamily;
  const done = (): EmulatorReply => ({ status: 200, json: { status: "ok" } });
  try {
    if (action === "users" && req.method === "POST") return (b.addUser(body as unknown as FortigateApiUser), done());
    if (action === "groups" && req.method === "POST") return (b.createGroup(vdom, fam, String(body.name), (body.members as string[] | undefined) ?? []), done());
    if (action === "remove-member" && req.method === "POST") return (b.removeMember(vdom, fam, String(body.group), String(body.name)), done());
    if (action === "delete-address" && req.method === "POST") return (b.deleteAddress(vdom, fam, String(body.name)), done());
    if (action === "lockouts" && req.method === "DELETE") return (b.clearLockouts(), done());
    if (action.startsWith("state") && req.method === "GET") return { status: 200, json: { addresses: b.addresses(vdom, "ipv4"), addresses6: b.addresses(vdom, "ipv6"), groups: b.groups(vdom, "ipv4"), groups6: b.groups(vdom, "ipv6") } };
  } catch (e) {
    if (e instanceof CmdbError) return { status: e.httpStatus, json: { status: "error", error: e.code } };
    throw e;
  }
  return undefined;
}

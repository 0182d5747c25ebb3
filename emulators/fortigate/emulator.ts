/**
 * An HTTPS double of the FortiOS REST API subset that address-grant tools use
 * (docs/reference/fortigate.md §8 and "Behaviours to model"), for a chosen FortiOS `version`:
 * API-token auth with trusted hosts and lockout, `?access_token=` by version, VDOM scope and multi-VDOM
 * answers, admin-profile permissions, CMDB envelopes and error codes, query options, object types,
 * and the member child paths of address groups.
 * Three parts, in order: the route table (routes.ts), the backend (backend.ts), and
 * the auth+privilege gate (below).
 *
 * **Control routes** (not part of the device; JSON bodies; answer `{"status":"ok", …}` or
 * `{"status":"error","http_status":…,"error":…,"message":…}` with the device's code). `vdom` defaults
 * to "root", `family` to "ipv4" ("ipv6" = address6/addrgrp6). Edits go through the device's rules
 * (e.g. below 7.2.0 the last member of a group cannot be removed), as another administrator's would.
 * Every control route refuses a body it does not understand (unknown field, wrong type) with 400 and a message naming the field.
 * - `GET /__emulator/state?vdom=` → `{version, build, vdoms, urlQueryToken, repeatedMemberPost, addresses, addresses6, groups, groups6}`
 * - `GET /__emulator/users` → the api-users; `POST /__emulator/users` `{name, token, fwgrp?, addressPermission?, vdoms?, trusthosts?}`
 * - `POST /__emulator/addresses` `{vdom?, family?, name, type?, subnet?|ip6?|fqdn?|…, comment?}` → `{status, revision}`
 * - `DELETE /__emulator/addresses` `{vdom?, family?, name}` (-23 while a group holds it)
 * - `POST /__emulator/groups` `{vdom?, family?, name, members?, comment?}`; `DELETE /__emulator/groups` `{vdom?, family?, name}`
 * - `POST /__emulator/members` `{vdom?, family?, group, name: name|[name]}`; `DELETE /__emulator/members` `{vdom?, family?, group, name: name|[name]}`
 * - `POST /__emulator/settings` `{urlQueryToken?, repeatedMemberPost?}` (`rest-api-key-url-query`, the repeated member POST answer)
 * - `DELETE /__emulator/lockouts` (clears every 429 lockout)
 * - threat feeds (`GET|POST|PUT|DELETE feeds`, `GET|POST|DELETE entries`, `POST reboot`, feed keys of `POST settings`): feeds.ts
 * - from the kit: `POST /__emulator/reset`, `GET|DELETE /__emulator/log`, `POST|DELETE /__emulator/faults` (a FaultRule:
 *   `{match?|regex?, kind: "latency"|"status"|"reset"|"hang", ms?, status?, times?, probability?}`)
 * - kept for older scripts: `POST /__emulator/remove-member` `{group, name}`, `POST /__emulator/delete-address` `{name}`
 */
import { startEmulatorServer, type EmulatorRequest, type EmulatorServerOptions, type HandledReply, type EmulatorServer, type LoggedRequest } from "../kit";
import { CmdbError, FortigateBackend, type AddrFamily, type FortigateApiUser, type FortigateBackendOptions } from "./backend";
import { ROUTES as FIREWALL_ROUTES, err, notAllowed, type Ctx, type Route } from "./routes";
import { FEED_ROUTES } from "./feeds-routes";
import { fortigateControl } from "./control";

/** Every route: firewall address tables (routes.ts) and threat feeds (feeds-routes.ts). */
const ROUTES: readonly Route[] = [...FIREWALL_ROUTES, ...FEED_ROUTES];

export { FortigateBackend, type FortigateApiUser, type AccessLevel, type AddrFamily, type RepeatedMemberPost } from "./backend";
export { DEFAULT_FORTIOS_VERSION } from "./versions";
export { fortigateControl } from "./control";
export type { FeedSeed as FortigateFeedSeed, FeedSettings as FortigateFeedSettings } from "./feeds";

// ---- Auth + privilege gate (reference §1 "Emulator decision order").
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
    return (toInt(ip) & mask) >>> 0 === (toInt(net) & mask) >>> 0;
  });
}

/** Marks a reply the kit must log as unhandled (an unknown API path), see {@link startFortigateEmulator}. */
const UNHANDLED = "\u0000unhandled";

/** The device's answer to one request, without the server (FortiManager's proxy relays through it, fortimanager/proxy.ts). */
export function fortigateDispatch(b: FortigateBackend, req: EmulatorRequest): HandledReply | undefined {
  return dispatch(b, req);
}

function dispatch(b: FortigateBackend, req: EmulatorRequest): HandledReply | undefined {
  if (!req.rawPath.startsWith("/api/v2/")) return undefined;
  const onPath = ROUTES.filter((r) => r.pattern.test(req.rawPath));
  const route = onPath.find((r) => r.method === req.method);
  const params = route?.pattern.exec(req.rawPath)!.slice(1) ?? [];
  const routeName = route ? route.name.replace(/\{(table|group)\}/, params[0] ?? "") : onPath.length ? `${req.method} ${req.rawPath} (405)` : UNHANDLED;
  const source = req.remoteAddress;
  if (b.isLockedOut(source))
    return {
      ...html(
        429,
        "Too Many Requests",
        "Access temporarily blocked: Maximum failed authentications reached. The offended source is temporarily blocked for certain amount of time.",
      ),
      route: routeName,
    };
  const auth = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ""));
  // A token in the URL: always accepted before 7.4.5; from 7.4.5 only with rest-api-key-url-query enable, else 401 [P-URLQ, AN#359].
  const queryToken = b.acceptsQueryToken ? (req.query.get("access_token") ?? undefined) : undefined;
  const user = b.userByToken(auth?.[1] ?? queryToken ?? "");
  if (!user || !inTrustHosts(user, source)) {
    const presented = auth !== null || queryToken !== undefined;
    if (presented || b.lockoutCountsMissingCredentials) b.recordAuthFailure(source);
    return { ...html(401, "Unauthorized", "This server could not verify that you are authorized to access the document requested."), route: routeName };
  }
  b.recordAuthSuccess(source);
  const scope = { req, vdom: req.query.get("vdom") ?? "root" };
  const answer = (r: { status: number; json: unknown; sideEffect?: boolean; text?: string; contentType?: string }): HandledReply => ({
    status: r.status,
    json: r.json,
    ...(r.text !== undefined && { text: r.text, contentType: r.contentType }),
    sideEffect: r.sideEffect ?? false,
    route: routeName,
    user: user.name,
  });
  // An unknown API path answers a JSON 404 (7.4.5, FAPI#80); a method the path does not take, 405 (SW-CMDB, AN#232).
  const unknownPath = {
    status: 404,
    json: { http_method: req.method, status: "error", http_status: 404, serial: b.serial, version: b.version, build: b.build },
  };
  if (!route) return answer(onPath.length ? notAllowed(b, scope) : unknownPath);
  if (route.present && !route.present(b)) return { ...answer(unknownPath), route: `${routeName} (absent on ${b.version})` };
  let decoded: string[];
  let body: Record<string, unknown> = {};
  try {
    decoded = params.map((p) => decodeURIComponent(p));
    if (req.body !== "") body = JSON.parse(req.body) as Record<string, unknown>;
  } catch {
    return answer(err(b, scope, new CmdbError(400, undefined)));
  }
  // `?global=1`, `vdom=*` and `vdom=a,b` answer a top-level array of per-VDOM envelopes, only for the VDOMs
  // the token holds [P-VDOM403; FAPI/AN-MU `formatresponse` take [0]]. Writes in several VDOMs at once are
  // in no source: refused with 400.
  const held = (user.vdoms ?? ["root"]).filter((v) => b.hasVdom(v));
  const multi = req.query.get("global") === "1" || scope.vdom === "*" || scope.vdom.includes(",");
  const vdoms = !multi ? [scope.vdom] : req.query.get("global") === "1" || scope.vdom === "*" ? held : scope.vdom.split(",");
  // VDOM not in the api-user's scope, or not existing → 403 JSON (P-VDOM403, TF#138).
  const outside = vdoms.find((v) => !held.includes(v));
  const level = route.group ? b.groupAccess(user, route.group) : b.addressAccess(user);
  const run = (vdom: string) => {
    const ctx: Ctx = { req, vdom, params: decoded, body };
    if (outside !== undefined) return err(b, { req, vdom: outside }, new CmdbError(403, undefined), decoded[decoded.length - 1]);
    if ((route.access === "read" && level === "none") || (route.access === "write" && level !== "read-write"))
      return route.denied?.(b, ctx) ?? err(b, ctx, new CmdbError(403, undefined), decoded[decoded.length - 1]);
    return route.handler(b, ctx);
  };
  if (!multi) return answer(run(scope.vdom));
  if (route.method !== "GET") return answer(err(b, { req, vdom: scope.vdom }, new CmdbError(400, undefined)));
  if (outside !== undefined) return answer(run(outside));
  const replies = vdoms.map(run);
  return answer({ status: 200, json: replies.map((r) => r.json) });
}

interface AddressSeed extends Record<string, unknown> {
  readonly vdom?: string;
  readonly family?: AddrFamily;
  readonly name: string;
}
interface GroupSeed {
  readonly vdom?: string;
  readonly name: string;
  readonly family?: AddrFamily;
  readonly members?: readonly string[];
  readonly comment?: string;
}

export interface FortigateEmulatorOptions extends EmulatorServerOptions, FortigateBackendOptions {
  /** Address objects to create at start (and after each reset), before the groups: `{name, subnet}` or any body of §2a. @default [] */
  readonly addresses?: readonly AddressSeed[];
  /** Address groups to create at start (and after each reset). Before 7.2.0 a group needs a member. @default [] */
  readonly groups?: readonly GroupSeed[];
}

export interface FortigateEmulator extends EmulatorServer {
  readonly backend: FortigateBackend;
  /** The default administrator's token (the first user's). */
  readonly token: string;
}

/**
 * Starts the FortiGate emulator on HTTPS with the shipped test CA, modelling FortiOS `version`
 * (default {@link DEFAULT_FORTIOS_VERSION}). Control routes: see the module comment.
 * @example const emu = await startFortigateEmulator({ version: "7.0.12", addresses: [{ name: "a", subnet: "10.0.0.1/32" }], groups: [{ name: "g", members: ["a"] }] });
 */
export async function startFortigateEmulator(opts: FortigateEmulatorOptions = {}): Promise<FortigateEmulator> {
  const backend = new FortigateBackend(opts);
  const seed = () => {
    for (const a of opts.addresses ?? []) backend.createAddress(a.vdom ?? "root", a.family ?? "ipv4", a);
    for (const g of opts.groups ?? []) backend.createGroup(g.vdom ?? "root", g.family ?? "ipv4", g.name, g.members ?? [], g.comment ?? "");
  };
  try {
    seed();
  } catch (e) {
    if (!(e instanceof CmdbError)) throw e;
    throw new Error(
      `FortiGate emulator: the seed is impossible on FortiOS ${backend.firmware.text} (error ${e.code ?? e.httpStatus}${e.code === -56 ? ": a group needs a member before 7.2.0" : ""})`,
      { cause: e },
    );
  }
  const server = await startEmulatorServer("fortigate", opts, (req) => dispatch(backend, req), {
    reset: () => {
      backend.reset();
      seed();
    },
    control: (req, action) => fortigateControl(backend, req, action),
  });
  // An unknown API path gets the device's JSON 404 (not the kit's), yet must stay loud: logged as unhandled, warned once.
  const record = server.log.record.bind(server.log);
  const warned = new Set<string>();
  server.log.record = (e: Omit<LoggedRequest, "seq">) => {
    if (e.route !== UNHANDLED) return record(e);
    const key = `${e.method} ${e.path}`;
    if (!warned.has(key) && warned.add(key)) process.stderr.write(`[fortigate emulator] unhandled route ${key} (answered 404)\n`);
    record({ ...e, route: undefined, unhandled: true });
  };
  return Object.assign(server, { backend, token: backend.defaultToken });
}

export type { Route };

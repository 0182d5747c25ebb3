/**
 * An HTTPS double of the OPNsense alias API (a product feature: tests, `npm run bench`, users' CI),
 * playing one release (`version`, default {@link DEFAULT_OPNSENSE_VERSION}; any `X.Y[.Z]` ≥ 24.7).
 * Order of checks as on the device (opnsense/core Mvc/Router.php + Dispatcher.php, www/api.php,
 * Base/ApiControllerBase.php; docs/reference/opnsense.md §1, §7): the route is resolved first (unknown
 * → 404 `{"errorMessage":"Endpoint not found"}` even without credentials, logged as unhandled), then
 * Basic auth (401; a failed login takes ~2 s from 25.1), then the ACL on the literal, case-sensitive URI
 * including the query (403), then the body (JSON content type + empty body → 400), then the action
 * (UserException → 500 with errorTitle; anything else → 500 "Unexpected error").
 *
 * Versions: see version.ts for each difference and the tag it starts in (list page size 9999
 * from 25.7, read-only alias_util from 26.7.1, get_item on an unknown uuid from 26.1.11, …).
 *
 * Control routes (JSON in, JSON out; `{"status":"ok",…}` or 400 `{"status":"failed","error":…}`):
 * Every control route refuses a body it does not understand (unknown field, wrong type) with 400 and a message naming the field.
 * - `GET /__emulator/state` → `{version, aliases:[{name,uuid,type,enabled,inUse,builtin,content,table}], tables:{name:[entry]}, reconfigureCount, configSaves, revisions:[{seq,username,apiKey}]}`
 * - `GET /__emulator/alias?alias=<name>` → one alias as in `state` (404 when none)
 * - `GET /__emulator/unhandled` → request-log entries of routes the device would answer 404 (assert `[]` in CI)
 * - `GET /__emulator/log`, `DELETE /__emulator/log` → the request log (kit)
 * - `POST /__emulator/reset` → initial aliases and users, empty log, no faults (kit)
 * - `POST /__emulator/users` `{name,key,secret,privileges:[…],disabled?}` → adds or replaces an API user
 * - `POST /__emulator/aliases` `{name,type,content?:[…],description?,inUse?,enabled?,uuid?}` → `{status,uuid}`; creates or replaces an alias (config and live table)
 * - `DELETE /__emulator/aliases` `{name}` → drops a user alias and its table
 * - `POST /__emulator/alias-content` `{alias, add?: address|[address], remove?: address|[address], where?: "both"|"config"|"table"}` → the alias as in `state`;
 *   a removal of an address the alias does not hold is a 400 (so is any field the route does not know);
 *   an edit by hand (default both = UI edit plus Apply; "config" = saved but not applied; "table" = live pf only, e.g. an expired entry)
 * - `POST /__emulator/seed-table` `{alias, count, start?: "10.128.0.0", where?}` → `{status,first,last,count}`; `count` consecutive IPv4 hosts, cheap (20,000 in a few ms)
 * - `POST /__emulator/reconfigure-error` `{error: string|null}` → the next reconfigures fail with 500 title "Alias" and this pfctl message
 * - `POST /__emulator/version` `{version}` → switches the release played
 * - `POST /__emulator/faults` `{match?|regex?, kind:"latency"|"status"|"reset"|"hang", ms?, status?, phase?, times?, probability?}`, `DELETE /__emulator/faults` (kit)
 */
import { startEmulatorServer, type EmulatorRequest, type EmulatorServer, type EmulatorServerOptions, type HandledReply } from "../kit";
import { ALIAS_ROUTES } from "./alias-routes";
import { DEFAULT_RECONFIGURE_LATENCY_MS } from "./types";
import { DEFAULT_ALIASES, OpnsenseBackend, UnexpectedError, UserException, type AliasSpec, type EmulatedUser } from "./backend";
import { opnsenseControl } from "./control";
import { aclAllows, type Route } from "./routes";
import { UTIL_ROUTES } from "./util-routes";
import { DEFAULT_OPNSENSE_VERSION, versionTraits, type OpnsenseVersionTraits } from "./version";

export { OpnsenseBackend, DEFAULT_ALIASES, type AliasSpec, type EmulatedUser, type AliasType, type EmulatedAlias, type EditTarget } from "./backend";
export { DEFAULT_OPNSENSE_VERSION, OPNSENSE_MODELLED_VERSIONS, versionTraits, type OpnsenseVersionTraits } from "./version";
export { aclAllows } from "./routes";

/** Every route the emulator serves, as data (device method and path, privilege, source). */
export const ROUTES: readonly Route[] = [...ALIAS_ROUTES, ...UTIL_ROUTES];

export interface OpnsenseEmulatorOptions extends EmulatorServerOptions {
  /** OPNsense release to play, e.g. "24.7", "25.1", "25.7", "26.1.11", "26.7.1". @default "26.7.2" (the newest modelled) */
  readonly version?: string;
  /** API users; each key/secret pair is one user. @default one user "root" (key/secret below) with page-all */
  readonly users?: readonly EmulatedUser[];
  /** Aliases besides the built-ins. @default {@link DEFAULT_ALIASES} */
  readonly aliases?: readonly AliasSpec[];
  /** Time one `reconfigure` takes, in ms (a real reload takes seconds). @default 0 */
  readonly reconfigureLatencyMs?: number;
  /** Total time of a failed login, in ms (Auth/Base.php pads to 2 s from 25.1). @default 2000 from 25.1, 0 before */
  readonly failedLoginDelayMs?: number;
}

export interface OpnsenseEmulator extends EmulatorServer {
  readonly backend: OpnsenseBackend;
}

/** Key and secret of the default all-pages user. */
export const OPNSENSE_EMULATOR_ADMIN = { key: "emulator-admin-key", secret: "emulator-admin-secret" } as const;

const DEFAULT_USERS: readonly EmulatedUser[] = [
  { name: "root", key: OPNSENSE_EMULATOR_ADMIN.key, secret: OPNSENSE_EMULATOR_ADMIN.secret, privileges: ["page-all"], disabled: false },
];

const norm = (s: string) => s.replace(/_/g, "").toLowerCase();
const NOT_FOUND = "(endpoint not found)";

/**
 * RTR: `/api/<module>/<controller>/<action>[/<param>...]`; module case-insensitive, controller via
 * `ucwords` and actions camel- or snake-cased, both matched ignoring case; empty segments dropped.
 */
function resolve(rawPath: string, traits: OpnsenseVersionTraits): { route: Route; params: string[] } | undefined {
  const parts = rawPath.split("/").filter((p) => p !== "");
  if (parts[0] !== "api" || parts.length < 3) return undefined;
  const [, module, controller, action = "index", ...rest] = parts.map((p, i) => (i < 4 ? p : decodeURIComponent(p)));
  const route = ROUTES.find(
    (r) => r.module === module!.toLowerCase() && norm(r.controller) === norm(controller!) && norm(r.action) === norm(action) && (r.exists?.(traits) ?? true),
  );
  if (!route || rest.length < route.requiredParams) return undefined;
  return { route, params: rest };
}

/** PHP's parsing of a query string or form body: `a[]=1` → list, `a[b]=1` → map (one level). */
export function phpParse(qs: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(qs)) {
    const m = /^([^[\]]+)\[([^\]]*)\]$/.exec(k);
    if (!m) out[k] = v;
    else if (m[2] === "") out[m[1]!] = [...((Array.isArray(out[m[1]!]) ? out[m[1]!] : []) as unknown[]), v];
    else out[m[1]!] = { ...((typeof out[m[1]!] === "object" && !Array.isArray(out[m[1]!]) ? out[m[1]!] : {}) as object), [m[2]!]: v };
  }
  return out;
}

/**
 * ACB `parseJsonBodyData` + PHP: `application/json` (optionally `;charset=utf-8`, spaces ignored) with
 * an empty body (PHP `empty()`: "" or "0") → 400; otherwise a JSON object/array becomes `$_POST` and
 * anything else (invalid JSON, `""`) leaves it empty. A form-encoded POST is parsed by PHP. Any other
 * content type: the body is ignored.
 */
function postData(req: EmulatorRequest): Record<string, unknown> | "invalid" {
  const ct = String(req.headers["content-type"] ?? "")
    .replace(/ /g, "")
    .toLowerCase();
  if (ct === "application/json" || ct === "application/json;charset=utf-8") {
    if (req.body === "" || req.body === "0") return "invalid";
    try {
      const v: unknown = JSON.parse(req.body);
      return typeof v === "object" && v !== null ? { ...(v as object) } : {};
    } catch {
      return {};
    }
  }
  if (req.method === "POST" && ct.split(";")[0] === "application/x-www-form-urlencoded") return phpParse(req.body);
  return {};
}

/** api.php `error_output`: 26.7.1+ HTML-escapes the JSON text (ENT_NOQUOTES); 26.7.2+ adds errorLevel. */
function errorReply(status: number, body: Record<string, string>, traits: OpnsenseVersionTraits): Omit<HandledReply, "route"> {
  const text = JSON.stringify(body);
  return {
    status,
    text: traits.escapeErrors ? text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;") : text,
    contentType: "application/json;charset=utf-8",
  };
}

/** ACB `beforeExecuteRoute`: `<scheme> <b64>`, split on ":", key looked up, secret checked; the scheme word is not checked. */
function authenticate(backend: OpnsenseBackend, header: string | undefined): { user?: EmulatedUser; tried: boolean } | "missing" {
  if (!header) return "missing";
  const b64 = header.split(" ")[1];
  if (b64 === undefined) return { tried: false };
  const pair = Buffer.from(b64, "base64").toString("utf8").split(":");
  if (pair.length < 2) return { tried: false };
  const user = backend.users.get(pair[0]!);
  return user && !user.disabled && user.secret === pair[1] ? { user, tried: true } : { tried: true };
}

/** Starts the emulator; `close()` stops it. */
export async function startOpnsenseEmulator(opts: OpnsenseEmulatorOptions = {}): Promise<OpnsenseEmulator> {
  const backend = new OpnsenseBackend(
    opts.aliases ?? DEFAULT_ALIASES,
    opts.users ?? DEFAULT_USERS,
    opts.reconfigureLatencyMs ?? DEFAULT_RECONFIGURE_LATENCY_MS,
    versionTraits(opts.version ?? DEFAULT_OPNSENSE_VERSION),
  );

  const dispatch = async (req: EmulatorRequest): Promise<HandledReply> => {
    const traits = backend.traits;
    const found = resolve(req.rawPath, traits);
    if (!found) return { ...errorReply(404, { errorMessage: "Endpoint not found" }, traits), route: NOT_FOUND };
    const route = `${req.method} /api/${found.route.module}/${found.route.controller}/${found.route.action}`;
    const auth = authenticate(backend, req.headers.authorization);
    if (auth === "missing") return { status: 401, text: "", route };
    const user = auth.user;
    if (!user) {
      const pad = opts.failedLoginDelayMs ?? traits.failedLoginPadMs;
      if (auth.tried && pad > 0) await new Promise((r) => setTimeout(r, pad));
      return { status: 401, json: { status: 401, message: "Authentication Failed" }, route };
    }
    const uri = req.rawQuery ? `${req.rawPath}?${req.rawQuery}` : req.rawPath;
    if (!aclAllows(user.privileges, uri)) return { status: 403, json: { status: 403, message: "Forbidden" }, route, user: user.name };
    const post = postData(req);
    if (post === "invalid") return { status: 400, json: { status: 400, message: "Invalid JSON syntax" }, route, user: user.name };
    const request = { ...phpParse(req.rawQuery), ...post };
    try {
      const reply = await found.route.handle({ method: req.method, params: found.params, post, request, user, backend, traits });
      return { ...reply, route, user: user.name };
    } catch (e) {
      if (e instanceof UserException) {
        const body: Record<string, string> = { errorMessage: e.message, errorTitle: e.title };
        if (traits.errorLevel) body.errorLevel = "error";
        return { ...errorReply(500, body, traits), route, user: user.name };
      }
      if (!(e instanceof UnexpectedError)) process.stderr.write(`[opnsense emulator] ${route} threw ${String(e)}\n`);
      return { ...errorReply(500, { errorMessage: "Unexpected error, check log for details" }, traits), route, user: user.name };
    }
  };

  const server = await startEmulatorServer("opnsense", opts, dispatch, {
    reset: () => backend.reset(),
    control: (req, action) => opnsenseControl(backend, server.log, req, action),
  });
  // The device's 404 body must stay device-accurate, so the kit's own unhandled path (which answers a
  // kit body) is not used; the log entry is marked unhandled here instead (STYLE.md "Emulators").
  const record = server.log.record.bind(server.log);
  const warned = new Set<string>();
  server.log.record = (e) => {
    if (e.route !== NOT_FOUND) return record(e);
    const key = `${e.method} ${e.path}`;
    if (!warned.has(key)) process.stderr.write(`[opnsense emulator] no such endpoint ${key} (answered 404 Endpoint not found)\n`);
    warned.add(key);
    record({ ...e, route: undefined, unhandled: true });
  };
  return Object.assign(server, { backend });
}

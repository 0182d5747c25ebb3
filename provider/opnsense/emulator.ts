/**
 * An HTTPS double of the OPNsense alias API (a product feature: tests, `npm run bench`, users' CI).
 * Order of checks as on the device (opnsense/core Mvc/Dispatcher.php, api.php, ApiControllerBase.php;
 * shared/reference/opnsense.md §1, §7): the route is resolved first (unknown → 404 even without
 * credentials), then Basic auth (401), then the ACL on the literal, case-sensitive URI including the
 * query (403), then the JSON body (400), then the action (UserException → 500).
 */
import { startEmulatorServer, type EmulatorRequest, type EmulatorServer, type EmulatorServerOptions, type HandledReply } from "../emulator-kit";
import { DEFAULT_ALIASES, OpnsenseBackend, UserException, type AliasSpec, type EmulatedUser } from "./emulator-backend";
import { ACL_PATTERNS, IMPLICIT_PATTERNS, ROUTES, type Route } from "./emulator-routes";

export { OpnsenseBackend, DEFAULT_ALIASES, type AliasSpec, type EmulatedUser, type AliasType } from "./emulator-backend";

export interface OpnsenseEmulatorOptions extends EmulatorServerOptions {
  /** API users; each key/secret pair is one user. @default one user "root" (key/secret below) with page-all */
  readonly users?: readonly EmulatedUser[];
  /** Aliases besides the built-ins. @default {@link DEFAULT_ALIASES} */
  readonly aliases?: readonly AliasSpec[];
  /** Time one `reconfigure` takes, in ms (a real reload takes seconds). @default 0 */
  readonly reconfigureLatencyMs?: number;
  /** Pad a failed login, as OPNsense 25.1+ does (~2 s). @default 0 */
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

const norm = (action: string) => action.replace(/_/g, "").toLowerCase();

/** RTR: `/api/<module>/<controller>/<action>[/<param>...]`; actions match snake or camel case, any case. */
function resolve(rawPath: string): { route: Route; params: string[] } | undefined {
  const parts = rawPath.split("/").slice(1);
  if (parts[0] !== "api" || parts.length < 4) return undefined;
  const [, module, controller, action, ...rest] = parts;
  const ctl = module === "core" && controller === "menu" ? "menu" : module === "firewall" ? controller : undefined;
  const route = ROUTES.find((r) => r.controller === ctl && norm(r.action) === norm(action ?? ""));
  if (!route) return undefined;
  const params = rest.filter((p) => p !== "").map((p) => decodeURIComponent(p));
  if (params.length < route.requiredParams) return undefined;
  return { route, params };
}

/** ACL `urlMatch`: `*` → `.*`, a trailing `/*` also matches the bare path, anchored, case-sensitive. */
export function aclAllows(privileges: readonly string[], uri: string): boolean {
  const patterns = [...IMPLICIT_PATTERNS, ...privileges.flatMap((p) => ACL_PATTERNS[p] ?? [])];
  return patterns.some((p) => {
    const body = p.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
    const re = new RegExp(`^/${body}$`);
    return re.test(uri) || (p.endsWith("/*") && uri === `/${p.slice(0, -2)}`);
  });
}

function authenticate(backend: OpnsenseBackend, header: string | undefined): EmulatedUser | "missing" | undefined {
  if (!header) return "missing";
  const b64 = header.split(" ")[1] ?? ""; // the scheme word is not checked (ACB beforeExecuteRoute)
  const decoded = Buffer.from(b64, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  const user = backend.users.get(decoded.slice(0, colon));
  return user && !user.disabled && user.secret === decoded.slice(colon + 1) ? user : undefined;
}

/** Starts the emulator; `close()` stops it. */
export async function startOpnsenseEmulator(opts: OpnsenseEmulatorOptions = {}): Promise<OpnsenseEmulator> {
  const backend = new OpnsenseBackend(opts.aliases ?? DEFAULT_ALIASES, opts.users ?? DEFAULT_USERS, opts.reconfigureLatencyMs ?? 0);

  const dispatch = async (req: EmulatorRequest): Promise<HandledReply | undefined> => {
    const found = resolve(req.rawPath);
    if (!found) return { status: 404, json: { errorMessage: "Endpoint not found" }, route: `${req.method} ${req.rawPath} (not found)` };
    const route = `${req.method} /api/${found.route.controller === "menu" ? "core" : "firewall"}/${found.route.controller}/${found.route.action}`;
    const user = authenticate(backend, req.headers.authorization);
    if (user === "missing") return { status: 401, text: "", route };
    if (!user) {
      if (opts.failedLoginDelayMs) await new Promise((r) => setTimeout(r, opts.failedLoginDelayMs));
      return { status: 401, json: { status: 401, message: "Authentication Failed" }, route };
    }
    const uri = req.rawQuery ? `${req.rawPath}?${req.rawQuery}` : req.rawPath;
    if (!aclAllows(user.privileges, uri)) return { status: 403, json: { status: 403, message: "Forbidden" }, route, user: user.name };
    let body: Record<string, unknown> = {};
    if (String(req.headers["content-type"] ?? "").includes("application/json")) {
      try {
        body = JSON.parse(req.body) as Record<string, unknown>;
        if (typeof body !== "object" || body === null) throw new Error("not an object");
      } catch {
        return { status: 400, json: { status: 400, message: "Invalid JSON syntax" }, route, user: user.name };
      }
    }
    if (req.method === "GET") for (const [k, v] of req.query) body[k] = v;
    try {
      const reply = await found.route.handle({ method: req.method, params: found.params, body, user, backend });
      return { ...reply, route, user: user.name };
    } catch (e) {
      if (e instanceof UserException) return { status: 500, json: { errorMessage: e.message, errorTitle: e.title }, route, user: user.name };
      return { status: 500, json: { errorMessage: "Unexpected error, check log for details" }, route, user: user.name };
    }
  };

  const server = await startEmulatorServer("opnsense", opts, dispatch, {
    reset: () => backend.reset(),
    control: (req, action) => control(backend, req, action),
  });
  return Object.assign(server, { backend });
}

/**
 * Control routes for users' CI, beside the kit's `log`, `reset` and `faults`:
 * `POST users` {name,key,secret,privileges,disabled?}; `POST aliases` {name,type,content?,inUse?};
 * `POST alias-content` {alias, add?: address, remove?: address} (an out-of-band edit, applied);
 * `POST reconfigure-error` {error: string|null}; `GET state` (aliases, tables, reconfigureCount).
 */
function control(backend: OpnsenseBackend, req: EmulatorRequest, action: string) {
  const body = (req.body ? JSON.parse(req.body) : {}) as Record<string, unknown>;
  if (req.method === "POST" && action === "users") {
    backend.putUser({ disabled: false, ...(body as Omit<EmulatedUser, "disabled">) });
    return { status: 200, json: { status: "ok" } };
  }
  if (req.method === "POST" && action === "aliases") {
    const a = backend.addAlias(body as unknown as AliasSpec);
    return { status: 200, json: { status: "ok", uuid: a.uuid } };
  }
  if (req.method === "POST" && action === "alias-content") {
    if (typeof body.remove === "string") backend.removeAddress(String(body.alias), body.remove);
    if (typeof body.add === "string") backend.insertAddress(String(body.alias), body.add);
    return { status: 200, json: { status: "ok" } };
  }
  if (req.method === "POST" && action === "reconfigure-error") {
    backend.reconfigureError = typeof body.error === "string" ? body.error : undefined;
    return { status: 200, json: { status: "ok" } };
  }
  if (req.method === "GET" && action === "state") {
    const aliases = [...backend.aliases.values()].filter((a) => !a.builtin).map((a) => ({ name: a.name, uuid: a.uuid, type: a.type, content: a.content }));
    const tables = Object.fromEntries([...backend.tables.keys()].map((k) => [k, backend.tableContent(k)]));
    return { status: 200, json: { aliases, tables, reconfigureCount: backend.reconfigureCount } };
  }
  return undefined;
}

/**
 * An HTTPS double of Toy Firewall's API for tests and users' CI, on emulators/kit.ts, in the
 * three parts every emulator has: the route table, the backend, the auth+privilege gate. It imports
 * nothing from provider/ (an independent double: it cannot share a mistake with the client; lint refuses the import).
 * TODO(new-device): each route as the device answers it (bodies, codes, quirks), citing its source.
 */
import { startEmulatorServer, type EmulatorRequest, type EmulatorServer, type EmulatorServerOptions, type HandledReply } from "../kit";

type Privilege = "any" | "read" | "write";

// 1. The route table: method, path pattern, the privilege it needs, the handler.
interface Route {
  readonly method: string;
  readonly path: RegExp;
  readonly name: string;
  readonly needs: Privilege;
  handle(b: ToyfwBackend, req: EmulatorRequest, m: RegExpExecArray): HandledReply;
}
const ROUTES: readonly Route[] = [
  { method: "GET", path: /^\/api\/status$/, name: "GET /api/status", needs: "any", handle: () => ({ status: 200, json: { status: "ok" } }) },
  {
    method: "GET",
    path: /^\/api\/lists\/([^/]+)$/,
    name: "GET /api/lists/{list}",
    needs: "read",
    handle: (b, _req, m) => {
      const list = b.lists.get(decodeURIComponent(m[1]!));
      return list ? { status: 200, json: { entries: [...list].sort() } } : { status: 404, json: { error: "no such list" } };
    },
  },
  {
    method: "POST",
    path: /^\/api\/lists\/([^/]+)\/entries$/,
    name: "POST /api/lists/{list}/entries",
    needs: "write",
    handle: (b, req, m) => {
      const list = b.lists.get(decodeURIComponent(m[1]!));
      let address: unknown;
      try {
        address = (JSON.parse(req.body || "{}") as { address?: unknown }).address;
      } catch {
        return { status: 400, json: { error: "body is not JSON" } };
      }
      if (!list) return { status: 404, json: { error: "no such list" } };
      if (typeof address !== "string") return { status: 400, json: { error: "address required" } };
      list.add(address);
      return { status: 200, json: { status: "ok" }, sideEffect: true };
    },
  },
  {
    method: "DELETE",
    path: /^\/api\/lists\/([^/]+)\/entries\/([^/]+)$/,
    name: "DELETE /api/lists/{list}/entries/{address}",
    needs: "write",
    handle: (b, _req, m) => {
      const list = b.lists.get(decodeURIComponent(m[1]!));
      if (!list || !list.delete(decodeURIComponent(m[2]!))) return { status: 404, json: { error: "not found" } };
      return { status: 200, json: { status: "ok" }, sideEffect: true };
    },
  },
];

export interface ToyfwUser {
  readonly name: string;
  readonly token: string;
  readonly privileges: readonly Privilege[];
}

export interface ToyfwEmulatorOptions extends EmulatorServerOptions {
  /** @default one user "grants" with token "toyfw-token" and read+write */
  readonly users?: readonly ToyfwUser[];
  /** Lists that exist at start (and after each reset). @default ["jit"] */
  readonly lists?: readonly string[];
}

// 2. The backend: device state, reset(), the device's rules.
export class ToyfwBackend {
  readonly lists = new Map<string, Set<string>>();
  constructor(private readonly seed: readonly string[]) {
    this.reset();
  }
  reset(): void {
    this.lists.clear();
    for (const l of this.seed) this.lists.set(l, new Set());
  }
}

export interface ToyfwEmulator extends EmulatorServer {
  readonly backend: ToyfwBackend;
}

/** Starts the Toy Firewall emulator on HTTPS with the shipped test CA. */
export async function startToyfwEmulator(opts: ToyfwEmulatorOptions = {}): Promise<ToyfwEmulator> {
  const backend = new ToyfwBackend(opts.lists ?? ["jit"]);
  const users = opts.users ?? [{ name: "grants", token: "toyfw-token", privileges: ["read", "write"] }];
  // 3. The auth+privilege gate, before routing.
  const dispatch = (req: EmulatorRequest): HandledReply | undefined => {
    for (const r of ROUTES) {
      const m = req.method === r.method ? r.path.exec(req.rawPath) : null;
      if (!m) continue;
      const token = String(req.headers.authorization ?? "").replace(/^Bearer /, "");
      const user = users.find((u) => u.token === token);
      if (!user) return { status: 401, json: { error: "unauthorized" }, route: r.name };
      if (r.needs !== "any" && !user.privileges.includes(r.needs)) return { status: 403, json: { error: "forbidden" }, route: r.name };
      return { ...r.handle(backend, req, m), route: r.name };
    }
    return undefined;
  };
  const server = await startEmulatorServer("toyfw", opts, dispatch, { reset: () => backend.reset() });
  return Object.assign(server, { backend });
}

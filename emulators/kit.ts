/**
 * The parts every device emulator shares: an HTTPS server with the shipped test CA, a fault plan
 * (latency, status, reset, hang — per route, once or always, or with a probability), a request log,
 * a loud 404 for unknown routes, and control routes under `/__emulator/` (in the manner of moto's
 * `/moto-api/reset`). Device behaviour lives in each `<device>/emulator.ts`; it imports nothing from a
 * client, so an emulator and a client written from the device sources cannot share a mistake.
 */
import { readFileSync, existsSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import * as path from "node:path";
import { z } from "zod";

export interface EmulatorRequest {
  readonly method: string;
  /** Path as received (still percent-encoded), without query. */
  readonly rawPath: string;
  /** Query string as received, without `?` ("" when none). */
  readonly rawQuery: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly remoteAddress: string;
}

export interface EmulatorReply {
  readonly status: number;
  /** Serialised as JSON unless `text` is given. */
  readonly json?: unknown;
  readonly text?: string;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * The body of a control route, parsed by that route's `.strict()` schema, with the query parameters
 * as fields too (`?alias=x` is `{"alias":"x"}`; the body wins). A body the route does not understand
 * is a message naming each field, so no control route ever answers ok for nothing done.
 * @internal
 */
export function controlBody<T>(req: EmulatorRequest, action: string, schema: z.ZodType<T>): { value: T } | { error: string } {
  let json: unknown = {};
  if (req.body.trim() !== "") {
    try {
      json = JSON.parse(req.body);
    } catch {
      return { error: `${req.method} /__emulator/${action}: the body is not JSON` };
    }
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) return { error: `${req.method} /__emulator/${action}: the body must be a JSON object` };
  const r = schema.safeParse({ ...Object.fromEntries(req.query), ...json });
  if (r.success) return { value: r.data };
  const issues = r.error.issues.map((i) => {
    const keys = "keys" in i && Array.isArray(i.keys) ? ` (${(i.keys as string[]).join(", ")})` : "";
    return `${i.path.length > 0 ? i.path.join(".") : "body"}: ${i.message}${keys}`;
  });
  return { error: `${req.method} /__emulator/${action}: ${issues.join("; ")}` };
}

/** A control route that takes no body (an empty object is fine). @internal */
export const NO_BODY = z.object({}).strict();

/** `POST /__emulator/faults`: a {@link FaultRule} as JSON (`regex` for a RegExp `match`). */
const FaultRuleBodySchema = z
  .object({
    match: z.string().optional(),
    regex: z.string().optional(),
    kind: z.enum(["latency", "status", "reset", "hang", "reply"]).refine((k) => k !== "reply", "reply faults take a function: start the emulator with them"),
    ms: z.number().int().nonnegative().optional(),
    status: z.number().int().min(100).max(599).optional(),
    phase: z.enum(["before", "after"]).optional(),
    times: z.number().int().positive().optional(),
    probability: z.number().min(0).max(1).optional(),
  })
  .strict()
  .refine((r) => r.kind !== "status" || r.status !== undefined, { message: 'a "status" fault needs "status"', path: ["status"] });

/** A device's answer plus what the log should record about it. */
export interface HandledReply extends EmulatorReply {
  /** Route name for the log, e.g. "POST /api/firewall/alias_util/add". */
  readonly route?: string;
  /** True when the request changed device state. */
  readonly sideEffect?: boolean;
  /** Authenticated user, for the log. */
  readonly user?: string;
  /**
   * True for a device-accurate answer to a route the device does not have (OPNsense's 404 body,
   * FortiManager's -6 in an HTTP 200): the body stays the device's, the log marks it unhandled and the
   * kit warns once, so tests and users' CI can still assert that nothing unknown was called.
   */
  readonly unhandled?: boolean;
}

/** A device's router: `undefined` means no such route (the kit answers a loud 404). */
export type Dispatch = (req: EmulatorRequest) => Promise<HandledReply | undefined> | HandledReply | undefined;

export interface LoggedRequest {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly status: number | "reset" | "hang";
  readonly route: string | undefined;
  readonly user: string | undefined;
  readonly sideEffect: boolean;
  readonly unhandled: boolean;
  readonly fault: string | undefined;
  readonly durationMs: number;
}

export type FaultKind = "latency" | "status" | "reset" | "hang" | "reply";

export interface FaultRule {
  /** Matches when `"METHOD /path"` contains this string, or matches this RegExp. Absent: every request. */
  readonly match?: string | RegExp;
  readonly kind: FaultKind;
  /** latency: delay before answering; hang: how long before the socket is dropped (default: never). */
  readonly ms?: number;
  /** status: the HTTP status to answer (the device is not called). */
  readonly status?: number;
  /**
   * reply: answers with what this returns instead of calling the device — e.g. a proxy error page or
   * a debug handler that reflects the request's headers and body (secret-leak tests). Not available
   * through the `/__emulator/faults` control route (a function is not JSON).
   */
  readonly reply?: (req: EmulatorRequest) => EmulatorReply;
  /** reset: "before" drops the connection without calling the device; "after" lets the device apply the request and then drops the answer. @default "before" */
  readonly phase?: "before" | "after";
  /** How many matching requests this rule applies to; absent = every one. */
  readonly times?: number;
  /** Chance per matching request, 0..1 (seeded, so runs repeat). @default 1 */
  readonly probability?: number;
}

/** Faults to inject, in order; the first rule that matches and fires wins. */
export class FaultPlan {
  private rules: { rule: FaultRule; left: number }[] = [];
  private seed: number;
  constructor(seed = 42) {
    this.seed = seed >>> 0;
  }
  add(rule: FaultRule): this {
    this.rules.push({ rule, left: rule.times ?? Number.POSITIVE_INFINITY });
    return this;
  }
  /** A scripted sequence for one route: each entry applies once, in order (undici's counter idea). */
  sequence(match: string | RegExp, steps: readonly (Omit<FaultRule, "match" | "times"> | "ok")[]): this {
    // Each step is "ok" (no fault) or a fault; an "ok" is a zero-latency fault so the order is kept.
    for (const s of steps) this.add(s === "ok" ? { match, kind: "latency", ms: 0, times: 1 } : { ...s, match, times: 1 });
    return this;
  }
  clear(): void {
    this.rules = [];
  }
  setSeed(seed: number): void {
    this.seed = seed >>> 0;
  }
  /** @internal */
  pick(method: string, rawPath: string): FaultRule | undefined {
    const key = `${method} ${rawPath}`;
    for (const r of this.rules) {
      if (r.left <= 0) continue;
      const m = r.rule.match;
      if (m !== undefined && !(typeof m === "string" ? key.includes(m) : m.test(key))) continue;
      if (r.rule.probability !== undefined && this.random() >= r.rule.probability) continue;
      r.left--;
      return r.rule;
    }
    return undefined;
  }
  private random(): number {
    // mulberry32: a tiny seeded PRNG so fault runs are repeatable.
    this.seed = (this.seed + 0x6d2b79f5) >>> 0;
    let t = this.seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** Every request the emulator answered (control routes excluded). */
export class RequestLog {
  private items: LoggedRequest[] = [];
  private seq = 0;
  /** @internal */
  record(e: Omit<LoggedRequest, "seq">): void {
    this.items.push({ ...e, seq: ++this.seq });
  }
  entries(): readonly LoggedRequest[] {
    return this.items;
  }
  clear(): void {
    this.items = [];
  }
  /** Requests that changed device state. */
  sideEffects(): readonly LoggedRequest[] {
    return this.items.filter((e) => e.sideEffect);
  }
  /** Requests to routes the emulator does not implement. */
  unhandled(): readonly LoggedRequest[] {
    return this.items.filter((e) => e.unhandled);
  }
  /** How many requests matched `route` (substring of the route name or "METHOD path"). */
  count(route?: string): number {
    if (route === undefined) return this.items.length;
    return this.items.filter((e) => (e.route ?? `${e.method} ${e.path}`).includes(route) || `${e.method} ${e.path}`.includes(route)).length;
  }
}

/**
 * One device answer no public source settles, offered as an emulator option (issue 19 variant matrix).
 * `option` is the start-option path (`feedSettings.entryListWindow`), `values` the answers it can play
 * (numbers as text; for a numeric option the values the matrix uses), `default` the one played unless told.
 * docs/variants.md lists the same rows; test/variants.test.ts keeps the two and the code equal.
 */
export interface EmulatorVariant {
  readonly option: string;
  readonly values: readonly string[];
  readonly default: string;
}

export type EmulatorTls = "test-ca" | "untrusted" | "plain";

export interface EmulatorServerOptions {
  /** Port to listen on; 0 picks a free one. @default 0 */
  readonly port?: number | undefined;
  /** @default "127.0.0.1" */
  readonly host?: string | undefined;
  /** "test-ca": certificate signed by the shipped test CA; "untrusted": a self-signed one (for TLS failure tests); "plain": HTTP. @default "test-ca" */
  readonly tls?: EmulatorTls | undefined;
  /** Latency added to every request, in ms. @default 0 */
  readonly latencyMs?: number | undefined;
  /** Seed for probabilistic faults. @default 42 */
  readonly faultSeed?: number | undefined;
}

export interface EmulatorServer {
  readonly url: string;
  readonly port: number;
  /** PEM of the CA to trust for this server (the shipped test CA). */
  readonly caCert: string;
  readonly log: RequestLog;
  readonly faults: FaultPlan;
  /** Latency added to every request, in ms; may be changed while running. */
  latencyMs: number;
  close(): Promise<void>;
}

/** Reads a file shipped in `emulators/testdata` (works from the sources and from `dist/`). */
export function testdataFile(name: string): string {
  const candidates = [path.join(__dirname, "testdata", name), path.join(__dirname, "..", "..", "emulators", "testdata", name)];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`shipped test file ${name} not found (looked in ${candidates.join(", ")})`);
  return readFileSync(found, "utf8");
}

/** PEM of the test CA that signs every emulator certificate. Trust it only for the emulators. */
export function testCaCert(): string {
  return testdataFile("ca.crt");
}

const MAX_BODY = 1 << 20;

/**
 * Starts an emulator server around a device `dispatch`. `control` answers `/__emulator/*` routes
 * beyond the common ones (`GET log`, `POST reset`, `POST|DELETE faults`); `reset` restores the
 * device's initial state.
 */
export async function startEmulatorServer(
  name: string,
  opts: EmulatorServerOptions,
  dispatch: Dispatch,
  hooks: { reset: () => void; control?: (req: EmulatorRequest, action: string) => EmulatorReply | undefined | Promise<EmulatorReply | undefined> },
): Promise<EmulatorServer> {
  const log = new RequestLog();
  const faults = new FaultPlan(opts.faultSeed);
  const sockets = new Set<Socket>();
  const warned = new Set<string>();
  const tls = opts.tls ?? "test-ca";

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    void handle(req, res).catch((e: unknown) => {
      // A crashed handler is an emulator bug: answered 500, logged as unhandled so suites that assert
      // "nothing unhandled" see it, and warned on stderr.
      const url = req.url ?? "/";
      const q = url.indexOf("?");
      log.record({
        method: req.method ?? "GET",
        path: q < 0 ? url : url.slice(0, q),
        query: q < 0 ? "" : url.slice(q + 1),
        status: 500,
        route: undefined,
        user: undefined,
        sideEffect: false,
        unhandled: true,
        fault: undefined,
        durationMs: Date.now() - started,
      });
      process.stderr.write(`[${name} emulator] handler crashed on ${req.method} ${q < 0 ? url : url.slice(0, q)}: ${String(e)}\n`);
      if (!res.headersSent) send(res, { status: 500, json: { error: `emulator ${name} crashed: ${String(e)}` } });
    });
  };
  const server: Server =
    tls === "plain"
      ? createHttpServer(handler)
      : createHttpsServer(
          tls === "test-ca"
            ? { key: testdataFile("server.key"), cert: testdataFile("server.crt") }
            : { key: testdataFile("untrusted.key"), cert: testdataFile("untrusted.crt") },
          handler,
        );
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.keepAliveTimeout = 5_000;

  const self: EmulatorServer = {
    url: "",
    port: 0,
    caCert: testCaCert(),
    log,
    faults,
    latencyMs: opts.latencyMs ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? "" : url.slice(q + 1);
    const body = await readBody(req);
    const request: EmulatorRequest = {
      method: req.method ?? "GET",
      rawPath,
      rawQuery,
      query: new URLSearchParams(rawQuery),
      headers: req.headers,
      body,
      remoteAddress: req.socket.remoteAddress ?? "",
    };
    if (rawPath.startsWith("/__emulator/")) {
      send(res, await controlRoute(request, rawPath.slice("/__emulator/".length)));
      return;
    }
    const base = { method: request.method, path: rawPath, query: rawQuery };
    const fault = faults.pick(request.method, rawPath);
    const delay = self.latencyMs + (fault?.kind === "latency" ? (fault.ms ?? 0) : 0);
    if (delay > 0) await sleep(delay);
    const faultName = fault && !(fault.kind === "latency" && (fault.ms ?? 0) === 0) ? `${fault.kind}${fault.status ? ` ${fault.status}` : ""}` : undefined;
    const entry = (e: Partial<LoggedRequest> & Pick<LoggedRequest, "status">) =>
      log.record({ ...base, route: undefined, user: undefined, sideEffect: false, unhandled: false, fault: faultName, durationMs: Date.now() - started, ...e });

    if (fault?.kind === "hang") {
      entry({ status: "hang" });
      if (fault.ms !== undefined) setTimeout(() => req.socket.destroy(), fault.ms).unref();
      return;
    }
    if (fault?.kind === "reset" && fault.phase !== "after") {
      entry({ status: "reset" });
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "status") {
      entry({ status: fault.status ?? 503 });
      send(res, { status: fault.status ?? 503, text: "<html><body>Service Unavailable (emulated fault)</body></html>", contentType: "text/html" });
      return;
    }
    if (fault?.kind === "reply" && fault.reply) {
      const r = fault.reply(request);
      entry({ status: r.status });
      send(res, r);
      return;
    }
    const reply = await dispatch(request);
    if (reply === undefined || reply.unhandled === true) {
      const key = `${request.method} ${rawPath}`;
      if (!warned.has(key)) {
        warned.add(key);
        process.stderr.write(`[${name} emulator] unhandled route ${key} (answered ${reply?.status ?? 404})\n`);
      }
      const answer = reply ?? { status: 404, json: { error: `${name} emulator: unhandled route ${key}` } };
      entry({ status: answer.status, unhandled: true, ...(reply?.user !== undefined && { user: reply.user }) });
      send(res, answer);
      return;
    }
    if (fault?.kind === "reset") {
      entry({ status: "reset", route: reply.route, user: reply.user, sideEffect: reply.sideEffect ?? false });
      req.socket.destroy();
      return;
    }
    entry({ status: reply.status, route: reply.route, user: reply.user, sideEffect: reply.sideEffect ?? false });
    send(res, reply);
  }

  async function controlRoute(req: EmulatorRequest, action: string): Promise<EmulatorReply> {
    const kit = (schema: z.ZodType, apply: (body: never) => unknown): EmulatorReply => {
      const b = controlBody(req, action, schema);
      if ("error" in b) return { status: 400, json: { status: "failed", error: b.error } };
      const out = apply(b.value as never);
      return { status: 200, json: out ?? { status: "ok" } };
    };
    if (action === "log" && req.method === "GET") return kit(NO_BODY, () => log.entries());
    if (action === "log" && req.method === "DELETE") return kit(NO_BODY, () => void log.clear());
    if (action === "reset" && req.method === "POST")
      return kit(NO_BODY, () => {
        hooks.reset();
        log.clear();
        faults.clear();
      });
    if (action === "faults" && req.method === "DELETE") return kit(NO_BODY, () => void faults.clear());
    if (action === "faults" && req.method === "POST")
      return kit(FaultRuleBodySchema, (rule: z.infer<typeof FaultRuleBodySchema>) => {
        const { regex, match, ...rest } = rule;
        faults.add({ ...rest, ...(regex !== undefined ? { match: new RegExp(regex) } : match !== undefined ? { match } : {}) } as FaultRule);
      });
    const r = await hooks.control?.(req, action);
    return r ?? { status: 404, json: { error: `${name} emulator: unknown control route ${req.method} /__emulator/${action}` } };
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? "127.0.0.1";
  const urlHost = host === "127.0.0.1" || host === "0.0.0.0" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  Object.assign(self, { url: `${tls === "plain" ? "http" : "https"}://${urlHost}:${port}`, port });
  return self;
}

function send(res: ServerResponse, r: EmulatorReply): void {
  const text = r.text ?? (r.json === undefined ? "" : JSON.stringify(r.json));
  res.writeHead(r.status, {
    "content-type": r.contentType ?? (r.text !== undefined ? "text/plain" : "application/json; charset=UTF-8"),
    "content-length": Buffer.byteLength(text),
    ...r.headers,
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.destroy();
        reject(new Error("request body too large"));
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The one HTTP transport for every device: an undici keep-alive pool per device and TLS setting, a
 * timeout on every request, retries with backoff for transient failures of requests that are safe to
 * repeat, and classification of low-level failures into {@link TransportError} kinds.
 *
 * Retries: only requests marked `idempotent` are repeated, on reset/timeout/502/503/504. 401, 403 and
 * 429 are never retried — FortiOS locks the source address out after repeated failed logins
 * (docs/reference/fortigate.md §1). A non-idempotent write that failed ambiguously is settled by
 * {@link applyVerified}: read back, and repeat only when the device does not hold the change.
 */
import { createHash } from "node:crypto";
import type { Agent } from "undici";
import type { z } from "zod";
import { DeviceError, FirewallGrantsError, TransportError, UnsafePathError, type TransportErrorKind } from "./errors";
import { isRestoring, processState } from "./process-state";
import { tracePhase } from "./phase-trace";
import { Redactor } from "./redaction";

/** undici, loaded by the first request: a program that only declares resources never sends one (issue 22, fixed cost). */
const undici = (): typeof import("undici") => require("undici");

export interface TlsOptions {
  /** PEM of the CA that signed the device certificate; added to verification. */
  readonly caCert?: string | undefined;
  /** Skip certificate verification. An explicit lab-only opt-in. @default false */
  readonly insecure?: boolean | undefined;
}

export interface TransportOptions extends TlsOptions {
  /** `https://host[:port]`; any path or query is ignored. */
  readonly baseUrl: string;
  /** Per-request deadline, including reading the body. @default 15000 */
  readonly timeoutMs?: number | undefined;
  /**
   * How many times an idempotent request is repeated after a transient failure. 5, not 3: at ~10%
   * transient failures, 3 let about one 300-request run in 15 fail (issue 6 fault suite).
   * @default 5
   */
  readonly maxRetries?: number | undefined;
  /** First backoff step; doubles per attempt with full jitter, capped at 2 s. @default 150 */
  readonly retryDelayMs?: number | undefined;
  /** Headers sent with every request (e.g. authorization). Never logged, never in errors. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Values that must never appear in an error or log line (tokens, secrets). */
  readonly secrets?: readonly string[] | undefined;
}

export interface TransportRequest {
  readonly method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path built with {@link devicePath}; never contains user input that was not encoded. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>> | undefined;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** True when sending it twice has the same effect as once. */
  readonly idempotent: boolean;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /**
   * Deadline for this request instead of the transport's `timeoutMs`. For a write that replaces
   * state wholesale: once abandoned it may still land later and undo newer writes, so it waits longer.
   */
  readonly timeoutMs?: number | undefined;
  /**
   * No retry is sent after this moment (epoch ms): the body is only valid until then (a config-mode
   * set_item based on a read older than its window would write away what others wrote since).
   */
  readonly notAfter?: number | undefined;
}

export interface TransportResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

export const DEFAULT_TIMEOUT_MS = 15_000;
const RETRY_STATUSES = new Set([502, 503, 504]);
const BODY_EXCERPT_MAX = 500;
const MAX_BACKOFF_MS = 2_000;

/**
 * Joins a fixed device path with user-supplied segments, each percent-encoded, so that a name holding
 * `/`, `..` or `?` can never address another endpoint.
 */
export function devicePath(base: string, ...segments: readonly string[]): string {
  return [base.replace(/\/$/, ""), ...segments.map((s) => encodeURIComponent(s))].join("/");
}

/**
 * The segment of `path` (query and fragment ignored) that is empty, `.` or `..` once percent-decoded, or
 * `undefined` when there is none. A client and every proxy on the way normalise such a segment away
 * (WHATWG URL does so for `%2e` too), so `…/address/.` reaches the device as the collection itself, and a
 * DELETE there empties a table the program never declared (issue 18). A leading `/` is not a segment, and `/` alone is the root.
 */
export function unsafePathSegment(path: string): string | undefined {
  const rest = path.split(/[?#]/, 1)[0]!.replace(/^\//, "");
  // The root itself (`/`) has no segment to lose.
  if (rest === "") return undefined;
  // WHATWG URL (undici) reads a raw `\` as `/` in a special-scheme path: it separates segments too.
  for (const raw of rest.split(/[/\\]/)) {
    let decoded = raw;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      // A malformed escape is sent as it is; only the dot forms normalise.
    }
    if (decoded === "" || decoded === "." || decoded === "..") return raw;
  }
  return undefined;
}

/** The `check`-time form of the same rule for a name that becomes one path segment (an object, group, feed, admin, ADOM or device name). */
export function segmentNameProblem(name: string): string | undefined {
  return unsafePathSegment(encodeURIComponent(name)) === undefined ? undefined : SEGMENT_NAME_RULE;
}
export const SEGMENT_NAME_RULE = 'must not be "." or ".." (as a URL path segment it would address the collection above the entry)';

/** Refuses, before anything is sent, a path (or a JSON-RPC object url) with a segment {@link unsafePathSegment} finds. */
export function assertSafePath(path: string, where: string): void {
  const bad = unsafePathSegment(path);
  if (bad === undefined) return;
  const shown = bad === "" ? "an empty segment" : `the segment "${bad}"`;
  throw new UnsafePathError(`${where}: refused to send a request whose path has ${shown}; it would address the collection above the entry, not the entry`);
}

export class Transport {
  readonly host: string;
  readonly timeoutMs: number;
  private readonly origin: string;
  private readonly agent: Agent;
  private readonly maxRetries: number;
  private readonly retryDelayMs: number;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly redactor: Redactor;

  constructor(opts: TransportOptions) {
    const url = new URL(opts.baseUrl);
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error(`unsupported URL scheme ${url.protocol}`);
    this.origin = url.origin;
    this.host = url.host;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = opts.maxRetries ?? 5;
    this.retryDelayMs = opts.retryDelayMs ?? 150;
    this.headers = opts.headers ?? {};
    this.redactor = new Redactor(opts.secrets);
    this.agent = agentFor(this.origin, opts);
  }

  /** Adds a value learnt later (a login session id) to those redacted from every error and excerpt. */
  addSecret(value: string): void {
    this.redactor.add(value);
  }

  /** Sends the request; answers with any HTTP status, throws {@link TransportError} when none came. */
  async send(req: TransportRequest): Promise<TransportResponse> {
    for (let attempt = 0; ; attempt++) {
      const retriesLeft = req.idempotent && attempt < this.maxRetries;
      try {
        const res = await this.once(req);
        if (retriesLeft && RETRY_STATUSES.has(res.status)) {
          const wait = this.backoffMs(attempt, res.headers["retry-after"]);
          if (req.notAfter !== undefined && Date.now() + wait > req.notAfter) return res;
          await sleep(wait);
          continue;
        }
        return res;
      } catch (e) {
        const err = e as TransportError;
        if (retriesLeft && (err.kind === "reset" || err.kind === "timeout")) {
          const wait = this.backoffMs(attempt, undefined);
          if (req.notAfter !== undefined && Date.now() + wait > req.notAfter) throw err;
          await sleep(wait);
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * Sends the request and parses a JSON answer with `schema`. Statuses outside `okStatuses` throw a
   * {@link TransportError} of kind `http` carrying the redacted body; a body of the wrong shape throws
   * a {@link DeviceError} of kind `schema`.
   */
  async json<S extends z.ZodType>(req: TransportRequest, schema: S, okStatuses: readonly number[] = [200]): Promise<z.infer<S>> {
    const res = await this.send(req);
    if (!okStatuses.includes(res.status)) throw this.httpError(req, res);
    return this.parse(req, res, schema);
  }

  /** Parses an answer that the caller has already accepted. */
  parse<S extends z.ZodType>(req: TransportRequest, res: TransportResponse, schema: S): z.infer<S> {
    let data: unknown;
    try {
      data = JSON.parse(res.text);
    } catch {
      // Not the parser's SyntaxError as cause: its message quotes the body around the error, which
      // may be a piece of an echoed credential that no redaction of whole values can catch.
      throw this.schemaError(req, res, "the answer is not JSON", new SyntaxError("the answer is not valid JSON"));
    }
    // Every string the device sent back goes through redaction before anyone reads it, so a device
    // message that echoes a credential (status_msg, validations, cli_error, a JSON-RPC status
    // message) cannot carry it into a diagnosis.
    const parsed = schema.safeParse(this.redactedAnswer(res.text, data));
    if (!parsed.success) {
      const what = this.redact(`the answer has an unexpected shape (${parsed.error.issues[0]?.message ?? "?"})`);
      throw this.schemaError(req, res, what, new Error(what));
    }
    return parsed.data;
  }

  /** A {@link TransportError} for an HTTP answer the caller did not accept. */
  httpError(req: TransportRequest, res: TransportResponse): TransportError {
    return new TransportError({
      kind: "http",
      method: req.method,
      path: req.path,
      host: this.host,
      status: res.status,
      bodyExcerpt: this.excerpt(res.text),
      detail: `HTTP ${res.status}`,
    });
  }

  /** Removes every configured secret from `text`, in each form an echo can show it in (redaction.ts). */
  redact(text: string): string {
    return this.redactor.redact(text);
  }

  /** The start of a device's answer for a message: redacted first, then cut (a cut through a secret would leave a piece no redaction finds). */
  excerpt(text: string, max = BODY_EXCERPT_MAX): string {
    return this.redact(text).slice(0, max);
  }

  /**
   * `data` (parsed from `text`) with every secret removed from every string in it. In an answer whose only JSON escape
   * is `\/` (PHP's json_encode writes every `/` so: `10.0.0.0\/24`), each string (keys too) is a piece of the text with
   * `\/` read as `/`: when that text holds no form of any secret, none of them does, and `data` is returned as it is —
   * a 50,000-entry alias is not copied string by string (issue 22). Any other answer is copied with each string redacted.
   */
  private redactedAnswer(text: string, data: unknown): unknown {
    if (this.redactor.size === 0) return data;
    const unescaped = text.includes("\\") ? text.replaceAll("\\/", "/") : text;
    if (!unescaped.includes("\\") && !this.redactor.finds(unescaped)) return data;
    return this.redactDeep(data);
  }

  private redactDeep(v: unknown): unknown {
    if (this.redactor.size === 0) return v;
    if (typeof v === "string") return this.redact(v);
    if (Array.isArray(v)) return v.map((x) => this.redactDeep(x));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [this.redact(k), this.redactDeep(x)]));
    return v;
  }

  private schemaError(req: TransportRequest, res: TransportResponse, what: string, cause: unknown): DeviceError {
    return new DeviceError({
      kind: "schema",
      operation: `${req.method} ${req.path}`,
      host: this.host,
      status: res.status,
      deviceMessage: `${what}: ${this.excerpt(res.text)}`,
      cause,
    });
  }

  private async once(req: TransportRequest): Promise<TransportResponse> {
    assertSafePath(req.path, `${req.method} on ${this.host}`);
    const gone = processState().engineGone;
    if (gone !== undefined && !isRestoring()) throw new FirewallGrantsError(`${req.method} ${req.path} on ${this.host}: not sent, ${gone}`);
    const qs = req.query ? `?${new URLSearchParams(req.query).toString()}` : "";
    const headers: Record<string, string> = { accept: "application/json", ...this.headers, ...req.headers };
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers["content-type"] = "application/json";
    }
    const started = Date.now();
    try {
      const res = await undici().request(`${this.origin}${req.path}${qs}`, {
        method: req.method,
        headers,
        body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(req.timeoutMs ?? this.timeoutMs),
      });
      const text = await res.body.text();
      debugLog(`${req.method} ${this.host}${req.path} -> ${res.statusCode} ${Date.now() - started}ms`);
      tracePhase("request", started);
      return { status: res.statusCode, headers: res.headers, text };
    } catch (cause) {
      const kind = classifyNetworkError(cause);
      debugLog(`${req.method} ${this.host}${req.path} -> ${kind} ${Date.now() - started}ms`);
      throw new TransportError({
        kind,
        method: req.method,
        path: req.path,
        host: this.host,
        maybeApplied: !req.idempotent && (kind === "reset" || kind === "timeout"),
        detail: kind === "timeout" ? `no answer within ${req.timeoutMs ?? this.timeoutMs} ms` : `${kind} (${codeOf(cause) ?? "network error"})`,
        cause: sanitizeCause(cause, this),
      });
    }
  }

  private backoffMs(attempt: number, retryAfter: string | string[] | undefined): number {
    const after = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    if (Number.isFinite(after) && after > 0) return Math.min(after * 1000, MAX_BACKOFF_MS);
    return Math.random() * Math.min(this.retryDelayMs * 2 ** attempt, MAX_BACKOFF_MS);
  }
}

/**
 * Applies a write that must not be blindly repeated. When the write fails ambiguously (reset,
 * timeout, 502/503/504), `isApplied` reads the device back: if the change is there, the write counts
 * as done; if not, it is sent again, at most `maxAttempts` times in all.
 */
export async function applyVerified<T>(
  write: () => Promise<T>,
  isApplied: () => Promise<boolean>,
  opts: { maxAttempts?: number; retryDelayMs?: number } = {},
): Promise<T | "verified"> {
  const maxAttempts = opts.maxAttempts ?? 6;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (e) {
      if (!isAmbiguousWriteFailure(e) || attempt >= maxAttempts) throw e;
      await sleep(Math.random() * Math.min((opts.retryDelayMs ?? 150) * 2 ** attempt, MAX_BACKOFF_MS));
      if (await isApplied()) return "verified";
    }
  }
}

/** True when a write may or may not have reached the device. */
export function isAmbiguousWriteFailure(e: unknown): boolean {
  const t = e as Partial<TransportError> | undefined;
  if (t?.name !== "TransportError") return false;
  return t.kind === "reset" || t.kind === "timeout" || (t.kind === "http" && t.status !== undefined && RETRY_STATUSES.has(t.status));
}

function agentFor(origin: string, tls: TlsOptions): Agent {
  const key = `${origin}|${tls.insecure === true}|${tls.caCert ? createHash("sha256").update(tls.caCert).digest("hex") : "-"}`;
  const agents = processState().agents;
  let agent = agents.get(key) as Agent | undefined;
  if (!agent) {
    agent = new (undici().Agent)({
      connections: 8,
      keepAliveTimeout: 10_000,
      connect: { rejectUnauthorized: tls.insecure !== true, ...(tls.caCert ? { ca: tls.caCert } : {}) },
    });
    agents.set(key, agent);
  }
  return agent;
}

/** Closes every pooled connection of this process (tests, CLI exit). */
export async function closeAllAgents(): Promise<void> {
  const agents = processState().agents;
  const all = [...agents.values()] as Agent[];
  agents.clear();
  await Promise.all(all.map((a) => a.close().catch(() => undefined)));
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|CERT_|HOSTNAME_MISMATCH)/;

function codeOf(e: unknown): string | undefined {
  for (let cur = e as { code?: unknown; cause?: unknown } | undefined, i = 0; cur && i < 5; cur = cur.cause as typeof cur, i++) {
    if (typeof cur.code === "string" && cur.code !== "UND_ERR_SOCKET") return cur.code;
  }
  return (e as { code?: unknown })?.code as string | undefined;
}

function classifyNetworkError(e: unknown): TransportErrorKind {
  const name = (e as { name?: unknown })?.name;
  if (name === "TimeoutError" || name === "AbortError") return "timeout";
  const code = codeOf(e) ?? "";
  if (TLS_CODES.test(code)) return "tls";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") return "dns";
  if (code === "ECONNREFUSED" || code === "EHOSTUNREACH" || code === "ENETUNREACH") return "refused";
  if (code.includes("TIMEOUT") || code === "ETIMEDOUT") return "timeout";
  return "reset";
}

/** Keeps the error code and message of a network failure but drops anything that could hold a secret. */
function sanitizeCause(cause: unknown, t: Transport): Error {
  const code = codeOf(cause);
  const message = cause instanceof Error ? t.redact(cause.message) : "network error";
  const err = new Error(message);
  if (code) (err as Error & { code?: string }).code = code;
  return err;
}

function debugLog(line: string): void {
  if (process.env.FIREWALL_GRANTS_DEBUG) process.stderr.write(`[firewall-grants] ${line}\n`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

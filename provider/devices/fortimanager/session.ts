/**
 * FortiManager authentication: an API key sent as `Authorization: Bearer` on every call (never in a
 * URL or body, reference §1: `?access_token` was removed in 7.4.7/7.6.2), or one login session per
 * device+user for the whole provider process, always logged out.
 *
 * Sessions pile up on the manager when clients forget to log out (TF-I7, login-max 32), and the
 * Pulumi engine ends a provider plugin right after its last operation: with SIGKILL and no graceful
 * hook on older CLIs (pkg/resource/plugin/plugin.go Close), with SIGINT then SIGKILL after 5 s on
 * newer ones. So a session lives as long as provider OPERATIONS (check's preflight, create, read,
 * delete) are in flight: each runs in `operation()`, overlapping operations share one session, and
 * the last one to finish awaits the logout before it returns its result, so the engine cannot end
 * the process before the logout was sent. Calls made outside any operation (direct library use)
 * fall back to a logout after `idleMs` without use; beforeExit/SIGINT/SIGTERM log out too.
 * An expired session (-11) gets one fresh login, then the answer stands.
 */
import { DeviceError } from "../../core/errors";
import { shared } from "../../core/process-state";
import { sleep, type Transport } from "../../core/transport";
import { rpc, type RpcCall, type RpcEnvelope, type RpcResult } from "./jsonrpc";

export const LOGIN_URL = "/sys/login/user";
export const LOGOUT_URL = "/sys/logout";
/** Idle time after which a session used outside any provider operation is logged out. @default 1500 */
export const DEFAULT_SESSION_IDLE_MS = 1_500;
const TOKEN_RETRY_DELAY_MS = 200;

export interface RpcAnswer {
  readonly result: RpcResult;
  readonly envelope: RpcEnvelope;
  readonly httpStatus: number;
  /** True when the call was repeated after a fresh login (session) or a short backoff (token). */
  readonly repeated: boolean;
}

export interface Authenticator {
  readonly mode: "token" | "session";
  /** Sends `call` authenticated; on -11 repeats it once (fresh login, or backoff for the token flake). */
  send(call: Omit<RpcCall, "session">): Promise<RpcAnswer>;
  /** Runs one provider operation; session auth logs out when the last operation in flight ends. */
  operation<T>(fn: () => Promise<T>): Promise<T>;
}

/** API-key auth: the transport carries the Bearer header; -11 is retried once after a short backoff (TF-I59, TF-I80). */
export class TokenAuth implements Authenticator {
  readonly mode = "token" as const;
  constructor(private readonly transport: Transport) {}
  operation<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }
  async send(call: Omit<RpcCall, "session">): Promise<RpcAnswer> {
    const first = await rpc(this.transport, call);
    if (first.result.status.code !== -11) return { ...first, repeated: false };
    await sleep(TOKEN_RETRY_DELAY_MS);
    return { ...(await rpc(this.transport, call)), repeated: true };
  }
}

/** A login session shared by every resource of the process that uses the same device and user. */
export class SessionAuth implements Authenticator {
  readonly mode = "session" as const;
  private sid: string | undefined;
  private pendingLogin: Promise<string> | undefined;
  /** Calls being sent right now. */
  private inFlight = 0;
  /** Provider operations in flight (see `operation`). */
  private operations = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly username: string,
    private readonly password: string,
    private readonly idleMs: number,
  ) {
    sessionRegistry().add(this);
    installExitHooks();
  }

  /** True while a session is open (for tests). */
  get loggedIn(): boolean {
    return this.sid !== undefined;
  }

  /** Provider operations in flight (for tests). */
  get operationsInFlight(): number {
    return this.operations;
  }

  /**
   * Runs one provider operation (check's preflight, create, read, delete) in this session's scope.
   * Overlapping operations share one login; the operation that leaves none in flight awaits the
   * logout before it returns (or throws), so a process killed right after the engine got the answer
   * leaves no session behind. An operation that sent nothing (cached preflight) logs nothing out.
   */
  async operation<T>(fn: () => Promise<T>): Promise<T> {
    this.operations++;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    try {
      return await fn();
    } finally {
      this.operations--;
      if (this.operations === 0) {
        // A call still in flight outside any operation (direct use) keeps the session: its end schedules the idle logout.
        if (this.inFlight === 0) await this.logout();
      }
    }
  }

  async send(call: Omit<RpcCall, "session">): Promise<RpcAnswer> {
    this.inFlight++;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    try {
      const sid = await this.acquire();
      const first = await rpc(this.transport, { ...call, session: sid });
      if (first.result.status.code !== -11) return { ...first, repeated: false };
      // Expired or invalid session: one fresh login shared by every caller that saw this sid fail.
      // The -11 may instead be a missing right on a live session, so the old one is logged out too
      // (logout of an expired session answers -11, which is harmless).
      if (this.sid === sid) {
        this.sid = undefined;
        await this.logoutSid(sid);
      }
      const fresh = await this.acquire();
      return { ...(await rpc(this.transport, { ...call, session: fresh })), repeated: true };
    } finally {
      this.inFlight--;
      // Inside an operation the last one to end logs out; the idle timer is the fallback for calls outside any.
      if (this.inFlight === 0 && this.operations === 0) this.scheduleIdleLogout();
    }
  }

  /** Logs out now, if logged in; never throws (a failed logout leaves a session the idle timeout ends). */
  async logout(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.closing) return this.closing;
    const pending = this.pendingLogin;
    this.closing = (async () => {
      // No await before taking the sid unless a login is pending: an operation starting meanwhile must not pick up the sid being logged out.
      if (pending) await pending.catch(() => undefined);
      const sid = this.sid;
      this.sid = undefined;
      if (sid === undefined) return;
      await this.logoutSid(sid);
    })();
    try {
      await this.closing;
    } finally {
      this.closing = undefined;
    }
  }

  /** Logout -11 means already logged out (TF-CLIENT logoutSession); failures are left to the idle timeout. */
  private async logoutSid(sid: string): Promise<void> {
    // Logging out twice is harmless (the second answers -11), so a logout is retried like a read:
    // dropping it on one 503 would leave the session open on the manager until it times out.
    await rpc(this.transport, { method: "exec", url: LOGOUT_URL, session: sid, idempotent: true }).catch(() => undefined);
  }

  private scheduleIdleLogout(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.logout(), this.idleMs);
    // Unref'd: the idle timer must not keep a finished process alive; beforeExit logs out instead.
    this.idleTimer.unref();
  }

  private acquire(): Promise<string> {
    if (this.sid !== undefined) return Promise.resolve(this.sid);
    if (!this.pendingLogin) {
      this.pendingLogin = (this.closing ?? Promise.resolve())
        .then(() => this.login())
        .finally(() => {
          this.pendingLogin = undefined;
        });
    }
    return this.pendingLogin;
  }

  /**
   * `exec /sys/login/user` (JPF-001). Not repeated on a reset: a repeated login could leave an
   * orphan session. Failures are DeviceErrors carrying the JSON-RPC code (-22, -11, -23).
   */
  private async login(): Promise<string> {
    const call = { method: "exec" as const, url: LOGIN_URL, data: { user: this.username, passwd: this.password }, idempotent: false };
    let answer: Awaited<ReturnType<typeof rpc>>;
    try {
      answer = await rpc(this.transport, call);
    } catch (e) {
      // A login answer that failed to parse could hold a session string: report it without the body.
      if ((e as { name?: string }).name === "DeviceError") {
        throw new DeviceError({
          kind: "schema",
          operation: `exec ${LOGIN_URL}`,
          host: this.transport.host,
          deviceMessage: "the login answer has an unexpected shape",
        });
      }
      throw e;
    }
    const { code, message } = answer.result.status;
    if (code === 0 && answer.envelope.session) {
      this.sid = answer.envelope.session;
      return this.sid;
    }
    throw new DeviceError({
      kind: code === 0 ? "schema" : "refused",
      operation: `exec ${LOGIN_URL}`,
      host: this.transport.host,
      status: answer.httpStatus,
      deviceCode: code,
      deviceMessage: code === 0 ? "login answered OK without a session" : message,
    });
  }
}

/** The session for this device+user, shared process-wide (on globalThis, SPEC §3). */
export function sharedSession(key: string, create: () => SessionAuth): SessionAuth {
  return shared(`fortimanager.session:${key}`, create);
}

function sessionRegistry(): Set<SessionAuth> {
  return shared("fortimanager.session-registry", () => new Set<SessionAuth>());
}

/** Logs out every FortiManager session of this process (explicit shutdown, tests). */
export async function closeFortimanagerSessions(): Promise<void> {
  await Promise.all([...sessionRegistry()].map((s) => s.logout()));
}

const HOOKS = Symbol.for("pulumi-firewall-grants.fortimanager.exit-hooks");

/** Once per process: log out on beforeExit, and on SIGINT/SIGTERM before exiting as the signal would. */
function installExitHooks(): void {
  const g = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (g[HOOKS]) return;
  g[HOOKS] = true;
  process.on("beforeExit", () => {
    // Runs again after the logouts settle; by then no session is open and nothing is scheduled.
    const open = [...sessionRegistry()].some((s) => s.loggedIn);
    if (open) void closeFortimanagerSessions();
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const onSignal = () => {
      const exitCode = signal === "SIGINT" ? 130 : 143;
      const timeout = setTimeout(() => process.exit(exitCode), 2_000);
      void closeFortimanagerSessions().finally(() => {
        clearTimeout(timeout);
        // Keep the default behaviour (exit) unless someone else also handles the signal.
        if (process.listenerCount(signal) <= 1) process.exit(exitCode);
      });
    };
    process.on(signal, onSignal);
  }
}

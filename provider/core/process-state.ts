/**
 * State shared by every copy of this library inside one process. The Pulumi engine runs up to
 * `--parallel` operations at once in one provider process and may load the library more than once
 * (one copy per serialised provider text, docs/reference/pulumi.md §1.1, §5 item 8), so pools,
 * probe caches and per-object queues live on `globalThis`, not in module scope.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";

interface ProcessState {
  /** undici Agents keyed by origin + TLS settings (transport.ts). */
  readonly agents: Map<string, unknown>;
  /** Preflight outcomes keyed by device + credential hash + target (one probe set per process). */
  readonly probes: Map<string, Promise<unknown>>;
  /** Tails of the per-key serial queues (see {@link runQueued}). */
  readonly queues: Map<string, Promise<unknown>>;
  /** Device-specific shared objects (batchers, sessions), keyed by their module. */
  readonly shared: Map<string, unknown>;
  /** Stack config handed to the provider's `configure`, as `namespace:key` → value. */
  config: Record<string, string>;
  /**
   * Set when the Pulumi engine that started this provider process is gone (dynamic-kit.ts
   * `watchEngine`): the transport then sends no further request, since no state would record its effect.
   */
  engineGone?: string | undefined;
  /** Work the process finishes before it exits when the engine is gone ({@link awaitedAtExit}, {@link restoring}). */
  readonly restoring: Set<Promise<unknown>>;
  readonly restoringContext: AsyncLocalStorage<true>;
}

const KEY = Symbol.for("pulumi-firewall-grants.process-state.v1");

export function processState(): ProcessState {
  const g = globalThis as unknown as Record<symbol, ProcessState | undefined>;
  let s = g[KEY];
  if (!s) {
    s = {
      agents: new Map(),
      probes: new Map(),
      queues: new Map(),
      shared: new Map(),
      config: {},
      restoring: new Set(),
      restoringContext: new AsyncLocalStorage<true>(),
    };
    g[KEY] = s;
  }
  return s;
}

/** A one-way digest for cache keys, so that no credential is held as a map key. */
export function fingerprint(...parts: readonly (string | undefined)[]): string {
  return createHash("sha256")
    .update(parts.map((p) => p ?? "").join("\u0000"))
    .digest("hex")
    .slice(0, 24);
}

/**
 * Runs the probe once per `key` for the life of the process; concurrent callers share it. Only a
 * success or a diagnosed failure is kept: an unexpected crash is forgotten so that the next call
 * probes again.
 */
export function cachedProbe<T = void>(key: string, probe: () => Promise<T>): Promise<T> {
  const probes = processState().probes;
  let p = probes.get(key) as Promise<T> | undefined;
  if (!p) {
    p = probe();
    probes.set(key, p);
    p.catch((e: unknown) => {
      if ((e as { name?: string })?.name !== "GrantError") probes.delete(key);
    });
  }
  return p;
}

/** Runs `fn` after every earlier call with the same key has settled (a per-object queue). */
export function runQueued<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const queues = processState().queues;
  const prev = queues.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return run;
}

/** Gets or creates a process-wide shared object. */
export function shared<T>(key: string, create: () => T): T {
  const m = processState().shared;
  if (!m.has(key)) m.set(key, create());
  return m.get(key) as T;
}

/**
 * Runs `fn` as work that puts the target back to what the engine's state says (a failed set change
 * taking back what it added). Its requests are still sent after the engine is gone — they leave the
 * device as the kept state declares it — and the process waits for it before exiting (dynamic-kit.ts
 * `watchEngine`).
 */
export function restoring<T>(fn: () => Promise<T>): Promise<T> {
  return awaitedAtExit(() => processState().restoringContext.run(true, fn));
}

/**
 * Runs `fn` as work the process finishes before it exits once the engine is gone: a set change, which
 * then fails at its next request and takes back what it added (set-lifecycle.ts).
 */
export function awaitedAtExit<T>(fn: () => Promise<T>): Promise<T> {
  const s = processState();
  const p = fn();
  const tracked = p.then(
    () => undefined,
    () => undefined,
  );
  s.restoring.add(tracked);
  void tracked.then(() => s.restoring.delete(tracked));
  return p;
}

/** True inside {@link restoring}. */
export function isRestoring(): boolean {
  return processState().restoringContext.getStore() === true;
}

/** Forgets probe results and shared objects (tests that change a device's users between runs). */
export function resetProcessState(): void {
  const s = processState();
  s.probes.clear();
  s.queues.clear();
  s.shared.clear();
  s.config = {};
  s.engineGone = undefined;
}

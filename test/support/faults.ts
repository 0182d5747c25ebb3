/**
 * Shared pieces of the fault suites (test/faults/*): the standard flaky-network plan, a worker pool
 * that runs grants the way the engine does with `--parallel`, and a summary of what the emulator saw.
 */
import type { FaultPlan, LoggedRequest, RequestLog } from "../../emulators/kit";

/** Client timeout for fault runs: far below the stall, so every stall is a client-side timeout. */
export const FAULT_TIMEOUT_MS = 1_200;
/** How long a stalled request is held by the emulator before the device applies it. */
export const STALL_MS = 2_000;

/**
 * About 10% of requests fail transiently — 502, 503, a connection dropped before the device saw the
 * request, or one dropped after it applied it (the answer is lost) — and about 1.5% stall for 2 s
 * beyond the client timeout. Seeded (FaultPlan), so every run sees the same faults.
 */
export function flakyNetwork(faults: FaultPlan, opts: { match?: string | RegExp; seed?: number } = {}): void {
  const m = opts.match === undefined ? {} : { match: opts.match };
  faults.setSeed(opts.seed ?? 6);
  faults
    .add({ ...m, kind: "status", status: 502, probability: 0.03 })
    .add({ ...m, kind: "status", status: 503, probability: 0.03 })
    .add({ ...m, kind: "reset", phase: "before", probability: 0.02 })
    .add({ ...m, kind: "reset", phase: "after", probability: 0.02 })
    .add({ ...m, kind: "latency", ms: STALL_MS, probability: 0.015 });
}

/** Runs `fn` over `items` with at most `limit` at once (the engine's `--parallel`), keeping order. */
export async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Stalled requests are applied by the device after the client gave up: wait until they have landed. */
export function drainStalls(): Promise<void> {
  return new Promise((r) => setTimeout(r, STALL_MS + 300));
}

export interface FaultSummary {
  requests: number;
  faulted: number;
  byFault: Record<string, number>;
  sideEffects: number;
}

export function summarize(entries: readonly LoggedRequest[]): FaultSummary {
  const byFault: Record<string, number> = {};
  for (const e of entries) if (e.fault) byFault[e.fault] = (byFault[e.fault] ?? 0) + 1;
  return { requests: entries.length, faulted: entries.filter((e) => e.fault).length, byFault, sideEffects: entries.filter((e) => e.sideEffect).length };
}

/** Requests that reached the device and changed it, on routes containing `route`. */
export function appliedWrites(log: RequestLog, route: string | RegExp): LoggedRequest[] {
  const hit = (e: LoggedRequest) => {
    const key = `${e.route ?? ""} ${e.method} ${e.path}`;
    return typeof route === "string" ? key.includes(route) : route.test(key);
  };
  return log.entries().filter((e) => e.sideEffect && hit(e));
}

/** Applied writes the client could not see succeed because they stalled past its timeout. */
export const stalled = (writes: readonly LoggedRequest[]) => writes.filter((e) => e.fault?.startsWith("latency")).length;

/**
 * The bench's phase trace (`npm run bench -- --rows phases`, BENCHMARKS.md "Fixed cost of a run"): when
 * the environment names a file in FIREWALL_GRANTS_BENCH_TRACE, each process that loads the library appends
 * one JSON line per event — its pid, its role (program or provider host), when the process started and the
 * event's start and end in epoch milliseconds — so the bench can lay a one-grant `up` out as a timeline
 * across the CLI's processes. Without the variable every call returns at once: nothing is written, nothing
 * is kept, and no user-visible behaviour depends on it. Device-free; no import beyond node:fs.
 * Events: `register` (the program's first resource), `library-loaded` (a device module the root loads on
 * first use is in: in the provider host, the served device — provider/index.ts), `preflight`, `request`.
 */
import { appendFileSync } from "node:fs";

/** The environment variable naming the trace file (the bench sets it; nobody else should). */
export const PHASE_TRACE_ENV = "FIREWALL_GRANTS_BENCH_TRACE";

let file: string | undefined | null = null;

function traceFile(): string | undefined {
  // Read once: the value cannot change under a running provider, and the check stays one comparison.
  if (file === null) file = process.env[PHASE_TRACE_ENV] || undefined;
  return file;
}

/** The process's role, from how it was started: the engine's dynamic-provider host, or the program (anything else). */
function role(): "provider" | "program" {
  return /[\\/]cmd[\\/]dynamic-provider[\\/]/.test(require.main?.filename ?? process.argv[1] ?? "") ? "provider" : "program";
}

/**
 * Records that `event` happened now, or ran from `startedAt` (epoch ms) until now. A failed write is
 * ignored: the trace is a measurement aid and must never fail a grant.
 */
export function tracePhase(event: string, startedAt?: number): void {
  const target = traceFile();
  if (target === undefined) return;
  // Date.now(), the clock callers take `startedAt` from: timeOrigin + performance.now() drifts from it by
  // milliseconds within seconds, and a span then ended before it started.
  const now = Date.now();
  const line = { pid: process.pid, role: role(), origin: performance.timeOrigin, event, start: startedAt ?? now, end: now };
  try {
    appendFileSync(target, `${JSON.stringify(line)}\n`);
  } catch {
    /* the bench reports a missing phase; the grant goes on */
  }
}

/** For tests: forget the cached file name so a changed environment is read again. */
export function resetPhaseTrace(): void {
  file = null;
}

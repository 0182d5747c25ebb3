/**
 * Time-boxed grants (issue 14): every grant takes an `expiresAt`. A grant whose time has passed shows as
 * a change in the next `preview --refresh --expect-no-changes` (exit 7) and is revoked by the next `up`,
 * which keeps it in state as `expired: true` (so a later preview is clean and the engine does not try to
 * create it again). Creating a grant that is already expired is refused at `check`. So a grant past its time
 * whose entry is already gone (a hand edit, a reboot before the revoking `up`) must stay in state as expired:
 * dropped from state, the next check would refuse it forever (grant-lifecycle.ts `read`).
 * The clock is injectable for tests only: `FIREWALL_GRANTS_TEST_NOW` (an ISO 8601 time) in the environment
 * of the provider process, honoured only inside a test run (`JEST_WORKER_ID` set or `NODE_ENV=test`), or
 * {@link setClock} inside one process. In a real run a test clock would silently stop every grant from
 * expiring, so there it is ignored with a loud warning (and the old name `FIREWALL_GRANTS_NOW` too).
 */
import { z } from "zod";
import { shared } from "./process-state";

/** ISO 8601 with a date, a time and a zone (`2026-12-01T18:00:00Z`, `…+01:00`): a local time is ambiguous. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

export const expiresAtField = z
  .string()
  .regex(ISO_WITH_ZONE, "must be an ISO 8601 time with a zone, e.g. 2026-12-01T18:00:00Z")
  .refine((v) => Number.isFinite(Date.parse(v)) && calendarDayExists(v), "is not a valid date")
  .optional();

/** `Date.parse` rolls 2026-02-30 over into March: the written year-month-day must exist as written. */
function calendarDayExists(v: string): boolean {
  const [y, m, d] = v.slice(0, 10).split("-").map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

const clock = () => shared("time-box.clock", () => ({ now: undefined as (() => number) | undefined }));

/** Replaces the clock of this process (tests); `undefined` restores the real one. */
export function setClock(now: (() => number) | undefined): void {
  clock().now = now;
}

/** The environment variable of the test clock; its name says it is for tests. */
export const TEST_CLOCK_ENV = "FIREWALL_GRANTS_TEST_NOW";
/** The name the test clock had before issue 18: honoured nowhere, warned about wherever it is set. */
const OLD_CLOCK_ENV = "FIREWALL_GRANTS_NOW";

/** True inside a test run: the only place a test clock from the environment is honoured. */
export function inTestRun(): boolean {
  return process.env.JEST_WORKER_ID !== undefined || process.env.NODE_ENV === "test";
}

/** Milliseconds since the epoch, from the injected clock, `FIREWALL_GRANTS_TEST_NOW` (tests only), or the system. */
export function nowMs(): number {
  const injected = clock().now;
  if (injected) return injected();
  const env = process.env[TEST_CLOCK_ENV];
  if (env || process.env[OLD_CLOCK_ENV]) {
    if (!env || !inTestRun()) refuseTestClock();
    else {
      const t = Date.parse(env);
      if (Number.isFinite(t)) return t;
    }
  }
  return Date.now();
}

/** Says once per process, on stderr (which reaches the CLI output), that a test clock in the environment is ignored. */
function refuseTestClock(): void {
  const said = shared("time-box.refused", () => ({ done: false }));
  if (said.done) return;
  said.done = true;
  const names = [TEST_CLOCK_ENV, OLD_CLOCK_ENV].filter((n) => process.env[n]).join(" and ");
  process.stderr.write(
    `warning: ${names} is set and IGNORED: expiry uses the system clock. Only ${TEST_CLOCK_ENV}, and only in a ` +
      `test run (JEST_WORKER_ID set or NODE_ENV=test), sets the clock of grants; unset ${names}.\n`,
  );
}

/** True when `expiresAt` is given and has passed. */
export function isDue(expiresAt: unknown): boolean {
  return typeof expiresAt === "string" && Date.parse(expiresAt) <= nowMs();
}

/** The check failure text for a new grant that has already expired. */
export function alreadyExpired(expiresAt: string): string {
  return `expiresAt: ${expiresAt} has already passed (now ${new Date(nowMs()).toISOString()}); a new grant must expire in the future`;
}

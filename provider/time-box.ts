/**
 * Time-boxed grants (issue 14): every grant takes an `expiresAt`. A grant whose time has passed shows as
 * a change in the next `preview --refresh --expect-no-changes` (exit 7) and is revoked by the next `up`,
 * which keeps it in state as `expired: true` (so a later preview is clean and the engine does not try to
 * create it again). Creating a grant that is already expired is refused at `check`.
 * The clock is injectable for tests: `FIREWALL_GRANTS_NOW` (an ISO 8601 time) in the environment of the
 * provider process, or {@link setClock} inside one process.
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

/** Milliseconds since the epoch, from the injected clock, `FIREWALL_GRANTS_NOW`, or the system. */
export function nowMs(): number {
  const injected = clock().now;
  if (injected) return injected();
  const env = process.env.FIREWALL_GRANTS_NOW;
  const t = env ? Date.parse(env) : NaN;
  return Number.isFinite(t) ? t : Date.now();
}

/** True when `expiresAt` is given and has passed. */
export function isDue(expiresAt: unknown): boolean {
  return typeof expiresAt === "string" && Date.parse(expiresAt) <= nowMs();
}

/** The check failure text for a new grant that has already expired. */
export function alreadyExpired(expiresAt: string): string {
  return `expiresAt: ${expiresAt} has already passed (now ${new Date(nowMs()).toISOString()}); a new grant must expire in the future`;
}

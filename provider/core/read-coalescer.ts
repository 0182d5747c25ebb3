/**
 * Coalesced device reads, shared by every device (issue 6, benchmark floors). The engine runs up to
 * `--parallel` operations at once in one provider process; when each of N grants on one alias, group
 * or administrator reads that whole object, N reads of the same thing cost N requests. Here callers
 * with the same key share one read:
 *
 * - A read in flight, or a settled one of the same purpose that started at most `maxAgeMs` ago
 *   (a refresh reuses another refresh's read, never a create's), is reused, but only when it
 *   started at or after the caller's `notBefore` — the moment the caller's own last write to the
 *   object was answered (see {@link noteWrite}/{@link lastWrite}). So a read never hides a write this
 *   process made for that caller: a verify-after-write always sees the write, and a create that
 *   follows a delete of the same address never reuses a read from before the delete.
 * - Otherwise the caller joins the next read, which starts `windowMs` after the first caller asked
 *   for it, so that callers finishing their writes at about the same time verify with one request.
 *
 * With the default `maxAgeMs` of 0 a caller only joins a read that is in flight or about to start,
 * so it sees every change made before that read reached the device — as with a read of its own.
 * Failures are never reused: every caller waiting on a failed read gets the error, and the next
 * caller starts a new read. State lives on `globalThis` (process-state `shared`), so every copy of the
 * library in the provider process shares it, and `resetProcessState()` clears it.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { shared } from "./process-state";

export interface CoalesceOptions {
  /** Reuse only a read that started at or after this time (`now()` clock). @default 0 */
  readonly notBefore?: number | undefined;
  /**
   * What the caller reads for: a settled read is reused only by callers with the same purpose (a
   * refresh reuses another refresh's read, never the verify read of a create). In-flight reads are
   * shared across purposes. @default "read"
   */
  readonly purpose?: string | undefined;
  /** Reuse a settled read (of the same purpose) this long after it started; 0 shares in-flight reads only. @default {@link DEFAULT_MAX_AGE_MS} */
  readonly maxAgeMs?: number | undefined;
  /** When a new read is needed, wait this long for others to join before sending it. @default {@link DEFAULT_WINDOW_MS} */
  readonly windowMs?: number | undefined;
  /**
   * A burst window ({@link BurstWindow}): the read waits while callers keep joining, at the pace they
   * arrive, up to a bounded delay. For reads that confirm writes: one read after a burst of writes
   * proves all of them. @default none (a fixed `windowMs`)
   */
  readonly burst?: BurstWindow | undefined;
  /**
   * The read starts no earlier than this moment (`now()` clock), whatever the window says: for a read that
   * must come after a wait the caller chose (the settle after writes it confirms). A caller that passes it
   * and finds a read pending joins it and raises its start to this moment; such a caller is not an arrival
   * of a burst (it learns no pace and does not extend the wait), since it is a step of an operation already
   * counted, not a new one. @default none
   */
  readonly startAt?: number | undefined;
}

/**
 * How a read waits for a burst of callers (the verify read after writes). The engine hands operations
 * over as earlier ones finish and as it saves its checkpoint after each step, so through `pulumi up`
 * creates arrive one by one, tens to hundreds of ms apart: a fixed 40 ms window catches one or two
 * (2.79 requests per grant at N=1,000). The read still starts only after the writes it confirms were
 * answered (`notBefore`, as before), but its start moves while callers keep joining:
 * - it starts `idle` after the last caller joined, `idle` = {@link BURST_PACE_FACTOR} × the pace at which
 *   callers of this key have been joining (a smoothed mean of the gaps), never below `windowMs`;
 * - at once when as many operations wait (for burst reads, or in a wait the provider chose such as a
 *   settle, {@link waitingOn}) as ever ran at once in this process (the engine's `--parallel`, as seen
 *   through {@link trackedOperation}): nobody else can arrive before one of them is answered;
 * - and at the latest {@link BURST_MAX_PACES} usual gaps (at least 1 s, at most `maxDelayMs`) after the first caller joined.
 * A lone grant (no pace known yet), and every caller while the process never ran two operations at
 * once (direct library use, one call after the other), waits `windowMs` as before. The wait costs the engine nothing while
 * its other workers are busy saving the checkpoint, which is what spreads the operations out.
 */
export interface BurstWindow {
  /** The longest any burst read waits; a pause between callers this long ends a burst. @default {@link DEFAULT_BURST_MAX_MS} */
  readonly maxDelayMs?: number | undefined;
  /**
   * Learn and use the pace of arrivals under this key instead of the read's own: reads of many objects fed
   * by one stream of operations (a round per FortiManager administrator, all handed over by one engine)
   * share that stream's pace, so the first read of an object already waits for the burst. @default the read's key
   */
  readonly paceKey?: string | undefined;
}

/**
 * The longest a burst read waits after its first caller joined. Within that, a read waits at most
 * {@link BURST_MAX_PACES} of the usual gaps between callers (at least {@link BURST_MIN_MAX_MS}): with the
 * engine's 8 workers and its checkpoint saves one after the other, up to about 7 operations may wait
 * while the others keep the saves busy, so the run takes no longer (measured through `pulumi up` at
 * N=500 on a loaded 2-core machine: a step every ~0.6 s, where a fixed 1 s cap shared a read among ~3).
 */
export const DEFAULT_BURST_MAX_MS = 4_000;
export const BURST_MAX_PACES = 6;
export const BURST_MIN_MAX_MS = 1_000;
/** A burst read starts when no caller joined for this many times the usual gap between callers. */
export const BURST_PACE_FACTOR = 3;

/**
 * How long a settled read may serve later callers: 0, so only reads in flight (or about to start) are
 * shared. A longer reuse would hide a hand edit made between two reads of one process (a drift test
 * edits the device and refreshes at once); callers may opt in per read.
 */
export const DEFAULT_MAX_AGE_MS = 0;
/**
 * How long a new read waits for other callers. The engine hands out operations staggered, as earlier
 * ones finish, so a wider window lets more of them share one read: measured through `pulumi up` of 100
 * table-mode grants, 3 ms → 2.37 requests per grant, 20 ms → 1.56, 40 ms → 1.37, at no cost in the
 * run's wall time (BENCHMARKS.md).
 */
export const DEFAULT_WINDOW_MS = 40;

interface Started<T> {
  readonly startedAt: number;
  readonly purpose: string;
  readonly promise: Promise<T>;
  settled: boolean;
  failed: boolean;
}

interface Pending<T> {
  readonly promise: Promise<T>;
  /** Burst reads: when the first caller asked, how many wait, the timer and how to move it. */
  readonly burst?: BurstState | undefined;
  /** The earliest start ({@link CoalesceOptions.startAt}), raised by the callers that join. */
  readonly gate: Gate;
}

/** When a pending read may start, and its timer. */
interface Gate {
  floor: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** (Re)arms the timer to start the read `ms` from now, never before `floor`. */
  readonly arm: (ms: number) => void;
}

/** One provider operation ({@link trackedOperation}): how many waits it is in (an operation waiting on two reads counts once). */
interface Op {
  waits: number;
}

interface BurstState {
  /** The operations of the callers (undefined: a caller outside any tracked operation). */
  readonly waiters: (Op | undefined)[];
  readonly firstAt: number;
  readonly maxDelayMs: number;
  /** The burst option's cap (the pause that ends a burst). */
  readonly cap: number;
  readonly windowMs: number;
  lastJoinAt: number;
  callers: number;
  readonly gate: Gate;
  /** Where the pace of arrivals is learnt ({@link BurstWindow.paceKey}). */
  readonly paceSlot: Slot;
  readonly start: () => void;
}

interface Slot {
  latest?: Started<unknown> | undefined;
  next?: Pending<unknown> | undefined;
  /** Requests actually sent for this key (tests and the benchmark). */
  reads: number;
  /** Burst reads: the smoothed gap between callers arriving (ms), and the last arrival. */
  pace?: number | undefined;
  lastArrival?: number | undefined;
}

interface CoalescerState {
  /** Provider operations running now, and the most that ever ran at once (the engine's parallelism, as seen). */
  readonly ops: { inFlight: number; peak: number; waiting: number };
  /** Burst reads not yet started (any key). */
  readonly bursts: Set<BurstState>;
  readonly slots: Map<string, Slot>;
  /** `key\u0000item` → when the last write of `item` under `key` was answered. */
  readonly writes: Map<string, number>;
}

/** A monotonic clock in ms. */
export const now = (): number => performance.now();

/** The operation the current async context belongs to (shared by every copy of the library, like the state). */
const currentOp = () => shared("read-coalescer.op-context", () => new AsyncLocalStorage<Op>());

/** The current operation starts waiting; returns what {@link waitEnd} needs. */
function waitBegin(): Op | undefined {
  const op = currentOp().getStore();
  if (!op || op.waits++ === 0) state().ops.waiting++;
  return op;
}

function waitEnd(op: Op | undefined): void {
  if (!op || --op.waits === 0) state().ops.waiting--;
}

function state(): CoalescerState {
  return shared("read-coalescer.v2", () => ({
    ops: { inFlight: 0, peak: 0, waiting: 0 },
    bursts: new Set<BurstState>(),
    slots: new Map<string, Slot>(),
    writes: new Map<string, number>(),
  }));
}

function slotFor(key: string): Slot {
  const slots = state().slots;
  let s = slots.get(key);
  if (!s) {
    s = { reads: 0 };
    slots.set(key, s);
  }
  return s;
}

/**
 * Reads `key` with `read`, sharing the request with concurrent callers (see the module comment).
 * `read` must be side-effect free and answer the same for every caller of `key` (so the key must
 * include device, credential and object).
 */
export function coalescedRead<T>(key: string, read: () => Promise<T>, opts: CoalesceOptions = {}): Promise<T> {
  const slot = slotFor(key);
  const notBefore = opts.notBefore ?? 0;
  const maxAge = opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const purpose = opts.purpose ?? "read";
  const latest = slot.latest as Started<T> | undefined;
  const fresh = (r: Started<T>) => !r.settled || (r.purpose === purpose && now() - r.startedAt <= maxAge);
  if (latest && !latest.failed && latest.startedAt >= notBefore && fresh(latest)) return latest.promise;
  if (slot.next) {
    if (opts.startAt !== undefined) {
      const { gate, burst: b } = slot.next;
      if (opts.startAt > gate.floor) {
        gate.floor = opts.startAt;
        gate.arm(gate.floor - now());
      }
      // Counted as waiting (so that every operation waiting still starts what can start), not as an arrival.
      if (b) {
        b.waiters.push(waitBegin());
        startIfAllWait();
      }
    } else if (slot.next.burst) joinBurst(slot.next.burst);
    return slot.next.promise as Promise<T>;
  }
  const windowMs = opts.windowMs ?? DEFAULT_WINDOW_MS;
  let burst: BurstState | undefined;
  let begun = false;
  const gate: Gate = {
    floor: opts.startAt ?? 0,
    timer: undefined,
    arm: (ms) => {
      if (begun) return;
      if (gate.timer !== undefined) clearTimeout(gate.timer);
      gate.timer = setTimeout(start, Math.max(0, ms, gate.floor - now()));
    },
  };
  let start: () => void = () => undefined;
  const promise = new Promise<T>((resolve, reject) => {
    start = () => {
      if (begun) return;
      // Too early (every operation waits, or a caller raised the floor since the timer was set): at the floor then.
      if (gate.floor > now()) {
        gate.arm(0);
        return;
      }
      begun = true;
      if (gate.timer !== undefined) clearTimeout(gate.timer);
      if (burst) {
        state().bursts.delete(burst);
        for (const op of burst.waiters) waitEnd(op);
      }
      if (slot.next?.promise === promise) slot.next = undefined;
      slot.reads++;
      const started: Started<T> = { startedAt: now(), purpose, promise, settled: false, failed: false };
      slot.latest = started as Started<unknown>;
      read().then(
        (v) => {
          started.settled = true;
          resolve(v);
        },
        (e: unknown) => {
          started.settled = true;
          started.failed = true;
          if (slot.latest === (started as Started<unknown>)) slot.latest = undefined;
          reject(e);
        },
      );
    };
    if (opts.burst) {
      const t = now();
      const cap = opts.burst.maxDelayMs ?? DEFAULT_BURST_MAX_MS;
      const paceSlot = opts.burst.paceKey !== undefined ? slotFor(opts.burst.paceKey) : slot;
      // A caller with `startAt` is a later step of a counted operation, not an arrival: it learns no pace.
      if (opts.startAt === undefined) notePace(paceSlot, t, cap);
      const maxDelayMs = Math.min(cap, Math.max(BURST_MIN_MAX_MS, BURST_MAX_PACES * (paceOf(paceSlot) ?? 0)));
      burst = { waiters: [waitBegin()], firstAt: t, lastJoinAt: t, callers: 1, maxDelayMs, cap, windowMs, gate, paceSlot, start };
      gate.arm(Math.min(maxDelayMs, idleFor(paceSlot, windowMs)));
      state().bursts.add(burst);
    } else if (windowMs > 0 || gate.floor > now()) gate.arm(windowMs);
    else queueMicrotask(start);
  });
  slot.next = { promise, burst, gate };
  if (burst) startIfAllWait();
  return promise;
}

/**
 * The gaps between burst callers of a key, joined or not. A pause longer than the longest wait ends the
 * burst: the next caller starts with no pace (the fixed window), so sparse operations never wait.
 */
function notePace(slot: Slot, t: number, maxDelayMs: number): void {
  const gap = slot.lastArrival === undefined ? Infinity : t - slot.lastArrival;
  if (gap >= maxDelayMs) slot.pace = undefined;
  else slot.pace = slot.pace === undefined ? gap : 0.7 * slot.pace + 0.3 * gap;
  slot.lastArrival = t;
}

/**
 * The gap a burst read paces itself by, or undefined (the fixed window) while this process has never
 * run two operations at once ({@link trackedOperation}): direct library calls, or an engine at
 * `--parallel 1`, make their calls one after the other, so the next caller of a key is the same
 * sequence's next step, which cannot come while this read waits. Pacing them made a lone grant wait
 * seconds for nobody (and outlive a FortiManager session's idle logout: a logout and a login more).
 */
const paceOf = (slot: Slot): number | undefined => (state().ops.peak >= 2 ? slot.pace : undefined);

/** How long a burst read waits after its last caller: a few of the usual gaps, never less than the fixed window. */
const idleFor = (slot: Slot, windowMs: number) => Math.max(windowMs, BURST_PACE_FACTOR * (paceOf(slot) ?? 0));

/** A caller joins a burst read that has not started: learn the pace, then start it now or move its start. */
function joinBurst(b: BurstState): void {
  const t = now();
  notePace(b.paceSlot, t, b.cap);
  b.lastJoinAt = t;
  b.callers++;
  b.waiters.push(waitBegin());
  if (startIfAllWait()) return;
  const at = Math.min(b.firstAt + b.maxDelayMs, t + idleFor(b.paceSlot, b.windowMs));
  b.gate.arm(at - t);
}

/**
 * Every operation the engine gave us at once (the most ever in flight) waits — for a burst read or a
 * wait the provider chose ({@link waitingOn}): nobody can join a burst read before one of them is
 * answered, so every pending one starts now. True when it started them.
 */
function startIfAllWait(): boolean {
  const { ops, bursts } = state();
  if (ops.peak < 2 || ops.waiting < ops.peak || bursts.size === 0) return false;
  for (const b of [...bursts]) queueMicrotask(b.start);
  return true;
}

/** Awaits `p`, a wait the provider chose (a settle before a confirming read), counted as waiting for {@link startIfAllWait}. */
export async function waitingOn<T>(p: Promise<T>): Promise<T> {
  const op = waitBegin();
  startIfAllWait();
  try {
    return await p;
  } finally {
    waitEnd(op);
  }
}

/**
 * Runs one provider operation (create, read, update, delete), counted so that a burst read starts as soon
 * as every operation in flight waits for it ({@link BurstWindow}).
 */
export async function trackedOperation<T>(fn: () => Promise<T>): Promise<T> {
  const ops = state().ops;
  ops.inFlight++;
  ops.peak = Math.max(ops.peak, ops.inFlight);
  try {
    return await currentOp().run({ waits: 0 }, fn);
  } finally {
    ops.inFlight--;
  }
}

/** Records that a write of `item` under `key` was just answered (call it after the write settles, success or not). */
export function noteWrite(key: string, item: string): number {
  const t = now();
  state().writes.set(`${key}\u0000${item}`, t);
  return t;
}

/** When this process last wrote `item` under `key` (0: never): the `notBefore` for reads about it. */
export function lastWrite(key: string, item: string): number {
  return state().writes.get(`${key}\u0000${item}`) ?? 0;
}

/** Runs `write`, then records it with {@link noteWrite} whether it succeeded or not (an ambiguous failure may have been applied). */
export async function recordedWrite<T>(key: string, item: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } finally {
    noteWrite(key, item);
  }
}

/** How many reads were actually sent for `key` (tests). */
export function readsSent(key: string): number {
  return state().slots.get(key)?.reads ?? 0;
}

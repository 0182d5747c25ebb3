/**
 * Config-mode writes, per alias, and the per-alias lock that keeps table-mode writes out of a
 * config-mode read-modify-write.
 *
 * Batching: adds and removes that arrive together (Pulumi runs up to `--parallel` grants at once in
 * one provider process) are merged into ONE get_item + set_item, and each batch ends with ONE
 * reconfigure. The batchers live on `globalThis` (process-state `shared`) so every copy of the library
 * uses the same.
 *
 * Why more is needed: set_item replaces the WHOLE content and has no version check or ETag
 * (opnsense/core Base/ApiMutableModelControllerBase.php `setBase`, read at 26.7.2; reference §3
 * "Atomicity"), and OPNsense offers no lock object an API client could take. A second process (another
 * stack, another CI job) that read the content before our write and writes after it drops our adds and
 * resurrects our removes — measured before this design with test/opnsense/cross-process.test.ts: 10 of
 * 20 grants lost and the revoked address back in 3 of 5 trials, every run reporting success.
 *
 * Protection (verify after write, and repair), with its guarantee:
 * 1. Bounded read→write window: a batch sends its set_item at most `window` after the get_item it is
 *    based on started, or not at all: an older read is repeated, at most `readAttempts` times, and then
 *    the batch fails loudly (OPN002) — it never writes on a stale read. The window is the larger of
 *    (a) `windowMs` plus `windowMsPerLine` per content line (a 50,000-line alias whose read alone takes
 *        a second is still writable), and
 *    (b) the settle floor `settleMs` less this process's write allowance: twice the slowest answer
 *        it measured on this path — get_item, set_item and reconfigure alike — at least twice
 *        `writeFloorMs`. A path slow to answer a read is slow to carry a write: red team rt2 measured
 *        a slow reader whose allowance came from a fast reload only, and its late-landing writes lost
 *        the fast peer's verified grants (test/redteam/rt2-config-late-landing.test.ts). So (b) widens
 *        the window only for our own processing (a large alias), never for a slow round trip: a
 *        firewall whose get_item takes longer than (a) fails OPN002, loudly — a window grown from our
 *        own read latency could not be covered by a peer's settle (another CI job on another network
 *        path measures its own). Such a firewall takes method "table". See "Proof" below. The transport sends no retry of that set_item after the window either
 *    (`notAfter`): a retry of a lost answer re-reads instead.
 * 2. After set_item + reconfigure, the batch's ops wait until `settle` after the write was answered:
 *    the window plus twice the slowest set_item answer seen lately (a peer's write takes as long to
 *    land as ours), never less than `settleMs`. Any write by another writer based on a read taken
 *    before our write landed was sent within its own window, so it has landed by then. Then the
 *    content is read again and EVERY op is checked: adds present, removes absent. Batches whose
 *    settle has passed share one verifying read (and a batch's own get_item verifies earlier
 *    batches whose settle had passed when it started), so a burst pays the read once.
 * 3. A violated op is queued again: it is merged into the next batch against fresh content (so the
 *    other writer's changes are kept), written, reconfigured and verified again — after a random
 *    backoff that grows per round, so two repairing processes fall out of step. After `maxRounds` it
 *    fails loudly (OPN102 for an add, OPN103 for a remove): success is never reported unless the read
 *    after the settle showed the device holding (or not holding) the address.
 * 4. Every batch ends with a reconfigure, even when the content already matched: a run that died
 *    between set_item and reconfigure left the content saved but not live (issue 9 item 2).
 *
 * Adaptive batch window: a batch waits while ops keep arriving (each arrival within `batchQuietMs`, or
 * twice the median gap between recent arrivals when the engine hands them over slower, extends it, up
 * to `batchMaxMs` after the first), and runs at once when every op this process has
 * outstanding on the alias is queued and their number reached the most seen in flight before (the
 * engine's `--parallel` slots are all waiting on us: nothing more can come). Through `pulumi up` at
 * the default parallelism that makes one batch per wave of 8 instead of one per create.
 *
 * Why not fewer reconfigures at `--parallel 8`: `create` returns only after the reconfigure that
 * makes its grant live and the verifying read (a grant reported created but not enforced is the
 * worst failure of this product), and the engine hands over at most 8 creates before one returns.
 * So a reconfigure serves at most 8 grants: ceil(N/8) per `up` is the floor of per-entry grants;
 * `--parallel N`, or one `OpnsenseAliasSet` per alias, reaches one.
 *
 * Proof (two processes A and B on one alias, each with its own measured latencies). A loses an op
 * only if a write of B based on content B read before A's write landed (snapshot S_B < L_A) lands
 * after the read that verifies A's op. B's get_item started at r_B ≤ S_B < L_A ≤ ansA (A's set_item
 * answer); B sent at s_B ≤ r_B + window_B; B's write landed at L_B ≤ s_B + transit_B. A's verifying
 * read starts at ansA + settle_A (+ jitter ≥ 0) and sees the device no earlier. So
 * L_B < ansA + window_B + transit_B, and no op of A is lost when window_B + transit_B ≤ settle_A.
 *  - window_B from (b): window_B + transit_B ≤ settleMs − allowance_B + transit_B ≤ settleMs ≤ settle_A
 *    whenever B's own write stays within its allowance (transit_B ≤ 2 × max(slowest answer B saw on
 *    the path, writeFloorMs)). Nothing here depends on A's latencies; B's slow read only makes B's
 *    allowance larger and its window (b) smaller, never A's settle shorter than needed.
 *  - window_B from (a): settle_A ≥ (a)(lines) + allowance_A + 50, so it holds when both read contents
 *    of similar size and B's write lands within A's allowance + 50 ms (the premise the settle always
 *    had: a large alias is slow for every writer).
 * The same holds with A and B swapped, and for a remove (a resurrection is the same lost write). A
 * read answered after the window is never written on: when no read can be (every attempt late), the
 * batch fails OPN002 naming the window and the measured read times.
 * test/opnsense/cross-process.test.ts runs it with two real processes, one of them reading slowly (it
 * fails OPN002 or writes in time, never loses the other's grants), and
 * test/redteam/rt-config-slow-read.test.ts checks the inequality over a grid of latencies.
 *
 * Guarantee: across processes that all use this version's timing, no op reported successful is lost
 * or resurrected by another one, provided each set_item lands within its process's allowance (and,
 * for windows from (a), both processes read contents of similar size). Writers that do not verify
 * (a person in the UI, another tool, an older version of this library with its longer window) can
 * still undo a verified grant later; `read`/refresh then reports it gone — and so can this batcher undo
 * another process's TABLE-mode add (its proof read does not wait for our window; seen once in 5 runs of
 * test/engine/declared-concurrency under load): one alias, one method. Aliases shared by several
 * processes are safer in table mode: alias_util add/delete are atomic on the device
 * (AliasUtilController.php, `Config::lock()`, 26.7.2).
 *
 * Within one process, a per-alias reader/writer lock (keyed by device and alias, not by credential)
 * makes the batch's read→write exclusive, and table-mode alias_util writes shared: a table-mode add can
 * no longer land between the batch's get_item and its set_item and be written away (issue 9 item 5).
 */
import { randomInt } from "node:crypto";
import { normaliseDeviceAddress } from "../../core/address";
import { diagnose } from "../../core/diagnosis";
import { shared } from "../../core/process-state";
import type { OpnsenseClient } from "./client";

export interface ContentOp {
  readonly kind: "add" | "remove";
  /** Canonical address as it is written into the alias content. */
  readonly address: string;
}

export interface ContentOpResult {
  /** The address was in the content before this batch applied the op. */
  readonly wasPresent: boolean;
}

/**
 * Timing of the protection above. Mutable so that tests (and an operator who knows the device's
 * latency) can tune it; every process writing one alias must run the same values (the proof above
 * compares one process's window with another's settle). The two-process test
 * (test/opnsense/cross-process.test.ts) passed with the settle at 0 against a 150 ms reload (the
 * reload itself outlasts the peer's window there); the floor here is the window plus the transit of a
 * peer's write, which the settle derives from measured set_item answers.
 */
export const CONFIG_MODE_TIMING = {
  /** Read→write window (a): time from the start of the get_item a write is based on to sending the set_item. */
  windowMs: 400,
  /** Added to window (a) per line of content (reading and parsing a large alias takes longer). */
  windowMsPerLine: 0.02,
  /**
   * Least wait from the set_item answer to the verifying read, in every process. Window (b) is this less
   * the write allowance (twice the slowest answer on the path).
   */
  settleMs: 600,
  /** A set_item's transit is assumed to stay within twice the slowest answer seen, and never less than twice this. */
  writeFloorMs: 50,
  /** Verify/repair rounds before an op fails loudly. */
  maxRounds: 6,
  /** Reads (and writes lost in transit) tried per batch before it fails loudly rather than write on a stale read. */
  readAttempts: 4,
  /** A batch waits this long after the last op arrived for more to join (or twice the engine's recent pace, if longer). */
  batchQuietMs: 250,
  /** ... but runs at most this long after its first op arrived. */
  batchMaxMs: 4_000,
};

/** How long a repair round or a set's multi-op submission waits for others before the batch runs. @default 25 */
export const BATCH_WINDOW_MS = 25;

/** Window (a) for a content of `lines` lines: what a peer's derived settle covers (similar content sizes). */
export function configWindowMs(lines: number): number {
  return CONFIG_MODE_TIMING.windowMs + lines * CONFIG_MODE_TIMING.windowMsPerLine;
}

/** How long a set_item of a process whose slowest recent answer took `slowestWriteMs` is assumed to take to land. */
export function writeAllowanceMs(slowestWriteMs: number): number {
  return 2 * Math.max(slowestWriteMs, CONFIG_MODE_TIMING.writeFloorMs);
}

/** The read→write window: the larger of (a) and (b) in the header ("Proof" says why (b) is safe against any peer). */
export function readWriteWindowMs(lines: number, slowestWriteMs: number): number {
  return Math.max(configWindowMs(lines), CONFIG_MODE_TIMING.settleMs - writeAllowanceMs(slowestWriteMs));
}

/** The wait from a write's answer to the read that verifies it: never below the floor every peer's window (b) relies on. */
export function configSettleMs(lines: number, slowestWriteMs: number): number {
  return Math.max(CONFIG_MODE_TIMING.settleMs, configWindowMs(lines) + writeAllowanceMs(slowestWriteMs) + 50);
}

/**
 * The key of an alias line: its CIDR when it is a plain address, else `line:<text>`. Every line pf may load has a key
 * (a range, a host-bit network, a wildcard mask, a mapped IPv6 address, a host or alias name), so an exclusive set's
 * prune sees it and removes it (issue 19: such lines used to be kept, invisible, while pf loaded them).
 */
export function aliasLineKey(line: string): string | undefined {
  const t = line.trim();
  if (t === "") return undefined;
  return normaliseDeviceAddress(t)?.cidr ?? `line:${t}`;
}
const cidrOf = aliasLineKey;

/* ---------------------------------------------------------------------------------------------- */
/* Per-alias reader/writer lock                                                                     */
/* ---------------------------------------------------------------------------------------------- */

export type LockMode = "shared" | "exclusive";

/** FIFO reader/writer lock: a waiting exclusive holder blocks later shared ones (no starvation). */
class AliasLock {
  private readers = 0;
  private writer = false;
  private readonly queue: { mode: LockMode; go: () => void }[] = [];

  acquire(mode: LockMode): Promise<() => void> {
    return new Promise((resolve) => {
      this.queue.push({ mode, go: () => resolve(() => this.release(mode)) });
      this.pump();
    });
  }

  private release(mode: LockMode): void {
    if (mode === "exclusive") this.writer = false;
    else this.readers--;
    this.pump();
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.mode === "exclusive" ? this.writer || this.readers > 0 : this.writer) return;
      this.queue.shift();
      if (head.mode === "exclusive") this.writer = true;
      else this.readers++;
      head.go();
    }
  }
}

/** Runs `fn` holding the process-wide lock of one alias on one device (`lockKey`, see grant-ops). */
export async function withAliasLock<T>(lockKey: string, mode: LockMode, fn: () => Promise<T>): Promise<T> {
  const locks = shared("opnsense.alias-locks", () => new Map<string, AliasLock>());
  let lock = locks.get(lockKey);
  if (!lock) {
    lock = new AliasLock();
    locks.set(lockKey, lock);
  }
  const release = await lock.acquire(mode);
  try {
    return await fn();
  } finally {
    release();
  }
}

/* ---------------------------------------------------------------------------------------------- */
/* Batcher                                                                                          */
/* ---------------------------------------------------------------------------------------------- */

interface Queued extends ContentOp {
  readonly cidr: string;
  readonly seq: number;
  /**
   * A prune op (issue 13, exclusive sets): removes, from the content this batch reads, every line whose
   * address it selects; `address`/`cidr` are empty. Verified like removes, for the lines it pruned.
   */
  readonly prune?: (cidr: string) => boolean;
  /** Told the content the first batch read, before any write (prune op of a multi-op submission). */
  readonly onBefore?: (lines: readonly string[]) => void;
  /** The lines a prune op removed (first batch), with their addresses. */
  pruned?: string[];
  /** The content the first batch read, before any op of it was applied (multi-op submissions). */
  before?: readonly string[];
  /** Verify rounds done so far. */
  round: number;
  /** Part of a multi-op submission (a set): the batch need not wait for more. */
  readonly urgent?: boolean;
  /** What the first batch saw (the answer create reports as `adopted`). */
  first?: ContentOpResult;
  resolve(r: ContentOpResult): void;
  reject(e: unknown): void;
}

/** The newest op per (device+alias, address) in this process: an older op it supersedes is not repaired. */
function latestOps(): Map<string, number> {
  return shared("opnsense.content-op-latest", () => new Map<string, number>());
}
function nextSeq(): number {
  const s = shared("opnsense.content-op-seq", () => ({ n: 0 }));
  return ++s.n;
}

/** A batch's ops waiting for their verifying read (deadline: the end of their settle). */
interface Settling {
  readonly ops: Queued[];
  readonly deadline: number;
}

/** A failure after which the write may or may not have landed, and a fresh read tells: worth another batch attempt. */
function lostInTransit(e: unknown): boolean {
  const x = e as { code?: string; status?: number };
  return x.code === "OPN002" || x.code === "OPN004" || x.status === 502 || x.status === 503 || x.status === 504;
}

class AliasBatcher {
  private pending: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** When the first op of `pending` and the last one arrived. */
  private openedAt = 0;
  private lastArrival = 0;
  /** Ops submitted and not yet answered (queued, in a batch, or settling). */
  private outstanding = 0;
  /** The most ops outstanding when a batch ran (the engine's parallelism, as this alias sees it). */
  private learnedPeak = 0;
  /** When the last new op arrived, and recent gaps between new ops (ms): the pace the engine hands creates over at. */
  private lastFresh = 0;
  private readonly arrivalGaps: number[] = [];
  /** Recent set_item answer times, ms (the settle and window (b) derive from the slowest). */
  private readonly writeMs: number[] = [];
  /** Recent reconfigure answer times, ms: a heavier POST on the same path, judging a first set_item's transit. */
  private readonly reloadMs: number[] = [];
  /** Recent get_item answer times, ms: a slow read means a slow path, for our writes too. */
  private readonly readMs: number[] = [];
  private settling: Settling[] = [];
  private verifyTimer: NodeJS.Timeout | undefined;
  /** Batches run so far (each one get_item, at most one set_item, one reconfigure). */
  batches = 0;

  constructor(
    private readonly client: OpnsenseClient,
    private readonly uuid: string,
    private readonly alias: string,
    private readonly lockKey: string,
  ) {}

  submit(op: ContentOp): Promise<ContentOpResult> {
    return this.enqueue(op).then(({ first }) => first);
  }

  /** Queues one op; resolves with the op once verified (its `first` answer, and what the batch read). */
  enqueue(
    op: ContentOp,
    prune?: (cidr: string) => boolean,
    onBefore?: (lines: readonly string[]) => void,
    urgent = false,
  ): Promise<{ first: ContentOpResult; before: readonly string[]; pruned: readonly string[] }> {
    const cidr = prune ? "" : (cidrOf(op.address) ?? op.address);
    const seq = nextSeq();
    if (!prune) latestOps().set(`${this.lockKey}\u0000${cidr}`, seq);
    this.outstanding++;
    const done = () => this.outstanding--;
    return new Promise((resolve, reject) => {
      const q: Queued = {
        ...op,
        cidr,
        seq,
        round: 0,
        urgent,
        ...(prune && { prune }),
        ...(onBefore && { onBefore }),
        resolve: (first) => {
          done();
          resolve({ first, before: q.before ?? [], pruned: q.pruned ?? [] });
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      this.queue([q]);
    });
  }

  private queue(ops: Queued[]): void {
    const now = Date.now();
    if (this.pending.length === 0) this.openedAt = now;
    this.lastArrival = now;
    if (ops.some((o) => o.round === 0 && !o.urgent)) {
      // A gap longer than a batch may wait is idleness (between runs, or tests), not the engine's pace.
      if (this.lastFresh > 0 && now - this.lastFresh <= CONFIG_MODE_TIMING.batchMaxMs) this.arrivalGaps.push(now - this.lastFresh);
      if (this.arrivalGaps.length > 5) this.arrivalGaps.shift();
      this.lastFresh = now;
    }
    this.pending.push(...ops);
    this.schedule();
  }

  private superseded(op: Queued): boolean {
    if (op.prune) return false;
    return latestOps().get(`${this.lockKey}\u0000${op.cidr}`) !== op.seq;
  }

  /** (Re)arms the batch timer: the adaptive window described at the top of this file. */
  private schedule(): void {
    if (this.running || this.pending.length === 0) return;
    if (this.timer) clearTimeout(this.timer);
    const t = CONFIG_MODE_TIMING;
    let at: number;
    if (this.pending.some((o) => o.urgent || o.round > 0)) at = this.openedAt + BATCH_WINDOW_MS;
    else if (this.pending.length === this.outstanding && this.pending.length >= this.learnedPeak && this.learnedPeak > 0) at = 0;
    else at = Math.min(this.lastArrival + Math.max(t.batchQuietMs, 2 * this.arrivalPaceMs()), this.openedAt + t.batchMaxMs);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.run();
      },
      Math.max(0, at - Date.now()),
    );
  }

  /**
   * The median of the last 5 gaps between new ops (few, so a change of pace is followed within a wave). At N = 1,000 the engine hands creates over one per checkpoint
   * write (0.2–1 s each), slower than the quiet window: a fixed 250 ms closed a batch per create or two (700
   * reconfigures for 1,000 grants, issue 22). Waiting for the next op while they keep coming at that pace costs
   * the `up` nothing (the engine is the bottleneck) and fills a batch up to the engine's parallelism. The
   * median ignores the one long gap per batch a fast engine shows (the batch's own settle).
   */
  private arrivalPaceMs(): number {
    if (this.arrivalGaps.length < 3) return 0;
    const sorted = [...this.arrivalGaps].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  }

  /** The content as the device holds it now, with the moment the read started and when its answer came. */
  private async read(): Promise<{ lines: string[]; startedAt: number; answeredAt: number }> {
    const startedAt = Date.now();
    const item = await this.client.getItem(this.uuid);
    const answeredAt = Date.now();
    this.readMs.push(answeredAt - startedAt);
    if (this.readMs.length > 16) this.readMs.shift();
    if (!item.found) {
      throw diagnose("OPN100", {
        host: this.client.host,
        detail: `the alias "${this.alias}" (uuid ${this.uuid}) is gone: get_item found no alias`,
        vars: { alias: this.alias },
      });
    }
    return { lines: [...item.content], startedAt, answeredAt };
  }

  private async reconfigure(): Promise<void> {
    const sent = Date.now();
    await this.client.reconfigure();
    this.reloadMs.push(Date.now() - sent);
    if (this.reloadMs.length > 16) this.reloadMs.shift();
  }

  private slowestWrite(): number {
    return this.writeMs.length > 0 ? Math.max(...this.writeMs) : 0;
  }

  /**
   * What a set_item of ours is judged to take to land: the slowest answer measured on this path, of any
   * kind (a read was always just measured). Window (b) rests on our write landing within twice that.
   */
  private writeEstimate(): number {
    return Math.max(0, ...this.writeMs, ...this.reloadMs, ...this.readMs);
  }

  private async run(): Promise<void> {
    this.running = true;
    // A superseded op (a later op on the same address was queued in this process) is settled by that op.
    const ops: Queued[] = [];
    for (const op of this.pending) {
      if (op.round > 0 && this.superseded(op)) op.resolve(op.first ?? { wasPresent: op.kind === "remove" });
      else ops.push(op);
    }
    this.pending = [];
    if (ops.length === 0) {
      this.running = false;
      this.schedule();
      return;
    }
    this.learnedPeak = Math.max(this.learnedPeak, this.outstanding);
    this.batches++;
    let written: { answeredAt: number; lines: number };
    try {
      written = await withAliasLock(this.lockKey, "exclusive", () => this.readModifyWrite(ops));
      // (4) Always: makes live what an earlier run saved but never applied.
      await this.reconfigure();
    } catch (e) {
      for (const op of ops) op.reject(e);
      this.running = false;
      this.schedule();
      return;
    }
    this.running = false;
    this.schedule();
    const round = Math.max(...ops.map((o) => o.round));
    // Random backoff growing per round, so that two repairing processes fall out of step.
    const settle = configSettleMs(written.lines, this.slowestWrite());
    const jitter = round > 0 ? randomInt(0, Math.max(1, Math.floor((settle / 2) * 2 ** round))) : randomInt(0, 50);
    this.settling.push({ ops, deadline: written.answeredAt + settle + jitter });
    this.scheduleVerify();
  }

  /** (1): one get_item, the merged content, one set_item within the window of that read. */
  private async readModifyWrite(ops: Queued[]): Promise<{ answeredAt: number; lines: number }> {
    const slow: { readMs: number; ageMs: number }[] = [];
    for (let attempt = 0, lost = 0; ; attempt++) {
      const { lines: read, startedAt, answeredAt: readAnsweredAt } = await this.read();
      // This read is a fresh view of the device: it verifies every earlier batch whose settle has passed.
      this.verifyWith(read, startedAt);
      // One pass over the content per batch (a set of 10,000 ops on a 20,000-line alias must not
      // rescan the content once per op, issue 13).
      const cidrs = read.map((l) => cidrOf(l));
      const present = new Set(cidrs.filter((c): c is string => c !== undefined));
      const drop = new Set<string>();
      const adds: string[] = [];
      for (const op of ops) {
        if (op.prune) {
          const pruned = read.filter((_, i) => cidrs[i] !== undefined && op.prune!(cidrs[i]!));
          if (op.round === 0 && attempt === 0) {
            op.pruned = pruned;
            op.first = { wasPresent: pruned.length > 0 };
            op.before = read;
            op.onBefore?.(read);
          }
          for (const l of pruned) drop.add(cidrOf(l)!);
          continue;
        }
        const was = present.has(op.cidr) && !drop.has(op.cidr);
        if (op.round === 0 && attempt === 0) {
          op.first = { wasPresent: was };
          op.before = read;
        }
        if (op.kind === "add") {
          drop.delete(op.cidr);
          if (!present.has(op.cidr)) {
            adds.push(op.address);
            present.add(op.cidr);
          }
        } else if (present.has(op.cidr)) {
          drop.add(op.cidr);
        }
      }
      const lines = [...read.filter((_, i) => cidrs[i] === undefined || !drop.has(cidrs[i]!)), ...adds.filter((a) => !drop.has(cidrOf(a) ?? a))];
      const changed = drop.size > 0 || adds.length > 0;
      if (!changed) return { answeredAt: Date.now(), lines: read.length };
      const size = Math.max(read.length, lines.length);
      const estimate = this.writeEstimate();
      const window = readWriteWindowMs(size, estimate);
      const sendBy = startedAt + window;
      // Never write content older than the window: a peer's verify only waits that long for us.
      if (Date.now() > sendBy) {
        slow.push({ readMs: readAnsweredAt - startedAt, ageMs: Date.now() - startedAt });
        if (slow.length >= CONFIG_MODE_TIMING.readAttempts) throw this.staleRead(slow, window, size, estimate);
        continue;
      }
      const sent = Date.now();
      try {
        await this.client.setItemContent(this.uuid, this.alias, lines, sendBy);
      } catch (e) {
        // The write may or may not have landed; a fresh read decides (its retry would be stale).
        if (lostInTransit(e) && ++lost < CONFIG_MODE_TIMING.readAttempts) continue;
        throw e;
      }
      const answeredAt = Date.now();
      this.writeMs.push(answeredAt - sent);
      if (this.writeMs.length > 16) this.writeMs.shift();
      return { answeredAt, lines: lines.length };
    }
  }

  private staleRead(slow: readonly { readMs: number; ageMs: number }[], window: number, lines: number, estimate: number) {
    const t = CONFIG_MODE_TIMING;
    const w = Math.round(window);
    const why =
      `the larger of ${Math.round(configWindowMs(lines))} ms (${t.windowMs} ms + ${t.windowMsPerLine} ms per line, ${lines} lines) and ` +
      `the ${t.settleMs} ms every other writer waits after its own write less twice the slowest answer on this path (${Math.round(estimate)} ms)`;
    return diagnose("OPN002", {
      host: this.client.host,
      detail:
        `config mode did not write alias "${this.alias}": ${slow.length} reads of its content were answered after ` +
        `${slow.map((s) => `${s.readMs} ms`).join(", ")} (ready to write ${slow.map((s) => `${s.ageMs} ms`).join(", ")} after the read started), ` +
        `later than the ${w} ms window a write may follow the start of its read: ${why}. ` +
        `A later write could drop a change another process has already verified, so nothing was written. ` +
        `Run again when the firewall is less busy, run the program closer to the firewall (the read's round trip counts against the window), ` +
        `or use method "table" (alias_util changes need no read)`,
      operation: "GET /api/firewall/alias/get_item",
      vars: { timeoutMs: w },
    });
  }

  private scheduleVerify(): void {
    if (this.verifyTimer) clearTimeout(this.verifyTimer);
    this.verifyTimer = undefined;
    if (this.settling.length === 0) return;
    const next = Math.min(...this.settling.map((s) => s.deadline));
    this.verifyTimer = setTimeout(
      () => {
        this.verifyTimer = undefined;
        void this.verifyDue();
      },
      Math.max(0, next - Date.now()),
    );
  }

  /** (2): one read for every batch whose settle has passed. */
  private async verifyDue(): Promise<void> {
    const startedAt = Date.now();
    if (!this.settling.some((s) => s.deadline <= startedAt)) return this.scheduleVerify();
    let lines: string[];
    try {
      lines = (await this.read()).lines;
    } catch (e) {
      const due = this.settling.filter((s) => s.deadline <= startedAt);
      this.settling = this.settling.filter((s) => s.deadline > startedAt);
      for (const s of due) for (const op of s.ops) op.reject(e);
      return this.scheduleVerify();
    }
    this.verifyWith(lines, startedAt);
  }

  /** (2)+(3) for the batches whose settle ended before a read that started at `startedAt`. */
  private verifyWith(lines: readonly string[], startedAt: number): void {
    const due = this.settling.filter((s) => s.deadline <= startedAt);
    if (due.length === 0) return;
    this.settling = this.settling.filter((s) => s.deadline > startedAt);
    this.scheduleVerify();
    const requeue: Queued[] = [];
    const seen = new Set(lines.map((l) => cidrOf(l)).filter((c): c is string => c !== undefined));
    for (const op of due.flatMap((s) => s.ops)) {
      const present = op.prune ? (op.pruned ?? []).some((l) => seen.has(cidrOf(l)!)) : seen.has(op.cidr);
      const holds = op.kind === "add" ? present : !present;
      if (holds || this.superseded(op)) {
        op.resolve(op.first ?? { wasPresent: present });
      } else if (op.round + 1 >= CONFIG_MODE_TIMING.maxRounds) {
        op.reject(this.lostRace(op));
      } else {
        op.round++;
        requeue.push(op);
      }
    }
    if (requeue.length > 0) this.queue(requeue);
  }

  private lostRace(op: Queued) {
    const rounds = op.round + 1;
    const why =
      `another writer (another stack, CI job or tool) rewrote the content of alias "${this.alias}" after each of ${rounds} writes by this library, ` +
      `so ${op.address} ${op.kind === "add" ? "is not held" : "is still held"} (set_item replaces the whole content and has no version check). ` +
      `Run the writers one after another, or use method "table" (alias_util changes are atomic on the device)`;
    return op.kind === "add"
      ? diagnose("OPN102", { host: this.client.host, detail: why, operation: "POST /api/firewall/alias/set_item", vars: { alias: this.alias } })
      : diagnose("OPN103", {
          host: this.client.host,
          detail: why,
          operation: "POST /api/firewall/alias/set_item",
          vars: { alias: this.alias, address: op.address },
        });
  }
}

/**
 * Applies `op` to the alias content through the process-wide batcher of (`key`, alias). `key` must
 * identify device and credential (a fingerprint), so batches never mix credentials. `lockKey` names the
 * alias on its device (shared by every credential and method; see {@link withAliasLock}); it defaults
 * to `key`. Resolves only once a read taken after the settle showed the op holding.
 */
export function submitContentOp(
  key: string,
  client: OpnsenseClient,
  uuid: string,
  alias: string,
  op: ContentOp,
  lockKey: string = key,
): Promise<ContentOpResult> {
  return batcherFor(key, client, uuid, alias, lockKey).submit(op);
}

function batcherFor(key: string, client: OpnsenseClient, uuid: string, alias: string, lockKey: string): AliasBatcher {
  const batchers = shared("opnsense.alias-batchers", () => new Map<string, AliasBatcher>());
  // Per uuid too: an alias deleted and re-created under its name is another object (the alias lock still orders both).
  const k = `${key}\u0000${uuid}`;
  let b = batchers.get(k);
  if (!b) {
    b = new AliasBatcher(client, uuid, alias, lockKey);
    batchers.set(k, b);
  }
  return b;
}

/** What a multi-op submission reports (issue 13, set resources). */
export interface ContentBatchResult {
  /** Per op, in order: whether the address was in the content before the batch applied it. */
  readonly results: readonly ContentOpResult[];
  /** The content as the batch read it, before applying anything (the set's "before" view). */
  readonly before: readonly string[];
  /** Lines the prune predicate removed. */
  readonly pruned: readonly string[];
}

/**
 * Applies many ops (and optionally a prune predicate: remove every line whose address it selects)
 * in ONE batch of the alias's batcher: one get_item, one set_item, one reconfigure and the verify read,
 * whatever the number of ops (issue 13). Ops of other callers queued at the same moment join the same
 * batch. Resolves once every op (and the prune) verified, with the content the batch read first.
 */
export async function submitContentBatch(
  key: string,
  client: OpnsenseClient,
  uuid: string,
  alias: string,
  batch: {
    readonly ops: readonly ContentOp[];
    readonly prune?: ((cidr: string) => boolean) | undefined;
    /** Told the content as the batch first read it, before any write (a failed change takes back what it added). */
    readonly onBefore?: ((lines: readonly string[]) => void) | undefined;
  },
  lockKey: string = key,
): Promise<ContentBatchResult> {
  const b = batcherFor(key, client, uuid, alias, lockKey);
  const all = batch.ops.map((op) => b.enqueue(op, undefined, undefined, true));
  // A batch with no op still reads (and reconfigures), so a set can learn the content in one queue.
  const prune = b.enqueue({ kind: "remove", address: "" }, batch.prune ?? (() => false), batch.onBefore, true);
  const [results, pruned] = await Promise.all([Promise.all(all), prune]);
  return { results: results.map((r) => r.first), before: pruned.before, pruned: pruned.pruned };
}

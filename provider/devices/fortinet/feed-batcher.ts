/**
 * Coalesced feed writes and reads, per feed (issue 12: "one push can carry many entries"). The engine
 * runs up to `--parallel` grants at once in one provider process; the grants into one feed that arrive
 * within a short join window (or while the previous batch runs) form one batch, which costs:
 *   1. one read of the entry list on every target (which entries are there already: adopt, never
 *      push a duplicate, never rely on the unsourced answer to a repeated add),
 *   2. one `add` push carrying every missing entry and one `remove` push carrying every present entry
 *      to remove, per group of targets that need the same entries (through FortiManager one proxy call
 *      reaches all targets of a group at once), sent together,
 *   3. one read of the entry list again on the targets pushed to: every op is judged by what the
 *      device holds afterwards, never by the push's answer alone (reference §2: the answer is
 *      unpublished, an accepted push is not proof, entries past the limit are dropped).
 * Reads (refresh) join batches too, so N grants refreshed together cost one entry-list read per batch.
 *
 * Concurrent writers (other processes, people) cannot lose our entries, nor we theirs: `add` and
 * `remove` name single entries; `snapshot` (replace the feed) is never sent (feed-entries.ts
 * `FeedCommand`). One batch per feed runs at a time in a process; an op that contradicts one already in
 * the batch (add and remove of one address) waits for the next. Batchers live on `globalThis`
 * (process-state `shared`), so every copy of the library in the provider process uses the same.
 */
import type { GrantAddress } from "../../core/address";
import type { GrantError } from "../../core/errors";
import { shared } from "../../core/process-state";
import { entriesOf, type EntryList, type FeedCommand, type FeedEntry } from "./feed-entries";

/**
 * `windowMs`: how long the first op of a batch waits for others (@default 40, read-coalescer.ts DEFAULT_WINDOW_MS,
 * measured). `reuseMs`: how old a whole entry list read by the previous batch of the feed may be to serve as the next
 * batch's list before its pushes (@default 500; see {@link runBatch}). Mutable for tests and the benchmark.
 */
export const FEED_BATCH_TIMING = { windowMs: 40, reuseMs: 500 };

/** A whole entry list (readAllEntries) of one target, and when its read ended. */
type RecentList = { readonly read: Extract<TargetRead, { ok: true }>; readonly at: number };

/** Why one target failed; `error` is the diagnosis when the cause is known exactly (202001/202002/202102/transport). */
export interface TargetFailure {
  readonly reason: string;
  readonly error?: GrantError | undefined;
  /** The entry is missing, invalid or dropped (overflow) although the push was accepted: 202103. */
  readonly notTaken?: boolean | undefined;
  /**
   * A failed add that may have put the entry there for us (its push was sent and not refused with an exact cause,
   * and the entry was not listed before us, or is gone now): the device may still apply it seconds later, and no
   * state will declare it, so a failed create takes it back (a `takeBack` op) whatever the read shows.
   */
  readonly pushed?: boolean | undefined;
  /** The list kept changing under a paged read (pushes landing meanwhile): worth reading again while a wait lasts. */
  readonly changing?: boolean | undefined;
}

export type TargetRead = { readonly ok: true; readonly list: EntryList } | { readonly ok: false; readonly failure: TargetFailure };
/** A push's answer on one target: accepted, refused (with why), or ambiguous (timeout/reset: the read-back decides). */
export type TargetPush = { readonly ok: true } | { readonly ok: false; readonly failure: TargetFailure } | { readonly ok: "unknown"; readonly reason: string };

/** How one way of reaching FortiGates reads entry lists and pushes entries (direct: one target; FortiManager: many). */
export interface FeedBackend {
  read(targets: readonly string[]): Promise<Map<string, TargetRead>>;
  push(command: FeedCommand, entries: readonly string[], targets: readonly string[]): Promise<Map<string, TargetPush>>;
}

export interface FeedOp {
  readonly kind: FeedCommand | "read";
  readonly address: GrantAddress;
  readonly targets: readonly string[];
  /** A remove pushed even where the list does not show the entry (taking back an add that may still land). */
  readonly takeBack?: boolean | undefined;
}

/**
 * One target's result. `ok` means: add — the entry is listed and valid; remove — no entry of the
 * address is listed; read — the list was read. `present`/`entries` are what the last read showed.
 */
export type TargetOutcome =
  | { readonly ok: true; readonly present: boolean; readonly wasPresent: boolean; readonly entries: readonly FeedEntry[] }
  | { readonly ok: false; readonly failure: TargetFailure; readonly present: boolean | undefined; readonly wasPresent?: boolean | undefined };

interface Queued {
  readonly op: FeedOp;
  readonly resolve: (r: Map<string, TargetOutcome>) => void;
  readonly reject: (e: unknown) => void;
}

class FeedBatcher {
  private pending: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** The last whole list of each target this feed's batches read (batches of one feed run one at a time). */
  private readonly recent = new Map<string, RecentList>();
  private readonly pace: FeedPace = newFeedPace();

  constructor(private backend: FeedBackend) {}

  enqueue(backend: FeedBackend, op: FeedOp): Promise<Map<string, TargetOutcome>> {
    // The key holds device + credential + feed, so any caller's backend reaches the same feed the same way.
    this.backend = backend;
    return new Promise((resolve, reject) => {
      this.pending.push({ op, resolve, reject });
      this.schedule(FEED_BATCH_TIMING.windowMs);
    });
  }

  private schedule(ms: number): void {
    if (this.running || this.timer || this.pending.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runNext();
    }, ms);
  }

  /** Takes the ops that do not contradict each other (in arrival order), runs them as one batch. */
  private async runNext(): Promise<void> {
    this.running = true;
    const kinds = new Map<string, FeedCommand>();
    const batch: Queued[] = [];
    const rest: Queued[] = [];
    for (const q of this.pending) {
      const { kind, address } = q.op;
      const prior = kinds.get(address.cidr);
      if (rest.length > 0 || (kind !== "read" && prior !== undefined && prior !== kind)) {
        rest.push(q);
        continue;
      }
      if (kind !== "read") kinds.set(address.cidr, kind);
      batch.push(q);
    }
    this.pending = rest;
    try {
      const results = await runBatch(
        this.backend,
        batch.map((q) => q.op),
        this.recent,
        this.pace,
      );
      batch.forEach((q, i) => q.resolve(results[i]!));
    } catch (e) {
      for (const q of batch) q.reject(e);
    } finally {
      this.running = false;
      // Ops that arrived while this batch ran have waited already: they go now.
      this.schedule(0);
    }
  }
}

/**
 * Runs one batch: read, push what is missing/present per group of targets, read back, judge every op per target.
 *
 * A burst of grants into one feed is a chain of batches, each ending with a whole read of the list after its pushes.
 * That read, when it ended at most `FEED_BATCH_TIMING.reuseMs` ago, is the next batch's list before its pushes
 * (`recent`, issue 22): it is as whole and proven as a new read (readAllEntries), the pushes are confirmed by the
 * batch's own read back all the same, and the next pushes are judged by a read after them. What the reuse widens is
 * only the gap between "the list before" and the push, from one request to about one join window: what it decides
 * (whether an entry was listed before us, which texts of an address to remove) is decided on a list that old, and a
 * text missed that way is still listed at the read back, so the remove fails; it never succeeds on it. A batch that
 * only reads always reads anew.
 */
export async function runBatch(
  backend: FeedBackend,
  ops: readonly FeedOp[],
  recent?: Map<string, RecentList>,
  pace?: FeedPace,
): Promise<Map<string, TargetOutcome>[]> {
  const targets = [...new Set(ops.flatMap((o) => o.targets))];
  const writes = ops.some((o) => o.kind !== "read");
  const since = Date.now() - FEED_BATCH_TIMING.reuseMs;
  const reused = (t: string) => writes && (recent?.get(t)?.at ?? -Infinity) >= since;
  const before = new Map<string, TargetRead>(targets.filter(reused).map((t) => [t, recent!.get(t)!.read]));
  const stale = targets.filter((t) => !before.has(t));
  if (stale.length > 0) for (const [t, r] of await backend.read(stale)) before.set(t, r);
  const remember = (m: ReadonlyMap<string, TargetRead>) => {
    for (const [t, r] of m) if (r.ok) recent?.set(t, { read: r, at: Date.now() });
  };
  remember(new Map([...before].filter(([t]) => stale.includes(t))));
  // Per target, the entry texts to add (canonical) and to remove (every listed text of the address).
  const plan = new Map<string, { add: Set<string>; remove: Set<string> }>();
  for (const op of ops) {
    if (op.kind === "read") continue;
    for (const t of op.targets) {
      const r = before.get(t);
      if (!r?.ok) continue;
      const p = plan.get(t) ?? { add: new Set<string>(), remove: new Set<string>() };
      plan.set(t, p);
      const listed = entriesOf(r.list, op.address);
      // Pushed even when listed (issue 19): the list may not show yet a remove (or add) another writer's push has
      // already had answered, and the device applies pushes in the order it answered them; so only our own push,
      // answered after theirs, makes the outcome ours. Judging by the list alone adopted an entry about to go.
      if (op.kind === "add") p.add.add(op.address.canonical);
      if (op.kind === "remove") for (const e of listed) p.remove.add(e.text);
      if (op.kind === "remove" && (op.takeBack === true || listed.length === 0)) p.remove.add(op.address.canonical);
    }
  }
  const pushes = await pushGrouped(backend, new Map([...plan].map(([t, p]) => [t, { remove: [...p.remove].sort(), add: [...p.add].sort() }])));
  const pushed = [...pushes.keys()];
  // Shown: every add not refused with an exact cause is listed valid, every such remove is gone. A refusal without
  // one (a 500, an unknown body) may have been applied all the same: it is waited for like an accepted push.
  const shown = (t: string, list: EntryList) =>
    ops.every((op) => {
      const push = op.kind === "read" || !op.targets.includes(t) ? undefined : pushes.get(t)?.get(op.kind);
      if (push === undefined || (push.ok === false && push.failure.error !== undefined)) return true;
      const listed = entriesOf(list, op.address);
      return op.kind === "add" ? listed.some((e) => e.valid) : listed.length === 0;
    });
  const reread = pushed.length > 0 ? await readUntilShown(backend, pushed, shown, pace) : new Map<string, TargetRead>();
  remember(reread);
  const after = (t: string) => reread.get(t) ?? before.get(t);
  return ops.map((op) => {
    const out = new Map<string, TargetOutcome>();
    for (const t of op.targets) out.set(t, judge(op, before.get(t), after(t), op.kind === "read" ? undefined : pushes.get(t)?.get(op.kind)));
    return out;
  });
}

/**
 * How long a pushed change may take to show in the entry list before it is judged (issue 19: `last_update` "advances a
 * few seconds after the push", Knocknoc quotes 1-2 s; fortigate-feeds.md Turn 3), and when it is read meanwhile: at
 * once (a device that shows pushes at once is proven by one read), then when the documented propagation has passed
 * (`expectMs`), then at doubling delays until the bound (issue 22: every read of the wait is a whole list, paid again;
 * at a fixed `pollMs` a device that shows pushes 2 s late cost five whole-list reads per push, on this schedule two).
 * `pollMs` is the least gap between two reads. `FIREWALL_GRANTS_FEED_WAIT_MS` sets the wait (0-60000). Mutable for
 * tests and the benchmark.
 */
export const FEED_VISIBILITY = { waitMs: 5_000, pollMs: 500, expectMs: 2_000 };

function visibilityWaitMs(): number {
  const raw = process.env.FIREWALL_GRANTS_FEED_WAIT_MS;
  if (raw === undefined || raw === "") return FEED_VISIBILITY.waitMs;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 60_000)
    throw new Error(`FIREWALL_GRANTS_FEED_WAIT_MS must be a whole number of milliseconds from 0 to 60000, got "${raw}"`);
  return n;
}

/**
 * When a device shows the pushes of one feed, learnt per process (issue 22): the next wait makes its first read when
 * the last one's showing read was made instead of at once, and tries half as long after a first read that showed it,
 * unless a first read that early has missed already. A feed that has shown no push yet starts from what the last
 * feed of the process learnt ({@link FeedPaceHint}): the devices of one fleet show pushes after similar delays, and a
 * device faster than that is found out by the halving. It schedules reads only; what confirms a push is still a read
 * showing it, within the same bound.
 */
export interface FeedPace {
  /** When (ms after the push's answer) the first read of the next wait is made; `undefined`: nothing learnt. */
  shownAfterMs: number | undefined;
  /** The latest first read that did not show the push (-1: none). */
  missedAtMs: number;
}

export const newFeedPace = (): FeedPace => ({ shownAfterMs: undefined, missedAtMs: -1 });

/** The process's last learnt delay, the start of a feed that has learnt none (shared by every copy of the library). */
type FeedPaceHint = { shownAfterMs: number | undefined };
const paceHint = () => shared<FeedPaceHint>("fortigate.feed-pace-hint", () => ({ shownAfterMs: undefined }));

/**
 * Learns from one wait: its first read was made `firstMs` after the push's answer; the read that showed the push (if
 * any) `shownMs` after it, and `atFirst` when that was the first read.
 */
export function learnPace(pace: FeedPace, firstMs: number, shownMs: number | undefined, atFirst: boolean): void {
  if (shownMs === undefined) return;
  if (!atFirst) pace.missedAtMs = Math.max(pace.missedAtMs, firstMs);
  const half = Math.floor(firstMs / 2);
  // Shown at the first read: try earlier next time (to 0 below one poll), unless a first read that early missed.
  const next = !atFirst ? shownMs : pace.missedAtMs >= half ? firstMs : half < FEED_VISIBILITY.pollMs ? 0 : half;
  pace.shownAfterMs = next;
  paceHint().shownAfterMs = next;
}

/** When the read after `prevMs` (since the push's answer) is made: {@link FEED_VISIBILITY}'s schedule. */
export function nextReadAtMs(prevMs: number): number {
  const { pollMs, expectMs } = FEED_VISIBILITY;
  return prevMs < expectMs ? Math.max(prevMs + pollMs, expectMs) : Math.max(prevMs + pollMs, prevMs * 2);
}

/**
 * Reads `targets` back after a push, and again, boundedly ({@link FEED_VISIBILITY}), those whose list does not yet
 * show what was pushed (`shown`): the device may apply a push seconds after answering it. What is still not shown at
 * the end is returned as it stands, for the caller to judge. With `pace`, the first read is made when the feed's (or
 * the process's) last wait suggests ({@link FeedPace}), and what this wait shows is learnt.
 */
export async function readUntilShown(
  backend: FeedBackend,
  targets: readonly string[],
  shown: (target: string, list: EntryList) => boolean,
  pace?: FeedPace,
): Promise<Map<string, TargetRead>> {
  const started = Date.now();
  const deadline = started + visibilityWaitMs();
  const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, Math.min(at, deadline) - Date.now())));
  let at = Math.min(pace ? (pace.shownAfterMs ?? paceHint().shownAfterMs ?? 0) : 0, deadline - started);
  const first = at;
  if (at > 0) await sleepUntil(started + at);
  let readAt = Date.now() - started;
  const reread = await backend.read(targets);
  // A list that changed under the read is read again while the wait lasts: the pushes being waited for are what
  // lands meanwhile, so a read timed to see them can meet them half-way.
  const unseen = (t: string) => {
    const r = reread.get(t);
    return r?.ok === true ? !shown(t, r.list) : r?.failure.changing === true;
  };
  let waiting = targets.filter(unseen);
  const atFirst = waiting.length === 0;
  for (; waiting.length > 0 && Date.now() < deadline; waiting = waiting.filter(unseen)) {
    at = nextReadAtMs(at);
    await sleepUntil(started + at);
    readAt = Date.now() - started;
    for (const [t, r] of await backend.read(waiting)) if (r.ok || reread.get(t)?.ok !== true) reread.set(t, r);
  }
  if (pace) learnPace(pace, first, waiting.length === 0 ? readAt : undefined, atFirst);
  return reread;
}

function judge(op: FeedOp, before: TargetRead | undefined, after: TargetRead | undefined, push: TargetPush | undefined): TargetOutcome {
  if (!before?.ok) return { ok: false, failure: before?.failure ?? { reason: "no answer for this device" }, present: undefined };
  const wasPresent = entriesOf(before.list, op.address).length > 0;
  const failed = push && push.ok === false ? push.failure : undefined;
  // Whether an add may have put the entry there, ours: sent, and not refused with an exact cause (a 403/404, a
  // connection never made). A 500 or an unknown answer may still apply, seconds later (issue 19).
  const mayLand = push !== undefined && failed?.error === undefined;
  // What a failed create must take back: what it may have added, never an entry listed before it that is still
  // listed (someone else's, issue 19); an entry gone meanwhile is no one's, and our add may still bring it back.
  const takeBack = (present: boolean | undefined) => op.kind === "add" && mayLand && (!wasPresent || present === false);
  if (!after?.ok) {
    // The push may have landed; only a read may say so.
    return {
      ok: false,
      failure: {
        reason: `the entry list could not be read back after the push (${after?.failure.reason ?? "no answer"})`,
        error: after?.failure.error,
        pushed: takeBack(undefined),
      },
      present: undefined,
      wasPresent,
    };
  }
  const entries = entriesOf(after.list, op.address);
  const present = entries.length > 0;
  if (op.kind === "read") return { ok: true, present, wasPresent, entries };
  if (op.kind === "remove") {
    if (!present) return { ok: true, present, wasPresent, entries };
    return { ok: false, failure: failed ?? { reason: `still listed after the remove (${entries.map((e) => e.text).join(", ")})` }, present, wasPresent };
  }
  if (present && entries.some((e) => e.valid)) {
    // Listed before and our add refused: the listing may be an entry on its way out (another writer's remove
    // answered, not yet shown), and nothing of ours follows it. Adopting it would be a guess (issue 19).
    if (failed && wasPresent) return { ok: false, failure: failed, present, wasPresent };
    if (after.list.overflow && !wasPresent)
      return {
        ok: false,
        failure: {
          reason: "listed, but the feed reports overflow: the newest entries are dropped past the entry limit",
          notTaken: true,
          pushed: takeBack(present),
        },
        present,
        wasPresent,
      };
    return { ok: true, present, wasPresent, entries };
  }
  if (present)
    return {
      ok: false,
      failure: { reason: `listed as invalid (${entries.map((e) => e.text).join(", ")})`, notTaken: true, pushed: takeBack(present) },
      present,
      wasPresent,
    };
  if (failed) return { ok: false, failure: { ...failed, pushed: takeBack(present) }, present, wasPresent };
  const why =
    push?.ok === "unknown"
      ? `the push got no clear answer (${push.reason}) and the entry list does not show it`
      : "the push was accepted but the entry list does not show it";
  return {
    ok: false,
    failure: {
      reason: `${why}${after.list.overflow ? " (the feed reports overflow: entry limit reached)" : ""}`,
      notTaken: push?.ok === true,
      pushed: takeBack(present),
    },
    present,
    wasPresent,
  };
}

/** Entries asked for per entry-list page. */
export const ENTRY_PAGE = 1000;
/** Pages read at the most before the list is declared unreadable: past every documented entry limit (300,000) at 1,000 a page. */
const MAX_PAGES = 400;

/** Reads one page (`start`, {@link ENTRY_PAGE}) of the entry list on each target. */
export type PageReader = (start: number, targets: readonly string[]) => Promise<Map<string, TargetRead>>;

/** Whole passes over a list read in several pages before it counts as changing under the read. */
const MAX_PASSES = 3;

/**
 * The whole entry list of each target, proven complete (issue 19: a remove outside an unpaged window read "absent"
 * and succeeded while the address stayed). The default window is unpublished (fortigate-feeds.md Turn 3), so one read
 * never proves the end:
 * - the next page is read from where the last one ended, even after a page longer than asked for (a device may
 *   ignore `count` and still window); an empty page is the proven end;
 * - a next page that repeats the first means the device ignores `start`, so it does not page: the first page is the
 *   list. A device that windowed without honouring `start` could not be read past its window by anyone, its own GUI
 *   included; the clients that describe the window page with `start`/`count` (forti-api `feed_entries(feed, start, count)`);
 * - a list read in several pages can shift under the read (an entry removed by hand before the next page moves ours
 *   into the gap), so it is read again, whole, until two passes agree ({@link MAX_PASSES}); else the target fails.
 * A target whose pages never end within {@link MAX_PAGES} fails; it never counts as read.
 */
export async function readAllEntries(readPage: PageReader, targets: readonly string[]): Promise<Map<string, TargetRead>> {
  const out = new Map<string, TargetRead>();
  let last = await readPass(readPage, targets);
  let open: string[] = [];
  for (const t of targets) {
    const r = last.get(t)!;
    if (r.read.ok && r.pages > 1) open.push(t);
    else out.set(t, r.read);
  }
  for (let pass = 2; open.length > 0; pass++) {
    if (pass > MAX_PASSES) {
      for (const t of open)
        out.set(t, { ok: false, failure: { reason: `the entry list changed while it was read, ${MAX_PASSES} times: no read shows it whole`, changing: true } });
      break;
    }
    const again = await readPass(readPage, open);
    const next: string[] = [];
    for (const t of open) {
      const before = last.get(t)!.read;
      const now = again.get(t)!;
      if (!now.read.ok) out.set(t, now.read);
      else if (before.ok && sameSet(before.list, now.read.list)) out.set(t, now.read);
      else next.push(t);
    }
    last = again;
    open = next;
  }
  return out;
}

/** One pass: every target's pages to a proven end (see {@link readAllEntries}), with how many pages it took. */
async function readPass(readPage: PageReader, targets: readonly string[]): Promise<Map<string, { read: TargetRead; pages: number }>> {
  const out = new Map<string, { read: TargetRead; pages: number }>();
  const pages = new Map<string, EntryList[]>();
  let open = [...targets];
  for (let n = 0; open.length > 0; n++) {
    if (n >= MAX_PAGES) {
      for (const t of open)
        out.set(t, { read: { ok: false, failure: { reason: `the entry list did not end within ${MAX_PAGES} pages of ${ENTRY_PAGE}` } }, pages: n });
      break;
    }
    const byStart = new Map<number, string[]>();
    for (const t of open) {
      const start = (pages.get(t) ?? []).reduce((k, p) => k + p.entries.length, 0);
      byStart.set(start, [...(byStart.get(start) ?? []), t]);
    }
    const answers = new Map<string, TargetRead>();
    for (const [start, ts] of byStart) for (const [t, r] of await readPage(start, ts)) answers.set(t, r);
    const next: string[] = [];
    for (const t of open) {
      const r = answers.get(t) ?? { ok: false as const, failure: { reason: "no answer for this device" } };
      if (!r.ok) {
        out.set(t, { read: r, pages: 0 });
        continue;
      }
      const got = pages.get(t) ?? [];
      const first = got[0];
      const done = r.list.entries.length === 0 || (first !== undefined && sameEntries(first, r.list));
      // A device that ignores `start` and whose list changed after the first page answers the new list again and
      // again, never the first: a repeat of the previous page is the same sign, and that page is the whole list. Read
      // as a list of several pages, it must then agree with a second pass like any other.
      const last = got[got.length - 1];
      if (!done && got.length > 1 && last !== undefined && sameEntries(last, r.list)) {
        out.set(t, { read: { ok: true, list: merged([last]) }, pages: got.length });
        continue;
      }
      if (!done) got.push(r.list);
      pages.set(t, got);
      if (done) out.set(t, { read: { ok: true, list: merged(got) }, pages: got.length });
      else next.push(t);
    }
    open = next;
  }
  return out;
}

function sameSet(a: EntryList, b: EntryList): boolean {
  const key = (l: EntryList) =>
    l.entries
      .map((e) => `${e.text}\u0000${e.valid}`)
      .sort()
      .join("\n");
  return key(a) === key(b);
}

function sameEntries(a: EntryList, b: EntryList): boolean {
  return a.entries.length === b.entries.length && a.entries.every((e, i) => e.text === b.entries[i]!.text);
}

function merged(pages: readonly EntryList[]): EntryList {
  const entries = pages.flatMap((p) => p.entries);
  return {
    entries,
    validCount: entries.filter((e) => e.valid).length,
    invalidCount: entries.filter((e) => !e.valid).length,
    overflow: pages.some((p) => p.overflow),
  };
}

/** Runs `op` in the batch of `key` (device + credential + VDOM/ADOM + feed, digested). */
export function feedOp(key: string, backend: FeedBackend, op: FeedOp): Promise<Map<string, TargetOutcome>> {
  const batchers = shared("fortigate.feed-batchers", () => new Map<string, FeedBatcher>());
  let b = batchers.get(key);
  if (!b) {
    b = new FeedBatcher(backend);
    batchers.set(key, b);
  }
  return b.enqueue(backend, op);
}

/**
 * Sends the pushes a plan needs: targets that need the same entries share one push (one proxy call
 * through FortiManager), all sent together; one command per push (the order and atomicity of several
 * commands in one body are unsourced, docs/reference/fortigate-feeds.md §2). Answers per target and command.
 */
export async function pushGrouped(
  backend: FeedBackend,
  perTarget: ReadonlyMap<string, { readonly remove: readonly string[]; readonly add: readonly string[] }>,
): Promise<Map<string, Map<FeedCommand, TargetPush>>> {
  const groups = new Map<string, { command: FeedCommand; entries: string[]; targets: string[] }>();
  for (const [t, p] of perTarget) {
    for (const command of ["remove", "add"] as const) {
      const entries = [...p[command]];
      if (entries.length === 0) continue;
      const k = `${command}\u0000${entries.join("\u0000")}`;
      const g = groups.get(k) ?? { command, entries, targets: [] };
      g.targets.push(t);
      groups.set(k, g);
    }
  }
  const pushes = new Map<string, Map<FeedCommand, TargetPush>>();
  await Promise.all(
    [...groups.values()].map(async (g) => {
      const answers = await backend.push(g.command, g.entries, g.targets);
      for (const t of g.targets) {
        const m = pushes.get(t) ?? new Map<FeedCommand, TargetPush>();
        m.set(g.command, answers.get(t) ?? { ok: false, failure: { reason: "no answer for this device" } });
        pushes.set(t, m);
      }
    }),
  );
  return pushes;
}

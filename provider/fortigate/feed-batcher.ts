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
import type { GrantAddress } from "../address";
import type { GrantError } from "../errors";
import { shared } from "../process-state";
import { entriesOf, type EntryList, type FeedCommand, type FeedEntry } from "./feed-entries";

/** How long the first op of a batch waits for others. Mutable for tests and the benchmark. @default 40 (read-coalescer.ts DEFAULT_WINDOW_MS, measured) */
export const FEED_BATCH_TIMING = { windowMs: 40 };

/** Why one target failed; `error` is the diagnosis when the cause is known exactly (202001/202002/202102/transport). */
export interface TargetFailure {
  readonly reason: string;
  readonly error?: GrantError | undefined;
  /** The entry is missing, invalid or dropped (overflow) although the push was accepted: 202103. */
  readonly notTaken?: boolean | undefined;
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
}

/**
 * One target's result. `ok` means: add — the entry is listed and valid; remove — no entry of the
 * address is listed; read — the list was read. `present`/`entries` are what the last read showed.
 */
export type TargetOutcome =
  | { readonly ok: true; readonly present: boolean; readonly wasPresent: boolean; readonly entries: readonly FeedEntry[] }
  | { readonly ok: false; readonly failure: TargetFailure; readonly present: boolean | undefined };

interface Queued {
  readonly op: FeedOp;
  readonly resolve: (r: Map<string, TargetOutcome>) => void;
  readonly reject: (e: unknown) => void;
}

class FeedBatcher {
  private pending: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;

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

/** Runs one batch: read, push what is missing/present per group of targets, read back, judge every op per target. */
export async function runBatch(backend: FeedBackend, ops: readonly FeedOp[]): Promise<Map<string, TargetOutcome>[]> {
  const targets = [...new Set(ops.flatMap((o) => o.targets))];
  const before = await backend.read(targets);
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
      if (op.kind === "add" && listed.length === 0) p.add.add(op.address.canonical);
      if (op.kind === "remove") for (const e of listed) p.remove.add(e.text);
    }
  }
  const pushes = await pushGrouped(backend, new Map([...plan].map(([t, p]) => [t, { remove: [...p.remove].sort(), add: [...p.add].sort() }])));
  const pushed = [...pushes.keys()];
  const reread = pushed.length > 0 ? await backend.read(pushed) : new Map<string, TargetRead>();
  const after = (t: string) => reread.get(t) ?? before.get(t);
  return ops.map((op) => {
    const out = new Map<string, TargetOutcome>();
    for (const t of op.targets) out.set(t, judge(op, before.get(t), after(t), op.kind === "read" ? undefined : pushes.get(t)?.get(op.kind)));
    return out;
  });
}

function judge(op: FeedOp, before: TargetRead | undefined, after: TargetRead | undefined, push: TargetPush | undefined): TargetOutcome {
  if (!before?.ok) return { ok: false, failure: before?.failure ?? { reason: "no answer for this device" }, present: undefined };
  const wasPresent = entriesOf(before.list, op.address).length > 0;
  if (!after?.ok) {
    // The push may have landed; only a read may say so.
    return {
      ok: false,
      failure: { reason: `the entry list could not be read back after the push (${after?.failure.reason ?? "no answer"})`, error: after?.failure.error },
      present: undefined,
    };
  }
  const entries = entriesOf(after.list, op.address);
  const present = entries.length > 0;
  const failed = push && push.ok === false ? push.failure : undefined;
  if (op.kind === "read") return { ok: true, present, wasPresent, entries };
  if (op.kind === "remove") {
    if (!present) return { ok: true, present, wasPresent, entries };
    return { ok: false, failure: failed ?? { reason: `still listed after the remove (${entries.map((e) => e.text).join(", ")})` }, present };
  }
  if (present && entries.some((e) => e.valid)) {
    if (after.list.overflow && !wasPresent)
      return {
        ok: false,
        failure: { reason: "listed, but the feed reports overflow: the newest entries are dropped past the entry limit", notTaken: true },
        present,
      };
    return { ok: true, present, wasPresent, entries };
  }
  if (present) return { ok: false, failure: { reason: `listed as invalid (${entries.map((e) => e.text).join(", ")})`, notTaken: true }, present };
  if (failed) return { ok: false, failure: failed, present };
  const why =
    push?.ok === "unknown"
      ? `the push got no clear answer (${push.reason}) and the entry list does not show it`
      : "the push was accepted but the entry list does not show it";
  return {
    ok: false,
    failure: { reason: `${why}${after.list.overflow ? " (the feed reports overflow: entry limit reached)" : ""}`, notTaken: push?.ok === true },
    present,
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

/**
 * What a feed set (`FortigateFeedSet`, `FortimanagerFeedSet`, issue 13) does on the feeds of its
 * targets (one FortiGate, or the managed FortiGates of a FortiManager), through the same
 * {@link FeedBackend} the per-entry feed grants use (feed-client.ts, fortimanager/feed-client.ts).
 *
 * The entries of a target are the feed's entry list, keyed by CIDR (an entry that is no address by
 * `raw:<text>`); several texts of one address (`203.0.113.9`, `203.0.113.9/32`) are one entry and are
 * removed together. A change costs, for any number of addresses:
 *   1. one read of the entry list of every target (through FortiManager: one proxy call for all),
 *   2. at most one `remove` push and one `add` push per group of targets that need the same entries
 *      (through FortiManager one proxy call reaches every target of a group), sent together; never
 *      `snapshot`, so entries others push meanwhile are never lost,
 *   3. one read of the entry list again on the targets pushed to: success only when every target
 *      lists every wanted entry as valid and none of the removed ones, and no target that got new
 *      entries reports overflow (past the entry limit the newest entries are not enforced, reference
 *      §4: as for the per-entry grants, 202103).
 * A change that fails takes back, per target, what it added (one more push and read): the state stays
 * as it was, so no entry stays that no state declares; what could not be taken back is named in the error.
 * Set reconciles of one feed run one at a time in a process (runQueued on the feed's key).
 */
import { normaliseDeviceAddress } from "../../core/address";
import { runQueued } from "../../core/process-state";
import type { HeldEntry, ReconcileResult, SetPlan } from "../../core/set-lifecycle";
import { pushGrouped, readUntilShown, type FeedBackend, type TargetFailure, type TargetPush, type TargetRead } from "./feed-batcher";
import type { EntryList, FeedCommand, LeftBehind } from "./feed-entries";

/** One target's entries by key: the texts the feed lists for it, whether any is valid. */
export interface HeldFeedEntry extends HeldEntry {
  readonly texts: readonly string[];
  readonly valid: boolean;
}

/** The key of an entry text: its CIDR, or `raw:<text>` when the text is no address. */
export const feedKey = (text: string): string => {
  const a = normaliseDeviceAddress(text);
  return a ? a.cidr : `raw:${text}`;
};

/** A feed's entry list as set entries, by key. */
export function feedEntries(list: EntryList): Map<string, HeldFeedEntry> {
  const out = new Map<string, HeldFeedEntry>();
  for (const e of list.entries) {
    const key = feedKey(e.text);
    const prev = out.get(key);
    const a = normaliseDeviceAddress(e.text);
    out.set(key, {
      label: prev?.label ?? (a ? a.canonical : e.text),
      ...(a && { address: a.canonical }),
      texts: [...(prev?.texts ?? []), e.text],
      valid: (prev?.valid ?? false) || e.valid,
    });
  }
  return out;
}

/** How a feed set reports failures of its targets (the device's own diagnoses). */
export interface FeedSetFailures {
  /** A target's entry list could not be read. */
  read(failed: readonly [string, TargetFailure][]): Promise<Error> | Error;
  /** Pushes or their read-back failed: per target, the command and why; `held` are the targets that hold the change. */
  write(command: FeedCommand, failed: readonly [string, TargetFailure][], entries: readonly string[], held: readonly string[]): Promise<Error> | Error;
  /** `error` naming the entries a failed change could not take back (feed-entries.ts `withLeftBehind`). */
  leftBehind(error: Error, left: readonly LeftBehind[]): Error;
}

/** Every target's entries; throws the device's diagnosis when a target cannot be read. */
export async function readTargets(backend: FeedBackend, targets: readonly string[], fail: FeedSetFailures): Promise<Map<string, Map<string, HeldFeedEntry>>> {
  const reads = await backend.read(targets);
  const failed: [string, TargetFailure][] = [];
  const out = new Map<string, Map<string, HeldFeedEntry>>();
  for (const t of targets) {
    const r: TargetRead | undefined = reads.get(t);
    if (!r) failed.push([t, { reason: "no answer for this device" }]);
    else if (!r.ok) failed.push([t, r.failure]);
    else out.set(t, feedEntries(r.list));
  }
  if (failed.length > 0) throw await fail.read(failed);
  return out;
}

/**
 * Merges per-target entries into one map for the set layer. A key every target holds keeps its plain
 * label; a key some targets lack is named with the targets that hold it (`0.0.0.0/1 (fgt-br1)`), and a
 * wanted key some target lacks is left out (so the set reports it missing and `up` pushes it again).
 */
export function mergeTargets(held: ReadonlyMap<string, ReadonlyMap<string, HeldFeedEntry>>, wantedKeys: ReadonlySet<string>): Map<string, HeldEntry> {
  const targets = [...held.keys()];
  const out = new Map<string, HeldEntry>();
  const keys = new Set([...held.values()].flatMap((m) => [...m.keys()]));
  for (const k of keys) {
    const on = targets.filter((t) => held.get(t)!.has(k));
    const first = held.get(on[0]!)!.get(k)!;
    const everywhere = on.length === targets.length;
    if (wantedKeys.has(k)) {
      if (everywhere && on.every((t) => held.get(t)!.get(k)!.valid)) out.set(k, first);
      continue;
    }
    out.set(k, everywhere || targets.length === 1 ? first : { ...first, label: `${first.label} (${on.join(", ")})` });
  }
  return out;
}

/** Applies a set plan on every target with one read, one push per command and group of targets, one read back. */
export async function reconcileFeed(
  backend: FeedBackend,
  queueKey: string,
  targets: readonly string[],
  plan: SetPlan,
  fail: FeedSetFailures,
): Promise<ReconcileResult> {
  return runQueued(queueKey, async () => {
    const held = await readTargets(backend, targets, fail);
    const removedUnexpected = new Set<string>();
    const perTarget = new Map<string, { add: string[]; remove: string[]; removedKeys: string[]; fresh: string[] }>();
    for (const [t, entries] of held) {
      // An entry the set did not hold before is pushed even when listed (issue 19): the listing may be on its way out
      // (another writer's remove answered, not yet shown); our push, answered after it, is what keeps it.
      const add = [...plan.want].filter(([k]) => !entries.get(k)?.valid || !plan.owned?.has(k)).map(([, w]) => w.parsed.canonical);
      const removing = [...entries].filter(([k]) => !plan.want.has(k) && !plan.keep(k, t) && (plan.drop.has(k) || (plan.exclusive && !plan.allow.has(k))));
      for (const [k, e] of removing) if (!plan.drop.has(k)) removedUnexpected.add(targets.length === 1 ? e.label : `${e.label} (${t})`);
      // A dropped entry not listed is removed all the same: an add of it (ours, seconds earlier) may not show yet.
      const unlisted = [...plan.drop].filter((k) => !entries.has(k) && !plan.want.has(k) && !plan.keep(k, t) && !k.startsWith("raw:"));
      perTarget.set(t, {
        add: add.sort(),
        remove: [...removing.flatMap(([, e]) => e.texts), ...unlisted.flatMap((k) => normaliseDeviceAddress(k)?.canonical ?? [])].sort(),
        removedKeys: [...removing.map(([k]) => k), ...unlisted],
        // What a failed change may take back on this target: never an entry it listed before the change.
        fresh: add.filter((a) => !entries.has(feedKey(a))),
      });
    }
    if (plan.onBefore) {
      // What a failed change takes back (set-lifecycle.ts): never an entry any target held before, so with
      // several targets an address the change added to one target but found on another stays (the per-device gap).
      const anywhere = new Map<string, HeldEntry>();
      for (const entries of held.values()) for (const [k, e] of entries) if (!anywhere.has(k)) anywhere.set(k, e);
      plan.onBefore(anywhere);
    }
    const pushes = await pushGrouped(backend, perTarget);
    const before = mergeTargets(held, new Set(plan.want.keys()));
    if (pushes.size === 0) return { before, removedUnexpected: [...removedUnexpected].sort() };

    // The read-back decides, never the push's answer alone.
    const pushed = [...pushes.keys()];
    const reread = await readUntilShown(backend, pushed, (t, list) => {
      const p = perTarget.get(t)!;
      const after = feedEntries(list);
      const pushedOk = (c: FeedCommand) => p[c].length > 0 && pushes.get(t)?.get(c)?.ok !== false;
      return (
        (!pushedOk("remove") || p.removedKeys.every((k) => !after.has(k))) && (!pushedOk("add") || [...plan.want.keys()].every((k) => after.get(k)?.valid))
      );
    });
    const failed: Record<FeedCommand, [string, TargetFailure][]> = { add: [], remove: [] };
    const ok: Record<FeedCommand, string[]> = { add: [], remove: [] };
    for (const t of pushed) {
      const p = perTarget.get(t)!;
      const r = reread.get(t);
      for (const command of ["remove", "add"] as const) {
        if (p[command].length === 0) continue;
        const push = pushes.get(t)?.get(command);
        const refused = push && push.ok === false ? push.failure : undefined;
        if (!r?.ok) {
          failed[command].push([
            t,
            { reason: `the entry list could not be read back after the push (${r?.failure.reason ?? "no answer"})`, error: r?.failure.error },
          ]);
          continue;
        }
        const after = feedEntries(r.list);
        // Past the entry limit the newest entries are listed but not enforced: what this change added is not proven.
        const overflowed = command === "add" && r.list.overflow ? p.fresh : [];
        const bad =
          command === "remove"
            ? p.removedKeys.filter((k) => after.has(k)).map((k) => after.get(k)!.label)
            : [...new Set([...[...plan.want].filter(([k]) => !after.get(k)?.valid).map(([, w]) => w.parsed.canonical), ...overflowed])].sort();
        // A refused add proves nothing of the entries listed before it (they may be on their way out): a failure.
        if (bad.length === 0 && !(command === "add" && refused)) {
          ok[command].push(t);
          continue;
        }
        const listedInvalid = command === "add" && bad.some((a) => after.has(feedKey(a)));
        const why =
          command === "remove"
            ? `still listed after the remove: ${bad.join(", ")}`
            : overflowed.length > 0
              ? `the feed reports overflow (past the entry limit the newest entries are not enforced), so the entries this change added are not proven in force: ${bad.join(", ")}`
              : `not listed as valid after the add: ${bad.join(", ")}`;
        failed[command].push([t, refused ?? { reason: why, notTaken: command === "add" && (listedInvalid || r.list.overflow || push?.ok === true) }]);
      }
    }
    for (const command of ["remove", "add"] as const) {
      if (failed[command].length > 0) {
        const entries =
          command === "add" ? [...plan.want.values()].map((w) => w.parsed.canonical) : [...new Set([...perTarget.values()].flatMap((p) => p.remove))];
        throw fail.leftBehind(await fail.write(command, failed[command], entries, ok[command]), await takeBack(backend, perTarget, plan));
      }
    }
    return { before, removedUnexpected: [...removedUnexpected].sort() };
  });
}

/**
 * After a failed change: removes, on every target, the entries it added (the state stays as it was, so none
 * declares them), except where another grant of the program declares them on that target, and never one the
 * target listed before the change (someone else's, issue 19). One push per
 * group and one read back; returns what is still listed, per target.
 */
async function takeBack(backend: FeedBackend, perTarget: ReadonlyMap<string, { readonly fresh: readonly string[] }>, plan: SetPlan): Promise<LeftBehind[]> {
  const undo = new Map<string, { add: string[]; remove: string[] }>();
  for (const [t, p] of perTarget) {
    const remove = p.fresh.filter((a) => !plan.keep(feedKey(a), t));
    if (remove.length > 0) undo.set(t, { add: [], remove });
  }
  if (undo.size === 0) return [];
  const left: LeftBehind[] = [];
  let pushes: Map<string, Map<FeedCommand, TargetPush>>;
  let reread: Map<string, TargetRead>;
  try {
    pushes = await pushGrouped(backend, undo);
    // A take-back is a remove like any other: it may show seconds after it is answered.
    reread = await readUntilShown(backend, [...undo.keys()], (t, list) => {
      const after = feedEntries(list);
      return pushes.get(t)?.get("remove")?.ok === false || undo.get(t)!.remove.every((a) => !after.has(feedKey(a)));
    });
  } catch (e) {
    const reason = e instanceof Error ? e.message.split("\n")[0]! : String(e);
    return [...undo].map(([t, u]) => ({ device: t, entries: u.remove, reason }));
  }
  for (const [t, u] of undo) {
    const r = reread.get(t);
    const push = pushes.get(t)?.get("remove");
    const refused = push && push.ok === false ? `; the remove was refused: ${push.failure.reason}` : "";
    if (!r?.ok) {
      left.push({ device: t, entries: u.remove, reason: `the entry list could not be read back (${r?.failure.reason ?? "no answer"})${refused}` });
      continue;
    }
    const after = feedEntries(r.list);
    const still = u.remove.filter((a) => after.has(feedKey(a)));
    if (still.length > 0) left.push({ device: t, entries: still, reason: `still listed after the remove${refused}` });
  }
  return left;
}

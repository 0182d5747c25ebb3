/**
 * One FortiGate's feed entry can be granted two ways: directly (`FortigateFeedEntry`, keyed by the FortiGate's URL)
 * and through its FortiManager (`FortimanagerFeedEntry`, keyed by the manager's URL, ADOM and device name). Their
 * shared-address keys can never match, so moving a grant from one kind to the other in one `up` (the engine creates
 * the new grant, adopting the listed entry, then deletes the old one) revoked the address the new grant holds
 * (red team, issue 19).
 *
 * The identity both sides can read is the FortiGate's serial number: FortiOS reports `serial` in
 * `monitor/system/status` (fortigate.md "Endpoints", the envelope table), and FortiManager lists `sn` for each managed
 * device (fortigate-feeds.md §9: JPF-DEV, ANS-DVMDEV). So `check` records, per VDOM, feed and address, which feed
 * grants of the program declare it and how to learn their FortiGates' serials (lazily: nothing is read unless a
 * delete needs it). A delete of one kind asks only when a grant of the other kind declares the same VDOM, feed and
 * address, and then keeps the entry on a FortiGate whose serial that grant reaches. When a serial cannot be learnt,
 * the delete fails with a diagnosis naming both grants: never a revoke on a guess.
 *
 * Feed sets (`FortigateFeedSet`, `FortimanagerFeedSet`) take part both ways: their `check` declares every listed entry
 * (one record for the whole set, so its serials are learnt once), and their removals keep what a grant or set of the
 * other kind declares on the same serial. Every record goes with what declared it (a grant's or set's delete, a set's
 * update that stops listing an entry), so a long-lived process never spares an entry nobody declares.
 */
import { declareShared, fingerprint, processState, shared, sharedDeclarers } from "../../core/process-state";
import type { SetPlan } from "../../core/set-lifecycle";

export type FeedGrantKind = "direct" | "managed";

/** One feed grant's declaration of an address, as `check` saw it. */
export interface FeedDeclaration {
  readonly kind: FeedGrantKind;
  readonly grantName: string;
  /**
   * The resource type when it is not a per-entry grant (`FortigateFeedSet`, `FortimanagerFeedSet`): a set and a
   * per-entry grant of one kind may share a name, and each keeps its own record. @default a per-entry grant
   */
  readonly resource?: string;
  /** Where it reaches, for messages (`https://fgt1` or `https://fmg (adom root) devices fgt-hq`). */
  readonly where: string;
  /** The serials of the FortiGates it holds the entry on, each with the name it reaches it by. Throws when unknown. */
  serials(): Promise<ReadonlyMap<string, string>>;
}

const declarations = () => shared("fortinet.feed-declarations", () => new Map<string, Map<string, FeedDeclaration>>());
const entryKey = (vdom: string, feed: string, cidr: string) => `${vdom}\u0000${feed}\u0000${cidr}`;
const recordId = (kind: FeedGrantKind, grantName: string, resource: string | undefined) => `${kind}\u0000${resource ?? "entry"}\u0000${grantName}`;

/**
 * Across the provider processes of one run (the plugin: one process per provider instance, process-state.ts
 * `shareDeclarationsAcross`) only a digest and a name travel, never a connection or a credential: another process's
 * declaration of the other kind is known, but not which FortiGate it reaches. A delete that meets one keeps the entry
 * and fails with a diagnosis naming it (never a revoke on a guess). A declaration in another stack, or in another run,
 * is not knowable at all (as for every shared-address rule of the project).
 */
export const identityKey = (kind: FeedGrantKind, vdom: string, feed: string, cidr: string) => fingerprint("fortinet-feed-identity", kind, vdom, feed, cidr);
/** The names this process shared per identity key (a record forgotten here is still not another process's). */
const sharedHere = () => shared("fortinet.feed-identity-shared-here", () => new Map<string, Set<string>>());
const recordName = (d: Pick<FeedDeclaration, "grantName" | "resource">) => (d.resource ? `${d.grantName} (${d.resource})` : d.grantName);
const otherKind = (kind: FeedGrantKind): FeedGrantKind => (kind === "direct" ? "managed" : "direct");

/** The grants of kind `kind` that declare `cidr` in `feed` of `vdom` in another provider process of this run. */
export function declaredInOtherProcess(kind: FeedGrantKind, vdom: string, feed: string, cidr: string): string[] {
  const k = identityKey(kind, vdom, feed, cidr);
  const here = sharedHere().get(k);
  const names = [...sharedDeclarers(k)].filter((n) => !here?.has(n));
  return [...new Set([...names, ...setsInOtherProcess(kind, vdom, feed, cidr)])].sort();
}

/**
 * A set shares one line for all its entries (a 50,000-entry set would otherwise append 50,000 lines to the run's
 * declarations file at every `check`): its name and the digests of its entries, under a key of kind, VDOM and feed.
 */
const setShareKey = (kind: FeedGrantKind, vdom: string, feed: string) => fingerprint("fortinet-feed-identity-set", kind, vdom, feed);
const SET_LINE = "\u0000";
/** Parsed set lines (name, entry digests), by line: a file is read again only when it grew. */
const setLines = () => shared("fortinet.feed-identity-set-lines", () => new Map<string, { name: string; digests: Set<string> }>());

/** The key and the line a set of `kind` named `name` shares for its entries `cidrs` (exported for the red-team test). */
export function sharedSetLine(kind: FeedGrantKind, vdom: string, feed: string, name: string, cidrs: readonly string[]): [string, string] {
  const digests = cidrs.map((c) => fingerprint(c)).sort();
  return [setShareKey(kind, vdom, feed), `${name}${SET_LINE}${digests.join(",")}`];
}

function shareSet(kind: FeedGrantKind, vdom: string, feed: string, name: string, cidrs: readonly string[]): void {
  if (processState().declarations.runDir === undefined) return;
  const [k, line] = sharedSetLine(kind, vdom, feed, name, cidrs);
  sharedHere().set(k, (sharedHere().get(k) ?? new Set<string>()).add(line));
  declareShared(k, line);
}

function setsInOtherProcess(kind: FeedGrantKind, vdom: string, feed: string, cidr: string): string[] {
  const k = setShareKey(kind, vdom, feed);
  const here = sharedHere().get(k);
  const digest = fingerprint(cidr);
  const out: string[] = [];
  for (const line of sharedDeclarers(k)) {
    if (here?.has(line)) continue;
    let parsed = setLines().get(line);
    if (parsed === undefined) {
      const at = line.indexOf(SET_LINE);
      parsed = { name: line.slice(0, at), digests: new Set(line.slice(at + 1).split(",")) };
      setLines().set(line, parsed);
    }
    if (parsed.digests.has(digest)) out.push(parsed.name);
  }
  return out;
}

const inAnotherProcess = (kind: FeedGrantKind, grantName: string): FeedDeclaration => ({
  kind,
  grantName,
  where: "another provider process of this run (another provider instance)",
  serials: () =>
    Promise.reject(new Error("only its name is shared across provider processes, not its connection; declare both grants through one provider instance")),
});

/**
 * Records that `d.grantName` declares `cidr` in `feed` of `vdom` (called where `check` registers the grant's keys).
 * Its serials are learnt at most once per process, when a delete asks; a failed attempt is tried again next time.
 */
export function declareFeedEntry(vdom: string, feed: string, cidr: string, d: FeedDeclaration): void {
  record(vdom, feed, cidr, memoised(d));
}

/** `d` whose serials are learnt at most once (a failed attempt is tried again next time). */
function memoised(d: FeedDeclaration): FeedDeclaration {
  let memo: Promise<ReadonlyMap<string, string>> | undefined;
  return {
    ...d,
    serials: () =>
      (memo ??= d.serials().catch((e: unknown) => {
        memo = undefined;
        throw e;
      })),
  };
}

function record(vdom: string, feed: string, cidr: string, once: FeedDeclaration, share = true): void {
  const k = entryKey(vdom, feed, cidr);
  const m = declarations().get(k) ?? new Map<string, FeedDeclaration>();
  m.set(recordId(once.kind, once.grantName, once.resource), once);
  declarations().set(k, m);
  // Only the plugin shares across processes: elsewhere nothing could read it (and a 50,000-entry set pays per entry).
  if (!share || processState().declarations.runDir === undefined) return;
  const shareKey = identityKey(once.kind, vdom, feed, cidr);
  const name = recordName(once);
  sharedHere().set(shareKey, (sharedHere().get(shareKey) ?? new Set<string>()).add(name));
  declareShared(shareKey, name);
}

/**
 * The grants of the other kind than `kind` that declare `cidr` in `feed` of `vdom` in this run: this process's, and
 * those of another provider process, whose serials cannot be learnt here (keptByOtherKind then fails loudly).
 */
export function otherKindDeclarations(kind: FeedGrantKind, vdom: string, feed: string, cidr: string): FeedDeclaration[] {
  const local = [
    ...(declarations()
      .get(entryKey(vdom, feed, cidr))
      ?.values() ?? []),
  ].filter((d) => d.kind !== kind);
  return [...local, ...declaredInOtherProcess(otherKind(kind), vdom, feed, cidr).map((n) => inAnotherProcess(otherKind(kind), n))];
}

/** Why one FortiGate keeps the entry: the grant of the other kind that declares it there, or undefined. */
export interface KeptBy {
  readonly grantName: string;
  readonly where: string;
  readonly as: string;
}

/**
 * For each serial in `mine` (serial → device label), which declaration of the other kind holds it there. Throws an
 * Error naming the declaration whose serials could not be learnt (the caller turns it into its diagnosis).
 */
export async function keptByOtherKind(others: readonly FeedDeclaration[], mine: ReadonlyMap<string, string>): Promise<Map<string, KeptBy>> {
  const out = new Map<string, KeptBy>();
  for (const d of others) {
    let theirs: ReadonlyMap<string, string>;
    try {
      theirs = await d.serials();
    } catch (e) {
      const why = (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
      throw new Error(
        `not removed: grant "${d.grantName}" declares the same entry through ${d.where}, and whether that is this FortiGate could not be learnt (its serial number: ${why})`,
        { cause: e },
      );
    }
    for (const [serial, label] of mine) {
      const as = theirs.get(serial);
      if (as !== undefined && !out.has(label)) out.set(label, { grantName: d.grantName, where: d.where, as });
    }
  }
  return out;
}

/**
 * For a feed set about to remove entries of `feed` in `vdom` on the FortiGates `mine` (serial → target label): the
 * keys (CIDRs) a grant of the other kind declares on the same FortiGate, per target label. Feed sets remove through
 * this too, so moving a team between a set of one kind and a grant of the other in one `up` keeps the address (red
 * team). Reads a serial only when such a grant exists; one that cannot be learnt throws (the caller fails loudly).
 */
export async function keptInFeedByOtherKind(
  kind: FeedGrantKind,
  vdom: string,
  feed: string,
  mine: () => Promise<ReadonlyMap<string, string>>,
  plan?: SetPlan,
): Promise<Map<string, Set<string>>> {
  const prefix = `${vdom}\u0000${feed}\u0000`;
  const out = new Map<string, Set<string>>();
  let serials: ReadonlyMap<string, string> | undefined;
  for (const [k, m] of declarations()) {
    if (!k.startsWith(prefix)) continue;
    // Only entries this change may remove: another grant's entry elsewhere in the feed is none of its business (its
    // device may even be unreachable: asking its serial would fail a change that cannot touch it).
    if (plan && !mayRemove(plan, k.slice(prefix.length))) continue;
    const others = [...m.values()].filter((d) => d.kind !== kind);
    if (others.length === 0) continue;
    serials ??= await mine();
    for (const label of (await keptByOtherKind(others, serials)).keys()) {
      const cidr = k.slice(prefix.length);
      out.set(label, (out.get(label) ?? new Set<string>()).add(cidr));
    }
  }
  return out;
}

/**
 * A feed grant being deleted no longer declares its entry: its record goes, so that a later change in the same
 * process (a long-lived plugin process, or a test driving several lifecycles) does not keep or ask about an entry
 * nobody declares. Matched by kind, grant name and where it reaches, so the replacement of a grant (declared by its
 * own check under the same name, elsewhere) keeps its record.
 */
export function forgetFeedEntry(
  vdom: string,
  feed: string,
  cidr: string,
  kind: FeedGrantKind,
  grantName: string | undefined,
  where: string,
  resource?: string,
): void {
  if (grantName === undefined) return;
  const k = entryKey(vdom, feed, cidr);
  const m = declarations().get(k);
  const id = recordId(kind, grantName, resource);
  if (m?.get(id)?.where === where) m.delete(id);
  if (m?.size === 0) declarations().delete(k);
}

/**
 * A feed set's listed entries, declared and forgotten as a per-entry grant's are: the set's `check` declares each
 * entry it lists (an entry past its own time declares nothing), so a per-entry grant of the other kind deleted on
 * the same FortiGate keeps what the set holds; its delete forgets every entry it listed and an update the entries
 * it no longer lists, matched by `where` (an update of a FortiManager set moves `where` with its devices: the new
 * `check` has already declared what it keeps there).
 */
export interface FeedSetIdentity {
  readonly kind: FeedGrantKind;
  /** The set's type name (kept apart from a per-entry grant of the same name). */
  readonly resource: string;
  readonly vdom: string;
  readonly feed: string;
  readonly where: string;
  serials(): Promise<ReadonlyMap<string, string>>;
}

export function declareFeedSet(set: FeedSetIdentity, grantName: string | undefined, cidrs: Iterable<string>): void {
  if (grantName === undefined) return;
  // One record for all its entries: a change that meets many of them learns the set's serials once.
  const once = memoised({ kind: set.kind, resource: set.resource, grantName, where: set.where, serials: set.serials });
  const all = [...cidrs];
  for (const cidr of all) record(set.vdom, set.feed, cidr, once, false);
  shareSet(set.kind, set.vdom, set.feed, recordName(once), all);
}

export function forgetFeedSet(set: Omit<FeedSetIdentity, "serials">, grantName: string | undefined, cidrs: Iterable<string>): void {
  for (const cidr of cidrs) forgetFeedEntry(set.vdom, set.feed, cidr, set.kind, grantName, set.where, set.resource);
}

/**
 * A feed set's plan that keeps (does not remove) an entry a grant of the other kind declares in another provider
 * process of this run, whose FortiGate cannot be learnt here; `unproven` names them after the reconcile, and the set
 * then fails with its diagnosis instead of reporting a removal it did not make.
 */
/** Whether `plan` may remove the entry `k`: not wanted, and dropped or (exclusive) not allowed. */
function mayRemove(plan: SetPlan, k: string): boolean {
  return !plan.want.has(k) && (plan.drop.has(k) || (plan.exclusive && !plan.allow.has(k)));
}

export function keepingOtherProcesses(kind: FeedGrantKind, vdom: string, feed: string, plan: SetPlan): { plan: SetPlan; unproven(): string[] } {
  const hits = new Map<string, string[]>();
  const removes = (k: string) => mayRemove(plan, k);
  const keep = (k: string, t?: string) => {
    if (plan.keep(k, t)) return true;
    if (!removes(k)) return false;
    const names = declaredInOtherProcess(otherKind(kind), vdom, feed, k);
    if (names.length === 0) return false;
    hits.set(k, names);
    return true;
  };
  return {
    plan: { ...plan, keep },
    unproven: () => [...hits].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, names]) => `${k} (declared by ${names.map((n) => `"${n}"`).join(", ")})`),
  };
}

/** The reason a feed set gives for the entries {@link keepingOtherProcesses} kept. */
export const keptForOtherProcess = (unproven: readonly string[]) =>
  `not removed: ${unproven.join(", ")}: a grant of the other kind (direct / through FortiManager) declares the same entry in another provider process of this run (another provider instance), and only its name is shared across processes, so whether it is this FortiGate cannot be learnt; declare both through one provider instance`;

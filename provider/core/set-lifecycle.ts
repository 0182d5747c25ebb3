/**
 * Set resources and guards on the shared grant lifecycle (issue 13). A set is ONE resource for a list
 * of addresses on one device target (an OPNsense alias, a FortiGate address group, a FortiManager
 * administrator); a guard is a set that adds nothing and only removes what no grant of the program
 * declares. Both are {@link GrantLifecycle}s built by {@link setLifecycle}, so everything the
 * per-entry grants guarantee holds for them too: check/preflight, pinning, delete revokes, time-box,
 * diagnoses, complete outputs.
 *
 * How a set plugs into `grantProvider`:
 * - identity = the target (and the device): changing it replaces the set; the address list, the
 *   descriptions and `exclusive` change in place (`update`).
 * - `sharedKey` is the set itself (target + resource name): it queues the set's operations and is
 *   never shared; `sharedKeys` are one key per listed address in the exact form the per-entry resource
 *   uses, so the shared-address rule works per address both ways: a set removing an address (update,
 *   delete, expiry) keeps it when a per-entry grant or another set of the program declares it, and a
 *   per-entry grant being deleted keeps it while a set lists it. A set that reaches several targets
 *   (FortiManager feeds: several FortiGates) applies the rule per target: an entry stays on a target only
 *   while another grant declares it on that same target.
 * - Non-exclusive: the set manages exactly what it lists — adds what is missing, removes what it
 *   listed before and no longer lists, never touches other entries; duplicates are one entry.
 * - `exclusive: true`: the target must hold exactly the listed entries. `read` fills `unexpected` with
 *   every other entry (by name), while `check` always asks for `unexpected: []`, so a refresh that
 *   found one makes `preview --refresh --expect-no-changes` exit 7 with `[diff: ~unexpected]`, the diff
 *   writes a warning naming the entries (dynamic-provider stderr reaches the CLI output, Pulumi ≥
 *   3.146), and `up` removes them (and says so again).
 * - Where the device keys an entry by name (FortiGate objects), the device reports what the entry enforces
 *   (`HeldEntry.value`): a listed entry holding another value is named in `unexpected` for every set (it
 *   stays in `addresses`, so `update` knows it as the set's own, `SetPlan.owned`, and puts the value back).
 * - A listed entry the target lacks (removed by hand, a reboot) is named in `missing` by `read`, while
 *   `addresses` keeps the list as declared (same positions), and `check` always asks for `missing: []`:
 *   preview names exactly the lost entries (`~ missing: [ + [0]: "10.50.0.9" ]`), never a
 *   shifted list, and `up` adds them back. Dynamic providers cannot send a detailed diff (the host
 *   drops it, docs/reference/pulumi.md §1.1), so the engine's own diff of outputs against inputs is
 *   what preview shows: the outputs are shaped so that diff names each change.
 * - A guard (`guard: true`): `exclusive` over the entries its grants declare; it never adds, and its
 *   delete removes nothing (the grants own their entries).
 * - Overlaps: an entry the set or guard does not list but another resource of the program declares on
 *   the target is not drift — `read` records each unexpected entry's shared key (`unexpectedKeys`), and
 *   the diff ({@link loudDiff}) drops those another resource declares (naming it), as `up` keeps them.
 *   A new exclusive set or guard reads its target at `check` and names what its first `up` will remove.
 * - Expiry: a set past its time removes its own entries (shared ones stay) and then holds nothing; a
 *   guard holds nothing of its own, so it is expired as soon as its time passes; neither reports
 *   `unexpected` once due.
 * - Entry expiry (issue 22): an entry may carry its own `expiresAt`. `check` names the listed entries past
 *   theirs in `expiredEntries` (absent when none is, so older state diffs clean); it is compared like an
 *   input, so an entry coming due is a diff and `up` removes it (unless another grant of the program declares
 *   it). Past its time an entry declares nothing, is never `missing`, and an exclusive set treats it as
 *   unexpected when held; a later update or delete leaves an address that expired earlier to whoever holds it now.
 *
 * Caveat of the shared-address rule during `update`: the engine checks resources in program order and
 * runs an update as soon as its resource is checked, so a grant declared AFTER the set in the program
 * is not yet known when the set's update removes an address, nor when its diff sorts `unexpected` entries.
 * Deletes (the engine runs them after the whole program registered) always see every declaration.
 * Registration order is not program order (the SDK registers concurrently): make a set depend on the
 * per-entry grants it shares addresses with (`dependsOn`).
 */
import type * as pulumi from "@pulumi/pulumi";
import { AsyncLocalStorage } from "node:async_hooks";
import { z } from "zod";
import { parseAddress, type AddressResult, type GrantAddress } from "./address";
import type { DeviceFamily } from "./diagnosis";
import {
  checkedInRun,
  declaredByOther,
  grantMetaFields,
  otherDeclarers,
  type DevicePin,
  type GrantLifecycle,
  type PinnedState,
  type PreflightMode,
} from "./grant-lifecycle";
import { awaitedAtExit, fingerprint, processState, restoring } from "./process-state";
import type { SettingsNamespace } from "./settings";
import { expiresAtField, isDue } from "./time-box";

/** One listed entry as the user may write it: an address, or an address with a description (and its own end). */
export type SetEntryInput =
  string | { readonly address: string; readonly description?: string; readonly name?: string; readonly expiresAt?: pulumi.Input<string> };

/** One listed entry, normalised: canonical address, optional description (and FortiGate object name). */
export interface SetEntry {
  readonly address: string;
  readonly description?: string;
  /** FortiGate only: the object (member) name, when not derived from the prefix. */
  readonly name?: string;
  /** When this entry ends (ISO 8601 with a zone): then `up` removes it, as a per-entry grant's expiry does. */
  readonly expiresAt?: string;
}

/** What a device reports for one entry of the target. */
export interface HeldEntry {
  /** How the entry is named to the user (`0.0.0.0/1`, `contractor (198.51.100.9)`). */
  readonly label: string;
  /** Canonical address, when the entry is an IP address. */
  readonly address?: string;
  /** The description/comment the device stores, where it has one. */
  readonly description?: string;
  /**
   * What the device enforces for the entry where its key is a name, not the address (FortiGate: the
   * object's value, or what else the member is). A listed entry whose value is not the listed address
   * is drift, named in `unexpected`; devices keyed by the address leave it out.
   */
  readonly value?: string;
}

/** A wanted entry with its parsed address, keyed by the device's entry key. */
export interface WantedEntry extends SetEntry {
  readonly parsed: GrantAddress;
}

/** What `reconcile` must do on the target. */
export interface SetPlan {
  /** Entries that must be present (added when missing; descriptions updated where the device keeps them). */
  readonly want: ReadonlyMap<string, WantedEntry>;
  /** Keys to remove when present (listed before, no longer listed; or everything on delete). */
  readonly drop: ReadonlySet<string>;
  /** When set, also remove every present entry whose key is not in `allow`. */
  readonly exclusive: boolean;
  /** Keys an exclusive reconcile leaves alone (the listed ones; a guard's covered ones). */
  readonly allow: ReadonlySet<string>;
  /**
   * Never remove these (declared by another grant of the program: the shared-address rule). Devices that
   * reach several targets at once (FortiManager feeds) pass the target: the rule then holds per target.
   */
  keep(key: string, target?: string): boolean;
  /**
   * Keys the set listed before this change (update): a listed entry found holding another value was
   * edited by hand and is put back, where the device keys entries by name (FortiGate), instead of being
   * refused as someone else's object. @default none
   */
  readonly owned?: ReadonlySet<string>;
  /**
   * Told what the target held before any write (as soon as the reconcile has read it), so a create that
   * fails partway can take back exactly what it added and nothing that was there before.
   */
  onBefore?(before: ReadonlyMap<string, HeldEntry>): void;
}

/** What `reconcile` reports. */
export interface ReconcileResult {
  /** The target's entries before the change, by key. */
  readonly before: ReadonlyMap<string, HeldEntry>;
  /** Labels of the entries removed that the set did not list (exclusive / guard removals). */
  readonly removedUnexpected: readonly string[];
}

/** The inputs every set shares (spread into each device's schema). */
export interface SetFields {
  readonly addresses: SetEntry[];
  readonly exclusive: boolean;
  readonly guard?: boolean | undefined;
  /**
   * Entries of the target the set does not list (exclusive sets and guards) and listed entries holding
   * another value (every set), found by the last read; `check` always asks for [].
   */
  readonly unexpected?: string[] | undefined;
  /** Listed entries the target lacks, found by the last read (by address); `check` always asks for []. */
  readonly missing?: string[] | undefined;
  /**
   * State only: the shared-address key of each `unexpected` entry (same order), so a diff can tell an entry
   * another resource of the program declares on the target (not drift) from a foreign one.
   */
  readonly unexpectedKeys?: string[] | undefined;
  readonly allowBroad?: boolean | undefined;
  readonly description?: string | undefined;
  readonly expiresAt?: string | undefined;
  /**
   * Listed entries past their own `expiresAt` (by address), as `check` computes them; absent when none is.
   * It is compared like an input, so an entry coming due is a diff (`~ expiredEntries`) and `up` removes it.
   */
  readonly expiredEntries?: string[] | undefined;
}

/** State fields every set adds. */
export interface SetState extends PinnedState {
  /** Listed addresses that were on the device before the set was created (informational). */
  readonly adopted: string[];
}

const entrySchema = z.union([
  z.string(),
  z
    .object({
      address: z.string(),
      description: grantMetaFields.description,
      name: z.string().optional(),
      expiresAt: expiresAtField,
    })
    .strict(),
]);

/** The zod fields of a set's inputs; `addresses` is checked entry by entry with address.ts (hostile input refused). @internal */
export const setFields = {
  addresses: z
    .array(entrySchema)
    .max(50_000, "at most 50,000 entries per set")
    .describe("The addresses (IPv4/IPv6 host or CIDR), each optionally `{ address, description, expiresAt }`; duplicates are one entry."),
  exclusive: z.boolean().default(false).describe("The target must hold exactly these addresses: anything else is drift, and `up` removes it."),
  guard: z.boolean().optional().describe("Set by the guard classes: add nothing, remove what no grant of the program declares."),
  unexpected: z.array(z.string()).optional().describe("Drift found by the last refresh; `check` always asks for [] (an output)."),
  missing: z.array(z.string()).optional().describe("Listed entries the target lacked at the last refresh; `check` always asks for [] (an output)."),
  allowBroad: z.boolean().optional().describe("Allow prefixes broader than /8 (IPv4) or /32 (IPv6)."),
  ...grantMetaFields,
};

/** Placeholders for unknown set fields during preview. */
export const setPlaceholders = {
  addresses: [],
  exclusive: false,
  guard: false,
  unexpected: [],
  missing: [],
  allowBroad: false,
  description: "",
  expiresAt: "2999-01-01T00:00:00Z",
};

/** Adds an issue per entry that address.ts refuses, naming `addresses.<i>`. @internal */
export function refineAddresses(v: { addresses: readonly z.infer<typeof entrySchema>[]; allowBroad?: boolean | undefined }, ctx: z.RefinementCtx): void {
  const results = v.addresses.map((e, i) => {
    const r = parseAddress(typeof e === "string" ? e : e.address, { allowBroad: v.allowBroad === true });
    if (!r.ok) ctx.addIssue({ code: "custom", path: ["addresses", i, ...(typeof e === "string" ? [] : ["address"])], message: r.rule });
    return r;
  });
  refined.set(v.addresses, { allowBroad: v.allowBroad === true, results });
}

/** What {@link refineAddresses} found per list (the checked value's own array), so `normalise` does not parse it again. */
const refined = new WeakMap<readonly unknown[], { readonly allowBroad: boolean; readonly results: readonly AddressResult[] }>();

/**
 * The parsed address of each entry of a list {@link normaliseEntries} returned (same positions), so that the
 * set's later steps in the same call chain (`check`'s shared keys and fit check) do not parse a large list again:
 * a 50,000-entry set was parsed five times per `check` (issue 22). Keyed by the list object; never mutated.
 */
const parsedLists = new WeakMap<readonly SetEntry[], readonly GrantAddress[]>();

/**
 * Canonical, de-duplicated (by CIDR; the last description wins; the latest `expiresAt` wins, and an entry
 * listed once without one never ends), sorted entries: a cosmetic rewrite is never a diff. @internal
 */
export function normaliseEntries(list: readonly z.infer<typeof entrySchema>[], allowBroad: boolean | undefined): SetEntry[] {
  const byCidr = new Map<string, { entry: SetEntry; parsed: GrantAddress }>();
  const known = refined.get(list);
  const results = known && known.allowBroad === (allowBroad === true) && known.results.length === list.length ? known.results : undefined;
  for (const [i, e] of list.entries()) {
    const raw = typeof e === "string" ? { address: e } : e;
    const r = results?.[i] ?? parseAddress(raw.address, { allowBroad: allowBroad === true });
    if (!r.ok) continue;
    const prev = byCidr.get(r.address.cidr)?.entry;
    const description = raw.description ?? prev?.description;
    const name = raw.name ?? prev?.name;
    const ends = prev ? laterEnd(prev.expiresAt, raw.expiresAt) : raw.expiresAt;
    byCidr.set(r.address.cidr, {
      entry: {
        address: r.address.canonical,
        ...(description !== undefined && description !== "" && { description }),
        ...(name !== undefined && { name }),
        ...(typeof ends === "string" && { expiresAt: ends }),
      },
      parsed: r.address,
    });
  }
  const sorted = [...byCidr.values()].sort((a, b) => (a.entry.address < b.entry.address ? -1 : a.entry.address > b.entry.address ? 1 : 0));
  const out = sorted.map((x) => x.entry);
  parsedLists.set(
    out,
    sorted.map((x) => x.parsed),
  );
  return out;
}

/** The end of an entry listed twice: it lasts while either listing does. */
function laterEnd(a: unknown, b: unknown): string | undefined {
  if (typeof a !== "string" || typeof b !== "string") return undefined;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

/** Addresses of the entries past their own `expiresAt`, sorted (`undefined` when none is, so older state diffs clean). @internal */
export function dueEntries(addresses: readonly SetEntry[]): string[] | undefined {
  const due = addresses.filter((e) => isDue(e.expiresAt)).map((e) => e.address);
  return due.length > 0 ? due.sort() : undefined;
}

/** What a device plugs into the set lifecycle (beside the connection parts it shares with its per-entry resource). @internal */
export interface SetDevice<I extends SetFields, C> {
  readonly namespace: SettingsNamespace;
  readonly family: DeviceFamily;
  readonly schema: z.ZodType<I>;
  readonly placeholders: Readonly<Record<string, unknown>>;
  /** Target fields (a change replaces the set). */
  readonly identity: readonly (keyof I & string)[];
  /** Extra state-only fields of the device. @default none */
  readonly outputOnly?: readonly string[];
  /** Device-specific normalisation after the shared one (e.g. the OPNsense method default). */
  normalise?(inputs: I): I;
  pin(inputs: I): DevicePin;
  connect(inputs: I, pin: DevicePin): C;
  hostOf(pin: DevicePin): string;
  /** The target on its device, for messages and the set's own key. */
  targetOf(inputs: I): string;
  /** The device's key of a listed entry (`cidr`; FortiGate: family + object name). */
  keyOf(inputs: I, entry: WantedEntry): string;
  /** The per-entry resource's `sharedKey` of the entry with device key `key`, so both kinds see each other. */
  entrySharedKey(inputs: I, pin: DevicePin, key: string): string;
  /**
   * Devices whose set reaches several targets (FortiManager feeds: the managed FortiGates): the targets, and
   * the per-entry resource's key of the entry on one of them. The set declares the entry on each target, and
   * keeps an entry on a target only while another grant declares it on that same target (issue 18).
   */
  targetsOf?(inputs: I): readonly string[];
  entryTargetKey?(inputs: I, pin: DevicePin, key: string, target: string): string;
  /** More keys the set declares for an entry (FortiGate: the address object itself, apart from its membership). */
  entryDeviceKeys?(inputs: I, pin: DevicePin, key: string): readonly string[];
  /**
   * `existing`: `check` runs for a set already in state on the same target and device (an in-place change), so a
   * device may prove less before it (issue 22: the write proves the target exists, and answers a lost right with
   * its diagnosis); a new set or a moved one always gets the whole preflight.
   */
  preflight(c: C, inputs: I, mode: Exclude<PreflightMode, "off">, context: { readonly existing: boolean }): Promise<unknown>;
  /** Every entry the target holds now, by key (one or two reads, whatever the size). */
  current(c: C, inputs: I): Promise<Map<string, HeldEntry>>;
  /** Applies a plan in as few device writes as the device allows; success only when the device holds the result. */
  reconcile(c: C, inputs: I, plan: SetPlan): Promise<ReconcileResult>;
  /**
   * The inputs an in-place change works on, given the state of the same target: what the device reported for it
   * (OPNsense: the alias uuid and type), so the change need not look it up again, where the device can tell a stale
   * record. @default the new inputs
   */
  forChange?(c: C, olds: I & SetState, news: I): Promise<I>;
  /** Device-reported outputs after create (e.g. the alias uuid). @default none */
  outputs?(c: C, inputs: I): Promise<Record<string, unknown>>;
}

type Raw = Record<string, unknown>;

/** The parsed address of each listed entry (same positions; an entry address.ts refuses is `undefined`). @internal */
export function parsedAddresses(list: readonly SetEntry[]): readonly (GrantAddress | undefined)[] {
  const known = parsedLists.get(list);
  if (known) return known;
  return list.map((e) => {
    const r = parseAddress(e.address, { allowBroad: true });
    return r.ok ? r.address : undefined;
  });
}

/**
 * How a set stores its list (check's inputs, and so state's inputs and outputs): an entry that is only an address
 * as the address itself, an entry with a description, name or end as the object. A 50,000-address set stored
 * `{"address":…}` per entry: state 1.85× the same list of strings, twice, and the CLI holds and rewrites all of it
 * at every checkpoint (issue 22). @internal
 */
export type StoredSetEntry = string | SetEntry;

/** {@link SetEntry} list → stored form ({@link StoredSetEntry}); keeps the parsed addresses of the list. @internal */
export function compactEntries(list: readonly StoredSetEntry[]): StoredSetEntry[] {
  // A list may already be mixed (state edited by hand, or half-converted): a string entry stays the address it is.
  const out = list.map((e) => (typeof e !== "string" && e.description === undefined && e.name === undefined && e.expiresAt === undefined ? e.address : e));
  const parsed = parsedLists.get(list as readonly SetEntry[]);
  if (parsed) parsedLists.set(out as never, parsed);
  return out;
}

/** The expanded list of each stored list object (a list is never mutated): one operation expands its inputs once. */
const expandedLists = new WeakMap<readonly unknown[], SetEntry[]>();

/**
 * Stored list → {@link SetEntry} list, for state written in either form: this version's (a plain entry as a string)
 * and earlier versions' (every entry an object). Entries that are objects are kept as they are. @internal
 */
export function expandEntries(list: readonly StoredSetEntry[]): SetEntry[] {
  const hit = expandedLists.get(list);
  if (hit) return hit;
  if (!list.some((e) => typeof e === "string")) return list as SetEntry[];
  const out = list.map((e) => (typeof e === "string" ? { address: e } : e));
  const parsed = parsedLists.get(list as never);
  if (parsed) parsedLists.set(out, parsed);
  expandedLists.set(list, out);
  return out;
}

/** True when a stored list is in the form of earlier versions (a plain entry as `{ address }`): a refresh keeps that form. */
const oldForm = (list: readonly StoredSetEntry[]) =>
  list.some((e) => typeof e === "object" && e.description === undefined && e.name === undefined && e.expiresAt === undefined);

/** {@link wanted} per device part and inputs object: one operation asks for it several times (read-only maps). */
const wantedMemo = new WeakMap<object, WeakMap<object, ReadonlyMap<string, WantedEntry>>>();

/** Parsed wanted entries by device key (computed once per inputs object; callers never mutate it). @internal */
export function wanted<I extends SetFields>(device: Pick<SetDevice<I, unknown>, "keyOf">, inputs: I): ReadonlyMap<string, WantedEntry> {
  let byInputs = wantedMemo.get(device);
  if (!byInputs) wantedMemo.set(device, (byInputs = new WeakMap()));
  const hit = byInputs.get(inputs);
  if (hit) return hit;
  const out = new Map<string, WantedEntry>();
  // Stored state (a plain entry as its address) reaches here too: a device's update/delete wrapper reads the list of
  // the state it is given (the feed sets forget their identity records by it).
  const list = expandEntries((inputs.addresses ?? []) as readonly StoredSetEntry[]);
  const parsed = parsedAddresses(list);
  list.forEach((e, i) => {
    if (!parsed[i]) return;
    const p = parsed[i];
    const w: WantedEntry =
      e.description === undefined && e.name === undefined && e.expiresAt === undefined ? { address: e.address, parsed: p } : { ...e, parsed: p };
    out.set(device.keyOf(inputs, w), w);
  });
  byInputs.set(inputs, out);
  return out;
}

/** The wanted entries not past their own `expiresAt`: what the set holds on the device now. @internal */
export function liveWanted<I extends SetFields>(device: Pick<SetDevice<I, unknown>, "keyOf">, inputs: I): ReadonlyMap<string, WantedEntry> {
  const all = wanted(device, inputs);
  let due: string[] | undefined;
  for (const [k, w] of all) if (w.expiresAt !== undefined && isDue(w.expiresAt)) (due ??= []).push(k);
  if (!due) return all;
  // A copy: wanted() is memoised per inputs object and shared by the operation's other steps.
  const out = new Map(all);
  for (const k of due) out.delete(k);
  return out;
}

/** A loud line in the CLI output (the dynamic provider's stderr is passed through, Pulumi ≥ 3.146). */
export function warn(message: string): void {
  if (process.env.FIREWALL_GRANTS_QUIET === "1") return;
  process.stderr.write(`warning: ${message}\n`);
}

/** `1 entry`, `3 entries`. */
const count = (n: number) => `${n} entr${n === 1 ? "y" : "ies"}`;

const pinOf = (s: unknown): DevicePin | undefined => {
  const d = (s as Raw).device;
  return d && typeof d === "object" ? (d as DevicePin) : undefined;
};
const nameOf = (s: unknown): string | undefined => {
  const n = (s as Raw).grantName;
  return typeof n === "string" ? n : undefined;
};

/**
 * Runs `fns` with at most `n` in flight. After a failure no further one starts, and the failure is thrown
 * only once those in flight settled: a change that fails takes back what it added, which must include
 * every write it had sent.
 */
export async function pool(fns: readonly (() => Promise<unknown>)[], n: number): Promise<void> {
  let next = 0;
  let failure: { e: unknown } | undefined;
  const worker = async () => {
    while (next < fns.length && !failure) {
      try {
        await fns[next++]!();
      } catch (e) {
        failure ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, fns.length) }, worker));
  if (failure) throw failure.e;
}

/** The inputs (or state) with its list expanded ({@link expandEntries}); the same object back per inputs object, so memos keyed by it hold. */
const expandedInputs = new WeakMap<object, object>();
function expanded<T extends SetFields>(i: T): T {
  const list = (i.addresses ?? []) as readonly StoredSetEntry[];
  const full = expandEntries(list);
  if (full === list) return i;
  const hit = expandedInputs.get(i) as T | undefined;
  if (hit && hit.addresses === full) return hit;
  const out = { ...i, addresses: full };
  expandedInputs.set(i, out);
  return out;
}

/** Builds the {@link GrantLifecycle} of a set (or guard) resource from its device part. @internal */
export function setLifecycle<I extends SetFields, C>(device: SetDevice<I, C>, typeName: string): GrantLifecycle<I, I & SetState, C> {
  const keepFn = (inputs: I, pin: DevicePin | undefined) => (key: string, target?: string) =>
    pin !== undefined &&
    declaredByOther(
      target !== undefined && device.entryTargetKey ? device.entryTargetKey(inputs, pin, key, target) : device.entrySharedKey(inputs, pin, key),
      nameOf(inputs),
    );
  const targetKeys = (inputs: I, pin: DevicePin, key: string) =>
    device.entryTargetKey ? (device.targetsOf?.(inputs) ?? []).map((t) => device.entryTargetKey!(inputs, pin, key, t)) : [];
  const describe = (inputs: I) => `${typeName} ${nameOf(inputs) ?? ""} (${device.targetOf(inputs)})`.replace("  ", " ");

  /**
   * The shared-address keys of the listed entries (the per-entry form, plus per managed device where the set has
   * them). An entry past its own time declares nothing, as an expired per-entry grant does.
   */
  const entryKeys = (s: I, pin: DevicePin, evenDue = false): string[] => {
    const out: string[] = [];
    for (const k of (evenDue ? wanted(device, s) : liveWanted(device, s)).keys()) {
      out.push(device.entrySharedKey(s, pin, k));
      if (device.entryTargetKey) out.push(...targetKeys(s, pin, k));
      if (device.entryDeviceKeys) out.push(...device.entryDeviceKeys(s, pin, k));
    }
    return out;
  };
  /** The state without the listed entries its last read found missing (or that expired and were removed): what it holds. */
  const holding = (s: I): I => {
    const lost = new Set([...((s as SetState & I).missing ?? []), ...(s.expiredEntries ?? [])]);
    return lost.size === 0 ? s : ({ ...s, addresses: s.addresses.filter((e) => !lost.has(e.address)) } as I);
  };

  /** The state without the entries that expired and were removed by an earlier `up`. */
  const holdingListed = (s: I): I => {
    const gone = new Set(s.expiredEntries ?? []);
    return gone.size === 0 ? s : ({ ...s, addresses: s.addresses.filter((e) => !gone.has(e.address)) } as I);
  };

  const loud = (inputs: I, removed: readonly string[]) => {
    if (removed.length > 0)
      warn(`${describe(inputs)}: removed ${removed.length} entr${removed.length === 1 ? "y" : "ies"} no grant of this program declares: ${removed.join(", ")}`);
  };

  const plan = (inputs: I, pin: DevicePin | undefined, drop: readonly string[], addMissing: boolean): SetPlan => {
    const want = liveWanted(device, inputs);
    return {
      want: addMissing && inputs.guard !== true ? want : new Map(),
      drop: new Set(drop.filter((k) => !want.has(k))),
      owned: new Set(drop),
      exclusive: inputs.exclusive === true || inputs.guard === true,
      allow: new Set(want.keys()),
      keep: keepFn(inputs, pin),
    };
  };

  /**
   * Applies the plan; when it fails partway, takes back what it added (never what the target held before),
   * best effort, then fails. A failed create leaves no state, and a failed update leaves the old state: an
   * entry added by the change would be declared by neither, and `destroy` would leave it (issue 18 item 4).
   * A change cut short because the engine went away (killed CLI) is such a failure; its take-back is the
   * one device work the process still does then (process-state.ts `restoring`).
   */
  const reconcileOrTakeBack = (c: C, inputs: I, p: SetPlan): Promise<ReconcileResult> => awaitedAtExit(() => reconcileOnce(c, inputs, p));
  const reconcileOnce = async (c: C, inputs: I, p: SetPlan): Promise<ReconcileResult> => {
    let before: ReadonlyMap<string, HeldEntry> | undefined;
    try {
      const r = await device.reconcile(c, inputs, { ...p, onBefore: (b) => void (before ??= b) });
      // The engine is gone (the CLI was killed): no state will record this change, so it is a failure too.
      const gone = processState().engineGone;
      if (gone !== undefined) throw new Error(gone);
      return r;
    } catch (e) {
      const added = before ? [...p.want.keys()].filter((k) => !before!.has(k)) : [];
      if (added.length > 0) {
        const undo: SetPlan = { want: new Map(), drop: new Set(added), exclusive: false, allow: new Set(), keep: p.keep };
        await restoring(() => device.reconcile(c, inputs, undo)).catch(() => undefined);
      }
      throw e;
    }
  };

  return {
    namespace: device.namespace,
    family: device.family,
    schema: device.schema,
    placeholders: { ...setPlaceholders, ...device.placeholders },
    outputOnly: ["adopted", "unexpectedKeys", ...(device.outputOnly ?? [])],
    identity: device.identity,
    normalise: (i) => {
      const { expiredEntries: _stale, ...rest } = i;
      const addresses = normaliseEntries(i.addresses, i.allowBroad);
      const due = dueEntries(addresses);
      const base = {
        ...rest,
        addresses,
        unexpected: [] as string[],
        missing: [] as string[],
        exclusive: i.exclusive === true,
        ...(due && { expiredEntries: due }),
      } as I;
      const done = device.normalise ? device.normalise(base) : base;
      return { ...done, addresses: compactEntries(done.addresses) } as never;
    },
    pin: device.pin,
    connect: device.connect,
    hostOf: device.hostOf,
    sharedKey: (i, pin) => fingerprint("set", pin.url, pin.scope, device.targetOf(i), nameOf(i)),
    // A guard declares nothing itself: the grants it covers declare their entries.
    sharedKeys: (i, pin) => (i.guard === true ? [] : entryKeys(expanded(i), pin)),
    preflight: (c, i, mode) => device.preflight(c, expanded(i), mode, { existing: sameTargetAsState(device, i) }),
    // A guard holds nothing of its own; a set, its listed entries the device holds.
    heldKeys: (s, pin) => (s.guard === true ? [] : entryKeys(holding(expanded(s)), pin, true)),

    // The first `up` of an exclusive set or guard removes what the target holds beyond its list: say so, naming it.
    async previewCreate(c, stored, pin) {
      const inputs = expanded(stored);
      if (inputs.exclusive !== true && inputs.guard !== true) return;
      const held = await device.current(c, inputs);
      const want = liveWanted(device, inputs);
      const keep = keepFn(inputs, pin);
      const doomed = [...held.entries()]
        .filter(([k]) => !want.has(k) && !keep(k))
        .map(([, h]) => h.label)
        .sort();
      if (doomed.length === 0) return;
      const them = doomed.length === 1 ? "it" : "them";
      warn(
        `${describe(inputs)} is new: the target holds ${count(doomed.length)} ` +
          `${inputs.guard === true ? "no grant of this program declares" : "this exclusive set does not list"}: ${doomed.join(", ")} — ` +
          `its first \`pulumi up\` REMOVES ${them} (put there by hand, a script or another stack; list ${them} to keep ${them})`,
      );
    },

    async create(c, stored) {
      const inputs = expanded(stored);
      const r = await reconcileOrTakeBack(c, inputs, plan(inputs, pinOf(inputs), [], true));
      loud(inputs, r.removedUnexpected);
      const adopted = [...wanted(device, inputs).entries()].filter(([k]) => r.before.has(k)).map(([, w]) => w.address);
      const outs = {
        unexpected: [] as string[],
        unexpectedKeys: [] as string[],
        missing: [] as string[],
        adopted,
        ...(device.outputs ? await device.outputs(c, inputs) : {}),
      };
      return { id: `${device.targetOf(inputs)}#${nameOf(inputs) ?? "set"}`, outs: outs as never };
    },

    async read(c, stored) {
      const state = expanded(stored);
      const held = await device.current(c, state);
      const want = wanted(device, state);
      // An entry past its own time is no longer the set's: not missing when gone, and drift for an exclusive set when held.
      const live = liveWanted(device, state);
      // Held as listed: present, and (where the key is a name) enforcing the listed address.
      const asListed = (k: string) => {
        const h = held.get(k);
        return h !== undefined && (h.value === undefined || h.value === want.get(k)?.parsed.canonical);
      };
      // A guard reports nothing missing: the grants it covers report their own entries. A set keeps every
      // listed entry in place (a lost one goes to `missing`), so one lost address is one line in preview.
      // In the form the state has it (earlier versions stored every entry as an object): a refresh changes no form.
      const asObjects = oldForm(stored.addresses as readonly StoredSetEntry[]);
      const addresses =
        state.guard === true
          ? stored.addresses
          : [...want.entries()].map(([k, w]): StoredSetEntry => {
              const d = w.description === undefined ? undefined : held.get(k)?.description;
              const description = d !== undefined && d !== "" ? d : w.description;
              if (!asObjects && description === undefined && w.name === undefined && w.expiresAt === undefined) return w.address;
              const { parsed: _parsed, ...entry } = w;
              return { ...entry, ...(description !== undefined && { description }) };
            });
      const missing =
        state.guard === true
          ? []
          : [...live.entries()]
              .filter(([k]) => !held.has(k))
              .map(([, w]) => w.address)
              .sort();
      // Past its time, a set or guard enforces nothing: what else the target holds is not its business.
      const inTime = state.expired !== true && !isDue(state.expiresAt);
      const exclusive = (state.exclusive === true || state.guard === true) && inTime;
      const pin = pinOf(state);
      // Named: what an exclusive set does not list (with its shared-address key, so a diff can tell an entry
      // another resource of the program declares from a foreign one), and, for every live set, a listed entry
      // holding another value (no key: it is the set's own; it stays in `addresses`, and `up` puts the value back).
      const named = [...held.entries()]
        .filter(([k]) => (exclusive && !live.has(k)) || (inTime && live.has(k) && !asListed(k)))
        .map(([k, h]) => ({ label: h.label, key: !live.has(k) && pin ? device.entrySharedKey(state, pin, k) : "" }))
        .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
      // Device outputs as found now (OPNsense: the uuid of an alias re-created under its name).
      const outputs = device.outputs ? await device.outputs(c, state) : {};
      return { addresses, unexpected: named.map((o) => o.label), unexpectedKeys: named.map((o) => o.key), missing, ...outputs } as Partial<I & SetState>;
    },

    async update(c, storedOlds, storedNews) {
      const olds = expanded(storedOlds);
      const news = expanded(storedNews);
      const pin = pinOf(olds);
      // Listed before and no longer listed, or come due: removed (unless another grant of the program declares it).
      // An entry that expired before is not the set's any more: whoever holds that address now keeps it.
      const before = olds.guard === true ? [] : [...wanted(device, holdingListed(olds)).keys()];
      const on = device.forChange ? await device.forChange(c, olds, news) : news;
      const r = await reconcileOrTakeBack(c, on, plan(news, pin, before, true));
      loud(news, r.removedUnexpected);
      const outputs = device.outputs ? await device.outputs(c, on) : {};
      return { unexpected: [] as string[], unexpectedKeys: [] as string[], missing: [] as string[], ...outputs } as unknown as Partial<I & SetState>;
    },

    async remove(c, stored) {
      const state = expanded(stored);
      if (state.guard === true) return;
      const pin = pinOf(state);
      const drop = [...wanted(device, holdingListed(state)).keys()];
      await device.reconcile(c, state, { want: new Map(), drop: new Set(drop), exclusive: false, allow: new Set(), keep: keepFn(state, pin) });
    },

    // Only the method / name prefix changed on the same target: the old set must go first, or the
    // new one would adopt its entries and the old one's delete would then remove them.
    deleteBeforeReplace: (replaces) => !replaces.includes("device") && !device.identity.slice(0, 1).some((k) => replaces.includes(k)),
    // A read that found entries the exclusive set does not list (`up` removes them), or listed ones the target lacks (`up` adds them).
    needsUpdate: (olds) => (olds.unexpected ?? []).length > 0 || (olds.missing ?? []).length > 0,
  };
}

/** The old inputs of the `check` in progress (the engine's `olds`: empty for a new resource). */
const checking = new AsyncLocalStorage<Raw>();

/** True inside `check` of a set whose old inputs name the same target (identity fields) on the same pinned device. */
function sameTargetAsState<I extends SetFields>(device: Pick<SetDevice<I, unknown>, "identity">, inputs: I): boolean {
  const olds = checking.getStore();
  if (!olds || Object.keys(olds).length === 0) return false;
  const pin = (inputs as Raw).device;
  const old = olds.device;
  const samePin = typeof pin === "object" && pin !== null && typeof old === "object" && old !== null && JSON.stringify(pin) === JSON.stringify(old);
  return samePin && device.identity.every((k) => JSON.stringify(olds[k] ?? null) === JSON.stringify((inputs as Raw)[k] ?? null));
}

/**
 * Wraps a set provider's `diff` so that unexpected entries are named loudly in preview, and its `check` so that the
 * preflight knows an in-place change from a new set ({@link SetDevice.preflight}).
 */
export function loudDiff<
  P extends { diff(id: string, olds: never, news: never): Promise<{ changes?: boolean }>; check(olds: never, news: never): Promise<unknown> },
>(provider: P, typeName: string): P {
  const diff = provider.diff.bind(provider);
  const check = provider.check.bind(provider);
  return {
    ...provider,
    check: (olds: never, news: never) => checking.run((olds ?? {}) as Raw, () => check(olds, news)),
    async diff(id: string, raw: never, news: never) {
      const olds = settled(inStoredForm(raw), typeName);
      // Both sides: a refresh diffs the state against what read returned, in the state's own (possibly earlier) form.
      const r = await diff(id, olds, inStoredForm(news));
      const o = olds as Raw;
      const unexpected = Array.isArray(o.unexpected) ? (o.unexpected as string[]) : [];
      const missing = Array.isArray(o.missing) ? (o.missing as string[]) : [];
      if (missing.length > 0 && o.guard !== true && o.expired !== true)
        warn(
          `${typeName} ${String(o.grantName ?? id)}: the target lacks ${missing.length} listed entr${missing.length === 1 ? "y" : "ies"}: ${missing.join(", ")} — \`pulumi up\` adds ${missing.length === 1 ? "it" : "them"} back`,
        );
      if (unexpected.length > 0 && o.exclusive !== true && o.guard !== true) {
        warn(
          `${typeName} ${String(o.grantName ?? id)}: listed entries hold another value on the device: ${unexpected.join(", ")} — \`pulumi up\` puts the listed value back`,
        );
      } else if (unexpected.length > 0 && checkedInRun(o.grantName as string | undefined)) {
        // Not in a refresh's own drift display: there the program has not run, so every entry looks unexpected.
        warn(
          `${typeName} ${String(o.grantName ?? id)}: the target holds ${unexpected.length} entr${unexpected.length === 1 ? "y" : "ies"} ` +
            `${o.guard === true ? "no grant of this program declares" : "this exclusive set does not list"}: ${unexpected.join(", ")} — \`pulumi up\` REMOVES ${unexpected.length === 1 ? "it" : "them"}`,
        );
      }
      return r;
    },
  } as P;
}

/**
 * State written by an earlier version (every entry an object) in this version's stored form, so that an unchanged
 * program is no diff: the form changes with the next real change, never on its own.
 */
function inStoredForm<T>(olds: T): T {
  const o = olds as Raw;
  if (!Array.isArray(o.addresses) || !oldForm(o.addresses as StoredSetEntry[])) return olds;
  return { ...olds, addresses: compactEntries(o.addresses as StoredSetEntry[]) };
}

/**
 * The refreshed state as this program sees it: an `unexpected` entry that another resource of the program
 * declares on the same target (a per-entry grant beside an exclusive set, a grant the guard does not list)
 * is not drift — `up` keeps it by the shared-address rule, so reporting it would keep the drift check at
 * exit 7 forever. Each such entry is named once in the preview, with the resources that declare it.
 */
function settled<T>(olds: T, typeName: string): T {
  const o = olds as Raw;
  const unexpected = Array.isArray(o.unexpected) ? (o.unexpected as string[]) : [];
  const keys = Array.isArray(o.unexpectedKeys) ? (o.unexpectedKeys as string[]) : [];
  if (unexpected.length === 0 || keys.length !== unexpected.length) return olds;
  const name = typeof o.grantName === "string" ? o.grantName : undefined;
  const stays: number[] = [];
  unexpected.forEach((label, i) => {
    const by = otherDeclarers(keys[i]!, name);
    if (by.length === 0) stays.push(i);
    else warn(`${typeName} ${name ?? ""}: ${label} on its target is not listed but declared by ${by.join(", ")} of this program: kept, not drift`);
  });
  if (stays.length === unexpected.length) return olds;
  return { ...olds, unexpected: stays.map((i) => unexpected[i]), unexpectedKeys: stays.map((i) => keys[i]) };
}

/** The output-only fields every set and guard has, with what they hold (define-resource.ts declares them). */
export const SET_OUTPUT_DESCRIPTIONS = {
  unexpected:
    "Entries of the target the set does not list (exclusive sets and guards) and listed entries holding another value, found by the last refresh: drift that `up` removes or puts back.",
  missing: "Listed entries the target lacks, found by the last refresh (`up` adds them back).",
  adopted: "Listed addresses that were on the device before the set was created (informational).",
};

/**
 * The inputs a guard fixes: an exclusive set that adds nothing (`guard: true`) over the addresses its grants
 * hold; broad prefixes are allowed because the grants were checked themselves.
 */
export function guardInputs(addresses: unknown) {
  return { addresses, exclusive: true, guard: true, allowBroad: true };
}

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
 *   per-entry grant being deleted keeps it while a set lists it.
 * - Non-exclusive: the set manages exactly what it lists — adds what is missing, removes what it
 *   listed before and no longer lists, never touches other entries; duplicates are one entry.
 * - `exclusive: true`: the target must hold exactly the listed entries. `read` fills `unexpected` with
 *   every other entry (by name), while `check` always asks for `unexpected: []`, so a refresh that
 *   found one makes `preview --refresh --expect-no-changes` exit 7 with `[diff: ~unexpected]`, the diff
 *   writes a warning naming the entries (dynamic-provider stderr reaches the CLI output, Pulumi ≥
 *   3.146), and `up` removes them (and says so again).
 * - A guard (`guard: true`): `exclusive` over the entries its grants declare; it never adds, and its
 *   delete removes nothing (the grants own their entries).
 *
 * Caveat of the shared-address rule during `update`: the engine checks resources in program order and
 * runs an update as soon as its resource is checked, so a grant declared AFTER the set in the program
 * is not yet known when the set's update removes an address. Deletes (the engine runs them after the
 * whole program registered) always see every declaration. Declare sets after the per-entry grants
 * they share addresses with, or make them depend on them.
 */
import { z } from "zod";
import { parseAddress, type GrantAddress } from "./address";
import type { DeviceFamily } from "./diagnosis";
import { declaredByOther, grantMetaFields, type DevicePin, type GrantLifecycle, type PinnedState, type PreflightMode } from "./grant-lifecycle";
import { awaitedAtExit, fingerprint, processState, restoring } from "./process-state";
import type { SettingsNamespace } from "./settings";

/** One listed entry as the user may write it: an address, or an address with a description. */
export type SetEntryInput = string | { readonly address: string; readonly description?: string; readonly name?: string };

/** One listed entry, normalised: canonical address, optional description (and FortiGate object name). */
export interface SetEntry {
  readonly address: string;
  readonly description?: string;
  /** FortiGate only: the object (member) name, when not derived from the prefix. */
  readonly name?: string;
}

/** What a device reports for one entry of the target. */
export interface HeldEntry {
  /** How the entry is named to the user (`0.0.0.0/1`, `contractor (198.51.100.9)`). */
  readonly label: string;
  /** Canonical address, when the entry is an IP address. */
  readonly address?: string;
  /** The description/comment the device stores, where it has one. */
  readonly description?: string;
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
  /** Never remove these (declared by another grant of the program: the shared-address rule). */
  keep(key: string): boolean;
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
  /** Entries of the target the set does not list, found by the last read (exclusive sets and guards); `check` always asks for []. */
  readonly unexpected?: string[] | undefined;
  readonly allowBroad?: boolean | undefined;
  readonly description?: string | undefined;
  readonly expiresAt?: string | undefined;
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
    })
    .strict(),
]);

/** The zod fields of a set's inputs; `addresses` is checked entry by entry with address.ts (hostile input refused). */
export const setFields = {
  addresses: z.array(entrySchema).max(50_000, "at most 50,000 entries per set"),
  exclusive: z.boolean().default(false),
  guard: z.boolean().optional(),
  unexpected: z.array(z.string()).optional(),
  allowBroad: z.boolean().optional(),
  ...grantMetaFields,
};

/** Placeholders for unknown set fields during preview. */
export const setPlaceholders = {
  addresses: [],
  exclusive: false,
  guard: false,
  unexpected: [],
  allowBroad: false,
  description: "",
  expiresAt: "2999-01-01T00:00:00Z",
};

/** Adds an issue per entry that address.ts refuses, naming `addresses.<i>`. */
export function refineAddresses(v: { addresses: readonly z.infer<typeof entrySchema>[]; allowBroad?: boolean | undefined }, ctx: z.RefinementCtx): void {
  v.addresses.forEach((e, i) => {
    const r = parseAddress(typeof e === "string" ? e : e.address, { allowBroad: v.allowBroad === true });
    if (!r.ok) ctx.addIssue({ code: "custom", path: ["addresses", i, ...(typeof e === "string" ? [] : ["address"])], message: r.rule });
  });
}

/** Canonical, de-duplicated (by CIDR; the last description wins), sorted entries: a cosmetic rewrite is never a diff. */
export function normaliseEntries(list: readonly z.infer<typeof entrySchema>[], allowBroad: boolean | undefined): SetEntry[] {
  const byCidr = new Map<string, SetEntry>();
  for (const e of list) {
    const raw = typeof e === "string" ? { address: e } : e;
    const r = parseAddress(raw.address, { allowBroad: allowBroad === true });
    if (!r.ok) continue;
    const prev = byCidr.get(r.address.cidr);
    const description = raw.description ?? prev?.description;
    const name = raw.name ?? prev?.name;
    byCidr.set(r.address.cidr, {
      address: r.address.canonical,
      ...(description !== undefined && description !== "" && { description }),
      ...(name !== undefined && { name }),
    });
  }
  return [...byCidr.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

/** What a device plugs into the set lifecycle (beside the connection parts it shares with its per-entry resource). */
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
  /** More keys the set declares for the entry (FortiManager feeds: one per managed device, as the per-entry grant does). */
  entryDeviceKeys?(inputs: I, pin: DevicePin, key: string): readonly string[];
  preflight(c: C, inputs: I, mode: Exclude<PreflightMode, "off">): Promise<unknown>;
  /** Every entry the target holds now, by key (one or two reads, whatever the size). */
  current(c: C, inputs: I): Promise<Map<string, HeldEntry>>;
  /** Applies a plan in as few device writes as the device allows; success only when the device holds the result. */
  reconcile(c: C, inputs: I, plan: SetPlan): Promise<ReconcileResult>;
  /** Device-reported outputs after create (e.g. the alias uuid). @default none */
  outputs?(c: C, inputs: I): Promise<Record<string, unknown>>;
}

type Raw = Record<string, unknown>;

/** Parsed wanted entries by device key. */
export function wanted<I extends SetFields>(device: Pick<SetDevice<I, unknown>, "keyOf">, inputs: I): Map<string, WantedEntry> {
  const out = new Map<string, WantedEntry>();
  for (const e of inputs.addresses ?? []) {
    const r = parseAddress(e.address, { allowBroad: true });
    if (!r.ok) continue;
    const w = { ...e, parsed: r.address };
    out.set(device.keyOf(inputs, w), w);
  }
  return out;
}

/** A loud line in the CLI output (the dynamic provider's stderr is passed through, Pulumi ≥ 3.146). */
export function warn(message: string): void {
  if (process.env.FIREWALL_GRANTS_QUIET === "1") return;
  process.stderr.write(`warning: ${message}\n`);
}

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

/** Builds the {@link GrantLifecycle} of a set (or guard) resource from its device part. */
export function setLifecycle<I extends SetFields, C>(device: SetDevice<I, C>, typeName: string): GrantLifecycle<I, I & SetState, C> {
  const keepFn = (inputs: I, pin: DevicePin | undefined) => (key: string) =>
    pin !== undefined && declaredByOther(device.entrySharedKey(inputs, pin, key), nameOf(inputs));
  const describe = (inputs: I) => `${typeName} ${nameOf(inputs) ?? ""} (${device.targetOf(inputs)})`.replace("  ", " ");

  const loud = (inputs: I, removed: readonly string[]) => {
    if (removed.length > 0)
      warn(`${describe(inputs)}: removed ${removed.length} entr${removed.length === 1 ? "y" : "ies"} no grant of this program declares: ${removed.join(", ")}`);
  };

  const plan = (inputs: I, pin: DevicePin | undefined, drop: Iterable<string>, addMissing: boolean): SetPlan => {
    const want = wanted(device, inputs);
    return {
      want: addMissing && inputs.guard !== true ? want : new Map(),
      drop: new Set([...drop].filter((k) => !want.has(k))),
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
    outputOnly: ["adopted", ...(device.outputOnly ?? [])],
    identity: device.identity,
    normalise: (i) => {
      const base = { ...i, addresses: normaliseEntries(i.addresses, i.allowBroad), unexpected: [] as string[], exclusive: i.exclusive === true };
      return device.normalise ? device.normalise(base) : base;
    },
    pin: device.pin,
    connect: device.connect,
    hostOf: device.hostOf,
    sharedKey: (i, pin) => fingerprint("set", pin.url, pin.scope, device.targetOf(i), nameOf(i)),
    // A guard declares nothing itself: the grants it covers declare their entries.
    sharedKeys: (i, pin) =>
      i.guard === true ? [] : [...wanted(device, i).keys()].flatMap((k) => [device.entrySharedKey(i, pin, k), ...(device.entryDeviceKeys?.(i, pin, k) ?? [])]),
    preflight: (c, i, mode) => device.preflight(c, i, mode),

    async create(c, inputs) {
      const r = await reconcileOrTakeBack(c, inputs, plan(inputs, pinOf(inputs), [], true));
      loud(inputs, r.removedUnexpected);
      const adopted = [...wanted(device, inputs).entries()].filter(([k]) => r.before.has(k)).map(([, w]) => w.address);
      const outs = { unexpected: [] as string[], adopted, ...(device.outputs ? await device.outputs(c, inputs) : {}) };
      return { id: `${device.targetOf(inputs)}#${nameOf(inputs) ?? "set"}`, outs: outs as never };
    },

    async read(c, state) {
      const held = await device.current(c, state);
      const want = wanted(device, state);
      // A guard reports nothing missing: the grants it covers report their own entries.
      const addresses =
        state.guard === true
          ? state.addresses
          : [...want.entries()]
              .filter(([k]) => held.has(k))
              .map(([k, w]) => {
                const d = held.get(k)?.description;
                const description = d !== undefined && d !== "" && w.description !== undefined ? d : w.description;
                const { parsed: _parsed, ...entry } = w;
                return { ...entry, ...(description !== undefined && { description }) } as SetEntry;
              });
      const exclusive = state.exclusive === true || state.guard === true;
      const unexpected = exclusive
        ? [...held.entries()]
            .filter(([k]) => !want.has(k))
            .map(([, h]) => h.label)
            .sort()
        : [];
      // Device outputs as found now (OPNsense: the uuid of an alias re-created under its name).
      const outputs = device.outputs ? await device.outputs(c, state) : {};
      return { addresses, unexpected, ...outputs } as Partial<I & SetState>;
    },

    async update(c, olds, news) {
      const pin = pinOf(olds);
      // Listed before and no longer listed: removed (unless another grant of the program declares it).
      const before = olds.guard === true ? [] : [...wanted(device, olds).keys()];
      const r = await reconcileOrTakeBack(c, news, plan(news, pin, before, true));
      loud(news, r.removedUnexpected);
      const outputs = device.outputs ? await device.outputs(c, news) : {};
      return { unexpected: [] as string[], ...outputs } as unknown as Partial<I & SetState>;
    },

    async remove(c, state) {
      if (state.guard === true) return;
      const pin = pinOf(state);
      const drop = [...wanted(device, state).keys()];
      await device.reconcile(c, state, { want: new Map(), drop: new Set(drop), exclusive: false, allow: new Set(), keep: keepFn(state, pin) });
    },

    // Only the method / name prefix changed on the same target: the old set must go first, or the
    // new one would adopt its entries and the old one's delete would then remove them.
    deleteBeforeReplace: (replaces) => !replaces.includes("device") && !device.identity.slice(0, 1).some((k) => replaces.includes(k)),
    // A read that found entries the exclusive set does not list: `up` must remove them.
    needsUpdate: (olds) => (olds.unexpected ?? []).length > 0,
  };
}

/** Wraps a set provider's `diff` so that unexpected entries are named loudly in preview. */
export function loudDiff<P extends { diff(id: string, olds: never, news: never): Promise<{ changes?: boolean }> }>(provider: P, typeName: string): P {
  const diff = provider.diff.bind(provider);
  return {
    ...provider,
    async diff(id: string, olds: never, news: never) {
      const r = await diff(id, olds, news);
      const o = olds as Raw;
      const unexpected = Array.isArray(o.unexpected) ? (o.unexpected as string[]) : [];
      if (unexpected.length > 0 && (o.exclusive === true || o.guard === true)) {
        warn(
          `${typeName} ${String(o.grantName ?? id)}: the target holds ${unexpected.length} entr${unexpected.length === 1 ? "y" : "ies"} ` +
            `${o.guard === true ? "no grant of this program declares" : "this exclusive set does not list"}: ${unexpected.join(", ")} — \`pulumi up\` REMOVES ${unexpected.length === 1 ? "it" : "them"}`,
        );
      }
      return r;
    },
  } as P;
}

/** The outputs every set and guard class declares as unknown at registration (the engine fills them from the provider). */
export const SET_OUTPUTS = { unexpected: undefined, adopted: undefined, device: undefined, expired: undefined } as const;

/** The resource properties every set class passes besides its target and connection (one place for the defaults). */
export function setProps(
  name: string,
  args: { addresses: unknown; exclusive?: unknown; allowBroad?: unknown; description?: unknown; expiresAt?: unknown },
  outputs: Readonly<Record<string, undefined>> = SET_OUTPUTS,
) {
  return {
    addresses: args.addresses,
    exclusive: args.exclusive ?? false,
    allowBroad: args.allowBroad,
    description: args.description,
    expiresAt: args.expiresAt,
    ...outputs,
    grantName: name,
  };
}

/**
 * The properties of a guard: an exclusive set that adds nothing (`guard: true`) over the addresses its grants
 * hold; broad prefixes are allowed because the grants were checked themselves.
 */
export function guardProps(
  name: string,
  addresses: unknown,
  args: { description?: unknown; expiresAt?: unknown },
  outputs: Readonly<Record<string, undefined>> = SET_OUTPUTS,
) {
  return { addresses, exclusive: true, guard: true, allowBroad: true, description: args.description, expiresAt: args.expiresAt, ...outputs, grantName: name };
}

/**
 * Every grant lifecycle under every emulator variant (issue 19): for each value of each option in the emulators'
 * `VARIANTS` lists, the provider objects are driven as the engine drives them — check (preview), create, read
 * (refresh), read after a hand edit on the device (drift must be seen), create again, update in place (a per-entry
 * grant's description, a set's list), delete, a final read — for each resource kind the option concerns: per-entry
 * grants, address and feed sets, and the `Grant` component (its children as it declares them, driven together). After every step the device's state is taken from the emulator backend: a step either
 * succeeds and the device shows it, or fails with a GrantError carrying a diagnosis code. A reported success the
 * device does not reflect fails the suite, and so does an option no lifecycle below is declared for.
 */
import { isDeepStrictEqual } from "node:util";
import type { EmulatorVariant } from "../emulators/kit";
import * as fortigateVariants from "../emulators/fortigate/variants";
import * as fortimanagerVariants from "../emulators/fortimanager/variants";
import * as opnsenseVariants from "../emulators/opnsense/variants";
import { startFortigateEmulator, type FortigateEmulator } from "../emulators/fortigate/emulator";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator, type FortimanagerEmulator } from "../emulators/fortimanager/emulator";
import { startOpnsenseEmulator, type OpnsenseEmulator } from "../emulators/opnsense/emulator";
import { fortigateFeedEntryProvider } from "../provider/devices/fortigate/feed-resource";
import { fortigateAddressProvider } from "../provider/devices/fortigate/resource";
import { fortimanagerFeedEntryProvider } from "../provider/devices/fortimanager/feed-resource";
import { fortimanagerFeedSetProvider } from "../provider/devices/fortimanager/feed-set";
import { fortigateFeedSetProvider } from "../provider/devices/fortigate/feed-set";
import { fortigateAddressSetProvider } from "../provider/devices/fortigate/set-resource";
import { fortimanagerTrustedHostProvider } from "../provider/devices/fortimanager/resource";
import { fortimanagerTrustedHostSetProvider } from "../provider/devices/fortimanager/set-resource";
import { opnsenseAliasEntryProvider } from "../provider/devices/opnsense/resource";
import { opnsenseAliasSetProvider } from "../provider/devices/opnsense/set-resource";
import { grantChildren, type GrantChildInputs } from "./support/grant-children";
import { closeFortimanagerSessions } from "../provider/devices/fortimanager/session";
import { isGrantError } from "../provider/core/errors";
import { resetProcessState } from "../provider/core/process-state";
import { closeAllAgents } from "../provider/core/transport";
import { connFor, USERS } from "./opnsense/helpers";

/** The dynamic-provider surface the engine calls (each resource's provider object offers it). */
interface Provider {
  check(olds: Record<string, unknown>, news: Record<string, unknown>): Promise<{ inputs?: unknown; failures?: readonly unknown[] }>;
  create(inputs: never): Promise<{ id: string; outs: Record<string, unknown> }>;
  read(id: string, props: never): Promise<{ id?: string; props?: Record<string, unknown> }>;
  update(id: string, olds: never, news: never): Promise<{ outs: Record<string, unknown> }>;
  delete(id: string, props: never): Promise<void>;
}

/** One resource kind on a started emulator: its inputs, and the device's own view of the grant (from the backend). */
interface Kind<E> {
  readonly name: string;
  readonly provider: Provider;
  inputs(emu: E): Record<string, unknown>;
  /** Whether the device holds any of the grant, read from the emulator backend (never through the client). */
  present(emu: E): boolean;
  /** Whether the device holds all of it (a set: every address). @default present */
  complete?(emu: E): boolean;
  /** What a read's state says the device holds (a per-entry grant: its address, or nothing when the state is gone). */
  reportedHeld?(props: Record<string, unknown>): string[];
  /** Removes the grant by hand, on the device (the drift a refresh must see). */
  handRemove(emu: E): void;
  /**
   * The update in place: new inputs (a per-entry grant: another description; a set: one address swapped for another)
   * and whether the device shows it. @default the description changes and the device still holds the grant
   */
  update?: { inputs(emu: E): Record<string, unknown>; shown(emu: E): boolean };
}

interface Device<E> {
  readonly variants: readonly EmulatorVariant[];
  start(options: Record<string, unknown>): Promise<E>;
  /** Options every start gets; a variant's own option is set on top. */
  readonly base: (option: string) => Record<string, unknown>;
  /** The kinds each option concerns, by option-name prefix (first match wins). */
  readonly kinds: readonly (readonly [prefix: string, kinds: readonly Kind<E>[]])[];
}

/**
 * The addresses of one case, from its emulator: cases run at once in one process, and the shared-address rule is
 * process-wide — a grant of one case must never declare what another case's grant removes (the same address on
 * another URL is put back through that URL: grant-lifecycle.ts `reassertElsewhere`).
 */
const caseOf = new WeakMap<object, number>();
let cases_ = 0;
const caseNo = (emu: unknown): number => {
  let n = caseOf.get(emu as object);
  if (n === undefined) caseOf.set(emu as object, (n = ++cases_));
  return n;
};
const A = (emu: unknown) => `10.${caseNo(emu) >> 8}.${caseNo(emu) & 255}.7`;
const FEED = "jit-allow";
/** Entries already in the feed, more than the smallest entry-list window, so that ours is listed past it. */
const FILLER = Array.from({ length: 150 }, (_, i) => `198.18.${i >> 8}.${i & 255}`);

const fgtFeedEntry: Kind<FortigateEmulator> = {
  name: "FortigateFeedEntry",
  provider: fortigateFeedEntryProvider as unknown as Provider,
  inputs: (emu) => ({ __provider: "x", connection: { url: emu.url, caCert: emu.caCert }, credentials: { token: emu.token }, feed: FEED, address: A(emu) }),
  present: (emu) => [...(emu.backend.feeds.find("root", FEED, false)?.entries.values() ?? [])].some((e) => e.entry === A(emu)),
  handRemove: (emu) => void emu.backend.feeds.removeEntries("root", FEED, [A(emu)]),
};

const fgtAddress: Kind<FortigateEmulator> = {
  name: "FortigateAddress",
  provider: fortigateAddressProvider as unknown as Provider,
  inputs: (emu) => ({
    __provider: "x",
    connection: { url: emu.url, caCert: emu.caCert },
    credentials: { token: emu.token },
    name: "grant-alice",
    address: A(emu),
    group: "jit-admins",
  }),
  present: (emu) =>
    emu.backend.getAddress("root", "ipv4", "grant-alice") !== undefined && emu.backend.groupMembers("root", "jit-admins").includes("grant-alice"),
  handRemove: (emu) => {
    emu.backend.removeMember("root", "ipv4", "jit-admins", "grant-alice");
    emu.backend.deleteAddress("root", "ipv4", "grant-alice");
  },
};

const S = (emu: unknown) => [A(emu), A(emu).replace(/7$/, "8")];
/** A set's list after the update in place: the second address swapped for a third. */
const SU = (emu: unknown) => [A(emu), A(emu).replace(/7$/, "9")];
const ALL = (emu: unknown) => [...S(emu), SU(emu)[1]!];
/** The device shows the update: it holds every address of the new list and not the dropped one. */
const showsSwap = (emu: unknown, holds: (a: string) => boolean) => SU(emu).every(holds) && !holds(S(emu)[1]!);
/** A set's state: every listed address not named in `missing` (FortiManager names it with the device). */
const setHeld = (props: Record<string, unknown>) => {
  const missing = (props.missing as string[] | undefined) ?? [];
  const listed = ((props.addresses as ({ address: string } | string)[] | undefined) ?? []).map((e) => (typeof e === "string" ? e : e.address));
  return listed.filter((a) => !missing.some((m) => m === a || m.startsWith(`${a} `)));
};
const withoutAddress = ({ address: _address, ...rest }: Record<string, unknown>) => rest;
const fgtFeedHolds = (emu: FortigateEmulator) => {
  const listed = new Set([...(emu.backend.feeds.find("root", FEED, false)?.entries.values() ?? [])].map((e) => e.entry));
  return S(emu).filter((a) => listed.has(a)).length;
};
const fgtFeedLists = (emu: FortigateEmulator, a: string) =>
  [...(emu.backend.feeds.find("root", FEED, false)?.entries.values() ?? [])].some((e) => e.entry === a);
const fgtFeedSet: Kind<FortigateEmulator> = {
  name: "FortigateFeedSet",
  provider: fortigateFeedSetProvider as unknown as Provider,
  inputs: (emu) => ({ ...withoutAddress(fgtFeedEntry.inputs(emu)), addresses: S(emu), grantName: "fs" }),
  present: (emu) => fgtFeedHolds(emu) > 0 || fgtFeedLists(emu, SU(emu)[1]!),
  complete: (emu) => fgtFeedHolds(emu) === S(emu).length,
  reportedHeld: setHeld,
  handRemove: (emu) => void emu.backend.feeds.removeEntries("root", FEED, [...S(emu), SU(emu)[1]!]),
  update: { inputs: (emu) => ({ ...fgtFeedSet.inputs(emu), addresses: SU(emu) }), shown: (emu) => showsSwap(emu, (a) => fgtFeedLists(emu, a)) },
};

/** A member of jit-admins whose object enforces `a` (the set names its objects itself). */
const fgtGroupHolds = (emu: FortigateEmulator, a: string) =>
  emu.backend.groupMembers("root", "jit-admins").some((m) => emu.backend.getAddress("root", "ipv4", m)?.value === `${a} 255.255.255.255`);
const fgtAddressSet: Kind<FortigateEmulator> = {
  name: "FortigateAddressSet",
  provider: fortigateAddressSetProvider as unknown as Provider,
  inputs: (emu) => ({
    __provider: "x",
    connection: { url: emu.url, caCert: emu.caCert },
    credentials: { token: emu.token },
    group: "jit-admins",
    addresses: S(emu),
    grantName: "as",
  }),
  present: (emu) => ALL(emu).some((a) => fgtGroupHolds(emu, a)),
  complete: (emu) => S(emu).every((a) => fgtGroupHolds(emu, a)),
  reportedHeld: setHeld,
  handRemove: (emu) => {
    for (const m of emu.backend.groupMembers("root", "jit-admins")) {
      if (!ALL(emu).some((a) => emu.backend.getAddress("root", "ipv4", m)?.value === `${a} 255.255.255.255`)) continue;
      emu.backend.removeMember("root", "ipv4", "jit-admins", m);
      emu.backend.deleteAddress("root", "ipv4", m);
    }
  },
  update: { inputs: (emu) => ({ ...fgtAddressSet.inputs(emu), addresses: SU(emu) }), shown: (emu) => showsSwap(emu, (a) => fgtGroupHolds(emu, a)) },
};

/**
 * An API key with its administrator named (`connection.username`): by default the emulator, like the least helpful
 * device, does not say whose key it is (`sysSessionForApiKeys: no-permission`), and a trusted-host preflight needs it.
 */
const fmgConn = (emu: FortimanagerEmulator) => ({
  connection: { url: emu.url, caCert: emu.caCert, username: "apiadmin" },
  credentials: { token: DEFAULT_CREDENTIALS.apiKey },
});
const fmgHolds = (emu: FortimanagerEmulator, a: string) => Object.values(emu.backend.admins.get("alice")!.slots).some((s) => Array.isArray(s) && s[0] === a);
const fmgHandRemove = (emu: FortimanagerEmulator, addresses: readonly string[]) => {
  const slots = emu.backend.admins.get("alice")!.slots as Record<string, unknown>;
  for (const [k, s] of Object.entries(slots)) if (Array.isArray(s) && addresses.includes(s[0] as string)) slots[k] = ["255.255.255.255", "255.255.255.255"];
};
const fmgTrustedHost: Kind<FortimanagerEmulator> = {
  name: "FortimanagerTrustedHost",
  provider: fortimanagerTrustedHostProvider as unknown as Provider,
  inputs: (emu) => ({ __provider: "x", ...fmgConn(emu), adminUser: "alice", address: A(emu) }),
  present: (emu) => fmgHolds(emu, A(emu)),
  handRemove: (emu) => fmgHandRemove(emu, [A(emu)]),
};

/** The same, with only the key: what works only where the device says whose key it is. */
const fmgTrustedHostKeyOnly: Kind<FortimanagerEmulator> = {
  ...fmgTrustedHost,
  name: "FortimanagerTrustedHost (API key only, no connection.username)",
  inputs: (emu) => ({ ...fmgTrustedHost.inputs(emu), connection: { url: emu.url, caCert: emu.caCert } }),
};

const fmgTrustedHostSet: Kind<FortimanagerEmulator> = {
  name: "FortimanagerTrustedHostSet",
  provider: fortimanagerTrustedHostSetProvider as unknown as Provider,
  inputs: (emu) => ({ __provider: "x", ...fmgConn(emu), adminUser: "alice", addresses: S(emu), grantName: "ts" }),
  present: (emu) => ALL(emu).some((a) => fmgHolds(emu, a)),
  complete: (emu) => S(emu).every((a) => fmgHolds(emu, a)),
  reportedHeld: setHeld,
  handRemove: (emu) => fmgHandRemove(emu, ALL(emu)),
  update: { inputs: (emu) => ({ ...fmgTrustedHostSet.inputs(emu), addresses: SU(emu) }), shown: (emu) => showsSwap(emu, (a) => fmgHolds(emu, a)) },
};

const FMG_DEVICES = ["fgt-hq", "fgt-br1"];
const fmgFeed = (emu: FortimanagerEmulator, device: string) => emu.backend.devices.devices.get(device)!.backend.feeds;
const fmgFeedEntry: Kind<FortimanagerEmulator> = {
  name: "FortimanagerFeedEntry",
  provider: fortimanagerFeedEntryProvider as unknown as Provider,
  inputs: (emu) => ({ __provider: "x", ...fmgConn(emu), devices: FMG_DEVICES, feed: FEED, address: A(emu) }),
  // Held when any managed device lists it: a half-revoked grant must count as present.
  present: (emu) => FMG_DEVICES.some((d) => [...(fmgFeed(emu, d).find("root", FEED, false)?.entries.values() ?? [])].some((e) => e.entry === A(emu))),
  handRemove: (emu) => void fmgFeed(emu, FMG_DEVICES[0]!).removeEntries("root", FEED, [A(emu)]),
};

const fmgFeedHolds = (emu: FortimanagerEmulator) =>
  FMG_DEVICES.flatMap((d) => [...(fmgFeed(emu, d).find("root", FEED, false)?.entries.values() ?? [])].filter((e) => S(emu).includes(e.entry))).length;
const fmgFeedLists = (emu: FortimanagerEmulator, a: string) =>
  FMG_DEVICES.every((d) => [...(fmgFeed(emu, d).find("root", FEED, false)?.entries.values() ?? [])].some((e) => e.entry === a));
const fmgFeedSet: Kind<FortimanagerEmulator> = {
  name: "FortimanagerFeedSet",
  provider: fortimanagerFeedSetProvider as unknown as Provider,
  inputs: (emu) => ({ ...withoutAddress(fmgFeedEntry.inputs(emu)), addresses: S(emu), grantName: "ms" }),
  present: (emu) =>
    fmgFeedHolds(emu) > 0 ||
    FMG_DEVICES.some((d) => [...(fmgFeed(emu, d).find("root", FEED, false)?.entries.values() ?? [])].some((e) => e.entry === SU(emu)[1])),
  complete: (emu) => fmgFeedHolds(emu) === S(emu).length * FMG_DEVICES.length,
  reportedHeld: setHeld,
  handRemove: (emu) => void fmgFeed(emu, FMG_DEVICES[0]!).removeEntries("root", FEED, ALL(emu)),
  update: {
    inputs: (emu) => ({ ...fmgFeedSet.inputs(emu), addresses: SU(emu) }),
    // Every managed device lists the new list; none lists the dropped address.
    shown: (emu) =>
      SU(emu).every((a) => fmgFeedLists(emu, a)) &&
      !FMG_DEVICES.some((d) => [...(fmgFeed(emu, d).find("root", FEED, false)?.entries.values() ?? [])].some((e) => e.entry === S(emu)[1])),
  },
};

const opnAliasEntry: Kind<OpnsenseEmulator> = {
  name: "OpnsenseAliasEntry",
  provider: opnsenseAliasEntryProvider as unknown as Provider,
  inputs: (emu) => ({ __provider: "x", ...connFor(emu.url, emu.caCert, "admin"), alias: "jit_admins", address: A(emu), method: "config" }),
  present: (emu) => emu.backend.aliases.get("jit_admins")!.content.includes(A(emu)),
  handRemove: (emu) => {
    const a = emu.backend.aliases.get("jit_admins")!;
    a.content = a.content.filter((c) => c !== A(emu));
  },
};

const opnTableHolds = (emu: OpnsenseEmulator, a: string) => emu.backend.tableContent("jit_admins").includes(a);
const opnAliasSet: Kind<OpnsenseEmulator> = {
  name: "OpnsenseAliasSet",
  provider: opnsenseAliasSetProvider as unknown as Provider,
  inputs: (emu) => ({ __provider: "x", ...connFor(emu.url, emu.caCert, "admin"), alias: "jit_admins", addresses: S(emu), grantName: "os" }),
  present: (emu) => ALL(emu).some((a) => opnTableHolds(emu, a)),
  complete: (emu) => S(emu).every((a) => opnTableHolds(emu, a)),
  reportedHeld: setHeld,
  handRemove: (emu) => {
    for (const a of ALL(emu)) emu.backend.removeAddress("jit_admins", a);
  },
  update: { inputs: (emu) => ({ ...opnAliasSet.inputs(emu), addresses: SU(emu) }), shown: (emu) => showsSwap(emu, (a) => opnTableHolds(emu, a)) },
};

/** What the engine's `Grant` children are, per device: the component's own declaration, and how to see each child on the device. */
interface GrantSpec<E> {
  args(emu: E): Record<string, unknown>;
  /** The children's credentials: a `Grant` takes none (they come from the settings); here, per case. */
  credentials(emu: E): Record<string, unknown>;
  holds(emu: E, child: GrantChildInputs): boolean;
  handRemove(emu: E, child: GrantChildInputs): void;
}
const PROVIDERS: Record<string, Provider> = {
  OpnsenseAliasEntry: opnsenseAliasEntryProvider as unknown as Provider,
  FortigateAddress: fortigateAddressProvider as unknown as Provider,
  FortigateFeedEntry: fortigateFeedEntryProvider as unknown as Provider,
  FortimanagerTrustedHost: fortimanagerTrustedHostProvider as unknown as Provider,
  FortimanagerFeedEntry: fortimanagerFeedEntryProvider as unknown as Provider,
};
/**
 * The `Grant` component as one kind: its children (per-entry grants, as the component declares them under Pulumi's
 * mocks) driven together through each step, as one `up` drives them. Present when any child is on the device.
 */
function grantKind<E>(spec: GrantSpec<E>): Kind<E> {
  const children = new WeakMap<object, GrantChildInputs[]>();
  const of = async (emu: E) => {
    const known = children.get(emu as object);
    if (known) return known;
    const c = await grantChildren("alice", spec.args(emu));
    children.set(emu as object, c);
    return c;
  };
  const sync = (emu: E) => children.get(emu as object) ?? [];
  const each = async <T>(emu: E, fn: (c: GrantChildInputs, p: Provider) => Promise<T>): Promise<T[]> => {
    const out: T[] = [];
    for (const c of await of(emu)) out.push(await fn(c, PROVIDERS[c.type]!));
    return out;
  };
  type Many = { ids: string[]; outs: Record<string, unknown>[] };
  const provider: Provider = {
    async check(_olds, news) {
      const emu = news.__emu as E;
      const checked = await each(emu, (c, p) =>
        p.check(
          {},
          { __provider: "x", ...c.inputs, credentials: spec.credentials(emu), ...(news.__description !== undefined && { description: news.__description }) },
        ),
      );
      const failures = checked.flatMap((r) => r.failures ?? []);
      return { inputs: { __emu: emu, children: checked.map((r) => r.inputs) }, failures };
    },
    async create(inputs: never) {
      const i = inputs as { __emu: E; children: Record<string, unknown>[] };
      const made = await each(i.__emu, (c) => PROVIDERS[c.type]!.create(i.children[sync(i.__emu).indexOf(c)] as never));
      return { id: "grant", outs: { __emu: i.__emu, ids: made.map((m) => m.id), outs: made.map((m) => m.outs) } };
    },
    async read(_id, props: never) {
      const o = props as Many & { __emu: E };
      const read = await each(o.__emu, (c, p) => p.read(o.ids[sync(o.__emu).indexOf(c)]!, o.outs[sync(o.__emu).indexOf(c)] as never));
      // Gone from state when any child is: the engine would show that child's drift.
      return read.some((r) => r.props === undefined || Object.keys(r.props).length === 0)
        ? { id: "grant", props: { ...o, outs: read.map((r) => r.props ?? {}) } }
        : { id: "grant", props: { ...o, outs: read.map((r) => r.props!) } };
    },
    async update(_id, olds: never, news: never) {
      const o = olds as Many & { __emu: E };
      const n = news as { children: Record<string, unknown>[] };
      const updated = await each(o.__emu, (c, p) => {
        const k = sync(o.__emu).indexOf(c);
        return p.update(o.ids[k]!, o.outs[k] as never, n.children[k] as never);
      });
      return { outs: { ...o, outs: updated.map((u) => u.outs) } };
    },
    async delete(_id, props: never) {
      const o = props as Many & { __emu: E };
      await each(o.__emu, (c, p) => p.delete(o.ids[sync(o.__emu).indexOf(c)]!, o.outs[sync(o.__emu).indexOf(c)] as never));
    },
  };
  return {
    name: "Grant",
    provider,
    inputs: (emu) => ({ __emu: emu }),
    present: (emu) => sync(emu).some((c) => spec.holds(emu, c)),
    complete: (emu) => sync(emu).length > 0 && sync(emu).every((c) => spec.holds(emu, c)),
    // What the children's states say is held: each child still in state, by its address.
    reportedHeld: (props) =>
      ((props.outs as Record<string, unknown>[] | undefined) ?? []).filter((o) => Object.keys(o).length > 0).map((o) => String(o.address)),
    handRemove: (emu) => {
      for (const c of sync(emu)) spec.handRemove(emu, c);
    },
    // Another ticket: every child's description changes in place; the device still holds every child.
    update: { inputs: (emu) => ({ __emu: emu, __description: "alice: on call (CHG-2)" }), shown: (emu) => sync(emu).every((c) => spec.holds(emu, c)) },
  };
}

/**
 * The component's own address: the kinds of a case run in one process, and a set of an earlier kind stays declared
 * there (the shared-address rule would rightly keep a child's entry that the set declares).
 */
const GA = (emu: unknown) => A(emu).replace(/7$/, "17");

const fgtGrant = grantKind<FortigateEmulator>({
  args: (emu) => ({
    who: "alice",
    ticket: "CHG-1",
    addresses: [GA(emu)],
    fortigate: [{ group: "jit-admins", connection: { url: emu.url, caCert: emu.caCert } }],
    fortigateFeeds: [{ feed: FEED, connection: { url: emu.url, caCert: emu.caCert } }],
  }),
  credentials: (emu) => ({ token: emu.token }),
  holds: (emu, c) =>
    c.type === "FortigateFeedEntry"
      ? fgtFeedLists(emu, GA(emu))
      : emu.backend.groupMembers("root", "jit-admins").some((m) => emu.backend.getAddress("root", "ipv4", m)?.value === `${GA(emu)} 255.255.255.255`),
  handRemove: (emu, c) => {
    if (c.type === "FortigateFeedEntry") return void emu.backend.feeds.removeEntries("root", FEED, [GA(emu)]);
    for (const m of emu.backend.groupMembers("root", "jit-admins")) {
      if (emu.backend.getAddress("root", "ipv4", m)?.value !== `${GA(emu)} 255.255.255.255`) continue;
      emu.backend.removeMember("root", "ipv4", "jit-admins", m);
      emu.backend.deleteAddress("root", "ipv4", m);
    }
  },
});

const fmgGrant = grantKind<FortimanagerEmulator>({
  args: (emu) => ({
    who: "alice",
    ticket: "CHG-1",
    addresses: [GA(emu)],
    fortimanager: [{ adminUser: "alice", connection: fmgConn(emu).connection }],
    fortimanagerFeeds: [{ devices: FMG_DEVICES, feed: FEED, connection: fmgConn(emu).connection }],
  }),
  credentials: (emu) => fmgConn(emu).credentials,
  holds: (emu, c) => (c.type === "FortimanagerFeedEntry" ? fmgFeedLists(emu, GA(emu)) : fmgHolds(emu, GA(emu))),
  handRemove: (emu, c) =>
    c.type === "FortimanagerFeedEntry" ? void fmgFeed(emu, FMG_DEVICES[0]!).removeEntries("root", FEED, [GA(emu)]) : fmgHandRemove(emu, [GA(emu)]),
});

const opnGrant = grantKind<OpnsenseEmulator>({
  args: (emu) => ({
    who: "alice",
    ticket: "CHG-1",
    addresses: [GA(emu)],
    opnsense: [{ alias: "jit_admins", connection: connFor(emu.url, emu.caCert, "admin").connection }],
  }),
  credentials: (emu) => connFor(emu.url, emu.caCert, "admin").credentials,
  holds: (emu) => opnTableHolds(emu, GA(emu)),
  handRemove: (emu) => emu.backend.removeAddress("jit_admins", GA(emu)),
});

const DEVICES: Record<string, Device<never>> = {
  fortigate: {
    variants: fortigateVariants.VARIANTS,
    start: (o) => startFortigateEmulator({ vdoms: ["root"], groups: [{ name: "jit-admins" }], feeds: [{ name: FEED, entries: FILLER }], ...o }),
    // Instant visibility unless visibility is the variant under test: the other variants' suites stay short.
    base: (option) => (option === "feedSettings.pushVisibleAfterMs" ? {} : { feedSettings: { pushVisibleAfterMs: 0 } }),
    kinds: [
      // The component's feed child is a FortigateFeedEntry, run here under every feed variant itself: the component
      // runs under the other options (its two children together), which keeps the suite's time moderate.
      ["feedSettings.", [fgtFeedEntry, fgtFeedSet]],
      ["", [fgtAddress, fgtAddressSet, fgtFeedEntry, fgtGrant]],
    ],
  } satisfies Device<FortigateEmulator> as unknown as Device<never>,
  fortimanager: {
    variants: fortimanagerVariants.VARIANTS,
    start: (o) => startFortimanagerEmulator(o),
    base: () => ({
      devices: [
        { name: "fgt-hq", adom: "root", feeds: [{ name: FEED, entries: FILLER }], feedSettings: { pushVisibleAfterMs: 0 } },
        { name: "fgt-br1", adom: "root", feeds: [{ name: FEED, entries: FILLER }], feedSettings: { pushVisibleAfterMs: 0 } },
      ],
    }),
    kinds: [
      ["proxy.", [fmgFeedEntry, fmgFeedSet, fmgGrant]],
      ["sysSessionForApiKeys", [fmgTrustedHost, fmgTrustedHostKeyOnly, fmgTrustedHostSet, fmgFeedEntry, fmgGrant]],
      ["", [fmgTrustedHost, fmgTrustedHostSet, fmgFeedEntry, fmgGrant]],
    ],
  } satisfies Device<FortimanagerEmulator> as unknown as Device<never>,
  opnsense: {
    variants: opnsenseVariants.VARIANTS,
    start: (o) => startOpnsenseEmulator({ users: Object.values(USERS), ...o }),
    base: () => ({}),
    kinds: [["", [opnAliasEntry, opnAliasSet, opnGrant]]],
  } satisfies Device<OpnsenseEmulator> as unknown as Device<never>,
};

/** A variant value as the start option takes it ("none", "-2", "true", "1500" → "none", -2, true, 1500). */
function optionValue(v: string): unknown {
  if (v === "true" || v === "false") return v === "true";
  return /^-?\d+$/.test(v) ? Number(v) : v;
}

/** `a.b` = v on top of `base` (one level of nesting, as the options have). */
function withOption(base: Record<string, unknown>, option: string, value: unknown): Record<string, unknown> {
  const [head, tail] = option.split(".", 2) as [string, string | undefined];
  if (tail === undefined) return { ...base, [head]: value };
  return { ...base, [head]: { ...((base[head] as object | undefined) ?? {}), [tail]: value } };
}

type Outcome = "ok" | `GrantError ${string}`;

/** Runs `step`; a failure must be a GrantError with a diagnosis code (anything else fails the suite, named). */
async function step<T>(what: string, run: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; outcome: Outcome }> {
  try {
    return { ok: true, value: await run() };
  } catch (e) {
    if (isGrantError(e) && /^\d{6}$/.test(e.code)) return { ok: false, outcome: `GrantError ${e.code}` };
    throw new Error(`${what} failed without a diagnosis: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
  }
}

function reported<E>(kind: Kind<E>, props: Record<string, unknown> | undefined): string[] {
  if (props === undefined || Object.keys(props).length === 0) return [];
  return kind.reportedHeld ? kind.reportedHeld(props) : [String(props.address)];
}

/** The lifecycle of one kind; returns what each step did. Throws when a reported success is untrue on the device. */
async function lifecycle<E>(emu: E, kind: Kind<E>): Promise<Record<string, Outcome>> {
  const seen: Record<string, Outcome> = {};
  const p = kind.provider;
  const untrue = (s: string, why: string) => new Error(`${kind.name}: ${s} reported success but ${why}`);
  const checked = await step("check", () => p.check({}, kind.inputs(emu)));
  if (!checked.ok) {
    expect(kind.present(emu)).toBe(false);
    return { ...seen, check: checked.outcome };
  }
  expect(checked.value.failures ?? []).toEqual([]);
  seen.check = "ok";
  const created = await step("create", () => p.create(checked.value.inputs as never));
  if (!created.ok) {
    seen.create = created.outcome;
    // A failed create may leave a partial write; the device must still end clean once it is removed by hand.
    kind.handRemove(emu);
    return seen;
  }
  seen.create = "ok";
  const complete = (e: E) => (kind.complete ?? kind.present)(e);
  if (!complete(emu)) throw untrue("create", "the device does not hold the grant");
  const { id, outs } = created.value;
  const read = await step("read", () => p.read(id, outs as never));
  seen.read = read.ok ? "ok" : read.outcome;
  if (read.ok && read.value.props === undefined) throw untrue("read", "it lost a grant the device holds");
  kind.handRemove(emu);
  const drifted = await step("read after a hand edit", () => p.read(id, outs as never));
  seen.drift = drifted.ok ? "ok" : drifted.outcome;
  // Seen: the grant is gone from state ({}), or its state differs from what was created (the next up acts on it).
  if (drifted.ok && drifted.value.props !== undefined && Object.keys(drifted.value.props).length > 0 && isDeepStrictEqual(drifted.value.props, outs))
    throw untrue("read after the grant was removed by hand", "it still reports the grant (drift not seen)");
  const again = await step("create again", () => p.create(checked.value.inputs as never));
  seen.recreate = again.ok ? "ok" : again.outcome;
  if (again.ok && !complete(emu)) throw untrue("create after drift", "the device does not hold the grant");
  let outsNow = again.ok ? again.value.outs : outs;
  if (again.ok) {
    const news = kind.update ? kind.update.inputs(emu) : { ...kind.inputs(emu), description: "on call (CHG-2)" };
    const rechecked = await step("check of the update", () => p.check(outsNow, news));
    const updated = rechecked.ok ? await step("update", () => p.update(id, outsNow as never, rechecked.value.inputs as never)) : rechecked;
    seen.update = updated.ok ? "ok" : updated.outcome;
    if (updated.ok) {
      const shown = kind.update ? kind.update.shown(emu) : complete(emu);
      if (!shown) throw untrue("update", "the device does not show it");
      outsNow = updated.value.outs;
      if (!kind.update && outsNow.description !== "on call (CHG-2)")
        throw untrue("update", `its state keeps description ${JSON.stringify(outsNow.description)}`);
    }
  }
  const deleted = await step("delete", () => p.delete(id, outsNow as never));
  seen.delete = deleted.ok ? "ok" : deleted.outcome;
  if (deleted.ok && kind.present(emu)) throw untrue("delete", "the device still holds the grant");
  const final = await step("final read", () => p.read(id, outsNow as never));
  seen.final = final.ok ? "ok" : final.outcome;
  if (final.ok && reported(kind, final.value.props).length > 0 && !kind.present(emu))
    throw untrue("final read", `it reports ${reported(kind, final.value.props).join(", ")} held, which the device does not hold`);
  if (deleted.ok) expect(kind.present(emu)).toBe(false);
  else kind.handRemove(emu);
  return seen;
}

const ALL_OK: Record<string, Outcome> = { check: "ok", create: "ok", read: "ok", drift: "ok", recreate: "ok", update: "ok", delete: "ok", final: "ok" };

/**
 * Variant values under which a kind fails loudly instead of working, with why (docs/variants.md, "Open" lists
 * each). Keyed `device:option=value`, then by kind: the outcome of each step.
 */
const LOUD: Record<string, Record<string, Record<string, Outcome>>> = {
  // Nothing read-only tells whose key it is: the preflight fails closed (202002) until connection.username names
  // the key's administrator (docs/reference/fortimanager.md §3b); with it named the lifecycle works (the case below).
  "fortimanager:sysSessionForApiKeys=no-permission": { [fmgTrustedHostKeyOnly.name]: { check: "GrantError 202002" } },
  "fortimanager:sysSessionForApiKeys=invalid-url": { [fmgTrustedHostKeyOnly.name]: { check: "GrantError 202002" } },
};

const cases = Object.entries(DEVICES).flatMap(([device, d]) => d.variants.flatMap((v) => v.values.map((value) => [device, v.option, value] as const)));

describe("every variant runs every lifecycle it concerns: correct, or a GrantError with a diagnosis", () => {
  it("has a lifecycle declared for every option of every emulator", () => {
    const unmatched = Object.entries(DEVICES).flatMap(([device, d]) =>
      d.variants.filter((v) => !d.kinds.some(([prefix, kinds]) => v.option.startsWith(prefix) && kinds.length > 0)).map((v) => `${device}:${v.option}`),
    );
    expect(unmatched).toEqual([]);
  });

  // Each case has its own emulator (its own URL), so the provider's per-device caches never mix cases.
  afterAll(async () => {
    await closeFortimanagerSessions();
    await closeAllAgents();
    resetProcessState();
  });

  it.concurrent.each(cases)("%s %s = %s", async (device, option, value) => {
    const d = DEVICES[device]!;
    const emu = (await d.start(withOption(d.base(option), option, optionValue(value)))) as { close(): Promise<void> };
    try {
      const kinds = d.kinds.find(([prefix]) => option.startsWith(prefix))![1];
      for (const kind of kinds) {
        const seen = await lifecycle(emu as never, kind);
        // A loud failure is allowed only where the variant is listed with its reason; everywhere else every step works.
        const allowed = LOUD[`${device}:${option}=${value}`];
        const expected = allowed?.[kind.name] ?? ALL_OK;
        expect([kind.name, seen]).toEqual([kind.name, expected]);
      }
    } finally {
      await emu.close();
    }
  });
});

describe("answers a variant changes the meaning of", () => {
  it.each(["-3", "-2"])("a trusted host for an administrator that does not exist is 202051 (not found) when a missing admin answers %s", async (answer) => {
    const emu = await startFortimanagerEmulator({ missingAdminCode: Number(answer) as -2 | -3 });
    try {
      const e = await fortimanagerTrustedHostProvider.check({}, { ...fmgTrustedHost.inputs(emu), adminUser: "ghost" }).catch((x: unknown) => x);
      expect(isGrantError(e) && e.code).toBe("202051");
      expect(String(e)).toContain("ghost");
    } finally {
      await emu.close();
    }
  });
});

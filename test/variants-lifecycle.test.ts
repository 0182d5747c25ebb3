/**
 * Every grant lifecycle under every emulator variant (issue 19): for each value of each option in the emulators'
 * `VARIANTS` lists, the provider objects are driven as the engine drives them — check (preview), create, read
 * (refresh), read after a hand edit on the device (drift must be seen), delete, a final read — for each resource
 * kind the option concerns. After every step the device's state is taken from the emulator backend: a step either
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
import { fortimanagerTrustedHostProvider } from "../provider/devices/fortimanager/resource";
import { opnsenseAliasEntryProvider } from "../provider/devices/opnsense/resource";
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
}

interface Device<E> {
  readonly variants: readonly EmulatorVariant[];
  start(options: Record<string, unknown>): Promise<E>;
  /** Options every start gets; a variant's own option is set on top. */
  readonly base: (option: string) => Record<string, unknown>;
  /** The kinds each option concerns, by option-name prefix (first match wins). */
  readonly kinds: readonly (readonly [prefix: string, kinds: readonly Kind<E>[]])[];
}

const ADDRESS = "203.0.113.7";
const FEED = "jit-allow";
/** Entries already in the feed, more than the smallest entry-list window, so that ours is listed past it. */
const FILLER = Array.from({ length: 150 }, (_, i) => `198.18.${i >> 8}.${i & 255}`);

const fgtFeedEntry: Kind<FortigateEmulator> = {
  name: "FortigateFeedEntry",
  provider: fortigateFeedEntryProvider as unknown as Provider,
  inputs: (emu) => ({ __provider: "x", connection: { url: emu.url, caCert: emu.caCert }, credentials: { token: emu.token }, feed: FEED, address: ADDRESS }),
  present: (emu) => [...(emu.backend.feeds.find("root", FEED, false)?.entries.values() ?? [])].some((e) => e.entry === ADDRESS),
  handRemove: (emu) => void emu.backend.feeds.removeEntries("root", FEED, [ADDRESS]),
};

const fgtAddress: Kind<FortigateEmulator> = {
  name: "FortigateAddress",
  provider: fortigateAddressProvider as unknown as Provider,
  inputs: (emu) => ({
    __provider: "x",
    connection: { url: emu.url, caCert: emu.caCert },
    credentials: { token: emu.token },
    name: "grant-alice",
    address: ADDRESS,
    group: "jit-admins",
  }),
  present: (emu) =>
    emu.backend.getAddress("root", "ipv4", "grant-alice") !== undefined && emu.backend.groupMembers("root", "jit-admins").includes("grant-alice"),
  handRemove: (emu) => {
    emu.backend.removeMember("root", "ipv4", "jit-admins", "grant-alice");
    emu.backend.deleteAddress("root", "ipv4", "grant-alice");
  },
};

const SET = [ADDRESS, "203.0.113.8"];
/** A set's state: every listed address not named in `missing` (FortiManager names it with the device). */
const setHeld = (props: Record<string, unknown>) => {
  const missing = (props.missing as string[] | undefined) ?? [];
  return SET.filter((a) => !missing.some((m) => m === a || m.startsWith(`${a} `)));
};
const withoutAddress = ({ address: _address, ...rest }: Record<string, unknown>) => rest;
const fgtFeedHolds = (emu: FortigateEmulator) => {
  const listed = new Set([...(emu.backend.feeds.find("root", FEED, false)?.entries.values() ?? [])].map((e) => e.entry));
  return SET.filter((a) => listed.has(a)).length;
};
const fgtFeedSet: Kind<FortigateEmulator> = {
  name: "FortigateFeedSet",
  provider: fortigateFeedSetProvider as unknown as Provider,
  inputs: (emu) => ({ ...withoutAddress(fgtFeedEntry.inputs(emu)), addresses: SET, grantName: "fs" }),
  present: (emu) => fgtFeedHolds(emu) > 0,
  complete: (emu) => fgtFeedHolds(emu) === SET.length,
  reportedHeld: setHeld,
  handRemove: (emu) => void emu.backend.feeds.removeEntries("root", FEED, SET),
};

const fmgConn = (emu: FortimanagerEmulator) => ({ connection: { url: emu.url, caCert: emu.caCert }, credentials: { token: DEFAULT_CREDENTIALS.apiKey } });
const fmgTrustedHost: Kind<FortimanagerEmulator> = {
  name: "FortimanagerTrustedHost",
  provider: fortimanagerTrustedHostProvider as unknown as Provider,
  inputs: (emu) => ({ __provider: "x", ...fmgConn(emu), adminUser: "alice", address: ADDRESS }),
  present: (emu) => Object.values(emu.backend.admins.get("alice")!.slots).some((s) => Array.isArray(s) && s[0] === ADDRESS),
  handRemove: (emu) => {
    const slots = emu.backend.admins.get("alice")!.slots as Record<string, unknown>;
    for (const [k, s] of Object.entries(slots)) if (Array.isArray(s) && s[0] === ADDRESS) slots[k] = ["255.255.255.255", "255.255.255.255"];
  },
};

/** The same, with the key's administrator named: what a user does where the device cannot say who owns a key. */
const fmgTrustedHostNamed: Kind<FortimanagerEmulator> = {
  ...fmgTrustedHost,
  name: "FortimanagerTrustedHost (connection.username named)",
  inputs: (emu) => ({ ...fmgTrustedHost.inputs(emu), connection: { url: emu.url, caCert: emu.caCert, username: "apiadmin" } }),
};

const FMG_DEVICES = ["fgt-hq", "fgt-br1"];
const fmgFeed = (emu: FortimanagerEmulator, device: string) => emu.backend.devices.devices.get(device)!.backend.feeds;
const fmgFeedEntry: Kind<FortimanagerEmulator> = {
  name: "FortimanagerFeedEntry",
  provider: fortimanagerFeedEntryProvider as unknown as Provider,
  inputs: (emu) => ({ __provider: "x", ...fmgConn(emu), devices: FMG_DEVICES, feed: FEED, address: ADDRESS }),
  // Held when any managed device lists it: a half-revoked grant must count as present.
  present: (emu) => FMG_DEVICES.some((d) => [...(fmgFeed(emu, d).find("root", FEED, false)?.entries.values() ?? [])].some((e) => e.entry === ADDRESS)),
  handRemove: (emu) => void fmgFeed(emu, FMG_DEVICES[0]!).removeEntries("root", FEED, [ADDRESS]),
};

const fmgFeedHolds = (emu: FortimanagerEmulator) =>
  FMG_DEVICES.flatMap((d) => [...(fmgFeed(emu, d).find("root", FEED, false)?.entries.values() ?? [])].filter((e) => SET.includes(e.entry))).length;
const fmgFeedSet: Kind<FortimanagerEmulator> = {
  name: "FortimanagerFeedSet",
  provider: fortimanagerFeedSetProvider as unknown as Provider,
  inputs: (emu) => ({ ...withoutAddress(fmgFeedEntry.inputs(emu)), addresses: SET, grantName: "ms" }),
  present: (emu) => fmgFeedHolds(emu) > 0,
  complete: (emu) => fmgFeedHolds(emu) === SET.length * FMG_DEVICES.length,
  reportedHeld: setHeld,
  handRemove: (emu) => void fmgFeed(emu, FMG_DEVICES[0]!).removeEntries("root", FEED, SET),
};

const opnAliasEntry: Kind<OpnsenseEmulator> = {
  name: "OpnsenseAliasEntry",
  provider: opnsenseAliasEntryProvider as unknown as Provider,
  inputs: (emu) => ({ __provider: "x", ...connFor(emu.url, emu.caCert, "admin"), alias: "jit_admins", address: ADDRESS, method: "config" }),
  present: (emu) => emu.backend.aliases.get("jit_admins")!.content.includes(ADDRESS),
  handRemove: (emu) => {
    const a = emu.backend.aliases.get("jit_admins")!;
    a.content = a.content.filter((c) => c !== ADDRESS);
  },
};

const DEVICES: Record<string, Device<never>> = {
  fortigate: {
    variants: fortigateVariants.VARIANTS,
    start: (o) => startFortigateEmulator({ vdoms: ["root"], groups: [{ name: "jit-admins" }], feeds: [{ name: FEED, entries: FILLER }], ...o }),
    // Instant visibility unless visibility is the variant under test: the other variants' suites stay short.
    base: (option) => (option === "feedSettings.pushVisibleAfterMs" ? {} : { feedSettings: { pushVisibleAfterMs: 0 } }),
    kinds: [
      ["feedSettings.", [fgtFeedEntry, fgtFeedSet]],
      ["", [fgtAddress, fgtFeedEntry]],
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
      ["proxy.", [fmgFeedEntry, fmgFeedSet]],
      ["sysSessionForApiKeys", [fmgTrustedHost, fmgTrustedHostNamed, fmgFeedEntry]],
      ["", [fmgTrustedHost, fmgFeedEntry]],
    ],
  } satisfies Device<FortimanagerEmulator> as unknown as Device<never>,
  opnsense: {
    variants: opnsenseVariants.VARIANTS,
    start: (o) => startOpnsenseEmulator({ users: Object.values(USERS), ...o }),
    base: () => ({}),
    kinds: [["", [opnAliasEntry]]],
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
  return kind.reportedHeld ? kind.reportedHeld(props) : [ADDRESS];
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
  const outsNow = again.ok ? again.value.outs : outs;
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

const ALL_OK: Record<string, Outcome> = { check: "ok", create: "ok", read: "ok", drift: "ok", recreate: "ok", delete: "ok", final: "ok" };

/**
 * Variant values under which a kind fails loudly instead of working, with why (docs/variants.md, "Open" lists
 * each). Keyed `device:option=value`, then by kind: the outcome of each step.
 */
const LOUD: Record<string, Record<string, Record<string, Outcome>>> = {
  // Nothing read-only tells whose key it is: the preflight fails closed (202002) until connection.username names
  // the key's administrator (docs/reference/fortimanager.md §3b); with it named the lifecycle works (the case below).
  "fortimanager:sysSessionForApiKeys=no-permission": { FortimanagerTrustedHost: { check: "GrantError 202002" } },
  "fortimanager:sysSessionForApiKeys=invalid-url": { FortimanagerTrustedHost: { check: "GrantError 202002" } },
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

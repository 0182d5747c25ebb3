/**
 * Red team (item 6, feed-identity.ts): the serial identity that keeps one FortiGate's feed entry when a direct grant
 * and a FortiManager grant of the same box both declare it. First found wired into the per-entry feed grants only;
 * now the feed SETS (FortigateFeedSet, FortimanagerFeedSet) consult it when they remove (moving a team from a set of
 * one kind to grants of the other in one `up` keeps the address) and declare their listed entries in it (a per-entry
 * grant or set of the other kind deleted on the same FortiGate keeps what a set lists). Every record goes with what
 * declared it (delete; a set's update that stops listing an address), so a long-lived process (the provider plugin)
 * never spares an entry nobody declares. Setup: test/support/one-box-feeds.ts (fgt-hq is fgt.url).
 */
import type { FortigateEmulator } from "../../emulators/fortigate/emulator";
import { DEFAULT_CREDENTIALS, type FortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { resetProcessState } from "../../provider/core/process-state";
import { fortigateFeedSetProvider } from "../../provider/devices/fortigate/feed-set";
import { fortigateFeedEntryProvider } from "../../provider/devices/fortigate/feed-resource";
import { fortimanagerFeedEntryProvider } from "../../provider/devices/fortimanager/feed-resource";
import { closeOneBoxFeeds, startOneBoxFeeds } from "../support/one-box-feeds";
import { fortimanagerFeedSetProvider } from "../../provider/devices/fortimanager/feed-set";
import { declareFeedSet, keptInFeedByOtherKind } from "../../provider/devices/fortinet/feed-identity";

jest.setTimeout(60_000);

const FEED = "jit-allow";
const ADDRESS = "203.0.113.71";

let fgt: FortigateEmulator;
let fmg: FortimanagerEmulator;
beforeAll(async () => void ({ fgt, fmg } = await startOneBoxFeeds(FEED)));
afterAll(() => closeOneBoxFeeds({ fgt, fmg }));

const held = () => [...(fgt.backend.feeds.find("root", FEED, false)?.entries.values() ?? [])].some((e) => e.entry === ADDRESS);
const fgtConn = () => ({ __provider: "x", connection: { url: fgt.url, caCert: fgt.caCert }, credentials: { token: fgt.token }, feed: FEED });
const fmgConn = () => ({
  __provider: "x",
  connection: { url: fmg.url, caCert: fmg.caCert },
  credentials: { token: DEFAULT_CREDENTIALS.apiKey },
  devices: ["fgt-hq"],
  feed: FEED,
});

// Was HIGH, fixed (feed sets remove through feed-identity.ts too): a direct FortigateFeedSet deleted after a
// FortimanagerFeedEntry of the same FortiGate adopted its address. Fix: FortigateFeedSet/FortimanagerFeedSet declare
// each listed address with declareFeedEntry in check and keep (keptByOtherKind) what a grant of the other kind
// declares on the same serial before pushing a remove.
it("replacing a direct FortigateFeedSet by a FortimanagerFeedEntry of the same FortiGate keeps the address allowed", async () => {
  const c = await fortigateFeedSetProvider.check({}, { ...fgtConn(), addresses: [ADDRESS], grantName: "team-direct" } as never);
  const set = await fortigateFeedSetProvider.create(c.inputs as never);
  expect(held()).toBe(true);
  resetProcessState();
  const m = await fortimanagerFeedEntryProvider.check({}, { ...fmgConn(), address: ADDRESS, grantName: "alice-managed" });
  await fortimanagerFeedEntryProvider.create(m.inputs as never);
  await fortigateFeedSetProvider.delete(set.id, set.outs as never);
  expect(held()).toBe(true);
});

// Was HIGH, fixed, the other way round: a FortimanagerFeedSet deleted after a direct FortigateFeedEntry adopted its address.
it("replacing a FortimanagerFeedSet by a direct FortigateFeedEntry of the same FortiGate keeps the address allowed", async () => {
  resetProcessState();
  const c = await fortimanagerFeedSetProvider.check({}, { ...fmgConn(), addresses: [ADDRESS], grantName: "team-managed" } as never);
  const set = await fortimanagerFeedSetProvider.create(c.inputs as never);
  expect(held()).toBe(true);
  resetProcessState();
  const d = await fortigateFeedEntryProvider.check({}, { ...fgtConn(), address: ADDRESS, grantName: "alice-direct" });
  await fortigateFeedEntryProvider.create(d.inputs as never);
  await fortimanagerFeedSetProvider.delete(set.id, set.outs as never);
  expect(held()).toBe(true);
});

// Issue 19 leftovers. The address each test below uses is its own, so one test's entries never answer another's.
const gone = (a: string) => ![...(fgt.backend.feeds.find("root", FEED, false)?.entries.values() ?? [])].some((e) => e.entry === a);
const directSet = async (name: string, addresses: string[]) => {
  const c = await fortigateFeedSetProvider.check({}, { ...fgtConn(), addresses, grantName: name } as never);
  return { inputs: c.inputs, ...(await fortigateFeedSetProvider.create(c.inputs as never)) };
};
const managedSet = async (name: string, addresses: string[]) => {
  const c = await fortimanagerFeedSetProvider.check({}, { ...fmgConn(), addresses, grantName: name } as never);
  return { inputs: c.inputs, ...(await fortimanagerFeedSetProvider.create(c.inputs as never)) };
};
const directEntry = async (name: string, address: string) => {
  const c = await fortigateFeedEntryProvider.check({}, { ...fgtConn(), address, grantName: name });
  return fortigateFeedEntryProvider.create(c.inputs as never);
};
const managedEntry = async (name: string, address: string) => {
  const c = await fortimanagerFeedEntryProvider.check({}, { ...fmgConn(), address, grantName: name });
  return fortimanagerFeedEntryProvider.create(c.inputs as never);
};

describe("feed sets declare their entries in the serial identity (one program, one run)", () => {
  beforeEach(() => resetProcessState());

  it("a FortimanagerFeedEntry deleted while a direct FortigateFeedSet of the same FortiGate lists the address keeps it", async () => {
    const a = "203.0.113.81";
    await directSet("team-direct", [a]);
    const m = await managedEntry("alice-managed", a);
    await fortimanagerFeedEntryProvider.delete(m.id, m.outs as never);
    expect(gone(a)).toBe(false);
  });

  it("a direct FortigateFeedEntry deleted while a FortimanagerFeedSet of the same FortiGate lists the address keeps it", async () => {
    const a = "203.0.113.82";
    await managedSet("team-managed", [a]);
    const d = await directEntry("alice-direct", a);
    await fortigateFeedEntryProvider.delete(d.id, d.outs as never);
    expect(gone(a)).toBe(false);
  });

  it("a direct FortigateFeedSet deleted while a FortimanagerFeedSet of the same FortiGate lists the address keeps it", async () => {
    const a = "203.0.113.83";
    await managedSet("team-managed", [a]);
    const d = await directSet("team-direct", [a]);
    await fortigateFeedSetProvider.delete(d.id, d.outs as never);
    expect(gone(a)).toBe(false);
  });

  it("a FortimanagerFeedSet deleted while a direct FortigateFeedSet of the same FortiGate lists the address keeps it", async () => {
    const a = "203.0.113.84";
    await directSet("team-direct", [a]);
    const m = await managedSet("team-managed", [a]);
    await fortimanagerFeedSetProvider.delete(m.id, m.outs as never);
    expect(gone(a)).toBe(false);
  });

  it("a FortimanagerFeedSet's update that drops a device keeps the address a direct FortigateFeedSet lists on that FortiGate", async () => {
    const a = "203.0.113.85";
    await directSet("team-direct", [a]);
    const c = await fortimanagerFeedSetProvider.check({}, { ...fmgConn(), devices: ["fgt-hq", "fgt-br1"], addresses: [a], grantName: "team-managed" } as never);
    const m = await fortimanagerFeedSetProvider.create(c.inputs as never);
    const n = await fortimanagerFeedSetProvider.check(
      m.outs as never,
      { ...fmgConn(), devices: ["fgt-br1"], addresses: [a], grantName: "team-managed" } as never,
    );
    await fortimanagerFeedSetProvider.update(m.id, m.outs as never, n.inputs as never);
    expect(gone(a)).toBe(false);
  });
});

describe("a record goes with what declared it (a long-lived process: the provider plugin, or several lifecycles)", () => {
  beforeAll(() => resetProcessState());

  it("a deleted FortimanagerFeedEntry no longer spares the entry a direct FortigateFeedEntry's delete removes", async () => {
    const a = "203.0.113.91";
    const m = await managedEntry("bob-managed", a);
    await fortimanagerFeedEntryProvider.delete(m.id, m.outs as never);
    const d = await directEntry("bob-direct", a);
    await fortigateFeedEntryProvider.delete(d.id, d.outs as never);
    expect(gone(a)).toBe(true);
  });

  it("a deleted direct FortigateFeedSet no longer spares the entry a FortimanagerFeedEntry's delete removes", async () => {
    const a = "203.0.113.92";
    const s = await directSet("team-gone", [a]);
    await fortigateFeedSetProvider.delete(s.id, s.outs as never);
    const m = await managedEntry("carol-managed", a);
    await fortimanagerFeedEntryProvider.delete(m.id, m.outs as never);
    expect(gone(a)).toBe(true);
  });

  it("a FortimanagerFeedSet whose update drops an address no longer spares it", async () => {
    const a = "203.0.113.93";
    const b = "203.0.113.94";
    const s = await managedSet("team-shrinks", [a, b]);
    const n = await fortimanagerFeedSetProvider.check(s.outs as never, { ...fmgConn(), addresses: [b], grantName: "team-shrinks" } as never);
    await fortimanagerFeedSetProvider.update(s.id, s.outs as never, n.inputs as never);
    const d = await directEntry("dave-direct", a);
    await fortigateFeedEntryProvider.delete(d.id, d.outs as never);
    expect(gone(a)).toBe(true);
    expect(gone(b)).toBe(false);
  });

  it("a set and a per-entry grant of one name and kind keep separate records", async () => {
    const a = "203.0.113.95";
    await directSet("same-name", [a]);
    const e = await directEntry("same-name", a);
    await fortigateFeedEntryProvider.delete(e.id, e.outs as never);
    // The direct set still lists it: a managed grant's delete must keep it.
    const m = await managedEntry("erin-managed", a);
    await fortimanagerFeedEntryProvider.delete(m.id, m.outs as never);
    expect(gone(a)).toBe(false);
  });
});

describe("a set is one record for all its entries", () => {
  beforeEach(() => resetProcessState());

  it("a change meeting many entries of a set of the other kind learns that set's serials once", async () => {
    let asked = 0;
    const many = Array.from({ length: 20 }, (_, i) => `198.51.100.${i + 1}/32`);
    const set = { kind: "direct" as const, resource: "FortigateFeedSet", vdom: "root", feed: FEED, where: "https://fgt" };
    declareFeedSet({ ...set, serials: async () => (asked++, new Map([["FGT-SERIAL", "fgt"]])) }, "team-many", many);
    const kept = await keptInFeedByOtherKind("managed", "root", FEED, async () => new Map([["FGT-SERIAL", "fgt-hq"]]));
    expect([...(kept.get("fgt-hq") ?? [])].sort()).toEqual([...many].sort());
    expect(asked).toBe(1);
  });
});

/**
 * FortigateFeedSet and FortimanagerFeedSet through the provider objects against the emulators (issue 13):
 * create/change/delete with one read, one push per command and one read back per change (whatever N),
 * exclusive drift from a hand-added entry named and removed, the shared-address rule with the per-entry
 * feed grants, `devices` changed in place, hostile input.
 */
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { FeedError } from "../../emulators/fortigate/feeds";
import { fortigateFeedEntryProvider } from "../../provider/devices/fortigate/feed-resource";
import { fortigateFeedSetProvider as fgt } from "../../provider/devices/fortigate/feed-set";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { DEFAULT_DEVICES } from "../../emulators/fortimanager/seed";
import { fortimanagerFeedEntryProvider } from "../../provider/devices/fortimanager/feed-resource";
import { fortimanagerFeedSetProvider as fmg } from "../../provider/devices/fortimanager/feed-set";
import { resetProcessState } from "../../provider/core/process-state";
import { FEED_VISIBILITY } from "../../provider/devices/fortinet/feed-batcher";
import { setResourceNames, typeToken } from "../../provider/device-settings";
import * as pkg from "../../provider/index";
import { grantErrorCode as code, useEmulator } from "../support/emulator";

type Raw = Record<string, unknown>;
type P = typeof fgt | typeof fmg;

async function run(p: P, base: Raw, extra: Raw) {
  const r = await p.check({}, { ...base, ...extra } as never);
  expect(r.failures ?? []).toEqual([]);
  return (await p.create(r.inputs as never)).outs as unknown as Raw;
}
async function change(p: P, olds: Raw, base: Raw, extra: Raw) {
  const news = (await p.check(olds, { ...base, ...extra, grantName: olds.grantName } as never)).inputs!;
  const d = await p.diff("id", olds as never, news as never);
  expect(d.replaces ?? []).toEqual([]);
  return d.changes ? ((await p.update("id", olds as never, news as never)).outs as unknown as Raw) : olds;
}
const read = async (p: P, s: Raw) => (await p.read("id", s as never)).props as unknown as Raw;
const many = (n: number) => Array.from({ length: n }, (_, i) => `198.51.${100 + Math.floor(i / 250)}.${(i % 250) + 1}`);

// Both emulators here show a push at once (pushVisibleAfterMs: 0), so the bounded wait only runs out for an
// entry that never shows (overflow, a failed take-back): 1 s proves the same as the shipped 5 s.
const savedVisibility = { ...FEED_VISIBILITY };
beforeAll(() => void Object.assign(FEED_VISIBILITY, { waitMs: 1_000, pollMs: 100 }));
afterAll(() => void Object.assign(FEED_VISIBILITY, savedVisibility));

describe("FortigateFeedSet", () => {
  // Request counts and a refused remove below assume instant visibility (the shipped 2 s is the variant suite's).
  const emu = useEmulator(() => startFortigateEmulator({ feedSettings: { pushVisibleAfterMs: 0 } }));
  const base = () => ({
    connection: { url: emu.url, caCert: emu.caCert },
    credentials: { token: emu.token },
    feed: "jit-allow",
    addresses: [],
    grantName: "fs",
  });
  const entries = () => [...(emu.backend.feeds.find("root", "jit-allow", false)?.entries.values() ?? [])].map((e) => e.entry).sort();
  const calls = () => emu.log.entries().map((e) => `${e.method} ${e.path}`);
  const READ = "GET /api/v2/monitor/system/external-resource/entry-list";
  const PUSH = "POST /api/v2/monitor/system/external-resource/dynamic";
  const pages = (n: number) => Array.from({ length: n }, () => READ);

  it("create/change/delete: one read, one push per command, one read back per change, for any N; other entries untouched", async () => {
    emu.backend.feeds.addEntries("root", "jit-allow", ["192.0.2.99"]);
    const s = await run(fgt, base(), { addresses: [...many(300), "2001:db8::7", "203.0.113.7"] });
    expect(entries()).toHaveLength(303);
    emu.log.clear();
    const u = await change(fgt, s, base(), { addresses: [...many(150), "2001:db8::8", "203.0.113.7"] });
    // Removes 150 + 1 and adds 1: one remove push and one add push. Every read goes to a proven end: the emulator's
    // default window is 100, so 304 entries are 4 pages and an empty one, 153 are 2 and an empty one; a list of
    // several pages is read twice, whole, so that an edit between pages cannot hide an entry.
    expect(calls()).toEqual([...pages(10), PUSH, PUSH, ...pages(6)]);
    console.log(`FortigateFeedSet change of 152 entries in a 303-entry feed: ${emu.log.count()} requests`);
    expect(entries()).toEqual([...many(150), "192.0.2.99", "2001:db8::8", "203.0.113.7"].sort());
    emu.log.clear();
    expect((await read(fgt, u)).unexpected).toEqual([]);
    expect(calls()).toEqual(pages(6));
    emu.log.clear();
    await fgt.delete("id", u as never);
    expect(calls()).toEqual([...pages(6), PUSH, ...pages(2)]);
    expect(entries()).toEqual(["192.0.2.99"]);
  });

  it("an update whose read-back fails takes back what it pushed: destroy with the old state leaves what was there before (issue 18 item 4)", async () => {
    emu.backend.feeds.addEntries("root", "jit-allow", ["192.0.2.99"]);
    const s = await run(fgt, base(), { addresses: ["203.0.113.7"] });
    emu.faults.sequence(READ, ["ok", { kind: "status", status: 500 }]);
    const news = (await fgt.check(s, { ...base(), addresses: ["203.0.113.7", "203.0.113.8", "203.0.113.9"] } as never)).inputs!;
    await expect(fgt.update("id", s as never, news as never)).rejects.toBeDefined();
    emu.faults.clear();
    await fgt.delete("id", s as never);
    expect(entries()).toEqual(["192.0.2.99"]);
  });

  it("pushes only `add` and `remove`, never `snapshot`", async () => {
    const s = await run(fgt, base(), { addresses: ["203.0.113.7"] });
    await change(fgt, s, base(), { addresses: ["203.0.113.8"] });
    const commands = emu.log
      .entries()
      .filter((e) => e.method === "POST")
      .flatMap((e) => (JSON.parse(String((e as { body?: unknown }).body ?? "{}")) as { commands?: { command: string }[] }).commands ?? [])
      .map((c) => c.command);
    expect(new Set(commands)).not.toContain("snapshot");
  });

  it("exclusive: a hand-added entry is named in `unexpected`, refresh reports a diff, and `up` removes it (listed entries stay)", async () => {
    const s = await run(fgt, base(), { exclusive: true, addresses: ["203.0.113.7"] });
    emu.backend.feeds.addEntries("root", "jit-allow", ["0.0.0.0/1"]);
    const r = await read(fgt, s);
    expect(r.unexpected).toEqual(["0.0.0.0/1"]);
    const news = (await fgt.check(r as never, { ...base(), exclusive: true, addresses: ["203.0.113.7"] } as never)).inputs!;
    expect((await fgt.diff("id", r as never, news as never)).changes).toBe(true);
    emu.log.clear();
    await change(fgt, r, base(), { exclusive: true, addresses: ["203.0.113.7"] });
    expect(calls()).toEqual([...pages(2), PUSH, ...pages(2)]);
    expect(entries()).toEqual(["203.0.113.7"]);
  });

  it("non-exclusive: a hand-added entry is not drift and stays", async () => {
    const s = await run(fgt, base(), { addresses: ["203.0.113.7"] });
    emu.backend.feeds.addEntries("root", "jit-allow", ["198.51.100.77"]);
    const r = await read(fgt, s);
    expect(r.unexpected).toEqual([]);
    await fgt.delete("id", r as never);
    expect(entries()).toEqual(["198.51.100.77"]);
  });

  it("a FortigateFeedEntry grant of the program keeps its address when the set stops listing it", async () => {
    const s = await run(fgt, base(), { addresses: ["203.0.113.7", "203.0.113.8"] });
    const { addresses: _a, ...conn } = base();
    const c = await fortigateFeedEntryProvider.check({}, { ...conn, address: "203.0.113.8", grantName: "bob" } as never);
    expect(c.failures ?? []).toEqual([]);
    await change(fgt, s, base(), { addresses: ["203.0.113.7"] });
    expect(entries()).toContain("203.0.113.8");
  });

  // Issue 18 item 5: entries past the feed's entry limit are not enforced; the set fails as the per-entry grant does.
  it.each(["listed", "dropped"] as const)("create past the entry limit (overflow %s) fails with 202103 and takes back what it added", async (mode) => {
    Object.assign(emu.backend.feeds.settings, { entryLimit: 1, overflowEntries: mode });
    const ins = (await fgt.check({}, { ...base(), addresses: ["203.0.113.7", "203.0.113.8"] } as never)).inputs!;
    const messages: string[] = [];
    expect(await code(fgt.create(ins), { messages })).toBe("202103");
    expect(messages[0]).toContain("203.0.113.8");
    expect(entries()).toEqual([]);
  });

  it("an update that adds past the entry limit fails with 202103 (never a success the feed does not enforce)", async () => {
    const s = await run(fgt, base(), { addresses: ["203.0.113.7"] });
    emu.backend.feeds.settings.entryLimit = 1;
    const news = (await fgt.check(s as never, { ...base(), addresses: ["203.0.113.7", "203.0.113.8"] } as never)).inputs!;
    expect(await code(fgt.update("id", s as never, news as never))).toBe("202103");
    expect(entries()).toEqual(["203.0.113.7"]);
  });

  it("an exclusive create whose removal fails takes back what it added (the state stays as it was: none)", async () => {
    emu.backend.feeds.addEntries("root", "jit-allow", ["0.0.0.0/1"]);
    const refused = jest.spyOn(emu.backend.feeds, "removeEntries").mockImplementationOnce(() => {
      throw new FeedError(500, -1, "Command fail. Return code -1");
    });
    try {
      const ins = (await fgt.check({}, { ...base(), exclusive: true, addresses: ["203.0.113.7"] } as never)).inputs!;
      expect(await code(fgt.create(ins))).not.toBe("none");
    } finally {
      refused.mockRestore();
    }
    expect(entries()).toEqual(["0.0.0.0/1"]);
  });

  it.each([
    ["feed", { feed: "a/b" }],
    ["addresses.0", { addresses: ["1.2.3.4\n5.6.7.8"] }],
    ["addresses.0", { addresses: ["10.0.0.1/24"] }],
  ])("check refuses %s without a request", async (field, extra) => {
    const r = await fgt.check({}, { ...base(), ...extra } as never);
    expect(r.failures?.[0]?.property).toBe(field);
    expect(emu.log.entries()).toHaveLength(0);
  });
});

describe("FortimanagerFeedSet", () => {
  // Proxied-call counts below assume instant visibility (the shipped 2 s is the variant suite's).
  const emu = useEmulator(() => startFortimanagerEmulator({ devices: DEFAULT_DEVICES.map((d) => ({ ...d, feedSettings: { pushVisibleAfterMs: 0 } })) }));
  const DEVICES = ["fgt-br1", "fgt-hq"];
  const base = () => ({
    connection: { url: emu.url, caCert: emu.caCert },
    credentials: { token: DEFAULT_CREDENTIALS.apiKey },
    devices: DEVICES,
    feed: "jit-allow",
    addresses: [],
    grantName: "ms",
  });
  const feeds = (name: string) => emu.backend.devices.devices.get(name)!.backend.feeds;
  const entries = (name: string) => [...(feeds(name).find("root", "jit-allow", false)?.entries.values() ?? [])].map((e) => e.entry).sort();

  it("a per-entry grant's delete keeps the address on the devices a set of the program lists, and revokes it elsewhere", async () => {
    const entry = { connection: base().connection, credentials: base().credentials, feed: "jit-allow", address: "203.0.113.9", grantName: "alice" };
    const a = await fortimanagerFeedEntryProvider.create((await fortimanagerFeedEntryProvider.check({}, { ...entry, devices: ["fgt-br1", "fgt-hq"] })).inputs!);
    // The next run declares the set (fgt-hq only) and no longer alice's grant.
    resetProcessState();
    await run(fmg, base(), { devices: ["fgt-hq"], addresses: ["203.0.113.9"] });
    await fortimanagerFeedEntryProvider.delete(a.id, a.outs);
    expect(entries("fgt-hq")).toContain("203.0.113.9");
    expect(entries("fgt-br1")).not.toContain("203.0.113.9");
  });

  // Issue 18 item 3: the shared-address rule is per device (FortiGate + VDOM + feed), for sets as for per-entry grants.
  const declareEntry = async (devices: string[], grantName = "bob") => {
    const entry = { connection: base().connection, credentials: base().credentials, feed: "jit-allow", address: "203.0.113.9", grantName };
    const r = await fortimanagerFeedEntryProvider.check({}, { ...entry, devices });
    expect(r.failures ?? []).toEqual([]);
    return r.inputs!;
  };

  it("delete keeps a shared address only on the devices another grant of the program names, and revokes it on the rest", async () => {
    const s = await run(fmg, base(), { addresses: ["203.0.113.9", "203.0.113.10"] });
    await fortimanagerFeedEntryProvider.create(await declareEntry(["fgt-hq"]));
    // The next run declares bob's grant on fgt-hq only, and no longer the set.
    resetProcessState();
    await declareEntry(["fgt-hq"]);
    await fmg.delete("id", s as never);
    expect(entries("fgt-br1")).toEqual([]);
    expect(entries("fgt-hq")).toEqual(["203.0.113.9"]);
  });

  it("update: an address the set stops listing stays only where another set of the program names it", async () => {
    const s = await run(fmg, base(), { addresses: ["203.0.113.9", "203.0.113.10"] });
    const other = { ...base(), grantName: "other", devices: ["fgt-hq"], addresses: ["203.0.113.9"] };
    expect((await fmg.check({}, other as never)).failures ?? []).toEqual([]);
    await change(fmg, s, base(), { addresses: ["203.0.113.10"] });
    expect(entries("fgt-br1")).toEqual(["203.0.113.10"]);
    expect(entries("fgt-hq")).toEqual(["203.0.113.10", "203.0.113.9"]);
  });

  it("`devices` changed in place: a device taken out loses a shared address that no grant names on it", async () => {
    const s = await run(fmg, base(), { addresses: ["203.0.113.9"] });
    await declareEntry(["fgt-hq"]);
    await change(fmg, s, base(), { devices: ["fgt-hq"], addresses: ["203.0.113.9"] });
    expect(entries("fgt-br1")).toEqual([]);
    expect(entries("fgt-hq")).toEqual(["203.0.113.9"]);
  });

  it("expiry revokes a shared address where no other grant names it", async () => {
    const s = await run(fmg, base(), { addresses: ["203.0.113.9"], expiresAt: "2999-01-01T00:00:00Z" });
    await declareEntry(["fgt-hq"]);
    const due = { ...base(), addresses: ["203.0.113.9"], expiresAt: "2000-01-01T00:00:00Z" };
    const news = (await fmg.check(s as never, due as never)).inputs!;
    await fmg.update("id", s as never, news as never);
    expect(entries("fgt-br1")).toEqual([]);
    expect(entries("fgt-hq")).toEqual(["203.0.113.9"]);
  });

  it("create/change/delete on both devices: one proxied read, one proxied push per command, one read back per change", async () => {
    const s = await run(fmg, base(), { addresses: [...many(200), "2001:db8::7"] });
    for (const d of DEVICES) expect(entries(d)).toHaveLength(201);
    emu.log.clear();
    const u = await change(fmg, s, base(), { addresses: [...many(100), "203.0.113.7"] });
    const changeCalls = emu.log.count();
    console.log(`FortimanagerFeedSet change of 102 entries on 2 devices: ${changeCalls} JSON-RPC requests`);
    // Proxied reads to a proven end (window 100): 201 entries are 3 pages and an empty one, 101 are 2 and an empty
    // one, each read twice (several pages); two pushes.
    expect(changeCalls).toBe(8 + 2 + 6);
    for (const d of DEVICES) expect(entries(d)).toEqual([...many(100), "203.0.113.7"].sort());
    emu.log.clear();
    await read(fmg, u);
    expect(emu.log.count()).toBe(6);
    emu.log.clear();
    await fmg.delete("id", u as never);
    expect(emu.log.count()).toBe(6 + 1 + 1);
    for (const d of DEVICES) expect(entries(d)).toEqual([]);
  });

  it("exclusive: an entry hand-added on one device is named with that device and `up` removes it there", async () => {
    const s = await run(fmg, base(), { exclusive: true, addresses: ["203.0.113.7"] });
    feeds("fgt-br1").addEntries("root", "jit-allow", ["0.0.0.0/1"]);
    const r = await read(fmg, s);
    expect(r.unexpected).toEqual(["0.0.0.0/1 (fgt-br1)"]);
    emu.log.clear();
    await change(fmg, r, base(), { exclusive: true, addresses: ["203.0.113.7"] });
    // Read: one page on both, then the proving page from each device's own offset (1 and 2: two calls); push; read back.
    expect(emu.log.count()).toBe(3 + 1 + 2);
    for (const d of DEVICES) expect(entries(d)).toEqual(["203.0.113.7"]);
  });

  it("a listed entry lost on one device (reboot) is missing after refresh, and `up` pushes it there again", async () => {
    const s = await run(fmg, base(), { addresses: ["203.0.113.7"] });
    feeds("fgt-hq").clearAll();
    const r = await read(fmg, s);
    expect(r.missing).toEqual(["203.0.113.7"]);
    expect(r.addresses).toEqual(["203.0.113.7"]);
    await change(fmg, r, base(), { addresses: ["203.0.113.7"] });
    for (const d of DEVICES) expect(entries(d)).toEqual(["203.0.113.7"]);
  });

  it("`devices` changes in place: a device taken out loses the set's entries", async () => {
    const s = await run(fmg, base(), { addresses: ["203.0.113.7"] });
    await change(fmg, s, base(), { devices: ["fgt-hq"], addresses: ["203.0.113.7"] });
    expect(entries("fgt-br1")).toEqual([]);
    expect(entries("fgt-hq")).toEqual(["203.0.113.7"]);
  });

  it("create past one device's entry limit fails with 202103 naming that device, and takes back what it added on every device", async () => {
    feeds("fgt-br1").settings.entryLimit = 1;
    const ins = (await fmg.check({}, { ...base(), addresses: ["203.0.113.7", "203.0.113.8"] } as never)).inputs!;
    const messages: string[] = [];
    expect(await code(fmg.create(ins), { messages })).toBe("202103");
    expect(messages[0]).toContain("fgt-br1");
    expect(messages[0]).not.toContain("fgt-hq:");
    for (const d of DEVICES) expect(entries(d)).toEqual([]);
  });

  it("a take-back that fails on one device is named in the error with the entries it left there", async () => {
    feeds("fgt-br1").settings.entryLimit = 1;
    const stuck = jest.spyOn(feeds("fgt-br1"), "removeEntries").mockImplementation((scope, name) => feeds("fgt-br1").find(scope, name, false)!);
    try {
      const ins = (await fmg.check({}, { ...base(), addresses: ["203.0.113.7", "203.0.113.8"] } as never)).inputs!;
      const messages: string[] = [];
      expect(await code(fmg.create(ins), { messages })).toBe("202103");
      expect(messages[0]!.split("\n")[0]).toContain(
        "Taking back what this change added FAILED: 203.0.113.7, 203.0.113.8 on fgt-br1 (still listed after the remove)",
      );
      expect(messages[0]).not.toMatch(/on fgt-hq \(/);
    } finally {
      stuck.mockRestore();
    }
    expect(entries("fgt-hq")).toEqual([]);
  });

  it.each([
    ["devices", { devices: [] }],
    ["devices.0", { devices: ["fgt/../x"] }],
    ["addresses.0", { addresses: ["0.0.0.0/0"] }],
  ])("check refuses %s without a request", async (field, extra) => {
    const r = await fmg.check({}, { ...base(), ...extra } as never);
    expect(r.failures?.[0]?.property).toBe(field);
    expect(emu.log.entries()).toHaveLength(0);
  });
});

describe("registry", () => {
  it.each(setResourceNames().map(({ names }) => [names.className, names] as const))("%s: class and provider exported from the package root", (_n, names) => {
    const lib = pkg as unknown as Record<string, unknown>;
    expect(typeof lib[names.className]).toBe("function");
    expect(typeof (lib[names.providerExport] as { check?: unknown } | undefined)?.check).toBe("function");
    expect(typeToken(names)).toMatch(/^pulumi-nodejs:dynamic\/(opnsense|fortigate|fortimanager):[A-Z]\w+$/);
  });
});

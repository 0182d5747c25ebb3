import { resetProcessState } from "../../provider/core/process-state";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import {
  fortimanagerFeedEntryProvider as provider,
  type FortimanagerFeedEntryInputs,
  type FortimanagerFeedEntryState,
} from "../../provider/devices/fortimanager/feed-resource";
import { isGrantError } from "../../provider/core/errors";
import { FEED_VISIBILITY } from "../../provider/devices/fortinet/feed-batcher";
import { grantErrorCode as code, useEmulator } from "../support/emulator";

// The managed FortiGates the grants reach show a push at once (pushVisibleAfterMs: 0 below), so the bounded wait
// only runs out for an entry that never shows (a failed rollback): 1 s proves the same as the shipped 5 s.
const savedVisibility = { ...FEED_VISIBILITY };
beforeAll(() => void Object.assign(FEED_VISIBILITY, { waitMs: 1_000, pollMs: 100 }));
afterAll(() => void Object.assign(FEED_VISIBILITY, savedVisibility));

const DEVICES = ["fgt-1", "fgt-2", "fgt-3"];
const KEYS = {
  devcfg: "devcfgapikey0123456789abcdefghij",
  devread: "devreadapikey0123456789abcdefgh",
  rpcread: "rpcreadapikey0123456789abcdefgh",
  otheradom: "otheradomapikey0123456789abcdef",
};
const emu = useEmulator(() =>
  startFortimanagerEmulator({
    sysSessionForApiKeys: "answer",
    devices: [
      ...DEVICES.map((name) => ({
        name,
        feeds: [
          { name: "jit-allow", entries: ["198.51.100.1"] },
          { name: "file-feed", updateMethod: "feed" as const },
        ],
        // The proxy-call counts below assume instant visibility (the shipped default, 2 s, is the variant suite's).
        feedSettings: { pushVisibleAfterMs: 0 },
      })),
      { name: "fgt-other", adom: "others" },
    ],
    profiles: [
      { profileid: "Super_User", superUser: true, systemSetting: "read-write" },
      { profileid: "feed_pusher", superUser: false, systemSetting: "read", permissions: { "device-config": "read-write", "device-manager": "read" } },
      { profileid: "feed_reader", superUser: false, systemSetting: "read", permissions: { "device-config": "read" } },
    ],
    admins: [
      { userid: "apiadmin", userType: "api", apiKey: DEFAULT_CREDENTIALS.apiKey, profileid: "Super_User" },
      { userid: "admin", password: DEFAULT_CREDENTIALS.adminPassword, profileid: "Super_User" },
      { userid: "pusher", userType: "api", apiKey: KEYS.devcfg, profileid: "feed_pusher" },
      { userid: "reader", userType: "api", apiKey: KEYS.devread, profileid: "feed_reader" },
      { userid: "rpcread", userType: "api", apiKey: KEYS.rpcread, profileid: "Super_User", rpcPermit: "read" },
      { userid: "elsewhere", userType: "api", apiKey: KEYS.otheradom, profileid: "feed_pusher", adoms: ["others"] },
    ],
  }),
);
const dev = (name: string) => emu.backend.devices.devices.get(name)!;
const entries = (name: string, feed = "jit-allow") =>
  [...(dev(name).backend.feeds.find("root", feed, false)?.entries.values() ?? [])].map((e) => e.entry).sort();
const inputs = (extra: Record<string, unknown> = {}, token: string = DEFAULT_CREDENTIALS.apiKey) => ({
  connection: { url: emu.url, caCert: emu.caCert },
  credentials: { token },
  devices: DEVICES,
  feed: "jit-allow",
  address: "203.0.113.7",
  __provider: "x",
  ...extra,
});
async function checked(extra: Record<string, unknown> = {}, token?: string): Promise<FortimanagerFeedEntryInputs> {
  const r = await provider.check({}, inputs(extra, token));
  expect(r.failures ?? []).toEqual([]);
  return r.inputs as FortimanagerFeedEntryInputs;
}
const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );

describe("FortimanagerFeedEntry provider: check", () => {
  it.each([
    ["devices", { devices: [] }],
    ["devices.0", { devices: ["fgt/../x"] }],
    ["devices.1", { devices: ["fgt-1", "fgt 2"] }],
    ["feed", { feed: "a/b" }],
    ["vdom", { vdom: "ro/ot" }],
    ["address", { address: "10.0.0.1/24" }],
    ["connection.adom", { connection: { url: "https://fmg.example.net", adom: "root/../x" } }],
  ])("refuses %s at check without a request", async (property, extra) => {
    const r = await provider.check({}, inputs(extra));
    expect(r.failures?.[0]?.property).toBe(property);
    expect(emu.log.entries()).toHaveLength(0);
  });

  it("a Super_User key and an admin with Manage Device Configurations read-write pass preview with reads only, cached", async () => {
    const i = await checked();
    expect(i.devices).toEqual(DEVICES);
    expect(i.vdom).toBe("root");
    const n = emu.log.count();
    await checked({ address: "203.0.113.8", devices: ["fgt-3", "fgt-1", "fgt-2", "fgt-1"] });
    expect(emu.log.count()).toBe(n);
    await checked({}, KEYS.devcfg);
    expect(emu.log.sideEffects()).toHaveLength(0);
    for (const d of DEVICES) expect(entries(d)).toEqual(["198.51.100.1"]);
  });

  it("preview fails with 202002 naming the missing right: Manage Device Configurations, rpc-permit, the ADOM", async () => {
    const devcfg = await errorOf(provider.check({}, inputs({}, KEYS.devread)));
    expect(isGrantError(devcfg) && devcfg.code).toBe("202002");
    expect(String(devcfg)).toContain("Manage Device Configurations");
    const rpc = await errorOf(provider.check({}, inputs({}, KEYS.rpcread)));
    expect(isGrantError(rpc) && rpc.code).toBe("202002");
    expect(String(rpc)).toContain("rpc-permit");
    const adom = await errorOf(provider.check({}, inputs({}, KEYS.otheradom)));
    expect(isGrantError(adom) && adom.code).toBe("202002");
    expect(String(adom)).toContain('ADOM "root"');
    expect(await code(provider.check({}, inputs({}, "wrongapikey0123456789abcdefghijk")))).toBe("202001");
  });

  it("preview fails with 202104 naming a device not in the ADOM or not up, and 202102 naming feed and device", async () => {
    const other = await errorOf(provider.check({}, inputs({ devices: ["fgt-1", "fgt-other"] })));
    expect(isGrantError(other) && other.code).toBe("202104");
    expect(String(other)).toContain("fgt-other");
    dev("fgt-2").connStatus = "down";
    const down = await errorOf(provider.check({}, inputs({ address: "203.0.113.9" })));
    expect(isGrantError(down) && down.code).toBe("202104");
    expect(String(down)).toContain("fgt-2");
    dev("fgt-2").connStatus = "up";
    const file = await errorOf(provider.check({}, inputs({ feed: "file-feed", devices: ["fgt-1"] })));
    expect(isGrantError(file) && file.code).toBe("202102");
    expect(String(file)).toMatch(/file-feed[\s\S]*fgt-1/);
    const missing = await errorOf(provider.check({}, inputs({ feed: "nope", devices: ["fgt-3"] })));
    expect(isGrantError(missing) && missing.code).toBe("202102");
    expect(String(missing)).toContain("fgt-3");
  });
});

describe("FortimanagerFeedEntry provider: lifecycle", () => {
  it("two grants of one address on overlapping devices: deleting one keeps it only where the other still declares it", async () => {
    const a = await provider.create(await checked({ grantName: "alice", devices: ["fgt-1", "fgt-2"] }));
    const b = await provider.create(await checked({ grantName: "bob", devices: ["fgt-2", "fgt-3"] }));
    for (const d of DEVICES) expect(entries(d)).toContain("203.0.113.7");
    // The next run declares only bob: alice's delete must revoke on fgt-1 and keep fgt-2 (bob's).
    resetProcessState();
    await checked({ grantName: "bob", devices: ["fgt-2", "fgt-3"] });
    await provider.delete(a.id, a.outs);
    expect(entries("fgt-1")).not.toContain("203.0.113.7");
    expect(entries("fgt-2")).toContain("203.0.113.7");
    expect(entries("fgt-3")).toContain("203.0.113.7");
    // The run after declares nobody: the last one out removes it everywhere.
    resetProcessState();
    await provider.delete(b.id, b.outs);
    for (const d of DEVICES) expect(entries(d)).not.toContain("203.0.113.7");
  });

  it("a rollback that fails on one device is named in the error with the entry it left there (issue 18)", async () => {
    const ins = await checked();
    dev("fgt-3").backend.feeds.remove("root", "jit-allow");
    const feeds = dev("fgt-1").backend.feeds;
    const stuck = jest.spyOn(feeds, "removeEntries").mockImplementation((scope, name) => feeds.find(scope, name, false)!);
    const messages: string[] = [];
    try {
      expect(await code(provider.create(ins), { messages })).not.toBe("none");
    } finally {
      stuck.mockRestore();
    }
    const first = messages[0]!.split("\n")[0]!;
    expect(first).toContain("Taking back what this change added FAILED: 203.0.113.7 on fgt-1");
    expect(first).toContain('stays in feed "jit-allow" with no state');
    expect(first).not.toContain("on fgt-2 (");
    expect(entries("fgt-1")).toContain("203.0.113.7");
    expect(entries("fgt-2")).not.toContain("203.0.113.7");
  });

  it("create reaches every device with one proxy call per step; read; drift on one device restores in place; devices change in place; delete", async () => {
    const ins = await checked();
    emu.log.clear();
    const { id, outs } = await provider.create(ins);
    expect(outs).toMatchObject({ devices: DEVICES, heldBy: DEVICES, adopted: [], adom: "root", vdom: "root", device: { url: emu.url, scope: "adom root" } });
    for (const d of DEVICES) expect(entries(d)).toEqual(["198.51.100.1", "203.0.113.7"]);
    // read (a page and the empty page that proves its end), one push to all three, read back likewise: five proxy calls.
    expect(emu.log.count()).toBe(5);
    expect((await provider.read(id, outs)).props).toEqual(outs);
    // A reboot of fgt-2 loses the entry: refresh records who holds it, the diff is an in-place update that restores it.
    dev("fgt-2").backend.feeds.clearAll();
    const refreshed = (await provider.read(id, outs)).props as FortimanagerFeedEntryState;
    expect(refreshed.heldBy).toEqual(["fgt-1", "fgt-3"]);
    expect(await provider.diff(id, refreshed, ins)).toMatchObject({ changes: true, replaces: [] });
    const { outs: restored } = await provider.update(id, refreshed, ins);
    expect(entries("fgt-2")).toEqual(["203.0.113.7"]);
    expect(await provider.diff(id, restored, ins)).toMatchObject({ changes: false });
    // Removing fgt-3 from devices removes the entry there, in place.
    const fewer = await checked({ devices: ["fgt-1", "fgt-2"] });
    expect(await provider.diff(id, restored, fewer)).toMatchObject({ changes: true, replaces: [] });
    const { outs: o2 } = await provider.update(id, restored, fewer);
    expect(entries("fgt-3")).toEqual(["198.51.100.1"]);
    expect(o2.heldBy).toEqual(["fgt-1", "fgt-2"]);
    expect((await provider.diff(id, o2, { ...fewer, feed: "other" })).replaces).toContain("feed");
    await provider.delete(id, o2);
    await provider.delete(id, o2);
    for (const d of DEVICES) expect(entries(d)).not.toContain("203.0.113.7");
    expect(entries("fgt-1")).toEqual(["198.51.100.1"]);
  });

  it("all devices lost the entry: refresh drops the grant (the next up re-creates it)", async () => {
    const ins = await checked();
    const { id, outs } = await provider.create(ins);
    for (const d of DEVICES) dev(d).backend.feeds.clearAll();
    expect(await provider.read(id, outs)).toEqual({});
  });

  it("one device offline: create fails with 202100 naming it and leaves nothing; device back, create completes; delete leaves nothing", async () => {
    const ins = await checked();
    dev("fgt-2").connStatus = "down";
    const e = await errorOf(provider.create(ins));
    expect(isGrantError(e) && e.code).toBe("202100");
    expect(String(e)).toContain("fgt-2");
    expect(String(e)).not.toMatch(/fgt-1:|fgt-3:/);
    for (const d of DEVICES) expect(entries(d)).toEqual(["198.51.100.1"]);
    dev("fgt-2").connStatus = "up";
    const { id, outs } = await provider.create(ins);
    for (const d of DEVICES) expect(entries(d)).toEqual(["198.51.100.1", "203.0.113.7"]);
    // Offline at refresh: the grant is never dropped silently.
    dev("fgt-3").connStatus = "down";
    expect(await code(provider.read(id, outs))).toBe("202104");
    expect(await code(provider.delete(id, outs))).toBe("202100");
    dev("fgt-3").connStatus = "up";
    await provider.delete(id, outs);
    for (const d of DEVICES) expect(entries(d)).toEqual(["198.51.100.1"]);
  });

  it("50 parallel grants into one feed on 3 devices: coalesced proxy calls, every entry once, other entries untouched, none after 50 deletes", async () => {
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => checked({ address: `192.0.2.${i + 10}`, grantName: `g${i}` })));
    emu.log.clear();
    const created = await Promise.all(all.map((i) => provider.create(i)));
    const createCalls = emu.log.count();
    for (const d of DEVICES) {
      expect(entries(d)).toHaveLength(51);
      expect(new Set(entries(d)).size).toBe(51);
    }
    emu.log.clear();
    await Promise.all(created.map((c) => provider.delete(c.id, c.outs)));
    const deleteCalls = emu.log.count();
    for (const d of DEVICES) expect(entries(d)).toEqual(["198.51.100.1"]);
    console.log(`50 grants on 3 devices through the manager: create ${createCalls}, delete ${deleteCalls} JSON-RPC requests`);
    expect(createCalls).toBeLessThanOrEqual(6);
    expect(deleteCalls).toBeLessThanOrEqual(6);
  });

  it("an admin with read-only Manage Device Configurations that skipped preview gets 202002 from the proxied push", async () => {
    process.env.FORTIMANAGER_PREFLIGHT = "read";
    try {
      const ins = await checked({}, KEYS.devread);
      expect(await code(provider.create(ins))).toBe("202002");
    } finally {
      delete process.env.FORTIMANAGER_PREFLIGHT;
    }
    for (const d of DEVICES) expect(entries(d)).toEqual(["198.51.100.1"]);
  });
});

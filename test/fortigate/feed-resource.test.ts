import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import {
  fortigateFeedEntryProvider as provider,
  type FortigateFeedEntryInputs,
  type FortigateFeedEntryState,
} from "../../provider/devices/fortigate/feed-resource";
import { randomUUID } from "node:crypto";
import { UNKNOWN } from "../../provider/core/dynamic-kit";
import { resetProcessState, setRunScopeForTests } from "../../provider/core/process-state";
import { isGrantError } from "../../provider/core/errors";
import { FEED_VISIBILITY } from "../../provider/devices/fortinet/feed-batcher";
import { grantErrorCode as code, useEmulator } from "../support/emulator";

const RW = "feed-rw-token-0123456789";
const CFG_READ = "feed-cfgread-token-0123456";
const NO_SYS = "feed-nosys-token-01234567";
const OTHER_VDOM = "feed-vdom-token-012345678";
// The emulator here shows a push at once (pushVisibleAfterMs: 0), so the bounded wait only runs out for an entry
// that never shows (overflow, a failed take-back): 1 s proves the same as the shipped 5 s.
const savedVisibility = { ...FEED_VISIBILITY };
beforeAll(() => void Object.assign(FEED_VISIBILITY, { waitMs: 1_000, pollMs: 100 }));
afterAll(() => void Object.assign(FEED_VISIBILITY, savedVisibility));

const emu = useEmulator(() =>
  startFortigateEmulator({
    // The request counts below assume the entry list right after a push: instant visibility (the shipped default, 2 s, is the variant suite's).
    feedSettings: { pushVisibleAfterMs: 0 },
    vdoms: ["root", "dmz"],
    users: [
      { name: "feeds", token: RW, fwgrp: "read", sysgrp: "custom", sysgrpPermission: { cfg: "read-write" }, vdoms: ["root", "dmz"] },
      { name: "cfg-read", token: CFG_READ, fwgrp: "read", sysgrp: "custom", sysgrpPermission: { cfg: "read" }, vdoms: ["root"] },
      { name: "no-sys", token: NO_SYS, fwgrp: "read-write", sysgrp: "none", vdoms: ["root"] },
      { name: "dmz-only", token: OTHER_VDOM, fwgrp: "read", sysgrp: "read-write", vdoms: ["dmz"] },
    ],
    feeds: [
      { name: "jit-allow", entries: ["198.51.100.1"] },
      { name: "file-feed", updateMethod: "feed", resource: "https://feeds.example.net/list.txt" },
      { name: "domains", type: "domain" },
      { name: "off", status: "disable" },
    ],
  }),
);
const conn = (token = RW) => ({ connection: { url: emu.url, caCert: emu.caCert }, credentials: { token } });
const inputs = (extra: Record<string, unknown>, token = RW) => ({ ...conn(token), __provider: "x", feed: "jit-allow", address: "203.0.113.7", ...extra });
const entries = (feed = "jit-allow", vdom = "root") => [...(emu.backend.feeds.find(vdom, feed, false)?.entries.values() ?? [])].map((e) => e.entry).sort();

async function checked(extra: Record<string, unknown> = {}, token = RW): Promise<FortigateFeedEntryInputs> {
  const r = await provider.check({}, inputs(extra, token));
  expect(r.failures ?? []).toEqual([]);
  return r.inputs as FortigateFeedEntryInputs;
}

describe("FortigateFeedEntry provider: check", () => {
  it.each([
    ["feed", "a/b"],
    ["feed", "x".repeat(36)],
    ["feed", "bad name"],
    ["feed", ""],
    ["feed", "../x"],
    ["address", "0.0.0.0/0"],
    ["address", "10.0.0.1/24"],
    ["address", "1.2.3.4,5.6.7.8"],
    ["address", "fe80::1%eth0"],
    ["address", "host.example"],
    ["connection.vdom", "ro/ot"],
  ])("refuses %s %j at check without a request", async (field, value) => {
    const extra = field === "connection.vdom" ? { connection: { url: emu.url, vdom: value } } : { [field]: value };
    const r = await provider.check({}, inputs(extra));
    expect(r.failures?.[0]?.property).toBe(field);
    expect(emu.log.entries()).toHaveLength(0);
  });

  it("preview runs two reads (feed object with the firmware in its envelope, entry-list status) once per device+token+feed, with no side effect", async () => {
    await checked();
    await checked({ address: "203.0.113.8" });
    expect(emu.log.entries().map((e) => `${e.method} ${e.path}`)).toEqual([
      "GET /api/v2/cmdb/system/external-resource/jit-allow",
      "GET /api/v2/monitor/system/external-resource/entry-list",
    ]);
    expect(emu.log.sideEffects()).toHaveLength(0);
  });

  it("within one CLI run the update pass reuses its preview's preflight (no probe), and a right lost in between fails the push with 202002", async () => {
    setRunScopeForTests(`cli-${randomUUID()}`);
    try {
      await checked(); // the preview pass
      resetProcessState(); // the update pass is another provider process of the same `pulumi up`
      emu.log.clear();
      const ins = await checked();
      expect(emu.log.entries()).toHaveLength(0);
      const rw = emu.backend.userByToken(RW)!;
      emu.backend.addUser({ ...rw, sysgrpPermission: { cfg: "read" } });
      const e = await provider.create(ins).catch((x: unknown) => x as Error);
      expect(isGrantError(e) && e.code).toBe("202002");
      expect(entries()).toEqual(["198.51.100.1"]);
    } finally {
      setRunScopeForTests(undefined);
    }
  });

  it("preview fails with 202102 naming the feed for a missing feed, a file feed, a domain feed and a disabled feed", async () => {
    for (const feed of ["nope", "file-feed", "domains", "off"]) {
      const e = await provider.check({}, inputs({ feed })).catch((x: unknown) => x);
      expect(isGrantError(e) && e.code).toBe("202102");
      expect(String((e as Error).message)).toContain(`"${feed}"`);
    }
  });

  it("preview fails with 202002 naming System > Configuration when the profile lacks it, and naming the VDOM outside the token's scope", async () => {
    const sys = await provider.check({}, inputs({}, NO_SYS)).catch((x: unknown) => x as Error);
    expect(isGrantError(sys) && sys.code).toBe("202002");
    expect(String(sys)).toContain("System > Configuration");
    const vdom = await provider.check({}, inputs({}, OTHER_VDOM)).catch((x: unknown) => x as Error);
    expect(isGrantError(vdom) && vdom.code).toBe("202002");
    expect(String(vdom)).toContain('VDOM "root"');
    expect(await code(provider.check({}, inputs({}, "wrong-token-0123456789")))).toBe("202001");
  });

  it("a token with Configuration read passes preview (no read-only probe proves push access) and the push then fails with 202002 saying so", async () => {
    const ins = await checked({}, CFG_READ);
    const e = await provider.create(ins).catch((x: unknown) => x as Error);
    expect(isGrantError(e) && e.code).toBe("202002");
    expect(String(e)).toContain("No read-only request proves write access");
    expect(entries()).toEqual(["198.51.100.1"]);
  });

  it("check skips unknown values and sends nothing for them", async () => {
    const r = await provider.check({}, inputs({ feed: UNKNOWN }));
    expect(r.failures).toBeUndefined();
    expect(emu.log.entries()).toHaveLength(0);
  });
});

describe("FortigateFeedEntry provider: lifecycle", () => {
  it("create pushes one entry and confirms it in the entry list; read, drift after a reboot, delete idempotent", async () => {
    const ins = await checked({ address: "203.0.113.7/32" });
    expect(ins.address).toBe("203.0.113.7");
    emu.log.clear();
    const { id, outs } = await provider.create(ins);
    expect(outs).toMatchObject({
      feed: "jit-allow",
      address: "203.0.113.7",
      cidr: "203.0.113.7/32",
      vdom: "root",
      entry: "203.0.113.7",
      adopted: false,
      device: { url: emu.url, scope: "vdom root" },
    });
    expect(entries()).toEqual(["198.51.100.1", "203.0.113.7"]);
    // read (a page, and the empty page that proves the end), one push, read back (likewise).
    expect(emu.log.entries().map((e) => `${e.method} ${e.path}`)).toEqual([
      "GET /api/v2/monitor/system/external-resource/entry-list",
      "GET /api/v2/monitor/system/external-resource/entry-list",
      "POST /api/v2/monitor/system/external-resource/dynamic",
      "GET /api/v2/monitor/system/external-resource/entry-list",
      "GET /api/v2/monitor/system/external-resource/entry-list",
    ]);
    expect((await provider.read(id, outs)).props).toEqual(outs);
    expect(await provider.diff(id, outs, { ...ins, address: "203.0.113.7/32" })).toMatchObject({ changes: false });
    // A reboot clears pushed entries (UNCONFIRMED whether it does): refresh drops the grant, so the next up re-creates it.
    emu.backend.feeds.clearAll();
    expect(await provider.read(id, outs)).toEqual({});
    await provider.create(ins);
    await provider.delete(id, outs);
    await provider.delete(id, outs);
    expect(entries()).toEqual([]);
  });

  it("create adopts an entry already listed (pushed all the same, issue 19) and delete revokes it; IPv6 networks go into the same feed", async () => {
    const ins = await checked({ address: "198.51.100.1" });
    const { outs } = await provider.create(ins);
    expect(outs.adopted).toBe(true);
    // A listing is no proof the entry stays (a remove may be pending): the add is pushed, and the listing left as it was.
    expect(emu.log.entries().filter((e) => e.method === "POST")).toHaveLength(1);
    expect(entries()).toEqual(["198.51.100.1"]);
    const v6 = await checked({ address: "2001:db8:0:0::/64" });
    const { id: id6, outs: o6 } = await provider.create(v6);
    expect(entries()).toEqual(["198.51.100.1", "2001:db8::/64"]);
    await provider.delete("x", outs);
    await provider.delete(id6, o6);
    expect(entries()).toEqual([]);
  });

  it("removes every listed text of the address (a hand-added 203.0.113.9/32 too)", async () => {
    emu.backend.feeds.addEntries("root", "jit-allow", ["203.0.113.9/32"]);
    const ins = await checked({ address: "203.0.113.9" });
    const { id, outs } = await provider.create(ins);
    expect(outs).toMatchObject({ adopted: true, entry: "203.0.113.9/32" });
    await provider.delete(id, outs);
    expect(entries()).toEqual(["198.51.100.1"]);
  });

  it("50 parallel grants into one feed are coalesced: each entry present once, other entries untouched, none left after 50 deletes", async () => {
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => checked({ address: `192.0.2.${i + 10}` })));
    emu.log.clear();
    const created = await Promise.all(all.map((i) => provider.create(i)));
    const createRequests = emu.log.count();
    expect(entries()).toHaveLength(51);
    expect(new Set(entries()).size).toBe(51);
    emu.log.clear();
    const reads = await Promise.all(created.map((c) => provider.read(c.id, c.outs)));
    expect(reads.every((r) => r.id !== undefined)).toBe(true);
    const readRequests = emu.log.count();
    emu.log.clear();
    await Promise.all(created.map((c) => provider.delete(c.id, c.outs)));
    const deleteRequests = emu.log.count();
    expect(entries()).toEqual(["198.51.100.1"]);
    console.log(`50 grants into one feed: create ${createRequests}, read ${readRequests}, delete ${deleteRequests} requests`);
    expect(createRequests).toBeLessThanOrEqual(6);
    expect(readRequests).toBeLessThanOrEqual(2);
    expect(deleteRequests).toBeLessThanOrEqual(6);
  });

  it("an entry the feed marks invalid or drops past the limit fails with 202103 and is taken back", async () => {
    emu.backend.feeds.settings.entryLimit = 1;
    const ins = await checked({ address: "203.0.113.20" });
    expect(await code(provider.create(ins))).toBe("202103");
    expect(entries()).toEqual(["198.51.100.1"]);
  });

  it("an entry past the limit that cannot be taken back is named in the error: it stays with no state (issue 18)", async () => {
    emu.backend.feeds.settings.entryLimit = 1;
    const feeds = emu.backend.feeds;
    const stuck = jest.spyOn(feeds, "removeEntries").mockImplementation((scope, name) => feeds.find(scope, name, false)!);
    const messages: string[] = [];
    try {
      expect(await code(provider.create(await checked({ address: "203.0.113.20" })), { messages })).toBe("202103");
    } finally {
      stuck.mockRestore();
    }
    expect(messages[0]!.split("\n")[0]).toMatch(
      /Taking back what this change added FAILED: 203\.0\.113\.20 on \S+ \(VDOM "root"\) \(still listed after the remove/,
    );
  });

  it("a grant in another VDOM is pinned there: a change of VDOM replaces it", async () => {
    emu.backend.feeds.create("dmz", { name: "jit-allow", type: "address", "update-method": "push", status: "enable" });
    const ins = await checked({ connection: { url: emu.url, caCert: emu.caCert, vdom: "dmz" } });
    const { id, outs } = await provider.create(ins);
    expect(entries("jit-allow", "dmz")).toEqual(["203.0.113.7"]);
    const back = await checked();
    expect((await provider.diff(id, outs, back)).replaces).toContain("device");
    await provider.delete(id, outs);
    expect(entries("jit-allow", "dmz")).toEqual([]);
  });
});

export type { FortigateFeedEntryState };

/**
 * OpnsenseAliasSet / OpnsenseAliasGuard through the provider object against the emulator (issue 13):
 * non-exclusive and exclusive semantics, the shared-address rule per address, bulk request counts and
 * config revisions, hostile input, guard behaviour.
 */
import { opnsenseAliasEntryProvider as entryProvider } from "../../provider/devices/opnsense/resource";
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { ENGINE_GONE } from "../../provider/core/dynamic-kit";
import { processState, resetProcessState } from "../../provider/core/process-state";
import { opnsenseAliasSetProvider as provider, type AliasSetOutputs } from "../../provider/devices/opnsense/set-resource";
import { grantErrorCode, secretFreeMessages, useEmulator } from "../support/emulator";
import { connFor, fastConfigTiming, SECRET, USERS } from "../opnsense/helpers";
import { opnsenseSetKit, opnsenseSetSteps, type Raw } from "./helpers";
import { shared } from "../../provider/core/process-state";
import { setClock } from "../../provider/core/time-box";

const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));
const messages = secretFreeMessages(SECRET);
fastConfigTiming();

const { setInputs, checked, table, content } = opnsenseSetKit(emu);

const { create, update, refreshed } = opnsenseSetSteps(opnsenseSetKit(emu));

describe.each(["table", "config"] as const)("OpnsenseAliasSet, %s mode", (method) => {
  it("adds what is missing, adopts what is there, treats duplicates as one entry and never touches other entries", async () => {
    emu.backend.insertAddress("jit_nets", "192.0.2.50/32");
    emu.backend.insertAddress("jit_nets", "198.51.100.1/32");
    const s = await create({ method, addresses: ["198.51.100.1", "198.51.100.2", "198.51.100.2/32", { address: "10.1.0.0/16", description: "office" }] });
    // Stored compactly (issue 22): an entry that is only an address is the address itself.
    expect(s.addresses).toEqual([{ address: "10.1.0.0/16", description: "office" }, "198.51.100.1", "198.51.100.2"]);
    expect(s.adopted).toEqual(["198.51.100.1"]);
    expect(s.unexpected).toEqual([]);
    const holds = (method === "table" ? table() : content()).map((l) => l.replace("/32", ""));
    expect(holds.sort()).toEqual(["10.1.0.0/16", "192.0.2.50", "198.51.100.1", "198.51.100.2"]);
    // The refresh of a clean non-exclusive set is no change.
    const r = await refreshed(s);
    expect(r.unexpected).toEqual([]);
    expect((await provider.diff("id", r, await checked(setInputs({ method, addresses: s.addresses }), r as never))).changes).toBe(false);
  });

  it("removes what it listed before and no longer lists, keeps entries it never listed, and delete revokes only its own", async () => {
    emu.backend.insertAddress("jit_nets", "192.0.2.50/32");
    const s = await create({ method, addresses: ["198.51.100.1", "198.51.100.2"] });
    const u = await update(s, { method, addresses: ["198.51.100.2", "198.51.100.3"] });
    expect(u.changes).toBe(true);
    const now = method === "table" ? table() : content();
    expect(now.map((l) => l.replace("/32", ""))).toEqual(["192.0.2.50", "198.51.100.2", "198.51.100.3"]);
    await provider.delete("id", u.outs);
    expect((method === "table" ? table() : content()).map((l) => l.replace("/32", ""))).toEqual(["192.0.2.50"]);
  });

  it("exclusive: a hand-added entry is named in `unexpected` on refresh, is a diff, and `up` removes it", async () => {
    const s = await create({ method, exclusive: true, addresses: ["198.51.100.1"] });
    emu.backend.insertAddress("jit_nets", "0.0.0.0/1");
    const r = await refreshed(s);
    expect(r.unexpected).toEqual(["0.0.0.0/1"]);
    const u = await update(r, { method, exclusive: true, addresses: ["198.51.100.1"] });
    expect(u.changes).toBe(true);
    expect(u.outs.unexpected).toEqual([]);
    expect(table()).toEqual(["198.51.100.1"]);
    if (method === "config") expect(content()).toEqual(["198.51.100.1"]);
    expect((await refreshed(u.outs)).unexpected).toEqual([]);
  });

  // Issue 19: pf loads these lines too (opnsense/core base.py `iter_addresses`); an exclusive set that saw only
  // canonical lines left a range opening half the Internet unreported and in place.
  it.each([
    ["a range", "0.0.0.0-127.255.255.255", "0.0.0.0/1"],
    ["a network with host bits", "0.0.0.1/1", "0.0.0.0/1"],
    ["a wildcard mask", "10.0.0.0/0.0.1.0", "10.0.1.0"],
    ["an IPv4-mapped IPv6 address", "::ffff:203.0.113.66", "::ffff:203.0.113.66"],
    ["a nested alias", "jit_inner", "192.0.2.0/24"],
    ["a host name", "fw.example.net", "198.51.100.5"],
  ])("exclusive: %s added by hand is unexpected by its text, and `up` removes it from config and table", async (_what, line, loaded) => {
    emu.backend.addAlias({ name: "jit_inner", type: "network", content: ["192.0.2.0/24"] });
    emu.backend.dns.set("fw.example.net", ["198.51.100.5"]);
    const s = await create({ method, exclusive: true, addresses: ["198.51.100.1"] });
    emu.backend.insertAddress("jit_nets", line);
    expect(table()).toContain(loaded);
    const r = await refreshed(s);
    if (method === "table") expect(r.unexpected).toContain(loaded);
    else expect(r.unexpected).toEqual([line]);
    const u = await update(r, { method, exclusive: true, addresses: ["198.51.100.1"] });
    expect(u.outs.unexpected).toEqual([]);
    if (method === "config") expect(content()).toEqual(["198.51.100.1"]);
    expect(table()).toEqual(["198.51.100.1"]);
  });

  it("a per-entry grant of the program keeps its address when the set stops listing it (shared-address rule per address)", async () => {
    const s = await create({ method, addresses: ["198.51.100.1", "198.51.100.2"] });
    // A per-entry grant of the same alias+address is declared (checked) in this program.
    await entryProvider.check({}, { ...connFor(emu.url, emu.caCert, "admin"), alias: "jit_nets", address: "198.51.100.2", method, grantName: "bob" } as never);
    await update(s, { method, addresses: ["198.51.100.1"] });
    expect((method === "table" ? table() : content()).map((l) => l.replace("/32", ""))).toContain("198.51.100.2");
  });

  it("an update that fails partway takes back what it added: `destroy` with the state the engine kept leaves what was there before, in config and live (issue 18 item 4)", async () => {
    emu.backend.insertAddress("jit_nets", "192.0.2.50/32");
    const s = await create({ method, addresses: ["198.51.100.1"] });
    // table: the second add fails after the first one landed; config: set_item lands, reconfigure fails (OPN200) and keeps failing.
    if (method === "table") emu.faults.sequence("alias_util/add", ["ok", { kind: "status", status: 500 }]);
    else emu.backend.reconfigureError = "There were error(s) loading the rules";
    const news = await checked(setInputs({ method, addresses: ["198.51.100.1", "198.51.100.2", "198.51.100.3"], grantName: s.grantName }), s as never);
    await expect(provider.update("id", s, news)).rejects.toBeDefined();
    emu.faults.clear();
    emu.backend.reconfigureError = undefined;
    const both = () => ({ content: content().map((l) => l.replace("/32", "")), table: table() });
    // The engine keeps the old state after a failed update; the set is then destroyed.
    await provider.delete("id", s);
    await emu.backend.reconfigure(); // anyone's next apply makes the configured content live
    expect(both()).toEqual({ content: ["192.0.2.50"], table: ["192.0.2.50"] });
  });

  it("a change cut short by a killed CLI (engine gone mid-update) takes back what it added before the process exits: destroy then leaves what was there before (issue 18 item 4)", async () => {
    emu.backend.insertAddress("jit_nets", "192.0.2.50/32");
    const s = await create({ method, addresses: ["198.51.100.1"] });
    const addresses = Array.from({ length: 20 }, (_, i) => `198.51.100.${10 + i}`);
    // The engine goes away while the change is on the wire: after the 5th add (table), or as the content is written (config).
    let seen = 0;
    const kill = Object.assign(/engine-gone/, {
      test: (key: string) => {
        if (/alias_util\/add|alias\/set_item/.test(key) && ++seen === (method === "table" ? 5 : 1)) processState().engineGone = ENGINE_GONE;
        return false;
      },
    });
    emu.faults.add({ match: kill, kind: "latency", ms: 0 });
    const news = await checked(setInputs({ method, addresses: ["198.51.100.1", ...addresses], grantName: s.grantName }), s as never);
    await expect(provider.update("id", s, news)).rejects.toThrow(/engine .* is gone/);
    const afterKill = { content: content().map((l) => l.replace("/32", "")), table: table() };
    // The next command is a new process; the engine kept the old state.
    processState().engineGone = undefined;
    await provider.delete("id", s);
    await emu.backend.reconfigure();
    expect({ seen: seen > 0, afterKill, afterDestroy: { content: content().map((l) => l.replace("/32", "")), table: table() } }).toEqual({
      seen: true,
      afterKill: { content: method === "config" ? ["192.0.2.50", "198.51.100.1"] : expect.any(Array), table: ["192.0.2.50", "198.51.100.1"] },
      afterDestroy: { content: ["192.0.2.50"], table: ["192.0.2.50"] },
    });
  });

  it("config mode create that fails with OPN200 takes its content back, so no later reconfigure makes it live (issue 18 item 4)", async () => {
    if (method === "table") return;
    emu.backend.reconfigureError = "There were error(s) loading the rules";
    await expect(create({ method, addresses: ["198.51.100.7"] })).rejects.toThrow(/OPN200/);
    emu.backend.reconfigureError = undefined;
    await emu.backend.reconfigure();
    expect({ content: content(), table: table() }).toEqual({ content: [], table: [] });
  });

  it("the alias deleted and re-created under the same name: refresh, up and destroy follow it by name and record its new uuid (issue 18 item 9)", async () => {
    const s = await create({ method, addresses: ["198.51.100.1", "198.51.100.2"] });
    const old = emu.backend.aliases.get("jit_nets")!;
    const recreate = (content: string[]) => {
      emu.backend.removeAlias("jit_nets");
      return emu.backend.addAlias({ name: "jit_nets", type: old.type, content });
    };
    const holds = () => (method === "table" ? table() : content()).map((l) => l.replace("/32", ""));
    let now = recreate(["198.51.100.1/32"]);
    expect(now.uuid).not.toBe(old.uuid);
    // Each command is a new provider process: nothing of the first lookup is cached.
    resetProcessState();
    const r = await refreshed(s);
    // Table mode reads the live table by name and needs no uuid to refresh; it records the new one at its next write.
    // The set keeps its list; the entry the new alias lacks is named in `missing` (issue 20: drift by address).
    expect({ addresses: r.addresses, missing: r.missing, aliasUuid: r.aliasUuid }).toEqual({
      addresses: ["198.51.100.1", "198.51.100.2"],
      missing: ["198.51.100.2"],
      aliasUuid: method === "config" ? now.uuid : old.uuid,
    });
    resetProcessState();
    // `up` with state that still holds the old uuid (no refresh): the change lands in the alias of that name, and state follows it.
    now = recreate(["198.51.100.1/32"]);
    const u = await update(s, { method, addresses: ["198.51.100.1", "198.51.100.3"] });
    expect({ holds: holds(), aliasUuid: u.outs.aliasUuid }).toEqual({ holds: ["198.51.100.1", "198.51.100.3"], aliasUuid: now.uuid });
    // A guard of the same alias, recorded before the re-creation, refreshes too.
    resetProcessState();
    const g = {
      ...(await create({ method, guard: true, exclusive: true, allowBroad: true, addresses: ["198.51.100.1", "198.51.100.3"] })),
      grantName: "guard1",
    };
    now = recreate(["198.51.100.1/32", "198.51.100.3/32", "192.0.2.66/32"]);
    resetProcessState();
    const gr = await refreshed(g);
    expect({ unexpected: gr.unexpected, aliasUuid: gr.aliasUuid }).toEqual({
      unexpected: ["192.0.2.66"],
      aliasUuid: method === "config" ? now.uuid : g.aliasUuid,
    });
    // `destroy` with the state of before the re-creation.
    resetProcessState();
    await provider.delete("id", u.outs.aliasUuid === now.uuid ? { ...u.outs, aliasUuid: old.uuid } : u.outs);
    expect(holds()).toEqual(["192.0.2.66"]);
    // An alias really gone stays a failure naming it (the cause is true then); table mode reads it as empty.
    emu.backend.removeAlias("jit_nets");
    resetProcessState();
    if (method === "config") await expect(refreshed(s)).rejects.toThrow(/OPN100 .*\n.*no alias named "jit_nets"/);
  });

  it("state of the previous version (every entry an object) reads, diffs clean, changes and deletes; a change stores the compact form (issue 22)", async () => {
    emu.backend.insertAddress("jit_nets", "192.0.2.50/32");
    const s = await create({ method, addresses: ["198.51.100.1", { address: "198.51.100.2", description: "bob" }] });
    // As the previous version wrote it: the same state with `{ address }` for a plain entry.
    const old = { ...s, addresses: [{ address: "198.51.100.1" }, { address: "198.51.100.2", description: "bob" }] } as unknown as AliasSetOutputs;
    const r = await refreshed(old);
    // A refresh keeps the form the state has (no output changes on its own), and finds nothing missing.
    expect(r.addresses).toEqual([{ address: "198.51.100.1" }, { address: "198.51.100.2", description: "bob" }]);
    expect(r.missing).toEqual([]);
    // The engine's refresh diffs the state against what read returned (both in the earlier form): no change.
    expect((await provider.diff("id", old, r as never)).changes).toBe(false);
    const same = await update(r, { method, addresses: ["198.51.100.1", { address: "198.51.100.2", description: "bob" }] });
    expect(same.changes).toBe(false);
    const u = await update(r, { method, addresses: ["198.51.100.1", { address: "198.51.100.2", description: "bob" }, "198.51.100.3"] });
    expect(u.changes).toBe(true);
    expect(u.outs.addresses).toEqual(["198.51.100.1", { address: "198.51.100.2", description: "bob" }, "198.51.100.3"]);
    const holds = () => (method === "table" ? table() : content()).map((l) => l.replace("/32", "")).sort();
    expect(holds()).toEqual(["192.0.2.50", "198.51.100.1", "198.51.100.2", "198.51.100.3"]);
    // Old-form state deletes exactly its own entries too.
    await provider.delete("id", {
      ...u.outs,
      addresses: [{ address: "198.51.100.1" }, { address: "198.51.100.2", description: "bob" }, { address: "198.51.100.3" }],
    } as never);
    expect(holds()).toEqual(["192.0.2.50"]);
  });

  it("a per-entry grant being deleted keeps an address a set still lists", async () => {
    const e = await entryProvider.check({}, {
      ...connFor(emu.url, emu.caCert, "admin"),
      alias: "jit_nets",
      address: "198.51.100.9",
      method,
      grantName: "carol",
    } as never);
    const created = await entryProvider.create(e.inputs!);
    await create({ method, addresses: ["198.51.100.9"] });
    await entryProvider.delete("id", created.outs);
    expect((method === "table" ? table() : content()).map((l) => l.replace("/32", ""))).toContain("198.51.100.9");
  });
});

describe("check and guard", () => {
  it.each([
    ["203.0.113.7\n10.0.0.1", "addresses.0"],
    ["0.0.0.0/0", "addresses.0"],
    ["fe80::1%eth0", "addresses.0"],
  ])("refuses hostile address %j at check, naming the entry", async (bad, property) => {
    const r = await provider.check({}, setInputs({ addresses: [bad] }) as never);
    expect(r.failures?.map((f) => f.property)).toEqual([property]);
    expect(emu.log.entries()).toHaveLength(0);
  });

  it("preflight refuses a network in a Host(s) alias before any write", async () => {
    const code = await grantErrorCode(provider.check({}, setInputs({ alias: "jit_admins", addresses: ["10.0.0.0/24"] }) as never), { messages });
    expect(code).toBe("OPN104");
  });

  it("preflight with a key lacking the privilege fails with OPN001", async () => {
    const code = await grantErrorCode(
      provider.check({}, { ...setInputs({ method: "config", addresses: ["10.0.0.1"] }), ...connFor(emu.url, emu.caCert, "tables") } as never),
      { messages },
    );
    expect(code).toBe("OPN001");
  });

  it("guard: an address no covered grant holds is unexpected and removed; covered ones stay; delete removes nothing", async () => {
    emu.backend.insertAddress("jit_nets", "198.51.100.1/32");
    emu.backend.insertAddress("jit_nets", "0.0.0.0/1");
    const g = await create({ guard: true, exclusive: true, allowBroad: true, addresses: ["198.51.100.1"] });
    expect(table()).toEqual(["198.51.100.1"]);
    emu.backend.insertAddress("jit_nets", "192.0.2.66/32");
    const r = await refreshed(g);
    expect(r.unexpected).toEqual(["192.0.2.66"]);
    expect(r.addresses).toEqual(["198.51.100.1"]);
    await provider.delete("id", r);
    expect(table()).toEqual(["192.0.2.66", "198.51.100.1"]);
  });
});

describe("expiry is a state, not an error (issue 18 item 6)", () => {
  const T0 = Date.parse("2026-12-01T12:00:00Z");
  const LATER = T0 + 2 * 3600_000;
  const expiresAt = "2026-12-01T13:00:00Z";
  afterEach(() => setClock(undefined));

  /** The drift check: refresh, then the diff against the program's checked inputs. */
  async function drift(s: AliasSetOutputs, extra: Raw): Promise<{ changes: boolean; r: AliasSetOutputs }> {
    const r = await refreshed(s);
    const d = await provider.diff("id", r, await checked(setInputs({ ...extra, grantName: s.grantName }), r as never));
    return { changes: d.changes === true, r };
  }

  it.each([false, true])(
    "an expired set (exclusive %s): drift, up revokes, then the drift check stays clean, also with foreign entries; destroy is clean",
    async (exclusive) => {
      setClock(() => T0);
      const extra = { exclusive, addresses: ["198.51.100.1", "198.51.100.2"], expiresAt };
      const s = await create(extra);
      setClock(() => LATER);
      const first = await drift(s, extra);
      expect(first.changes).toBe(true);
      const up = (await provider.update("id", first.r, await checked(setInputs({ ...extra, grantName: s.grantName }), first.r as never))).outs;
      expect(up.expired).toBe(true);
      expect(table()).toEqual([]);
      emu.backend.insertAddress("jit_nets", "192.0.2.66/32");
      for (let i = 0; i < 2; i++) {
        const again = await drift(up, extra);
        expect(again.changes).toBe(false);
        expect(again.r.expired).toBe(true);
        expect(again.r.unexpected).toEqual([]);
      }
      await provider.delete("id", up);
      expect(table()).toEqual(["192.0.2.66"]);
    },
  );

  it("a set past its time whose entries vanished before the revoking up is simply expired: refresh clean, nothing to revoke", async () => {
    setClock(() => T0);
    const extra = { exclusive: true, addresses: ["198.51.100.1"], expiresAt };
    const s = await create(extra);
    emu.backend.removeAddress("jit_nets", "198.51.100.1");
    setClock(() => LATER);
    const d = await drift(s, extra);
    expect(d.changes).toBe(false);
    expect(d.r.expired).toBe(true);
    // Put back by hand: live again, so the next up revokes it once more.
    emu.backend.insertAddress("jit_nets", "198.51.100.1/32");
    expect((await drift(d.r, extra)).changes).toBe(true);
  });

  it("an expired guard guards nothing: the drift check is clean at once, foreign entries included, and delete removes nothing", async () => {
    setClock(() => T0);
    const extra = { guard: true, exclusive: true, allowBroad: true, addresses: ["198.51.100.1"], expiresAt };
    emu.backend.insertAddress("jit_nets", "198.51.100.1/32");
    const g = await create(extra);
    setClock(() => LATER);
    emu.backend.insertAddress("jit_nets", "192.0.2.66/32");
    const d = await drift(g, extra);
    expect(d.r.expired).toBe(true);
    expect(d.r.unexpected).toEqual([]);
    expect(d.changes).toBe(false);
    await provider.delete("id", d.r);
    expect(table()).toEqual(["192.0.2.66", "198.51.100.1"]);
  });
});

describe("overlaps are named, not ping-ponged (issue 18 item 7)", () => {
  let said: string[] = [];
  beforeEach(() => {
    said = [];
    jest.spyOn(process.stderr, "write").mockImplementation((m) => {
      said.push(String(m));
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());

  const entry = async (address: string, grantName: string) =>
    (await entryProvider.check({}, { ...connFor(emu.url, emu.caCert, "admin"), alias: "jit_nets", address, method: "table", grantName } as never)).inputs!;

  it.each([
    ["an exclusive set", { exclusive: true, addresses: ["198.51.100.1"] }],
    ["a guard", { guard: true, exclusive: true, allowBroad: true, addresses: ["198.51.100.1"] }],
  ])(
    "%s beside a per-entry grant of the program it does not list: clean drift check, the grant named once; a foreign entry is still drift and removed",
    async (_, extra) => {
      emu.backend.insertAddress("jit_nets", "198.51.100.1/32");
      const s = await create(extra);
      await entryProvider.create(await entry("198.51.100.9", "alice"));
      const r = await refreshed(s);
      expect(r.unexpected).toEqual(["198.51.100.9"]);
      said = [];
      const news = await checked(setInputs({ ...extra, grantName: "set1" }), r as never);
      expect((await provider.diff("id", r, news)).changes).toBe(false);
      expect(said.join("")).toContain("198.51.100.9 on its target is not listed but declared by alice of this program: kept, not drift");
      expect(said.join("")).not.toContain("REMOVES");

      emu.backend.insertAddress("jit_nets", "0.0.0.0/1");
      const r2 = await refreshed(s);
      said = [];
      expect((await provider.diff("id", r2, news)).changes).toBe(true);
      expect(said.join("")).toMatch(/holds 1 entry .*: 0\.0\.0\.0\/1 — `pulumi up` REMOVES it/);
      const up = (await provider.update("id", r2, news)).outs;
      expect(table()).toEqual(["198.51.100.1", "198.51.100.9"]);
      const r3 = await refreshed(up);
      expect((await provider.diff("id", r3, news)).changes).toBe(false);
    },
  );

  it("a refresh's own drift display (the program did not run in this process) warns nothing: the program's preview does", async () => {
    const s = await create({ exclusive: true, addresses: ["198.51.100.1"] });
    await entryProvider.create(await entry("198.51.100.9", "alice"));
    // A new process: nothing was checked, nothing declared.
    shared("grant-lifecycle.checked", () => new Set<string>()).clear();
    shared("grant-lifecycle.declared", () => new Map<string, Set<string>>()).clear();
    const r = await refreshed(s);
    said = [];
    // The engine shows what the refresh found as diff(refreshed outputs, old inputs).
    expect((await provider.diff("id", r, s as never)).changes).toBe(true);
    expect(said).toEqual([]);
  });

  it("a new exclusive set or guard names, in preview, the entries its first up removes (not what the program declares elsewhere)", async () => {
    emu.backend.insertAddress("jit_nets", "192.0.2.66/32");
    emu.backend.insertAddress("jit_nets", "198.51.100.9/32");
    await entry("198.51.100.9", "alice");
    await checked(setInputs({ exclusive: true, addresses: ["198.51.100.1"] }));
    expect(said.join("")).toContain(
      "OpnsenseAliasSet set1 (alias jit_nets) is new: the target holds 1 entry this exclusive set does not list: 192.0.2.66 — its first `pulumi up` REMOVES it",
    );
    said = [];
    await checked(setInputs({ guard: true, exclusive: true, allowBroad: true, addresses: ["198.51.100.1"], grantName: "g1" }));
    expect(said.join("")).toContain("holds 1 entry no grant of this program declares: 192.0.2.66 — its first `pulumi up` REMOVES it");
    // Replaced onto another alias, an exclusive set is new there: the same warning for the new target.
    emu.backend.insertAddress("jit_admins", "203.0.113.99/32");
    const s = await create({ exclusive: true, addresses: ["198.51.100.1"], grantName: "moved" });
    said = [];
    await checked(setInputs({ exclusive: true, alias: "jit_admins", addresses: ["198.51.100.1"], grantName: "moved" }), s as never);
    expect(said.join("")).toContain(
      "OpnsenseAliasSet moved (alias jit_admins) is new: the target holds 1 entry this exclusive set does not list: 203.0.113.99",
    );
    said = [];
    await checked(setInputs({ exclusive: true, addresses: ["198.51.100.1"], grantName: "moved" }), s as never);
    expect(said).toEqual([]);
    emu.log.clear();
    // A non-exclusive set removes nothing it does not list: no warning; and nothing was written.
    said = [];
    await checked(setInputs({ addresses: ["198.51.100.1"], grantName: "s2" }));
    expect(said).toEqual([]);
    expect(emu.log.sideEffects()).toHaveLength(0);
  });
});

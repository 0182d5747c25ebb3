/**
 * Collected grants (issue 22): many people's addresses in one set per target, through the provider objects
 * against the emulators. Each entry keeps its person's description and its own expiry (an entry coming due is
 * a diff, `up` removes that entry only, then the drift check is clean); the shared-address rule holds between
 * two sets and between a set and per-entry grants; switching a stack from per-entry children to the set
 * removes nothing on the device at any step.
 */
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { resetProcessState } from "../../provider/core/process-state";
import { setClock } from "../../provider/core/time-box";
import { fortigateAddressProvider } from "../../provider/devices/fortigate/resource";
import { fortigateAddressSetProvider as fgtSet } from "../../provider/devices/fortigate/set-resource";
import { opnsenseAliasEntryProvider as entryProvider } from "../../provider/devices/opnsense/resource";
import { opnsenseAliasSetProvider as provider, type AliasSetOutputs } from "../../provider/devices/opnsense/set-resource";
import { useEmulator } from "../support/emulator";
import { connFor, fastConfigTiming, USERS } from "../opnsense/helpers";
import { fortigateSetBase, opnsenseSetKit, opnsenseSetSteps, useFortigateSetEmulator, type Raw } from "./helpers";

const T0 = Date.parse("2026-12-01T12:00:00Z");
const LATER = T0 + 2 * 3600_000;
const SOON = "2026-12-01T13:00:00Z";
const FAR = "2027-06-30T18:00:00Z";
afterEach(() => setClock(undefined));

describe("OpnsenseAliasSet entries of several people", () => {
  const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));
  fastConfigTiming();
  const kit = opnsenseSetKit(emu);
  const { create, update, refreshed } = opnsenseSetSteps(kit);
  const holds = (method: string) => (method === "table" ? kit.table() : kit.content()).map((l) => l.replace("/32", "")).sort();
  const people = [
    { address: "198.51.100.1", description: "alice: on call (CHG-1)", expiresAt: SOON },
    { address: "198.51.100.2", description: "bob (CHG-2)", expiresAt: FAR },
    { address: "198.51.100.3", description: "carol" },
  ];

  /** The drift check: refresh, then the diff against the program's checked inputs. */
  async function drift(s: AliasSetOutputs, extra: Raw) {
    const r = await refreshed(s);
    const news = await kit.checked(kit.setInputs({ ...extra, grantName: s.grantName }), r as never);
    return { changes: (await provider.diff("id", r, news)).changes === true, r, news };
  }

  describe.each(["table", "config"] as const)("%s mode", (method) => {
    it("each entry keeps its description and its own expiry: due, it is a diff, `up` removes it alone, then the drift check is clean", async () => {
      setClock(() => T0);
      const extra = { method, addresses: people };
      const s = await create(extra);
      expect(s.addresses).toEqual(people);
      expect(s.expiredEntries).toBeUndefined();
      expect(holds(method)).toEqual(["198.51.100.1", "198.51.100.2", "198.51.100.3"]);
      // Before its time, the drift check is clean.
      expect((await drift(s, extra)).changes).toBe(false);

      setClock(() => LATER);
      const due = await drift(s, extra);
      expect(due.changes).toBe(true);
      // What preview shows: `~ expiredEntries: [ + "198.51.100.1" ]`.
      expect(due.news.expiredEntries).toEqual(["198.51.100.1"]);
      expect(due.r.missing).toEqual([]);
      const up = (await provider.update("id", due.r, due.news)).outs;
      expect(holds(method)).toEqual(["198.51.100.2", "198.51.100.3"]);
      expect(up.expired).toBe(false);
      // The expired entry stays listed in state, not missing; refresh and diff are clean, twice.
      let cur = up;
      for (let i = 0; i < 2; i++) {
        const again = await drift(cur, extra);
        expect({ changes: again.changes, missing: again.r.missing, unexpected: again.r.unexpected }).toEqual({ changes: false, missing: [], unexpected: [] });
        cur = again.r;
      }
      // Extending the time grants it again.
      const extended = await update(cur, { method, addresses: [{ ...people[0], expiresAt: FAR }, people[1], people[2]] });
      expect(extended.changes).toBe(true);
      expect(extended.outs.expiredEntries).toBeUndefined();
      expect(holds(method)).toEqual(["198.51.100.1", "198.51.100.2", "198.51.100.3"]);
      await provider.delete("id", extended.outs);
      expect(holds(method)).toEqual([]);
    });

    it("a due entry whose address another grant of the program declares stays on the device; the set stops declaring it", async () => {
      setClock(() => T0);
      const extra = { method, addresses: people };
      const s = await create(extra);
      const dave = await entryProvider.check({}, {
        ...connFor(emu.url, emu.caCert, "admin"),
        alias: "jit_nets",
        address: "198.51.100.1",
        method,
        grantName: "dave",
      } as never);
      await entryProvider.create(dave.inputs!);
      // The next command (a new provider process) runs after alice's time: the program declares the set and dave.
      resetProcessState();
      setClock(() => LATER);
      await entryProvider.check(dave.inputs!, dave.inputs!);
      const due = await drift(s, extra);
      const up = (await provider.update("id", due.r, due.news)).outs;
      expect(holds(method)).toContain("198.51.100.1");
      // Then dave is taken out of the program: his delete removes the address, which the set no longer declares.
      resetProcessState();
      setClock(() => LATER);
      await drift(up, extra);
      await entryProvider.delete("id", dave.inputs! as never);
      expect(holds(method)).not.toContain("198.51.100.1");
      await provider.delete("id", up);
      expect(holds(method)).toEqual([]);
    });
  });

  it("an entry already past its time in a new set is not added, named in expiredEntries; an exclusive set treats it as drift when held", async () => {
    setClock(() => LATER);
    const extra = { exclusive: true, addresses: people };
    const s = await create(extra);
    expect(s.expiredEntries).toEqual(["198.51.100.1"]);
    expect(kit.table()).toEqual(["198.51.100.2", "198.51.100.3"]);
    // Put back by hand: no longer the set's, so the exclusive set names it and `up` removes it.
    emu.backend.insertAddress("jit_nets", "198.51.100.1/32");
    const d = await drift(s, extra);
    expect(d.r.unexpected).toEqual(["198.51.100.1"]);
    expect(d.changes).toBe(true);
    await provider.update("id", d.r, d.news);
    expect(kit.table()).toEqual(["198.51.100.2", "198.51.100.3"]);
  });

  it("two sets listing one address: deleting one keeps it, deleting the other removes it", async () => {
    const a = await create({ method: "config", addresses: ["198.51.100.1", "198.51.100.2"], grantName: "team-a" });
    const b = await create({ method: "config", addresses: ["198.51.100.2"], grantName: "team-b" });
    // The next command: the program declares only team-b.
    resetProcessState();
    await kit.checked(kit.setInputs({ method: "config", addresses: ["198.51.100.2"], grantName: "team-b" }), b as never);
    await provider.delete("id", a);
    expect(holds("config")).toEqual(["198.51.100.2"]);
    resetProcessState();
    await provider.delete("id", b);
    expect(holds("config")).toEqual([]);
  });

  it.each(["table", "config"] as const)(
    "%s: switching per-entry grants to one set removes nothing at any step (create before delete, shared-address rule)",
    async (method) => {
      const addrs = ["198.51.100.1", "198.51.100.2", "198.51.100.3"];
      // Run 1: the program declares three per-entry grants.
      const entries: Raw[] = [];
      for (const [i, address] of addrs.entries()) {
        const r = await entryProvider.check({}, { ...connFor(emu.url, emu.caCert, "admin"), alias: "jit_nets", address, method, grantName: `p${i}` } as never);
        entries.push((await entryProvider.create(r.inputs!)).outs as never);
      }
      expect(holds(method)).toEqual(addrs);
      // Run 2, a new provider process: the program declares one set instead. The engine checks and creates
      // the set, then deletes the grants the program no longer declares.
      resetProcessState();
      emu.log.clear();
      const s = await create({ method, addresses: addrs.map((address) => ({ address, description: `who ${address}` })), grantName: "jit-opnsense-jit_nets" });
      expect(s.adopted).toEqual(addrs);
      for (const e of entries) {
        await entryProvider.delete("id", e as never);
        expect(holds(method)).toEqual(addrs);
      }
      expect(emu.log.count("alias_util/delete")).toBe(0);
      // Run 3: the set alone; its drift check is clean, its delete revokes.
      resetProcessState();
      const d = await drift(s, { method, addresses: s.addresses });
      expect(d.changes).toBe(false);
      await provider.delete("id", s);
      expect(holds(method)).toEqual([]);
    },
  );
});

describe("FortigateAddressSet entries of several people", () => {
  const emu = useFortigateSetEmulator();
  const members = () => emu.backend.groupMembers("root", "jit-admins", "ipv4").sort();
  const objects = () =>
    emu.backend
      .addresses("root", "ipv4")
      .map((a) => a.name)
      .sort();
  const setInputs = (extra: Raw) => ({ ...fortigateSetBase(emu), ...extra }) as never;

  it("switching per-entry FortigateAddress grants to one set keeps every object and membership at every step; a due entry goes alone", async () => {
    setClock(() => T0);
    const addrs = ["198.51.100.1", "198.51.100.2"];
    const entries: Raw[] = [];
    for (const [i, address] of addrs.entries()) {
      const { group6: _v6, ...base } = fortigateSetBase(emu);
      const r = await fortigateAddressProvider.check({}, { ...base, grantName: `p${i}`, name: `grant-${address}`, address } as never);
      expect(r.failures ?? []).toEqual([]);
      entries.push((await fortigateAddressProvider.create(r.inputs! as never)).outs as never);
    }
    const all = addrs.map((a) => `grant-${a}`);
    expect(members()).toEqual(all);
    // The next command, a new provider process (its clock is set again: the process state holds it).
    resetProcessState();
    setClock(() => T0);
    const listed = [
      { address: addrs[0]!, description: "alice (CHG-1)", expiresAt: SOON },
      { address: addrs[1]!, description: "bob" },
    ];
    const c = await fgtSet.check({}, setInputs({ grantName: "jit-fortigate-jit-admins", addresses: listed }));
    expect(c.failures ?? []).toEqual([]);
    const s = (await fgtSet.create(c.inputs! as never)).outs as unknown as Raw;
    for (const e of entries) {
      await fortigateAddressProvider.delete("id", e as never);
      expect({ members: members(), objects: objects() }).toEqual({ members: all, objects: all });
    }
    expect(emu.backend.getAddress("root", "ipv4", "grant-198.51.100.1")?.comment).toBe("alice (CHG-1)");
    // alice's entry comes due: `up` removes her membership and object, bob's stay.
    setClock(() => LATER);
    const r = (await fgtSet.read("id", s as never)).props as unknown as Raw;
    const news = (await fgtSet.check(r, setInputs({ grantName: "jit-fortigate-jit-admins", addresses: listed }))).inputs!;
    expect((await fgtSet.diff("id", r as never, news as never)).changes).toBe(true);
    const up = (await fgtSet.update("id", r as never, news as never)).outs as unknown as Raw;
    expect({ members: members(), objects: objects() }).toEqual({ members: ["grant-198.51.100.2"], objects: ["grant-198.51.100.2"] });
    const r2 = (await fgtSet.read("id", up as never)).props as unknown as Raw;
    const news2 = (await fgtSet.check(r2, setInputs({ grantName: "jit-fortigate-jit-admins", addresses: listed }))).inputs!;
    expect((await fgtSet.diff("id", r2 as never, news2 as never)).changes).toBe(false);
    await fgtSet.delete("id", up as never);
    expect({ members: members(), objects: objects() }).toEqual({ members: [], objects: [] });
  });
});

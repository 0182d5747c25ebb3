/**
 * One FortiGate address object declared by several resources of a program (issue 18 item 7): a `Grant`
 * with two FortiGate targets that differ only by group (two `FortigateAddress` children, one object),
 * a set and a per-entry grant naming one object. A resource's delete removes its membership, and the
 * object only when no other membership or declaration of the program still needs it.
 */
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { fortigateAddressProvider as grant } from "../../provider/devices/fortigate/resource";
import { fortigateAddressSetProvider as set } from "../../provider/devices/fortigate/set-resource";
import { resetProcessState } from "../../provider/core/process-state";
import { useEmulator } from "../support/emulator";

type Raw = Record<string, unknown>;

const emu = useEmulator(() => startFortigateEmulator({ vdoms: ["root"], groups: [{ name: "g1" }, { name: "g2" }] }), {
  resetBackend: false,
  onReset: (e) => {
    for (const g of e.backend.groups("root", "ipv4")) for (const m of [...g.members]) e.backend.removeMember("root", "ipv4", g.name, m);
    for (const a of e.backend.addresses("root", "ipv4")) e.backend.deleteAddress("root", "ipv4", a.name);
    e.backend.clearLockouts();
  },
});
const conn = () => ({ connection: { url: emu.url, caCert: emu.caCert }, credentials: { token: emu.token } });
const members = (g: string) => emu.backend.groupMembers("root", g, "ipv4").sort();
const object = (name: string) => emu.backend.getAddress("root", "ipv4", name);

async function createGrant(grantName: string, group: string | undefined, extra: Raw = {}) {
  const r = await grant.check({}, { ...conn(), name: "grant-203.0.113.7", address: "203.0.113.7", ...(group && { group }), grantName, ...extra } as never);
  expect(r.failures ?? []).toEqual([]);
  return (await grant.create(r.inputs as never)).outs as unknown as Raw;
}

describe("a Grant with two FortiGate targets that differ only by group (one object, two memberships)", () => {
  it("destroy (no program: nothing checked) removes both memberships and then the object, in either order and at once", async () => {
    for (const order of ["g1 first", "g2 first", "parallel"] as const) {
      // As the Grant component declares them (test/sets/grant-component.test.ts checks it does).
      const a = await createGrant("alice-fgt0-g1-203-0-113-7", "g1", { sharedObjectGroups: ["g2"] });
      const b = await createGrant("alice-fgt1-g2-203-0-113-7", "g2", { sharedObjectGroups: ["g1"] });
      expect([members("g1"), members("g2")]).toEqual([["grant-203.0.113.7"], ["grant-203.0.113.7"]]);
      resetProcessState(); // destroy: a new provider process that checked nothing
      if (order === "parallel") await Promise.all([grant.delete("id", a as never), grant.delete("id", b as never)]);
      else for (const s of order === "g1 first" ? [a, b] : [b, a]) await grant.delete("id", s as never);
      expect([order, members("g1"), members("g2"), object("grant-203.0.113.7")]).toEqual([order, [], [], undefined]);
    }
  });

  it("a group the program does not declare still holding the object keeps the loud 202063 (its access is not the program's)", async () => {
    const a = await createGrant("alice-fgt0-g1-203-0-113-7", "g1", { sharedObjectGroups: ["g2"] });
    emu.backend.createGroup("root", "ipv4", "by-hand", ["grant-203.0.113.7"]);
    resetProcessState();
    await expect(grant.delete("id", a as never)).rejects.toMatchObject({ code: "202063" });
    expect(members("g1")).toEqual([]);
    emu.backend.deleteGroup("root", "ipv4", "by-hand");
  });

  it("`up` after one target is dropped from the Grant: the dropped child removes its membership only", async () => {
    const a = await createGrant("alice-fgt0-g1-203-0-113-7", "g1", { sharedObjectGroups: ["g2"] });
    await createGrant("alice-fgt1-g2-203-0-113-7", "g2", { sharedObjectGroups: ["g1"] });
    resetProcessState();
    // The program now declares only the g2 child.
    await grant.check({}, { ...conn(), name: "grant-203.0.113.7", address: "203.0.113.7", group: "g2", grantName: "alice-fgt1-g2-203-0-113-7" } as never);
    emu.log.clear();
    await grant.delete("id", a as never);
    expect([members("g1"), members("g2")]).toEqual([[], ["grant-203.0.113.7"]]);
    expect(emu.log.entries().filter((e) => e.method === "DELETE" && /\/firewall\/address\//.test(e.path))).toEqual([]);
  });
});

describe("a set and a per-entry grant of one program naming one object", () => {
  const setBase = () => ({ ...conn(), group: "g1", addresses: ["203.0.113.7"], grantName: "team" });
  async function createSet() {
    const r = await set.check({}, setBase() as never);
    expect(r.failures ?? []).toEqual([]);
    return (await set.create(r.inputs as never)).outs as unknown as Raw;
  }

  it.each([
    ["no group", undefined],
    ["another group", "g2"],
  ])("the set's delete takes the object out of its group and keeps the object the grant (%s) declares", async (_label, group) => {
    const g = await createGrant("alice", group);
    const s = await createSet();
    expect(members("g1")).toEqual(["grant-203.0.113.7"]);
    // The next run's program still declares the grant, not the set: the engine deletes the set.
    resetProcessState();
    await grant.check({}, { ...conn(), name: "grant-203.0.113.7", address: "203.0.113.7", ...(group && { group }), grantName: "alice" } as never);
    emu.log.clear();
    await set.delete("id", s as never);
    expect(members("g1")).toEqual([]);
    expect(object("grant-203.0.113.7")?.value).toBe("203.0.113.7 255.255.255.255");
    expect(emu.log.entries().filter((e) => e.method === "DELETE" && /\/firewall\/address\//.test(e.path))).toEqual([]);
    if (group) expect(members(group)).toEqual(["grant-203.0.113.7"]);
    // And the grant's own delete, later, removes it all.
    resetProcessState();
    await grant.delete("id", g as never);
    expect(object("grant-203.0.113.7")).toBeUndefined();
  });

  it("two sets on two groups listing one address: deleting one keeps the object the other declares", async () => {
    const a = await createSet();
    const b = await set.check({}, { ...setBase(), group: "g2", grantName: "other-team" } as never);
    await set.create(b.inputs as never);
    resetProcessState();
    await set.check({}, { ...setBase(), group: "g2", grantName: "other-team" } as never);
    await set.delete("id", a as never);
    expect([members("g1"), members("g2")]).toEqual([[], ["grant-203.0.113.7"]]);
  });

  it("the grant's delete keeps the object the set still declares in its group", async () => {
    const g = await createGrant("alice", "g2");
    const s = await createSet();
    resetProcessState();
    await set.check({}, { ...setBase(), grantName: "team" } as never);
    emu.log.clear();
    await grant.delete("id", g as never);
    expect([members("g1"), members("g2")]).toEqual([["grant-203.0.113.7"], []]);
    expect(emu.log.entries().filter((e) => e.method === "DELETE" && /\/firewall\/address\//.test(e.path))).toEqual([]);
    resetProcessState();
    await set.delete("id", s as never);
    expect(object("grant-203.0.113.7")).toBeUndefined();
  });
});

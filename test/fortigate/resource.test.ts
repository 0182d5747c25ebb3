import { fortigateAddressProvider as provider, type FortigateAddressState } from "../../provider/devices/fortigate/resource";
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { UNKNOWN } from "../../provider/core/dynamic-kit";
import { isGrantError } from "../../provider/core/errors";
import { grantErrorCode as code, useEmulator } from "../support/emulator";

const RO = "readonly-token-0123456789";
// The user added at start outlives every test: lockouts are cleared instead of a backend reset.
const emu = useEmulator(
  () => startFortigateEmulator({ vdoms: ["root"], groups: [{ name: "jit-admins" }, { name: "jit6", family: "ipv6" }, { name: "bulk" }] }),
  {
    onStart: (e) => e.backend.addUser({ name: "ro", token: RO, fwgrp: "read", sysgrp: "read", vdoms: ["root"] }),
    resetBackend: false,
    onReset: (e) => e.backend.clearLockouts(),
  },
);
const conn = () => ({ connection: { url: emu.url, caCert: emu.caCert }, credentials: { token: emu.token } });
const inputs = (extra: Record<string, unknown>) => ({ ...conn(), __provider: "x", ...extra });

async function checked(extra: Record<string, unknown>) {
  const r = await provider.check({}, inputs(extra));
  expect(r.failures ?? []).toEqual([]);
  return r.inputs as import("../../provider/devices/fortigate/resource").FortigateAddressInputs;
}

describe("FortigateAddress provider", () => {
  it.each([
    ["name", "a/b"],
    ["name", "../x"],
    ["name", "a%2Fb"],
    ["name", 'q"uote'],
    ["name", "new\nline"],
    ["name", " lead"],
    ["name", "x".repeat(80)],
    ["address", "0.0.0.0/0"],
    ["address", "10.0.0.1/24"],
    ["address", "1.2.3.4,5.6.7.8"],
    ["address", "fe80::1%eth0"],
    ["address", "010.1.1.1"],
    ["address", "host.example"],
    ["group", "grp/../x"],
  ])("check refuses %s %j without sending a request", async (field, value) => {
    const r = await provider.check({}, inputs({ name: "ok-name", address: "203.0.113.7", [field]: value }));
    expect(r.failures?.[0]?.property).toBe(field);
    expect(emu.log.entries()).toHaveLength(0);
  });

  it("preview: check runs a 3-request preflight with no side effect, cached per device+token+target", async () => {
    const r = await checked({ name: "p1", address: "203.0.113.7/32", group: "jit-admins" });
    expect((r as { address: string }).address).toBe("203.0.113.7");
    await checked({ name: "p2", address: "203.0.113.8", group: "jit-admins" });
    expect(emu.log.entries()).toHaveLength(3);
    expect(emu.log.sideEffects()).toHaveLength(0);
  });

  it('with the preflight setting "read" a read-only token passes preview (drift-check jobs), with no write probe', async () => {
    process.env.FORTIGATE_PREFLIGHT = "read";
    try {
      const r = await provider.check({}, { ...inputs({ name: "p5", address: "203.0.113.9" }), credentials: { token: RO } });
      expect(r.failures ?? []).toEqual([]);
      expect(emu.log.entries().map((e) => e.method)).not.toContain("PUT");
    } finally {
      delete process.env.FORTIGATE_PREFLIGHT;
    }
  });

  it("a grant without a comment shows no change on the next preview (the device's empty comment is the same)", async () => {
    const news = await checked({ name: "nc1", address: "203.0.113.51", group: "jit-admins" });
    const { id, outs } = await provider.create(news);
    expect(await provider.diff(id, outs, await checked({ name: "nc1", address: "203.0.113.51", group: "jit-admins" }))).toMatchObject({
      changes: false,
      replaces: [],
    });
  });

  it("preview fails with 202002 for a read-only token and 202060 for a missing group", async () => {
    expect(await code(provider.check({}, { ...inputs({ name: "p3", address: "203.0.113.9" }), credentials: { token: RO } }))).toBe("202002");
    expect(await code(provider.check({}, inputs({ name: "p4", address: "203.0.113.9", group: "nope" })))).toBe("202060");
    expect(emu.log.sideEffects()).toHaveLength(0);
  });

  it("check skips unknown values and does no I/O for them", async () => {
    const r = await provider.check({}, inputs({ name: UNKNOWN, address: "203.0.113.7" }));
    expect(r.failures).toBeUndefined();
    expect(emu.log.entries()).toHaveLength(0);
  });

  it("create, read, update, delete without a group", async () => {
    const ins = await checked({ name: "crud", address: "198.51.100.0/24", comment: "one" });
    const { id, outs } = await provider.create(ins);
    expect(outs).toMatchObject({
      name: "crud",
      address: "198.51.100.0/24",
      cidr: "198.51.100.0/24",
      family: "ipv4",
      vdom: "root",
      adopted: false,
      comment: "one",
    });
    expect(emu.backend.getAddress("root", "ipv4", "crud")?.value).toBe("198.51.100.0 255.255.255.0");
    expect((await provider.read(id, outs)).props).toEqual(outs);
    const news = await checked({ name: "crud", address: "198.51.100.0/24", comment: "two" });
    expect(await provider.diff(id, outs, news)).toMatchObject({ changes: true, replaces: [] });
    const { outs: o2 } = await provider.update(id, outs, news);
    expect(emu.backend.getAddress("root", "ipv4", "crud")?.comment).toBe("two");
    expect(await provider.diff(id, o2, news)).toMatchObject({ changes: false });
    expect((await provider.diff(id, o2, { ...news, address: "198.51.101.0/24" })).replaces).toEqual(["address"]);
    await provider.delete(id, o2);
    await provider.delete(id, o2);
    expect(emu.backend.getAddress("root", "ipv4", "crud")).toBeUndefined();
  });

  it("create and delete with a group, IPv6 into addrgrp6", async () => {
    const { id, outs } = await provider.create(await checked({ name: "v6", address: "2001:db8::7", group: "jit6" }));
    expect(outs).toMatchObject({ family: "ipv6", membershipAdded: true, objectPath: "/api/v2/cmdb/firewall/address6/v6" });
    expect(emu.backend.groupMembers("root", "jit6", "ipv6")).toEqual(["v6"]);
    await provider.delete(id, outs);
    expect(emu.backend.groupMembers("root", "jit6", "ipv6")).toEqual([]);
    expect(emu.backend.addresses("root", "ipv6")).toEqual([]);
  });

  it("adopts an identical object and revokes it on delete all the same; a different value is 202061", async () => {
    emu.backend.createAddress("root", "ipv4", { name: "pre", subnet: "192.0.2.5 255.255.255.255" });
    const { id, outs } = await provider.create(await checked({ name: "pre", address: "192.0.2.5" }));
    expect(outs.adopted).toBe(true);
    await provider.delete(id, outs);
    expect(emu.backend.getAddress("root", "ipv4", "pre")).toBeUndefined();
    emu.backend.createAddress("root", "ipv4", { name: "pre", subnet: "192.0.2.5 255.255.255.255" });
    expect(await code(provider.create(await checked({ name: "pre", address: "192.0.2.6" })))).toBe("202061");
    expect(await code(provider.create(await checked({ name: "jit-admins", address: "192.0.2.6" })))).toBe("202061");
  });

  it("delete of an address still referenced elsewhere fails with 202063 after removing its own membership", async () => {
    const { id, outs } = await provider.create(await checked({ name: "inuse", address: "192.0.2.88", group: "jit-admins" }));
    emu.backend.addMember("root", "ipv4", "bulk", "inuse");
    const e = await provider.delete(id, outs).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isGrantError(e) && e.code).toBe("202063");
    expect(String((e as Error).message)).toContain("still referenced");
    expect(emu.backend.groupMembers("root", "jit-admins")).not.toContain("inuse");
    expect(emu.backend.getAddress("root", "ipv4", "inuse")).toBeDefined();
    emu.backend.removeMember("root", "ipv4", "bulk", "inuse");
    await provider.delete(id, outs);
    expect(emu.backend.getAddress("root", "ipv4", "inuse")).toBeUndefined();
  });

  it("drift: membership removed by hand shows a change and update restores it; object removed → gone on refresh", async () => {
    const ins = await checked({ name: "drift", address: "192.0.2.77", group: "jit-admins" });
    const { id, outs } = await provider.create(ins);
    emu.backend.removeMember("root", "ipv4", "jit-admins", "drift");
    const seen = (await provider.read(id, outs)).props as FortigateAddressState;
    expect(seen.member).toBe(false);
    expect((await provider.diff(id, seen, ins)).changes).toBe(true);
    const { outs: fixed } = await provider.update(id, seen, ins);
    expect(fixed.member).toBe(true);
    expect(emu.backend.groupMembers("root", "jit-admins")).toContain("drift");
    emu.backend.removeMember("root", "ipv4", "jit-admins", "drift");
    emu.backend.deleteAddress("root", "ipv4", "drift");
    expect(await provider.read(id, fixed)).toEqual({});
    await provider.delete(id, fixed);
  });

  it("100 parallel grants into one group, then 100 parallel deletes: each member once, then none", async () => {
    const names = Array.from({ length: 100 }, (_, i) => `bulk-${i}`);
    const ins = await Promise.all(names.map((n, i) => checked({ name: n, address: `10.77.${i}.1`, group: "bulk" })));
    emu.log.clear();
    const t0 = Date.now();
    const created = await Promise.all(ins.map((i) => provider.create(i)));
    const createMs = Date.now() - t0;
    const createReqs = emu.log.entries().length / 100;
    const tableReads = emu.log.entries().filter((e) => e.method === "GET" && e.path === "/api/v2/cmdb/firewall/address").length;
    const groupReads = emu.log.entries().filter((e) => e.method === "GET" && e.path.startsWith("/api/v2/cmdb/firewall/addrgrp")).length;
    const members = emu.backend.groupMembers("root", "bulk");
    expect(members.sort()).toEqual([...names].sort());
    emu.log.clear();
    const t1 = Date.now();
    await Promise.all(created.map((c) => provider.delete(c.id, c.outs)));
    const deleteMs = Date.now() - t1;
    const deleteReqs = emu.log.entries().length / 100;
    expect(emu.backend.groupMembers("root", "bulk")).toEqual([]);
    expect(emu.backend.addresses("root").filter((a) => a.name.startsWith("bulk-"))).toEqual([]);
    const soloIns = await checked({ name: "solo", address: "10.78.0.1" });
    emu.log.clear();
    const solo = await provider.create(soloIns);
    const soloCreate = emu.log.entries().length;
    emu.log.clear();
    await provider.delete(solo.id, solo.outs);
    process.stdout.write(
      `[fortigate bench] 100 grants with group: create ${createMs} ms (${createReqs} req/grant), delete ${deleteMs} ms (${deleteReqs} req/grant); without group: create ${soloCreate} req, delete ${emu.log.entries().length} req\n`,
    );
    // object POST + a read-back shared by the burst (one table read proves many POSTs), then the member POST
    // (the object was just created: no group holds it, so no read of the group before the POST).
    expect(tableReads).toBeGreaterThanOrEqual(1);
    expect(groupReads).toBe(0);
    expect(createReqs).toBeGreaterThan(2);
    expect(createReqs).toBeLessThanOrEqual(2.2);
    // member DELETE, object DELETE, and the read that proves the member is gone (a blanket 404 is no proof).
    expect(deleteReqs).toBe(3);
    expect(soloCreate).toBe(2);
  });

  it("no token in any error message or logged URL", async () => {
    const bad = "leaky-token-abcdef-987654";
    let message = "";
    try {
      await provider.check({}, { ...inputs({ name: "t", address: "192.0.2.1" }), credentials: { token: bad } });
    } catch (e) {
      message = String((e as Error).message) + String((e as Error).stack);
    }
    expect(message).toContain("202001");
    expect(message).not.toContain(bad);
    expect(emu.log.entries()).toHaveLength(1);
    // The diagnosed 401 is cached: a second resource with the same token sends nothing (no lockout).
    await expect(provider.check({}, { ...inputs({ name: "t2", address: "192.0.2.2" }), credentials: { token: bad } })).rejects.toThrow(/202001/);
    expect(emu.log.entries()).toHaveLength(1);
    for (const e of emu.log.entries()) expect(`${e.path}?${e.query}`).not.toContain(bad);
  });
});

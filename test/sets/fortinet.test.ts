/**
 * FortigateAddressSet / FortigateGroupGuard and FortimanagerTrustedHostSet / Guard through the provider
 * objects against the emulators (issue 13): semantics, exclusive drift, the shared-address rule, one
 * update per FortiManager admin, slot 1 untouched, hostile input.
 */
import { fortigateAddressProvider } from "../../provider/devices/fortigate/resource";
import { fortigateAddressSetProvider as fgt } from "../../provider/devices/fortigate/set-resource";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { fortimanagerTrustedHostSetProvider as fmg } from "../../provider/devices/fortimanager/set-resource";
import { grantErrorCode as code, useEmulator } from "../support/emulator";
import { fortigateSetBase, useFortigateSetEmulator } from "./helpers";

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

describe("FortigateAddressSet", () => {
  const emu = useFortigateSetEmulator();
  const base = () => ({ ...fortigateSetBase(emu), addresses: [] });
  const members = (f: "ipv4" | "ipv6" = "ipv4", g = f === "ipv4" ? "jit-admins" : "jit6") => emu.backend.groupMembers("root", g, f).sort();

  it("a create that fails partway takes back what it added and leaves what was there before", async () => {
    // Already granted by hand before the program: listed by the set, it must survive the failed create.
    emu.backend.createAddress("root", "ipv4", { name: "grant-203.0.113.7", subnet: "203.0.113.7 255.255.255.255" });
    emu.backend.addMember("root", "ipv4", "jit-admins", "grant-203.0.113.7");
    // The IPv6 membership write fails (no FortiOS answer): the create must fail, with no state.
    emu.faults.add({ match: "/api/v2/cmdb/firewall/addrgrp6/jit6/member", kind: "status", status: 500 });
    const r = await fgt.check({}, { ...base(), addresses: ["203.0.113.7", "198.51.100.8", "2001:db8::7"] } as never);
    await expect(fgt.create(r.inputs as never)).rejects.toBeDefined();
    emu.faults.clear();
    expect(members()).toEqual(["grant-203.0.113.7"]);
    expect(members("ipv6")).toEqual([]);
    expect(emu.backend.getAddress("root", "ipv4", "grant-198.51.100.8")).toBeUndefined();
    expect(emu.backend.getAddress("root", "ipv6", "grant-2001:db8::7")).toBeUndefined();
  });

  it("an update that fails partway takes back what it added: `destroy` with the old state leaves no object or member (issue 18 item 4)", async () => {
    const s = await run(fgt, base(), { addresses: ["203.0.113.7"] });
    emu.faults.add({ match: "/api/v2/cmdb/firewall/addrgrp6/jit6/member", kind: "status", status: 500 });
    const news = (await fgt.check(s, { ...base(), addresses: ["203.0.113.7", "198.51.100.8", "2001:db8::7"] } as never)).inputs!;
    await expect(fgt.update("id", s as never, news as never)).rejects.toBeDefined();
    emu.faults.clear();
    await fgt.delete("id", s as never);
    expect({
      v4: members(),
      v6: members("ipv6"),
      objects: [...emu.backend.addresses("root", "ipv4"), ...emu.backend.addresses("root", "ipv6")].map((a) => a.name),
    }).toEqual({
      v4: [],
      v6: [],
      objects: [],
    });
  });

  it("a failure while other writes are in flight: they settle before the take-back reads, so none lands after it (issue 18 item 4)", async () => {
    const s = await run(fgt, base(), { addresses: ["203.0.113.7"] });
    emu.faults.add({ match: /^POST \/api\/v2\/cmdb\/firewall\/address(\?|$)/, kind: "latency", ms: 300 });
    emu.faults.add({ match: "/api/v2/cmdb/firewall/addrgrp6/jit6/member", kind: "status", status: 500 });
    const v4 = Array.from({ length: 6 }, (_, i) => `198.51.100.${20 + i}`);
    const news = (await fgt.check(s, { ...base(), addresses: ["203.0.113.7", "2001:db8::7", ...v4] } as never)).inputs!;
    await expect(fgt.update("id", s as never, news as never)).rejects.toBeDefined();
    await new Promise((r) => setTimeout(r, 600));
    emu.faults.clear();
    const names = () => [...emu.backend.addresses("root", "ipv4"), ...emu.backend.addresses("root", "ipv6")].map((a) => a.name).sort();
    expect({ v4: members(), v6: members("ipv6"), objects: names() }).toEqual({ v4: ["grant-203.0.113.7"], v6: [], objects: ["grant-203.0.113.7"] });
  });

  it("creates objects named from the prefix, IPv6 into the v6 group, keeps foreign members, removes what it stopped listing", async () => {
    emu.backend.createAddress("root", "ipv4", { name: "foreign", subnet: "192.0.2.9 255.255.255.255" });
    emu.backend.addMember("root", "ipv4", "jit-admins", "foreign");
    const s = await run(fgt, base(), { addresses: ["203.0.113.7", { address: "10.0.0.0/24", description: "office" }, "2001:db8::7"] });
    expect(members()).toEqual(["foreign", "grant-10.0.0.0_24", "grant-203.0.113.7"]);
    expect(members("ipv6")).toEqual(["grant-2001:db8::7"]);
    expect(emu.backend.getAddress("root", "ipv4", "grant-10.0.0.0_24")!.comment).toBe("office");
    const u = await change(fgt, s, base(), { addresses: ["203.0.113.7"] });
    expect(members()).toEqual(["foreign", "grant-203.0.113.7"]);
    expect(members("ipv6")).toEqual([]);
    expect(emu.backend.getAddress("root", "ipv4", "grant-10.0.0.0_24")).toBeUndefined();
    await fgt.delete("id", u as never);
    expect(members()).toEqual(["foreign"]);
  });

  it("exclusive: a hand-added member is named in `unexpected` and `up` takes it out of the group (the object stays)", async () => {
    const s = await run(fgt, base(), { exclusive: true, addresses: ["203.0.113.7"] });
    emu.backend.createAddress("root", "ipv4", { name: "sneaky", subnet: "0.0.0.0 128.0.0.0" });
    emu.backend.addMember("root", "ipv4", "jit-admins", "sneaky");
    const r = await read(fgt, s);
    expect(r.unexpected).toEqual(["sneaky (0.0.0.0/1)"]);
    emu.log.clear();
    await change(fgt, r, base(), { exclusive: true, addresses: ["203.0.113.7"] });
    expect(members()).toEqual(["grant-203.0.113.7"]);
    expect(emu.backend.getAddress("root", "ipv4", "sneaky")).toBeDefined();
  });

  it("a refresh costs one table read and one group read per family, whatever N", async () => {
    const s = await run(fgt, base(), { addresses: Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 1}`) });
    emu.log.clear();
    await read(fgt, s);
    expect(emu.log.entries()).toHaveLength(2);
  });

  it("a FortigateAddress grant of the program keeps its object when the set stops listing it", async () => {
    const s = await run(fgt, base(), { addresses: ["203.0.113.7", "203.0.113.8"] });
    await fortigateAddressProvider.check(
      {},
      {
        connection: { url: emu.url, caCert: emu.caCert },
        credentials: { token: emu.token },
        name: "grant-203.0.113.8",
        address: "203.0.113.8",
        group: "jit-admins",
        grantName: "bob",
      },
    );
    await change(fgt, s, base(), { addresses: ["203.0.113.7"] });
    expect(members()).toContain("grant-203.0.113.8");
  });

  it("guard: a member no covered grant declares is removed; covered members stay", async () => {
    emu.backend.createAddress("root", "ipv4", { name: "grant-alice", subnet: "203.0.113.7 255.255.255.255" });
    emu.backend.addMember("root", "ipv4", "jit-admins", "grant-alice");
    emu.backend.createAddress("root", "ipv4", { name: "hand", subnet: "198.51.100.66 255.255.255.255" });
    emu.backend.addMember("root", "ipv4", "jit-admins", "hand");
    await run(fgt, base(), { guard: true, exclusive: true, allowBroad: true, addresses: [{ address: "203.0.113.7", name: "grant-alice" }] });
    expect(members()).toEqual(["grant-alice"]);
  });

  it("guard: a FortigateAddress of the program it does not list (a Grant's child) is not drift; a hand-added member is, and up removes only that", async () => {
    const guardArgs = { guard: true, exclusive: true, allowBroad: true, addresses: [{ address: "203.0.113.7", name: "grant-alice" }] };
    const entry = (name: string, address: string, grantName: string) => ({
      connection: { url: emu.url, caCert: emu.caCert },
      credentials: { token: emu.token },
      name,
      address,
      group: "jit-admins",
      grantName,
    });
    const alice = await fortigateAddressProvider.check({}, entry("grant-alice", "203.0.113.7", "alice"));
    await fortigateAddressProvider.create(alice.inputs as never);
    const g = await run(fgt, base(), guardArgs);
    const bob = await fortigateAddressProvider.check({}, entry("grant-203.0.113.8", "203.0.113.8", "bob-fgt0-jit-admins-203-0-113-8"));
    await fortigateAddressProvider.create(bob.inputs as never);
    const r = await read(fgt, g);
    expect(r.unexpected).toEqual(["grant-203.0.113.8 (203.0.113.8)"]);
    const news = (await fgt.check(r, { ...base(), ...guardArgs, grantName: g.grantName } as never)).inputs!;
    expect((await fgt.diff("id", r as never, news as never)).changes).toBe(false);
    emu.backend.createAddress("root", "ipv4", { name: "hand", subnet: "198.51.100.66 255.255.255.255" });
    emu.backend.addMember("root", "ipv4", "jit-admins", "hand");
    const r2 = await read(fgt, g);
    expect((await fgt.diff("id", r2 as never, news as never)).changes).toBe(true);
    const up = (await fgt.update("id", r2 as never, news as never)).outs as unknown as Raw;
    expect(members()).toEqual(["grant-203.0.113.8", "grant-alice"]);
    expect((await fgt.diff("id", (await read(fgt, up)) as never, news as never)).changes).toBe(false);
  });

  it.each([
    ["namePrefix", "a/b"],
    ["addresses.0", "1.2.3.4\n5.6.7.8"],
  ])("check refuses %s %j", async (field, value) => {
    const extra = field === "namePrefix" ? { namePrefix: value, addresses: ["203.0.113.7"] } : { addresses: [value] };
    const r = await fgt.check({}, { ...base(), ...extra } as never);
    expect(r.failures?.[0]?.property).toBe(field);
  });
});

describe("FortimanagerTrustedHostSet", () => {
  const emu = useEmulator(() => startFortimanagerEmulator({ sysSessionForApiKeys: "answer" }));
  const base = () => ({
    connection: { url: emu.url, caCert: emu.caCert },
    credentials: { token: DEFAULT_CREDENTIALS.apiKey },
    adminUser: "alice",
    addresses: [],
    grantName: "ms",
  });
  const slots = () => emu.backend.admins.get("alice")!.slots as Raw;
  const updates = () => emu.log.sideEffects().length;

  it("writes every listed address with ONE update (IPv4 and IPv6), never slot 1, and removes only what it listed", async () => {
    const slot1 = slots().trusthost1;
    slots().trusthost9 = ["192.0.2.99", "255.255.255.255"];
    emu.log.clear();
    const s = await run(fmg, base(), { addresses: ["203.0.113.7", "203.0.113.8", "198.51.100.0/24", "2001:db8::7"] });
    expect(updates()).toBe(1);
    const held = Object.values(slots()).map((v) => JSON.stringify(v));
    for (const v of [["203.0.113.7", "255.255.255.255"], ["203.0.113.8", "255.255.255.255"], ["198.51.100.0", "255.255.255.0"], "2001:db8::7/128"])
      expect(held).toContain(JSON.stringify(v));
    expect(slots().trusthost1).toEqual(slot1);
    emu.log.clear();
    const u = await change(fmg, s, base(), { addresses: ["203.0.113.7"] });
    expect(updates()).toBe(1);
    await fmg.delete("id", u as never);
    expect(slots().trusthost9).toEqual(["192.0.2.99", "255.255.255.255"]);
    expect(Object.values(slots()).map((v) => JSON.stringify(v))).not.toContain(JSON.stringify(["203.0.113.7", "255.255.255.255"]));
  });

  it("exclusive: a hand-added trusted host (0.0.0.0/1) is named and reset by `up`; slot 1 stays", async () => {
    const s = await run(fmg, base(), { exclusive: true, addresses: ["203.0.113.7"] });
    const slot1 = slots().trusthost1;
    slots().trusthost10 = ["0.0.0.0", "128.0.0.0"];
    const r = await read(fmg, s);
    expect(r.unexpected).toEqual(["0.0.0.0/1"]);
    await change(fmg, r, base(), { exclusive: true, addresses: ["203.0.113.7"] });
    expect(slots().trusthost10).toEqual(["255.255.255.255", "255.255.255.255"]);
    expect(slots().trusthost1).toEqual(slot1);
  });

  // Issue 18 item 7: slot 1 (never written) still admitting a revoked address makes the set fail as the per-entry resource does.
  it("delete fails with 202050 while slot 1 still admits a listed address (IPv4 and IPv6); it succeeds once slot 1 is changed", async () => {
    const s = await run(fmg, base(), { addresses: ["203.0.113.7", "2001:db8::7", "203.0.113.8"] });
    slots().trusthost1 = ["203.0.113.7", "255.255.255.255"];
    slots().ipv6_trusthost1 = "2001:db8::7/128";
    const messages: string[] = [];
    expect(await code(fmg.delete("id", s as never), { messages })).toBe("202050");
    expect(messages[0]!.split("\n")[0]).toContain(
      '2001:db8::7, 203.0.113.7 were removed from slots 2..10 of "alice" but slot 1 (ipv6_trusthost1, trusthost1, never written by this library) also holds them, so the access remains',
    );
    const held = Object.entries(slots())
      .filter(([k]) => !k.endsWith("trusthost1"))
      .map(([, v]) => JSON.stringify(v));
    for (const v of [["203.0.113.7", "255.255.255.255"], ["203.0.113.8", "255.255.255.255"], "2001:db8::7/128"]) expect(held).not.toContain(JSON.stringify(v));
    slots().trusthost1 = ["0.0.0.0", "0.0.0.0"];
    slots().ipv6_trusthost1 = "::/0";
    await fmg.delete("id", s as never);
  });

  it("an update that stops listing an address slot 1 still holds fails with 202050", async () => {
    const s = await run(fmg, base(), { addresses: ["203.0.113.7", "203.0.113.8"] });
    slots().trusthost1 = ["203.0.113.8", "255.255.255.255"];
    const news = (await fmg.check(s as never, { ...base(), addresses: ["203.0.113.7"] } as never)).inputs!;
    expect(await code(fmg.update("id", s as never, news as never))).toBe("202050");
  });

  it("check refuses more than 9 addresses of one family", async () => {
    const r = await fmg.check({}, { ...base(), addresses: Array.from({ length: 10 }, (_, i) => `203.0.113.${i + 1}`) } as never);
    expect(r.failures?.[0]?.property).toBe("addresses");
  });
});

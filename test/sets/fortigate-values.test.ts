/**
 * A FortiGate set's refresh reads what the group enforces (issue 18 item 2): a member is an address
 * object's VALUE, not its name. A listed object edited by hand (another subnet, another type) is drift
 * for every set and is named in `unexpected` for an exclusive set; `up` puts the value back in place.
 * A member that is not an ipmask object (iprange, fqdn, geography, wildcard, a nested group) is named
 * by an exclusive set and a guard, and `up` takes it out. The guard applies the same rule to the grants
 * it covers.
 */
import { envelope } from "../../emulators/fortigate/routes";
import { fortigateAddressProvider as grant } from "../../provider/devices/fortigate/resource";
import { fortigateAddressSetProvider as fgt } from "../../provider/devices/fortigate/set-resource";
import { fortigateSetBase, useFortigateSetEmulator, type Raw } from "./helpers";

const emu = useFortigateSetEmulator();
const base = () => fortigateSetBase(emu);
const members = (f: "ipv4" | "ipv6" = "ipv4") => emu.backend.groupMembers("root", f === "ipv4" ? "jit-admins" : "jit6", f).sort();

async function create(extra: Raw): Promise<Raw> {
  const r = await fgt.check({}, { ...base(), ...extra } as never);
  expect(r.failures ?? []).toEqual([]);
  return (await fgt.create(r.inputs as never)).outs as unknown as Raw;
}
const read = async (s: Raw) => (await fgt.read("id", s as never)).props as unknown as Raw;
/** What `preview --refresh` then `up` do: check the same program, diff against the refreshed state, update when it differs. */
async function up(state: Raw, extra: Raw): Promise<{ changes: boolean; outs: Raw }> {
  const news = (await fgt.check(state, { ...base(), ...extra } as never)).inputs!;
  const d = await fgt.diff("id", state as never, news as never);
  expect(d.replaces ?? []).toEqual([]);
  return { changes: d.changes === true, outs: d.changes ? ((await fgt.update("id", state as never, news as never)).outs as unknown as Raw) : state };
}

describe("a listed object's value edited by hand", () => {
  it.each([
    ["exclusive", true],
    ["non-exclusive", false],
  ])("%s set: refresh reports it, `up` puts the value back in place (same object, still a member)", async (_l, exclusive) => {
    const s = await create({ exclusive, addresses: ["203.0.113.7", "2001:db8::7"] });
    const uuid = emu.backend.getAddress("root", "ipv4", "grant-203.0.113.7")!.uuid;
    emu.backend.updateAddress("root", "ipv4", "grant-203.0.113.7", { subnet: "0.0.0.0 128.0.0.0" });
    emu.backend.updateAddress("root", "ipv6", "grant-2001:db8::7", { ip6: "::/1" });
    const r = await read(s);
    expect(r.unexpected).toEqual(["grant-2001:db8::7 (::/1)", "grant-203.0.113.7 (0.0.0.0/1)"]);
    const u = await up(r, { exclusive, addresses: ["203.0.113.7", "2001:db8::7"] });
    expect(u.changes).toBe(true);
    expect(emu.backend.getAddress("root", "ipv4", "grant-203.0.113.7")).toMatchObject({ value: "203.0.113.7 255.255.255.255", uuid });
    expect(emu.backend.getAddress("root", "ipv6", "grant-2001:db8::7")!.value).toBe("2001:db8::7/128");
    expect([members(), members("ipv6")]).toEqual([["grant-203.0.113.7"], ["grant-2001:db8::7"]]);
    // The drift check after the repair is clean.
    const again = await up(await read(u.outs), { exclusive, addresses: ["203.0.113.7", "2001:db8::7"] });
    expect(again.changes).toBe(false);
  });

  it("an object turned into another type is drift even when FortiOS still shows its old subnet (it shows every field)", async () => {
    const s = await create({ exclusive: true, addresses: ["203.0.113.7"] });
    emu.backend.updateAddress("root", "ipv4", "grant-203.0.113.7", { type: "fqdn", fqdn: "evil.example" });
    // FortiOS keeps and shows the subnet of an object whose type changed (reference §2a: every field is shown).
    emu.faults.add({
      match: /^GET \/api\/v2\/cmdb\/firewall\/address$/,
      kind: "reply",
      times: 1,
      reply: (req) => ({
        status: 200,
        json: {
          ...envelope(emu.backend, { req, vdom: "root" }),
          status: "success",
          http_status: 200,
          results: [{ name: "grant-203.0.113.7", type: "fqdn", fqdn: "evil.example", subnet: "203.0.113.7 255.255.255.255", comment: "" }],
        },
      }),
    });
    const r = await read(s);
    expect(r.unexpected).toEqual(["grant-203.0.113.7 (fqdn object)"]);
    const u = await up(r, { exclusive: true, addresses: ["203.0.113.7"] });
    expect(u.changes).toBe(true);
    expect(emu.backend.getAddress("root", "ipv4", "grant-203.0.113.7")).toMatchObject({ type: "ipmask", value: "203.0.113.7 255.255.255.255" });
    expect(members()).toEqual(["grant-203.0.113.7"]);
  });

  it("taken out of the group AND edited: refresh still names it as the set's own, and `up` puts back both value and membership", async () => {
    const s = await create({ addresses: ["203.0.113.7"] });
    emu.backend.removeMember("root", "ipv4", "jit-admins", "grant-203.0.113.7");
    emu.backend.updateAddress("root", "ipv4", "grant-203.0.113.7", { subnet: "0.0.0.0 128.0.0.0" });
    const r = await read(s);
    expect(r.unexpected).toEqual(["grant-203.0.113.7 (0.0.0.0/1, not a member)"]);
    const u = await up(r, { addresses: ["203.0.113.7"] });
    expect(u.changes).toBe(true);
    expect(emu.backend.getAddress("root", "ipv4", "grant-203.0.113.7")!.value).toBe("203.0.113.7 255.255.255.255");
    expect(members()).toEqual(["grant-203.0.113.7"]);
    expect((await up(await read(u.outs), { addresses: ["203.0.113.7"] })).changes).toBe(false);
  });

  it("a set created over someone else's object of that name with another value still fails with 202061 (never rewritten)", async () => {
    emu.backend.createAddress("root", "ipv4", { name: "grant-203.0.113.7", subnet: "10.9.9.9 255.255.255.255" });
    const r = await fgt.check({}, { ...base(), addresses: ["203.0.113.7"] } as never);
    await expect(fgt.create(r.inputs as never)).rejects.toMatchObject({ code: "202061" });
    expect(emu.backend.getAddress("root", "ipv4", "grant-203.0.113.7")!.value).toBe("10.9.9.9 255.255.255.255");
  });

  it("a listed name taken by an address group is refused with 202061, never made a member in the object's place", async () => {
    emu.backend.createAddress("root", "ipv4", { name: "inner", subnet: "0.0.0.0 128.0.0.0" });
    emu.backend.createGroup("root", "ipv4", "grant-bob", ["inner"]);
    const r = await fgt.check({}, { ...base(), addresses: [{ address: "203.0.113.9", name: "grant-bob" }] } as never);
    await expect(fgt.create(r.inputs as never)).rejects.toMatchObject({ code: "202061" });
    expect(members()).toEqual([]);
  });
});

describe("members that are not ipmask address objects", () => {
  it("an exclusive set names each by its name and `up` takes it out of the group (the objects stay)", async () => {
    const s = await create({ exclusive: true, addresses: ["203.0.113.7"] });
    const hand: [string, Raw][] = [
      ["range", { type: "iprange", "start-ip": "0.0.0.0", "end-ip": "127.255.255.255" }],
      ["name-based", { type: "fqdn", fqdn: "evil.example" }],
      ["country", { type: "geography", country: "ZZ" }],
      ["wild", { type: "wildcard", wildcard: "10.0.0.0 255.0.255.0" }],
    ];
    for (const [name, body] of hand) {
      emu.backend.createAddress("root", "ipv4", { name, ...body });
      emu.backend.addMember("root", "ipv4", "jit-admins", name);
    }
    emu.backend.createAddress("root", "ipv4", { name: "inner-host", subnet: "198.51.100.1 255.255.255.255" });
    emu.backend.createGroup("root", "ipv4", "nested", ["inner-host"]);
    emu.backend.addMember("root", "ipv4", "jit-admins", "nested");
    const r = await read(s);
    expect(r.unexpected).toEqual([
      "country (geography object)",
      "name-based (fqdn object)",
      "nested (address group)",
      "range (iprange object)",
      "wild (wildcard object)",
    ]);
    const u = await up(r, { exclusive: true, addresses: ["203.0.113.7"] });
    expect(u.changes).toBe(true);
    expect(members()).toEqual(["grant-203.0.113.7"]);
    for (const [name] of hand) expect(emu.backend.getAddress("root", "ipv4", name)).toBeDefined();
  });
});

describe("FortigateGroupGuard", () => {
  const guard = { guard: true, exclusive: true, allowBroad: true, addresses: [{ address: "203.0.113.7", name: "grant-alice" }] };

  it("a covered grant's object edited by hand is named, and `up` takes it out of the group when no grant of the program declares it", async () => {
    emu.backend.createAddress("root", "ipv4", { name: "grant-alice", subnet: "203.0.113.7 255.255.255.255" });
    emu.backend.addMember("root", "ipv4", "jit-admins", "grant-alice");
    const s = await create(guard);
    expect(members()).toEqual(["grant-alice"]);
    emu.backend.updateAddress("root", "ipv4", "grant-alice", { subnet: "0.0.0.0 128.0.0.0" });
    const r = await read(s);
    expect(r.unexpected).toEqual(["grant-alice (0.0.0.0/1)"]);
    const u = await up(r, guard);
    expect(u.changes).toBe(true);
    expect(members()).toEqual([]);
    // The guard never deletes an object: the grant owns it.
    expect(emu.backend.getAddress("root", "ipv4", "grant-alice")).toBeDefined();
  });

  it("while the program declares the covered grant, the guard leaves the member to it (the grant's refresh sees the value and replaces it)", async () => {
    const g = await grant.check({}, {
      connection: base().connection,
      credentials: base().credentials,
      name: "grant-alice",
      address: "203.0.113.7",
      group: "jit-admins",
      grantName: "alice",
    } as never);
    expect(g.failures ?? []).toEqual([]);
    const created = (await grant.create(g.inputs as never)).outs as unknown as Raw;
    const s = await create(guard);
    emu.backend.updateAddress("root", "ipv4", "grant-alice", { subnet: "0.0.0.0 128.0.0.0" });
    expect((await read(s)).unexpected).toEqual(["grant-alice (0.0.0.0/1)"]);
    expect((await grant.read("id", created as never)).props).toMatchObject({ address: "0.0.0.0/1" });
    await up(await read(s), guard);
    expect(members()).toEqual(["grant-alice"]);
  });
});

describe("FortigateAddress (per-entry), same client", () => {
  it("an object turned into an fqdn whose old subnet FortiOS still shows is read as not an IP address (refresh replaces it)", async () => {
    const conn = { connection: base().connection, credentials: base().credentials };
    const g = await grant.check({}, { ...conn, name: "grant-carol", address: "203.0.113.9", grantName: "carol" } as never);
    const created = (await grant.create(g.inputs as never)).outs as unknown as Raw;
    emu.faults.add({
      match: /^GET \/api\/v2\/cmdb\/firewall\/address$/,
      kind: "reply",
      times: 1,
      reply: (req) => ({
        status: 200,
        json: {
          ...envelope(emu.backend, { req, vdom: "root" }),
          status: "success",
          http_status: 200,
          results: [{ name: "grant-carol", type: "fqdn", fqdn: "evil.example", subnet: "203.0.113.9 255.255.255.255", comment: "" }],
        },
      }),
    });
    expect((await grant.read("id", created as never)).props).toMatchObject({ address: "(not an IP address)" });
  });
});

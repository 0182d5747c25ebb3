/**
 * Red team rt3 (issue 22): FortiGate address sets and FortiManager trusted-host sets with state of the previous
 * version (every plain entry `{address}`) or mixed with this version's strings: refresh is no change, a dropped
 * entry is revoked (object and membership, trusted host), delete leaves only what was not the set's.
 */
import { fortigateAddressSetProvider as fgt } from "../../provider/devices/fortigate/set-resource";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { fortimanagerTrustedHostSetProvider as fmg } from "../../provider/devices/fortimanager/set-resource";
import { useEmulator } from "../support/emulator";
import { fortigateSetBase, useFortigateSetEmulator } from "../sets/helpers";

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
  return { changes: d.changes, outs: d.changes ? ((await p.update("id", olds as never, news as never)).outs as unknown as Raw) : olds };
}
const read = async (p: P, s: Raw) => (await p.read("id", s as never)).props as unknown as Raw;
/** Plain entries as objects; with `mixed`, only the first one. */
const older = (s: Raw, mixed = false): Raw => {
  let n = 0;
  return { ...s, addresses: (s.addresses as unknown[]).map((e) => (typeof e === "string" && (!mixed || n++ === 0) ? { address: e } : e)) };
};

describe.each([false, true])("rt3 FortigateAddressSet, earlier state (mixed: %s)", (mixed) => {
  const emu = useFortigateSetEmulator();
  const base = () => ({ ...fortigateSetBase(emu), addresses: [] });
  const members = (f: "ipv4" | "ipv6" = "ipv4", g = f === "ipv4" ? "jit-admins" : "jit6") => emu.backend.groupMembers("root", g, f).sort();

  it("refresh is no change; dropping an entry revokes it; delete leaves the foreign member only", async () => {
    emu.backend.createAddress("root", "ipv4", { name: "foreign", subnet: "192.0.2.9 255.255.255.255" });
    emu.backend.addMember("root", "ipv4", "jit-admins", "foreign");
    const list = ["203.0.113.7", "203.0.113.8", { address: "10.0.0.0/24", description: "office" }, "2001:db8::7"];
    const s = older(await run(fgt, base(), { addresses: list }), mixed);
    const r = await read(fgt, s);
    expect(r.missing).toEqual([]);
    expect((await fgt.diff("id", s as never, r as never)).changes).toBe(false);
    expect((await change(fgt, r, base(), { addresses: list })).changes).toBe(false);
    const u = await change(fgt, r, base(), { addresses: ["203.0.113.8", { address: "10.0.0.0/24", description: "office" }] });
    expect(u.changes).toBe(true);
    expect(members()).toEqual(["foreign", "grant-10.0.0.0_24", "grant-203.0.113.8"]);
    expect(members("ipv6")).toEqual([]);
    expect(emu.backend.getAddress("root", "ipv4", "grant-203.0.113.7")).toBeUndefined();
    await fgt.delete("id", older(u.outs, mixed) as never);
    expect(members()).toEqual(["foreign"]);
  });
});

describe("rt3 FortimanagerTrustedHostSet, earlier state", () => {
  const emu = useEmulator(() => startFortimanagerEmulator({ sysSessionForApiKeys: "answer" }));
  const base = () => ({
    connection: { url: emu.url, caCert: emu.caCert },
    credentials: { token: DEFAULT_CREDENTIALS.apiKey },
    adminUser: "alice",
    addresses: [],
    grantName: "th",
  });
  const hosts = () => JSON.stringify(emu.backend.admins.get("alice")!.slots);

  it.each([false, true])("mixed %s: refresh no change, a dropped address revoked, delete removes the rest", async (mixed) => {
    const s = older(await run(fmg, base(), { addresses: ["203.0.113.7", "203.0.113.8"] }), mixed);
    const r = await read(fmg, s);
    expect(r.missing).toEqual([]);
    expect((await fmg.diff("id", s as never, r as never)).changes).toBe(false);
    const u = await change(fmg, r, base(), { addresses: ["203.0.113.8"] });
    expect(u.changes).toBe(true);
    expect(hosts()).not.toContain("203.0.113.7");
    expect(hosts()).toContain("203.0.113.8");
    await fmg.delete("id", older(u.outs, mixed) as never);
    expect(hosts()).not.toContain("203.0.113.8");
  });
});

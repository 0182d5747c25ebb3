/**
 * `Grants` and `Grant` with `collect: true` (issue 22) under Pulumi's mocks: one set per target, whatever the
 * number of people; each entry carries its person's description and expiry; an address two people list is
 * one entry with both descriptions and the later end (none when one of them has none).
 */
import * as pulumi from "@pulumi/pulumi";

const created: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
pulumi.runtime.setMocks(
  {
    newResource: (a) => {
      created.push({ type: a.type, name: a.name, inputs: a.inputs });
      return { id: `${a.name}-id`, state: a.inputs };
    },
    call: () => ({}),
  },
  "project",
  "stack",
  false,
);

const { Grant } = require("../../provider/grant-component") as typeof import("../../provider/grant-component");
const { Grants } = require("../../provider/grants-component") as typeof import("../../provider/grants-component");

/** Lets the registrations of the resources constructed so far reach the mock monitor. */
const settle = () => new Promise((r) => setTimeout(r, 100));
const of = (type: string, prefix: string) => created.filter((c) => c.type === `pulumi-nodejs:dynamic/${type}` && c.name.startsWith(prefix));

test("100 people on 3 targets are 4 sets (OPNsense IPv4 and IPv6 aliases, a FortiGate group pair, a feed), each entry with its person", async () => {
  const people = Array.from({ length: 100 }, (_, i) => ({
    who: `p${i}`,
    addresses: [`10.1.${Math.floor(i / 200)}.${i + 1}`, ...(i === 0 ? ["2001:db8::1"] : [])],
    ticket: `CHG-${i}`,
    ...(i % 2 === 0 && { expiresAt: "2030-01-01T00:00:00Z" }),
  }));
  const g = new Grants("jit", {
    people,
    opnsense: [{ alias4: "jit_admins", alias6: "jit_admins6", method: "config" }],
    fortigate: [{ group: "jit-admins", group6: "jit6" }],
    fortigateFeeds: [{ feed: "jit-allow" }],
  });
  await settle();
  expect(g.sets.map((s) => `${s.kind} ${s.target}`).sort()).toEqual([
    "fortigate jit-admins+jit6",
    "fortigate-feed jit-allow",
    "opnsense jit_admins",
    "opnsense jit_admins6",
  ]);
  const [v4] = of("opnsense:AliasSet", "jit-opnsense-jit_admins").filter((c) => c.inputs.alias === "jit_admins");
  const entries = v4!.inputs.addresses as { address: string; description: string; expiresAt?: string }[];
  expect(entries).toHaveLength(100);
  expect(v4!.inputs).toMatchObject({ method: "config", alias: "jit_admins" });
  expect(entries[0]).toEqual({ address: "10.1.0.1", description: "p0 (CHG-0)", expiresAt: "2030-01-01T00:00:00Z" });
  expect(entries[1]).toEqual({ address: "10.1.0.2", description: "p1 (CHG-1)" });
  const [v6] = of("opnsense:AliasSet", "jit-opnsense-jit_admins6");
  expect(v6!.inputs.addresses).toEqual([{ address: "2001:db8::1", description: "p0 (CHG-0)", expiresAt: "2030-01-01T00:00:00Z" }]);
  const [fgt] = of("fortigate:AddressSet", "jit-fortigate");
  expect(fgt!.inputs).toMatchObject({ group: "jit-admins", group6: "jit6", namePrefix: "grant-" });
  expect(fgt!.inputs.addresses as unknown[]).toHaveLength(101);
  expect(of("fortigate:FeedSet", "jit-")).toHaveLength(1);
  // No per-entry child at all.
  expect(created.filter((c) => c.type.endsWith(":AliasEntry") || c.type.endsWith(":Address"))).toEqual([]);
});

test("people sharing an address: one entry, both descriptions, the later end; none when one of them has none", async () => {
  new Grants("nat", {
    people: [
      { who: "alice", addresses: ["203.0.113.7"], description: "on call", expiresAt: "2030-01-01T00:00:00Z" },
      { who: "bob", addresses: ["203.0.113.7/32", "203.0.113.8"], expiresAt: "2030-06-01T00:00:00Z" },
      { who: "carol", addresses: ["203.0.113.8"] },
    ],
    fortimanager: [{ adminUser: "breakglass" }],
  });
  await settle();
  const [set] = of("fortimanager:TrustedHostSet", "nat-");
  expect(set!.name).toBe("nat-fortimanager-breakglass");
  expect(set!.inputs.addresses).toEqual([
    { address: "203.0.113.7", description: "alice: on call; bob", expiresAt: "2030-06-01T00:00:00Z" },
    { address: "203.0.113.8", description: "bob; carol" },
  ]);
});

test("Grant with collect: one set per target, named by the target; a bad address names the person", async () => {
  const g = new Grant("dora", {
    who: "dora",
    addresses: ["198.51.100.4", "198.51.100.5"],
    ticket: "CHG-9",
    expiresAt: "2030-01-01T00:00:00Z",
    collect: true,
    opnsense: [{ alias: "jit_admins" }],
    fortimanagerFeeds: [{ devices: ["fgt-hq", "fgt-br1"], feed: "jit-allow", vdom: "root" }],
  });
  await settle();
  expect(g.children.map((c) => `${c.kind} ${c.target} ${c.address}`)).toEqual([
    "opnsense jit_admins 198.51.100.4",
    "opnsense jit_admins 198.51.100.5",
    "fortimanager-feed jit-allow on fgt-br1, fgt-hq 198.51.100.4",
    "fortimanager-feed jit-allow on fgt-br1, fgt-hq 198.51.100.5",
  ]);
  const [set] = of("opnsense:AliasSet", "dora-");
  expect(set!.name).toBe("dora-opnsense-jit_admins");
  expect(set!.inputs.addresses).toEqual([
    { address: "198.51.100.4", description: "dora (CHG-9)", expiresAt: "2030-01-01T00:00:00Z" },
    { address: "198.51.100.5", description: "dora (CHG-9)", expiresAt: "2030-01-01T00:00:00Z" },
  ]);
  const [feed] = of("fortimanager:FeedSet", "dora-");
  expect(feed!.name).toBe("dora-fortimanager-feed-jit-allow-fgt-br1+fgt-hq/root");
  expect(() => new Grants("bad", { people: [{ who: "eve", addresses: ["10.0.0.1\n10.0.0.2"] }], opnsense: [{ alias: "a" }] })).toThrow(
    /Grants bad: people\[0\] \(eve\): address/,
  );
  expect(() => new Grants("two", { people: [{ who: "gil", addresses: ["10.0.0.1"] }], fortigate: [{ group: "g1" }, { group: "g2" }] })).toThrow(
    /FortiGate targets g1 and g2 would share address objects .*namePrefix/,
  );
  expect(() => new Grants("m", { people: [{ who: "hal", addresses: ["10.0.0.1"] }], opnsense: [{ alias: "a" }, { alias: "a", method: "config" }] })).toThrow(
    /two opnsense targets are the same/,
  );
  expect(() => new Grants("v6", { people: [{ who: "fay", addresses: ["2001:db8::9"] }], opnsense: [{ alias4: "a" }] })).toThrow(/IPv6 alias/);
});

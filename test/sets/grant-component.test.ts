/**
 * The Grant component (issue 13) under Pulumi's mocks: one declaration fans out to one per-entry
 * child per target and address, IPv4/IPv6 go to the alias/group of their family, children of two
 * people sharing an address have distinct logical names (the lifecycle's shared-address rule) and,
 * on FortiGate, one object name.
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

test("fans out per target and address, choosing IPv4/IPv6 targets; shared addresses get distinct grant names", async () => {
  const alice = new Grant("alice", {
    who: "alice",
    addresses: ["203.0.113.7", "2001:db8::7", "203.0.113.7/32"],
    ticket: "CHG-1",
    opnsense: [{ alias4: "jit_admins", alias6: "jit_admins6" }],
    fortigate: [{ group: "jit-admins", group6: "jit-admins6" }],
    fortimanager: [{ adminUser: "alice" }],
  });
  const bob = new Grant("bob", { who: "bob", addresses: ["203.0.113.7"], fortigate: [{ group: "jit-admins" }] });
  await new Promise<void>((r) => alice.granted.apply(() => r()));
  await new Promise((r) => setTimeout(r, 50));
  expect(alice.children.map((c) => `${c.kind} ${c.target} ${c.address}`).sort()).toEqual([
    "fortigate jit-admins 203.0.113.7",
    "fortigate jit-admins6 2001:db8::7",
    "fortimanager alice 2001:db8::7",
    "fortimanager alice 203.0.113.7",
    "opnsense jit_admins 203.0.113.7",
    "opnsense jit_admins6 2001:db8::7",
  ]);
  const fgt = created.filter((c) => c.type === "pulumi-nodejs:dynamic/fortigate:Address" && c.inputs.address === "203.0.113.7");
  expect(fgt.map((c) => c.inputs.name)).toEqual(["grant-203.0.113.7", "grant-203.0.113.7"]);
  expect(new Set(fgt.map((c) => c.inputs.grantName)).size).toBe(2);
  expect(fgt.find((c) => String(c.inputs.grantName).startsWith("alice"))!.inputs.description).toBe("alice (CHG-1)");
  expect(bob.children).toHaveLength(1);
});

test("an address with no target of its family, or a hostile address, is refused at construction", () => {
  expect(() => new Grant("x", { who: "x", addresses: ["2001:db8::9"], opnsense: [{ alias4: "jit_admins" }] })).toThrow(/IPv6 alias/);
  expect(() => new Grant("y", { who: "y", addresses: ["10.0.0.1\n10.0.0.2"], opnsense: [{ alias: "jit_admins" }] })).toThrow(/address/);
});

test("feed targets: IPv4 and IPv6 go into the same feed, directly and through FortiManager; two people sharing an address get distinct grant names", async () => {
  const carol = new Grant("carol", {
    who: "carol",
    addresses: ["203.0.113.70", "2001:db8::70"],
    fortigateFeeds: [{ feed: "jit-allow" }],
    fortimanagerFeeds: [{ devices: ["fgt-hq", "fgt-br1"], feed: "jit-allow", vdom: "root" }],
  });
  const dave = new Grant("dave", { who: "dave", addresses: ["203.0.113.70"], fortigateFeeds: [{ feed: "jit-allow" }] });
  await new Promise<void>((r) => carol.granted.apply(() => r()));
  await new Promise((r) => setTimeout(r, 50));
  expect(carol.children.map((c) => `${c.kind} ${c.target} ${c.address}`).sort()).toEqual([
    "fortigate-feed jit-allow 2001:db8::70",
    "fortigate-feed jit-allow 203.0.113.70",
    "fortimanager-feed jit-allow on fgt-br1, fgt-hq 2001:db8::70",
    "fortimanager-feed jit-allow on fgt-br1, fgt-hq 203.0.113.70",
  ]);
  const fgt = created.filter((c) => c.type === "pulumi-nodejs:dynamic/fortigate:FeedEntry" && c.inputs.address === "203.0.113.70");
  expect(fgt.map((c) => c.inputs.feed)).toEqual(["jit-allow", "jit-allow"]);
  expect(new Set(fgt.map((c) => c.inputs.grantName)).size).toBe(2);
  const fmg = created.filter((c) => c.type === "pulumi-nodejs:dynamic/fortimanager:FeedEntry");
  expect(fmg).toHaveLength(2);
  expect(fmg[0]!.inputs).toMatchObject({ devices: ["fgt-hq", "fgt-br1"], feed: "jit-allow", vdom: "root", description: "carol" });
  expect(dave.children).toHaveLength(1);
});

test("FortiGate targets that share an object name each other's groups (so destroy can remove them all), targets with their own objects do not", async () => {
  const erin = new Grant("erin", {
    who: "erin",
    addresses: ["203.0.113.77", "2001:db8::77"],
    fortigate: [
      { group: "g1", group6: "g1v6" },
      { group: "g2", group6: "g1v6" },
      { group: "g3", namePrefix: "other-" },
    ],
  });
  await new Promise<void>((r) => erin.granted.apply(() => r()));
  await new Promise((r) => setTimeout(r, 50));
  const mine = created.filter((c) => c.type === "pulumi-nodejs:dynamic/fortigate:Address" && String(c.inputs.grantName).startsWith("erin-"));
  const by = (group: string, address: string) => mine.find((c) => c.inputs.group === group && c.inputs.address === address)!.inputs.sharedObjectGroups;
  expect(by("g1", "203.0.113.77")).toEqual(["g2"]);
  expect(by("g2", "203.0.113.77")).toEqual(["g1"]);
  expect(by("g3", "203.0.113.77")).toBeUndefined();
  // Two targets with one IPv6 group: one membership, two declarations of it (the shared-address rule), no other group.
  expect(mine.filter((c) => c.inputs.address === "2001:db8::77").map((c) => c.inputs.sharedObjectGroups)).toEqual([undefined, undefined, undefined]);
});

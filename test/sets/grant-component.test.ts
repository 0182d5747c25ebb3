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

const { GRANT_COMPONENT_TYPE } = require("../../policy") as typeof import("../../policy");
const { Grant } = require("../../provider/grant-component") as typeof import("../../provider/grant-component");

/** The aliases each resource registered with, by logical name (the mock monitor does not pass them to `newResource`). */
const aliasesOf = new Map<string, string[]>();
{
  const monitor = (require("@pulumi/pulumi/runtime/settings") as { getMonitor(): any }).getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, cb: unknown) => {
    aliasesOf.set(
      req.getName(),
      req.getAliasesList().map((a: any) => a.getSpec()?.getName() ?? a.getUrn()),
    );
    return register(req, cb);
  };
}
/** Lets the registrations of the resources constructed so far reach the mock monitor. */
const settle = () => new Promise((r) => setTimeout(r, 100));

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
  // The policy pack checks the description once, on the Grant: its inputs carry what every child carries.
  const component = created.find((c) => c.type === GRANT_COMPONENT_TYPE && c.name === "alice");
  expect(component?.inputs).toEqual({ who: "alice", ticket: "CHG-1", grantDescription: "alice (CHG-1)" });
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

describe("children are named by what they are (issue 20)", () => {
  const targets = {
    opnsense: [{ alias: "jit_admins" }],
    fortigate: [{ group: "jit-admins", group6: "jit-admins6" }],
    fortimanager: [{ adminUser: "alice" }],
    fortigateFeeds: [{ feed: "jit-allow" }],
    fortimanagerFeeds: [{ devices: ["fgt-hq", "fgt-br1"], feed: "jit-allow" }],
  };
  const namesOf = (g: InstanceType<typeof Grant>) =>
    new Map(g.children.map((c) => [`${c.kind} ${c.target} ${c.address}`, (c.resource as any).__name as string]));

  test("putting a new target first, or reordering targets, renames no existing child", async () => {
    const before = new Grant("erin", { who: "erin", addresses: ["203.0.113.9", "2001:db8::9"], ...targets });
    const after = new Grant("erin2", {
      who: "erin",
      addresses: ["2001:db8::9", "203.0.113.9"],
      opnsense: [{ alias: "jit_new", connection: { url: "https://fw2.example.net:8443" } }, ...targets.opnsense],
      fortigate: [{ group: "jit-new" }, ...targets.fortigate],
      fortimanager: [{ adminUser: "zoe" }, ...targets.fortimanager],
      fortigateFeeds: [{ feed: "jit-new" }, ...targets.fortigateFeeds],
      fortimanagerFeeds: [{ devices: ["fgt-br2"], feed: "jit-allow" }, ...targets.fortimanagerFeeds],
    });
    await settle();
    const old = namesOf(before);
    const now = namesOf(after);
    expect(old.size).toBe(10);
    for (const [what, n] of old) expect(now.get(what)).toBe(n.replace(/^erin-/, "erin2-"));
    expect([...old.values()].sort()).toEqual([
      "erin-fortigate-feed-jit-allow-2001-db8--9",
      "erin-fortigate-feed-jit-allow-203-0-113-9",
      "erin-fortigate-jit-admins-203-0-113-9",
      "erin-fortigate-jit-admins6-2001-db8--9",
      "erin-fortimanager-alice-2001-db8--9",
      "erin-fortimanager-alice-203-0-113-9",
      "erin-fortimanager-feed-jit-allow-fgt-br1+fgt-hq-2001-db8--9",
      "erin-fortimanager-feed-jit-allow-fgt-br1+fgt-hq-203-0-113-9",
      "erin-opnsense-jit_admins-2001-db8--9",
      "erin-opnsense-jit_admins-203-0-113-9",
    ]);
    expect(now.get("opnsense jit_new 203.0.113.9")).toBe("erin2-opnsense-jit_new@fw2.example.net-8443-203-0-113-9");
  });

  test("the index-based names of earlier versions are aliases, for every position only that child could have had", async () => {
    const g = new Grant("frank", {
      who: "frank",
      addresses: ["203.0.113.10"],
      opnsense: [{ alias: "jit_new" }, { alias: "jit_admins" }],
      fortigate: [{ group: "jit-admins" }],
      fortimanager: [{ adminUser: "alice" }],
      fortigateFeeds: [{ feed: "jit-allow" }],
      fortimanagerFeeds: [{ devices: ["fgt-hq"], feed: "jit-allow" }],
    });
    await settle();
    const names = namesOf(g);
    const aliases = (what: string) => aliasesOf.get(names.get(what)!);
    // Was first before the new alias was put in front, or second after: both old names map to it.
    expect(aliases("opnsense jit_admins 203.0.113.10")).toEqual(["frank-opn0-jit_admins-203-0-113-10", "frank-opn1-jit_admins-203-0-113-10"]);
    expect(aliases("fortigate jit-admins 203.0.113.10")).toEqual(["frank-fgt0-jit-admins-203-0-113-10"]);
    expect(aliases("fortimanager alice 203.0.113.10")).toEqual(["frank-fmg0-alice-203-0-113-10"]);
    expect(aliases("fortigate-feed jit-allow 203.0.113.10")).toEqual(["frank-fgtfeed0-jit-allow-203-0-113-10"]);
    expect(aliases("fortimanager-feed jit-allow on fgt-hq 203.0.113.10")).toEqual(["frank-fmgfeed0-jit-allow-203-0-113-10"]);
  });

  test("an old name two children could have had is an alias of neither; two identical targets are refused", async () => {
    const g = new Grant("gina", {
      who: "gina",
      addresses: ["203.0.113.11"],
      opnsense: [
        { alias: "jit_admins", connection: { url: "https://fw1.example.net" } },
        { alias: "jit_admins", connection: { url: "https://fw2.example.net" } },
      ],
    });
    await settle();
    for (const c of g.children) expect(aliasesOf.get((c.resource as any).__name)).toEqual([]);
    expect(g.children.map((c) => (c.resource as any).__name)).toEqual([
      "gina-opnsense-jit_admins@fw1.example.net-203-0-113-11",
      "gina-opnsense-jit_admins@fw2.example.net-203-0-113-11",
    ]);
    expect(() => new Grant("hal", { who: "hal", addresses: ["203.0.113.12"], opnsense: [{ alias: "jit_admins" }, { alias: "jit_admins" }] })).toThrow(
      /two opnsense targets are the same \(jit_admins, 203\.0\.113\.12\)/,
    );
  });
});

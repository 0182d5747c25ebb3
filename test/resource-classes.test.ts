/**
 * Every resource class as a Pulumi program registers it (issue 17 "one declaration per resource", issue
 * 22): the fixed type token, the same inputs as before the declarations (existing stacks must read the
 * same state), credentials only as a secret, the output properties, and ONE provider object per process
 * however many instances a program declares.
 */
import * as pulumi from "@pulumi/pulumi";
import * as dynamicKit from "../provider/core/dynamic-kit";
import { resourceDeclarations } from "../provider/core/define-resource";

type Registered = pulumi.runtime.MockResourceArgs;
const registered: Registered[] = [];
const shimSpy = jest.spyOn(dynamicKit, "providerShim");

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    { newResource: (a) => (registered.push(a), { id: `${a.name}-id`, state: a.inputs }), call: (a) => a.inputs },
    "proj",
    "stack",
    true,
  );
});

const opn = { url: "https://fw.example", apiKey: "key-1", apiSecret: pulumi.secret("opn-secret-1") };
const fgt = { url: "https://fgt.example", token: pulumi.secret("fgt-secret-1") };
const fmg = { url: "https://fmg.example", token: pulumi.secret("fmg-secret-1") };
const SECRETS = ["opn-secret-1", "fgt-secret-1", "fmg-secret-1"];

interface Case {
  readonly load: () => Promise<Record<string, unknown>>;
  readonly cls: string;
  readonly token: string;
  readonly args: Record<string, unknown>;
  /** The inputs registered (those with a value), as the classes registered them before the declarations. */
  readonly inputs: Record<string, unknown>;
  /** Output properties the instance must have. */
  readonly outputs: readonly string[];
}

const CASES: Case[] = [
  {
    load: () => import("../provider/devices/opnsense/resource"),
    cls: "OpnsenseAliasEntry",
    token: "opnsense:AliasEntry",
    args: { connection: opn, alias: "jit_admins", address: "203.0.113.7" },
    inputs: { connection: { url: opn.url }, alias: "jit_admins", address: "203.0.113.7", method: "table" },
    outputs: ["alias", "address", "method", "description", "expiresAt", "cidr", "host", "aliasUuid", "aliasType", "adopted", "device", "expired"],
  },
  {
    load: () => import("../provider/devices/opnsense/set-resource"),
    cls: "OpnsenseAliasSet",
    token: "opnsense:AliasSet",
    args: { connection: opn, alias: "jit_admins", addresses: ["203.0.113.7"] },
    inputs: { connection: { url: opn.url }, alias: "jit_admins", method: "table", addresses: ["203.0.113.7"], exclusive: false },
    outputs: ["alias", "method", "addresses", "exclusive", "unexpected", "missing", "adopted", "aliasUuid", "aliasType", "device", "expired"],
  },
  {
    load: () => import("../provider/devices/opnsense/set-resource"),
    cls: "OpnsenseAliasGuard",
    token: "opnsense:AliasGuard",
    args: { connection: opn, alias: "jit_admins", grants: [{ address: pulumi.output("203.0.113.7") }] },
    inputs: { connection: { url: opn.url }, alias: "jit_admins", method: "table", addresses: ["203.0.113.7"], exclusive: true, guard: true, allowBroad: true },
    outputs: ["alias", "unexpected", "device"],
  },
  {
    load: () => import("../provider/devices/fortigate/resource"),
    cls: "FortigateAddress",
    token: "fortigate:Address",
    args: { connection: fgt, name: "grant-alice", address: "203.0.113.7" },
    inputs: { connection: { url: fgt.url }, name: "grant-alice", address: "203.0.113.7" },
    outputs: [
      "name",
      "address",
      "cidr",
      "family",
      "vdom",
      "group",
      "comment",
      "adopted",
      "membershipAdded",
      "member",
      "objectPath",
      "uuid",
      "description",
      "expiresAt",
      "device",
      "expired",
    ],
  },
  {
    load: () => import("../provider/devices/fortigate/feed-resource"),
    cls: "FortigateFeedEntry",
    token: "fortigate:FeedEntry",
    args: { connection: fgt, feed: "jit-allow", address: "203.0.113.7" },
    inputs: { connection: { url: fgt.url }, feed: "jit-allow", address: "203.0.113.7" },
    outputs: ["feed", "address", "cidr", "family", "vdom", "entry", "adopted", "description", "expiresAt", "device", "expired"],
  },
  {
    load: () => import("../provider/devices/fortigate/set-resource"),
    cls: "FortigateAddressSet",
    token: "fortigate:AddressSet",
    args: { connection: fgt, group: "jit-admins", addresses: ["203.0.113.7"] },
    inputs: { connection: { url: fgt.url }, group: "jit-admins", namePrefix: "grant-", addresses: ["203.0.113.7"], exclusive: false },
    outputs: ["group", "addresses", "exclusive", "unexpected", "missing", "adopted", "device", "expired"],
  },
  {
    load: () => import("../provider/devices/fortigate/set-resource"),
    cls: "FortigateGroupGuard",
    token: "fortigate:GroupGuard",
    args: { connection: fgt, group: "jit-admins", grants: [{ name: pulumi.output("grant-alice"), address: "203.0.113.7" }] },
    inputs: {
      connection: { url: fgt.url },
      group: "jit-admins",
      namePrefix: "grant-",
      addresses: [{ address: "203.0.113.7", name: "grant-alice" }],
      exclusive: true,
      guard: true,
      allowBroad: true,
    },
    outputs: ["group", "unexpected", "device"],
  },
  {
    load: () => import("../provider/devices/fortigate/feed-set"),
    cls: "FortigateFeedSet",
    token: "fortigate:FeedSet",
    args: { connection: fgt, feed: "jit-allow", addresses: ["203.0.113.7"] },
    inputs: { connection: { url: fgt.url }, feed: "jit-allow", addresses: ["203.0.113.7"], exclusive: false },
    outputs: ["feed", "addresses", "exclusive", "unexpected", "missing", "adopted", "device", "expired"],
  },
  {
    load: () => import("../provider/devices/fortimanager/resource"),
    cls: "FortimanagerTrustedHost",
    token: "fortimanager:TrustedHost",
    args: { connection: fmg, adminUser: "alice", address: "203.0.113.7" },
    inputs: { connection: { url: fmg.url }, adminUser: "alice", address: "203.0.113.7" },
    outputs: ["adminUser", "address", "cidr", "family", "slot", "adopted", "description", "expiresAt", "device", "expired"],
  },
  {
    load: () => import("../provider/devices/fortimanager/feed-resource"),
    cls: "FortimanagerFeedEntry",
    token: "fortimanager:FeedEntry",
    args: { connection: fmg, devices: ["fgt-hq"], feed: "jit-allow", address: "203.0.113.7" },
    inputs: { connection: { url: fmg.url }, devices: ["fgt-hq"], feed: "jit-allow", address: "203.0.113.7" },
    outputs: ["devices", "vdom", "feed", "address", "cidr", "family", "adom", "heldBy", "adopted", "description", "expiresAt", "device", "expired"],
  },
  {
    load: () => import("../provider/devices/fortimanager/set-resource"),
    cls: "FortimanagerTrustedHostSet",
    token: "fortimanager:TrustedHostSet",
    args: { connection: fmg, adminUser: "alice", addresses: ["203.0.113.7"] },
    inputs: { connection: { url: fmg.url }, adminUser: "alice", addresses: ["203.0.113.7"], exclusive: false },
    outputs: ["adminUser", "addresses", "exclusive", "unexpected", "missing", "adopted", "device", "expired"],
  },
  {
    load: () => import("../provider/devices/fortimanager/set-resource"),
    cls: "FortimanagerTrustedHostGuard",
    token: "fortimanager:TrustedHostGuard",
    args: { connection: fmg, adminUser: "alice", grants: [{ address: pulumi.output("203.0.113.7") }] },
    inputs: { connection: { url: fmg.url }, adminUser: "alice", addresses: ["203.0.113.7"], exclusive: true, guard: true, allowBroad: true },
    outputs: ["adminUser", "unexpected", "device"],
  },
  {
    load: () => import("../provider/devices/fortimanager/feed-set"),
    cls: "FortimanagerFeedSet",
    token: "fortimanager:FeedSet",
    args: { connection: fmg, devices: ["fgt-hq"], feed: "jit-allow", addresses: ["203.0.113.7"] },
    inputs: { connection: { url: fmg.url }, devices: ["fgt-hq"], feed: "jit-allow", addresses: ["203.0.113.7"], exclusive: false },
    outputs: ["devices", "vdom", "feed", "addresses", "exclusive", "unexpected", "missing", "adopted", "device", "expired"],
  },
];

async function settled(r: pulumi.CustomResource): Promise<void> {
  await new Promise<void>((resolve) => r.urn.apply(() => resolve()));
}

describe.each(CASES)("$cls", (c) => {
  it("registers its type token, the inputs it always did, credentials only as a secret, and its outputs", async () => {
    const Cls = (await c.load())[c.cls] as new (n: string, a: unknown) => pulumi.CustomResource;
    const name = `${c.cls}-one`;
    const r = new Cls(name, c.args);
    await settled(r);
    const reg = registered.find((a) => a.name === name)!;
    expect(reg.type).toBe(`pulumi-nodejs:dynamic/${c.token}`);
    const { credentials, __provider, grantName, ...rest } = reg.inputs as Record<string, unknown>;
    expect(rest).toEqual(c.inputs);
    expect(grantName).toBe(name);
    expect(typeof __provider).toBe("string");
    expect(credentials).toBeDefined();
    for (const s of SECRETS) expect(JSON.stringify(rest)).not.toContain(s);
    expect(await pulumi.isSecret((r as unknown as { credentials: pulumi.Output<unknown> }).credentials)).toBe(true);
    for (const o of c.outputs) expect(pulumi.Output.isInstance((r as unknown as Record<string, unknown>)[o])).toBe(true);
  });

  it("shares one provider object between instances (one shim per process)", async () => {
    const Cls = (await c.load())[c.cls] as new (n: string, a: unknown) => pulumi.CustomResource;
    new Cls(`${c.cls}-a`, c.args);
    const before = shimSpy.mock.calls.length;
    await settled(new Cls(`${c.cls}-b`, c.args));
    expect(shimSpy.mock.calls.length).toBe(before);
  });
});

it("lists every declaration with its token, provider export and described outputs", async () => {
  for (const c of CASES) await c.load();
  const tokens = resourceDeclarations().map((d) => d.token);
  for (const c of CASES) expect(tokens).toContain(`pulumi-nodejs:dynamic/${c.token}`);
  for (const d of resourceDeclarations()) {
    expect(d.secretInputs).toContain("credentials");
    for (const [k, text] of Object.entries(d.outputs)) expect([k, text.length > 10]).toEqual([k, true]);
    const schema = d.inputJsonSchema() as { properties?: Record<string, { description?: string }> };
    for (const k of [...d.identity, "description", "expiresAt"]) expect(Object.keys(schema.properties ?? {})).toContain(k);
    for (const k of ["description", "expiresAt"]) expect(schema.properties?.[k]?.description).toMatch(/\w{4}/);
  }
});

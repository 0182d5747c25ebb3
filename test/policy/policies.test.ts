/**
 * The policy pack's rules, called as @pulumi/policy calls them (type token, inputs, the policy's
 * config = schema defaults overridden by `--policy-pack-config`). The real CLI runs the shipped pack
 * in test/engine/package.test.ts.
 */
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import {
  firewallGrantsPolicies,
  GRANT_COMPONENT_TYPE,
  GRANT_TYPES,
  grantResourceOf,
  matchesPattern,
  POLICY_NAMES,
  type FirewallGrantsPolicyOptions,
} from "../../policy";

const NOW = Date.parse("2026-12-01T12:00:00Z");
const inDays = (d: number) => new Date(NOW + d * 86_400_000).toISOString();

const GOOD = {
  opnsense: { connection: { url: "https://fw1.example.net" }, alias: "jit_admins", address: "203.0.113.7", description: "alice, OPS-1", expiresAt: inDays(2) },
  fortigate: { name: "grant-alice", address: "203.0.113.7", group: "jit-admins", comment: "JIT", description: "alice, OPS-1", expiresAt: inDays(2) },
  fortimanager: { connection: {}, adminUser: "alice", address: "2001:db8::7", description: "alice, OPS-1", expiresAt: inDays(2) },
  fortigateFeed: { feed: "jit-feed", address: "203.0.113.7", description: "alice, OPS-1", expiresAt: inDays(2) },
  fortimanagerFeed: { connection: {}, devices: ["fgt-1"], feed: "jit-feed", address: "203.0.113.7", description: "alice, OPS-1", expiresAt: inDays(2) },
};

/** Runs every policy on one resource; returns `policy: message` per violation. */
function violations(
  type: string,
  props: Record<string, unknown>,
  config: Record<string, Record<string, unknown>> = {},
  options?: FirewallGrantsPolicyOptions,
  where: { urn?: string; parent?: string } = {},
): string[] {
  const out: string[] = [];
  for (const policy of firewallGrantsPolicies(options) as ResourceValidationPolicy[]) {
    const defaults = Object.fromEntries(Object.entries(policy.configSchema?.properties ?? {}).map(([k, v]) => [k, (v as { default?: unknown }).default]));
    const args = {
      type,
      props,
      urn: where.urn ?? `urn:pulumi:dev::p::${type}::r`,
      name: "r",
      opts: { parent: where.parent, protect: false, ignoreChanges: [], aliases: [], additionalSecretOutputs: [] },
      getConfig: () => ({ ...defaults, ...config[policy.name] }),
    } as unknown as ResourceValidationArgs;
    const validations = [policy.validateResource ?? []].flat();
    for (const v of validations) void v(args, (message: string) => out.push(`${policy.name}: ${message}`));
  }
  return out;
}

describe("policy pack rules", () => {
  // The pack reads only the system clock, so the tests move the system clock (Date only).
  beforeAll(() => jest.useFakeTimers({ now: NOW, doNotFake: ["setTimeout", "setInterval", "setImmediate", "nextTick", "queueMicrotask"] }));
  afterAll(() => jest.useRealTimers());

  test("recognises the grant resources by type token and nothing else", () => {
    expect(grantResourceOf("pulumi-nodejs:dynamic/fortigate:FeedEntry")).toBe("FortigateFeedEntry");
    expect(grantResourceOf("pulumi-nodejs:dynamic/fortimanager:FeedEntry")).toBe("FortimanagerFeedEntry");
    expect(grantResourceOf("pulumi-nodejs:dynamic/opnsense:AliasEntry")).toBe("OpnsenseAliasEntry");
    expect(grantResourceOf(GRANT_TYPES.FortimanagerTrustedHost)).toBe("FortimanagerTrustedHost");
    expect(grantResourceOf("pulumi-nodejs:dynamic:Resource")).toBeUndefined();
    expect(violations("pulumi-nodejs:dynamic:Resource", { address: "0.0.0.0/0" })).toEqual([]);
    expect(violations("aws:ec2/securityGroup:SecurityGroup", {})).toEqual([]);
  });

  test("every resource class of the package has its type token in GRANT_TYPES (a new resource is not missed)", () => {
    // Every resource class is one declaration (provider/core/define-resource.ts), registered when its module loads:
    // the package root loads a device's modules on the first read of one of their exports, so read every export.
    const root = require("../../provider/index") as Record<string, unknown>;
    for (const name of Object.keys(root)) void root[name];
    const { resourceDeclarations } = require("../../provider/core/define-resource") as typeof import("../../provider/core/define-resource");
    const tokens = resourceDeclarations().map((d) => d.token);
    expect(tokens.length).toBeGreaterThanOrEqual(13);
    expect(tokens.filter((t) => grantResourceOf(t) === undefined)).toEqual([]);
  });

  test("compliant grants on all three devices pass every rule", () => {
    expect(violations(GRANT_TYPES.OpnsenseAliasEntry, GOOD.opnsense)).toEqual([]);
    expect(violations(GRANT_TYPES.FortigateAddress, GOOD.fortigate)).toEqual([]);
    expect(violations(GRANT_TYPES.FortimanagerTrustedHost, GOOD.fortimanager)).toEqual([]);
    expect(violations(GRANT_TYPES.FortigateFeedEntry, GOOD.fortigateFeed)).toEqual([]);
    expect(violations(GRANT_TYPES.FortimanagerFeedEntry, GOOD.fortimanagerFeed)).toEqual([]);
  });

  test("feed entries get every rule: prefix, description, expiry, allowed feeds, no insecure", () => {
    const bad = { ...GOOD.fortimanagerFeed, address: "10.0.0.0/8", description: "", expiresAt: undefined, feed: "all-hosts", connection: { insecure: true } };
    expect(violations(GRANT_TYPES.FortimanagerFeedEntry, bad, { [POLICY_NAMES.targets]: { feeds: ["jit-*"] } }).map((v) => v.split(":")[0])).toEqual([
      POLICY_NAMES.prefix,
      POLICY_NAMES.description,
      POLICY_NAMES.expiry,
      POLICY_NAMES.targets,
      POLICY_NAMES.insecure,
    ]);
    expect(violations(GRANT_TYPES.FortigateFeedEntry, { ...GOOD.fortigateFeed, feed: "other" }, { [POLICY_NAMES.targets]: { feeds: ["jit-*"] } })).toEqual([
      `${POLICY_NAMES.targets}: feed "other" is not an allowed target; allowed: jit-* (policy config ${POLICY_NAMES.targets}.feeds)`,
    ]);
  });

  test("sets: every address is a grant (prefix, description of its own or the set's); guards get only the TLS rule", () => {
    const set = {
      connection: {},
      alias: "jit_admins",
      addresses: ["203.0.113.7", { address: "10.0.0.0/16", description: "vendor" }, "2001:db8::/40"],
      description: "on call, OPS-7",
      expiresAt: inDays(2),
    };
    const ticket = { [POLICY_NAMES.description]: { pattern: "OPS-\\d+" } };
    expect(violations(GRANT_TYPES.OpnsenseAliasSet, set, ticket)).toEqual([
      `${POLICY_NAMES.prefix}: addresses[1]: address 10.0.0.0/16 is broader than /24, the broadest IPv4 prefix allowed (policy config ${POLICY_NAMES.prefix}.broadestIpv4Prefix)`,
      `${POLICY_NAMES.prefix}: addresses[2]: address 2001:db8::/40 is broader than /64, the broadest IPv6 prefix allowed (policy config ${POLICY_NAMES.prefix}.broadestIpv6Prefix)`,
      `${POLICY_NAMES.description}: addresses[1]: description "vendor" does not match ${JSON.stringify("OPS-\\d+")} (policy config ${POLICY_NAMES.description}.pattern)`,
    ]);
    expect(
      violations(
        GRANT_TYPES.FortigateAddressSet,
        { group: "jit-admins", group6: "vpn6", addresses: ["203.0.113.7"], description: "x", expiresAt: inDays(60) },
        { [POLICY_NAMES.targets]: { fortigateGroups: ["jit-admins"] } },
      ),
    ).toEqual([
      expect.stringMatching(/^firewall-grants-expiry: expiresAt \S+ is 60 days ahead/),
      expect.stringContaining('address group "vpn6" is not an allowed target'),
    ]);
    expect(violations(GRANT_TYPES.FortimanagerTrustedHostSet, { adminUser: "alice", addresses: [] }).map((v) => v.split(":")[0])).toEqual([
      POLICY_NAMES.expiry,
    ]);
    // A guard only removes: no description, expiry, prefix or target rule, but TLS still counts.
    const guard = { connection: {}, alias: "anything", addresses: ["0.0.0.0/0"], exclusive: true, guard: true };
    expect(violations(GRANT_TYPES.OpnsenseAliasGuard, guard, { [POLICY_NAMES.targets]: { opnsenseAliases: [] } })).toEqual([]);
    expect(violations(GRANT_TYPES.FortigateGroupGuard, { ...guard, connection: { insecure: true } })).toEqual([
      expect.stringMatching(/^firewall-grants-no-insecure:/),
    ]);
  });

  test("broadest prefix: /24 by default, configurable per family", () => {
    expect(violations(GRANT_TYPES.OpnsenseAliasEntry, { ...GOOD.opnsense, address: "10.20.0.0/16" })).toEqual([
      `${POLICY_NAMES.prefix}: address 10.20.0.0/16 is broader than /24, the broadest IPv4 prefix allowed (policy config ${POLICY_NAMES.prefix}.broadestIpv4Prefix)`,
    ]);
    expect(violations(GRANT_TYPES.OpnsenseAliasEntry, { ...GOOD.opnsense, address: "198.51.100.0/24" })).toEqual([]);
    expect(violations(GRANT_TYPES.FortimanagerTrustedHost, { ...GOOD.fortimanager, address: "2001:db8::/48" })).toEqual([
      expect.stringContaining("broader than /64, the broadest IPv6 prefix"),
    ]);
    expect(
      violations(GRANT_TYPES.OpnsenseAliasEntry, { ...GOOD.opnsense, address: "198.51.100.0/24" }, { [POLICY_NAMES.prefix]: { broadestIpv4Prefix: 32 } }),
    ).toHaveLength(1);
    expect(violations(GRANT_TYPES.OpnsenseAliasEntry, { ...GOOD.opnsense, address: "10.20.0.0/16" }, {}, { prefix: { broadestIpv4Prefix: 16 } })).toEqual([]);
    // What the resource's own check refuses (not an address) is left to it.
    expect(violations(GRANT_TYPES.OpnsenseAliasEntry, { ...GOOD.opnsense, address: "fw.example.net" })).toEqual([]);
  });

  test("description: required, FortiGate's comment counts, pattern configurable", () => {
    expect(violations(GRANT_TYPES.FortimanagerTrustedHost, { ...GOOD.fortimanager, description: undefined })).toEqual([
      expect.stringMatching(/^firewall-grants-description: the grant has no description/),
    ]);
    expect(violations(GRANT_TYPES.OpnsenseAliasEntry, { ...GOOD.opnsense, description: "  " })).toHaveLength(1);
    expect(violations(GRANT_TYPES.FortigateAddress, { ...GOOD.fortigate, description: undefined, comment: "ticket OPS-9" })).toEqual([]);
    const ticket = { [POLICY_NAMES.description]: { pattern: "\\bOPS-\\d+\\b" } };
    expect(violations(GRANT_TYPES.OpnsenseAliasEntry, { ...GOOD.opnsense, description: "alice" }, ticket)).toEqual([
      `${POLICY_NAMES.description}: description "alice" does not match "\\\\bOPS-\\\\d+\\\\b" (policy config ${POLICY_NAMES.description}.pattern)`,
    ]);
    expect(violations(GRANT_TYPES.OpnsenseAliasEntry, GOOD.opnsense, ticket)).toEqual([]);
  });

  test("expiry: required, at most maxDays ahead (30 by default), on the system clock", () => {
    expect(violations(GRANT_TYPES.OpnsenseAliasEntry, { ...GOOD.opnsense, expiresAt: undefined })).toEqual([
      expect.stringMatching(/^firewall-grants-expiry: the grant has no expiresAt: set it to a time at most 30 days ahead/),
    ]);
    expect(violations(GRANT_TYPES.FortigateAddress, { ...GOOD.fortigate, expiresAt: inDays(29.9) })).toEqual([]);
    expect(violations(GRANT_TYPES.FortigateAddress, { ...GOOD.fortigate, expiresAt: inDays(45) })).toEqual([
      `${POLICY_NAMES.expiry}: expiresAt ${inDays(45)} is 45 days ahead; at most 30 days are allowed (policy config ${POLICY_NAMES.expiry}.maxDays)`,
    ]);
    expect(violations(GRANT_TYPES.FortigateAddress, { ...GOOD.fortigate, expiresAt: inDays(3) }, { [POLICY_NAMES.expiry]: { maxDays: 0.5 } })).toHaveLength(1);
    // Unparsable times are the resource's check's business.
    expect(violations(GRANT_TYPES.FortigateAddress, { ...GOOD.fortigate, expiresAt: "tomorrow" })).toEqual([]);
  });

  test.each(["FIREWALL_GRANTS_TEST_NOW", "FIREWALL_GRANTS_NOW"])(
    "expiry: %s in the environment does not move the pack's clock (a 2099 date still fails)",
    (env) => {
      const saved = process.env[env];
      process.env[env] = "2099-01-01T00:00:00Z";
      try {
        expect(violations(GRANT_TYPES.OpnsenseAliasEntry, { ...GOOD.opnsense, expiresAt: "2099-01-02T00:00:00Z" })).toEqual([
          expect.stringMatching(/^firewall-grants-expiry: expiresAt 2099-01-02T00:00:00Z is \d+ days ahead; at most 30 days/),
        ]);
      } finally {
        if (saved === undefined) delete process.env[env];
        else process.env[env] = saved;
      }
    },
  );

  test("allowed targets: unrestricted unless listed, `*` wildcards, per device", () => {
    const cfg = { [POLICY_NAMES.targets]: { opnsenseAliases: ["jit_*"], fortigateGroups: ["jit-admins"], fortimanagerAdmins: ["bob"] } };
    expect(violations(GRANT_TYPES.OpnsenseAliasEntry, { ...GOOD.opnsense, alias: "blocklist" })).toEqual([]);
    expect(violations(GRANT_TYPES.OpnsenseAliasEntry, GOOD.opnsense, cfg)).toEqual([]);
    expect(violations(GRANT_TYPES.OpnsenseAliasEntry, { ...GOOD.opnsense, alias: "mgmt_admins" }, cfg)).toEqual([
      `${POLICY_NAMES.targets}: alias "mgmt_admins" is not an allowed target; allowed: jit_* (policy config ${POLICY_NAMES.targets}.opnsenseAliases)`,
    ]);
    expect(violations(GRANT_TYPES.FortigateAddress, { ...GOOD.fortigate, group: "vpn-admins" }, cfg)).toEqual([
      expect.stringContaining('address group "vpn-admins" is not an allowed target'),
    ]);
    expect(violations(GRANT_TYPES.FortigateAddress, { ...GOOD.fortigate, group: undefined }, cfg)).toEqual([]);
    expect(violations(GRANT_TYPES.FortimanagerTrustedHost, GOOD.fortimanager, cfg)).toEqual([
      expect.stringContaining('administrator "alice" is not an allowed target; allowed: bob'),
    ]);
    expect(violations(GRANT_TYPES.FortimanagerTrustedHost, GOOD.fortimanager, { [POLICY_NAMES.targets]: { fortimanagerAdmins: [] } })).toEqual([
      expect.stringContaining("allowed: none"),
    ]);
    expect(matchesPattern("jit.admins", "jit*")).toBe(true);
    expect(matchesPattern("jitXadmins", "jit.admins")).toBe(false);
  });

  test("no insecure TLS: inline connection.insecure, or <DEVICE>_INSECURE when the connection does not say", () => {
    expect(violations(GRANT_TYPES.OpnsenseAliasEntry, { ...GOOD.opnsense, connection: { url: "https://x", insecure: true } })).toEqual([
      expect.stringMatching(/^firewall-grants-no-insecure: connection.insecure is true/),
    ]);
    expect(violations(GRANT_TYPES.OpnsenseAliasEntry, { ...GOOD.opnsense, connection: { url: "https://x", insecure: false } })).toEqual([]);
    process.env.FORTIGATE_INSECURE = "true";
    try {
      expect(violations(GRANT_TYPES.FortigateAddress, GOOD.fortigate)).toEqual([expect.stringContaining("FORTIGATE_INSECURE=true in the environment")]);
      expect(violations(GRANT_TYPES.FortigateAddress, { ...GOOD.fortigate, connection: { insecure: false } })).toEqual([]);
      expect(violations(GRANT_TYPES.OpnsenseAliasEntry, GOOD.opnsense)).toEqual([]);
    } finally {
      delete process.env.FORTIGATE_INSECURE;
    }
  });

  test("enforcement level: mandatory by default, one setting for the whole set", () => {
    expect(firewallGrantsPolicies().map((p) => p.enforcementLevel)).toEqual(Array(5).fill("mandatory"));
    expect(firewallGrantsPolicies({ enforcementLevel: "advisory" }).map((p) => p.enforcementLevel)).toEqual(Array(5).fill("advisory"));
  });

  test("the shipped pack: PulumiPolicy.yaml with runtime nodejs, version of the package, loads the compiled rules", () => {
    const root = path.resolve(__dirname, "..", "..");
    expect(readFileSync(path.join(root, "policy", "pack", "PulumiPolicy.yaml"), "utf8")).toMatch(/^runtime: nodejs$/m);
    const version = (p: string) => (JSON.parse(readFileSync(p, "utf8")) as { version: string }).version;
    expect(version(path.join(root, "policy", "pack", "package.json"))).toBe(version(path.join(root, "package.json")));
    const index = readFileSync(path.join(root, "policy", "pack", "index.js"), "utf8");
    const required = /require\("(\.\.\/\.\.\/dist\/policy)"\)/.exec(index)?.[1];
    expect(required).toBe("../../dist/policy");
    expect(existsSync(path.join(root, "policy", "index.ts"))).toBe(true);
  });

  describe("a Grant missing its ticket is reported once, on the Grant (issue 20)", () => {
    const PATTERN = "\\b[A-Z]+-\\d+\\b";
    const TICKET = { [POLICY_NAMES.description]: { pattern: PATTERN } };
    const message = (d: string) =>
      `its children carry description ${JSON.stringify(d)}, which does not match ${JSON.stringify(PATTERN)} (policy config ${POLICY_NAMES.description}.pattern): set \`ticket\` (or \`description\`) on the Grant`;
    const children = (grant: string, description: string) =>
      [
        [GRANT_TYPES.OpnsenseAliasEntry, GOOD.opnsense],
        [GRANT_TYPES.FortigateAddress, GOOD.fortigate],
        [GRANT_TYPES.FortimanagerTrustedHost, GOOD.fortimanager],
        [GRANT_TYPES.FortigateFeedEntry, GOOD.fortigateFeed],
        [GRANT_TYPES.FortimanagerFeedEntry, GOOD.fortimanagerFeed],
      ].flatMap(([type, props], i) =>
        violations(type as string, { ...(props as object), description, comment: undefined }, TICKET, undefined, {
          urn: `urn:pulumi:dev::p::${GRANT_COMPONENT_TYPE}$${type}::c${i}`,
          parent: grant,
        }),
      );

    test("the Grant's inputs visible: one violation, on the Grant, none on its children", () => {
      const urn = `urn:pulumi:dev::p::${GRANT_COMPONENT_TYPE}::alice`;
      expect(violations(GRANT_COMPONENT_TYPE, { who: "alice", grantDescription: "alice" }, TICKET, undefined, { urn })).toEqual([
        `${POLICY_NAMES.description}: ${message("alice")}`,
      ]);
      expect(children(urn, "alice")).toEqual([]);
      const ok = `urn:pulumi:dev::p::my:stack:Team$${GRANT_COMPONENT_TYPE}::bob`;
      expect(violations(GRANT_COMPONENT_TYPE, { who: "bob", ticket: "CHG-1", grantDescription: "bob (CHG-1)" }, TICKET, undefined, { urn: ok })).toEqual([]);
      expect(children(ok, "bob (CHG-1)")).toEqual([]);
    });

    test("the Grant's inputs not sent (older Pulumi): its first child reports once, naming the Grant", () => {
      const urn = `urn:pulumi:dev::p::${GRANT_COMPONENT_TYPE}::carol`;
      expect(violations(GRANT_COMPONENT_TYPE, {}, TICKET, undefined, { urn })).toEqual([]);
      expect(children(urn, "carol")).toEqual([`${POLICY_NAMES.description}: Grant carol: ${message("carol")}`]);
    });

    test("grants outside a Grant are still reported one by one", () => {
      expect(violations(GRANT_TYPES.OpnsenseAliasEntry, { ...GOOD.opnsense, description: "dave" }, TICKET)).toHaveLength(1);
      expect(violations(GRANT_TYPES.FortigateAddress, { ...GOOD.fortigate, description: "dave", comment: undefined }, TICKET)).toHaveLength(1);
    });
  });
});

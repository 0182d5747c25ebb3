/**
 * The `firewall-grants` provider plugin's schema and wrapper, without an engine: every registered
 * resource is served under its token, the committed schema.json is what the generator writes, secrets
 * stay marked, provider config reaches the settings the library reads.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { deviceSettingsList } from "../provider/device-settings";
import { UNKNOWN } from "../provider/core/dynamic-kit";
import { processState } from "../provider/core/process-state";
import { buildSchema } from "../provider/plugin/schema";
import { configFromVariables, configure, FirewallGrantsProvider, parseUrn, unwrapSecrets } from "../provider/plugin/provider";
import { pluginResources } from "../provider/plugin/resources";
import { ImportIdProblem } from "../provider/plugin/import-ids";
import { nameProviderConfig } from "../provider/plugin/main";
import { resolveDeviceUrl, resolveSetting, setConfigPlace } from "../provider/core/settings";

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET = "1b47061264138c4ac30d75fd1eb44270";
const secret = (value: unknown) => ({ [SIG]: SECRET, value });
const schema = buildSchema("0.0.0-test");

describe("plugin schema", () => {
  test("lists every registered resource, sets and guards included, under firewall-grants:<device>:<Type>", () => {
    const registered = deviceSettingsList().flatMap((d) => [...d.resources, ...(d.sets ?? [])].map((r) => `firewall-grants:${d.name}:${r.type}`));
    expect(registered.length).toBeGreaterThanOrEqual(13);
    expect(Object.keys(schema.resources).sort()).toEqual([...registered, "firewall-grants:index:Grant"].sort());
  });

  test("Grant is a component with the TypeScript Grant's inputs, minus the targets' inline connections", () => {
    const g = schema.resources["firewall-grants:index:Grant"]!;
    expect(g.isComponent).toBe(true);
    expect(g.requiredInputs).toEqual(["who", "addresses"]);
    expect(Object.keys(g.inputProperties).sort()).toEqual(
      [
        "who",
        "addresses",
        "description",
        "ticket",
        "expiresAt",
        "allowBroad",
        "opnsense",
        "fortigate",
        "fortimanager",
        "fortigateFeeds",
        "fortimanagerFeeds",
      ].sort(),
    );
    expect(JSON.stringify(schema.types)).not.toMatch(/GrantOpnsense[^"]*Connection/);
    expect(g.properties.granted).toMatchObject({ type: "array" });
  });

  test("credentials are secret inputs and outputs; required inputs are inputs", () => {
    for (const [token, r] of Object.entries(schema.resources)) {
      if (r.isComponent) continue;
      expect([token, r.inputProperties.credentials?.secret]).toEqual([token, true]);
      expect([token, r.properties.credentials?.secret]).toEqual([token, true]);
      for (const k of r.requiredInputs) expect([token, k in r.inputProperties]).toEqual([token, true]);
    }
    expect(schema.resources["firewall-grants:opnsense:AliasEntry"]!.requiredInputs).toEqual(["alias", "address"]);
  });

  test("guards do not offer the inputs the plugin fixes for them", () => {
    const guard = schema.resources["firewall-grants:opnsense:AliasGuard"]!;
    expect(Object.keys(guard.inputProperties)).not.toEqual(expect.arrayContaining(["guard"]));
    expect(guard.inputProperties.exclusive).toBeUndefined();
    expect(schema.resources["firewall-grants:opnsense:AliasSet"]!.inputProperties.exclusive).toBeDefined();
  });

  test("every $ref names a type the schema defines", () => {
    const refs = JSON.stringify(schema).match(/"#\/types\/[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(Object.keys(schema.types)).toContain(ref.slice('"#/types/'.length, -1));
  });

  test("provider config has one variable per device setting, secret where the registry says so", () => {
    const v = schema.config.variables;
    expect(v.opnsenseUrl).toMatchObject({ type: "string" });
    expect(v.opnsenseApiSecret).toMatchObject({ secret: true });
    expect(v.fortigateToken).toMatchObject({ secret: true });
    expect(v.opnsenseApiKeyFile?.secret).toBeUndefined();
    expect(schema.provider.inputProperties).toEqual(v);
  });

  test("provider/plugin/schema.json is the generated schema (npm run gen-schema)", () => {
    const { version } = JSON.parse(readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { version: string };
    const committed: unknown = JSON.parse(readFileSync(path.join(__dirname, "..", "provider", "plugin", "schema.json"), "utf8"));
    expect(committed).toEqual(JSON.parse(JSON.stringify(buildSchema(version))));
  });
});

describe("plugin provider wrapper", () => {
  test("parses URNs, nested parents included", () => {
    expect(parseUrn("urn:pulumi:dev::p::firewall-grants:opnsense:AliasEntry::alice")).toEqual({ type: "firewall-grants:opnsense:AliasEntry", name: "alice" });
    expect(parseUrn("urn:pulumi:dev::p::my:Comp$firewall-grants:fortigate:Address::a::b")).toEqual({ type: "firewall-grants:fortigate:Address", name: "a::b" });
  });

  test("unwraps secrets at any depth and says which values held one", () => {
    expect(unwrapSecrets(secret({ apiKey: "k" }))).toEqual({ value: { apiKey: "k" }, secret: true });
    expect(unwrapSecrets({ apiKey: secret("k"), x: [1] })).toEqual({ value: { apiKey: "k", x: [1] }, secret: true });
    expect(unwrapSecrets({ a: "b" })).toEqual({ value: { a: "b" }, secret: false });
  });

  test("check hands the provider object plain values and the name, and gives credentials back as a secret", async () => {
    const p = new FirewallGrantsProvider("0.0.0-test");
    // An unknown connection: check pins nothing and calls no device (grant-lifecycle.ts).
    const r = await p.check(
      "urn:pulumi:dev::p::firewall-grants:opnsense:AliasEntry::alice",
      {},
      {
        connection: UNKNOWN,
        credentials: secret({ apiKey: "k", apiSecret: "s" }),
        alias: "jit_admins",
        address: "203.0.113.7/32",
        description: secret("why"),
      },
    );
    expect(r.failures).toBeUndefined();
    expect(r.inputs.credentials).toEqual(secret({ apiKey: "k", apiSecret: "s" }));
    expect(r.inputs.description).toEqual(secret("why"));
    expect(r.inputs).toMatchObject({ alias: "jit_admins", address: "203.0.113.7", grantName: "alice", method: "table" });
  });

  test("check failures name the field and the rule", async () => {
    const p = new FirewallGrantsProvider("0.0.0-test");
    const r = await p.check(
      "urn:pulumi:dev::p::firewall-grants:opnsense:AliasEntry::a",
      {},
      { connection: UNKNOWN, alias: "jit_admins", address: "10.0.0.0/4" },
    );
    expect(r.failures?.map((f) => f.property)).toEqual(["address"]);
  });

  test("an unknown type is an error naming the served types", async () => {
    const p = new FirewallGrantsProvider("0.0.0-test");
    await expect(p.check("urn:pulumi:dev::p::firewall-grants:opnsense:Nope::a", {}, {})).rejects.toThrow(/firewall-grants:opnsense:AliasEntry/);
  });

  test("provider config reaches the settings the library reads (opnsense:url …)", async () => {
    const vars = new Map([
      ["firewall-grants:config:opnsenseUrl", "https://fw1"],
      ["firewall-grants:fortigateToken", "t0k"],
      ["other:opnsenseUrl", "ignored"],
    ]);
    expect([...configFromVariables(vars)]).toEqual([
      ["opnsense:url", "https://fw1"],
      ["fortigate:token", "t0k"],
    ]);
    await configure(vars);
    expect(processState().config).toEqual({ "opnsense:url": "https://fw1", "fortigate:token": "t0k" });
  });

  test("import ids: each grant's id parsed with its device's name rules; hostile ids refused naming the part", () => {
    const id = (token: string) => pluginResources().find((r) => r.token === `firewall-grants:${token}`)!.importId!;
    const opn = id("opnsense:AliasEntry");
    expect(opn.parse("jit_admins@203.0.113.7")).toEqual({ alias: "jit_admins", address: "203.0.113.7", method: "table" });
    expect(opn.parse("jit_admins@2001:db8::1#config")).toEqual({ alias: "jit_admins", address: "2001:db8::1", method: "config" });
    expect(() => opn.parse("no-at-sign")).toThrow(ImportIdProblem);
    expect(() => opn.parse("@203.0.113.7")).toThrow(/empty/);
    expect(() => opn.parse("../etc@203.0.113.7")).toThrow(/alias "..\/etc"/);
    expect(() => opn.parse("jit_admins@203.0.113.7#drop")).toThrow(/method "drop"/);
    const fga = id("fortigate:Address");
    expect(fga.parse("grant-alice")).toEqual({ name: "grant-alice" });
    expect(fga.parse("jit admins/grant-alice")).toEqual({ name: "grant-alice", group: "jit admins" });
    for (const bad of ["", "..", "a/..", "../x/grant", "grp/", "/grant", "grp/a b"]) expect(() => fga.parse(bad)).toThrow(ImportIdProblem);
    const fgf = id("fortigate:FeedEntry");
    expect(fgf.parse("jit-allow@10.0.0.0/24")).toEqual({ feed: "jit-allow", address: "10.0.0.0/24" });
    expect(fgf.parse("vd1/jit-allow@203.0.113.7")).toEqual({ feed: "jit-allow", address: "203.0.113.7", connection: { vdom: "vd1" } });
    for (const bad of ["jit-allow", "vd1/x/jit-allow@203.0.113.7", "../jit@203.0.113.7", "./@203.0.113.7", "jit@not-an-ip", "jit@"])
      expect(() => fgf.parse(bad)).toThrow(ImportIdProblem);
    const fmt = id("fortimanager:TrustedHost");
    expect(fmt.parse("ops@corp@203.0.113.7")).toEqual({ adminUser: "ops@corp", address: "203.0.113.7" });
    expect(() => fmt.parse("a/b@203.0.113.7")).toThrow(/admin "a\/b"/);
    const fmf = id("fortimanager:FeedEntry");
    expect(fmf.parse("root/jit-allow@203.0.113.7#fgt-hq,fgt-br1")).toEqual({
      feed: "jit-allow",
      address: "203.0.113.7",
      devices: ["fgt-br1", "fgt-hq"],
      vdom: "root",
    });
    for (const bad of [
      "jit-allow@203.0.113.7",
      "jit-allow@203.0.113.7#",
      "jit-allow@203.0.113.7#a,,b",
      "jit-allow@203.0.113.7#..",
      "jit-allow@203.0.113.7#a/b",
    ])
      expect(() => fmf.parse(bad)).toThrow(ImportIdProblem);
    // Sets and guards have no id (import-ids.ts says why).
    expect(
      pluginResources()
        .filter((r) => r.importId)
        .map((r) => r.names.className),
    ).toEqual(["OpnsenseAliasEntry", "FortigateAddress", "FortigateFeedEntry", "FortimanagerTrustedHost", "FortimanagerFeedEntry"]);
  });

  test("a missing setting names the provider config variable under the plugin", () => {
    const saved = process.env.OPNSENSE_URL;
    delete process.env.OPNSENSE_URL;
    processState().config = {};
    try {
      expect(() => resolveDeviceUrl("opnsense", undefined, undefined)).toThrow(/set connection\.url, stack config opnsense:url or environment OPNSENSE_URL/);
      nameProviderConfig();
      expect(() => resolveDeviceUrl("opnsense", undefined, undefined)).toThrow(
        "connection.url: required; set connection.url, provider config firewall-grants:opnsenseUrl or environment OPNSENSE_URL",
      );
      expect(resolveSetting("fortimanager", "apiKey", undefined)).toEqual({ value: undefined, from: "connection.apiKey" });
      processState().config = { "fortigate:url": "ftp://fgt" };
      expect(() => resolveDeviceUrl("fortigate", undefined, undefined)).toThrow(/^provider config firewall-grants:fortigateUrl: must be an https/);
    } finally {
      setConfigPlace(undefined);
      processState().config = {};
      if (saved !== undefined) process.env.OPNSENSE_URL = saved;
    }
  });
});

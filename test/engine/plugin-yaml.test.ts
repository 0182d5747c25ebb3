/**
 * End to end with the real Pulumi CLI and the Pulumi YAML language host (scripts/pulumi-yaml.sh): a YAML
 * program uses `firewall-grants:opnsense:AliasEntry` from the provider plugin (dist/provider/plugin/bin)
 * against the OPNsense emulator. A key without the table privilege fails preview with the diagnosis code
 * and its fix; then up, drift (exit 7), `up --refresh` repairs, `pulumi import` adopts an entry made by
 * hand, destroy leaves the alias as it was. Credentials are provider config secrets, never in clear.
 */
import { Agent, fetch } from "undici";
import { startOpnsenseEmulator, type OpnsenseEmulator } from "../../emulators";
import type { PulumiWorkspace } from "../../scripts/pulumi-workspace";
import { describeWithCli, leakedSecrets, leaksInFiles } from "./helpers";
import { explicitOpnsenseProviders, grantsUser, ok, PluginStack, pluginProject, useOpnsensePluginSuite } from "./plugin-helpers";

jest.setTimeout(300_000);

const FULL = { key: "fwgpluginfullkey01", secret: "fwgpluginfullsecret0123456789" };
const WEAK = { key: "fwgpluginweakkey01", secret: "fwgpluginweaksecret0123456789" };

const PROGRAM = `${pluginProject("plugin-yaml")}description: One OPNsense alias entry through the firewall-grants provider plugin.
resources:
  alice:
    type: firewall-grants:opnsense:AliasEntry
    properties:
      alias: jit_admins
      address: 203.0.113.7/32
      description: alice, ticket 42
outputs:
  address: \${alice.address}
  device: \${alice.device.url}
`;

describeWithCli("engine: a Pulumi YAML program with the firewall-grants provider plugin", () => {
  const s = useOpnsensePluginSuite({
    prefix: "fwg-plugin-yaml-",
    program: PROGRAM,
    creds: FULL,
    otherUsers: [{ name: "auditor", key: WEAK.key, secret: WEAK.secret, privileges: ["page-firewall-aliases"], disabled: false }],
    configCreds: WEAK,
  });
  const secrets = { fullKey: FULL.key, fullSecret: FULL.secret, weakKey: WEAK.key, weakSecret: WEAK.secret };
  const run = (args: string[]) => s.stack.run(args);
  const held = () => ({
    content: [...(s.box.backend.aliases.get("jit_admins")?.content ?? [])].sort(),
    table: s.box.backend.tableContent("jit_admins").sort(),
  });
  const control = async (body: unknown) => {
    const res = await fetch(`${s.box.url}/__emulator/alias-content`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      dispatcher: new Agent({ connect: { ca: s.box.caCert } }),
    });
    expect(res.status).toBe(200);
  };

  test("preview with a key that lacks the table privilege: the diagnosis code and its fix reach the user; nothing changes", async () => {
    const r = await run(["preview"]);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/firewall-grants:opnsense:AliasEntry alice\s+error: OPN001 OPNsense authorization failed/);
    expect(r.output).toContain('Missing privilege: "Diagnostics: PF Table IP addresses"');
    expect(r.output).toMatch(/Fix:\n\s+1\. System > Access > Groups/);
    expect(held()).toEqual({ content: [], table: [] });
  });

  test("up grants the address; state holds the provider credentials only as secrets", async () => {
    const { ws, box: emulator } = s;
    await ws.setConfig("firewall-grants:opnsenseApiKey", FULL.key, true);
    await ws.setConfig("firewall-grants:opnsenseApiSecret", FULL.secret, true);
    expect(ok(await run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(held()).toEqual({ content: ["203.0.113.7"], table: ["203.0.113.7"] });
    expect(await ws.outputs()).toEqual({ address: "203.0.113.7", device: new URL(emulator.url).origin });
    expect(leakedSecrets(ws.stateText(), secrets)).toEqual([]);
    expect(ok(await run(["preview", "--refresh", "--expect-no-changes"]))).toEqual({ code: 0, tail: "" });
  });

  test("drift: the entry removed on the device makes the scheduled check exit 7; up --refresh puts it back", async () => {
    await control({ alias: "jit_admins", remove: "203.0.113.7", where: "both" });
    expect(held()).toEqual({ content: [], table: [] });
    const drift = await run(["preview", "--refresh", "--expect-no-changes"]);
    expect(drift.code).toBe(7);
    expect(drift.output).toMatch(/\+ 1 to create/);
    expect(ok(await run(["up", "--refresh", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(held()).toEqual({ content: ["203.0.113.7"], table: ["203.0.113.7"] });
    expect(ok(await run(["preview", "--refresh", "--expect-no-changes"]))).toEqual({ code: 0, tail: "" });
  });

  test("pulumi import adopts an entry made by hand and prints a YAML snippet", async () => {
    const { ws, box: emulator } = s;
    await control({ alias: "jit_admins", add: "198.51.100.9", where: "both" });
    const r = await run(["import", "firewall-grants:opnsense:AliasEntry", "bob", "jit_admins@198.51.100.9", "--yes", "--protect=false"]);
    expect(ok(r)).toEqual({ code: 0, tail: "" });
    expect(r.output).toMatch(/= 1 imported/);
    expect(r.output).toMatch(
      /bob:\n\s+type: firewall-grants:opnsense:AliasEntry\n\s+properties:\n\s+address: 198\.51\.100\.9\n\s+alias: jit_admins\n\s+method: table/,
    );
    const state = JSON.parse(ws.stateText()) as { checkpoint: { latest: { resources: { urn: string; id?: string; outputs?: Record<string, unknown> }[] } } };
    const bob = state.checkpoint.latest.resources.find((x) => x.urn.endsWith("::bob"));
    expect(bob?.id).toBe("jit_admins@198.51.100.9");
    expect(bob?.outputs).toMatchObject({
      alias: "jit_admins",
      address: "198.51.100.9",
      method: "table",
      grantName: "bob",
      device: { url: new URL(emulator.url).origin },
    });
    // An id that names no held entry is refused, not recorded.
    const missing = await run(["import", "firewall-grants:opnsense:AliasEntry", "carol", "jit_admins@192.0.2.55", "--yes", "--protect=false"]);
    expect(missing.code).not.toBe(0);
    expect(ws.stateText()).not.toContain("192.0.2.55");
  });

  test("destroy revokes what the stack holds, the imported entry included; nothing leaked anywhere", async () => {
    const { ws, stack } = s;
    expect(ok(await run(["destroy", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(held()).toEqual({ content: [], table: [] });
    expect(leaksInFiles(ws.allFiles(), secrets)).toEqual({});
    for (const r of stack.outputs) expect(leakedSecrets(r.output, secrets)).toEqual([]);
  });
});

const TWO_BOXES = `${pluginProject("plugin-yaml-two")}${explicitOpnsenseProviders({ fw1: "fw1Url", fw2: "fw2Url" })}  aliceOnFw1:
    type: firewall-grants:opnsense:AliasEntry
    properties:
      alias: jit_admins
      address: 203.0.113.7
    options:
      provider: \${fw1}
  bobOnFw2:
    type: firewall-grants:opnsense:AliasEntry
    properties:
      alias: jit_admins
      address: 198.51.100.20
    options:
      provider: \${fw2}
`;

describeWithCli("engine: two OPNsense boxes through two explicit firewall-grants providers (YAML)", () => {
  const boxes: OpnsenseEmulator[] = [];
  let stack: PluginStack | undefined;
  let ws: PulumiWorkspace;

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) boxes.push(await startOpnsenseEmulator({ port: 0, users: [grantsUser(FULL)] }));
    stack = await PluginStack.create("fwg-plugin-yaml-two-", TWO_BOXES);
    ws = stack.ws;
    await ws.setConfig("fw1Url", boxes[0]!.url);
    await ws.setConfig("fw2Url", boxes[1]!.url);
    await ws.setConfig("caCert", boxes[0]!.caCert);
    await ws.setConfig("apiKey", FULL.key, true);
    await ws.setConfig("apiSecret", FULL.secret, true);
  });
  afterAll(async () => {
    await stack?.dispose();
    for (const b of boxes) await b.close();
  });

  test("each grant lands on its provider's box only; destroy revokes both; the provider credentials are secrets in state", async () => {
    const on = (i: number) => emulatorTable(boxes[i]!);
    expect(ok(await ws.run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect([on(0), on(1)]).toEqual([["203.0.113.7"], ["198.51.100.20"]]);
    expect(leakedSecrets(ws.stateText(), { key: FULL.key, secret: FULL.secret })).toEqual([]);
    expect(ok(await ws.run(["destroy", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect([on(0), on(1)]).toEqual([[], []]);
  });
});

function emulatorTable(e: OpnsenseEmulator): string[] {
  return e.backend.tableContent("jit_admins").sort();
}

const GRANT = `${pluginProject("plugin-yaml-grant")}resources:
  carol:
    type: firewall-grants:index:Grant
    properties:
      who: carol
      ticket: CHG-7
      addresses: [192.0.2.77]
      opnsense:
        - alias: jit_admins
outputs:
  granted: \${carol.granted}
`;

describeWithCli("engine: Grant as a multi-language component of the plugin (YAML)", () => {
  const s = useOpnsensePluginSuite({ prefix: "fwg-plugin-yaml-grant-", program: GRANT, creds: FULL });

  test("preview shows the component and its child grant; up grants it with the person in the description; destroy revokes it", async () => {
    const { ws, box } = s;
    const preview = await ws.run(["preview"]);
    expect(ok(preview)).toEqual({ code: 0, tail: "" });
    expect(preview.output).toMatch(/\+\s+firewall-grants:index:Grant\s+carol\s+create/);
    expect(preview.output).toMatch(/\+\s+firewall-grants:opnsense:AliasEntry\s+carol-opnsense-jit_admins-192-0-2-77\s+create/);
    expect(emulatorTable(box)).toEqual([]);
    expect(ok(await ws.run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(emulatorTable(box)).toEqual(["192.0.2.77"]);
    expect(await ws.outputs()).toEqual({ granted: [{ kind: "opnsense", target: "jit_admins", address: "192.0.2.77" }] });
    const state = JSON.parse(ws.stateText()) as {
      checkpoint: { latest: { resources: { urn: string; parent?: string; outputs?: Record<string, unknown> }[] } };
    };
    const child = state.checkpoint.latest.resources.find((r) => r.urn.endsWith("::carol-opnsense-jit_admins-192-0-2-77"));
    expect(child?.urn).toContain("firewall-grants:index:Grant$firewall-grants:opnsense:AliasEntry");
    expect(child?.outputs).toMatchObject({ alias: "jit_admins", address: "192.0.2.77", description: "carol (CHG-7)", adopted: false });
    expect(ok(await ws.run(["preview", "--refresh", "--expect-no-changes"]))).toEqual({ code: 0, tail: "" });
    expect(ok(await ws.run(["destroy", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(emulatorTable(box)).toEqual([]);
  });
});

const TEAM = (addresses: readonly string[]) => `${pluginProject("plugin-yaml-diff")}resources:
  team:
    type: firewall-grants:opnsense:AliasSet
    properties:
      alias: jit_admins
      addresses: [${addresses.join(", ")}]
`;

describeWithCli("engine: previews of plugin resources show what changed in detail (YAML)", () => {
  const s = useOpnsensePluginSuite({ prefix: "fwg-plugin-yaml-diff-", program: TEAM(["203.0.113.40", "203.0.113.41", "203.0.113.42"]), creds: FULL });
  const write = (addresses: readonly string[]) => s.stack.writeProgram(TEAM(addresses));

  test("a member lost on the device and a member taken out of the program: [diff: ~addresses] and the member", async () => {
    const { ws, box } = s;
    expect(ok(await ws.run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(emulatorTable(box)).toEqual(["203.0.113.40", "203.0.113.41", "203.0.113.42"]);
    // Drift the inputs cannot show: the program is unchanged, the device lost .41.
    const res = await fetch(`${box.url}/__emulator/alias-content`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ alias: "jit_admins", remove: "203.0.113.41", where: "both" }),
      dispatcher: new Agent({ connect: { ca: box.caCert } }),
    });
    expect(res.status).toBe(200);
    const drift = await ws.run(["preview", "--refresh", "--expect-no-changes"]);
    expect(drift.code).toBe(7);
    expect(drift.output).toMatch(/~\s+firewall-grants:opnsense:AliasSet\s+team\s+update\s+\[diff: ~addresses,missing\]/);
    const detailed = await ws.run(["preview", "--refresh", "--diff"]);
    expect(detailed.output).toMatch(
      // A plain entry is stored (and shown) as the address itself; one with a description as an object.
      /~ firewall-grants:opnsense:AliasSet: \(update\)[\s\S]*\[urn=[^\]]*::team\]\s+~ addresses: \[\s+\+ \[1\]: "203\.0\.113\.41"/,
    );
    // Only the lost member, not its neighbours, in the addresses block.
    expect(detailed.output).not.toMatch(/~ addresses: \[[^\]]*[-+~] \[[02]\]:/);
    expect(ok(await ws.run(["up", "--refresh", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(emulatorTable(box)).toEqual(["203.0.113.40", "203.0.113.41", "203.0.113.42"]);
    // The program drops .42: that member, and only it, in the preview.
    write(["203.0.113.40", "203.0.113.41"]);
    const dropped = await ws.run(["preview"]);
    expect(ok(dropped)).toEqual({ code: 0, tail: "" });
    expect(dropped.output).toMatch(/~\s+firewall-grants:opnsense:AliasSet\s+team\s+update\s+\[diff: ~addresses\]/);
    const detail = await ws.run(["preview", "--diff"]);
    expect(detail.output).toMatch(/- \[2\]: "203\.0\.113\.42"/);
    expect(ok(await ws.run(["destroy", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(emulatorTable(box)).toEqual([]);
  });
});

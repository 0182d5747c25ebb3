/**
 * `pulumi import` through the provider plugin on FortiGate and FortiManager (the OPNsense case is in
 * plugin-yaml.test.ts), with the real CLI and the YAML language host: entries put on the emulators by
 * hand are imported in one run by id (docs/plugin.md), the state carries what a create records, the
 * program written from the printed snippet previews with no change (refresh included), ids the devices do
 * not hold or that break a name rule are refused, and destroy leaves the devices as they were before.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { deviceEnv, startDevices, type Devices } from "../../scripts/engine-fixture";
import { describeWithCli, leakedSecrets } from "./helpers";
import { ok, PluginStack, pluginProject } from "./plugin-helpers";

jest.setTimeout(300_000);

const HEADER = pluginProject("plugin-import");

const IMPORTS = [
  { type: "firewall-grants:fortigate:Address", name: "ops", id: "jit-admins/grant-ops" },
  { type: "firewall-grants:fortigate:FeedEntry", name: "opsFeed", id: "root/jit-allow@203.0.113.22" },
  { type: "firewall-grants:fortimanager:TrustedHost", name: "alice", id: "alice@203.0.113.23" },
  { type: "firewall-grants:fortimanager:FeedEntry", name: "branches", id: "jit-allow@203.0.113.24#fgt-hq,fgt-br1" },
];

describeWithCli("engine: pulumi import on FortiGate and FortiManager through the provider plugin (YAML)", () => {
  let devices: Devices;
  let stack: PluginStack | undefined;
  let before: ReturnType<Devices["snapshot"]>;
  const managedFeed = (device: string) => devices.fortimanager.backend.devices.devices.get(device)!.backend.feeds.find("root", "jit-allow", false)!;

  beforeAll(async () => {
    devices = await startDevices();
    before = devices.snapshot();
    // What an administrator did by hand, before any stack: the entries the imports adopt.
    const fgt = devices.fortigate.backend;
    fgt.createAddress("root", "ipv4", { name: "grant-ops", subnet: "203.0.113.21 255.255.255.255", comment: "ops, by hand" });
    fgt.addMember("root", "ipv4", "jit-admins", "grant-ops");
    const feed = fgt.feeds.find("root", "jit-allow", false)!;
    fgt.feeds.addEntries(feed.scope, "jit-allow", ["203.0.113.22"]);
    devices.fortimanager.backend.admins.get("alice")!.slots.trusthost3 = ["203.0.113.23", "255.255.255.255"];
    for (const d of ["fgt-hq", "fgt-br1"]) managedFeed(d).entries.set("203.0.113.24", { entry: "203.0.113.24", valid: true, seq: 9_000 });
    stack = await PluginStack.create("fwg-plugin-import-", `${HEADER}resources: {}\n`, { env: deviceEnv(devices), timeoutMs: 200_000 });
  });
  afterAll(async () => {
    await stack?.dispose();
    await devices?.close();
  });

  test("one import run adopts all four; the state carries what create records; the snippet's program previews clean", async () => {
    const { ws, projectDir, run } = stack!;
    writeFileSync(path.join(projectDir, "import.json"), JSON.stringify({ resources: IMPORTS }));
    const gen = path.join(projectDir, "generated.yaml");
    const r = await run(["import", "--file", path.join(projectDir, "import.json"), "--yes", "--protect=false", "--out", gen]);
    expect(ok(r)).toEqual({ code: 0, tail: "" });
    expect(r.output).toMatch(/= 4 imported/);
    const state = JSON.parse(ws.stateText()) as { checkpoint: { latest: { resources: { urn: string; id?: string; outputs?: Record<string, unknown> }[] } } };
    const out = (name: string) => state.checkpoint.latest.resources.find((x) => x.urn.endsWith(`::${name}`))?.outputs;
    const fgtOrigin = new URL(devices.fortigate.url).origin;
    const fmgOrigin = new URL(devices.fortimanager.url).origin;
    expect(out("ops")).toEqual({
      name: "grant-ops",
      group: "jit-admins",
      address: "203.0.113.21",
      cidr: "203.0.113.21/32",
      family: "ipv4",
      vdom: "root",
      comment: "ops, by hand",
      adopted: true,
      membershipAdded: false,
      member: true,
      objectPath: "/api/v2/cmdb/firewall/address/grant-ops",
      uuid: expect.any(String),
      grantName: "ops",
      device: { url: fgtOrigin, scope: "vdom root" },
      expired: false,
    });
    expect(out("opsFeed")).toMatchObject({
      feed: "jit-allow",
      address: "203.0.113.22",
      cidr: "203.0.113.22/32",
      family: "ipv4",
      vdom: "root",
      entry: "203.0.113.22",
      adopted: true,
    });
    expect(out("alice")).toMatchObject({
      adminUser: "alice",
      address: "203.0.113.23",
      cidr: "203.0.113.23/32",
      family: "ipv4",
      slot: "trusthost3",
      adopted: true,
    });
    expect(out("branches")).toMatchObject({
      feed: "jit-allow",
      devices: ["fgt-br1", "fgt-hq"],
      vdom: "root",
      adom: "root",
      cidr: "203.0.113.24/32",
      heldBy: ["fgt-br1", "fgt-hq"],
      adopted: ["fgt-br1", "fgt-hq"],
      device: { url: fmgOrigin, scope: "adom root" },
    });
    // The program a user writes from the printed snippet declares exactly what the devices hold.
    writeFileSync(path.join(projectDir, "Pulumi.yaml"), HEADER + readFileSync(gen, "utf8"));
    expect(ok(await run(["preview", "--refresh", "--expect-no-changes"]))).toEqual({ code: 0, tail: "" });
  });

  test("an id the device does not hold, or that breaks a name rule, is refused with the reason; nothing is recorded", async () => {
    const { ws, run } = stack!;
    const missing = await run(["import", "firewall-grants:fortigate:Address", "nobody", "jit-admins/grant-nobody", "--yes", "--protect=false"]);
    expect(missing.code).not.toBe(0);
    expect(missing.output).toContain('cannot import "jit-admins/grant-nobody": the device holds no such entry');
    const hostile = await run(["import", "firewall-grants:fortimanager:TrustedHost", "evil", "../admin@203.0.113.23", "--yes", "--protect=false"]);
    expect(hostile.code).not.toBe(0);
    expect(hostile.output).toContain(`admin "../admin"`);
    const partial = await run(["import", "firewall-grants:fortimanager:FeedEntry", "part", "jit-allow@203.0.113.22#fgt-hq", "--yes", "--protect=false"]);
    expect(partial.code).not.toBe(0);
    expect(ws.stateText()).not.toMatch(/::(nobody|evil|part)"/);
  });

  test("destroy revokes every imported entry: the devices are as they were before the hand edits", async () => {
    const { run, outputs } = stack!;
    expect(ok(await run(["destroy", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(devices.snapshot()).toEqual(before);
    const c = devices.credentials;
    for (const x of outputs) expect(leakedSecrets(x.output, { fgt: c.fortigateToken, fmg: c.fortimanagerToken })).toEqual([]);
  });
});

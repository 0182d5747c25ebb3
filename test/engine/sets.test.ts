/**
 * Issue 13 end to end with the real Pulumi CLI (program test/engine/programs/sets): sets on all three
 * devices; a hand-added address on an exclusive set makes `preview --refresh --expect-no-changes` exit 7
 * naming it, and `up` removes it; the guard catches an entry no grant declares; the Grant component
 * fans out and two people sharing an address keep it until the last of them is removed; destroy leaves
 * the devices as they were.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { deviceEnv, startDevices, type DeviceSnapshot, type Devices } from "../../scripts/engine-fixture";
import { PulumiWorkspace, type RunResult } from "../../scripts/pulumi-workspace";
import { describeWithCli } from "./helpers";

jest.setTimeout(300_000);

const PROGRAM = path.join(__dirname, "programs", "sets");
const ok = (r: RunResult) => ({ code: r.code, tail: r.code === 0 ? "" : r.output.slice(-4000) });

describeWithCli("engine: sets, exclusive drift, guard and the Grant component", () => {
  let devices: Devices;
  let ws: PulumiWorkspace;
  let before: DeviceSnapshot;
  let people: { who: string; addresses: string[] }[] = [];
  let overlap = false;
  let expiry: { at: string; now?: string } | undefined;
  const run = (args: string[]) =>
    ws.run(args, {
      env: {
        SETS_PEOPLE: JSON.stringify(people),
        SETS_OVERLAP: overlap ? "1" : "0",
        SETS_EXPIRES_AT: expiry?.at ?? "",
        // The provider's test clock (honoured because the CLI inherits this jest worker's JEST_WORKER_ID).
        FIREWALL_GRANTS_TEST_NOW: expiry?.now ?? "",
      },
    });
  const alias = (name: string) => devices.snapshot().opnsense.find((a) => a.alias === name)!;

  beforeAll(async () => {
    devices = await startDevices();
    before = devices.snapshot();
    ws = await PulumiWorkspace.create({ projectDir: PROGRAM, env: { PULUMI_NODEJS_TRANSPILE_ONLY: "true", ...deviceEnv(devices) }, timeoutMs: 200_000 });
  });
  afterAll(async () => {
    await ws?.dispose();
    await devices?.close();
  });

  test("up: sets on three devices, the guarded alias and two people sharing an office NAT address", async () => {
    people = [
      { who: "alice", addresses: ["198.51.100.77", "203.0.113.20"] },
      { who: "bob", addresses: ["198.51.100.77"] },
    ];
    expect(ok(await run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    const s = devices.snapshot();
    expect(alias("jit_nets").content).toEqual(["198.51.100.1", "198.51.100.128/25"]);
    expect(alias("jit_admins").table).toEqual(["198.51.100.77", "203.0.113.20", "203.0.113.30"]);
    expect(s.fortigate.groups.find((g) => g.name === "jit-admins")!.members).toEqual(["grant-203.0.113.8"]);
    expect(s.fortigate.groups6.find((g) => g.name === "jit-admins6")!.members).toEqual(["grant-2001:db8::8"]);
    const alice = s.fortimanager.admins.find((a) => a.userid === "alice")!.slots;
    expect(Object.values(alice)).toEqual(expect.arrayContaining([["203.0.113.7", "255.255.255.255"], "2001:db8::7/128"]));
    expect(alice.trusthost1).toEqual(before.fortimanager.admins.find((a) => a.userid === "alice")!.slots.trusthost1);
    expect(Object.values(s.fortimanager.admins.find((a) => a.userid === "bob")!.slots)).toEqual(
      expect.arrayContaining([
        ["198.51.100.77", "255.255.255.255"],
        ["203.0.113.20", "255.255.255.255"],
      ]),
    );
    expect(ok(await run(["preview", "--refresh", "--expect-no-changes"]))).toEqual({ code: 0, tail: "" });
  });

  test("doctor --stack checks every set, guard and grant of the stack the CLI made, on its pinned device and scope (vdom root), exit 0", async () => {
    const main = path.join(__dirname, "..", "..", "dist", "cli", "main.js");
    const env = {
      ...process.env,
      ...deviceEnv(devices),
      PATH: `${ws.cli.binDir}${path.delimiter}${process.env.PATH ?? ""}`,
      PULUMI_BACKEND_URL: `file://${ws.backendDir}`,
      PULUMI_HOME: ws.pulumiHome,
      PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "firewall-grants-local",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      NO_COLOR: "1",
    };
    const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [main, "doctor", "--stack", ws.stack], { cwd: PROGRAM, env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, out }));
    });
    const headings = r.out.split("\n").filter((l) => / · /.test(l));
    expect(headings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^opnsense \S+ · OpnsenseAliasSet alias jit_nets, method config$/),
        expect.stringMatching(/^fortigate \S+ · FortigateAddressSet group jit-admins$/),
        expect.stringMatching(/^fortigate \S+ · FortigateAddressSet group jit-admins6$/),
        expect.stringMatching(/^fortimanager \S+ · FortimanagerTrustedHostSet adminUser alice$/),
        expect.stringMatching(/^fortimanager \S+ · FortimanagerTrustedHost adminUser bob$/),
      ]),
    );
    expect({ code: r.code, tail: r.code === 0 ? "" : r.out.slice(-3000) }).toEqual({ code: 0, tail: "" });
    expect(r.out).toMatch(/✔ all \d+ checks passed$/m);
  });

  test("the policy pack reports a Grant whose ticket does not match once, on the Grant, never on its children", async () => {
    const config = path.join(ws.workDir, "policy-config.json");
    writeFileSync(config, JSON.stringify({ "firewall-grants-description": { pattern: "\\bOPS-\\d+\\b" } }));
    const r = await run(["preview", "--policy-pack", path.join(__dirname, "..", "..", "policy", "pack"), "--policy-pack-config", config]);
    expect(r.code).not.toBe(0);
    const told = r.output.match(/its children carry description "[^"]*"/g) ?? [];
    expect(told.sort()).toEqual(['its children carry description "alice (CHG-13)"', 'its children carry description "bob (CHG-13)"']);
    expect(r.output).toMatch(/firewall-grants-description\s+\(firewall-grants:index:Grant: alice\)/);
    expect(r.output).toMatch(/firewall-grants-description\s+\(firewall-grants:index:Grant: bob\)/);
    // No child of a Grant is named in a description violation (their names start with the person's component name).
    expect(r.output).not.toMatch(/description "(alice|bob) \(CHG-13\)" does not match/);
  });

  test("a hand-added 0.0.0.0/1 on the exclusive set and an undeclared address in the guarded alias: preview --refresh --expect-no-changes exits 7 naming both; up removes them", async () => {
    devices.opnsense.backend.insertAddress("jit_nets", "0.0.0.0/1");
    devices.opnsense.backend.insertAddress("jit_admins", "192.0.2.200");
    // A listed address lost by hand is named once, by address (issue 20), not as a shifted list.
    devices.opnsense.backend.removeAddress("jit_nets", "198.51.100.1");
    devices.clearLogs();
    const check = await run(["preview", "--refresh", "--expect-no-changes", "--diff"]);
    expect(check.code).toBe(7);
    expect(check.output).toMatch(/OpnsenseAliasSet opn-set: the target lacks 1 listed entry: 198\.51\.100\.1/);
    expect(check.output).toMatch(/~ missing\s*: \[\s+\+ \[0\]: "198\.51\.100\.1"\s+\]/);
    expect(check.output).not.toMatch(/~ addresses/);
    expect(check.output).toMatch(/OpnsenseAliasSet opn-set: the target holds 1 entry this exclusive set does not list: 0\.0\.0\.0\/1/);
    expect(check.output).toMatch(/~ unexpected\s*: \[\s+\+ \[0\]: "0\.0\.0\.0\/1"/);
    expect(check.output).toMatch(/0\.0\.0\.0\/1/);
    expect(check.output).toMatch(/192\.0\.2\.200/);
    expect(check.output).toMatch(/REMOVES/);
    expect(devices.sideEffects().opnsense).toEqual([]);

    const up = await run(["up", "--refresh", "--yes"]);
    expect(ok(up)).toEqual({ code: 0, tail: "" });
    expect(up.output).toMatch(/removed 1 entry no grant of this program declares: 0\.0\.0\.0\/1/);
    expect(alias("jit_nets").content).toEqual(["198.51.100.1", "198.51.100.128/25"]);
    expect(alias("jit_nets").table).not.toContain("0.0.0.0/1");
    expect(alias("jit_admins").table).toEqual(["198.51.100.77", "203.0.113.20", "203.0.113.30"]);
    expect(ok(await run(["preview", "--refresh", "--expect-no-changes"]))).toEqual({ code: 0, tail: "" });
  });

  test("overlaps (issue 18): grants beside the exclusive set and outside the guard's list are not drift; a new exclusive set names in preview what its first up removes", async () => {
    overlap = true;
    devices.opnsense.backend.insertAddress("jit_runtime", "192.0.2.99", "table");
    const preview = await run(["preview"]);
    expect(ok(preview)).toEqual({ code: 0, tail: "" });
    expect(preview.output).toMatch(
      /OpnsenseAliasSet opn-runtime \(alias jit_runtime\) is new: the target holds 1 entry this exclusive set does not list: 192\.0\.2\.99 — its first `pulumi up` REMOVES it/,
    );
    expect(ok(await run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(alias("jit_runtime").table).toEqual(["192.0.2.10"]);
    expect(alias("jit_nets").content).toEqual(["198.51.100.1", "198.51.100.128/25", "198.51.100.9"]);
    expect(alias("jit_admins").table).toContain("203.0.113.40");
    // Before the fix: exit 7 on every drift check, with a false "up REMOVES it".
    for (let i = 0; i < 2; i++) {
      const check = await run(["preview", "--refresh", "--expect-no-changes"]);
      expect(ok(check)).toEqual({ code: 0, tail: "" });
      expect(check.output).toMatch(/198\.51\.100\.9 on its target is not listed but declared by opn-nets-extra of this program: kept, not drift/);
      expect(check.output).toMatch(/203\.0\.113\.40 on its target is not listed but declared by opn-admins-extra of this program: kept, not drift/);
      expect(check.output).not.toMatch(/REMOVES/);
    }
    overlap = false;
    expect(ok(await run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(alias("jit_runtime").table).toEqual([]);
    expect(alias("jit_nets").content).toEqual(["198.51.100.1", "198.51.100.128/25"]);
    expect(alias("jit_admins").table).not.toContain("203.0.113.40");
  });

  test("expiry is a state (issue 18): a grant whose entry vanished before the revoking up, and an expired set, keep refresh, the drift check and up clean", async () => {
    const day = 86_400_000;
    expiry = { at: new Date(Date.now() + day).toISOString() };
    expect(ok(await run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(alias("jit_runtime").table).toEqual(["192.0.2.20"]);
    // Past the time; the entry is gone (hand edit, reboot) before any revoking up.
    expiry.now = new Date(Date.now() + 2 * day).toISOString();
    devices.opnsense.backend.removeAddress("jit_runtime", "192.0.2.20");
    // Before the fix, refresh dropped the grant from state and every later check refused it as already expired.
    expect(ok(await run(["refresh", "--yes"]))).toEqual({ code: 0, tail: "" });
    // The set still holds its entry: drift until up revokes it.
    expect((await run(["preview", "--refresh", "--expect-no-changes"])).code).toBe(7);
    expect(ok(await run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    const readonlySlots = Object.values(devices.snapshot().fortimanager.admins.find((a) => a.userid === "readonly")!.slots);
    expect(readonlySlots).not.toContainEqual(["192.0.2.21", "255.255.255.255"]);
    // Before the fix, the expired set kept the drift check at exit 7 forever.
    for (let i = 0; i < 2; i++) expect(ok(await run(["preview", "--refresh", "--expect-no-changes"]))).toEqual({ code: 0, tail: "" });
    expiry = undefined;
    expect(ok(await run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
  });

  test("office NAT: removing bob keeps the shared address for alice; removing alice too revokes it", async () => {
    people = [{ who: "alice", addresses: ["198.51.100.77", "203.0.113.20"] }];
    expect(ok(await run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(alias("jit_admins").table).toContain("198.51.100.77");
    expect(Object.values(devices.snapshot().fortimanager.admins.find((a) => a.userid === "bob")!.slots)).toContainEqual(["198.51.100.77", "255.255.255.255"]);
    people = [];
    expect(ok(await run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(alias("jit_admins").table).toEqual(["203.0.113.30"]);
    expect(Object.values(devices.snapshot().fortimanager.admins.find((a) => a.userid === "bob")!.slots)).not.toContainEqual([
      "198.51.100.77",
      "255.255.255.255",
    ]);
  });

  test("FortiGate: the set's object edited by hand to 0.0.0.0/1 is drift that up puts back; a Grant over two groups sharing one object is removed by up", async () => {
    const fgt = devices.fortigate.backend;
    fgt.createGroup("root", "ipv4", "jit-ops", []);
    const twoGroups = (args: string[], on: boolean) => ws.run(args, { env: { SETS_PEOPLE: JSON.stringify(people), SETS_FGT_TWO_GROUPS: on ? "1" : "0" } });
    expect(ok(await twoGroups(["up", "--yes"], true))).toEqual({ code: 0, tail: "" });
    const member = (g: string) => fgt.groupMembers("root", g, "ipv4").sort();
    expect([member("jit-admins"), member("jit-ops")]).toEqual([["grant-203.0.113.40", "grant-203.0.113.8"], ["grant-203.0.113.40"]]);

    fgt.updateAddress("root", "ipv4", "grant-203.0.113.8", { subnet: "0.0.0.0 128.0.0.0" });
    const check = await twoGroups(["preview", "--refresh", "--expect-no-changes", "--diff"], true);
    expect(check.code).toBe(7);
    expect(check.output).toMatch(/grant-203\.0\.113\.8 \(0\.0\.0\.0\/1\)/);
    expect(ok(await twoGroups(["up", "--refresh", "--yes"], true))).toEqual({ code: 0, tail: "" });
    expect(fgt.getAddress("root", "ipv4", "grant-203.0.113.8")!.value).toBe("203.0.113.8 255.255.255.255");
    expect(ok(await twoGroups(["preview", "--refresh", "--expect-no-changes"], true))).toEqual({ code: 0, tail: "" });

    // The Grant leaves the program: both memberships, then the object (202063 before the fix).
    expect(ok(await twoGroups(["up", "--yes"], false))).toEqual({ code: 0, tail: "" });
    expect([member("jit-admins"), member("jit-ops")]).toEqual([["grant-203.0.113.8"], []]);
    expect(fgt.getAddress("root", "ipv4", "grant-203.0.113.40")).toBeUndefined();
    fgt.deleteGroup("root", "ipv4", "jit-ops");
  });

  test("destroy leaves the devices exactly as they were", async () => {
    expect(ok(await run(["destroy", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(isDeepStrictEqual(devices.snapshot(), before) ? "same" : devices.snapshot()).toBe("same");
  });
});

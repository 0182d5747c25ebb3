/**
 * End to end with the real Pulumi CLI, connections from stack config (secrets via
 * `pulumi config set --secret`): preview fails with each device's authorization code and touches
 * nothing; up creates; a second preview is clean; drift by hand makes
 * `preview --refresh --expect-no-changes` exit 7; `up --refresh` repairs; destroy restores the devices;
 * no credential in clear in any backend file, the config file or the CLI output.
 */
import { isDeepStrictEqual } from "node:util";
import { noSideEffects, startDevices, stackConfig, type DeviceSnapshot, type Devices } from "../../scripts/engine-fixture";
import { PulumiWorkspace, type RunResult } from "../../scripts/pulumi-workspace";
import { describeWithCli, leakedSecrets, leaksInFiles, PROGRAM_DIR } from "./helpers";

jest.setTimeout(240_000);

describeWithCli("engine: preview / up / refresh / destroy with stack config", () => {
  let devices: Devices;
  let ws: PulumiWorkspace;
  let before: DeviceSnapshot;
  const outputs: RunResult[] = [];
  const run = async (args: string[]) => {
    const r = await ws.run(args);
    outputs.push(r);
    return r;
  };
  const setAll = async (opts: Parameters<typeof stackConfig>[1]) => {
    for (const e of stackConfig(devices, opts)) await ws.setConfig(e.key, e.value, e.secret);
  };

  beforeAll(async () => {
    devices = await startDevices();
    before = devices.snapshot();
    ws = await PulumiWorkspace.create({ projectDir: PROGRAM_DIR, env: { PULUMI_NODEJS_TRANSPILE_ONLY: "true" }, timeoutMs: 150_000 });
  });
  afterAll(async () => {
    await ws?.dispose();
    await devices?.close();
  });

  // The engine stops a preview at the first resource whose check fails, so each device gets its own.
  test.each([
    [
      "OPNsense",
      { weakOpnsense: true },
      /pulumi-nodejs:dynamic\/opnsense:AliasEntry opn-\S+\s+error: OPN001 OPNsense authorization failed .*Missing privilege: "(Diagnostics: PF Table IP addresses|Firewall: Alias: Edit)"/,
    ],
    ["FortiGate", { weakFortigate: true }, /pulumi-nodejs:dynamic\/fortigate:Address fgt-\S+\s+error: 202002 Fortinet permission denied/],
    ["FortiManager", { weakFortimanager: true }, /pulumi-nodejs:dynamic\/fortimanager:TrustedHost fmg-\S+\s+error: 202002 Fortinet permission denied/],
  ] as const)("preview with under-privileged %s credentials fails with its code and sends nothing with a side effect", async (_device, weak, message) => {
    await setAll(weak);
    devices.clearLogs();
    const r = await run(["preview"]);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(message);
    // The preflight did talk to the devices…
    expect(devices.opnsense.log.entries().length + devices.fortigate.log.entries().length + devices.fortimanager.log.entries().length).toBeGreaterThan(0);
    // …and changed nothing.
    expect(devices.sideEffects()).toEqual(noSideEffects());
    expect(devices.snapshot()).toEqual(before);
  });

  test("up creates every grant; a second preview --expect-no-changes exits 0", async () => {
    await setAll({});
    const up = await run(["up", "--yes"]);
    expect({ code: up.code, tail: up.code === 0 ? "" : up.output.slice(-3000) }).toEqual({ code: 0, tail: "" });
    const s = devices.snapshot();
    const admins = s.opnsense.find((a) => a.alias === "jit_admins")!;
    expect(admins.table).toEqual(expect.arrayContaining(["203.0.113.7", "2001:db8::7"]));
    expect(admins.content).toEqual(expect.arrayContaining(["203.0.113.7", "2001:db8::7"]));
    expect(s.opnsense.find((a) => a.alias === "jit_nets")!.content).toContain("198.51.100.0/24");
    expect(s.fortigate.addresses).toContain("grant-e2e=203.0.113.7 255.255.255.255");
    expect(s.fortigate.groups.find((g) => g.name === "jit-admins")!.members).toEqual(["grant-e2e"]);
    expect(s.fortigate.groups6.find((g) => g.name === "jit-admins6")!.members).toEqual(["grant-e2e-v6"]);
    const alice = s.fortimanager.admins.find((a) => a.userid === "alice")!.slots;
    expect(alice.trusthost2).toEqual(["203.0.113.7", "255.255.255.255"]);
    expect(alice.ipv6_trusthost2).toBe("2001:db8::7/128");
    expect(alice.trusthost1).toEqual(before.fortimanager.admins.find((a) => a.userid === "alice")!.slots.trusthost1);

    const outs = await ws.outputs();
    expect(outs.fortimanagerGrants).toEqual([
      { adminUser: "alice", address: "203.0.113.7", slot: "trusthost2" },
      { adminUser: "alice", address: "2001:db8::7", slot: "ipv6_trusthost2" },
    ]);

    devices.clearLogs();
    const again = await run(["preview", "--expect-no-changes"]);
    expect({ code: again.code, tail: again.code === 0 ? "" : again.output.slice(-3000) }).toEqual({ code: 0, tail: "" });
    expect(devices.sideEffects()).toEqual(noSideEffects());
  });

  test("a grant removed by hand on each device: preview --refresh --expect-no-changes exits 7 without touching the devices; up --refresh restores", async () => {
    devices.opnsense.backend.removeAddress("jit_admins", "203.0.113.7");
    devices.fortigate.backend.removeMember("root", "ipv4", "jit-admins", "grant-e2e");
    devices.fortimanager.backend.admins.get("alice")!.slots.trusthost2 = ["255.255.255.255", "255.255.255.255"];
    const drifted = devices.snapshot();
    devices.clearLogs();

    const check = await run(["preview", "--refresh", "--expect-no-changes"]);
    expect(check.code).toBe(7);
    expect(check.output).toMatch(/\+\s+pulumi-nodejs:dynamic\/opnsense:AliasEntry opn-host create/);
    expect(check.output).toMatch(/~\s+pulumi-nodejs:dynamic\/fortigate:Address fgt-host update/);
    expect(check.output).toMatch(/\+\s+pulumi-nodejs:dynamic\/fortimanager:TrustedHost fmg-host create/);
    expect(devices.sideEffects()).toEqual(noSideEffects());
    expect(devices.snapshot()).toEqual(drifted);

    const repair = await run(["up", "--refresh", "--yes"]);
    expect({ code: repair.code, tail: repair.code === 0 ? "" : repair.output.slice(-3000) }).toEqual({ code: 0, tail: "" });
    const s = devices.snapshot();
    expect(s.opnsense.find((a) => a.alias === "jit_admins")!.table).toContain("203.0.113.7");
    expect(s.fortigate.groups.find((g) => g.name === "jit-admins")!.members).toEqual(["grant-e2e"]);
    expect(Object.values(s.fortimanager.admins.find((a) => a.userid === "alice")!.slots)).toContainEqual(["203.0.113.7", "255.255.255.255"]);

    const clean = await run(["preview", "--refresh", "--expect-no-changes"]);
    expect(clean.code).toBe(0);
  });

  test("destroy leaves the devices exactly as they were", async () => {
    const r = await run(["destroy", "--yes"]);
    expect({ code: r.code, tail: r.code === 0 ? "" : r.output.slice(-3000) }).toEqual({ code: 0, tail: "" });
    expect(isDeepStrictEqual(devices.snapshot(), before) ? "same" : devices.snapshot()).toBe("same");
  });

  test("no credential in clear: state, every backend file, the config file, PULUMI_HOME, CLI output", () => {
    const secrets = { ...devices.credentials } as unknown as Record<string, string>;
    const state = ws.stateText();
    expect(leakedSecrets(state, secrets)).toEqual([]);
    expect(ws.backendFiles().length).toBeGreaterThan(1); // state + history/backups
    expect(leaksInFiles(ws.allFiles(), secrets)).toEqual({});
    expect(outputs.length).toBeGreaterThanOrEqual(6);
    expect(leakedSecrets(outputs.map((o) => o.output).join("\n"), secrets)).toEqual([]);
    // The config file holds the secrets, encrypted.
    expect(ws.configText()).toMatch(/opnsense:apiSecret:\s*\n\s*secure: /);
  });
});

/**
 * End to end with the real Pulumi CLI, the two other ways credentials reach the provider:
 * inline (`connection.token = cfg.requireSecret(…)`, stored by the library as Pulumi secrets) and
 * environment variables only (OPNSENSE_API_KEY, FORTIGATE_TOKEN, …). A rejected FortiGate token
 * fails preview with 202001. State, backend files and CLI output never hold a credential in clear.
 */
import { isDeepStrictEqual } from "node:util";
import { deviceEnv, makeCredentials, noSideEffects, startDevices, type DeviceSnapshot, type Devices } from "../../scripts/engine-fixture";
import { PulumiWorkspace, type RunResult } from "../../scripts/pulumi-workspace";
import { describeWithCli, leakedSecrets, leaksInFiles, PROGRAM_DIR } from "./helpers";

jest.setTimeout(240_000);

const ok = (r: RunResult) => ({ code: r.code, tail: r.code === 0 ? "" : r.output.slice(-3000) });

describeWithCli("engine: inline secret credentials and environment-only credentials", () => {
  let devices: Devices;
  let before: DeviceSnapshot;
  let secrets: Record<string, string>;
  const workspaces: PulumiWorkspace[] = [];
  const outputs: RunResult[] = [];
  /** Runs a command that must succeed; its output joins the final secret scan. */
  const succeeds = async (ws: PulumiWorkspace, args: string[]) => {
    const r = await ws.run(args);
    outputs.push(r);
    expect(ok(r)).toEqual({ code: 0, tail: "" });
  };

  beforeAll(async () => {
    devices = await startDevices(makeCredentials("fwgleakcheck"));
    before = devices.snapshot();
    secrets = { ...devices.credentials, wrongFortigateToken: "fwgleakcheckwrongtoken0123" } as unknown as Record<string, string>;
  });
  afterAll(async () => {
    for (const ws of workspaces) await ws.dispose();
    await devices?.close();
  });

  test("inline credentials: 202001 for a rejected token, then up / destroy; state holds them only as Pulumi secrets", async () => {
    // urls and CA certificates from the environment, credentials inline from secret config.
    const env = Object.fromEntries(Object.entries(deviceEnv(devices)).filter(([k]) => /_(URL|CA_CERT)$/.test(k)));
    const ws = await PulumiWorkspace.create({ projectDir: PROGRAM_DIR, env: { ...env, PULUMI_NODEJS_TRANSPILE_ONLY: "true" }, timeoutMs: 150_000 });
    workspaces.push(ws);
    const c = devices.credentials;
    await ws.setConfig("e2e:credentials", "inline");
    await ws.setConfig("e2e:opnsenseApiKey", c.opnsenseKey, true);
    await ws.setConfig("e2e:opnsenseApiSecret", c.opnsenseSecret, true);
    await ws.setConfig("e2e:fortigateToken", secrets.wrongFortigateToken!, true);
    await ws.setConfig("e2e:fortimanagerToken", c.fortimanagerToken, true);

    devices.clearLogs();
    const denied = await ws.run(["preview"]);
    outputs.push(denied);
    expect(denied.code).not.toBe(0);
    expect(denied.output).toMatch(/pulumi-nodejs:dynamic\/fortigate:Address fgt-\S+\s+error: 202001 Fortinet token or session rejected/);
    expect(devices.sideEffects()).toEqual(noSideEffects());

    await ws.setConfig("e2e:fortigateToken", c.fortigateToken, true);
    await succeeds(ws, ["up", "--yes"]);
    expect(devices.snapshot()).not.toEqual(before);

    // Every resource's credentials are in state, encrypted (the secret signature), never in clear.
    const state = JSON.parse(ws.stateText()) as {
      checkpoint: { latest: { resources: { type: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }[] } };
    };
    const grants = state.checkpoint.latest.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/"));
    expect(grants).toHaveLength(7);
    for (const g of grants) {
      expect(g.inputs?.credentials).toMatchObject({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: expect.any(String) });
      expect(g.outputs?.credentials).toMatchObject({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: expect.any(String) });
    }
    expect(leakedSecrets(ws.stateText(), secrets)).toEqual([]);

    await succeeds(ws, ["destroy", "--yes"]);
    expect(isDeepStrictEqual(devices.snapshot(), before)).toBe(true);
    expect(leaksInFiles(ws.allFiles(), secrets)).toEqual({});
  });

  test("environment-only connections: up, clean preview, destroy; nothing about the credentials in state", async () => {
    const ws = await PulumiWorkspace.create({
      projectDir: PROGRAM_DIR,
      env: { ...deviceEnv(devices), PULUMI_NODEJS_TRANSPILE_ONLY: "true" },
      timeoutMs: 150_000,
    });
    workspaces.push(ws);
    await succeeds(ws, ["up", "--yes"]);
    await succeeds(ws, ["preview", "--refresh", "--expect-no-changes"]);
    expect(leakedSecrets(ws.stateText(), secrets)).toEqual([]);
    await succeeds(ws, ["destroy", "--yes"]);
    expect(isDeepStrictEqual(devices.snapshot(), before)).toBe(true);
    expect(leaksInFiles(ws.allFiles(), secrets)).toEqual({});
  });

  test("no credential in the CLI output of any command", () => {
    expect(outputs.length).toBeGreaterThanOrEqual(6);
    expect(leakedSecrets(outputs.map((o) => o.output).join("\n"), secrets)).toEqual([]);
  });
});

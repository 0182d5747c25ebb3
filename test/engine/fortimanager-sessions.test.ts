/**
 * End to end with the real Pulumi CLI, FortiManager with SESSION auth (`fortimanager:username` +
 * secret `fortimanager:password`, no token): the engine ends the dynamic-provider plugin with SIGKILL
 * right after the last operation (pkg/resource/plugin/plugin.go Close: no graceful hook runs), so a
 * session must be logged out by the operation that used it last, not by an idle timer or an exit
 * hook. After every command (preview, up, refresh, destroy) the emulator holds no session, and every
 * login was logged out.
 *
 * Two engine behaviours: as shipped (CLI >= 3.24x: Close sends SIGINT to the plugin's process group,
 * waits up to 5 s, then SIGKILL, so the provider's SIGINT hook gets a chance), and "SIGKILL at
 * close" (older CLIs, or a plugin still busy after the grace period), simulated by preloading
 * fixtures/sigkill-on-interrupt.cjs into the plugin (NODE_OPTIONS), which SIGKILLs it on the interrupt
 * before any other handler runs.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { startDevices, stackConfig, type DeviceSnapshot, type Devices } from "../../scripts/engine-fixture";
import { PulumiWorkspace, type RunResult } from "../../scripts/pulumi-workspace";
import { DEFAULT_CREDENTIALS } from "../../emulators/fortimanager/backend";
import { describeWithCli, leakedSecrets, PROGRAM_DIR } from "./helpers";

jest.setTimeout(240_000);

const ok = (r: RunResult) => ({ code: r.code, tail: r.code === 0 ? "" : r.output.slice(-3000) });

const PRELOAD = path.join(__dirname, "fixtures", "sigkill-on-interrupt.cjs");

describeWithCli("engine: FortiManager login sessions are logged out by the end of every command", () => {
  describe.each([
    ["engine as shipped (SIGINT, 5 s grace, SIGKILL)", false],
    ["SIGKILL at plugin close (no graceful hook runs)", true],
  ] as const)("%s", (_mode, sigkill) => {
    let devices: Devices;
    let ws: PulumiWorkspace;
    let before: DeviceSnapshot;
    const outputs: RunResult[] = [];

    /** Runs a command; returns its result and the FortiManager session counters right after it returned. */
    const run = async (args: string[]) => {
      const fmg = devices.fortimanager.backend;
      const logins0 = fmg.loginCount;
      const logouts0 = fmg.logoutCount;
      const r = await ws.run(args);
      outputs.push(r);
      const counts = { active: fmg.activeSessions, logins: fmg.loginCount - logins0, logouts: fmg.logoutCount - logouts0 };
      console.log(`pulumi ${args.join(" ")}: exit ${r.code} in ${r.durationMs} ms; FortiManager sessions after it returned: ${JSON.stringify(counts)}`);
      return { r, counts };
    };

    let eventsDir: string;
    const events = () => {
      const f = path.join(eventsDir, "events.log");
      return existsSync(f) ? readFileSync(f, "utf8") : "";
    };

    beforeAll(async () => {
      devices = await startDevices();
      before = devices.snapshot();
      eventsDir = mkdtempSync(path.join(tmpdir(), "fwg-plugin-events-"));
      const env: Record<string, string> = { PULUMI_NODEJS_TRANSPILE_ONLY: "true" };
      if (sigkill)
        Object.assign(env, {
          NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require ${PRELOAD}`.trim(),
          FWG_PLUGIN_EVENTS: path.join(eventsDir, "events.log"),
        });
      ws = await PulumiWorkspace.create({ projectDir: PROGRAM_DIR, env, timeoutMs: 150_000 });
      // Everything from the shared fixture except the FortiManager token: session login as "admin" instead.
      for (const e of stackConfig(devices)) {
        if (e.key === "fortimanager:token" || e.key === "fortimanager:username") continue;
        await ws.setConfig(e.key, e.value, e.secret);
      }
      await ws.setConfig("fortimanager:username", "admin");
      await ws.setConfig("fortimanager:password", DEFAULT_CREDENTIALS.adminPassword, true);
    });
    afterAll(async () => {
      await ws?.dispose();
      await devices?.close();
      if (eventsDir) rmSync(eventsDir, { recursive: true, force: true });
    });

    test("preview (check's preflight logs in): no session left open", async () => {
      const { r, counts } = await run(["preview"]);
      expect(ok(r)).toEqual({ code: 0, tail: "" });
      expect(counts.logins).toBeGreaterThan(0); // session auth was really used
      expect(counts).toEqual({ active: 0, logins: counts.logins, logouts: counts.logins });
    });

    test("up creates the grants by session: no session left open", async () => {
      const { r, counts } = await run(["up", "--yes"]);
      expect(ok(r)).toEqual({ code: 0, tail: "" });
      const alice = devices.snapshot().fortimanager.admins.find((a) => a.userid === "alice")!.slots;
      expect(alice.trusthost2).toEqual(["203.0.113.7", "255.255.255.255"]);
      expect(alice.ipv6_trusthost2).toBe("2001:db8::7/128");
      expect(counts.logins).toBeGreaterThan(0);
      expect(counts).toEqual({ active: 0, logins: counts.logins, logouts: counts.logins });
    });

    test("refresh (read): no session left open", async () => {
      const { r, counts } = await run(["refresh", "--yes"]);
      expect(ok(r)).toEqual({ code: 0, tail: "" });
      expect(counts.logins).toBeGreaterThan(0);
      expect(counts).toEqual({ active: 0, logins: counts.logins, logouts: counts.logins });
    });

    test("destroy restores the devices: no session left open", async () => {
      const { r, counts } = await run(["destroy", "--yes"]);
      expect(ok(r)).toEqual({ code: 0, tail: "" });
      expect(isDeepStrictEqual(devices.snapshot(), before) ? "same" : devices.snapshot()).toBe("same");
      expect(counts.logins).toBeGreaterThan(0);
      expect(counts).toEqual({ active: 0, logins: counts.logins, logouts: counts.logins });
    });

    test("the password never appears in clear in state or CLI output", () => {
      const secrets = { fortimanagerPassword: DEFAULT_CREDENTIALS.adminPassword };
      expect(leakedSecrets(ws.stateText(), secrets)).toEqual([]);
      expect(leakedSecrets(outputs.map((o) => o.output).join("\n"), secrets)).toEqual([]);
    });

    if (sigkill) {
      test("the simulation was in effect: plugins were preloaded and SIGKILLed at close", () => {
        console.log(`plugin events:\n${events()}`);
        expect(events()).toMatch(/ preloaded\n/);
        expect(events()).toMatch(/ SIGINT -> SIGKILL\n/);
      });
    }
  });
});

/**
 * Issue 18 item 4 with the real Pulumi CLI: `pulumi up` SIGKILLed (its whole process group) in the middle
 * of a set update that adds 40 addresses (table mode, each add answered slowly). The engine keeps the old
 * state of an interrupted update, so `destroy` knows only the old addresses: the provider plugin (which
 * the kill does not reach) must notice the engine is gone, take back what the change added, and exit.
 * Then `cancel` + `destroy` leaves the alias exactly as it was. The figures are printed for the note.
 */
import * as path from "node:path";
import { deviceEnv, startDevices, type DeviceSnapshot, type Devices } from "../../scripts/engine-fixture";
import { DeclaredStack, ok, opnAlias, waitFor } from "./declared-helpers";
import { describeWithCli } from "./helpers";

jest.setTimeout(600_000);

const SETS_DIR = path.join(__dirname, "programs", "sets");

describeWithCli("engine (issue 18 item 4): SIGKILL of pulumi up in the middle of a set update", () => {
  let devices: Devices;
  let before: DeviceSnapshot;
  let stack: DeclaredStack | undefined;

  beforeAll(async () => {
    devices = await startDevices();
    before = devices.snapshot();
  });
  afterAll(async () => {
    await stack?.dispose();
    await devices?.close();
  });

  test("the plugin takes back what the killed change added and exits; cancel + destroy leaves no orphan", async () => {
    const s = await DeclaredStack.create(deviceEnv(devices), 240_000, SETS_DIR);
    stack = s;
    const first = ["203.0.113.200"];
    const all = [...first, ...Array.from({ length: 40 }, (_, i) => `198.51.100.${10 + i}`)];
    expect(ok(await s.run(["up", "--yes", "--skip-preview"], { SETS_KILL: JSON.stringify(first) }))).toEqual({ code: 0, tail: "" });

    devices.opnsense.faults.add({ match: /^POST \/api\/firewall\/alias_util\/add/, kind: "latency", ms: 400 });
    devices.clearLogs();
    const adds = () => devices.opnsense.log.sideEffects().filter((e) => e.path.includes("alias_util/add")).length;
    const run = s.spawnKillable(["up", "--yes", "--skip-preview"], { SETS_KILL: JSON.stringify(all) });
    const reached = await waitFor(() => adds() >= 5, 150_000);
    const killedAt = Date.now();
    const addsAtKill = adds();
    run.kill();
    await run.done;
    await waitFor(() => s.pluginProcesses().length === 0, 8000);
    const pluginsAlive = s.pluginProcesses().length;
    const pluginsGoneAfterMs = pluginsAlive === 0 ? Date.now() - killedAt : undefined;
    s.killPlugins();
    devices.opnsense.faults.clear();
    const extra = () => opnAlias(devices.opnsense, "jit_admins").table.filter((a) => all.includes(a) && !first.includes(a));
    const orphansAfterKill = extra();

    const cancel = await s.run(["cancel", "--yes"]);
    const destroy = await s.run(["destroy", "--yes", "--skip-preview"]);
    const orphansAfterDestroy = opnAlias(devices.opnsense, "jit_admins").table.filter((a) => all.includes(a));
    const f = {
      case: "SIGKILL mid set update",
      addsAtKill,
      addsTotal: adds(),
      pluginsAlive,
      pluginsGoneAfterMs,
      orphansAfterKill: orphansAfterKill.length,
      cancelExit: cancel.code,
      orphansAfterDestroy: orphansAfterDestroy.length,
    };
    console.log(`sets-kill figures: ${JSON.stringify(f)}`);
    expect(reached).toBe(true);
    expect({ pluginsAlive, orphansAfterKill, destroy: ok(destroy), orphansAfterDestroy }).toEqual({
      pluginsAlive: 0,
      orphansAfterKill: [],
      destroy: { code: 0, tail: "" },
      orphansAfterDestroy: [],
    });
    expect(devices.snapshot()).toEqual(before);
  });
});

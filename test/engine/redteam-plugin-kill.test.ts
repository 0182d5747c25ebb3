/**
 * Red team (issue 21 + issue 18 item 4): the sets-kill test SIGKILLs `pulumi up` while the TypeScript dynamic
 * provider adds a set's members; the same kill with the provider PLUGIN (a YAML program, firewall-grants:opnsense:
 * AliasSet, 40 members added slowly). Pulumi starts the plugin in its own process group, so the kill does not reach
 * it: it must notice the engine is gone (main.ts watchEngine), take back what the interrupted create added, and
 * exit. Then `cancel` + `up` + `destroy` leave the alias exactly as it was.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { waitFor } from "./declared-helpers";
import { describeWithCli } from "./helpers";
import { ok, pluginProject, useOpnsensePluginSuite } from "./plugin-helpers";

jest.setTimeout(400_000);

const CREDS = { key: "fwgredteamkillkey", secret: "fwgredteamkillsecret0123456789" };
const ALL = Array.from({ length: 40 }, (_, i) => `198.51.100.${10 + i}`);

const PROGRAM = `${pluginProject("redteam-plugin-kill")}resources:
  team:
    type: firewall-grants:opnsense:AliasSet
    properties:
      alias: jit_admins
      addresses:
${ALL.map((a) => `        - ${a}`).join("\n")}
`;

/** The plugin's node processes started under this stack's PULUMI_HOME (the launcher execs node on plugin/main.js). */
function pluginPids(home: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (!/plugin\/(bin\/\.\.\/)?main\.js|pulumi-resource-firewall-grants/.test(readFileSync(`/proc/${e}/cmdline`, "utf8"))) continue;
      if (/\) Z /.test(readFileSync(`/proc/${e}/stat`, "utf8"))) continue;
      if (readFileSync(`/proc/${e}/environ`, "utf8").split("\0").includes(`PULUMI_HOME=${home}`)) out.push(Number(e));
    } catch {
      /* gone, or not ours */
    }
  }
  return out;
}

describeWithCli("red team: SIGKILL of pulumi up while the provider plugin adds a set's members", () => {
  const s = useOpnsensePluginSuite({
    prefix: "fwg-rt-plugin-kill-",
    program: PROGRAM,
    creds: CREDS,
    beforeDispose: (stack) => {
      for (const pid of pluginPids(stack.ws.pulumiHome)) process.kill(pid, "SIGKILL");
    },
  });

  test("the plugin stops, takes back what the killed create added and exits; cancel + destroy leave no orphan", async () => {
    const { box, ws, stack } = s;
    const { projectDir, pathEnv } = stack;
    const before = [...box.backend.tableContent("jit_admins")].sort();
    box.faults.add({ match: /^POST \/api\/firewall\/alias_util\/add/, kind: "latency", ms: 400 });
    box.log.clear();
    const adds = () => box.log.sideEffects().filter((e) => e.path.includes("alias_util/add")).length;

    const full = ["up", "--yes", "--skip-preview", "--stack", ws.stack, "--config-file", ws.configFile, "--non-interactive"];
    const child = spawn(path.join(ws.cli.binDir, "pulumi"), full, {
      cwd: projectDir,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        PATH: pathEnv,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "firewall-grants-local",
        PULUMI_BACKEND_URL: `file://${ws.backendDir}`,
        PULUMI_HOME: ws.pulumiHome,
        NO_COLOR: "1",
      },
    });
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d));
    child.stderr!.on("data", (d: Buffer) => (output += d));
    const done = new Promise<void>((r) => child.on("close", () => r()));
    const reached = await waitFor(() => adds() >= 5, 150_000);
    const pluginsWhileRunning = pluginPids(ws.pulumiHome).length;
    process.kill(-child.pid!, "SIGKILL");
    await done;
    const killedAt = Date.now();
    await waitFor(() => pluginPids(ws.pulumiHome).length === 0, 8000);
    const pluginsAlive = pluginPids(ws.pulumiHome).length;
    const pluginsGoneAfterMs = Date.now() - killedAt;
    for (const pid of pluginPids(ws.pulumiHome)) process.kill(pid, "SIGKILL");
    box.faults.clear();
    const orphansAfterKill = box.backend.tableContent("jit_admins").filter((a) => ALL.includes(a));

    const cancel = await ws.run(["cancel", "--yes"]);
    const destroy = await ws.run(["destroy", "--yes", "--skip-preview"]);
    const orphansAfterDestroy = box.backend.tableContent("jit_admins").filter((a) => ALL.includes(a));
    console.log(
      `plugin-kill figures: ${JSON.stringify({ pluginsWhileRunning, addsAtKillWait: adds(), pluginsAlive, pluginsGoneAfterMs, orphansAfterKill: orphansAfterKill.length, cancel: cancel.code, orphansAfterDestroy: orphansAfterDestroy.length })}`,
    );
    expect(reached ? "reached" : output.slice(-2000)).toBe("reached");
    expect(pluginsWhileRunning).toBeGreaterThan(0);
    expect({ pluginsAlive, orphansAfterKill, destroy: ok(destroy), orphansAfterDestroy }).toEqual({
      pluginsAlive: 0,
      orphansAfterKill: [],
      destroy: { code: 0, tail: "" },
      orphansAfterDestroy: [],
    });
    expect([...box.backend.tableContent("jit_admins")].sort()).toEqual(before);
  });
});

/**
 * Red team (issue 21): two explicit `firewall-grants` providers that point at the SAME OPNsense box (two teams'
 * provider blocks, or a rotated key beside the old one). Each provider is its own plugin process, so the
 * "last one out turns off the lights" rule (a grant that another grant of the program still declares stays on
 * delete: grant-lifecycle.ts `declaredByOther`, a per-process registry) sees only its own provider's grants.
 * Removing one of two grants of the same address must leave the address allowed: the program still declares it.
 * With the TypeScript dynamic resources (one provider process) this holds.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { startOpnsenseEmulator, type OpnsenseEmulator } from "../../emulators";
import { ensurePulumiCli, PulumiWorkspace, type RunResult } from "../../scripts/pulumi-workspace";
import { describeWithCli, IN_CI, ROOT } from "./helpers";

jest.setTimeout(300_000);

const PLUGIN_DIR = path.join(ROOT, "dist", "provider", "plugin", "bin");
const ok = (r: RunResult) => ({ code: r.code, tail: r.code === 0 ? "" : r.output.slice(-3000) });
const FULL = { key: "fwgredteamkey01", secret: "fwgredteamsecret0123456789" };

function yamlHostDir(): string | undefined {
  try {
    const out = execFileSync("bash", [path.join(ROOT, "scripts", "pulumi-yaml.sh")], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], timeout: 20 * 60_000 });
    return out.toString().trim().split("\n").pop();
  } catch (e) {
    if (IN_CI) throw e;
    return undefined;
  }
}

const PROGRAM = (withTeamA: boolean) => `name: redteam-two-providers
runtime: yaml
plugins:
  providers:
    - name: firewall-grants
      path: ${PLUGIN_DIR}
config:
  url: { type: string }
  caCert: { type: string }
  apiKey: { type: string, secret: true }
  apiSecret: { type: string, secret: true }
resources:
  teamA:
    type: pulumi:providers:firewall-grants
    properties:
      opnsenseUrl: \${url}
      opnsenseCaCert: \${caCert}
      opnsenseApiKey: \${apiKey}
      opnsenseApiSecret: \${apiSecret}
  teamB:
    type: pulumi:providers:firewall-grants
    properties:
      opnsenseUrl: \${url}
      opnsenseCaCert: \${caCert}
      opnsenseApiKey: \${apiKey}
      opnsenseApiSecret: \${apiSecret}
${
  withTeamA
    ? `  aliceByA:
    type: firewall-grants:opnsense:AliasEntry
    properties:
      alias: jit_admins
      address: 203.0.113.7
    options:
      provider: \${teamA}
`
    : ""
}  aliceByB:
    type: firewall-grants:opnsense:AliasEntry
    properties:
      alias: jit_admins
      address: 203.0.113.7
    options:
      provider: \${teamB}
`;

describeWithCli("red team: two explicit firewall-grants providers on one OPNsense box (YAML)", () => {
  let box: OpnsenseEmulator;
  let ws: PulumiWorkspace;
  let projectDir: string;

  beforeAll(async () => {
    const hostDir = yamlHostDir();
    if (!hostDir) throw new Error("scripts/pulumi-yaml.sh could not build the YAML language host");
    const cli = await ensurePulumiCli();
    box = await startOpnsenseEmulator({
      port: 0,
      users: [
        {
          name: "grants",
          key: FULL.key,
          secret: FULL.secret,
          privileges: ["page-diagnostics-tables", "page-firewall-aliases", "page-firewall-alias-edit"],
          disabled: false,
        },
      ],
    });
    projectDir = mkdtempSync(path.join(tmpdir(), "fwg-rt-two-providers-"));
    writeFileSync(path.join(projectDir, "Pulumi.yaml"), PROGRAM(true));
    ws = await PulumiWorkspace.create({
      projectDir,
      env: { PATH: `${hostDir}${path.delimiter}${cli.binDir}${path.delimiter}${process.env.PATH ?? ""}` },
      timeoutMs: 180_000,
    });
    await ws.setConfig("url", box.url);
    await ws.setConfig("caCert", box.caCert);
    await ws.setConfig("apiKey", FULL.key, true);
    await ws.setConfig("apiSecret", FULL.secret, true);
  });
  afterAll(async () => {
    await ws?.dispose();
    await box?.close();
    if (projectDir) rmSync(projectDir, { recursive: true, force: true });
  });

  // BUG (red team): the removed grant's provider revokes the address the other provider's grant still declares.
  test.failing("removing one of two grants of the same address keeps the address: the other grant still declares it", async () => {
    expect(ok(await ws.run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(box.backend.tableContent("jit_admins")).toEqual(["203.0.113.7"]);
    writeFileSync(path.join(projectDir, "Pulumi.yaml"), PROGRAM(false));
    expect(ok(await ws.run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    // aliceByB is still declared and its state says granted: the box must still allow the address…
    expect(box.backend.tableContent("jit_admins")).toEqual(["203.0.113.7"]);
    // …and a drift check agrees.
    expect(ok(await ws.run(["preview", "--refresh", "--expect-no-changes"]))).toEqual({ code: 0, tail: "" });
  });
});

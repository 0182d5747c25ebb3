/**
 * End to end with the real Pulumi CLI and a Python program (scripts/pulumi-python.sh: the language host and
 * a virtualenv with `pulumi`): the Python SDK generated from the plugin's schema (scripts/gen-sdk.sh) declares
 * `fg.opnsense.AliasEntry` against the OPNsense emulator through the firewall-grants plugin: up grants it,
 * the drift check is clean, destroy revokes it.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { startOpnsenseEmulator, type OpnsenseEmulator } from "../../emulators";
import { ensurePulumiCli, PulumiWorkspace, type RunResult } from "../../scripts/pulumi-workspace";
import { describeWithCli, leakedSecrets, leaksInFiles, ROOT } from "./helpers";

jest.setTimeout(600_000);

const PLUGIN_DIR = path.join(ROOT, "dist", "provider", "plugin", "bin");
const FULL = { key: "fwgpythonfullkey01", secret: "fwgpythonfullsecret0123456789" };
const ok = (r: RunResult) => ({ code: r.code, tail: r.code === 0 ? "" : r.output.slice(-3000) });
const lastLine = (b: Buffer) => b.toString().trim().split("\n").pop() ?? "";
const script = (name: string, args: string[] = []) =>
  lastLine(execFileSync("bash", [path.join(ROOT, "scripts", name), ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], timeout: 20 * 60_000 }));

const PROGRAM = `import pulumi
import pulumi_firewall_grants as fg

alice = fg.opnsense.AliasEntry("alice", alias="jit_admins", address="203.0.113.7", description="alice, ticket 42")
pulumi.export("address", alice.address)
`;

describeWithCli("engine: a Python program with the SDK generated from the firewall-grants plugin schema", () => {
  let emulator: OpnsenseEmulator;
  let ws: PulumiWorkspace;
  let projectDir: string;
  let sdkDir: string;
  const outputs: RunResult[] = [];
  const run = async (args: string[]) => {
    const r = await ws.run(args);
    outputs.push(r);
    return r;
  };
  const table = () => emulator.backend.tableContent("jit_admins").sort();

  beforeAll(async () => {
    const pythonDir = script("pulumi-python.sh");
    sdkDir = mkdtempSync(path.join(tmpdir(), "fwg-sdk-"));
    script("gen-sdk.sh", [sdkDir]);
    // Installed (not only on PYTHONPATH): the SDK reads its own version from the package metadata.
    const python = path.join(pythonDir, "venv", "bin", "python");
    execFileSync(
      python,
      ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--target", path.join(sdkDir, "site"), path.join(sdkDir, "python")],
      {
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 5 * 60_000,
      },
    );
    const cli = await ensurePulumiCli();
    emulator = await startOpnsenseEmulator({
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
    projectDir = mkdtempSync(path.join(tmpdir(), "fwg-plugin-python-"));
    writeFileSync(
      path.join(projectDir, "Pulumi.yaml"),
      `name: plugin-python\nruntime: python\nplugins:\n  providers:\n    - name: firewall-grants\n      path: ${PLUGIN_DIR}\n`,
    );
    writeFileSync(path.join(projectDir, "__main__.py"), PROGRAM);
    const PATH = [path.join(pythonDir, "venv", "bin"), pythonDir, cli.binDir, process.env.PATH ?? ""].join(path.delimiter);
    ws = await PulumiWorkspace.create({ projectDir, env: { PATH, PYTHONPATH: path.join(sdkDir, "site") }, timeoutMs: 240_000 });
    await ws.setConfig("firewall-grants:opnsenseUrl", emulator.url);
    await ws.setConfig("firewall-grants:opnsenseCaCert", emulator.caCert);
    await ws.setConfig("firewall-grants:opnsenseApiKey", FULL.key, true);
    await ws.setConfig("firewall-grants:opnsenseApiSecret", FULL.secret, true);
  });
  afterAll(async () => {
    await ws?.dispose();
    await emulator?.close();
    for (const d of [projectDir, sdkDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  test("up grants the address, the drift check is clean, destroy revokes it; no secret in clear", async () => {
    expect(ok(await run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(table()).toEqual(["203.0.113.7"]);
    expect(await ws.outputs()).toEqual({ address: "203.0.113.7" });
    expect(ok(await run(["preview", "--refresh", "--expect-no-changes"]))).toEqual({ code: 0, tail: "" });
    expect(ok(await run(["destroy", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(table()).toEqual([]);
    const secrets = { key: FULL.key, secret: FULL.secret };
    expect(leaksInFiles(ws.allFiles(), secrets)).toEqual({});
    for (const r of outputs) expect(leakedSecrets(r.output, secrets)).toEqual([]);
  });
});

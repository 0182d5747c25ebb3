/**
 * End to end with the real Pulumi CLI and a Python program (scripts/pulumi-python.sh: the language host and
 * a virtualenv with `pulumi`): the Python SDK generated from the plugin's schema (scripts/gen-sdk.sh) declares
 * `fg.opnsense.AliasEntry` against the OPNsense emulator through the firewall-grants plugin: up grants it,
 * the drift check is clean, destroy revokes it.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describeWithCli, leakedSecrets, leaksInFiles, ROOT } from "./helpers";
import { ok, pluginProject, useOpnsensePluginSuite } from "./plugin-helpers";

jest.setTimeout(600_000);

const FULL = { key: "fwgpythonfullkey01", secret: "fwgpythonfullsecret0123456789" };
const lastLine = (b: Buffer) => b.toString().trim().split("\n").pop() ?? "";
const script = (name: string, args: string[] = []) =>
  lastLine(execFileSync("bash", [path.join(ROOT, "scripts", name), ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], timeout: 20 * 60_000 }));

const PROGRAM = `import pulumi
import pulumi_firewall_grants as fg

alice = fg.opnsense.AliasEntry("alice", alias="jit_admins", address="203.0.113.7", description="alice, ticket 42")
pulumi.export("address", alice.address)
`;

describeWithCli("engine: a Python program with the SDK generated from the firewall-grants plugin schema", () => {
  let sdkDir: string | undefined;
  const s = useOpnsensePluginSuite({
    prefix: "fwg-plugin-python-",
    program: pluginProject("plugin-python", "python"),
    creds: FULL,
    stackOptions: () => {
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
      return {
        hostPath: [path.join(pythonDir, "venv", "bin"), pythonDir],
        env: { PYTHONPATH: path.join(sdkDir, "site") },
        timeoutMs: 240_000,
        files: { "__main__.py": PROGRAM },
      };
    },
  });
  afterAll(() => {
    if (sdkDir) rmSync(sdkDir, { recursive: true, force: true });
  });
  const table = () => s.box.backend.tableContent("jit_admins").sort();

  test("up grants the address, the drift check is clean, destroy revokes it; no secret in clear", async () => {
    const { ws, stack } = s;
    const { run, outputs } = stack;
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

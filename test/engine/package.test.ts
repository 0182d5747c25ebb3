/**
 * End to end as a user installs the library: `npm pack` of this checkout, a brand-new Pulumi project in
 * a temp directory outside the repository that installs the tarball and the peer `@pulumi/pulumi`
 * (plus `@pulumi/policy` for the shipped policy pack), then the real CLI against the emulators:
 * a preview with the policy pack fails on the one grant that breaks a rule (and touches no device),
 * `up` with the pack grants the rest, `destroy` leaves the devices as they were. Also: what the tarball
 * holds, that a failing preview prints no stack frame pointing at a file the package does not ship, and
 * that an example folder copied out of the repository installs with the tarball beside it.
 *
 * npm uses its cache (`--prefer-offline`); the registry is asked only for what the cache lacks.
 * `FWG_PACKAGE_TEST_SDK=<version>` installs another `@pulumi/pulumi` (the peer range's lowest, 3.139.0,
 * was run this way). Needs `npm run build` (the tarball is packed from dist/ without running prepack,
 * so a concurrent build elsewhere in the checkout is not disturbed).
 */
import { execFile } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { isDeepStrictEqual, promisify } from "node:util";
import { noSideEffects, startDevices, stackConfig, type DeviceSnapshot, type Devices } from "../../scripts/engine-fixture";
import { PulumiWorkspace, type RunResult } from "../../scripts/pulumi-workspace";
import { describeWithCli, leakedSecrets, ROOT } from "./helpers";

jest.setTimeout(180_000);

const exec = promisify(execFile);
const SDK = process.env.FWG_PACKAGE_TEST_SDK ?? "3.248.0";
const POLICY = "1.21.0";
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const TARBALL = `pulumi-firewall-grants-${VERSION}.tgz`;

const ok = (r: RunResult) => ({ code: r.code, timedOut: r.timedOut, tail: r.code === 0 ? "" : r.output.slice(-3000) });

/** The new project's program: one person on all three devices, and a vendor network when `vendorNet` is set. */
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import * as grants from "pulumi-firewall-grants";

const cfg = new pulumi.Config();
const expiresAt = cfg.require("expiresAt");
const description = "alice on call, OPS-1234";
const granted: pulumi.Output<string>[] = [
  new grants.OpnsenseAliasEntry("alice-opn", { alias: "jit_admins", address: "203.0.113.7", description, expiresAt }).address,
  new grants.FortigateAddress("alice-fgt", { name: "grant-alice", address: "203.0.113.7", group: "jit-admins", description, expiresAt }).address,
  new grants.FortimanagerTrustedHost("alice-fmg", { adminUser: "alice", address: "203.0.113.7", description, expiresAt }).address,
];
if (cfg.getBoolean("vendorNet")) {
  granted.push(new grants.OpnsenseAliasEntry("vendor-net", { alias: "jit_nets", address: "10.20.0.0/16", method: "config", description: "vendor VPN, OPS-99", expiresAt }).address);
}
export const addresses = granted;
`;

/** Policy config: the pack's defaults (broadest IPv4 prefix /24) plus a week's expiry, a ticket id and the allowed targets. */
const POLICY_CONFIG = {
  "firewall-grants-expiry": { maxDays: 7 },
  "firewall-grants-description": { pattern: "\\bOPS-\\d+\\b" },
  "firewall-grants-allowed-targets": { opnsenseAliases: ["jit_*"], fortigateGroups: ["jit-admins"], fortimanagerAdmins: ["alice", "bob"] },
};

/** Paths in stack frames (`at f (/x/y.js:1:2)`, `/x/y.ts:3`) that do not exist on this machine. */
function framesToMissingFiles(output: string): string[] {
  const paths = [...output.matchAll(/(\/[\w@.+\-/]+\.(?:[cm]?js|ts)):\d+/g)].map((m) => m[1]!);
  return [...new Set(paths)].filter((p) => !existsSync(p));
}

describeWithCli("engine: the packed package in a new Pulumi project outside the repository, with the policy pack", () => {
  let dir: string;
  let project: string;
  let packed: { files: { path: string }[]; size: number; unpackedSize: number; entryCount: number };
  let devices: Devices;
  let before: DeviceSnapshot;
  let ws: PulumiWorkspace | undefined;
  const outputs: RunResult[] = [];
  const timings: Record<string, number> = {};
  let policyArgs: string[];
  let example: string;
  let exampleInstalled = "";

  const run = async (args: string[]) => {
    const r = await ws!.run(args);
    outputs.push(r);
    timings[args.slice(0, 2).join(" ")] = r.durationMs;
    return r;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "fwg-package-"));
    project = path.join(dir, "grants");
    let t = Date.now();
    const { stdout } = await exec("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], { cwd: ROOT, maxBuffer: 16 << 20 });
    [packed] = JSON.parse(stdout) as [typeof packed];
    timings.pack = Date.now() - t;

    // A brand-new project, as `pulumi new typescript` would lay it out.
    await exec("mkdir", ["-p", project]);
    writeFileSync(
      path.join(project, "Pulumi.yaml"),
      "name: grants-from-tarball\nruntime: nodejs\ndescription: pulumi-firewall-grants installed from its tarball\n",
    );
    writeFileSync(
      path.join(project, "package.json"),
      JSON.stringify(
        {
          name: "grants-from-tarball",
          private: true,
          main: "index.ts",
          dependencies: { "@pulumi/pulumi": SDK, "@pulumi/policy": POLICY, "pulumi-firewall-grants": `file:../${TARBALL}` },
          devDependencies: { "@types/node": "^20.19.0", typescript: "5.9.3" },
        },
        null,
        2,
      ),
    );
    writeFileSync(
      path.join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { target: "ES2022", module: "commonjs", moduleResolution: "node", strict: true, types: ["node"] },
        files: ["index.ts"],
      }),
    );
    writeFileSync(path.join(project, "index.ts"), PROGRAM);
    writeFileSync(path.join(dir, "grants-policy.json"), JSON.stringify(POLICY_CONFIG, null, 2));
    policyArgs = [
      "--policy-pack",
      path.join(project, "node_modules", "pulumi-firewall-grants", "policy", "pack"),
      "--policy-pack-config",
      path.join(dir, "grants-policy.json"),
    ];

    // The example a user copies, as the README says: the folder, plus the tarball next to its package.json.
    example = path.join(dir, "multi-device");
    cpSync(path.join(ROOT, "examples", "multi-device"), example, { recursive: true });
    copyFileSync(path.join(dir, TARBALL), path.join(example, TARBALL));

    t = Date.now();
    const install = (cwd: string) => exec("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd, maxBuffer: 16 << 20 });
    const [, exampleInstall] = await Promise.all([
      install(project),
      install(example).then(
        () => "ok",
        (e: Error) => e.message,
      ),
    ]);
    exampleInstalled = exampleInstall;
    timings.install = Date.now() - t;
    t = Date.now();
    const typecheck = (cwd: string) =>
      exec(path.join(cwd, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", cwd], { cwd }).then(
        () => "ok",
        (e: { stdout?: string; message: string }) => e.stdout || e.message,
      );
    // (The examples' code is type-checked against the sources by test/examples.test.ts.)
    const programTypes = await typecheck(project);
    if (programTypes !== "ok") throw new Error(`the program does not type-check against the installed package:\n${programTypes}`);
    timings.typecheck = Date.now() - t;

    devices = await startDevices();
    before = devices.snapshot();
    // Type-checked above; the CLI runs then skip ts-node's type check.
    ws = await PulumiWorkspace.create({ projectDir: project, env: { PULUMI_NODEJS_TRANSPILE_ONLY: "true" }, timeoutMs: 120_000 });
    for (const e of stackConfig(devices)) await ws.setConfig(e.key, e.value, e.secret);
    await ws.setConfig("expiresAt", new Date(Date.now() + 2 * 86_400_000).toISOString());
  });

  afterAll(async () => {
    // FWG_PACKAGE_TEST_DUMP=<file>: every CLI output of this suite, to read what a user sees.
    if (process.env.FWG_PACKAGE_TEST_DUMP) writeFileSync(process.env.FWG_PACKAGE_TEST_DUMP, outputs.map((o) => o.output).join("\n=====\n"));
    await ws?.dispose();
    await devices?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    console.log(`package test (SDK ${SDK}): tarball ${packed?.size} B, ${packed?.entryCount} files; ms: ${JSON.stringify(timings)}`);
  });

  test("the tarball holds the built library, the policy pack and LICENSE; no bench, scripts, tests or source maps", () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        "LICENSE",
        "README.md",
        "package.json",
        "dist/provider/index.js",
        "dist/provider/index.d.ts",
        "dist/emulators/index.js",
        "emulators/testdata/ca.crt",
        "dist/cli/main.js",
        "dist/policy/index.js",
        "policy/pack/index.js",
        "policy/pack/PulumiPolicy.yaml",
        "policy/pack/package.json",
      ]),
    );
    expect(files.filter((f) => /(^|\/)(bench|scripts|test)\//.test(f) || /\.map$/.test(f) || (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)))).toEqual([]);
    // Every compiled file has its source in this checkout (a stale dist/ would ship deleted modules).
    const stale = files.filter((f) => /^dist\/.*\.js$/.test(f) && !existsSync(path.join(ROOT, f.replace(/^dist\//, "").replace(/\.js$/, ".ts"))));
    expect(stale).toEqual([]);
    expect(JSON.parse(readFileSync(path.join(ROOT, "policy", "pack", "package.json"), "utf8")).version).toBe(VERSION);
  });

  test("examples/multi-device copied out of the repository installs (npm install) with the tarball beside it", () => {
    expect(exampleInstalled).toBe("ok");
    expect(JSON.parse(readFileSync(path.join(example, "node_modules", "pulumi-firewall-grants", "package.json"), "utf8")).version).toBe(VERSION);
  });

  test("one copy of @pulumi/pulumi: the package uses the project's (peer dependency)", () => {
    const nested = path.join(project, "node_modules", "pulumi-firewall-grants", "node_modules", "@pulumi", "pulumi");
    expect(existsSync(nested)).toBe(false);
    expect(JSON.parse(readFileSync(path.join(project, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")).version).toBe(SDK);
  });

  test("preview with the policy pack fails on the vendor network broader than /24, and touches no device", async () => {
    await ws!.setConfig("vendorNet", "true");
    devices.clearLogs();
    const r = await run(["preview", ...policyArgs]);
    expect(r.code).toBe(1);
    expect(r.output).toContain("firewall-grants-broadest-prefix");
    expect(r.output).toContain("address 10.20.0.0/16 is broader than /24, the broadest IPv4 prefix allowed");
    // Only the vendor grant breaks a rule.
    expect(r.output.match(/\[mandatory\]/g)).toHaveLength(1);
    expect(devices.sideEffects()).toEqual(noSideEffects());
    expect(framesToMissingFiles(r.output)).toEqual([]);
  });

  test("up with the policy pack grants the compliant program on all three devices", async () => {
    await ws!.setConfig("vendorNet", "false");
    const r = await run(["up", "--yes", ...policyArgs]);
    expect(ok(r)).toEqual({ code: 0, timedOut: false, tail: "" });
    expect(r.output).not.toContain("[mandatory]");
    const s = devices.snapshot();
    expect(s.opnsense.find((a) => a.alias === "jit_admins")!.table).toContain("203.0.113.7");
    expect(s.fortigate.groups.find((g) => g.name === "jit-admins")!.members).toEqual(["grant-alice"]);
    expect(await ws!.outputs()).toEqual({ addresses: ["203.0.113.7", "203.0.113.7", "203.0.113.7"] });
  });

  test("a provider error in preview prints no stack frame into files the package does not ship", async () => {
    const weak = stackConfig(devices, { weakOpnsense: true }).filter((e) => e.key.startsWith("opnsense:api"));
    for (const e of weak) await ws!.setConfig(e.key, e.value, e.secret);
    try {
      const r = await run(["preview", "--refresh"]);
      expect(r.code).toBe(1);
      expect(r.output).toMatch(/OPN00[01]/);
      expect(framesToMissingFiles(r.output)).toEqual([]);
      // No frame into the repository: the project runs the installed copy only.
      expect(r.output).not.toContain(ROOT + path.sep);
    } finally {
      for (const e of stackConfig(devices).filter((c) => c.key.startsWith("opnsense:api"))) await ws!.setConfig(e.key, e.value, e.secret);
    }
  });

  test("destroy leaves the devices as they were; no credential in clear in state or output", async () => {
    const r = await run(["destroy", "--yes"]);
    expect(ok(r)).toEqual({ code: 0, timedOut: false, tail: "" });
    expect(isDeepStrictEqual(devices.snapshot(), before) ? "same" : devices.snapshot()).toBe("same");
    const secrets = { ...devices.credentials } as unknown as Record<string, string>;
    expect(leakedSecrets(ws!.stateText(), secrets)).toEqual([]);
    expect(leakedSecrets(outputs.map((o) => o.output).join("\n"), secrets)).toEqual([]);
  });
});

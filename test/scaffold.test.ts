/**
 * scripts/new-device.ts on a copy of the repository (provider/, cli/, scripts/, tsconfig; node_modules
 * linked): the scaffold writes a fourth device's files and registrations, the result type-checks and
 * compiles, and the device appears in every surface derived from the registry — stack-config keys,
 * environment names, `doctor` flags and run (its declared steps against its emulator), `emulate`.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { insertAbove, names, scaffold } from "../scripts/new-device";

const ROOT = path.join(__dirname, "..");
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "scaffold-test-"));
  for (const d of ["provider", "emulators", "cli", "scripts"]) cpSync(path.join(ROOT, d), path.join(dir, d), { recursive: true });
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("inserts above a marker and refuses a file without it", () => {
  expect(insertAbove("a\n  // new-device: x above\nb\n", "// new-device: x", "  y,\n", "f")).toBe("a\n  y,\n  // new-device: x above\nb\n");
  expect(() => insertAbove("a\n", "// new-device: x", "y\n", "f.ts")).toThrow('f.ts: marker "// new-device: x" not found');
  expect(() => names("PfSense")).toThrow(/lower-case/);
});

it("scaffolds pfsense: files, registrations, a clean type-check and build, and the device in every derived surface", () => {
  const written = scaffold(dir, names("pfsense", "pfSense", "AliasEntry"));
  expect(written).toEqual(
    expect.arrayContaining([
      "provider/devices/pfsense/client.ts",
      "provider/devices/pfsense/preflight.ts",
      "provider/devices/pfsense/resource.ts",
      "provider/devices/pfsense/settings.ts",
      "provider/devices/pfsense/device.ts",
      "emulators/pfsense/emulator.ts",
      "test/pfsense/resource.test.ts",
      "provider/device-settings.ts",
      "provider/registry.ts",
      "provider/index.ts",
      "emulators/index.ts",
    ]),
  );
  expect(readFileSync(path.join(dir, "provider/index.ts"), "utf8")).toContain(
    'export { PfsenseAliasEntry, pfsenseAliasEntryProvider, type PfsenseAliasEntryArgs } from "./devices/pfsense/resource";\n// new-device: exports',
  );
  expect(() => scaffold(dir, names("pfsense"))).toThrow("provider/devices/pfsense exists already");

  // Type-check and compile the registry with the new device (provider/ and cli/ follow from it) and its test.
  writeFileSync(
    path.join(dir, "tsconfig.scaffold.json"),
    JSON.stringify({
      extends: path.join(ROOT, "tsconfig.json"),
      compilerOptions: { rootDir: dir, outDir: path.join(dir, "dist"), sourceMap: false, declaration: false, incremental: false },
      include: [`${dir}/provider/**/*.ts`, `${dir}/emulators/**/*.ts`, `${dir}/cli/**/*.ts`, `${dir}/test/pfsense/*.ts`],
    }),
  );
  const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
  try {
    execFileSync(process.execPath, [tsc, "-p", path.join(dir, "tsconfig.scaffold.json")], { cwd: dir, encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    throw new Error(`the scaffold does not type-check:\n${(e as { stdout?: string }).stdout ?? ""}`, { cause: e });
  }

  // The derived surfaces, read from the compiled copy.
  const probe = `
    const { stackConfigKeys, environmentNames } = require("./dist/provider/device-settings");
    const { deviceList } = require("./dist/provider/registry");
    const { doctorOptions, emulateOptions, secretFlag } = require("./dist/cli/main");
    const { helpTexts } = require("./dist/cli/help");
    const pkg = require("./dist/provider/index");
    const emulators = require("./dist/emulators/index");
    const d = deviceList().find((x) => x.name === "pfsense");
    console.log(JSON.stringify({
      config: stackConfigKeys().filter((k) => k.startsWith("pfsense:")),
      env: environmentNames().filter((e) => e.device === "pfsense").map((e) => e.name),
      doctor: Object.keys(doctorOptions()).filter((k) => k.startsWith("pfsense-")),
      emulate: Object.keys(emulateOptions()).filter((k) => k.startsWith("pfsense-")),
      refused: secretFlag().test("--pfsense-token=x"),
      help: helpTexts().doctor.includes("--pfsense-list <name>") && helpTexts().emulate.includes("pfSense"),
      steps: d.resources[0].preflight.map((s) => s.id),
      exported: pkg.PfsenseAliasEntry === d.resources[0].resourceClass && pkg.pfsenseAliasEntryProvider === d.resources[0].provider,
      emulator: Object.values(emulators).includes(d.emulator.start),
    }));
  `;
  const surfaces = JSON.parse(execFileSync(process.execPath, ["-e", probe], { cwd: dir, encoding: "utf8" })) as Record<string, unknown>;
  expect(surfaces).toEqual({
    config: ["pfsense:url", "pfsense:caCert", "pfsense:insecure", "pfsense:timeoutMs", "pfsense:allowHttp", "pfsense:preflight", "pfsense:token"],
    env: ["PFSENSE_URL", "PFSENSE_CA_CERT", "PFSENSE_INSECURE", "PFSENSE_TIMEOUT_MS", "PFSENSE_ALLOW_HTTP", "PFSENSE_PREFLIGHT", "PFSENSE_TOKEN"],
    doctor: ["pfsense-url", "pfsense-token-file", "pfsense-list"],
    emulate: ["pfsense-port"],
    refused: true,
    help: true,
    steps: ["auth", "list"],
    exported: true,
    emulator: true,
  });

  // `emulate` starts it and `doctor` runs its declared steps against it, as a user would (compiled CLI).
  const run = `
    const { startDemoEmulators } = require("./dist/cli/emulate");
    const { runDoctor } = require("./dist/cli/doctor");
    const { planDoctor } = require("./dist/cli/doctor-targets");
    const { deviceList } = require("./dist/provider/registry");
    (async () => {
      const devices = deviceList().filter((d) => d.name === "pfsense");
      const { info, close } = await startDemoEmulators({ host: "127.0.0.1", ports: {}, outDir: ${JSON.stringify(path.join(dir, "emu"))}, json: true }, devices);
      Object.assign(process.env, info.env, { PFSENSE_CA_CERT: require("fs").readFileSync(info.caCertFile, "utf8") });
      const lines = [];
      const ok = await runDoctor(planDoctor({ "pfsense-url": info.pfsense.url, "pfsense-list": "jit" }), (l) => lines.push(l), devices);
      const missing = await runDoctor(planDoctor({ "pfsense-url": info.pfsense.url, "pfsense-list": "nope" }), (l) => lines.push(l), devices);
      await close();
      console.log(JSON.stringify({ ok, missing, lines }));
    })().catch((e) => { console.error(e); process.exit(1); });
  `;
  const out = JSON.parse(
    execFileSync(process.execPath, ["-e", run], { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" } }),
  ) as { ok: number; missing: number; lines: string[] };
  expect(out.ok).toBe(0);
  expect(out.lines).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^pfsense \S+ · PfsenseAliasEntry list jit$/),
      "  ✔ auth — the token is accepted",
      "  ✔ list — the list exists",
    ]),
  );
  expect(out.missing).toBe(1);
  expect(out.lines).toEqual(expect.arrayContaining([expect.stringMatching(/^ {2}✘ list — the list exists — /)]));
});

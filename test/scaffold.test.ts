/**
 * scripts/new-device.ts on a copy of the repository, run as docs/adding-a-device.md says (its own example
 * command): the scaffold touches exactly the files the guide lists (nothing else in the copy changes, the
 * regenerated plugin schema and README included), and its output type-checks and builds with the whole
 * repository, passes the repository's lint (the layout rules too) and prettier, shows up in every surface
 * derived from the registry, answers `doctor` and `emulate` as a user runs them, and passes its own test
 * and the cross-device tables (hostile input, secrets) for its resource.
 * Contract tier: child processes and a build; about 2 minutes on 2 cores.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { fill, formatFiles, insertAbove, lazyExports, names, scaffold, type DeviceNames } from "../scripts/new-device";

jest.setTimeout(300_000);

const ROOT = path.join(__dirname, "..");
const GUIDE = readFileSync(path.join(ROOT, "docs", "adding-a-device.md"), "utf8");

/** The guide's example command (`npm run new-device -- <name> --display … --object …`), as the script parses it. */
function guideExample(): DeviceNames {
  const m = /^npm run new-device -- (.+)$/m.exec(GUIDE);
  if (!m) throw new Error("docs/adding-a-device.md has no `npm run new-device -- …` example");
  const { values, positionals } = parseArgs({
    args: m[1]!.trim().split(/\s+/),
    options: { display: { type: "string" }, object: { type: "string" } },
    allowPositionals: true,
  });
  return names(positionals[0]!, values.display, values.object);
}

/** The paths the guide lists between `<!-- files:<list>:begin/end -->`, for device `name`. */
function guideList(list: string, name: string): string[] {
  const m = new RegExp(`<!-- files:${list}:begin -->([\\s\\S]*?)<!-- files:${list}:end -->`).exec(GUIDE);
  if (!m) throw new Error(`docs/adding-a-device.md lacks the files:${list} markers`);
  return [...m[1]!.matchAll(/^- `([^`]+)`/gm)].map((x) => x[1]!.replace(/<name>/g, name));
}

/** Every file under `dir` (node_modules, dist and the test's own files aside) with a hash of its content. */
function snapshot(dir: string, rel = "", out = new Map<string, string>()): Map<string, string> {
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (["node_modules", "dist", ".scaffold-test"].includes(r)) continue;
    if (e.isDirectory()) snapshot(dir, r, out);
    else
      out.set(
        r,
        createHash("sha256")
          .update(readFileSync(path.join(dir, r)))
          .digest("hex"),
      );
  }
  return out;
}
const changed = (before: Map<string, string>, after: Map<string, string>) =>
  [...new Set([...before.keys(), ...after.keys()])].filter((f) => before.get(f) !== after.get(f)).sort();

let dir: string;
const node = (args: readonly string[], what: string, env?: NodeJS.ProcessEnv): string => {
  try {
    return execFileSync(process.execPath, args, { cwd: dir, encoding: "utf8", stdio: "pipe", ...(env && { env }), maxBuffer: 64 << 20 });
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string };
    throw new Error(`${what} failed:\n${x.stdout ?? ""}\n${x.stderr ?? ""}`.slice(0, 20_000), { cause: e });
  }
};
const CLEAN_ENV = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "scaffold-test-"));
  // The repository as git sees it (tracked, and new files not ignored), so that the diff below is `git status`.
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
    .split("\0")
    .filter((f) => f !== "");
  for (const f of files) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    try {
      copyFileSync(path.join(ROOT, f), path.join(dir, f));
    } catch (e) {
      if ((e as { code?: string }).code !== "ENOENT") throw e; // deleted in the work tree, not yet in the index
    }
  }
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("inserts above a marker, refuses a file without it, and refuses a template name left over", () => {
  expect(insertAbove("a\n  // new-device: x above\nb\n", "// new-device: x", "  y,\n", "f")).toBe("a\n  y,\n  // new-device: x above\nb\n");
  expect(() => insertAbove("a\n", "// new-device: x", "y\n", "f.ts")).toThrow('f.ts: marker "// new-device: x" not found');
  expect(() => names("PfSense")).toThrow(/lower-case/);
  expect(() => names("toyfw")).toThrow(/template/);
  expect(() => names("acme", 'Acme"Wall')).toThrow(/display name/);
  const n = names("acme", "AcmeWall", "AliasEntry");
  expect(fill("class ToyfwListEntry {} // TOYFW_LIST_ENTRY toyfwListEntryProvider Toy Firewall", n, "t")).toBe(
    "class AcmeAliasEntry {} // ACME_ALIAS_ENTRY acmeAliasEntryProvider AcmeWall",
  );
  expect(() => fill("const tOyFw = 1;", n, "t.ts")).toThrow('t.ts: the template name "tOyFw" is left after substitution');
});

it("scaffolds the guide's example: exactly the listed files, compiled, linted, derived everywhere, green in the cross-device tables", () => {
  const started = Date.now();
  const n = guideExample();
  const { name, className } = n;
  const before = snapshot(dir);

  // 1. The files the scaffold writes are the files the guide lists, and nothing else changes.
  const written = scaffold(dir, n);
  formatFiles(dir, written);
  expect([...written].sort()).toEqual(guideList("scaffold", name).sort());
  expect(changed(before, snapshot(dir))).toEqual([...written].sort());
  expect(readFileSync(path.join(dir, "provider/index.ts"), "utf8")).toContain(`${lazyExports(n)}// new-device: exports`);
  expect(() => scaffold(dir, names(name))).toThrow(`provider/devices/${name} exists already`);

  // 2. The repository's lint (layout rules included: the copy's eslint.config.js lists the new device folder) and prettier.
  const ts = written.filter((f) => f.endsWith(".ts"));
  node([path.join(dir, "node_modules/eslint/bin/eslint.js"), "--max-warnings=0", ...ts], "eslint");
  node([path.join(dir, "node_modules/prettier/bin/prettier.cjs"), "--check", ...written], "prettier --check");

  // 3. The whole repository type-checks and builds with the new device (tests, CLI, bench and scripts too).
  // (The engine programs import the built package by name: test/engine builds and runs them itself.)
  mkdirSync(path.join(dir, ".scaffold-test"), { recursive: true });
  writeFileSync(
    path.join(dir, ".scaffold-test/tsconfig.json"),
    JSON.stringify({ extends: "../tsconfig.json", exclude: ["../test/engine/program", "../test/engine/programs"] }),
  );
  node([path.join(dir, "node_modules/typescript/bin/tsc"), "-p", ".scaffold-test/tsconfig.json"], "tsc (type-check and build)");

  // 4. What the registry derives into files: the README's privilege table and the plugin schema (the plugin
  // reads each resource's declaration), and nothing else.
  const scaffolded = snapshot(dir);
  node(["dist/scripts/render-readme.js"], "render-readme");
  node(["dist/scripts/gen-schema.js"], "gen-schema");
  expect(guideList("generated", name).sort()).toEqual(["README.md", "provider/plugin/schema.json"]);
  expect(changed(scaffolded, snapshot(dir))).toEqual(["README.md", "provider/plugin/schema.json"]);
  expect(readFileSync(path.join(dir, "provider/plugin/schema.json"), "utf8")).toContain(`"firewall-grants:${name}:`);
  expect(readFileSync(path.join(dir, "README.md"), "utf8")).toMatch(
    new RegExp(
      `<!-- preflight:${className}:begin [^\\n]*-->\\n\\| step[^\\n]*\\n[^\\n]*\\n\\| auth \\|[\\s\\S]*\\| list \\|[^\\n]*\\n<!-- preflight:${className}:end -->`,
    ),
  );

  // 5. The derived surfaces, read from the compiled copy.
  const probe = `
    const { stackConfigKeys, environmentNames } = require("./dist/provider/device-settings");
    const { deviceList } = require("./dist/provider/registry");
    const { doctorOptions, emulateOptions, secretFlag } = require("./dist/cli/main");
    const { helpTexts } = require("./dist/cli/help");
    const pkg = require("./dist/provider/index");
    const emulators = require("./dist/emulators/index");
    const n = ${JSON.stringify(n)};
    const d = deviceList().find((x) => x.name === n.name);
    console.log(JSON.stringify({
      config: stackConfigKeys().filter((k) => k.startsWith(n.name + ":")),
      env: environmentNames().filter((e) => e.device === n.name).map((e) => e.name),
      doctor: Object.keys(doctorOptions()).filter((k) => k.startsWith(n.name + "-")),
      emulate: Object.keys(emulateOptions()).filter((k) => k.startsWith(n.name + "-")),
      refused: secretFlag().test("--" + n.name + "-token=x"),
      help: helpTexts().doctor.includes("--" + n.name + "-list <name>") && helpTexts().emulate.includes(n.display),
      steps: d.resources[0].preflight.map((s) => s.id),
      exported: pkg[n.className] === d.resources[0].resourceClass && pkg[n.providerExport] === d.resources[0].provider,
      emulator: Object.values(emulators).includes(d.emulator.start),
      policy: require("./dist/policy/index").GRANT_TYPES[n.className],
    }));
  `;
  const C = n.constant;
  expect(JSON.parse(node(["-e", probe], "the surfaces probe"))).toEqual({
    config: ["url", "caCert", "insecure", "timeoutMs", "allowHttp", "preflight", "token"].map((k) => `${name}:${k}`),
    env: ["URL", "CA_CERT", "INSECURE", "TIMEOUT_MS", "ALLOW_HTTP", "PREFLIGHT", "TOKEN"].map((k) => `${C}_${k}`),
    doctor: [`${name}-url`, `${name}-token-file`, `${name}-list`],
    emulate: [`${name}-port`],
    refused: true,
    help: true,
    steps: ["auth", "list"],
    exported: true,
    emulator: true,
    policy: `pulumi-nodejs:dynamic/${name}:${n.object}`,
  });

  // 6. `emulate` starts it and `doctor` runs its declared steps against it, as a user would (compiled CLI).
  const run = `
    const { startDemoEmulators } = require("./dist/cli/emulate");
    const { runDoctor } = require("./dist/cli/doctor");
    const { planDoctor } = require("./dist/cli/doctor-targets");
    const { deviceList } = require("./dist/provider/registry");
    const name = ${JSON.stringify(name)};
    (async () => {
      const devices = deviceList().filter((d) => d.name === name);
      const { info, close } = await startDemoEmulators({ host: "127.0.0.1", ports: {}, outDir: ${JSON.stringify(path.join(dir, ".scaffold-test", "emu"))}, json: true }, devices);
      Object.assign(process.env, info.env, { ${C}_CA_CERT: require("fs").readFileSync(info.caCertFile, "utf8") });
      const lines = [];
      const ok = await runDoctor(planDoctor({ [name + "-url"]: info[name].url, [name + "-list"]: "jit" }), (l) => lines.push(l), devices);
      const missing = await runDoctor(planDoctor({ [name + "-url"]: info[name].url, [name + "-list"]: "nope" }), (l) => lines.push(l), devices);
      await close();
      console.log(JSON.stringify({ ok, missing, lines }));
    })().catch((e) => { console.error(e); process.exit(1); });
  `;
  const out = JSON.parse(node(["-e", run], "doctor against emulate", CLEAN_ENV)) as { ok: number; missing: number; lines: string[] };
  expect(out.ok).toBe(0);
  expect(out.lines).toEqual(
    expect.arrayContaining([
      expect.stringMatching(new RegExp(`^${name} \\S+ · ${className} list jit$`)),
      "  ✔ auth — the token is accepted",
      "  ✔ list — the list exists",
    ]),
  );
  expect(out.missing).toBe(1);
  expect(out.lines).toEqual(expect.arrayContaining([expect.stringMatching(/^ {2}✘ list — the list exists — /)]));

  // 7. Its own test and the cross-device tables, restricted to its resource (-t; the secrets suite's final scan
  // of everything produced too), transpiled only (step 3 type-checked).
  writeFileSync(
    path.join(dir, ".scaffold-test/tsconfig.jest.json"),
    JSON.stringify({ extends: "../tsconfig.json", compilerOptions: { isolatedModules: true } }),
  );
  writeFileSync(
    path.join(dir, ".scaffold-test/jest.config.js"),
    `module.exports = { ...require("../jest.config.js"), rootDir: ${JSON.stringify(dir)}, transform: { "^.+\\\\.ts$": ["ts-jest", { tsconfig: ${JSON.stringify(path.join(dir, ".scaffold-test/tsconfig.jest.json"))} }] } };`,
  );
  const report = path.join(dir, ".scaffold-test/jest.json");
  const suites = ["test/hostile-input.test.ts", "test/secrets.test.ts", `test/${name}/resource.test.ts`];
  try {
    node(
      [
        path.join(dir, "node_modules/jest/bin/jest.js"),
        "-c",
        ".scaffold-test/jest.config.js",
        "--ci",
        "--json",
        `--outputFile=${report}`,
        "-t",
        `${className}|nothing produced holds a secret`,
        ...suites,
      ],
      "jest (the device's test and the cross-device tables)",
      { ...CLEAN_ENV, CI: "true" },
    );
  } catch (e) {
    const failed = (JSON.parse(readFileSync(report, "utf8")) as JestReport).testResults.flatMap((r) =>
      r.assertionResults.filter((a) => a.status === "failed").map((a) => `${path.relative(dir, r.name)}: ${a.fullName}\n${a.failureMessages.join("\n")}`),
    );
    throw new Error(`the scaffold's output fails ${failed.length} tests:\n${failed.join("\n").slice(0, 20_000)}`, { cause: e });
  }
  const results = (JSON.parse(readFileSync(report, "utf8")) as JestReport).testResults;
  const passed = Object.fromEntries(results.map((r) => [path.relative(dir, r.name), r.assertionResults.filter((a) => a.status === "passed").length]));
  // Each suite ran tests of the new resource (a filter matching nothing would pass vacuously).
  expect(passed[suites[0]!]).toBeGreaterThanOrEqual(100);
  expect(passed[suites[1]!]).toBe(2);
  expect(passed[suites[2]!]).toBeGreaterThanOrEqual(3);
  process.stdout.write(`scaffold test: ${JSON.stringify(passed)} in ${Math.round((Date.now() - started) / 1000)} s\n`);
});

interface JestReport {
  testResults: { name: string; assertionResults: { status: string; fullName: string; failureMessages: string[] }[] }[];
}

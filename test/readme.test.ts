/**
 * The README runs (issue 20). Every fenced code block of README.md is read from the file itself and
 * matched to exactly one decision below: run it (against `firewall-grants emulate` and the real Pulumi
 * CLI), compile it (TypeScript, against the built package under the classic `pulumi new typescript`
 * tsconfig), compare it with the real output (sample outputs), check it against its source of truth
 * (JSON, YAML), or skip it for a stated reason. A block no decision matches fails, and so does a decision
 * that matches no block, so README and test cannot drift apart.
 *
 * Engine tier: it runs the Pulumi CLI and needs dist/ (`npm run build`).
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import { ensurePulumiCli } from "../scripts/pulumi-workspace";
import { describeWithCli, ROOT } from "./engine/helpers";

jest.setTimeout(300_000);

const README = readFileSync(path.join(ROOT, "README.md"), "utf8");

interface Block {
  readonly lang: string;
  readonly code: string;
  /** 1-based line of the opening fence, for messages. */
  readonly line: number;
}

/** Every fenced block (``` at the start of a line, optionally indented), in order. */
function codeBlocks(md: string): Block[] {
  const lines = md.split("\n");
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j]!)) body.push(lines[j++]!.slice(indent));
    if (j >= lines.length) throw new Error(`README.md:${i + 1}: unclosed code block`);
    out.push({ lang: open[2]!, code: body.join("\n"), line: i + 1 });
    i = j;
  }
  return out;
}

type Action =
  | { readonly kind: "skip"; readonly reason: string }
  | { readonly kind: "compile" } // a TypeScript fragment a user copies: compiled, its behaviour run elsewhere (named in `note`)
  | { readonly kind: "run"; readonly step: RunStep }
  | { readonly kind: "check"; readonly step: "policy-config" | "doctor-config" | "plugin-yaml" };

type RunStep = "program" | "start-and-up" | "drift" | "doctor-output" | "failed-preview" | "ci-step" | "esm" | "automation" | "dynamic-import";

interface Decision {
  readonly id: string;
  readonly lang: string;
  /** A text the block holds (and no other block of that language does). */
  readonly holds: string;
  /** The block is exactly `holds`. */
  readonly exact?: boolean;
  readonly action: Action;
  /** For `compile`: where the behaviour shown is run. */
  readonly note?: string;
}

const DECISIONS: readonly Decision[] = [
  {
    id: "quick-start",
    lang: "sh",
    holds: "npm install && npm start",
    action: {
      kind: "skip",
      reason: "the quick-start itself (a second npm install here); scripts/quickstart.ts fails on any step that does not behave as the README's table says",
    },
  },
  {
    id: "install-from-checkout",
    lang: "sh",
    holds: "git clone <repository>",
    action: {
      kind: "skip",
      reason: "no public repository URL yet, and packing a checkout: test/engine/package.test.ts packs and installs the tarball into a new project",
    },
  },
  {
    id: "import-line",
    lang: "ts",
    holds: 'import * as grants from "pulumi-firewall-grants";',
    exact: true,
    action: { kind: "compile" },
    note: "the first program",
  },
  {
    id: "new-project",
    lang: "sh",
    holds: "pulumi new typescript",
    action: {
      kind: "skip",
      reason:
        "downloads Pulumi's template and the package from the registry; the test builds the same project (Pulumi.yaml, package.json, the template's tsconfig.json, stack dev) around the built package",
    },
  },
  { id: "first-program", lang: "ts", holds: "const onCall =", action: { kind: "run", step: "program" } },
  { id: "start-and-up", lang: "sh", holds: "npx firewall-grants emulate --out-dir .emu &", action: { kind: "run", step: "start-and-up" } },
  { id: "drift", lang: "sh", holds: "__emulator/alias-content", action: { kind: "run", step: "drift" } },
  {
    id: "copy-example",
    lang: "sh",
    holds: "cp -r examples/opnsense",
    action: { kind: "skip", reason: "copies out of a checkout into your home; test/engine/examples.test.ts runs every example as written" },
  },
  {
    id: "expires-at",
    lang: "ts",
    holds: 'new grants.OpnsenseAliasEntry("contractor"',
    action: { kind: "compile" },
    note: "test/engine/lifecycle and time-box suites",
  },
  { id: "opnsense-entry", lang: "ts", holds: 'new grants.OpnsenseAliasEntry("vendor-net"', action: { kind: "compile" }, note: "examples/opnsense" },
  { id: "fortigate-address", lang: "ts", holds: 'new grants.FortigateAddress("alice"', action: { kind: "compile" }, note: "examples/fortigate" },
  {
    id: "fortimanager-host",
    lang: "ts",
    holds: 'new grants.FortimanagerTrustedHost("alice-laptop"',
    action: { kind: "compile" },
    note: "examples/fortimanager",
  },
  { id: "feed-entries", lang: "ts", holds: 'new grants.FortigateFeedEntry("bob-lab"', action: { kind: "compile" }, note: "examples/passive-plus" },
  { id: "alias-set", lang: "ts", holds: 'new grants.OpnsenseAliasSet("vpn-ranges"', action: { kind: "compile" }, note: "examples/sets" },
  { id: "feed-set", lang: "ts", holds: 'new grants.FortimanagerFeedSet("vpn-feed"', action: { kind: "compile" }, note: "test/engine/feed-sets.test.ts" },
  { id: "guard", lang: "ts", holds: 'new grants.OpnsenseAliasGuard("jit-admins-guard"', action: { kind: "compile" }, note: "examples/sets" },
  { id: "grant", lang: "ts", holds: 'new grants.Grant("alice"', action: { kind: "compile" }, note: "examples/sets, test/engine/sets.test.ts" },
  { id: "grants", lang: "ts", holds: 'new grants.Grants("jit"', action: { kind: "compile" }, note: "examples/grants-list, test/sets/collected.test.ts" },
  {
    id: "config-set",
    lang: "sh",
    holds: "pulumi config set opnsense:url",
    action: {
      kind: "skip",
      reason: "`...` stands for your secrets; the engine tests set these keys against the emulators (scripts/engine-fixture.ts stackConfig)",
    },
  },
  {
    id: "policy-install",
    lang: "sh",
    holds: "npm install @pulumi/policy",
    action: { kind: "skip", reason: "a registry install; test/engine/package.test.ts runs preview and up with the pack from the installed tarball" },
  },
  { id: "policy-config", lang: "json", holds: '"firewall-grants-expiry"', action: { kind: "check", step: "policy-config" } },
  { id: "doctor-output", lang: "console", holds: "firewall-grants doctor", action: { kind: "run", step: "doctor-output" } },
  { id: "doctor-config", lang: "json", holds: '"caCertFile"', action: { kind: "check", step: "doctor-config" } },
  { id: "ci-step", lang: "yaml", holds: "# a CI step", action: { kind: "run", step: "ci-step" } },
  {
    id: "emulators-api",
    lang: "ts",
    holds: "startFortimanagerEmulator()",
    action: { kind: "compile" },
    note: "every engine test starts the emulators this way",
  },
  { id: "plugin-yaml", lang: "yaml", holds: "runtime: yaml", action: { kind: "check", step: "plugin-yaml" } },
  { id: "esm", lang: "js", holds: '"type": "module"', action: { kind: "run", step: "esm" } },
  {
    id: "automation",
    lang: "ts",
    holds: "LocalWorkspace.createOrSelectStack",
    action: { kind: "run", step: "automation" }, // and compiled with the other ts blocks
  },
  { id: "dynamic-import", lang: "console", holds: "pulumi import pulumi-nodejs:dynamic/", action: { kind: "run", step: "dynamic-import" } },
  { id: "failed-preview", lang: "text", holds: "OPN001 OPNsense authorization failed", action: { kind: "run", step: "failed-preview" } },
];

const BLOCKS = codeBlocks(README);
const decisionOf = (b: Block) => DECISIONS.filter((d) => d.lang === b.lang && (d.exact === true ? b.code.trim() === d.holds : b.code.includes(d.holds)));
const blockOf = (id: string): Block => {
  const d = DECISIONS.find((x) => x.id === id)!;
  const found = BLOCKS.filter((b) => decisionOf(b)[0] === d);
  if (found.length !== 1) throw new Error(`decision ${id} matches ${found.length} README blocks`);
  return found[0]!;
};

describe("README.md: every code block has a decision", () => {
  test("each block matches exactly one decision, each decision exactly one block", () => {
    const undecided = BLOCKS.filter((b) => decisionOf(b).length !== 1).map((b) => `README.md:${b.line} \`\`\`${b.lang} (${decisionOf(b).length} decisions)`);
    expect(undecided).toEqual([]);
    const unused = DECISIONS.filter((d) => BLOCKS.filter((b) => decisionOf(b)[0] === d).length !== 1).map((d) => d.id);
    expect(unused).toEqual([]);
  });

  test("every skip says why; the contents list every section; in-page links resolve", () => {
    for (const d of DECISIONS) if (d.action.kind === "skip") expect(d.action.reason.length).toBeGreaterThan(30);
    const heads = [...README.matchAll(/^## (.+)$/gm)].map((m) => m[1]!).filter((h) => h !== "Contents");
    const slug = (h: string) =>
      h
        .toLowerCase()
        .replace(/[^\w\- ]/g, "")
        .replace(/ /g, "-");
    const toc = README.slice(README.indexOf("## Contents"), README.indexOf("\n## ", README.indexOf("## Contents") + 1));
    expect([...toc.matchAll(/^- \[[^\]]+\]\(#([^)]+)\)$/gm)].map((m) => m[1])).toEqual(heads.map(slug));
    // Every in-page link (the contents' nested entries included) names a heading that exists.
    const anchors = new Set([...README.matchAll(/^#{1,4} (.+)$/gm)].map((m) => slug(m[1]!)));
    expect([...README.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!).filter((a) => !anchors.has(a))).toEqual([]);
  });

  test("dates in examples are in the future", () => {
    const now = new Date().getFullYear();
    const years = BLOCKS.flatMap((b) => [...b.code.matchAll(/\b(20\d\d)-\d\d-\d\dT/g)].map((m) => Number(m[1])));
    expect(years.filter((y) => y <= now + 1)).toEqual([]);
  });
});

/** The classic `pulumi new typescript` tsconfig; README's Install section says what to add to it. */
function classicTsconfig(files: readonly string[]): string {
  const compilerOptions: Record<string, unknown> = {
    strict: true,
    outDir: "bin",
    target: "es2020",
    module: "commonjs",
    moduleResolution: "node",
    sourceMap: true,
    experimentalDecorators: true,
    pretty: true,
    noFallthroughCasesInSwitch: true,
    noImplicitReturns: true,
    forceConsistentCasingInFileNames: true,
  };
  // As long as README tells users of this template to add esModuleInterop, the test adds it, and only then.
  if (/"esModuleInterop": true/.test(README.slice(README.indexOf("## Install"), README.indexOf("## Your first program"))))
    compilerOptions.esModuleInterop = true;
  return JSON.stringify({ compilerOptions, files }, null, 2);
}

/** A project directory with the built package and this repository's @pulumi/pulumi, as `npm install` would leave it. */
function makeProject(dir: string, files: Record<string, string>): void {
  mkdirSync(path.join(dir, "node_modules", "@pulumi"), { recursive: true });
  mkdirSync(path.join(dir, "node_modules", ".bin"), { recursive: true });
  symlinkSync(ROOT, path.join(dir, "node_modules", "pulumi-firewall-grants"));
  for (const p of ["pulumi", "policy"]) symlinkSync(path.join(ROOT, "node_modules", "@pulumi", p), path.join(dir, "node_modules", "@pulumi", p));
  symlinkSync(path.join(ROOT, "node_modules", "@types"), path.join(dir, "node_modules", "@types"));
  symlinkSync(path.join(ROOT, "dist", "cli", "main.js"), path.join(dir, "node_modules", ".bin", "firewall-grants"));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
}

const tmp = mkdtempSync(path.join(tmpdir(), "fwg-readme-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("README.md: the TypeScript a user copies compiles against the built package", () => {
  test("every ts block, under the classic template (tsc --noEmit, libraries checked)", () => {
    expect(existsSync(path.join(ROOT, "dist", "provider", "index.d.ts"))).toBe(true);
    const dir = path.join(tmp, "compile");
    mkdirSync(dir);
    const files = DECISIONS.filter((d) => d.lang === "ts").map((d) => {
      const code = blockOf(d.id).code;
      // Fragments continue the program above them: give them its imports.
      const prelude = [
        !code.includes('import * as grants from "pulumi-firewall-grants"') && 'import * as grants from "pulumi-firewall-grants";',
        /\bpulumi\./.test(code) && !code.includes('import * as pulumi from "@pulumi/pulumi"') && 'import * as pulumi from "@pulumi/pulumi";',
      ].filter(Boolean);
      return [`${d.id}.ts`, `${prelude.join("\n")}\n${code}\nexport {};\n`] as const;
    });
    makeProject(dir, { ...Object.fromEntries(files), "tsconfig.json": classicTsconfig(files.map(([n]) => n)) });
    let out = "";
    try {
      execFileSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", ".", "--noEmit", "--pretty", "false"], {
        cwd: dir,
        encoding: "utf8",
        stdio: "pipe",
      });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(out).toBe("");
  });
});

describe("README.md: JSON and YAML blocks agree with their sources", () => {
  test("the policy config names the pack's policies", () => {
    const { firewallGrantsPolicies } = require(path.join(ROOT, "dist", "policy", "index.js")) as { firewallGrantsPolicies: () => { name: string }[] };
    const names = firewallGrantsPolicies().map((p) => p.name);
    const config = JSON.parse(blockOf("policy-config").code) as Record<string, unknown>;
    expect(Object.keys(config).filter((k) => !names.includes(k))).toEqual([]);
  });

  test("the doctor config file parses and names only devices and settings doctor reads", () => {
    const config = JSON.parse(blockOf("doctor-config").code) as Record<string, unknown>;
    expect(Object.keys(config).sort()).toEqual(["caCertFile", "fortigate", "fortimanager", "opnsense"]);
  });

  test("the YAML program uses the plugin's types and inputs (provider/plugin/schema.json)", () => {
    const schema = JSON.parse(readFileSync(path.join(ROOT, "provider", "plugin", "schema.json"), "utf8")) as {
      resources: Record<string, { inputProperties: Record<string, unknown>; properties: Record<string, unknown> }>;
    };
    const code = blockOf("plugin-yaml").code;
    const type = /type: (\S+)/.exec(code)![1]!;
    expect(Object.keys(schema.resources)).toContain(type);
    const props = [...code.slice(code.indexOf("properties:")).matchAll(/^ {6}(\w+):/gm)].map((m) => m[1]!);
    expect(props.filter((p) => !(p in schema.resources[type]!.inputProperties))).toEqual([]);
    const outputs = [...code.matchAll(/\$\{alice\.(\w+)\}/g)].map((m) => m[1]!);
    expect(outputs.filter((o) => !(o in schema.resources[type]!.properties))).toEqual([]);
  });
});

interface Shell {
  readonly code: number;
  readonly output: string;
}

describeWithCli("README.md runs against the emulators with the real Pulumi CLI", () => {
  const project = path.join(tmp, "grants-demo");
  const groups: number[] = [];
  let env: NodeJS.ProcessEnv;

  /** Runs a README block in bash (as `set -e`, like a CI step) in its own process group, which afterAll ends. */
  const bash = (script: string, cwd: string, strict = true): Promise<Shell> =>
    new Promise((resolve, reject) => {
      const child = spawn("bash", ["-c", `${strict ? "set -e\n" : ""}${script}`], { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
      groups.push(child.pid!);
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr.on("data", (d: Buffer) => (output += d.toString()));
      child.on("error", reject);
      // "exit", not "close": a block's background job (`firewall-grants emulate … &`) keeps the pipes open.
      child.on("exit", (code) => setTimeout(() => resolve({ code: code ?? -1, output }), 200));
    });
  const aliasHolds = async (cwd: string) => {
    const r = await bash('. .emu/env.sh\ncurl -s --cacert .emu/ca.pem "$OPNSENSE_URL/__emulator/alias?alias=jit_admins"', cwd);
    return (JSON.parse(r.output) as { table: string[] }).table;
  };
  const ok = (r: Shell) => ({ code: r.code, tail: r.code === 0 ? "" : r.output.slice(-3000) });

  beforeAll(async () => {
    const cli = await ensurePulumiCli();
    env = {
      ...process.env,
      PATH: `${cli.binDir}${path.delimiter}${process.env.PATH ?? ""}`,
      PULUMI_BACKEND_URL: `file://${path.join(tmp, "backend")}`,
      PULUMI_HOME: path.join(tmp, "pulumi-home"),
      PULUMI_CONFIG_PASSPHRASE: "readme-test",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_NODEJS_TRANSPILE_ONLY: "true", // the type check is the compile test above
      NO_COLOR: "1",
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
      npm_config_offline: "true", // npx finds firewall-grants in node_modules/.bin; never the registry
    };
    mkdirSync(path.join(tmp, "backend"));
    mkdirSync(project);
    makeProject(project, {
      "Pulumi.yaml": "name: grants-demo\nruntime:\n  name: nodejs\n  options:\n    packagemanager: npm\ndescription: README first program\n",
      "package.json": JSON.stringify({ name: "grants-demo", main: "index.ts", dependencies: { "pulumi-firewall-grants": "*", "@pulumi/pulumi": "*" } }),
      "tsconfig.json": classicTsconfig(["index.ts"]),
      "index.ts": blockOf("first-program").code,
    });
    const init = await bash("pulumi stack init dev --secrets-provider passphrase --non-interactive", project);
    expect(ok(init)).toEqual({ code: 0, tail: "" });
  });
  afterAll(() => {
    for (const pgid of groups)
      try {
        process.kill(-pgid, "SIGTERM");
      } catch {
        /* already gone */
      }
  });

  test("Your first program: emulators start, preview and up grant on all three devices", async () => {
    const r = await bash(blockOf("start-and-up").code, project);
    expect(ok(r)).toEqual({ code: 0, tail: "" });
    expect(r.output).toMatch(/\+ 4 created/); // three grants and the stack
    expect(await aliasHolds(project)).toEqual(["203.0.113.7"]);
  });

  test("the doctor sample output is what doctor prints (ports aside)", async () => {
    const block = blockOf("doctor-output").code.split("\n");
    const commands: string[] = [];
    let i = 0;
    for (; i < block.length && (block[i]!.startsWith("$ ") || commands.at(-1)?.endsWith("\\")); i++) commands.push(block[i]!.replace(/^\$ /, ""));
    const r = await bash(commands.join("\n"), project, false);
    const norm = (s: string) => s.replace(/localhost:\d+/g, "localhost:PORT").trimEnd();
    expect(norm(r.output)).toBe(norm(block.slice(i).join("\n")));
    expect(r.code).toBe(1);
  });

  test("What a failed preview looks like: each line shown is in the real preview's output", async () => {
    const r = await bash(". .emu/env.sh\nOPNSENSE_API_KEY_FILE=.emu/opnsense-under-privileged.key pulumi preview --non-interactive", project, false);
    expect(r.code).not.toBe(0);
    const norm = (s: string) => s.replace(/localhost:\d+/g, "localhost:PORT").trim();
    const real = new Set(r.output.split("\n").map(norm));
    const shown = blockOf("failed-preview")
      .code.split("\n")
      .map(norm)
      .filter((l) => l !== "" && l !== "…");
    const missing = shown.filter((l) => !real.has(l));
    expect({ missing, output: missing.length > 0 ? r.output : "" }).toEqual({ missing: [], output: "" });
  });

  test("the drift block: a hand removal makes the drift check exit 7; up --refresh restores; destroy revokes", async () => {
    const r = await bash(`. .emu/env.sh\n${blockOf("drift").code}`, project);
    expect(ok(r)).toEqual({ code: 0, tail: "" });
    expect(r.output).toContain("exit 7\n");
    expect(await aliasHolds(project)).toEqual([]);
  });

  test("the CI step: emulators, doctor and preview of a stack ci", async () => {
    const dir = path.join(tmp, "ci");
    cpSync(project, dir, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes(`${path.sep}.emu`) && !/Pulumi\.dev\.yaml$/.test(src) });
    expect(ok(await bash("pulumi stack init ci --secrets-provider passphrase --non-interactive", dir))).toEqual({ code: 0, tail: "" });
    const step = blockOf("ci-step").code;
    const script = step
      .slice(step.indexOf("run: |") + "run: |".length)
      .split("\n")
      .map((l) => l.replace(/^ {4}/, ""))
      .join("\n");
    const r = await bash(script, dir);
    expect(ok(r)).toEqual({ code: 0, tail: "" });
    expect(r.output).toMatch(/passed/);
    expect(r.output).toMatch(/\+ 4 to create/);
  });

  test("Automation API: driftCheck tells exit 7 from a failure; with an empty workDir the dynamic provider cannot start", async () => {
    // The block, compiled, beside the project's node_modules; the driver runs from "/" so that only workDir can help.
    const compiled = ts.transpileModule(blockOf("automation").code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020 } });
    writeFileSync(path.join(project, "automation.js"), compiled.outputText);
    const driver = path.join(project, "automation-driver.js");
    writeFileSync(
      driver,
      'require("./automation.js").driftCheck(process.argv[2], process.argv[3]).then((r) => console.log("RESULT " + r), (e) => console.log("THREW " + e.message));\n',
    );
    // A new stack has changes to make: preview --expect-no-changes exits 7, reported as "drift".
    const withProject = await bash(`. ${project}/.emu/env.sh\nnode ${driver} auto-project ${project}`, "/");
    expect(withProject.output).toMatch(/^RESULT drift$/m);
    const empty = mkdtempSync(path.join(tmp, "empty-"));
    const withEmpty = await bash(`. ${project}/.emu/env.sh\nnode ${driver} auto-empty ${empty}`, "/");
    expect(withEmpty.output).toMatch(/^THREW /m);
    expect(withEmpty.output).toMatch(/could not read plugin \[[^\]]*pulumi-resource-pulumi-nodejs\]/);
  });

  test("Import and adoption: pulumi import of a dynamic resource fails as shown", async () => {
    const dir = path.join(tmp, "import");
    mkdirSync(dir);
    makeProject(dir, {
      "Pulumi.yaml": "name: grants-import\nruntime: nodejs\n",
      "package.json": JSON.stringify({ name: "grants-import", main: "index.js" }),
      "index.js": "",
    });
    expect(ok(await bash("pulumi stack init imp --secrets-provider passphrase --non-interactive", dir))).toEqual({ code: 0, tail: "" });
    const [command, ...shown] = blockOf("dynamic-import").code.split("\n");
    const r = await bash(`. ${project}/.emu/env.sh\n${command!.replace(/^\$ /, "")} --non-interactive`, dir, false);
    expect(r.code).not.toBe(0);
    const real = new Set(r.output.split("\n").map((l) => l.trim()));
    expect(shown.map((l) => l.trim()).filter((l) => !real.has(l))).toEqual([]);
  });

  test("ESM: the program runs as an ES module (pulumi preview)", async () => {
    const dir = path.join(tmp, "esm");
    mkdirSync(dir);
    makeProject(dir, {
      "Pulumi.yaml": "name: grants-esm\nruntime: nodejs\n",
      "package.json": JSON.stringify({ name: "grants-esm", type: "module", main: "index.js" }),
      "index.js": blockOf("esm").code,
    });
    expect(ok(await bash("pulumi stack init esm --secrets-provider passphrase --non-interactive", dir))).toEqual({ code: 0, tail: "" });
    const r = await bash(`. ${path.join(project, ".emu", "env.sh")}\npulumi preview --non-interactive`, dir);
    expect(ok(r)).toEqual({ code: 0, tail: "" });
    expect(r.output).toMatch(/\+ 2 to create/);
    expect(r.output).toMatch(/emulatorEntry: "function"/);
    expect(r.output).toMatch(/sameClass +: true/);
  });
});

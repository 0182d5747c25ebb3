/**
 * The published declarations type-check in a user's project (issues 11 and 20): a program using every
 * resource class of the package root, an Output for a connection URL, the input and output types, the
 * guards and the emulator entry point, compiled against the built dist/*.d.ts with full library checking
 * (no skipLibCheck), under `module: nodenext` and under the classic `pulumi new typescript` template
 * (`module: commonjs`, `moduleResolution: node`, no `esModuleInterop`) — and the declarations the package
 * entries reach import nothing but each other, @pulumi/pulumi (a peer dependency), @pulumi/policy (the
 * policy entry) and node's modules: never zod or undici, whose own declarations need options a user's
 * project may not set (zod 4 under the classic template: 63 x TS1259 before issue 20).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "..");
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import * as grants from "pulumi-firewall-grants";
import { startOpnsenseEmulator } from "pulumi-firewall-grants/emulator";
const url = pulumi.interpolate\`https://\${pulumi.output("192.0.2.10")}\`;
const e = new grants.OpnsenseAliasEntry("a", { connection: { url, apiKey: pulumi.secret("k") }, alias: "jit_admins", address: "203.0.113.7", method: "config", expiresAt: "2999-12-01T00:00:00Z" });
new grants.OpnsenseAliasSet("as", { alias: "jit_admins", addresses: ["203.0.113.8", { address: "203.0.113.9", description: "bob" }] });
new grants.OpnsenseAliasGuard("g", { alias: "jit_admins", grants: [e] });
const f = new grants.FortigateAddress("fa", { connection: { vdom: "root" }, name: "grant-alice", address: "203.0.113.7", group: "jit" });
new grants.FortigateFeedEntry("fe", { feed: "jit-allow", address: "203.0.113.7" });
new grants.FortigateAddressSet("fs", { group: "jit", addresses: ["203.0.113.8"], exclusive: true });
new grants.FortigateGroupGuard("fg", { group: "jit", grants: [f] });
new grants.FortigateFeedSet("ffs", { feed: "jit-allow", addresses: ["203.0.113.8"] });
const t = new grants.FortimanagerTrustedHost("t", { connection: { adom: "root" }, adminUser: "api", address: "203.0.113.7" });
new grants.FortimanagerFeedEntry("mf", { devices: ["fgt-hq"], feed: "jit-allow", address: "203.0.113.7" });
new grants.FortimanagerTrustedHostSet("ts", { adminUser: "api", addresses: ["203.0.113.8"] });
new grants.FortimanagerTrustedHostGuard("tg", { adminUser: "api", grants: [t] });
new grants.FortimanagerFeedSet("mfs", { devices: ["fgt-hq"], feed: "jit-allow", addresses: ["203.0.113.8"] });
new grants.Grant("alice", { who: "alice", addresses: ["203.0.113.7"], opnsense: [{ alias: "jit_admins" }] });
new grants.Grants("team", { people: [{ who: "bob", addresses: ["203.0.113.8"], expiresAt: "2999-12-01T00:00:00Z" }], fortigate: [{ group: "jit" }] });
new grants.OpnsenseAliasSet("ase", { alias: "jit_admins", addresses: [{ address: "203.0.113.10", description: "carol", expiresAt: pulumi.output("2999-12-01T00:00:00Z") }] });
export const adopted: pulumi.Output<boolean> = e.adopted;
export const device: pulumi.Output<grants.DevicePin> = f.device;
export const inputs: grants.AliasEntryInputs = { alias: "jit_admins", address: "203.0.113.7", method: "table", connection: { url: "https://fw1" } };
export const start: typeof startOpnsenseEmulator = startOpnsenseEmulator;
export function code(x: unknown): string | undefined { return grants.isGrantError(x) ? x.code : undefined; }
`;

const TEMPLATES: Record<string, Record<string, unknown>> = {
  nodenext: { strict: true, target: "es2022", module: "nodenext", moduleResolution: "nodenext", noEmit: true },
  // `pulumi new typescript`'s classic template as it is: no esModuleInterop, no skipLibCheck.
  commonjs: {
    strict: true,
    target: "es2020",
    module: "commonjs",
    moduleResolution: "node",
    experimentalDecorators: true,
    noFallthroughCasesInSwitch: true,
    noImplicitReturns: true,
    forceConsistentCasingInFileNames: true,
    noEmit: true,
  },
};

/** Each package entry's declaration file, with the bare module names its declarations may import. */
const ENTRIES: Record<string, readonly string[]> = {
  "dist/provider/index.d.ts": ["@pulumi/pulumi"],
  "dist/emulators/index.d.ts": [],
  "dist/policy/index.d.ts": ["@pulumi/pulumi", "@pulumi/policy"],
};
const NODE = new Set(builtinModules);
const isNode = (m: string) => m.startsWith("node:") || NODE.has(m) || m === "node";

/** Every declaration file `entry` reaches through relative imports, with each bare module name it imports. */
function reachable(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    const bare: string[] = info.typeReferenceDirectives.map((r) => r.fileName);
    seen.set(file, bare);
    for (const { fileName } of [...info.importedFiles, ...info.referencedFiles]) {
      if (!fileName.startsWith(".")) {
        bare.push(fileName);
        continue;
      }
      const base = path.resolve(path.dirname(file), fileName.replace(/\.js$/, ""));
      const next = [`${base}.d.ts`, path.join(base, "index.d.ts")].find((f) => existsSync(f));
      if (!next) throw new Error(`${path.relative(ROOT, file)}: ${fileName} resolves to no declaration file`);
      visit(next);
    }
  };
  visit(path.join(ROOT, entry));
  return seen;
}

describe("the declarations the package entries reach", () => {
  it.each(Object.entries(ENTRIES))("%s imports no dependency's types but its peers' and node's", (entry, peers) => {
    const foreign = [...reachable(entry)].flatMap(([file, bare]) =>
      bare.filter((m) => !peers.includes(m) && !isNode(m)).map((m) => `${path.relative(ROOT, file)} imports ${m}`),
    );
    expect(foreign).toEqual([]);
  });
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "fwg-types-"));
  mkdirSync(path.join(dir, "node_modules", "@pulumi"), { recursive: true });
  symlinkSync(ROOT, path.join(dir, "node_modules", "pulumi-firewall-grants"));
  symlinkSync(path.join(ROOT, "node_modules", "@pulumi", "pulumi"), path.join(dir, "node_modules", "@pulumi", "pulumi"));
  symlinkSync(path.join(ROOT, "node_modules", "@types"), path.join(dir, "node_modules", "@types"));
  writeFileSync(path.join(dir, "index.ts"), PROGRAM);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the published declarations", () => {
  it("the program uses every resource class the package root exports", () => {
    const lib = require(path.join(ROOT, "dist", "provider", "index.js")) as Record<string, unknown>;
    const classes = Object.entries(lib)
      .filter(([, v]) => typeof v === "function" && (v as { prototype?: unknown }).prototype instanceof pulumi.Resource)
      .map(([k]) => k);
    expect(classes.length).toBeGreaterThan(10);
    expect(classes.filter((c) => !PROGRAM.includes(`new grants.${c}(`))).toEqual([]);
  });

  it.each(Object.keys(TEMPLATES))(
    "type-check a user's program under the %s template, libraries included",
    (name) => {
      writeFileSync(path.join(dir, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions: TEMPLATES[name], files: ["index.ts"] }));
      const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
      let out = "";
      try {
        execFileSync(process.execPath, [tsc, "-p", `tsconfig.${name}.json`, "--pretty", "false"], { cwd: dir, encoding: "utf8", stdio: "pipe" });
      } catch (e) {
        out = String((e as { stdout?: string }).stdout ?? e);
      }
      expect(out).toBe("");
    },
    120_000,
  );
});

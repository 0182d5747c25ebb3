/**
 * The published declarations type-check in a user's project (issue 11): a program using the resources,
 * an Output for a connection URL, the component, the guards and both subpath entry points, compiled
 * against the built dist/*.d.ts with full library checking (no skipLibCheck), under the current
 * `module: nodenext` layout and the older `module: commonjs` / `moduleResolution: node` Pulumi template.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import * as grants from "pulumi-firewall-grants";
import { startOpnsenseEmulator } from "pulumi-firewall-grants/emulator";
const url = pulumi.interpolate\`https://\${pulumi.output("192.0.2.10")}\`;
const e = new grants.OpnsenseAliasEntry("a", { connection: { url }, alias: "jit_admins", address: "203.0.113.7", expiresAt: "2026-12-01T00:00:00Z" });
new grants.OpnsenseAliasGuard("g", { alias: "jit_admins", grants: [e] });
new grants.FortimanagerFeedEntry("f", { devices: ["fgt-hq"], feed: "jit-allow", address: "203.0.113.7" });
new grants.Grant("alice", { who: "alice", addresses: ["203.0.113.7"], opnsense: [{ alias: "jit_admins" }] });
export const adopted: pulumi.Output<boolean> = e.adopted;
export const start: typeof startOpnsenseEmulator = startOpnsenseEmulator;
export function code(x: unknown): string | undefined { return grants.isGrantError(x) ? x.code : undefined; }
`;

const TEMPLATES: Record<string, Record<string, unknown>> = {
  nodenext: { strict: true, target: "es2022", module: "nodenext", moduleResolution: "nodenext", noEmit: true },
  // Pulumi's older TypeScript template (+ esModuleInterop: zod 4's own declarations need it under node10 resolution).
  commonjs: {
    strict: true,
    target: "es2020",
    module: "commonjs",
    moduleResolution: "node",
    experimentalDecorators: true,
    noFallthroughCasesInSwitch: true,
    noImplicitReturns: true,
    forceConsistentCasingInFileNames: true,
    esModuleInterop: true,
    noEmit: true,
  },
};

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

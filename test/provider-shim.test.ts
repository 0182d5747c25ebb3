/**
 * dynamic-kit.ts's providerShim as the engine's provider process runs it: from the built package
 * (dist/, built by `npm run test:contract` and `npm test`), resolved by Node itself in a child process.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..");

/**
 * The shim runs from the built library (dist/) inside the engine's provider process. These tests copy
 * the built provider folder into a fresh directory, put a stand-in `index.js` next to it and, in some
 * cases, a stand-in package under `node_modules/pulumi-firewall-grants`, then call the shim from a plain
 * `node` process so that Node's own module resolution decides.
 */
describe("providerShim (built)", () => {
  let dir: string;

  beforeAll(() => {
    if (!existsSync(path.join(ROOT, "dist", "provider", "core", "dynamic-kit.js")))
      throw new Error("dist/ is missing: run `npm run build` (npm run test:contract does)");
    dir = mkdtempSync(path.join(tmpdir(), "shim-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const stub = (from: string) =>
    `exports.opnsenseAliasEntryProvider = { check: async (olds, news) => ({ inputs: { ...news, loadedFrom: ${JSON.stringify(from)} } }) };\n`;

  /** A checkout of the built library at `<dir>/<name>/dist/provider`, optionally with a package of that name installed beside it. */
  function app(name: string, pkgIndex?: string): string {
    const provider = path.join(dir, name, "dist", "provider");
    cpSync(path.join(ROOT, "dist", "provider"), provider, { recursive: true, filter: (f) => !f.endsWith(".map") && !f.endsWith(".d.ts") });
    writeFileSync(path.join(provider, "index.js"), stub("fallback"));
    if (pkgIndex !== undefined) {
      const pkg = path.join(dir, name, "node_modules", "pulumi-firewall-grants");
      mkdirSync(pkg, { recursive: true });
      writeFileSync(path.join(pkg, "package.json"), JSON.stringify({ name: "pulumi-firewall-grants", main: "index.js" }));
      writeFileSync(path.join(pkg, "index.js"), pkgIndex);
    }
    return path.join(provider, "core", "dynamic-kit.js");
  }

  function callCheck(kit: string): Promise<{ inputs?: Record<string, unknown>; error?: string }> {
    const script = `
      const { providerShim } = require(${JSON.stringify(kit)});
      Promise.resolve().then(() => providerShim("opnsenseAliasEntryProvider").check({}, { address: "192.0.2.1" })).then(
        (r) => console.log(JSON.stringify(r)),
        (e) => console.log(JSON.stringify({ error: String(e && e.message) })),
      );`;
    const env = { ...process.env };
    delete env.NODE_PATH;
    return new Promise((resolve, reject) => {
      execFile(process.execPath, ["-e", script], { cwd: path.dirname(kit), env }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim()));
      });
    });
  }

  it("loads the library by its package name when that resolves, and forwards the call", async () => {
    const r = await callCheck(app("installed", stub("package")));
    expect(r.inputs).toEqual({ address: "192.0.2.1", loadedFrom: "package" });
  });

  it("falls back to the built index.js beside it when the package name does not resolve", async () => {
    const r = await callCheck(app("checkout"));
    expect(r.inputs).toEqual({ address: "192.0.2.1", loadedFrom: "fallback" });
  });

  it("does not hide a missing dependency of the installed package behind the fallback", async () => {
    const r = await callCheck(app("broken", `require("a-dependency-that-is-not-installed");\n${stub("package")}`));
    expect(r.inputs).toBeUndefined();
    expect(r.error).toContain("a-dependency-that-is-not-installed");
  });
});

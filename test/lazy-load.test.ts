/**
 * The package root loads device code on first use (issue 22, the fixed cost of a run): the engine's
 * provider host requires the package for one provider object (dynamic-kit.ts providerShim), and a program
 * loads the devices it declares — neither pays for the other devices' schemas, clients and components,
 * and a program that only declares resources never loads the HTTP client (undici). Behaviour, not timing:
 * which modules a use of the root loads, seen through the module registry's mock factories (a factory
 * runs only when its module is required). Also: every lazy export is declared, defined and visible to an
 * ES-module `import { X } from "pulumi-firewall-grants"` (Node's CommonJS lexer reads the root's names).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as ts from "typescript";

const ROOT = path.join(__dirname, "..");
const PROVIDER = path.join(ROOT, "provider");
const INDEX = path.join(PROVIDER, "index.ts");

/** The device folders under provider/devices/ (fortinet/ is the FortiGate and FortiManager feeds' shared code). */
const FOLDERS = readdirSync(path.join(PROVIDER, "devices"));

/**
 * Every module the root could load lazily: each device folder's files and the two components. Not the
 * devices' settings.ts (plain data): the root loads them all on purpose, configureFromStack needs every key.
 */
function watched(): string[] {
  const inFolders = FOLDERS.flatMap((d) =>
    readdirSync(path.join(PROVIDER, "devices", d))
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && f !== "settings.ts")
      .map((f) => path.join(PROVIDER, "devices", d, f.replace(/\.ts$/, ""))),
  );
  return [...inFolders, path.join(PROVIDER, "grant-component"), path.join(PROVIDER, "grants-component")];
}

/** What requiring the root and then `use(root)` load: the watched modules (relative to provider/) and whether undici loaded. */
function loadedBy(use: (root: Record<string, unknown>) => void): { modules: string[]; undici: boolean } {
  const modules = new Set<string>();
  let undici = false;
  jest.isolateModules(() => {
    for (const file of watched()) {
      jest.doMock(file, () => {
        modules.add(path.relative(PROVIDER, file));
        return jest.requireActual(file);
      });
    }
    jest.doMock("undici", () => {
      undici = true;
      return jest.requireActual("undici");
    });
    use(require("../provider/index") as Record<string, unknown>);
  });
  return { modules: [...modules].sort(), undici };
}

/** The devices (and components) among loaded modules; fortinet/ is shared code, not a device. */
const devicesOf = (modules: readonly string[]) =>
  [...new Set(modules.map((m) => (m.startsWith("devices/") ? m.split("/")[1]! : m)))].filter((d) => d !== "fortinet").sort();

describe("the package root loads a device only when it is used", () => {
  it("loading the root loads no device code and no HTTP client", () => {
    expect(loadedBy(() => undefined)).toEqual({ modules: [], undici: false });
  });

  it.each([
    ["opnsenseAliasEntryProvider", ["opnsense"]],
    ["opnsenseAliasSetProvider", ["opnsense"]],
    ["fortigateAddressProvider", ["fortigate"]],
    ["fortigateFeedEntryProvider", ["fortigate"]],
    ["fortimanagerTrustedHostProvider", ["fortimanager"]],
    ["fortimanagerFeedEntryProvider", ["fortimanager"]],
  ])("the provider host serving %s loads no device but %j", (exportName, devices) => {
    const { modules } = loadedBy((root) => expect(root[exportName]).toBeDefined());
    expect(devicesOf(modules)).toEqual(devices);
  });

  it("a program declaring an OPNsense grant loads no other device and no HTTP client (undici loads with the first request)", () => {
    const { modules, undici } = loadedBy((root) => expect(typeof root.OpnsenseAliasEntry).toBe("function"));
    expect(devicesOf(modules)).toEqual(["opnsense"]);
    expect(undici).toBe(false);
  });

  it("the Grant component loads the devices it spans", () => {
    const { modules } = loadedBy((root) => expect(typeof root.Grant).toBe("function"));
    expect(devicesOf(modules)).toEqual(expect.arrayContaining(["fortigate", "fortimanager", "grant-component", "opnsense"]));
  });
});

describe("the bench's phase trace", () => {
  it("marks the library loaded when the served device's module is in, not when the root is", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "lazy-trace-"));
    const file = path.join(dir, "trace.jsonl");
    const events = () =>
      (existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : []).map((l) => (JSON.parse(l) as { event: string }).event);
    process.env.FIREWALL_GRANTS_BENCH_TRACE = file;
    try {
      jest.isolateModules(() => {
        const root = require("../provider/index") as Record<string, unknown>;
        expect(events()).toEqual([]);
        expect(root.opnsenseAliasEntryProvider).toBeDefined();
        expect(events()).toEqual(["library-loaded"]);
        expect(typeof root.OpnsenseAliasEntry).toBe("function"); // the same module: no second load
        expect(events()).toEqual(["library-loaded"]);
      });
    } finally {
      delete process.env.FIREWALL_GRANTS_BENCH_TRACE;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("every lazy export is declared, defined and visible to an ES-module import", () => {
  const source = readFileSync(INDEX, "utf8");
  const declared = [...source.matchAll(/^export declare const (\w+)\b/gm)].map((m) => m[1]!);
  const root = require("../provider/index") as Record<string, unknown>;

  it("declares the lazy exports", () => {
    expect(declared.length).toBeGreaterThan(20);
  });

  it("defines every declared export (a declaration without its getter would be undefined at run time)", () => {
    expect(declared.filter((n) => root[n] === undefined)).toEqual([]);
  });

  it("names every export of the root in a form Node's CommonJS lexer reads (ESM named imports)", async () => {
    // Node's own lexer decides what an ES module may import by name from a CommonJS module; its patterns are frozen.
    const lexer = require("cjs-module-lexer") as { init(): Promise<void>; parse(src: string): { exports: string[] } };
    await lexer.init();
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
    const visible = new Set(lexer.parse(js).exports);
    expect(Object.keys(root).filter((n) => !visible.has(n))).toEqual([]);
    expect(declared.filter((n) => !visible.has(n))).toEqual([]);
  });
});

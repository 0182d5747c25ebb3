/**
 * The layout's rules that lint cannot state (issue 17): no import circle among the library, the emulator
 * wing and the CLI, and a core that imports nothing outside itself. Reads the sources with a small
 * regex resolver (relative specifiers only; packages are not ours), so it runs in milliseconds.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..");
const WINGS = ["provider", "emulators", "cli"];

/** Circles known today and owned by another change; each names its issue. None today. */
const KNOWN_CIRCLES: readonly string[] = [];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === "node_modules" || name === "testdata" ? [] : sources(full);
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [full] : [];
  });
}

const SPECIFIER = /(?:\bfrom\s+|\bimport\s+|\brequire\(\s*)["'](\.{1,2}\/[^"']*)["']/g;

function resolve(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  return [`${base}.ts`, path.join(base, "index.ts"), base].find((f) => existsSync(f) && statSync(f).isFile() && f.endsWith(".ts"));
}

/** File → the files it imports (relative to the repository root). */
export function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const deps = new Set<string>();
    for (const m of text.matchAll(SPECIFIER)) {
      const target = resolve(file, m[1]!);
      if (target) deps.add(path.relative(ROOT, target));
    }
    graph.set(path.relative(ROOT, file), [...deps].sort());
  }
  return graph;
}

/** The strongly connected components with more than one file, or a file importing itself (Tarjan). */
export function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

const graph = importGraph(WINGS.flatMap((w) => sources(path.join(ROOT, w))));

it("finds a circle the way the layout rule means it (self-test)", () => {
  const toy = new Map([
    ["a.ts", ["b.ts"]],
    ["b.ts", ["c.ts"]],
    ["c.ts", ["a.ts"]],
    ["d.ts", ["a.ts"]],
    ["e.ts", ["e.ts"]],
  ]);
  expect(circles(toy)).toEqual([["a.ts", "b.ts", "c.ts"], ["e.ts"]]);
  expect(circles(new Map([["a.ts", ["b.ts"]]]))).toEqual([]);
});

it("reads the real import graph (the resolver finds the core's files)", () => {
  expect(graph.get("provider/core/diagnosis.ts")).toEqual(expect.arrayContaining(["provider/core/diagnosis-codes.ts", "provider/core/errors.ts"]));
  expect(graph.get("provider/registry.ts")?.some((f) => f.startsWith("provider/devices/"))).toBe(true);
});

it("has no import circle in provider/, emulators/ or cli/ (type-only imports count: they are reading order too)", () => {
  const found = circles(graph)
    .map((c) => c.join(" -> "))
    .filter((c) => !KNOWN_CIRCLES.includes(c));
  expect(found).toEqual([]);
});

it("keeps provider/core/ free of any device, the registry and the emulator wing", () => {
  const outside = [...graph]
    .filter(([file]) => file.startsWith("provider/core/"))
    .flatMap(([file, deps]) => deps.filter((d) => !d.startsWith("provider/core/")).map((d) => `${file} -> ${d}`));
  expect(outside).toEqual([]);
});

it("keeps emulators/ free of provider/ (an emulator that shared the client's parser would share its mistakes)", () => {
  const inward = [...graph]
    .filter(([file]) => file.startsWith("emulators/"))
    .flatMap(([file, deps]) => deps.filter((d) => d.startsWith("provider/")).map((d) => `${file} -> ${d}`));
  expect(inward).toEqual([]);
});

it("registers every device folder in both lists, one line each (a folder with a device.ts is a device; fortinet/ is shared)", () => {
  const devicesDir = path.join(ROOT, "provider", "devices");
  const folders = readdirSync(devicesDir).filter((d) => existsSync(path.join(devicesDir, d, "device.ts")));
  expect(folders.length).toBeGreaterThan(0);
  const registry = graph.get("provider/registry.ts") ?? [];
  const data = graph.get("provider/device-settings.ts") ?? [];
  const missing = folders.flatMap((d) => [
    ...(registry.includes(`provider/devices/${d}/device.ts`) ? [] : [`provider/registry.ts does not import provider/devices/${d}/device.ts`]),
    ...(data.includes(`provider/devices/${d}/settings.ts`) ? [] : [`provider/device-settings.ts does not import provider/devices/${d}/settings.ts`]),
  ]);
  expect(missing).toEqual([]);
  expect(existsSync(path.join(devicesDir, "fortinet", "device.ts"))).toBe(false);
});

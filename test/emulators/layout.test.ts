/**
 * The emulator wing is a product of its own (issue 17): it imports nothing from provider/, so an emulator can
 * never share a parser (and so a mistake) with the client it checks, and its modules form no import circle.
 */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..", "..", "emulators");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : [],
  );
}

/** Relative imports and re-exports of each module, resolved to files (multi-line import lists included). */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of sources(ROOT)) {
    const text = readFileSync(f, "utf8");
    const deps = [...text.matchAll(/(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/gs)].map((m) => path.resolve(path.dirname(f), m[1]!));
    g.set(
      f,
      deps.map((d) => (sources(path.dirname(d)).includes(`${d}.ts`) ? `${d}.ts` : path.join(d, "index.ts"))),
    );
  }
  return g;
}

describe("the emulator wing", () => {
  it("imports nothing from provider/", () => {
    const offenders = [...graph()].flatMap(([f, deps]) =>
      deps.filter((d) => !d.startsWith(ROOT + path.sep)).map((d) => `${path.relative(ROOT, f)} -> ${path.relative(ROOT, d)}`),
    );
    expect(offenders).toEqual([]);
  });

  it("has no import circles", () => {
    const g = graph();
    const circles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, "open");
      stack.push(f);
      for (const d of g.get(f) ?? []) {
        if (state.get(d) === "open")
          circles.push(
            stack
              .slice(stack.indexOf(d))
              .map((x) => path.relative(ROOT, x))
              .join(" -> "),
          );
        else if (!state.has(d) && g.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, "done");
    };
    for (const f of g.keys()) if (!state.has(f)) visit(f);
    expect(circles).toEqual([]);
  });

  it("finds a circle and a provider import when there is one (the check itself can fail)", () => {
    const text = 'import { a } from "./b";\nimport {\n  x,\n} from "../../provider/core/address";\n';
    const found = [...text.matchAll(/(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/gs)].map((m) => m[1]);
    expect(found).toEqual(["./b", "../../provider/core/address"]);
  });
});

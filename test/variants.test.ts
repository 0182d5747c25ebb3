/**
 * docs/variants.md and the emulators' variant options stay equal (issue 19): every option the page lists is in
 * an emulator's `VARIANTS` with the same values and default, and the other way round; each default is what a
 * default-started emulator actually plays; every option is named in the coverage table and every name there is
 * an option; and the coverage table has one row per "Not verified" bullet of each reference file.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { EmulatorVariant } from "../emulators/kit";
import * as fortigate from "../emulators/fortigate/variants";
import * as fortimanager from "../emulators/fortimanager/variants";
import * as opnsense from "../emulators/opnsense/variants";

const DOCS = path.join(__dirname, "..", "docs");
const page = readFileSync(path.join(DOCS, "variants.md"), "utf8");
const EMULATORS: Record<string, { VARIANTS: readonly EmulatorVariant[]; playedDefaults: () => Record<string, string> }> = { fortigate, fortimanager, opnsense };

/** Rows of the markdown table under `## <heading>`, cells trimmed, header and rule dropped. */
function table(heading: string): string[][] {
  const start = page.indexOf(`## ${heading}\n`);
  if (start < 0) throw new Error(`docs/variants.md has no "## ${heading}" section`);
  const end = page.indexOf("\n## ", start + 1);
  const rows = page
    .slice(start, end < 0 ? undefined : end)
    .split("\n")
    .filter((l) => l.startsWith("|"))
    .map((l) =>
      l
        .slice(1, -1)
        .split(" | ")
        .map((c) => c.trim()),
    );
  return rows.slice(2);
}

const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
const key = (emulator: string, v: EmulatorVariant) => `${emulator}:${v.option} values=${v.values.join(",")} default=${v.default}`;

describe("the variant matrix", () => {
  const documented = table("Options").map(([emulator = "", option = "", values = "", dflt = ""]) =>
    key(emulator, { option: ticked(option)[0] ?? "", values: ticked(values), default: ticked(dflt)[0] ?? "" }),
  );
  const coded = Object.entries(EMULATORS).flatMap(([name, e]) => e.VARIANTS.map((v) => key(name, v)));

  it("lists exactly the emulators' variant options, with their values and defaults", () => {
    expect(documented.length).toBeGreaterThan(0);
    expect(documented.filter((d) => !coded.includes(d))).toEqual([]);
    expect(coded.filter((c) => !documented.includes(c))).toEqual([]);
  });

  it("lists the same options, values and defaults in README's Emulators table", () => {
    const readme = readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
    const label: Record<string, string> = { OPNsense: "opnsense", FortiGate: "fortigate", FortiManager: "fortimanager" };
    const lines = readme.split("\n");
    const header = lines.findIndex((l) => l.startsWith("| emulator | variant options"));
    expect(header).toBeGreaterThan(0);
    const body = lines.slice(header + 2);
    const rows = body.slice(
      0,
      body.findIndex((l) => !l.startsWith("|")),
    );
    const listed = rows.flatMap((l) => {
      const [, device = "", cell = ""] = /^\| (\w+) \| (.*) \|$/.exec(l) ?? [];
      return cell.split("; ").map((item) => {
        const [, option = "", values = "", dflt = ""] = /^`([^`]+)` (\S+) \(\*\*(.+)\*\*\)$/.exec(item) ?? [];
        return key(label[device] ?? device, { option, values: values.split("/"), default: dflt });
      });
    });
    expect([...listed].sort()).toEqual([...coded].sort());
  });

  it("states as default what a default-started emulator plays", () => {
    for (const [name, e] of Object.entries(EMULATORS)) {
      const played = e.playedDefaults();
      for (const v of e.VARIANTS) {
        expect([`${name}:${v.option}`, played[v.option]]).toEqual([`${name}:${v.option}`, v.default]);
        expect(v.values).toContain(v.default);
      }
    }
  });

  it("names every option in the coverage table, and only options that exist", () => {
    const named = new Set(table('Coverage of the "Not verified" items').flatMap((r) => ticked(r[2] ?? "")));
    const options = Object.entries(EMULATORS).flatMap(([name, e]) => e.VARIANTS.map((v) => `${name}:${v.option}`));
    expect([...named].filter((n) => !options.includes(n))).toEqual([]);
    expect(options.filter((o) => !named.has(o))).toEqual([]);
  });

  it.each(["fortigate.md", "fortigate-feeds.md", "fortimanager.md", "opnsense.md"])("covers every Not verified bullet of %s", (file) => {
    const ref = readFileSync(path.join(DOCS, "reference", file), "utf8");
    const start = ref.indexOf("\n## Not verified");
    const end = ref.indexOf("\n## ", start + 1);
    const bullets = ref
      .slice(start, end < 0 ? undefined : end)
      .split("\n")
      .filter((l) => /^[-*] /.test(l)).length;
    const rows = table('Coverage of the "Not verified" items').filter((r) => r[0] === file).length;
    expect(start).toBeGreaterThan(0);
    expect(rows).toBe(bullets);
  });
});

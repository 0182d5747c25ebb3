/**
 * The scaffold of a new device (docs/adding-a-device.md step 1): copies the template device
 * (templates/device/, a complete toy device named `toyfw` that CI compiles, lints and runs through the
 * cross-device tables) with the names put in, and registers it — one line per list — where the
 * registry, the package's entry points and the README mark it (`new-device: … above this line`).
 * What the device really does is left as `TODO(new-device)` for the author. Refuses an existing device.
 *
 *   node dist/scripts/new-device.js <name> [--display <Product>] [--object <Object>] [--root <repo>]
 *   e.g. node dist/scripts/new-device.js acmewall --display AcmeWall --object AliasEntry
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";

/** Where the template device lives in the repository, and the names it is written under. */
export const TEMPLATE_DIR = path.join("templates", "device");
export const TEMPLATE_NAME = "toyfw";
/** Inserted into README.md (above its marker), not copied. */
const README_SECTION = "README.section.md";

export interface DeviceNames {
  /** Lower case: folder, settings namespace (`acmewall:url`), type token module. */
  readonly name: string;
  /** PascalCase of the name (`Acmewall`). */
  readonly pascal: string;
  /** Upper case of the name (`ACMEWALL`): environment names and constants. */
  readonly constant: string;
  /** The product as people write it (`AcmeWall`): messages, help, README. */
  readonly display: string;
  /** The object a grant is, PascalCase (`AliasEntry`): the type token's type. */
  readonly object: string;
  /** The resource class (`AcmewallAliasEntry`) and its provider object's export (`acmewallAliasEntryProvider`). */
  readonly className: string;
  readonly providerExport: string;
  /** The data half's export (`ACMEWALL_SETTINGS`) and the code half's (`ACMEWALL_DEVICE`). */
  readonly settingsConst: string;
  readonly deviceConst: string;
}

export function names(name: string, display?: string, object = "Entry"): DeviceNames {
  if (!/^[a-z][a-z0-9]{1,30}$/.test(name))
    throw new Error(`device name "${name}": lower-case letters and digits, starting with a letter (the product name, e.g. pfsense)`);
  if (name === TEMPLATE_NAME) throw new Error(`device name "${name}" is the template's own`);
  if (!/^[A-Z][A-Za-z0-9]*$/.test(object)) throw new Error(`object "${object}": PascalCase (e.g. AliasEntry)`);
  const shown = display ?? name.charAt(0).toUpperCase() + name.slice(1);
  // It is written into string literals and Markdown: no quote, backslash or markup.
  if (!/^[A-Za-z0-9][A-Za-z0-9 .+-]{0,39}$/.test(shown)) throw new Error(`display name "${shown}": letters, digits, spaces, '.', '+' and '-'`);
  const pascal = name.charAt(0).toUpperCase() + name.slice(1);
  const constant = name.toUpperCase();
  return {
    name,
    pascal,
    constant,
    display: shown,
    object,
    className: pascal + object,
    providerExport: `${name}${object}Provider`,
    settingsConst: `${constant}_SETTINGS`,
    deviceConst: `${constant}_DEVICE`,
  };
}

/** The template's names, most specific first (`ToyfwListEntry` before `Toyfw`), each with its replacement. */
function substitutions(n: DeviceNames): readonly (readonly [string, string])[] {
  const objectConst = n.object.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
  return [
    ["ToyfwListEntry", n.className],
    ["toyfwListEntry", `${n.name}${n.object}`],
    ["TOYFW_LIST_ENTRY", `${n.constant}_${objectConst}`],
    ['"ListEntry"', JSON.stringify(n.object)],
    ["Toy Firewall", n.display],
    ["Toyfw", n.pascal],
    ["toyfw", n.name],
    ["TOYFW", n.constant],
  ];
}

/** The template text with the device's names put in; refuses a template name left over (a name the list above misses). */
export function fill(text: string, n: DeviceNames, file: string): string {
  const out = substitutions(n).reduce((t, [from, to]) => t.split(from).join(to), text);
  const left = /toyfw|toy firewall/i.exec(out) ?? (n.object === "ListEntry" ? null : /ListEntry/.exec(out));
  if (left) throw new Error(`${file}: the template name "${left[0]}" is left after substitution (scripts/new-device.ts substitutions)`);
  return out;
}

/** Template files (relative to the template dir), the README section excepted. */
function templateFiles(dir: string, rel = ""): string[] {
  return readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const r = path.posix.join(rel, e.name);
    if (e.isDirectory()) return templateFiles(dir, r);
    return r === README_SECTION ? [] : [r];
  });
}

/** The marker in each registry file, and what goes on the line above it. */
export function registrations(n: DeviceNames, readmeSection: string): { file: string; marker: string; text: string }[] {
  return [
    // One line per list (and its import): the device's own folders hold its data and code halves.
    {
      file: "provider/device-settings.ts",
      marker: "// new-device: data imports",
      text: `import { ${n.settingsConst} } from "./devices/${n.name}/settings";\n`,
    },
    { file: "provider/device-settings.ts", marker: "// new-device: settings", text: `  ${n.name}: ${n.settingsConst},\n` },
    { file: "provider/registry.ts", marker: "// new-device: imports", text: `import { ${n.deviceConst} } from "./devices/${n.name}/device";\n` },
    { file: "provider/registry.ts", marker: "// new-device: entries", text: `  ${n.name}: ${n.deviceConst},\n` },
    // The package root stays narrow (issue 11): the resource class, its args and its provider object —
    // loaded on first use like every device (issue 22; provider/index.ts says why this getter form).
    { file: "provider/index.ts", marker: "// new-device: exports", text: lazyExports(n) },
    { file: "emulators/index.ts", marker: "// new-device: emulators", text: `export * from "./${n.name}/emulator";\n` },
    // `npm run docs` fills the privilege table between the section's preflight markers.
    { file: "README.md", marker: "<!-- new-device: resources", text: readmeSection },
  ];
}

/** The device's block in provider/index.ts: its resource module required on first use, each export a getter. */
export function lazyExports(n: DeviceNames): string {
  const mod = `${n.className}Module`;
  const lazy = `${n.providerExport}Module`;
  const getter = (x: string) => `Object.defineProperty(exports, "${x}", {\n  enumerable: true,\n  get() {\n    return ${lazy}.${x};\n  },\n});\n`;
  return (
    `import type * as ${mod} from "./devices/${n.name}/resource";\n` +
    `const ${lazy} = lazyModule(() => require("./devices/${n.name}/resource") as typeof ${mod});\n` +
    `export declare const ${n.className}: typeof ${mod}.${n.className};\n` +
    `export type ${n.className} = ${mod}.${n.className};\n` +
    getter(n.className) +
    `export declare const ${n.providerExport}: typeof ${mod}.${n.providerExport};\n` +
    getter(n.providerExport) +
    `export type { ${n.className}Args } from "./devices/${n.name}/resource";\n`
  );
}

/** Inserts `text` on the line above the marker line (keeping the marker for the next device). */
export function insertAbove(source: string, marker: string, text: string, file: string): string {
  const at = source.indexOf(marker);
  if (at < 0) throw new Error(`${file}: marker "${marker}" not found (docs/adding-a-device.md lists the markers)`);
  const lineStart = source.lastIndexOf("\n", at) + 1;
  return source.slice(0, lineStart) + text + source.slice(lineStart);
}

/** Writes the device's files and registrations under `root`; returns the paths written or edited (relative, `/`-separated). */
export function scaffold(root: string, n: DeviceNames): string[] {
  const templates = path.join(root, TEMPLATE_DIR);
  if (existsSync(path.join(root, "provider", "devices", n.name))) throw new Error(`provider/devices/${n.name} exists already`);
  if (new RegExp(`^  ${n.name}: `, "m").test(readFileSync(path.join(root, "provider/device-settings.ts"), "utf8")))
    throw new Error(`${n.name} is registered already`);
  // Everything in memory first: a missing marker or a leftover template name leaves nothing half-written.
  const files = new Map<string, string>();
  for (const rel of templateFiles(templates)) {
    const target = rel.split(`/${TEMPLATE_NAME}/`).join(`/${n.name}/`);
    if (existsSync(path.join(root, target))) throw new Error(`${target} exists already`);
    files.set(target, fill(readFileSync(path.join(templates, rel), "utf8"), n, path.posix.join(TEMPLATE_DIR, rel)));
  }
  const section = fill(readFileSync(path.join(templates, README_SECTION), "utf8"), n, README_SECTION);
  for (const r of registrations(n, section))
    files.set(r.file, insertAbove(files.get(r.file) ?? readFileSync(path.join(root, r.file), "utf8"), r.marker, r.text, r.file));
  for (const [rel, text] of files) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  return [...files.keys()];
}

/** Lays out `files` (relative to `root`) with the repository's prettier: the insertions and the longer names break lines differently. */
export function formatFiles(root: string, files: readonly string[]): void {
  execFileSync(process.execPath, [path.join(root, "node_modules", "prettier", "bin", "prettier.cjs"), "--write", "--log-level=warn", ...files], {
    cwd: root,
    stdio: "inherit",
  });
}

function main(argv: readonly string[]): number {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { display: { type: "string" }, object: { type: "string" }, root: { type: "string" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help || positionals.length !== 1) {
    process.stdout.write("Usage: new-device <name> [--display <Product>] [--object <Object>] [--root <repo>]\n");
    return values.help ? 0 : 2;
  }
  const root = path.resolve(values.root ?? process.cwd());
  const n = names(positionals[0]!, values.display, values.object);
  const written = scaffold(root, n);
  formatFiles(root, written);
  process.stdout.write(
    `${written.map((f) => `  wrote ${f}`).join("\n")}\nNext: docs/adding-a-device.md, from step 2 (grep -rn "TODO(new-device)" provider/devices/${n.name} emulators/${n.name} test/${n.name} README.md).\n`,
  );
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`new-device: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}

/**
 * The scaffold of a new device (docs/adding-a-device.md step 1): writes provider/devices/<name>/{client,
 * preflight, resource, settings, device}.ts, emulators/<name>/emulator.ts and test/<name>/resource.test.ts,
 * and registers the device (one line per list) where
 * the registry and the package's entry points mark it (`// new-device: …` lines in
 * provider/device-settings.ts, provider/registry.ts, provider/index.ts, emulators/index.ts). The
 * generated files compile and pass their test against the generated emulator; what the device really
 * does is left as `TODO(new-device)` for the author. Refuses an existing device or folder.
 *
 *   node dist/scripts/new-device.js <name> [--display <Product>] [--object <Object>] [--root <repo>]
 *   e.g. node dist/scripts/new-device.js pfsense --display pfSense --object AliasEntry
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { deviceTemplates, type DeviceNames } from "./new-device-templates";

/** The marker comment in each registry file, and what goes above it. */
export function registrations(n: DeviceNames): { file: string; marker: string; text: string }[] {
  return [
    // One line per list (and its import): the device's own folder holds its data and code halves.
    {
      file: "provider/device-settings.ts",
      marker: "// new-device: data imports",
      text: `import { ${n.settingsConst} } from "./devices/${n.name}/settings";\n`,
    },
    { file: "provider/device-settings.ts", marker: "// new-device: settings", text: `  ${n.name}: ${n.settingsConst},\n` },
    { file: "provider/registry.ts", marker: "// new-device: imports", text: `import { ${n.deviceConst} } from "./devices/${n.name}/device";\n` },
    { file: "provider/registry.ts", marker: "// new-device: entries", text: `  ${n.name}: ${n.deviceConst},\n` },
    // The package root stays narrow (issue 11): the resource class, its args and its provider object.
    {
      file: "provider/index.ts",
      marker: "// new-device: exports",
      text: `export { ${n.className}, ${n.providerExport}, type ${n.className}Args } from "./devices/${n.name}/resource";\n`,
    },
    { file: "emulators/index.ts", marker: "// new-device: emulators", text: `export * from "./${n.name}/emulator";\n` },
  ];
}

/** Inserts `text` on the line above the marker line (keeping the marker for the next device). */
export function insertAbove(source: string, marker: string, text: string, file: string): string {
  const at = source.indexOf(marker);
  if (at < 0) throw new Error(`${file}: marker "${marker}" not found (docs/adding-a-device.md lists the markers)`);
  const lineStart = source.lastIndexOf("\n", at) + 1;
  return source.slice(0, lineStart) + text + source.slice(lineStart);
}

export function names(name: string, display?: string, object = "Entry"): DeviceNames {
  if (!/^[a-z][a-z0-9]{1,30}$/.test(name))
    throw new Error(`device name "${name}": lower-case letters and digits, starting with a letter (the product name, e.g. pfsense)`);
  if (!/^[A-Z][A-Za-z0-9]*$/.test(object)) throw new Error(`object "${object}": PascalCase (e.g. AliasEntry)`);
  return deviceTemplates(name, display ?? name.charAt(0).toUpperCase() + name.slice(1), object);
}

/** Writes the device's files and registrations under `root`; returns the paths written (relative). */
export function scaffold(root: string, n: DeviceNames): string[] {
  const dir = path.join(root, "provider", "devices", n.name);
  if (existsSync(dir)) throw new Error(`provider/devices/${n.name} exists already`);
  const settingsFile = path.join(root, "provider/device-settings.ts");
  if (new RegExp(`^  ${n.name}: `, "m").test(readFileSync(settingsFile, "utf8"))) throw new Error(`${n.name} is registered already`);
  // Registrations first, in memory: a missing marker leaves nothing half-written.
  const edited = new Map<string, string>();
  for (const r of registrations(n)) {
    const file = path.join(root, r.file);
    edited.set(file, insertAbove(edited.get(file) ?? readFileSync(file, "utf8"), r.marker, r.text, r.file));
  }
  const written: string[] = [];
  for (const [rel, text] of Object.entries(n.files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
    written.push(rel);
  }
  for (const [file, text] of edited) {
    writeFileSync(file, text);
    written.push(path.relative(root, file));
  }
  return written;
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
  process.stdout.write(
    `${written.map((f) => `  wrote ${f}`).join("\n")}\nNext: docs/adding-a-device.md, from step 2 (grep -r TODO(new-device) provider/devices/${n.name} emulators/${n.name}).\n`,
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

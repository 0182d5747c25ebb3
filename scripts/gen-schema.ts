/**
 * Writes provider/plugin/schema.json, the Pulumi package schema of the `firewall-grants` provider plugin,
 * from the resources' zod schemas and the device registry (provider/plugin/schema.ts). test/plugin-schema.test.ts
 * fails when the file is stale. `npm run gen-schema`; `--check` only compares.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { buildSchema } from "../provider/plugin/schema";

const ROOT = path.join(__dirname, "..", ...(path.basename(path.dirname(__dirname)) === "dist" ? [".."] : []));

export function schemaText(): string {
  const { version } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
  return `${JSON.stringify(buildSchema(version), null, 2)}\n`;
}

export const SCHEMA_FILE = path.join(ROOT, "provider", "plugin", "schema.json");

if (require.main === module) {
  const text = schemaText();
  if (process.argv.includes("--check")) {
    let current: string | undefined;
    try {
      current = JSON.stringify(JSON.parse(readFileSync(SCHEMA_FILE, "utf8")));
    } catch {
      current = undefined;
    }
    // Compared as data: the file is laid out by prettier (npm run gen-schema runs it after this).
    if (current !== JSON.stringify(JSON.parse(text))) {
      console.error(`${SCHEMA_FILE} is stale: run npm run gen-schema`);
      process.exit(1);
    }
  } else {
    writeFileSync(SCHEMA_FILE, text);
    console.log(`wrote ${SCHEMA_FILE}`);
  }
}

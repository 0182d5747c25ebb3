/**
 * `firewall-grants emulate`: every registered device's emulator (provider/registry.ts) for a user's own
 * CI, seeded with demo users of chosen privileges and demo objects, until SIGINT/SIGTERM. Credentials
 * are random per start (they are the emulators' own, printed on purpose); the test CA, key files,
 * `env.sh` and `emulators.json` are written to one directory. `env.sh` is written last, so its
 * existence means the emulators are listening. In a reused `--out-dir` the files of the previous run
 * (listed in `.emulate-files`) are removed first, `env.sh` above all: a CI step waiting for it never
 * reads the credentials of emulators that are gone. Every file is written whole (temporary + rename).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { settingEnvName } from "../provider/device-settings";
import { deviceList, type DemoInfoOf, type NamedDeviceEntry } from "../provider/registry";
import type { DeviceName } from "../provider/device-settings";
import { testCaCert, type EmulatorServer } from "../emulators/kit";

export interface EmulateOptions {
  readonly host: string;
  /** Port per device name; absent or 0 picks a free one. */
  readonly ports: Readonly<Record<string, number>>;
  /** Where the CA, key files, env.sh and emulators.json go. @default a new temporary directory */
  readonly outDir: string | undefined;
  readonly json: boolean;
}

/** What `--json` prints and `emulators.json` holds: each device's part under its name. */
export type EmulateInfo = {
  readonly caCertFile: string;
  readonly envFile: string;
  readonly env: Record<string, string>;
} & { readonly [K in DeviceName]: DemoInfoOf<K> };

const secret = (bytes = 16) => randomBytes(bytes).toString("hex");
const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/** The list of the files a run wrote, so that the next run in the same directory removes them. */
export const MANIFEST = ".emulate-files";
const OWN_FILES = ["env.sh", "emulators.json", "ca.pem"];

/** Writes `file` whole: a reader sees the old content or the new one, never a part. */
function writeAtomic(file: string, text: string, mode = 0o600): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
}

/** Removes what a previous run wrote to `dir` (its manifest's names, and the files every run writes); only plain names inside `dir`. */
function removePreviousRun(dir: string): void {
  let listed: string[];
  try {
    listed = JSON.parse(readFileSync(path.join(dir, MANIFEST), "utf8")) as string[];
  } catch {
    listed = [];
  }
  // env.sh first: it is the "ready" signal.
  for (const name of [...OWN_FILES, ...(Array.isArray(listed) ? listed : []), MANIFEST]) {
    if (typeof name === "string" && name === path.basename(name) && name !== "." && name !== "..") rmSync(path.join(dir, name), { force: true });
  }
}

/** Starts every device's demo emulator; `close()` stops them. */
export async function startDemoEmulators(
  opts: EmulateOptions,
  devices: readonly NamedDeviceEntry[] = deviceList(),
): Promise<{ info: EmulateInfo; summary: string[]; close: () => Promise<void> }> {
  const dir = opts.outDir ? path.resolve(opts.outDir) : mkdtempSync(path.join(tmpdir(), "firewall-grants-emulate-"));
  mkdirSync(dir, { recursive: true });
  removePreviousRun(dir);
  const before = new Set(readdirSync(dir));
  const servers: EmulatorServer[] = [];
  const close = async () => {
    await Promise.all(servers.map((s) => s.close()));
  };
  try {
    const caCertFile = path.join(dir, "ca.pem");
    writeAtomic(caCertFile, testCaCert(), 0o644);
    const parts: Record<string, unknown> = {};
    const env: Record<string, string> = {};
    const summary: string[] = [];
    for (const d of devices) {
      const demo = await d.emulator.demo({ host: opts.host, tls: "test-ca", port: opts.ports[d.name] ?? 0 }, dir, secret);
      servers.push(demo.server);
      parts[d.name] = demo.info;
      Object.assign(env, demo.env);
      summary.push(...demo.summary);
    }
    env.FIREWALL_GRANTS_CA_CERT_FILE = caCertFile;
    const envFile = path.join(dir, "env.sh");
    const info = { caCertFile, envFile, ...parts, env } as EmulateInfo;
    writeAtomic(path.join(dir, "emulators.json"), `${JSON.stringify(info, null, 2)}\n`);
    // The files this run wrote (demo key files included), for the next run's cleanup; env.sh last.
    const written = [...readdirSync(dir).filter((f) => !before.has(f) && !f.endsWith(".tmp")), "env.sh"];
    writeAtomic(path.join(dir, MANIFEST), `${JSON.stringify([...new Set(written)])}\n`);
    writeAtomic(envFile, `${exportLines(info, devices).join("\n")}\n`);
    return { info, summary, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** `export` lines for a POSIX shell; the library reads `<DEVICE>_CA_CERT` as PEM content, so they load the file. */
export function exportLines(info: Pick<EmulateInfo, "env" | "caCertFile">, devices: readonly NamedDeviceEntry[] = deviceList()): string[] {
  return [
    ...Object.entries(info.env).map(([k, v]) => `export ${k}=${quote(v)}`),
    ...devices.map((d) => `export ${settingEnvName(d.name, "caCert")}="$(cat ${quote(info.caCertFile)})"`),
  ];
}

/** The human-readable summary `emulate` prints without `--json`. */
export function describe(info: EmulateInfo, summary: readonly string[], devices: readonly NamedDeviceEntry[] = deviceList()): string {
  return [
    "firewall-grants emulators are running (Ctrl-C or SIGTERM stops them)",
    `  test CA            ${info.caCertFile}`,
    "",
    ...summary,
    "",
    `# For your shell or CI step:  source ${info.envFile}`,
    ...exportLines(info, devices),
  ].join("\n");
}

/** Runs until SIGINT/SIGTERM, then closes the servers; resolves to the exit code. */
export async function runEmulate(opts: EmulateOptions, out: (line: string) => void): Promise<number> {
  const { info, summary, close } = await startDemoEmulators(opts);
  out(opts.json ? JSON.stringify(info) : describe(info, summary));
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  await close();
  if (!opts.json) out(`stopped (${signal})`);
  return 0;
}

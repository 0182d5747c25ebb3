/**
 * Shared by the end-to-end tests: finds the Pulumi CLI once (synchronously, so a missing CLI can
 * decide between `describe` and `describe.skip` at load time), and scans files and output for secrets.
 * In CI (`CI=true`) a missing CLI or a missing build is a failure, never a skip.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { leakedSecrets } from "../support/secrets";

export const ROOT = path.resolve(__dirname, "..", "..");
export const PROGRAM_DIR = path.join(__dirname, "program");
export const IN_CI = process.env.CI === "true";

export interface CliProbe {
  readonly ok: boolean;
  readonly reason: string;
}

let probe: CliProbe | undefined;

/** Runs scripts/pulumi-cli.sh (cached: < 1 s; a fresh CI machine builds the CLI once, ~5 min). */
export function probeCli(): CliProbe {
  if (probe) return probe;
  if (!existsSync(path.join(ROOT, "dist", "provider", "index.js"))) {
    probe = { ok: false, reason: "dist/ is missing: the program loads the built package (run `npm run build`, or `npm test`, which builds first)" };
    return probe;
  }
  try {
    execFileSync("bash", [path.join(ROOT, "scripts", "pulumi-cli.sh")], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], timeout: 30 * 60_000 });
    probe = { ok: true, reason: "" };
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? "")
      .trim()
      .split("\n")
      .slice(-5)
      .join("\n");
    probe = { ok: false, reason: `scripts/pulumi-cli.sh failed: ${stderr || (e as Error).message}` };
  }
  return probe;
}

/**
 * `describe` when the CLI is there; otherwise a loud skip locally, and in CI a suite whose one test
 * fails with the reason.
 */
export function describeWithCli(name: string, fn: () => void): void {
  const p = probeCli();
  if (p.ok) {
    describe(name, fn);
    return;
  }
  if (IN_CI) {
    describe(name, () => {
      test("the Pulumi CLI is available (required in CI)", () => {
        throw new Error(`CI=true and the Pulumi CLI is not usable: ${p.reason}`);
      });
    });
    return;
  }
  const bar = "!".repeat(100);
  console.warn(
    `${bar}\nSKIPPING end-to-end suite "${name}": ${p.reason}\nInstall Go (>= 1.21) with access to a Go module proxy, or a Pulumi CLI >= 3.226 on PATH. In CI this is a failure.\n${bar}`,
  );
  describe.skip(name, fn);
}

export { leakedSecrets } from "../support/secrets";

/** Leaks per file: `{file: [secret names]}` for files that hold any. */
export function leaksInFiles(files: readonly string[], secrets: Record<string, string>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of files) {
    const found = leakedSecrets(readFileSync(f, "latin1"), secrets);
    if (found.length > 0) out[f] = found;
  }
  return out;
}

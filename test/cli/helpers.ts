/** Runs the built `firewall-grants` command (dist/cli/main.js) as users do; builds dist first when stale. */
import { spawn, execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";

export const ROOT = path.join(__dirname, "..", "..");
export const MAIN = path.join(ROOT, "dist", "cli", "main.js");

/** `npm test` builds first; a lone `jest test/cli` rebuilds when a cli/ , provider/ or emulators/ source is newer than dist. */
export function ensureBuilt(): void {
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((d) =>
        d.isDirectory() ? newest(path.join(dir, d.name)) : d.name.endsWith(".ts") ? statSync(path.join(dir, d.name)).mtimeMs : 0,
      ),
    );
  const src = Math.max(newest(path.join(ROOT, "cli")), newest(path.join(ROOT, "provider")), newest(path.join(ROOT, "emulators")));
  if (existsSync(MAIN) && statSync(MAIN).mtimeMs >= src) return;
  execFileSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A minimal environment: no device variable leaks in from the machine running the tests. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...extra };
}

/** Runs the CLI to completion (asynchronously: the emulators live in the test process). */
export function run(args: readonly string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

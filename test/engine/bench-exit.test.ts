/**
 * `npm run bench` is robust (issue 22): a row whose CLI command times out fails the run with a non-zero
 * exit after the results are written, and nothing the bench started outlives it — not the CLI, not its
 * language host or provider hosts (each in a process group of its own), found by the tag every process
 * of a tracked command inherits (bench/proc.ts). The timeout is set so short that the CLI is always
 * killed mid-command.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describeWithCli, ROOT } from "./helpers";

/** Live processes carrying a bench tree tag of the bench process `pid`. */
function leftovers(pid: number): string[] {
  const out: string[] = [];
  for (const p of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      if (!readFileSync(`/proc/${p}/environ`, "latin1").includes(`FIREWALL_GRANTS_BENCH_TREE=${pid}-`)) continue;
      if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${p}/stat`, "utf8"))) continue;
      out.push(`${p}: ${readFileSync(`/proc/${p}/cmdline`, "utf8").replace(/\0/g, " ")}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

describeWithCli("bench: a failing row fails the run and leaves no process", () => {
  it("exits 1 naming the timed-out row, writes the results, and kills every process it started", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bench-exit-"));
    try {
      const out = path.join(dir, "r.json");
      const child = spawn(process.execPath, [path.join(ROOT, "dist", "bench", "run.js"), "--rows", "phases", "--timeout", "4", "--out", out], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.stdout.resume();
      const code = await new Promise<number | null>((r) => child.on("close", r));
      expect(code).toBe(1);
      expect(stderr).toMatch(/row\(s\) failed/);
      expect(stderr).toMatch(/killed after the 4 s timeout/);
      const results = JSON.parse(readFileSync(out, "utf8")) as { failures: string[] };
      expect(results.failures.length).toBeGreaterThan(0);
      expect(leftovers(child.pid!)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

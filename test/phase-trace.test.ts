/**
 * The bench's phase trace (provider/core/phase-trace.ts): silent without FIREWALL_GRANTS_BENCH_TRACE, one
 * JSON line per event with it, and never a failure for the grant when the file cannot be written.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PHASE_TRACE_ENV, resetPhaseTrace, tracePhase } from "../provider/core/phase-trace";

describe("phase trace", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "phase-trace-"));
  const file = path.join(dir, "trace.jsonl");
  afterEach(() => {
    delete process.env[PHASE_TRACE_ENV];
    resetPhaseTrace();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes nothing without the variable", () => {
    tracePhase("preflight", Date.now());
    expect(existsSync(file)).toBe(false);
  });

  it("appends one line per event: pid, role, process start, event, start and end in epoch ms", () => {
    process.env[PHASE_TRACE_ENV] = file;
    resetPhaseTrace();
    const before = Date.now();
    tracePhase("request", before - 5);
    tracePhase("register");
    const lines = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ pid: process.pid, role: "program", event: "request", start: before - 5 });
    expect(lines[0]!.end as number).toBeGreaterThanOrEqual(before - 1);
    expect(lines[1]!.start).toBe(lines[1]!.end);
    expect(lines[1]!.origin as number).toBeLessThanOrEqual(before);
    // A span is measured on the clock its start was taken from: it never ends before it starts.
    expect(lines[0]!.end as number).toBeGreaterThanOrEqual(lines[0]!.start as number);
  });

  it("an unwritable trace file never throws", () => {
    process.env[PHASE_TRACE_ENV] = path.join(dir, "missing-dir", "trace.jsonl");
    resetPhaseTrace();
    expect(() => tracePhase("preflight", Date.now())).not.toThrow();
  });
});

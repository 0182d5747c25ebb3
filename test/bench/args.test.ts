/**
 * `npm run bench` options (bench/args.ts) and the phase timeline (bench/engine.ts `phasesOf`): pure code,
 * so the unit tier. The run's exit code and the process-tree kill are proved by test/bench/proc.test.ts
 * (contract) and test/engine/bench-exit.test.ts (engine).
 */
import { ENGINE_ROWS, parseBenchArgs } from "../../bench/args";
import { phasesOf, type TraceEvent } from "../../bench/engine";

const parse = (...argv: string[]) => parseBenchArgs(argv, 2, "/repo");

describe("bench options", () => {
  it("runs what it always ran without flags: provider methods and OPNsense per-entry through the CLI at N = 10, 100, 500", () => {
    const a = parse();
    expect(a.rows).toEqual(["provider", "opnsense-table", "opnsense-config"]);
    expect(a.ns).toEqual([10, 100, 500]);
    expect(a.parallel).toBe(8);
    expect(a.out).toBe("/repo/bench/results/latest.json");
    expect(a.baseline).toBeUndefined();
    expect(a.tofu).toBeUndefined();
  });

  it("--profile issue22 selects every CLI row at N = 1000, a 50,000-address set and 100 people", () => {
    const a = parse("--profile", "issue22");
    expect(a.rows).toEqual([...ENGINE_ROWS]);
    expect(a.ns).toEqual([1000]);
    expect(a.largeSetN).toBe(50_000);
    expect(a.people).toBe(100);
    expect(a.feedDevices).toBe(100);
  });

  it("--rows picks a subset; --n, sizes, timeout and baseline are taken as given", () => {
    const a = parse("--rows", "grant,set-change", "--n", "20,50", "--large-set-n", "5000", "--timeout", "90", "--baseline", "/tmp/base", "--skip-preview-too");
    expect(a.rows).toEqual(["grant", "set-change"]);
    expect(a.ns).toEqual([20, 50]);
    expect(a.largeSetN).toBe(5000);
    expect(a.timeoutMs).toBe(90_000);
    expect(a.baseline).toBe("/tmp/base");
    expect(a.skipPreviewToo).toBe(true);
    expect(a.engineParallel).toBeUndefined();
  });

  it("--engine-parallel is passed on only when given (the CLI's default is what users get)", () => {
    expect(parse("--rows", "opnsense-config", "--engine-parallel", "1000").engineParallel).toBe(1000);
    expect(() => parse("--engine-parallel", "0")).toThrow("--engine-parallel takes");
  });

  it("the peer row joins only with --tofu, and its provider paths need it", () => {
    const a = parse("--rows", "phases", "--tofu", "/bin/tofu", "--tofu-opnsense", "/p/opn");
    expect(a.rows).toEqual(["phases", "peer"]);
    expect(a.tofu).toEqual({ tofu: "/bin/tofu", opnsense: "/p/opn" });
    expect(() => parse("--tofu-opnsense", "/p/opn")).toThrow("--tofu-opnsense/--tofu-fortios need --tofu PATH");
  });

  it("refuses unknown rows, profiles and options, and bad numbers, naming the flag", () => {
    expect(() => parse("--rows", "opnsense-table,nope")).toThrow("--rows: unknown row nope");
    expect(() => parse("--profile", "fast")).toThrow("--profile: unknown profile fast");
    expect(() => parse("--frobnicate")).toThrow("unknown option --frobnicate");
    expect(() => parse("--n", "10,x")).toThrow("--n takes positive integers");
    expect(() => parse("--timeout", "0")).toThrow("--timeout takes positive integers");
    expect(() => parse("--people", "1,2")).toThrow("--people takes one positive integer");
    expect(() => parse("--baseline")).toThrow("--baseline needs a value");
  });
});

describe("phase timeline of a traced up", () => {
  const ev = (pid: number, role: string, origin: number, event: string, start: number, end = start): TraceEvent => ({ pid, role, origin, event, start, end });

  it("lays the passes out contiguously, splitting device work from the waits between requests and leaving the preflight's requests inside it", () => {
    const trace = [
      ev(1, "program", 1000, "register", 3000),
      ev(2, "provider", 3500, "library-loaded", 5000),
      ev(2, "provider", 3500, "request", 5010, 5020),
      ev(2, "provider", 3500, "preflight", 5000, 5100),
      ev(2, "provider", 3500, "request", 6000, 6010),
      ev(2, "provider", 3500, "request", 6005, 6030),
      ev(2, "provider", 3500, "request", 8500, 8520),
    ];
    const rows = phasesOf(trace, 9000);
    expect(rows.map((r) => [r.phase.replace(/\(.*\)/, "()"), r.fromMs, r.toMs])).toEqual([
      ["CLI start, language host start ()", 0, 1000],
      ["pass 1, program: node start, compile, library load → first resource registered", 1000, 3000],
      ["engine ()", 3000, 3500],
      ["pass 1, provider host: node start + library load", 3500, 5000],
      ["pass 1, provider: preflight", 5000, 5100],
      ["engine ()", 5100, 6000],
      ["pass 1, provider: device work ()", 6000, 6050],
      ["pass 1, provider: provider waits between them ()", 6050, 8520],
      ["engine after the last traced moment ()", 8520, 9000],
    ]);
    expect(rows.find((r) => r.phase.includes("device work"))!.phase).toContain("3 requests, 50 ms with one in flight");
  });
});

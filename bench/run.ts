/**
 * `npm run bench` (issue 6): what grants cost against the device emulators with realistic latency
 * (2 ms per request, 300 ms per OPNsense `reconfigure`), for N = 10, 100, 500 grants per device.
 *
 * 1. Provider methods, called as the engine calls them: check for every grant, then create with the
 *    engine's default parallelism (`--parallel` = 4 × CPUs), then read (refresh), then a preview in
 *    a fresh provider process (check + diff per grant), then delete. Requests per grant come from the
 *    emulators' request logs; reconfigures from the OPNsense backend's counter.
 * 2. When the Pulumi CLI is available (scripts/pulumi-workspace.ts builds or finds it), the same
 *    grants through `pulumi up` / `preview` / `preview --refresh` / `destroy`, next to the same run of
 *    N no-op dynamic resources (the engine floor).
 *
 * Options: --quick (N=10 only), --no-engine, --n 10,100, --parallel P (provider runs), --out FILE.
 * Results: a table on stdout and JSON in bench/results/latest.json.
 */
import { benchFeeds, formatFeedBench } from "./feeds";
import { benchSets, formatSetsTable } from "./sets";
import { mkdirSync, writeFileSync, rmSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import * as path from "node:path";
import { OPNSENSE_EMULATOR_ADMIN, startOpnsenseEmulator } from "../emulators/opnsense/emulator";
import { deviceList, type BenchRun } from "../provider/registry";
import { resetProcessState } from "../provider/core/process-state";
import { closeAllAgents } from "../provider/core/transport";
import type { EmulatorServer } from "../emulators/kit";

const LATENCY_MS = 2;
const RECONFIGURE_MS = 300;

interface Args {
  ns: number[];
  /** Set sizes for the managed-list benchmark (bench/sets.ts). */
  setNs: number[];
  engine: boolean;
  /** Only the runs through the Pulumi CLI (per-entry and sets). */
  engineOnly: boolean;
  parallel: number;
  out: string;
}

function parseArgs(argv: readonly string[]): Args {
  const cores = typeof availableParallelism === "function" ? availableParallelism() : cpus().length;
  const a: Args = {
    ns: [10, 100, 500],
    setNs: [100, 1000, 10000],
    engine: true,
    engineOnly: false,
    parallel: cores * 4,
    out: path.join(repoRoot(), "bench", "results", "latest.json"),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--quick") {
      a.ns = [10];
      a.setNs = [100];
    } else if (arg === "--set-n")
      a.setNs = String(argv[++i])
        .split(",")
        .map(Number)
        .filter((n) => n > 0);
    else if (arg === "--no-engine") a.engine = false;
    else if (arg === "--engine-only") a.engineOnly = true;
    else if (arg === "--n")
      a.ns = String(argv[++i])
        .split(",")
        .map(Number)
        .filter((n) => n > 0);
    else if (arg === "--parallel") a.parallel = Number(argv[++i]);
    else if (arg === "--out") a.out = path.resolve(String(argv[++i]));
    else if (arg === "--help" || arg === "-h") {
      process.stdout.write(
        "npm run bench -- [--quick] [--no-engine] [--n 10,100,500] [--set-n 100,1000,10000] [--engine-only] [--parallel P] [--out file.json]\n",
      );
      process.exit(0);
    } else throw new Error(`unknown option ${arg}`);
  }
  return a;
}

function repoRoot(): string {
  // dist/bench/run.js → repo root; bench/run.ts (ts-node) → repo root.
  return path.basename(path.dirname(__dirname)) === "dist" ? path.join(__dirname, "..", "..") : path.join(__dirname, "..");
}

// ---------------------------------------------------------------------------------------------
// Measurement helpers

/** Runs `fn` over `items` with at most `limit` at once (the engine's step executor), timing each call. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<{ results: R[]; durations: number[] }> {
  const results: R[] = new Array(items.length);
  const durations: number[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      const t0 = performance.now();
      results[i] = await fn(items[i]!, i);
      durations[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return { results, durations };
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

interface PhaseResult {
  /** Requests the device received in this phase. */
  requests: number;
  requestsPerGrant: number;
  /** Requests by route, for the curious. */
  routes: Record<string, number>;
  wallMs: number;
  p50Ms: number;
  p95Ms: number;
  /** OPNsense: reconfigures in this phase. */
  reconfigures?: number;
}

interface ScenarioResult {
  device: string;
  mode: string;
  n: number;
  parallel: number;
  /** Alias / group / administrators the grants go into. */
  targets: number;
  phases: Record<"check" | "create" | "read" | "preview" | "delete", PhaseResult>;
  /** Device state after delete equals the state before create. */
  cleanAfterDelete: boolean;
}

function routesOf(emu: EmulatorServer): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of emu.log.entries()) {
    const k = e.route ?? `${e.method} ${e.path}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

async function phase<T, R>(
  emu: EmulatorServer,
  items: readonly T[],
  parallel: number,
  fn: (item: T, i: number) => Promise<R>,
  reconfigures?: () => number,
): Promise<{ results: R[]; result: PhaseResult }> {
  emu.log.clear();
  const r0 = reconfigures?.() ?? 0;
  const t0 = performance.now();
  const { results, durations } = await pool(items, parallel, fn);
  const wallMs = performance.now() - t0;
  const requests = emu.log.count();
  const result: PhaseResult = {
    requests,
    requestsPerGrant: requests / Math.max(1, items.length),
    routes: routesOf(emu),
    wallMs,
    p50Ms: percentile(durations, 50),
    p95Ms: percentile(durations, 95),
    ...(reconfigures && { reconfigures: reconfigures() - r0 }),
  };
  return { results, result };
}

// ---------------------------------------------------------------------------------------------
// Grant inputs

/** A distinct documentation-range-free host address per grant: 10.<i/65536>.<i/256>.<i%256>. */
const hostAddress = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255 || 1}${(i & 255) === 0 ? "" : ""}`;
function addresses(n: number): string[] {
  const out = new Set<string>();
  for (let i = 1; out.size < n; i++) if ((i & 255) !== 0 && (i & 255) !== 255) out.add(hostAddress(i));
  return [...out];
}

type Provider = {
  check?: (olds: never, news: never) => Promise<{ inputs?: unknown; failures?: readonly unknown[] }>;
  diff?: (id: string, olds: never, news: never) => Promise<unknown>;
  create: (inputs: never) => Promise<{ id: string; outs?: unknown }>;
  read?: (id: string, props?: never) => Promise<{ id?: string; props?: unknown }>;
  delete?: (id: string, props: never) => Promise<void>;
};

interface Scenario {
  device: string;
  mode: string;
  targets: (n: number) => number;
  allAtOnce: boolean;
  start: (n: number) => Promise<BenchRun>;
  provider: Provider;
}

/** Every registered device's benchmarks (its device.ts `bench`), in registration order. */
function scenarios(): Scenario[] {
  return deviceList().flatMap((d) =>
    (d.bench ?? []).map((b) => ({
      device: d.name,
      mode: b.mode,
      targets: (n: number) => b.targets(n),
      allAtOnce: b.allAtOnce === true,
      start: (n: number) => b.start(addresses(n), { latencyMs: LATENCY_MS, reconfigureLatencyMs: RECONFIGURE_MS }),
      provider: b.provider as unknown as Provider,
    })),
  );
}

async function runScenario(s: Scenario, n: number, parallel: number): Promise<ScenarioResult> {
  resetProcessState();
  const env = await s.start(n);
  const { emu, provider } = { emu: env.emu, provider: s.provider };
  try {
    const before = JSON.stringify(env.state());
    const checked = await phase(
      emu,
      env.inputs,
      parallel,
      async (news) => {
        const r = await provider.check!({} as never, news as never);
        if (r.failures?.length) throw new Error(`check failed: ${JSON.stringify(r.failures)}`);
        return r.inputs as Record<string, unknown>;
      },
      env.reconfigures,
    );
    const created = await phase(emu, checked.results, parallel, (inputs) => provider.create(inputs as never), env.reconfigures);
    const read = await phase(
      emu,
      created.results,
      parallel,
      async (c) => {
        const r = await provider.read!(c.id, c.outs as never);
        if (r.id === undefined) throw new Error(`read lost ${c.id}`);
        return r;
      },
      env.reconfigures,
    );
    // A preview runs in a new provider process: nothing cached from the run above.
    resetProcessState();
    await closeAllAgents();
    const preview = await phase(
      emu,
      created.results,
      parallel,
      async (c, i) => {
        const r = await provider.check!(c.outs as never, env.inputs[i] as never);
        if (r.failures?.length) throw new Error(`check failed: ${JSON.stringify(r.failures)}`);
        return provider.diff!(c.id, c.outs as never, r.inputs as never);
      },
      env.reconfigures,
    );
    const deleted = await phase(emu, created.results, parallel, (c) => provider.delete!(c.id, c.outs as never), env.reconfigures);
    const after = JSON.stringify(env.state());
    return {
      device: s.device,
      mode: s.mode,
      n,
      parallel,
      targets: s.targets(n),
      phases: { check: checked.result, create: created.result, read: read.result, preview: preview.result, delete: deleted.result },
      cleanAfterDelete: before === after,
    };
  } finally {
    await env.release?.();
    await closeAllAgents();
    resetProcessState();
    await env.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Through the Pulumi CLI

interface EngineResult {
  program: string;
  n: number;
  upMs: number;
  previewMs: number;
  refreshPreviewMs: number;
  destroyMs: number;
  upRequestsPerGrant?: number;
  previewRequests?: number;
  refreshPreviewRequests?: number;
  destroyRequestsPerGrant?: number;
  reconfigures?: number;
  ok: boolean;
  note?: string;
}

const PROGRAM = `"use strict";
const pulumi = require("@pulumi/pulumi");
const n = Number(process.env.BENCH_N);
const kind = process.env.BENCH_KIND;
if (kind === "noop") {
  // The engine floor: a dynamic resource whose provider does nothing.
  const noop = {
    async check(_olds, news) { return { inputs: news }; },
    async diff() { return { changes: false }; },
    async create(inputs) { return { id: String(inputs.i), outs: inputs }; },
    async read(id, props) { return { id, props }; },
    async delete() {},
  };
  class Noop extends pulumi.dynamic.Resource { constructor(name, args) { super(noop, name, args, {}); } }
  for (let i = 0; i < n; i++) new Noop("noop-" + i, { i, address: "10.0." + (i >> 8) + "." + (i & 255) });
} else if (kind === "noop1") {
  // The engine's cost for ONE no-op resource carrying N addresses: the floor a set is measured against.
  const noop = {
    async check(_olds, news) { return { inputs: news }; },
    async diff() { return { changes: false }; },
    async create(inputs) { return { id: "one", outs: inputs }; },
    async read(id, props) { return { id, props }; },
    async delete() {},
  };
  class Noop extends pulumi.dynamic.Resource { constructor(name, args) { super(noop, name, args, {}); } }
  new Noop("noop-set", { addresses: JSON.parse(require("fs").readFileSync(process.env.BENCH_ADDRESSES_FILE, "utf8")) });
} else if (kind === "set-table" || kind === "set-config") {
  const lib = require(process.env.BENCH_LIB);
  new lib.OpnsenseAliasSet("set", { connection: { url: process.env.BENCH_URL }, alias: "jit_admins", method: kind.slice(4), addresses: JSON.parse(require("fs").readFileSync(process.env.BENCH_ADDRESSES_FILE, "utf8")) });
} else {
  const lib = require(process.env.BENCH_LIB);
  const addrs = JSON.parse(require("fs").readFileSync(process.env.BENCH_ADDRESSES_FILE, "utf8"));
  for (let i = 0; i < n; i++) {
    new lib.OpnsenseAliasEntry("grant-" + i, { connection: { url: process.env.BENCH_URL }, alias: "jit_admins", address: addrs[i], method: kind });
  }
}
`;

function writeAddresses(dir: string, n: number): string {
  const file = path.join(dir, `addresses-${n}.json`);
  writeFileSync(file, JSON.stringify(addresses(n)));
  return file;
}

async function runEngine(ns: readonly number[], setNs: readonly number[] = []): Promise<{ cli?: string; results: EngineResult[]; skipped?: string }> {
  let ws: typeof import("../scripts/pulumi-workspace");
  try {
    ws = await import("../scripts/pulumi-workspace");
    await ws.ensurePulumiCli();
  } catch (e) {
    return { results: [], skipped: `Pulumi CLI not available: ${(e as Error).message}` };
  }
  const cli = await ws.ensurePulumiCli();
  const root = repoRoot();
  const results: EngineResult[] = [];
  // Inside the repository so the program resolves @pulumi/pulumi from its node_modules.
  const projectDir = path.join(root, "bench", ".work", "engine");
  rmSync(projectDir, { recursive: true, force: true });
  mkdirSync(projectDir, { recursive: true });
  writeFileSync(
    path.join(projectDir, "Pulumi.yaml"),
    "name: firewall-grants-bench\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n",
  );
  writeFileSync(path.join(projectDir, "index.js"), PROGRAM);
  const runs: [number, "noop" | "table" | "config" | "noop1" | "set-table" | "set-config"][] = [
    ...ns.flatMap((n) => (["noop", "table", "config"] as const).map((p) => [n, p] as [number, typeof p])),
    // A set of N addresses is one resource: compared with one no-op resource of N addresses; table mode up to 1,000 (one request per address).
    ...setNs.flatMap((n) => (["noop1", "set-config", ...(n <= 1000 ? (["set-table"] as const) : [])] as const).map((p) => [n, p] as [number, typeof p])),
  ];
  for (const [n, program] of runs) {
    {
      const emu = await startOpnsenseEmulator({ latencyMs: LATENCY_MS, reconfigureLatencyMs: RECONFIGURE_MS });
      const env = {
        BENCH_N: String(n),
        BENCH_KIND: program,
        BENCH_LIB: path.join(root, "dist", "provider", "index.js"),
        BENCH_URL: emu.url,
        // A file, not an environment variable: 10,000 addresses exceed the kernel's limit for one variable (E2BIG).
        BENCH_ADDRESSES_FILE: writeAddresses(projectDir, n),
        OPNSENSE_API_KEY: OPNSENSE_EMULATOR_ADMIN.key,
        OPNSENSE_API_SECRET: OPNSENSE_EMULATOR_ADMIN.secret,
        OPNSENSE_CA_CERT: emu.caCert,
      };
      const w = await ws.PulumiWorkspace.create({ projectDir, env });
      const timed = async (args: string[]) => {
        emu.log.clear();
        const t0 = performance.now();
        const r = await w.run(args);
        const ms = performance.now() - t0;
        if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed (exit ${r.code}):\n${r.output.slice(-3000)}`);
        return { ms, requests: emu.log.count() };
      };
      try {
        const r0 = emu.backend.reconfigureCount;
        const up = await timed(["up", "--yes", "--skip-preview"]);
        const reconfigures = emu.backend.reconfigureCount - r0;
        const preview = await timed(["preview"]);
        const refresh = await timed(["preview", "--refresh"]);
        const destroy = await timed(["destroy", "--yes", "--skip-preview"]);
        results.push({
          program,
          n,
          upMs: up.ms,
          previewMs: preview.ms,
          refreshPreviewMs: refresh.ms,
          destroyMs: destroy.ms,
          ...(!program.startsWith("noop") && {
            upRequestsPerGrant: up.requests / n,
            previewRequests: preview.requests,
            refreshPreviewRequests: refresh.requests,
            destroyRequestsPerGrant: destroy.requests / n,
            reconfigures,
          }),
          ok: true,
        });
      } catch (e) {
        results.push({ program, n, upMs: 0, previewMs: 0, refreshPreviewMs: 0, destroyMs: 0, ok: false, note: (e as Error).message.slice(0, 2000) });
      } finally {
        await w.dispose().catch(() => undefined);
        await emu.close();
      }
      process.stderr.write(`bench: engine ${program} N=${n} done\n`);
    }
  }
  return { cli: cli.version, results };
}

// ---------------------------------------------------------------------------------------------
// Output

const fmt = (v: number, d = 0) => v.toFixed(d);

function table(rows: readonly ScenarioResult[]): string {
  const head = [
    "device",
    "mode",
    "N",
    "targets",
    "create req/grant",
    "delete req/grant",
    "read req (total)",
    "preview req (total)",
    "reconf create/delete",
    "create wall ms",
    "create p50/p95 ms",
    "read p50/p95 ms",
    "delete wall ms",
    "delete p50/p95 ms",
    "clean",
  ];
  const lines = rows.map((r) => [
    r.device,
    r.mode,
    String(r.n),
    String(r.targets),
    fmt(r.phases.create.requestsPerGrant, 2),
    fmt(r.phases.delete.requestsPerGrant, 2),
    String(r.phases.read.requests),
    String(r.phases.preview.requests),
    r.phases.create.reconfigures === undefined ? "-" : `${r.phases.create.reconfigures}/${r.phases.delete.reconfigures}`,
    fmt(r.phases.create.wallMs),
    `${fmt(r.phases.create.p50Ms)}/${fmt(r.phases.create.p95Ms)}`,
    `${fmt(r.phases.read.p50Ms)}/${fmt(r.phases.read.p95Ms)}`,
    fmt(r.phases.delete.wallMs),
    `${fmt(r.phases.delete.p50Ms)}/${fmt(r.phases.delete.p95Ms)}`,
    r.cleanAfterDelete ? "yes" : "NO",
  ]);
  return render([head, ...lines]);
}

function engineTable(rows: readonly EngineResult[]): string {
  const head = [
    "program",
    "N",
    "up ms",
    "preview ms",
    "preview --refresh ms",
    "destroy ms",
    "up req/grant",
    "preview req",
    "refresh req",
    "destroy req/grant",
    "reconfigures (up)",
  ];
  const lines = rows.map((r) =>
    r.ok
      ? [
          r.program,
          String(r.n),
          fmt(r.upMs),
          fmt(r.previewMs),
          fmt(r.refreshPreviewMs),
          fmt(r.destroyMs),
          r.upRequestsPerGrant === undefined ? "-" : fmt(r.upRequestsPerGrant, 2),
          String(r.previewRequests ?? "-"),
          String(r.refreshPreviewRequests ?? "-"),
          r.destroyRequestsPerGrant === undefined ? "-" : fmt(r.destroyRequestsPerGrant, 2),
          String(r.reconfigures ?? "-"),
        ]
      : [r.program, String(r.n), "FAILED", (r.note ?? "").split("\n")[0] ?? "", "", "", "", "", "", "", ""],
  );
  return render([head, ...lines]);
}

function render(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows
    .map((r, i) => {
      const line = r.map((v, c) => v.padEnd(widths[c]!)).join(" | ");
      return i === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("-|-")}` : line;
    })
    .join("\n");
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // Every registered device is benchmarked: its device.ts declares its scenarios.
  const all = scenarios();
  const rows: ScenarioResult[] = [];
  const t0 = performance.now();
  for (const n of args.engineOnly ? [] : args.ns) {
    for (const s of all) {
      rows.push(await runScenario(s, n, args.parallel));
      process.stderr.write(`bench: ${s.device} ${s.mode} N=${n} done\n`);
    }
    // Every grant arriving at once (`--parallel` ≥ N): a batcher's best case.
    for (const s of all.filter((x) => x.allAtOnce)) rows.push(await runScenario(s, n, n));
  }
  process.stdout.write(
    `\nProvider methods (emulators: ${LATENCY_MS} ms/request, ${RECONFIGURE_MS} ms/reconfigure; parallel ${args.parallel} unless the row says otherwise)\n\n`,
  );
  process.stdout.write(`${table(rows)}\n`);
  const unbounded = rows.filter((r) => r.parallel !== args.parallel);
  if (unbounded.length)
    process.stdout.write(
      `(rows with N = parallel: opnsense config at parallel N: ${unbounded.map((r) => `N=${r.n}: ${r.phases.create.reconfigures}/${r.phases.delete.reconfigures} reconfigures`).join("; ")})\n`,
    );
  // Passive+ feeds (direct and through the manager) and managed lists (sets vs per-entry), issue 12 and 13.
  const feeds = args.engineOnly ? [] : await benchFeeds({ ns: args.ns, parallel: args.parallel });
  if (feeds.length) process.stdout.write(`\n${formatFeedBench(feeds)}\n`);
  const sets = args.engineOnly ? [] : await benchSets({ ns: args.setNs, log: (m) => process.stderr.write(`bench: ${m}\n`) });
  if (sets.length) process.stdout.write(`\n${formatSetsTable(sets)}\n`);
  const engine = args.engine
    ? await runEngine(
        args.ns.filter((n) => n <= 500),
        args.setNs,
      )
    : { results: [], skipped: "--no-engine" };
  if (engine.results.length) {
    process.stdout.write(
      `\nThrough the Pulumi CLI ${engine.cli ?? ""} (default --parallel; OPNsense alias entries vs no-op dynamic resources)\n\n${engineTable(engine.results)}\n`,
    );
  } else process.stdout.write(`\nEngine runs skipped: ${engine.skipped}\n`);
  const out = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    latencyMs: LATENCY_MS,
    reconfigureMs: RECONFIGURE_MS,
    parallel: args.parallel,
    provider: rows,
    feeds,
    sets,
    engine,
    totalMs: performance.now() - t0,
  };
  mkdirSync(path.dirname(args.out), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`\nResults written to ${path.relative(process.cwd(), args.out) || args.out}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});

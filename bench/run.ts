/**
 * `npm run bench` (issues 6 and 22; BENCHMARKS.md says how to run it and what each floor is).
 *
 * - Row `provider`: the provider objects called in-process as the engine calls them (check for every
 *   grant, create with the engine's default parallelism, read, a preview in a fresh process state, delete),
 *   plus the feed and set benchmarks (bench/feeds.ts, bench/sets.ts). Requests from the emulators' logs.
 * - Every other row goes through the real Pulumi CLI (bench/engine.ts) next to its floor — no-op dynamic
 *   resources carrying the same data, in the same run, through the same CLI — with `up` previewing first as
 *   it does by default, the shipped provider settings, state bytes and peak memory of the CLI's process tree.
 * - `--baseline DIR` measures another built checkout's provider in the same run (before/after rows).
 * - A failed or timed-out row fails the run (exit 1) after the results are written; nothing started
 *   outlives the bench (bench/proc.ts kills each command's whole process tree).
 */
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import * as path from "node:path";
import { benchFeeds, formatFeedBench } from "./feeds";
import { benchSets, formatSetsTable } from "./sets";
import { parseBenchArgs, USAGE, type BenchArgs, type RowId } from "./args";
import {
  benchAddresses,
  defaultSteps,
  LATENCY_MS,
  RECONFIGURE_MS,
  phasesOf,
  runProgram,
  type Checkout,
  type EngineContext,
  type ProgramResult,
  type ProgramSpec,
} from "./engine";
import { deviceList, type BenchRun } from "../provider/registry";
import { resetProcessState } from "../provider/core/process-state";
import { closeAllAgents } from "../provider/core/transport";
import type { EmulatorServer } from "../emulators/kit";

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

function render(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows
    .map((r, i) => {
      const line = r.map((v, c) => v.padEnd(widths[c]!)).join(" | ");
      return i === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("-|-")}` : line;
    })
    .join("\n");
}

// ---------------------------------------------------------------------------------------------
// Rows through the Pulumi CLI

/** One row: the subject program(s) of each checkout next to the floor program of the same run. */
interface EngineRow {
  readonly row: RowId;
  readonly title: string;
  /** What "per" means in the requests column (grant, device, address). */
  readonly per: string;
  readonly floor: ProgramResult;
  readonly subjects: readonly ProgramResult[];
}

/** The floor and subject specs of a row (a function of N and the options; floors are device-free). */
function rowSpecs(row: RowId, args: BenchArgs): { title: string; per: string; floor: ProgramSpec; subjects: ProgramSpec[] }[] {
  const steps = defaultSteps(args.skipPreviewToo);
  const perEntry = (kind: ProgramSpec["kind"], method: "table" | "config" | undefined, title: string) =>
    args.ns.map((n) => {
      const addresses = benchAddresses(n);
      return {
        title: `${title}, N=${n}`,
        per: "grant",
        floor: { kind: "noop" as const, n, addresses, steps },
        subjects: [{ kind, n, addresses, steps, ...(method && { method }) }],
      };
    });
  switch (row) {
    case "opnsense-table":
      return perEntry("opnsense-entry", "table", "OPNsense per-entry grants, table mode, vs N no-op resources");
    case "opnsense-config":
      return perEntry("opnsense-entry", "config", "OPNsense per-entry grants, config mode, vs N no-op resources");
    case "opnsense-plugin":
      return perEntry(
        "opnsense-plugin-entry",
        "table",
        "OPNsense per-entry grants through the provider plugin (firewall-grants:opnsense:AliasEntry), table mode, vs N no-op dynamic resources",
      );
    case "fortigate-address":
      return perEntry("fortigate-address", undefined, "FortiGate address grants (group member), vs N no-op resources");
    case "fortimanager-trusted-host":
      return perEntry("fortimanager-trusted-host", undefined, "FortiManager trusted-host grants (9 per admin), vs N no-op resources");
    case "grant": {
      const addresses = benchAddresses(args.people);
      return [
        {
          title: `Grant component, ${args.people} people × 3 devices (OPNsense table, FortiGate, FortiManager), vs ${args.people} components of 3 no-op children`,
          per: "child",
          floor: { kind: "noop-tree", n: args.people, addresses, steps },
          subjects: [{ kind: "grant", n: args.people, addresses, steps }],
        },
      ];
    }
    case "set-large": {
      const addresses = benchAddresses(args.largeSetN);
      return [
        {
          title: `One OpnsenseAliasSet of ${args.largeSetN} addresses, config mode, vs one no-op resource carrying the list`,
          per: "address",
          floor: { kind: "noop1", n: args.largeSetN, addresses, steps },
          subjects: [{ kind: "opnsense-set", n: args.largeSetN, method: "config", addresses, steps }],
        },
      ];
    }
    case "set-change": {
      const addresses = benchAddresses(args.changeSetN);
      const change = [
        { label: "up (add one)", args: ["up", "--yes"], env: { BENCH_EXTRA: "192.0.2.1" } },
        { label: "destroy", args: ["destroy", "--yes"] },
      ];
      const setup = [{ label: "up", args: ["up", "--yes", "--skip-preview"] }];
      return [
        {
          title: `A set of ${args.changeSetN} addresses gains one: \`up\` vs the same change of one no-op resource`,
          per: "change",
          floor: { kind: "noop1", n: args.changeSetN, addresses, steps: change, setup },
          subjects: (["config", "table"] as const).map((method) => ({
            kind: "opnsense-set" as const,
            n: args.changeSetN,
            method,
            addresses,
            steps: change,
            setup,
          })),
        },
      ];
    }
    case "feed-fortigates": {
      const addresses = benchAddresses(args.feedDevices);
      return [
        {
          title: `A direct feed grant on each of ${args.feedDevices} FortiGates (FortigateFeedEntry), vs ${args.feedDevices} no-op resources`,
          per: "device",
          floor: { kind: "noop", n: args.feedDevices, addresses, steps },
          subjects: [{ kind: "feed-fortigates", n: args.feedDevices, devices: args.feedDevices, addresses, steps }],
        },
      ];
    }
    case "feed-fortimanager": {
      const addresses = benchAddresses(1);
      return [
        {
          title: `One feed grant through FortiManager to ${args.feedDevices} FortiGates (FortimanagerFeedEntry), vs one no-op resource`,
          per: "device",
          floor: { kind: "noop1", n: 1, addresses, steps },
          subjects: [{ kind: "feed-fortimanager", n: args.feedDevices, devices: args.feedDevices, addresses, steps }],
        },
      ];
    }
    case "phases": {
      const addresses = benchAddresses(1);
      const up = [
        { label: "up", args: ["up", "--yes"] },
        ...(args.skipPreviewToo ? [{ label: "up --skip-preview (after destroy)", args: ["up", "--yes", "--skip-preview"] }] : []),
      ];
      const one: ProgramSpec["steps"] = args.skipPreviewToo ? [up[0]!, { label: "destroy", args: ["destroy", "--yes"] }, up[1]!] : up;
      return [
        {
          title: "Fixed cost: one grant's `up` (traced) vs one no-op resource's `up`",
          per: "grant",
          floor: { kind: "noop", n: 1, addresses, steps: one, trace: true },
          subjects: (["table", "config"] as const).map((method) => ({ kind: "opnsense-entry" as const, n: 1, method, addresses, steps: one, trace: true })),
        },
      ];
    }
    default:
      return [];
  }
}

async function runEngineRows(
  args: BenchArgs,
  checkouts: readonly Checkout[],
  log: (l: string) => void,
): Promise<{ cli?: string; rows: EngineRow[]; skipped?: string }> {
  const engineRows = args.rows.filter((r) => r !== "provider" && r !== "peer");
  if (engineRows.length === 0) return { rows: [] };
  let cli: { binDir: string; version: string };
  try {
    const ws = await import("../scripts/pulumi-workspace");
    cli = await ws.ensurePulumiCli();
  } catch (e) {
    // Asked for and not runnable: the run fails rather than reporting nothing as if it were fine.
    throw new Error(`Pulumi CLI not available for rows ${engineRows.join(", ")}: ${(e as Error).message}`, { cause: e });
  }
  const ctx: EngineContext = {
    binDir: cli.binDir,
    timeoutMs: args.timeoutMs,
    ...(args.engineParallel !== undefined && { engineParallel: args.engineParallel }),
    log,
  };
  const rows: EngineRow[] = [];
  for (const row of engineRows) {
    for (const spec of rowSpecs(row, args)) {
      // Floors are device-free: one run, with this checkout's @pulumi/pulumi.
      const floor = await runProgram(ctx, { label: "floor", root: checkouts[0]!.root }, spec.floor);
      const subjects: ProgramResult[] = [];
      for (const c of checkouts) for (const s of spec.subjects) subjects.push(await runProgram(ctx, c, s));
      rows.push({ row, title: spec.title, per: spec.per, floor, subjects });
    }
  }
  return { cli: cli.version, rows };
}

const mb = (b: number | undefined) => (b === undefined ? "-" : (b / 1048576).toFixed(0));
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? "-" : `${(a / b).toFixed(2)}×`);

/** Markdown tables of the engine rows: one per row, floor first, then each checkout's subject(s). */
export function formatEngineRows(rows: readonly EngineRow[]): string {
  const out: string[] = [];
  for (const r of rows) {
    out.push(`\n### ${r.title} (row \`${r.row}\`)\n`);
    const labels = [...new Set([r.floor, ...r.subjects].flatMap((p) => Object.keys(p.commands)))];
    const main = labels[0] ?? "up";
    out.push(
      `| program | checkout | ${labels.map((l) => `${l} ms`).join(" | ")} | ${main} ÷ floor | ${main} requests | per ${r.per} | reconfigures (${main}) | state bytes | per resource (of it provider code) | state ÷ floor | peak RSS ${main} MB | peak RSS refresh MB | refresh RSS ÷ floor |`,
    );
    out.push(`|---|---|${labels.map(() => "---:").join("|")}|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
    for (const p of [r.floor, ...r.subjects]) {
      const name = `${p.kind}${p.method ? ` ${p.method}` : ""}`;
      if (!p.ok) {
        out.push(`| ${name} | ${p.checkout} | FAILED: ${(p.error ?? "").split("\n")[0]!.replace(/\|/g, "\\|").slice(0, 200)} |`);
        continue;
      }
      const c = p.commands[main];
      const f = r.floor.commands[main];
      const per = r.per === "device" && p.kind === "feed-fortimanager" ? p.n : p.kind === "grant" ? p.n * 3 : r.per === "change" ? 1 : p.n;
      const perText = c ? `${(c.requests / per).toFixed(2)}${c.proxied !== undefined ? ` (+${(c.proxied / per).toFixed(2)} proxied)` : ""}` : "-";
      out.push(
        `| ${name} | ${p.checkout} | ${labels.map((l) => String(p.commands[l]?.ms ?? "-")).join(" | ")} | ${p === r.floor ? "1.00×" : ratio(c?.ms, f?.ms)} | ${c?.requests ?? "-"} | ${perText} | ${c?.reconfigures ?? "-"} | ${p.stateBytes ?? "-"} | ${p.state && p.state.resources ? `${Math.round(p.state.bytes / p.state.resources)} (${Math.round(p.state.providerBytes / p.state.resources)})` : "-"} | ${ratio(p.stateBytes, r.floor.stateBytes)} | ${mb(c?.peakRssBytes)} | ${mb(p.commands.refresh?.peakRssBytes)} | ${ratio(p.commands.refresh?.peakRssBytes, r.floor.commands.refresh?.peakRssBytes)} |`,
      );
    }
    for (const p of [r.floor, ...r.subjects].filter((x) => x.trace && x.ok)) {
      out.push(
        `\nPhases of \`up\`, ${p.kind}${p.method ? ` ${p.method}` : ""} (${p.checkout}), ms from the CLI's start (total ${p.commands[main]?.ms ?? "?"} ms):\n`,
      );
      out.push("| phase | from ms | to ms | duration ms |\n|---|---:|---:|---:|");
      for (const ph of phasesOf(p.trace!, p.commands[main]?.ms ?? 0))
        out.push(`| ${ph.phase} | ${Math.round(ph.fromMs)} | ${Math.round(ph.toMs)} | ${Math.round(ph.toMs - ph.fromMs)} |`);
    }
  }
  return out.join("\n");
}

/** The OpenTofu peer (bench/peer.ts, built separately): loaded only when `--tofu` is given. */
export interface PeerModule {
  benchPeer(opts: {
    tofu: string;
    tofuOpnsense?: string;
    tofuFortios?: string;
    log: (line: string) => void;
  }): Promise<{ markdown: string; ok: boolean; results: unknown }>;
}

async function runPeer(args: BenchArgs, log: (l: string) => void): Promise<{ markdown: string; ok: boolean; results: unknown } | undefined> {
  if (!args.tofu) return undefined;
  // A computed path: the module is optional, and this file must build without it.
  const file = path.join(__dirname, "peer");
  if (!existsSync(`${file}.js`) && !existsSync(`${file}.ts`)) return { markdown: "peer: bench/peer.ts is not in this checkout", ok: false, results: undefined };
  const peer = (await import(file)) as PeerModule;
  return peer.benchPeer({
    tofu: args.tofu.tofu,
    ...(args.tofu.opnsense && { tofuOpnsense: args.tofu.opnsense }),
    ...(args.tofu.fortios && { tofuFortios: args.tofu.fortios }),
    log,
  });
}

async function main(): Promise<number> {
  const cores = typeof availableParallelism === "function" ? availableParallelism() : cpus().length;
  const args = parseBenchArgs(process.argv.slice(2), cores, repoRoot());
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const log = (m: string) => process.stderr.write(`bench: ${m}\n`);
  const t0 = performance.now();
  const failures: string[] = [];
  const rows: ScenarioResult[] = [];
  let feeds: Awaited<ReturnType<typeof benchFeeds>> = [];
  let sets: Awaited<ReturnType<typeof benchSets>> = [];
  if (args.rows.includes("provider")) {
    // Every registered device is benchmarked: its device.ts declares its scenarios.
    const all = scenarios();
    for (const n of args.ns) {
      for (const s of all) {
        rows.push(await runScenario(s, n, args.parallel));
        log(`${s.device} ${s.mode} N=${n} done`);
      }
      // Every grant arriving at once (`--parallel` ≥ N): a batcher's best case.
      for (const s of all.filter((x) => x.allAtOnce)) rows.push(await runScenario(s, n, n));
    }
    process.stdout.write(
      `\nProvider methods (emulators: ${LATENCY_MS} ms/request, ${RECONFIGURE_MS} ms/reconfigure; parallel ${args.parallel} unless the row says otherwise)\n\n`,
    );
    process.stdout.write(`${table(rows)}\n`);
    for (const r of rows.filter((x) => !x.cleanAfterDelete)) failures.push(`provider ${r.device} ${r.mode} N=${r.n}: device not clean after delete`);
    feeds = await benchFeeds({ ns: args.ns, parallel: args.parallel });
    process.stdout.write(`\n${formatFeedBench(feeds)}\n`);
    for (const f of feeds.filter((x) => !x.correct)) failures.push(`feeds ${f.path} N=${f.n}: wrong entries`);
    sets = await benchSets({ ns: args.setNs, log });
    process.stdout.write(`\n${formatSetsTable(sets)}\n`);
  }
  const checkouts: Checkout[] = [
    { label: "this", root: repoRoot() },
    ...(args.baseline ? [{ label: `baseline ${path.basename(args.baseline)}`, root: args.baseline }] : []),
  ];
  const engine = await runEngineRows(args, checkouts, log);
  if (engine.rows.length)
    process.stdout.write(
      `\nThrough the Pulumi CLI ${engine.cli ?? ""} (default \`up\` with its preview, ${args.engineParallel !== undefined ? `--parallel ${args.engineParallel}` : "default --parallel"})\n${formatEngineRows(engine.rows)}\n`,
    );
  for (const r of engine.rows)
    for (const p of [r.floor, ...r.subjects]) if (!p.ok) failures.push(`${r.row} ${p.checkout} ${p.kind} N=${p.n}: ${(p.error ?? "").split("\n")[0]}`);
  const peer = await runPeer(args, log);
  if (peer) {
    process.stdout.write(`\n${peer.markdown}\n`);
    if (!peer.ok) failures.push("peer row failed");
  }
  const out = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    args,
    latencyMs: LATENCY_MS,
    reconfigureMs: RECONFIGURE_MS,
    provider: rows,
    feeds,
    sets,
    engine,
    peer: peer?.results,
    failures,
    totalMs: Math.round(performance.now() - t0),
  };
  mkdirSync(path.dirname(args.out), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`\nResults written to ${path.relative(process.cwd(), args.out) || args.out} (${Math.round(out.totalMs / 1000)} s)\n`);
  if (failures.length) process.stderr.write(`\nbench: ${failures.length} row(s) failed:\n${failures.map((f) => `  - ${f}`).join("\n")}\n`);
  return failures.length ? 1 : 0;
}

if (require.main === module)
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );

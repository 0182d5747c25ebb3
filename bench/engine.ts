/**
 * The bench rows through the real Pulumi CLI (BENCHMARKS.md): each program runs in a fresh project and
 * file backend, against in-process emulators (2 ms per request, 300 ms per OPNsense reconfigure), with the
 * CLI's defaults (`up` previews first; `--parallel` unset). Per command: wall time, device requests,
 * reconfigures, peak RSS of the CLI's whole process tree (CLI + language host + provider hosts, from /proc
 * every 100 ms); after `up`: the checkpoint's size. Every floor runs in the same run, through the same CLI.
 * A command that fails or times out fails its row; its process tree is killed either way (bench/proc.ts).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { OPNSENSE_EMULATOR_ADMIN, startOpnsenseEmulator } from "../emulators/opnsense/emulator";
import { startFortigateEmulator } from "../emulators/fortigate/emulator";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../emulators/fortimanager/emulator";
import { DEFAULT_ADMINS } from "../emulators/fortimanager/seed";
import type { EmulatorServer } from "../emulators/kit";
import { PHASE_TRACE_ENV } from "../provider/core/phase-trace";
import { sampleTreeMemory, spawnTracked } from "./proc";

export const LATENCY_MS = 2;
export const RECONFIGURE_MS = 300;

/** A checkout whose built provider (dist/) the programs load: this one, or `--baseline`. */
export interface Checkout {
  readonly label: string;
  readonly root: string;
}

export type ProgramKind =
  | "noop"
  | "noop1"
  | "noop-tree"
  | "opnsense-entry"
  | "opnsense-plugin-entry"
  | "fortigate-address"
  | "fortimanager-trusted-host"
  | "grant"
  | "opnsense-set"
  | "feed-fortigates"
  | "feed-fortimanager";

/** The program every row runs; BENCH_KIND picks what it declares. Plain JS: no compile step in any figure. */
export const PROGRAM = `"use strict";
const pulumi = require("@pulumi/pulumi");
const fs = require("fs");
const n = Number(process.env.BENCH_N);
const kind = process.env.BENCH_KIND;
const data = process.env.BENCH_DATA_FILE ? JSON.parse(fs.readFileSync(process.env.BENCH_DATA_FILE, "utf8")) : {};
const extra = process.env.BENCH_EXTRA ? [process.env.BENCH_EXTRA] : [];
// The floors: a dynamic resource whose provider does nothing and answers at once.
const noop = {
  async check(_olds, news) { return { inputs: news }; },
  async diff(_id, olds, news) { return { changes: JSON.stringify(olds.addresses) !== JSON.stringify(news.addresses) }; },
  async create(inputs) { return { id: String(inputs.i ?? "one"), outs: inputs }; },
  async update(_id, _olds, news) { return { outs: news }; },
  async read(id, props) { return { id, props }; },
  async delete() {},
};
class Noop extends pulumi.dynamic.Resource { constructor(name, args, opts) { super(noop, name, args, opts || {}); } }
class NoopTree extends pulumi.ComponentResource { constructor(name, addr) { super("bench:index:NoopGrant", name, {}, {}); for (const k of ["opn", "fgt", "fmg"]) new Noop(name + "-" + k, { i: name + k, address: addr }, { parent: this }); this.registerOutputs({}); } }
// The no-op program traces its first resource as the library does (provider/core/phase-trace.ts), for the fixed-cost floor.
if (kind.startsWith("noop") && process.env.FIREWALL_GRANTS_BENCH_TRACE) { const t = performance.timeOrigin + performance.now(); fs.appendFileSync(process.env.FIREWALL_GRANTS_BENCH_TRACE, JSON.stringify({ pid: process.pid, role: "program", origin: performance.timeOrigin, event: "register", start: t, end: t }) + "\\n"); }
const lib = kind.startsWith("noop") ? undefined : require(process.env.BENCH_LIB);
const addrs = data.addresses || [];
switch (kind) {
  case "noop": for (let i = 0; i < n; i++) new Noop("noop-" + i, { i, address: addrs[i] }); break;
  case "noop1": new Noop("noop-set", { addresses: [...addrs, ...extra] }); break;
  case "noop-tree": for (let i = 0; i < n; i++) new NoopTree("person-" + i, addrs[i]); break;
  case "opnsense-entry": for (let i = 0; i < n; i++) new lib.OpnsenseAliasEntry("grant-" + i, { alias: "jit_admins", address: addrs[i], method: process.env.BENCH_METHOD }); break;
  // The same grant as a resource of the provider plugin (docs/plugin.md): no serialised provider in state.
  case "opnsense-plugin-entry": for (let i = 0; i < n; i++) new pulumi.CustomResource("firewall-grants:opnsense:AliasEntry", "grant-" + i, { alias: "jit_admins", address: addrs[i], method: process.env.BENCH_METHOD }); break;
  case "fortigate-address": for (let i = 0; i < n; i++) new lib.FortigateAddress("grant-" + i, { name: "grant-" + i, address: addrs[i], group: "jit-admins" }); break;
  case "fortimanager-trusted-host": for (let i = 0; i < n; i++) new lib.FortimanagerTrustedHost("grant-" + i, { adminUser: data.admins[Math.floor(i / 9)], address: addrs[i] }); break;
  case "grant":
    for (let i = 0; i < n; i++) new lib.Grant("person-" + i, { who: "person " + i, addresses: [addrs[i]], opnsense: [{ alias: "jit_admins" }], fortigate: [{ group: "jit-admins" }], fortimanager: [{ adminUser: data.admins[Math.floor(i / 9)] }] });
    break;
  case "opnsense-set": new lib.OpnsenseAliasSet("set", { alias: "jit_admins", method: process.env.BENCH_METHOD, addresses: [...addrs, ...extra] }); break;
  case "feed-fortigates": data.devices.forEach((d, i) => new lib.FortigateFeedEntry("feed-" + i, { connection: { url: d.url, token: d.token }, feed: "jit-allow", address: addrs[i] })); break;
  case "feed-fortimanager": new lib.FortimanagerFeedEntry("feed", { devices: data.devices, feed: "jit-allow", address: addrs[0] }); break;
  default: throw new Error("unknown BENCH_KIND " + kind);
}
`;

/** N distinct host addresses, 10.x.y.z with z never 0 or 255. */
export function benchAddresses(n: number): string[] {
  const out: string[] = [];
  for (let i = 1; out.length < n; i++) if ((i & 255) !== 0 && (i & 255) !== 255) out.push(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  return out;
}

/** The devices a program talks to: the environment that points it at them, and their counters. */
interface Devices {
  readonly env: Record<string, string>;
  readonly data: Record<string, unknown>;
  requests(): number;
  reconfigures(): number;
  /** Requests the FortiGates behind a FortiManager received through it. */
  proxied?(): number;
  clear(): void;
  close(): Promise<void>;
}

const FMG_SLOTS = 9;

async function startDevices(kind: ProgramKind, n: number, addresses: readonly string[]): Promise<Devices> {
  const servers: EmulatorServer[] = [];
  const env: Record<string, string> = {};
  const data: Record<string, unknown> = { addresses };
  let reconfigures = () => 0;
  let proxied: (() => number) | undefined;
  const needs = {
    opnsense: ["opnsense-entry", "opnsense-plugin-entry", "opnsense-set", "grant"].includes(kind),
    fortigate: ["fortigate-address", "grant"].includes(kind),
    fortimanager: ["fortimanager-trusted-host", "grant"].includes(kind),
  };
  try {
    if (needs.opnsense) {
      const emu = await startOpnsenseEmulator({ latencyMs: LATENCY_MS, reconfigureLatencyMs: RECONFIGURE_MS });
      servers.push(emu);
      Object.assign(env, {
        OPNSENSE_URL: emu.url,
        OPNSENSE_API_KEY: OPNSENSE_EMULATOR_ADMIN.key,
        OPNSENSE_API_SECRET: OPNSENSE_EMULATOR_ADMIN.secret,
        OPNSENSE_CA_CERT: emu.caCert,
      });
      reconfigures = () => emu.backend.reconfigureCount;
    }
    if (needs.fortigate) {
      const emu = await startFortigateEmulator({ latencyMs: LATENCY_MS, groups: [{ name: "jit-admins" }] });
      servers.push(emu);
      Object.assign(env, { FORTIGATE_URL: emu.url, FORTIGATE_TOKEN: emu.token, FORTIGATE_CA_CERT: emu.caCert });
    }
    if (needs.fortimanager) {
      const admins = Array.from({ length: Math.ceil(n / FMG_SLOTS) }, (_, k) => `grantee${String(k).padStart(3, "0")}`);
      const emu = await startFortimanagerEmulator({
        latencyMs: LATENCY_MS,
        admins: [...DEFAULT_ADMINS, ...admins.map((userid, k) => ({ userid, password: `pw-${k}`, profileid: "Restricted_User" }))],
      });
      servers.push(emu);
      // The key's own administrator: the emulator, like a device that refuses /sys/session to API keys, cannot say who owns it.
      Object.assign(env, {
        FORTIMANAGER_URL: emu.url,
        FORTIMANAGER_TOKEN: DEFAULT_CREDENTIALS.apiKey,
        FORTIMANAGER_USERNAME: "apiadmin",
        FORTIMANAGER_CA_CERT: emu.caCert,
      });
      data.admins = admins;
    }
    if (kind === "feed-fortigates") {
      const devices: { url: string; token: string }[] = [];
      for (let i = 0; i < n; i++) {
        const emu = await startFortigateEmulator({ latencyMs: LATENCY_MS, feeds: [{ name: "jit-allow", entries: ["198.51.100.1"] }] });
        servers.push(emu);
        devices.push({ url: emu.url, token: emu.token });
        env.FORTIGATE_CA_CERT = emu.caCert;
      }
      data.devices = devices;
    }
    if (kind === "feed-fortimanager") {
      const names = Array.from({ length: n }, (_, i) => `fgt-${i + 1}`);
      const emu = await startFortimanagerEmulator({
        latencyMs: LATENCY_MS,
        devices: names.map((name) => ({ name, feeds: [{ name: "jit-allow", entries: ["198.51.100.1"] }] })),
      });
      servers.push(emu);
      Object.assign(env, { FORTIMANAGER_URL: emu.url, FORTIMANAGER_TOKEN: DEFAULT_CREDENTIALS.apiKey, FORTIMANAGER_CA_CERT: emu.caCert });
      data.devices = names;
      proxied = () => names.reduce((t, d) => t + (emu.backend.devices.devices.get(d)?.requests ?? 0), 0);
    }
  } catch (e) {
    await Promise.all(servers.map((s) => s.close()));
    throw e;
  }
  return {
    env,
    data,
    requests: () => servers.reduce((t, s) => t + s.log.count(), 0),
    reconfigures,
    ...(proxied && { proxied }),
    clear: () => servers.forEach((s) => s.log.clear()),
    close: async () => void (await Promise.all(servers.map((s) => s.close()))),
  };
}

/** One CLI command's figures. */
export interface CommandFigures {
  readonly ms: number;
  readonly requests: number;
  readonly reconfigures: number;
  /** Requests the FortiGates received through FortiManager (feed-fortimanager). */
  readonly proxied?: number;
  /** Peak summed RSS of the CLI's process tree. */
  readonly peakRssBytes: number;
}

export interface ProgramResult {
  readonly checkout: string;
  readonly kind: ProgramKind;
  /** What the figures are per (grants, people, devices, addresses). */
  readonly n: number;
  readonly method?: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly commands: Record<string, CommandFigures>;
  /** Size of the checkpoint after the first `up`. */
  readonly stateBytes?: number;
  readonly state?: StateShape;
  /** The phase trace of the first `up` (rows "phases"), relative to the command's start. */
  readonly trace?: readonly TraceEvent[];
  readonly wallMs: number;
}

export interface TraceEvent {
  readonly pid: number;
  readonly role: string;
  /** Process start, ms after the command started. */
  readonly origin: number;
  readonly event: string;
  readonly start: number;
  readonly end: number;
}

export interface EngineContext {
  readonly binDir: string;
  readonly timeoutMs: number;
  /** `--parallel` for up/preview/destroy (`--engine-parallel`); unset leaves the CLI's default. */
  readonly engineParallel?: number;
  readonly log: (line: string) => void;
}

/** The CLI's environment: no update check or plugin download, a local passphrase, no colour. */
function cliEnv(ctx: EngineContext, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${ctx.binDir}${path.delimiter}${process.env.PATH ?? ""}`,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_CONFIG_PASSPHRASE: "firewall-grants-bench",
    NO_COLOR: "1",
    ...extra,
  };
}

export interface Step {
  /** Label in the results (`up`, `preview`, `refresh`, `destroy`, `up --skip-preview`, `change`). */
  readonly label: string;
  readonly args: readonly string[];
  /** Extra environment for this command (BENCH_EXTRA for a change). */
  readonly env?: Record<string, string>;
}

/** The default sequence: what a user runs. `up` and `destroy` preview first, as they do by default. */
export function defaultSteps(skipPreviewToo: boolean): Step[] {
  return [
    { label: "up", args: ["up", "--yes"] },
    { label: "preview", args: ["preview"] },
    { label: "refresh", args: ["preview", "--refresh"] },
    { label: "destroy", args: ["destroy", "--yes"] },
    ...(skipPreviewToo
      ? [
          { label: "up --skip-preview", args: ["up", "--yes", "--skip-preview"] },
          { label: "destroy --skip-preview", args: ["destroy", "--yes", "--skip-preview"] },
        ]
      : []),
  ];
}

/** Runs one command to its end or its timeout; throws (after killing the tree) unless it exits 0. */
async function runCli(ctx: EngineContext, cwd: string, env: Record<string, string>, args: readonly string[]): Promise<{ ms: number; peakRssBytes: number }> {
  const t0 = performance.now();
  const tracked = spawnTracked(path.join(ctx.binDir, "pulumi"), [...args, "--non-interactive"], {
    cwd,
    env: cliEnv(ctx, env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const sampler = tracked.child.pid !== undefined ? sampleTreeMemory(tracked.child.pid, 100) : undefined;
  let output = "";
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-6000);
  };
  tracked.child.stdout?.on("data", keep);
  tracked.child.stderr?.on("data", keep);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void tracked.kill();
  }, ctx.timeoutMs);
  try {
    const code = await new Promise<number>((resolve, reject) => {
      tracked.child.on("error", reject);
      tracked.child.on("close", (c) => resolve(c ?? -1));
    });
    const ms = performance.now() - t0;
    const peakRssBytes = sampler?.stop() ?? 0;
    if (timedOut) throw new Error(`pulumi ${args.join(" ")}: killed after the ${ctx.timeoutMs / 1000} s timeout (--timeout)\n${output.slice(-2000)}`);
    if (code !== 0) throw new Error(`pulumi ${args.join(" ")} failed (exit ${code}):\n${output.slice(-3000)}`);
    return { ms, peakRssBytes };
  } finally {
    clearTimeout(timer);
    sampler?.stop();
    // Plugins the CLI left behind (or all of it, on an error) go too.
    await tracked.kill(2000);
  }
}

/** What the checkpoint holds per resource: its size, and how much of it is the serialised provider (`__provider`, stored with every dynamic resource). */
export interface StateShape {
  readonly bytes: number;
  readonly resources: number;
  readonly providerBytes: number;
}

function checkpointShape(backendDir: string, stack: string): StateShape {
  const file = checkpointFile(backendDir, stack);
  const text = readFileSync(file, "utf8");
  const doc = JSON.parse(text) as {
    checkpoint?: { latest?: { resources?: { type?: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }[] } };
  };
  const resources = (doc.checkpoint?.latest?.resources ?? []).filter(
    (r) => r.type?.startsWith("pulumi-nodejs:dynamic") || (r.type?.startsWith("firewall-grants:") && !r.type.startsWith("firewall-grants:index:")),
  );
  let providerBytes = 0;
  for (const r of resources) for (const side of [r.inputs, r.outputs]) if (typeof side?.__provider === "string") providerBytes += side.__provider.length;
  return { bytes: statSync(file).size, resources: resources.length, providerBytes };
}

function checkpointFile(backendDir: string, stack: string): string {
  const walk = (d: string): string | undefined => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, f.name);
      if (f.isDirectory()) {
        const r = walk(p);
        if (r !== undefined) return r;
      } else if (f.name === `${stack}.json` && p.includes(`${path.sep}stacks${path.sep}`)) return p;
    }
    return undefined;
  };
  const file = walk(backendDir);
  if (file === undefined) throw new Error(`no checkpoint for stack ${stack} under ${backendDir}`);
  return file;
}

export interface ProgramSpec {
  readonly kind: ProgramKind;
  readonly n: number;
  readonly method?: "table" | "config";
  /** Addresses (and for sets: the set's list). */
  readonly addresses: readonly string[];
  /** Devices for the feed rows. */
  readonly devices?: number;
  readonly steps: readonly Step[];
  /** Untimed commands before the steps (a set created before its change is measured). */
  readonly setup?: readonly Step[];
  /** Write the phase trace of the first timed step. */
  readonly trace?: boolean;
}

/** Runs one program's steps against fresh emulators in a fresh project and backend; never throws. */
export async function runProgram(ctx: EngineContext, checkout: Checkout, spec: ProgramSpec): Promise<ProgramResult> {
  const t0 = performance.now();
  const dir = mkdtempSync(path.join(tmpdir(), "firewall-grants-bench-"));
  const commands: Record<string, CommandFigures> = {};
  let state: StateShape | undefined;
  let trace: TraceEvent[] | undefined;
  const deviceCount = spec.devices ?? spec.n;
  let devices: Devices | undefined;
  const label = `${checkout.label} ${spec.kind}${spec.method ? ` ${spec.method}` : ""} N=${spec.n}`;
  try {
    devices = await startDevices(spec.kind, deviceCount, spec.addresses);
    const project = path.join(dir, "project");
    const backend = path.join(dir, "backend");
    mkdirSync(project);
    mkdirSync(backend);
    // Plugin rows load the checkout's built plugin by path (docs/plugin.md), so no registry is asked.
    const plugin = spec.kind.includes("plugin")
      ? `plugins:\n  providers:\n    - name: firewall-grants\n      path: ${path.join(checkout.root, "dist", "provider", "plugin", "bin")}\n`
      : "";
    writeFileSync(
      path.join(project, "Pulumi.yaml"),
      `name: firewall-grants-bench\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n${plugin}`,
    );
    writeFileSync(path.join(project, "index.js"), PROGRAM);
    writeFileSync(path.join(project, "package.json"), '{ "name": "firewall-grants-bench", "private": true }\n');
    // The checkout's node_modules: program, library and provider host share one @pulumi/pulumi (realpath).
    symlinkSync(path.join(checkout.root, "node_modules"), path.join(project, "node_modules"), "dir");
    // A file, not a variable: 50,000 addresses exceed the kernel's limit for one variable (E2BIG).
    const dataFile = path.join(dir, "data.json");
    writeFileSync(dataFile, JSON.stringify(devices.data));
    const lib = path.join(checkout.root, "dist", "provider", "index.js");
    if (!spec.kind.startsWith("noop") && !existsSync(lib)) throw new Error(`${lib} not found: build that checkout first (npm run build)`);
    const traceFile = path.join(dir, "trace.jsonl");
    const env: Record<string, string> = {
      ...devices.env,
      PULUMI_BACKEND_URL: `file://${backend}`,
      PULUMI_HOME: path.join(dir, "home"),
      BENCH_N: String(spec.n),
      BENCH_KIND: spec.kind,
      BENCH_LIB: lib,
      BENCH_DATA_FILE: dataFile,
      ...(spec.method && { BENCH_METHOD: spec.method }),
    };
    await runCli(ctx, project, env, ["stack", "init", "bench", "--secrets-provider", "passphrase"]);
    for (const s of spec.setup ?? []) await runCli(ctx, project, { ...env, ...s.env }, [...s.args, "--stack", "bench"]);
    let first = true;
    for (const s of spec.steps) {
      devices.clear();
      const rc0 = devices.reconfigures();
      const p0 = devices.proxied?.() ?? 0;
      const traced = spec.trace === true && first;
      const started = performance.timeOrigin + performance.now();
      const parallel =
        ctx.engineParallel !== undefined && ["up", "preview", "destroy"].includes(s.args[0] ?? "") ? ["--parallel", String(ctx.engineParallel)] : [];
      const r = await runCli(ctx, project, { ...env, ...s.env, ...(traced && { [PHASE_TRACE_ENV]: traceFile }) }, [...s.args, ...parallel, "--stack", "bench"]);
      commands[s.label] = {
        ms: Math.round(r.ms),
        requests: devices.requests(),
        reconfigures: devices.reconfigures() - rc0,
        ...(devices.proxied && { proxied: devices.proxied() - p0 }),
        peakRssBytes: r.peakRssBytes,
      };
      if (first) state = checkpointShape(backend, "bench");
      if (traced) trace = readTrace(traceFile, started);
      first = false;
    }
    ctx.log(
      `${label}: ${Object.entries(commands)
        .map(([k, v]) => `${k} ${v.ms} ms ${v.requests} req`)
        .join(", ")}`,
    );
    return {
      checkout: checkout.label,
      kind: spec.kind,
      n: spec.n,
      ...(spec.method && { method: spec.method }),
      ok: true,
      commands,
      ...(state && { stateBytes: state.bytes, state }),
      ...(trace && { trace }),
      wallMs: Math.round(performance.now() - t0),
    };
  } catch (e) {
    const error = (e as Error).message;
    ctx.log(`${label}: FAILED ${error.split("\n").slice(-25).join("\n")}`);
    return {
      checkout: checkout.label,
      kind: spec.kind,
      n: spec.n,
      ...(spec.method && { method: spec.method }),
      ok: false,
      error: error.slice(0, 4000),
      commands,
      wallMs: Math.round(performance.now() - t0),
    };
  } finally {
    await devices?.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

function readTrace(file: string, commandStart: number): TraceEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as { pid: number; role: string; origin: number; event: string; start: number; end: number })
    .map((e) => ({ pid: e.pid, role: e.role, origin: e.origin - commandStart, event: e.event, start: e.start - commandStart, end: e.end - commandStart }));
}

export interface PhaseRow {
  readonly phase: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * A traced `up` as a contiguous timeline from the trace of every process the library (or the no-op
 * program) ran in. A default `up` runs the program and starts the provider host twice: pass 1 is the
 * preview, pass 2 the update. "device work" is time with a request in flight outside the preflight;
 * "provider waits" the rest of the span between the first and the last such request (settles, batch
 * windows). Whatever lies between two traced moments is the engine's (gRPC, step bookkeeping, checkpoint
 * writes, process starts the library does not see).
 */
export function phasesOf(trace: readonly TraceEvent[], totalMs: number): PhaseRow[] {
  const marks: PhaseRow[] = [];
  const byPid = new Map<number, TraceEvent[]>();
  for (const e of trace) byPid.set(e.pid, [...(byPid.get(e.pid) ?? []), e]);
  const procs = [...byPid.values()].sort((a, b) => a[0]!.origin - b[0]!.origin);
  const passes = { program: 0, provider: 0 };
  for (const events of procs) {
    const { role, origin } = events[0]!;
    const tag = `pass ${role === "provider" ? ++passes.provider : ++passes.program}, ${role}`;
    if (role === "program") {
      const reg = events.find((e) => e.event === "register");
      if (reg) marks.push({ phase: `${tag}: node start, compile, library load → first resource registered`, fromMs: origin, toMs: reg.start });
      continue;
    }
    const loaded = events.find((e) => e.event === "library-loaded");
    if (loaded) marks.push({ phase: `${tag} host: node start + library load`, fromMs: origin, toMs: loaded.start });
    const preflights = events.filter((e) => e.event === "preflight");
    for (const p of preflights) marks.push({ phase: `${tag}: preflight`, fromMs: p.start, toMs: p.end });
    const inPreflight = (r: TraceEvent) => preflights.some((p) => r.start >= p.start && r.end <= p.end);
    const reqs = events.filter((e) => e.event === "request" && !inPreflight(e)).sort((a, b) => a.start - b.start);
    if (reqs.length === 0) continue;
    let busy = 0;
    let cur = { s: reqs[0]!.start, e: reqs[0]!.end };
    for (const r of reqs.slice(1)) {
      if (r.start > cur.e) {
        busy += cur.e - cur.s;
        cur = { s: r.start, e: r.end };
      } else cur.e = Math.max(cur.e, r.end);
    }
    busy += cur.e - cur.s;
    const from = reqs[0]!.start;
    const to = Math.max(...reqs.map((r) => r.end));
    marks.push({ phase: `${tag}: device work (${reqs.length} requests, ${Math.round(busy)} ms with one in flight)`, fromMs: from, toMs: from + busy });
    marks.push({ phase: `${tag}: provider waits between them (settle, batch window)`, fromMs: from + busy, toMs: to });
  }
  marks.sort((a, b) => a.fromMs - b.fromMs);
  const rows: PhaseRow[] = [];
  let at = 0;
  for (const m of marks) {
    if (m.fromMs > at + 1)
      rows.push({
        phase: rows.length === 0 ? "CLI start, language host start (until the program's node process starts)" : "engine (between traced moments)",
        fromMs: at,
        toMs: m.fromMs,
      });
    rows.push(m);
    at = Math.max(at, m.toMs);
  }
  rows.push({ phase: "engine after the last traced moment (last steps, checkpoint, plugin shutdown, CLI exit)", fromMs: at, toMs: totalMs });
  return rows;
}

/**
 * Requests per Passive+ grant (issue 12), for `npm run bench` (bench/run.ts calls {@link benchFeeds}):
 * N grants into one push feed, driven through the provider objects as the engine drives them (check for
 * every grant, then create, read and delete with `parallel` at once), directly on a FortiGate and through
 * FortiManager to `devices` FortiGates. Requests are what the device the provider talks to received (the
 * FortiGate, or the FortiManager: one proxy call counts once whatever its number of targets); for the
 * manager path the requests the FortiGates received through the proxy are reported beside.
 *
 * The floor: a batch costs one entry-list read, one push per command and one read back, and a refresh
 * one read, whatever the number of grants in it; so requests per grant ≈ 3 / (grants per batch) for
 * create and delete and 1 / (grants per batch) for read, plus the 3 (direct) or ~5 (manager) preflight
 * reads once per process. With the engine's `--parallel` P a batch holds at most P grants: the floor is
 * about 3/P + 1/P + 3/P ≈ 7/P per grant for create + read + delete (0.88 at P = 8), reached when every
 * batch fills. Fewer is possible only by trusting a push's answer without reading back (the answer is
 * unpublished, reference §2) or by skipping the read before the add (a repeated add's effect is
 * unpublished), both of which this library refuses.
 */
import { startFortigateEmulator, type FortigateEmulator } from "../emulators/fortigate/emulator";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../emulators/fortimanager/emulator";
import { fortimanagerFeedEntryProvider } from "../provider/devices/fortimanager/feed-resource";
import { fortigateFeedEntryProvider } from "../provider/devices/fortigate/feed-resource";
import { resetProcessState } from "../provider/core/process-state";
import { closeAllAgents } from "../provider/core/transport";
import type { GrantProvider } from "../provider/core/grant-lifecycle";
import type { EmulatorServer } from "../emulators/kit";

export interface FeedBenchOptions {
  /** @default [10, 100, 500] */
  readonly ns?: readonly number[];
  /** Provider operations at once (the engine's `--parallel`). @default 8 */
  readonly parallel?: number;
  /** Latency of every emulated request, in ms. @default 2 */
  readonly latencyMs?: number;
  /** FortiGates behind the manager. @default 3 */
  readonly devices?: number;
  /** How the manager path is reached; `false` skips it. @default {@link fortimanagerBench} */
  readonly manager?: ManagerBench | false;
}

/** How the bench reaches FortiManager (the manager emulator's start options live with it). */
export interface ManagerBench {
  start(
    devices: readonly string[],
    latencyMs: number,
  ): Promise<{
    server: EmulatorServer;
    connection: Record<string, unknown>;
    credentials: Record<string, unknown>;
    deviceRequests(): number;
    entries(device: string): readonly string[];
  }>;

  readonly provider: GrantProvider<any, any>;
}

export interface FeedBenchRow {
  readonly path: "direct" | "manager";
  readonly n: number;
  readonly devices: number;
  readonly parallel: number;
  /** Requests the provider sent per phase. */
  readonly requests: { check: number; create: number; read: number; delete: number };
  readonly perGrant: number;
  /** Requests the FortiGates received through the manager (manager path only). */
  readonly deviceRequests?: number;
  readonly wallMs: number;
  /** Every entry present once after create, none after delete, the seed entries untouched. */
  readonly correct: boolean;
}

async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

async function run(
  provider: GrantProvider<any, any>,
  server: EmulatorServer,
  n: number,
  parallel: number,
  base: Record<string, unknown>,
  held: () => readonly string[],
  copies = 1,
) {
  const addresses = Array.from({ length: n }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.${1 + (i >> 16)}`);
  const seed = [...held()];
  const count = () => server.log.count();
  const t0 = performance.now();
  let mark = count();
  const phase = () => {
    const c = count() - mark;
    mark = count();
    return c;
  };

  const inputs: any[] = [];
  await pool(addresses, parallel, async (address) => {
    const r = await provider.check({}, { ...base, address, grantName: `g-${address}` });
    if (r.failures?.length) throw new Error(JSON.stringify(r.failures));
    inputs.push(r.inputs);
  });
  const check = phase();

  const created: { id: string; outs: any }[] = [];
  await pool(inputs, parallel, async (i) => created.push(await provider.create(i)));
  const create = phase();
  const afterCreate = held();
  await pool(created, parallel, (c) => provider.read(c.id, c.outs));
  const read = phase();
  await pool(created, parallel, (c) => provider.delete(c.id, c.outs));
  const del = phase();
  const correct =
    afterCreate.length === seed.length + n * copies &&
    new Set(afterCreate).size === afterCreate.length &&
    JSON.stringify([...held()].sort()) === JSON.stringify([...seed].sort());
  return { requests: { check, create, read, delete: del }, wallMs: Math.round(performance.now() - t0), correct };
}

/** Runs the feed benchmark; one row per path and N. */
export async function benchFeeds(opts: FeedBenchOptions = {}): Promise<FeedBenchRow[]> {
  const ns = opts.ns ?? [10, 100, 500];
  const parallel = opts.parallel ?? 8;
  const latencyMs = opts.latencyMs ?? 2;
  const rows: FeedBenchRow[] = [];
  for (const n of ns) {
    resetProcessState();
    const emu: FortigateEmulator = await startFortigateEmulator({ latencyMs, feeds: [{ name: "jit-allow", entries: ["198.51.100.1"] }] });
    try {
      const base = { connection: { url: emu.url, caCert: emu.caCert }, credentials: { token: emu.token }, feed: "jit-allow" };
      const held = () => [...(emu.backend.feeds.find("root", "jit-allow", false)?.entries.values() ?? [])].map((e) => e.entry);
      const r = await run(fortigateFeedEntryProvider, emu, n, parallel, base, held);
      rows.push({ path: "direct", n, devices: 1, parallel, ...r, perGrant: total(r.requests) / n });
    } finally {
      await closeAllAgents();
      await emu.close();
    }
    const manager = opts.manager === undefined ? fortimanagerBench : opts.manager;
    if (!manager) continue;
    resetProcessState();
    const names = Array.from({ length: opts.devices ?? 3 }, (_, i) => `fgt-${i + 1}`);
    const m = await manager.start(names, latencyMs);
    try {
      const base = { connection: m.connection, credentials: m.credentials, devices: names, feed: "jit-allow" };
      const before = m.deviceRequests();
      const r = await run(manager.provider, m.server, n, parallel, base, () => names.flatMap((d) => m.entries(d).map((e) => `${d}:${e}`)), names.length);
      rows.push({
        path: "manager",
        n,
        devices: names.length,
        parallel,
        ...r,
        perGrant: total(r.requests) / n,
        deviceRequests: m.deviceRequests() - before,
        correct: r.correct,
      });
    } finally {
      await closeAllAgents();
      await m.server.close();
    }
  }
  resetProcessState();
  return rows;
}

/** The FortiManager emulator with `devices` managed FortiGates, each with push feed "jit-allow" holding one seed entry. */
export const fortimanagerBench: ManagerBench = {
  provider: fortimanagerFeedEntryProvider,
  async start(devices, latencyMs) {
    const server = await startFortimanagerEmulator({
      latencyMs,
      devices: devices.map((name) => ({ name, feeds: [{ name: "jit-allow", entries: ["198.51.100.1"] }] })),
    });
    const dev = (name: string) => server.backend.devices.devices.get(name)!;
    return {
      server,
      connection: { url: server.url, caCert: server.caCert },
      credentials: { token: DEFAULT_CREDENTIALS.apiKey },
      deviceRequests: () => devices.reduce((n, d) => n + dev(d).requests, 0),
      entries: (name) => [...(dev(name).backend.feeds.find("root", "jit-allow", false)?.entries.values() ?? [])].map((e) => e.entry),
    };
  },
};

const total = (r: FeedBenchRow["requests"]) => r.check + r.create + r.read + r.delete;

/** The rows as a table for stdout. */
export function formatFeedBench(rows: readonly FeedBenchRow[]): string {
  const head =
    "| path | N | devices | check | create | read | delete | requests/grant | via proxy to FortiGates | ms | correct |\n|---|---|---|---|---|---|---|---|---|---|---|";
  const body = rows.map(
    (r) =>
      `| ${r.path} | ${r.n} | ${r.devices} | ${r.requests.check} | ${r.requests.create} | ${r.requests.read} | ${r.requests.delete} | ${r.perGrant.toFixed(2)} | ${r.deviceRequests ?? "-"} | ${r.wallMs} | ${r.correct ? "yes" : "NO"} |`,
  );
  return [head, ...body].join("\n");
}

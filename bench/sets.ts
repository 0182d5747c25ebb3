/**
 * Issue 13 benchmark: N addresses granted as ONE set against N per-entry grants, through the provider
 * objects (called as the engine calls them), on the OPNsense emulator (2 ms per request, 300 ms per
 * reconfigure) in both methods, with the provider's shipped settings (no settle shortened), plus the FortiManager one-update path. Per operation (create = `up`,
 * refresh = `preview --refresh`'s read, change = one address added and one removed, delete = `destroy`):
 * requests, request+response bytes (measured at the emulator's socket), OPNsense config revisions and
 * reconfigures, wall time. Also: one set change in a 20,000-entry alias.
 *
 * For bench/run.ts (the lead wires it in):
 *   import { benchSets, formatSetsTable } from "./sets";
 *   const rows = await benchSets({ ns: [100, 1000, 10000] });
 *   console.log(formatSetsTable(rows));
 * Standalone: `node dist/bench/sets.js [--n 100,1000]`.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { startOpnsenseEmulator, type OpnsenseEmulator } from "../emulators/opnsense/emulator";
import { opnsenseAliasEntryProvider } from "../provider/devices/opnsense/resource";
import { opnsenseAliasSetProvider } from "../provider/devices/opnsense/set-resource";
import { resetProcessState } from "../provider/core/process-state";
import { closeAllAgents } from "../provider/core/transport";

const LATENCY_MS = 2;
const RECONFIGURE_MS = 300;
const USER = { name: "bench", key: "bench-key", secret: "bench-secret-0123456789", privileges: ["page-all"], disabled: false };

export interface SetBenchRow {
  readonly model: "set" | "per-entry";
  readonly method: "table" | "config";
  readonly n: number;
  readonly op: "create" | "refresh" | "change" | "delete";
  readonly requests: number;
  readonly bytes: number;
  readonly revisions: number;
  readonly reconfigures: number;
  readonly ms: number;
  /** Entries already in the alias (the large-table row). */
  readonly baseline?: number;
}

export interface SetBenchOptions {
  readonly ns?: readonly number[];
  /** Largest N for per-entry grants (their config mode waits a settle per batch). @default 1000 */
  readonly perEntryMax?: number;
  /** Provider operations at once for per-entry grants (the engine's `--parallel`). @default 32 */
  readonly parallel?: number;
  readonly log?: (line: string) => void;
}

/** A TCP relay in front of the emulator that counts the bytes of every request and answer (TLS included). */
async function byteMeter(targetPort: number): Promise<{ port: number; bytes: () => number; close: () => Promise<void> }> {
  let total = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    sockets.add(client).add(upstream);
    client.on("data", (d: Buffer) => (total += d.length));
    upstream.on("data", (d: Buffer) => (total += d.length));
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    bytes: () => total,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

async function pool<T>(items: readonly T[], n: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const addressesOf = (n: number) => Array.from({ length: n }, (_, k) => `10.${100 + Math.floor(k / 62_500)}.${Math.floor(k / 250) % 250}.${(k % 250) + 1}`);

/** Runs the benchmark; returns one row per model × method × N × operation. */
export async function benchSets(opts: SetBenchOptions = {}): Promise<SetBenchRow[]> {
  const ns = opts.ns ?? [100, 1000, 10000];
  const perEntryMax = opts.perEntryMax ?? 1000;
  const parallel = opts.parallel ?? 32;
  const log = opts.log ?? (() => undefined);
  const emu: OpnsenseEmulator = await startOpnsenseEmulator({ users: [USER], latencyMs: LATENCY_MS, reconfigureLatencyMs: RECONFIGURE_MS });
  const meter = await byteMeter(emu.port);
  const bytes = meter.bytes;
  const rows: SetBenchRow[] = [];
  const conn = {
    connection: { url: emu.url.replace(`:${emu.port}`, `:${meter.port}`), caCert: emu.caCert },
    credentials: { apiKey: USER.key, apiSecret: USER.secret },
  };
  const measure = async (row: Omit<SetBenchRow, "requests" | "bytes" | "revisions" | "reconfigures" | "ms">, fn: () => Promise<unknown>) => {
    emu.log.clear();
    const b0 = bytes();
    const rev0 = emu.backend.configSaves;
    const rc0 = emu.backend.reconfigureCount;
    const t0 = performance.now();
    await fn();
    const r: SetBenchRow = {
      ...row,
      requests: emu.log.entries().length,
      bytes: bytes() - b0,
      revisions: emu.backend.configSaves - rev0,
      reconfigures: emu.backend.reconfigureCount - rc0,
      ms: Math.round(performance.now() - t0),
    };
    rows.push(r);
    log(
      `${r.model.padEnd(9)} ${r.method.padEnd(6)} N=${String(r.n).padEnd(6)} ${r.op.padEnd(7)} ${r.requests} req, ${r.bytes} B, ${r.revisions} rev, ${r.reconfigures} reconf, ${r.ms} ms`,
    );
  };
  try {
    // The shipped timing (batch window, cross-process settle): what users get is what is measured.
    for (const method of ["table", "config"] as const) {
      for (const n of ns) {
        const addrs = addressesOf(n);
        // --- one set ---
        resetProcessState();
        emu.backend.reset();
        const base = { ...conn, alias: "jit_nets", method, grantName: "bench-set" };
        const checked = (await opnsenseAliasSetProvider.check({}, { ...base, addresses: addrs } as never)).inputs!;
        let state: Record<string, unknown> = {};
        await measure({ model: "set", method, n, op: "create" }, async () => (state = (await opnsenseAliasSetProvider.create(checked)).outs as never));
        await measure({ model: "set", method, n, op: "refresh" }, () => opnsenseAliasSetProvider.read("id", state as never));
        const changed = (await opnsenseAliasSetProvider.check(state, { ...base, addresses: [...addrs.slice(1), "192.0.2.1"] } as never)).inputs!;
        await measure(
          { model: "set", method, n, op: "change" },
          async () => (state = (await opnsenseAliasSetProvider.update("id", state as never, changed)).outs as never),
        );
        await measure({ model: "set", method, n, op: "delete" }, () => opnsenseAliasSetProvider.delete("id", state as never));
        // --- per-entry grants ---
        if (n > perEntryMax) continue;
        resetProcessState();
        emu.backend.reset();
        const inputs = await Promise.all(
          addrs.map(
            async (a, i) =>
              (await opnsenseAliasEntryProvider.check({}, { ...conn, alias: "jit_nets", method, address: a, grantName: `g${i}` } as never)).inputs!,
          ),
        );
        const states: Record<string, unknown>[] = [];
        await measure({ model: "per-entry", method, n, op: "create" }, () =>
          pool(inputs, parallel, async (i) => states.push((await opnsenseAliasEntryProvider.create(i)).outs as never)),
        );
        await measure({ model: "per-entry", method, n, op: "refresh" }, () => pool(states, parallel, (s) => opnsenseAliasEntryProvider.read("id", s as never)));
        const extra = (await opnsenseAliasEntryProvider.check({}, { ...conn, alias: "jit_nets", method, address: "192.0.2.1", grantName: "gx" } as never))
          .inputs!;
        await measure({ model: "per-entry", method, n, op: "change" }, () =>
          Promise.all([opnsenseAliasEntryProvider.create(extra), opnsenseAliasEntryProvider.delete("id", states.shift() as never)]),
        );
        await measure({ model: "per-entry", method, n, op: "delete" }, () =>
          pool(states, parallel, (s) => opnsenseAliasEntryProvider.delete("id", s as never)),
        );
      }
      // --- one set change in a 20,000-entry alias ---
      resetProcessState();
      emu.backend.reset();
      emu.backend.seedTable("jit_nets", 20_000);
      const base = { ...conn, alias: "jit_nets", method, grantName: "bench-large" };
      let state = (await opnsenseAliasSetProvider.create((await opnsenseAliasSetProvider.check({}, { ...base, addresses: ["192.0.2.1"] } as never)).inputs!))
        .outs as unknown as Record<string, unknown>;
      const news = (await opnsenseAliasSetProvider.check(state, { ...base, addresses: ["192.0.2.1", "192.0.2.2"] } as never)).inputs!;
      await measure(
        { model: "set", method, n: 1, op: "change", baseline: 20_000 },
        async () => (state = (await opnsenseAliasSetProvider.update("id", state as never, news)).outs as never),
      );
      await measure({ model: "set", method, n: 1, op: "refresh", baseline: 20_000 }, () => opnsenseAliasSetProvider.read("id", state as never));
    }
  } finally {
    resetProcessState();
    await closeAllAgents();
    await meter.close();
    await emu.close();
  }
  return rows;
}

/** A Markdown table of the rows (for the bench output and BENCHMARKS.md). */
export function formatSetsTable(rows: readonly SetBenchRow[]): string {
  const head =
    "| model | method | N | alias size before | op | requests | bytes | config revisions | reconfigures | ms |\n|---|---|---:|---:|---|---:|---:|---:|---:|---:|";
  const lines = rows.map(
    (r) => `| ${r.model} | ${r.method} | ${r.n} | ${r.baseline ?? 0} | ${r.op} | ${r.requests} | ${r.bytes} | ${r.revisions} | ${r.reconfigures} | ${r.ms} |`,
  );
  return [head, ...lines].join("\n");
}

if (require.main === module) {
  const i = process.argv.indexOf("--n");
  const ns =
    i > 0
      ? String(process.argv[i + 1])
          .split(",")
          .map(Number)
      : undefined;
  benchSets({ ...(ns && { ns }), log: (l) => process.stderr.write(`${l}\n`) })
    .then((rows) => process.stdout.write(`${formatSetsTable(rows)}\n`))
    .catch((e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    });
}

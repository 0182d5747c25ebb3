/**
 * Per-entry OPNsense config mode at the engine's pace (issue 22): N creates then N deletes through the
 * provider object, by P workers; after each operation a worker waits its turn for a `gap` ms step, one
 * worker at a time, as the Pulumi CLI writes its checkpoint after every step. Prints wall time,
 * requests and reconfigures per phase, and whether the live table ended exact.
 *
 *   node dist/bench/config-waves.js <N> <parallel> [gapMs]
 */
import { startOpnsenseEmulator, OPNSENSE_EMULATOR_ADMIN as A } from "../emulators/opnsense/emulator";
import { opnsenseAliasEntryProvider as p, type AliasEntryInputs } from "../provider/devices/opnsense/resource";

async function main(): Promise<void> {
  const [n, parallel, gap] = [Number(process.argv[2] ?? 100), Number(process.argv[3] ?? 8), Number(process.argv[4] ?? 0)];
  const emu = await startOpnsenseEmulator({ latencyMs: 2, reconfigureLatencyMs: 300 });
  const conn = { connection: { url: emu.url, caCert: emu.caCert }, credentials: { apiKey: A.key, apiSecret: A.secret } };
  const addresses = Array.from({ length: n }, (_, i) => `10.${50 + Math.floor(i / 65_000)}.${Math.floor(i / 250) % 256}.${(i % 250) + 1}`);
  const inputs: AliasEntryInputs[] = [];
  for (const address of addresses)
    inputs.push((await p.check!({} as AliasEntryInputs, { ...conn, alias: "jit_admins", address, method: "config" } as AliasEntryInputs)).inputs!);
  let turn = Promise.resolve();
  const phase = async <T, R>(name: string, items: readonly T[], fn: (x: T) => Promise<R>): Promise<R[]> => {
    emu.log.clear();
    const r0 = emu.backend.reconfigureCount;
    const t0 = Date.now();
    const out: R[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < items.length) {
          out.push(await fn(items[next++]!));
          if (gap > 0) await (turn = turn.then(() => new Promise((r) => setTimeout(r, gap))));
        }
      }),
    );
    const reconfigures = emu.backend.reconfigureCount - r0;
    process.stdout.write(
      `${name}: N=${n} parallel=${parallel} gap=${gap} ms: ${Date.now() - t0} ms, ${emu.log.count()} requests, ${reconfigures} reconfigures\n`,
    );
    return out;
  };
  const created = await phase("create", inputs, (i) => p.create(i));
  const exact = [...emu.backend.tableContent("jit_admins")].sort().join() === [...addresses].sort().join();
  await phase("delete", created, (c) => p.delete!(c.id, c.outs));
  process.stdout.write(`live table after create ${exact ? "exact" : "WRONG"}; after delete ${emu.backend.tableContent("jit_admins").length} left\n`);
  await emu.close();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exit(1);
  },
);

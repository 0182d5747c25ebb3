/**
 * Table-mode grants handed over as the engine does (8 at once, each followed by a serialised checkpoint
 * save): the reads that prove the adds and deletes are shared by the burst (read-coalescer.ts burst
 * window), so N grants cost about N requests — and every add is still proven by a read that started
 * after it was answered: an add the device answered "done" without doing fails (OPN102), an add applied
 * whose answer was lost is read back and never repeated, and the others of the burst are unaffected.
 */
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { opnsenseAliasEntryProvider as provider, type AliasEntryInputs, type AliasEntryOutputs } from "../../provider/devices/opnsense/resource";
import { isGrantError } from "../../provider/core/errors";
import { useEmulator } from "../support/emulator";
import { enginePaced, enginePacedSettled } from "../support/engine-pacing";
import { connFor, USERS } from "./helpers";

const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS), latencyMs: 2 }));
const N = 200;
const addresses = Array.from({ length: N }, (_, i) => `10.31.${i >> 8}.${(i & 255) + 1}`);
const inputs = (address: string) => ({ ...connFor(emu.url, emu.caCert, "tablesRead"), alias: "jit_admins", address, method: "table" }) as AliasEntryInputs;
const checkAll = (list: readonly string[]) => Promise.all(list.map(async (a) => (await provider.check!({} as AliasEntryInputs, inputs(a))).inputs!));

describe("OPNsense table mode at engine pace", () => {
  it(`${N} creates and ${N} deletes cost at most 1.2 requests per grant; the alias ends exact`, async () => {
    const checked = await checkAll(addresses);
    emu.log.clear();
    const created = (await enginePaced(checked, (i) => provider.create(i))) as { id: string; outs: AliasEntryOutputs }[];
    expect(emu.log.count("alias_util/add")).toBe(N);
    expect(emu.log.count("alias_util/list")).toBeGreaterThanOrEqual(2); // the index-0 guard and the proof
    expect(emu.log.count()).toBeLessThanOrEqual(1.2 * N);
    expect(emu.backend.configContent("jit_admins").sort()).toEqual([...addresses].sort());
    expect(created.every((c) => c.outs.adopted === false)).toBe(true);

    emu.log.clear();
    await enginePaced(created, (c) => provider.delete!(c.id, c.outs));
    expect(emu.log.count("alias_util/delete")).toBe(N);
    // Each delete is proven by the table and the config content read after it (two shared reads per burst).
    expect(emu.log.count()).toBeLessThanOrEqual(1.4 * N);
    expect(emu.backend.configContent("jit_admins")).toEqual([]);
    expect(emu.backend.tableContent("jit_admins")).toEqual([]);
  });

  it("an add the device silently dropped fails that grant (OPN102) and only that one; a lost answer is read back, not repeated", async () => {
    const list = addresses.slice(0, 40);
    const checked = await checkAll(list);
    emu.log.clear();
    // The 18th add is answered "done" without effect; the 24th is applied but its connection reset.
    const ok = (n: number) => Array.from({ length: n }, () => "ok" as const);
    emu.faults.sequence("alias_util/add", [
      ...ok(17),
      { kind: "reply", reply: () => ({ status: 200, json: { status: "done" } }) },
      ...ok(5),
      { kind: "reset", phase: "after" },
    ]);
    const results = await enginePacedSettled(checked, (i) => provider.create(i));
    emu.faults.clear();
    const failed = results.flatMap((r, k) => (r.ok ? [] : [{ address: list[k]!, error: r.error }]));
    expect(failed).toHaveLength(1);
    expect(isGrantError(failed[0]!.error) && failed[0]!.error.code).toBe("OPN102");
    const dropped = failed[0]!.address;
    expect(emu.backend.tableContent("jit_admins")).not.toContain(dropped);
    // One add per address (the reset one was read back, never sent twice); every other address is there exactly once.
    expect(emu.log.count("alias_util/add")).toBe(list.length);
    const config = emu.backend.configContent("jit_admins");
    for (const a of list.filter((x) => x !== dropped)) expect(config.filter((l) => l === a)).toHaveLength(1);
    for (const r of results) if (r.ok) await provider.delete!(r.value.id, r.value.outs!);
    expect(emu.backend.configContent("jit_admins")).toEqual([]);
    // The dropped add is proven absent only after its verify rounds: ~55 s on a loaded 2-core machine.
  }, 180_000);
});

describe("OPNsense config mode at a slow engine pace", () => {
  // At N = 1,000 the engine's checkpoint writes hand creates over one every few hundred ms, slower than the
  // batch's 250 ms quiet window: a batch then closed per create or two (700 reconfigures for 1,000 grants).
  // The window follows the pace the creates arrive at, so a batch fills up to the engine's parallelism.
  it("creates handed over one per 400 ms still share a reconfigure per wave of the engine's slots; the alias ends exact", async () => {
    const n = 24;
    const list = addresses.slice(0, n);
    const checked = await Promise.all(
      list.map(
        async (a) =>
          (await provider.check!({} as AliasEntryInputs, { ...inputs(a), ...connFor(emu.url, emu.caCert, "admin"), method: "config" } as AliasEntryInputs))
            .inputs!,
      ),
    );
    const r0 = emu.backend.reconfigureCount;
    await enginePaced(checked, (i) => provider.create(i), { saveMs: 400 });
    expect(emu.backend.reconfigureCount - r0).toBeLessThanOrEqual(Math.ceil(n / 8) + 3);
    expect(emu.backend.configContent("jit_admins").sort()).toEqual([...list].sort());
    expect(emu.backend.tableContent("jit_admins").sort()).toEqual([...list].sort());
  });
});

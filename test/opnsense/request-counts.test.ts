/**
 * Request counts of concurrent grants (issue 6 benchmark floors), asserted on the emulator's request
 * log, never on timings: concurrent grants on one alias share their alias_util/list and get_item
 * reads (provider/core/read-coalescer.ts), so N grants cost N adds/deletes plus a few shared reads; a
 * preview (check + diff) costs one probe set, not N; config mode reconfigures once per batch.
 */
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { opnsenseAliasEntryProvider as provider, type AliasEntryInputs, type AliasEntryOutputs } from "../../provider/devices/opnsense/resource";
import { resetProcessState } from "../../provider/core/process-state";
import { coalescedRead, DEFAULT_WINDOW_MS, noteWrite, lastWrite, readsSent } from "../../provider/core/read-coalescer";
import { useEmulator } from "../support/emulator";
import { connFor, fastConfigTiming, USERS } from "./helpers";

const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS), latencyMs: 2 }));
fastConfigTiming();
const N = 40;
const addresses = Array.from({ length: N }, (_, i) => `10.30.0.${i + 1}`);

const inputs = (address: string, method: "table" | "config") =>
  ({ ...connFor(emu.url, emu.caCert, method === "table" ? "tablesRead" : "edit"), alias: "jit_admins", address, method }) as AliasEntryInputs;

async function createAll(method: "table" | "config"): Promise<{ id: string; outs: AliasEntryOutputs }[]> {
  const checked = await Promise.all(addresses.map(async (a) => (await provider.check!({} as AliasEntryInputs, inputs(a, method))).inputs!));
  emu.log.clear();
  return Promise.all(checked.map(async (i) => (await provider.create(i)) as { id: string; outs: AliasEntryOutputs }));
}

describe("table mode: concurrent grants share their reads", () => {
  it("N creates cost N adds and far fewer than N reads; N deletes likewise; the alias ends exact", async () => {
    const created = await createAll("table");
    expect(emu.log.count("alias_util/add")).toBe(N);
    const reads = emu.log.count("alias_util/list");
    expect(reads).toBeGreaterThanOrEqual(2); // one before (index-0 guard), one after (verify)
    expect(reads).toBeLessThanOrEqual(N / 4);
    expect(emu.log.count()).toBeLessThanOrEqual(N + N / 4);
    expect(emu.backend.configContent("jit_admins").sort()).toEqual([...addresses].sort());

    emu.log.clear();
    await Promise.all(created.map((c) => provider.read!(c.id, c.outs)));
    expect(emu.log.count("alias_util/list")).toBeLessThanOrEqual(N / 4);

    emu.log.clear();
    await Promise.all(created.map((c) => provider.delete!(c.id, c.outs)));
    expect(emu.log.count("alias_util/delete")).toBe(N);
    expect(emu.log.count("alias_util/list") + emu.log.count("alias/get_item")).toBeLessThanOrEqual(N / 2);
    expect(emu.backend.configContent("jit_admins")).toEqual([]);
    expect(emu.backend.tableContent("jit_admins")).toEqual([]);
  });

  it("keeps the index-0 guard: an address that is the first line is adopted, never appended again", async () => {
    emu.backend.insertAddress("jit_admins", addresses[0]!);
    const created = await createAll("table");
    expect(created[0]!.outs.adopted).toBe(true);
    expect(emu.log.count("alias_util/add")).toBe(N - 1);
    expect(emu.backend.configContent("jit_admins").filter((l) => l === addresses[0])).toHaveLength(1);
  });

  it("a create right after a delete of the same address never reuses a read from before the delete", async () => {
    const [c] = await Promise.all([provider.create((await provider.check!({} as AliasEntryInputs, inputs(addresses[0]!, "table"))).inputs!)]);
    await provider.delete!(c!.id, c!.outs!);
    const again = await provider.create(c!.outs as AliasEntryInputs);
    expect(again.outs!.adopted).toBe(false);
    expect(emu.backend.tableContent("jit_admins")).toEqual([addresses[0]]);
  });
});

describe("preview of N unchanged grants", () => {
  it.each(["table", "config"] as const)("%s: one probe set for the device, nothing per grant", async (method) => {
    const created = await createAll(method);
    resetProcessState(); // a preview is a new provider process
    emu.log.clear();
    await Promise.all(
      created.map(async (c) => {
        const r = await provider.check!(c.outs, inputs(c.outs.address, method));
        return provider.diff!(c.id, c.outs, r.inputs!);
      }),
    );
    // menu/search + get_alias_u_u_i_d + get_item + (alias_util/aliases | GET reconfigure): 4 requests for N grants.
    expect(emu.log.count()).toBe(4);
  });
});

describe("config mode", () => {
  it("N concurrent grants cost one get_item + set_item + reconfigure per batch", async () => {
    const r0 = emu.backend.reconfigureCount;
    await createAll("config");
    const reconfigures = emu.backend.reconfigureCount - r0;
    expect(reconfigures).toBeGreaterThanOrEqual(1);
    expect(reconfigures).toBeLessThanOrEqual(2);
    expect(emu.log.count("alias/set_item")).toBe(reconfigures);
  });
});

describe("read coalescer", () => {
  it("shares a read in flight, and serves a caller only a read that started after its last write", async () => {
    let sent = 0;
    const read = async () => {
      const mine = ++sent;
      await new Promise((r) => setTimeout(r, 20));
      return mine;
    };
    const [a, b, c] = await Promise.all([coalescedRead("k", read), coalescedRead("k", read), coalescedRead("k", read)]);
    expect([a, b, c]).toEqual([1, 1, 1]);
    const first = coalescedRead("k", read); // starts read 2
    await new Promise((r) => setTimeout(r, DEFAULT_WINDOW_MS + 8)); // past the join window: read 2 is in flight
    noteWrite("w", "x");
    const stale = coalescedRead("k", read); // no write noted for it: joins read 2
    const fresh = coalescedRead("k", read, { notBefore: lastWrite("w", "x") }); // must not: read 3
    expect(await first).toBe(2);
    expect(await stale).toBe(2);
    expect(await fresh).toBe(3);
    expect(readsSent("k")).toBe(3);
  });

  it("never reuses a failed read", async () => {
    let n = 0;
    const read = async () => {
      n++;
      if (n === 1) throw new Error("boom");
      return n;
    };
    await expect(coalescedRead("f", read)).rejects.toThrow("boom");
    expect(await coalescedRead("f", read)).toBe(2);
  });
});

import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { opnsenseAliasEntryProvider as provider, type AliasEntryInputs } from "../../provider/devices/opnsense/resource";
import { useEmulator } from "../support/emulator";
import { connFor, fastConfigTiming, USERS } from "./helpers";

// A reload that takes time, as on a real firewall, so that grants pile up behind it.
const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS), reconfigureLatencyMs: 50 }));
fastConfigTiming();
const N = 100;
const addresses = Array.from({ length: N }, (_, i) => `10.20.${Math.floor(i / 50)}.${(i % 50) + 1}`);

describe.each([
  ["table", "tablesRead"],
  ["config", "edit"],
] as const)("%s mode: 100 parallel grants on one alias", (method, who) => {
  it("adds every address exactly once, then removes every one", async () => {
    const inputs = await Promise.all(
      addresses.map(async (address) => {
        const r = await provider.check!(
          {} as AliasEntryInputs,
          { ...connFor(emu.url, emu.caCert, who), alias: "jit_admins", address, method } as AliasEntryInputs,
        );
        return r.inputs!;
      }),
    );
    emu.log.clear();
    const created = await Promise.all(inputs.map((i) => provider.create(i)));
    const createRequests = emu.log.entries().length;
    const createReconfigures = emu.backend.reconfigureCount;
    const content = emu.backend.configContent("jit_admins");
    expect([...content].sort()).toEqual([...addresses].sort());
    expect(emu.backend.tableContent("jit_admins")).toEqual([...addresses].sort());
    expect(created.every((c) => c.outs!.adopted === false)).toBe(true);

    emu.log.clear();
    await Promise.all(created.map((c) => provider.delete!(c.id, c.outs!)));
    const deleteRequests = emu.log.entries().length;
    expect(emu.backend.configContent("jit_admins")).toEqual([]);
    expect(emu.backend.tableContent("jit_admins")).toEqual([]);
    const reconfigures = emu.backend.reconfigureCount;
    console.log(
      `${method} mode, ${N} parallel grants: create ${createRequests} requests (${(createRequests / N).toFixed(2)}/grant), ` +
        `delete ${deleteRequests} requests (${(deleteRequests / N).toFixed(2)}/grant), reconfigures create ${createReconfigures} + delete ${reconfigures - createReconfigures}`,
    );
    if (method === "config") {
      expect(createReconfigures).toBeLessThanOrEqual(10);
      expect(reconfigures - createReconfigures).toBeLessThanOrEqual(10);
    } else {
      expect(reconfigures).toBe(0);
    }
    expect(emu.log.unhandled()).toHaveLength(0);
  });
});

describe("config mode: grants arriving spread over time", () => {
  it("still coalesces reloads while earlier batches run", async () => {
    const make = (address: string) =>
      provider.check!(
        {} as AliasEntryInputs,
        { ...connFor(emu.url, emu.caCert, "edit"), alias: "jit_admins", address, method: "config" } as AliasEntryInputs,
      ).then((r) => r.inputs!);
    // Deterministic spread over ~300 ms, as the engine's --parallel workers start grants one after another.
    const created = await Promise.all(
      addresses.map(async (a, i) => {
        await new Promise((r) => setTimeout(r, (i * 37) % 300));
        return provider.create(await make(a));
      }),
    );
    console.log(`config mode, ${N} grants spread over 300 ms: ${emu.backend.reconfigureCount} reconfigures`);
    expect(emu.backend.reconfigureCount).toBeLessThanOrEqual(10);
    expect([...emu.backend.configContent("jit_admins")].sort()).toEqual([...addresses].sort());
    expect(created).toHaveLength(N);
  });
});

describe("config mode: the engine's --parallel 8, creates handed over one by one", () => {
  it("makes one batch (one reconfigure) per wave of 8, not one per create", async () => {
    const some = addresses.slice(0, 40);
    const inputs = await Promise.all(
      some.map((address) =>
        provider.check!(
          {} as AliasEntryInputs,
          { ...connFor(emu.url, emu.caCert, "edit"), alias: "jit_admins", address, method: "config" } as AliasEntryInputs,
        ).then((r) => r.inputs!),
      ),
    );
    const r0 = emu.backend.reconfigureCount;
    // 8 workers; after each create the worker waits its turn for a 40 ms step, one at a time, as the CLI
    // writes its checkpoint after every step — so the next creates arrive 40 ms apart, never together.
    let turn = Promise.resolve();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < inputs.length) {
          await provider.create(inputs[next++]!);
          await (turn = turn.then(() => new Promise((r) => setTimeout(r, 40))));
        }
      }),
    );
    const reconfigures = emu.backend.reconfigureCount - r0;
    console.log(`config mode, 40 creates at parallel 8 arriving 40 ms apart: ${reconfigures} reconfigures`);
    expect(reconfigures).toBeLessThanOrEqual(6); // ceil(40 / 8) = 5, the floor when each create returns only once live
    expect([...emu.backend.tableContent("jit_admins")].sort()).toEqual([...some].sort());
  });
});

describe.each([
  ["table", "tablesRead"],
  ["config", "edit"],
] as const)("%s mode under transient faults", (method, who) => {
  it("ends with the exact device state despite 503s and lost answers", async () => {
    emu.faults.add({ kind: "status", status: 503, probability: 0.15 });
    emu.faults.add({ match: /alias_util\/add|set_item/, kind: "reset", phase: "after", probability: 0.2 });
    const some = addresses.slice(0, 20);
    const inputs = await Promise.all(
      some.map((address) =>
        provider.check!({} as AliasEntryInputs, { ...connFor(emu.url, emu.caCert, who), alias: "jit_admins", address, method } as AliasEntryInputs).then(
          (r) => r.inputs!,
        ),
      ),
    );
    const created = await Promise.all(inputs.map((i) => provider.create(i)));
    expect([...emu.backend.configContent("jit_admins")].sort()).toEqual([...some].sort());
    await Promise.all(created.map((c) => provider.delete!(c.id, c.outs!)));
    expect(emu.backend.configContent("jit_admins")).toEqual([]);
    expect(emu.backend.tableContent("jit_admins")).toEqual([]);
    emu.faults.clear();
  });
});

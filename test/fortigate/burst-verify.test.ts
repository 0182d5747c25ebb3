/**
 * `FortigateAddress` grants handed over as the engine does (8 at once, each followed by a serialised
 * checkpoint save): the read-back that proves each object POST is one read of the address table shared by
 * the burst (read-coalescer.ts burst window), so N grants cost about N requests. The proof holds: a POST
 * answered with a success envelope but never applied fails (202090), and an object that shows up only
 * some time after its POST is found by the by-name read-back with retries, as before.
 */
import { fortigateAddressProvider as provider, type FortigateAddressInputs, type FortigateAddressState } from "../../provider/devices/fortigate/resource";
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { isGrantError } from "../../provider/core/errors";
import { useEmulator } from "../support/emulator";
import { enginePaced, enginePacedSettled } from "../support/engine-pacing";

const emu = useEmulator(() => startFortigateEmulator({ latencyMs: 2 }));
const N = 200;
const spec = (i: number) => ({ name: `burst-${i}`, address: `10.41.${i >> 8}.${(i & 255) + 1}` });
const checkAll = (n: number) =>
  Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const r = await provider.check({}, { connection: { url: emu.url, caCert: emu.caCert }, credentials: { token: emu.token }, ...spec(i) });
      return r.inputs as FortigateAddressInputs;
    }),
  );
const ours = () => emu.backend.addresses("root").filter((a) => a.name.startsWith("burst-"));
/** FortiOS's success envelope for a create POST, as the emulator words it, without creating anything. */
const successEnvelope = {
  status: 200,
  json: { http_method: "POST", status: "success", http_status: 200, vdom: "root", path: "firewall", name: "address", mkey: "x" },
};

describe("FortiGate addresses at engine pace", () => {
  it(`${N} creates cost at most 1.2 requests per grant (one POST each, shared read-backs); ${N} deletes one each`, async () => {
    const checked = await checkAll(N);
    emu.log.clear();
    const created = (await enginePaced(checked, (i) => provider.create(i))) as { id: string; outs: FortigateAddressState }[];
    expect(emu.log.count("POST /api/v2/cmdb/firewall/address")).toBe(N);
    expect(emu.log.entries().filter((e) => e.method === "GET").length).toBeGreaterThanOrEqual(1);
    expect(emu.log.count()).toBeLessThanOrEqual(1.2 * N);
    expect(ours()).toHaveLength(N);
    expect(created.every((c) => c.outs.adopted === false && c.outs.cidr !== "")).toBe(true);
    emu.log.clear();
    await enginePaced(created, (c) => provider.delete(c.id, c.outs as never));
    expect(emu.log.count()).toBe(N);
    expect(ours()).toEqual([]);
  });

  it("a POST answered 'success' but never applied fails (202090); an object visible only later is found; the rest of the burst is unaffected", async () => {
    const checked = await checkAll(24);
    const ok = (n: number) => Array.from({ length: n }, () => "ok" as const);
    let late: Record<string, unknown> | undefined;
    emu.faults.sequence("POST /api/v2/cmdb/firewall/address", [
      ...ok(5),
      { kind: "reply", reply: () => successEnvelope },
      ...ok(5),
      {
        kind: "reply",
        reply: (req) => {
          // Applied, but visible only 400 ms later (the shared table read comes too early for it).
          late = JSON.parse(req.body) as Record<string, unknown>;
          const body = late;
          setTimeout(() => emu.backend.createAddress("root", "ipv4", body), 400);
          return successEnvelope;
        },
      },
    ]);
    const results = await enginePacedSettled(checked, (i) => provider.create(i));
    emu.faults.clear();
    const failed = results.flatMap((r, k) => (r.ok ? [] : [{ name: checked[k]!.name, error: r.error }]));
    expect(failed).toHaveLength(1);
    expect(isGrantError(failed[0]!.error) && failed[0]!.error.code).toBe("202090");
    expect(ours().map((a) => a.name)).not.toContain(failed[0]!.name);
    expect(late).toBeDefined();
    const lateResult = results[checked.findIndex((c) => c.name === late!.name)]!;
    expect(lateResult.ok).toBe(true);
    expect(ours()).toHaveLength(23);
    for (const r of results) if (r.ok) await provider.delete(r.value.id, r.value.outs as never);
    expect(ours()).toEqual([]);
  });
});

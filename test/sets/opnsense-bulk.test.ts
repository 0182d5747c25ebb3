/**
 * OpnsenseAliasSet bulk cost against the emulator: what N addresses and a 20,000-entry alias cost in requests,
 * config revisions and content transfers (contract tier: large tables, seconds of work per test).
 */
import { CONFIG_MODE_TIMING } from "../../provider/devices/opnsense/alias-batcher";
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { useEmulator } from "../support/emulator";
import { fastConfigTiming, USERS } from "../opnsense/helpers";
import { opnsenseSetKit, opnsenseSetSteps } from "./helpers";

const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));
fastConfigTiming();

const kit = opnsenseSetKit(emu);
const { content } = kit;
const { create, update, refreshed } = opnsenseSetSteps(kit);
const writes = () => emu.log.entries().filter((e) => e.method === "POST" && !e.path.includes("/list/")).length;

describe("bulk cost", () => {
  const N = 200;
  const addresses = Array.from({ length: N }, (_, i) => `10.20.${Math.floor(i / 250)}.${(i % 250) + 1}`);

  it(`config mode: ${N} addresses cost one get_item, one set_item, one reconfigure and the verify read, and one config revision`, async () => {
    const s = await create({ method: "config", addresses });
    expect(s.addresses).toHaveLength(N);
    const e = emu.log.entries().filter((x) => !x.path.startsWith("/__emulator"));
    const by = (p: string, m = "POST") => e.filter((x) => x.path.includes(p) && x.method === m).length;
    // get_item: the preflight's alias lookup (once per process), the batch read, the verify read.
    expect({ get_item: by("/get_item/", "GET"), set_item: by("/set_item/"), reconfigure: by("/reconfigure") }).toEqual({
      get_item: 1 + 2,
      set_item: 1,
      reconfigure: 1,
    });
    expect(emu.backend.configSaves).toBe(1);
    emu.log.clear();
    await refreshed(s);
    expect(emu.log.entries().length).toBe(1);
  });

  it(`table mode: ${N} addresses cost at most N + 3 requests`, async () => {
    const s = await create({ method: "table", addresses });
    const e = emu.log
      .entries()
      .filter(
        (x) =>
          !x.path.startsWith("/__emulator") &&
          !/get_alias_u_u_i_d|menu\/search|alias_util\/aliases/.test(x.path) &&
          !(x.path.includes("get_item") && x.method === "GET" && emu.log.entries().indexOf(x) < 3),
      );
    expect(e.length).toBeLessThanOrEqual(N + 3);
    expect(writes()).toBe(N);
    emu.log.clear();
    await update(s, { method: "table", addresses: addresses.slice(1) });
    expect(emu.log.entries().length).toBeLessThanOrEqual(1 + 3);
  });

  it("one change in a 20,000-entry alias transfers the content once per request, not once per address (config mode)", async () => {
    // The default read→write window (a 20,000-line get_item takes longer than the suite's fast 100 ms).
    Object.assign(CONFIG_MODE_TIMING, { windowMs: 2_000, settleMs: 2_200 });
    emu.backend.seedTable("jit_nets", 20_000);
    const s = await create({ method: "config", addresses: ["198.51.100.1"] });
    emu.log.clear();
    await update(s, { method: "config", addresses: ["198.51.100.1", "198.51.100.2", "198.51.100.3"] });
    const e = emu.log.entries();
    // The batch read and the verify read; under load a read slower than the window is repeated, at most twice
    // (alias-batcher.ts rule 1): still per request, never per address (the update adds two).
    expect(e.filter((x) => x.path.includes("get_item")).length).toBeGreaterThanOrEqual(2);
    expect(e.filter((x) => x.path.includes("get_item")).length).toBeLessThanOrEqual(4);
    expect(e.filter((x) => x.path.includes("set_item")).length).toBe(1);
    expect(content()).toHaveLength(20_003);
    Object.assign(CONFIG_MODE_TIMING, { windowMs: 100, settleMs: 150 });
  }, 60_000);
});

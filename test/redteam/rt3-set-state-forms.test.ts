/**
 * Red team rt3 (issue 22): a set stores a plain entry as the address string. State of the previous version (every
 * entry `{address}`), mixed forms, an entry whose description or expiry comes and goes (string ↔ object), an entry
 * listed twice in both forms, an exclusive set beside hand-added lines, and a config-mode change that fails after its
 * write (the take-back must spare what the alias held before). The promise checked each time: the device holds
 * exactly what the program declares, and a removed line is revoked.
 */
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { opnsenseAliasSetProvider as provider, type AliasSetOutputs } from "../../provider/devices/opnsense/set-resource";
import { detailedDiff } from "../../provider/plugin/detailed-diff";
import { useEmulator } from "../support/emulator";
import { fastConfigTiming, USERS } from "../opnsense/helpers";
import { opnsenseSetKit, opnsenseSetSteps } from "../sets/helpers";
import { setClock } from "../../provider/core/time-box";

const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));
fastConfigTiming();
const kit = opnsenseSetKit(emu);
const { create, update, refreshed } = opnsenseSetSteps(kit);

/** Every plain entry of a state as the previous version wrote it. */
const oldForm = (s: AliasSetOutputs): AliasSetOutputs =>
  ({ ...s, addresses: (s.addresses as unknown[]).map((e) => (typeof e === "string" ? { address: e } : e)) }) as never;

afterEach(() => setClock(undefined));

describe.each(["table", "config"] as const)("rt3 set state forms, %s mode", (method) => {
  const holds = () => (method === "table" ? kit.table() : kit.content()).map((l) => l.replace("/32", "")).sort();

  it("mixed old/new state: removing an old-form entry and adding a described one revokes and grants exactly; delete leaves only the hand line", async () => {
    emu.backend.insertAddress("jit_nets", "192.0.2.50/32");
    const s = await create({ method, addresses: ["198.51.100.1", "198.51.100.2", { address: "198.51.100.3", description: "carol" }] });
    // Mixed: one entry as the previous version wrote it, one as this one does.
    const mixed = {
      ...s,
      addresses: [{ address: "198.51.100.1" }, "198.51.100.2", { address: "198.51.100.3", description: "carol" }],
    } as never as AliasSetOutputs;
    const r = await refreshed(mixed);
    expect(r.missing).toEqual([]);
    expect((await provider.diff("id", mixed, r as never)).changes).toBe(false);
    const same = await update(r, { method, addresses: ["198.51.100.1", "198.51.100.2", { address: "198.51.100.3", description: "carol" }] });
    expect(same.changes).toBe(false);
    const u = await update(r, {
      method,
      addresses: ["198.51.100.2", { address: "198.51.100.3", description: "carol" }, { address: "198.51.100.4", description: "dan" }],
    });
    expect(u.changes).toBe(true);
    expect(holds()).toEqual(["192.0.2.50", "198.51.100.2", "198.51.100.3", "198.51.100.4"]);
    await provider.delete("id", oldForm(u.outs));
    expect(holds()).toEqual(["192.0.2.50"]);
  });

  it("string ↔ object: a description or expiry added then removed is a change, keeps the address, and an entry come due is revoked", async () => {
    const s = await create({ method, addresses: ["198.51.100.1", "198.51.100.2"] });
    const d = await update(s, { method, addresses: [{ address: "198.51.100.1", description: "alice" }, "198.51.100.2"] });
    expect(d.changes).toBe(true);
    expect(d.outs.addresses).toEqual([{ address: "198.51.100.1", description: "alice" }, "198.51.100.2"]);
    expect(holds()).toEqual(["198.51.100.1", "198.51.100.2"]);
    const past = "2001-01-01T00:00:00Z";
    const e = await update(d.outs, { method, addresses: ["198.51.100.1", { address: "198.51.100.2", expiresAt: past }] });
    expect(e.changes).toBe(true);
    expect(e.outs.expiredEntries).toEqual(["198.51.100.2"]);
    expect(holds()).toEqual(["198.51.100.1"]);
    // Both back to plain strings: the expired entry is listed again without an end and must be granted again.
    const back = await update(e.outs, { method, addresses: ["198.51.100.1", "198.51.100.2"] });
    expect(back.changes).toBe(true);
    expect(back.outs.addresses).toEqual(["198.51.100.1", "198.51.100.2"]);
    expect(holds()).toEqual(["198.51.100.1", "198.51.100.2"]);
    // The same refreshed in the old form: nothing missing, no diff.
    const r = await refreshed(oldForm(back.outs));
    expect(r.missing).toEqual([]);
    expect((await update(r, { method, addresses: ["198.51.100.1", "198.51.100.2"] })).changes).toBe(false);
  });

  it("duplicates as string and object are one entry; the detailed diff of old-form state against it names no member", async () => {
    const s = await create({ method, addresses: ["198.51.100.1", { address: "198.51.100.1/32", description: "x" }, "198.51.100.2"] });
    expect(s.addresses).toEqual([{ address: "198.51.100.1", description: "x" }, "198.51.100.2"]);
    const old = oldForm(s) as never as Record<string, unknown>;
    const news = await kit.checked(kit.setInputs({ method, addresses: s.addresses, grantName: s.grantName }), old);
    expect([...detailedDiff(["addresses", "alias", "method"], old, news as never, []).keys()]).toEqual([]);
    // The second address dropped from old-form state: one member deleted, revoked on the device.
    const news2 = await kit.checked(kit.setInputs({ method, addresses: [{ address: "198.51.100.1", description: "x" }], grantName: s.grantName }), old);
    expect([...detailedDiff(["addresses"], old, news2 as never, []).entries()]).toEqual([["addresses[1]", "delete"]]);
    await provider.update("id", old as never, news2);
    expect(holds()).toEqual(["198.51.100.1"]);
  });

  it("exclusive, old-form state: a hand-added line is unexpected on refresh and `up` removes it, listed entries stay", async () => {
    const s = await create({ method, exclusive: true, addresses: ["198.51.100.1", { address: "198.51.100.2", description: "b" }] });
    emu.backend.insertAddress("jit_nets", "203.0.113.9/32");
    const r = await refreshed(oldForm(s));
    expect(r.unexpected).toEqual(["203.0.113.9"]);
    const u = await update(r, { method, exclusive: true, addresses: ["198.51.100.1", { address: "198.51.100.2", description: "b" }] });
    expect(u.changes).toBe(true);
    expect(holds()).toEqual(["198.51.100.1", "198.51.100.2"]);
  });

  it("config: a change failing after its write (reconfigure error) takes back only what it added; lines held before stay", async () => {
    if (method === "table") return;
    emu.backend.insertAddress("jit_nets", "192.0.2.50/32");
    emu.backend.insertAddress("jit_nets", "198.51.100.5/32");
    const s = await create({ method, addresses: ["198.51.100.1"] });
    emu.backend.reconfigureError = "There were error(s) loading the rules";
    const news = await kit.checked(kit.setInputs({ method, addresses: ["198.51.100.1", "198.51.100.5", "198.51.100.6"], grantName: s.grantName }), s as never);
    await expect(provider.update("id", oldForm(s), news)).rejects.toBeDefined();
    emu.backend.reconfigureError = undefined;
    await emu.backend.reconfigure();
    expect(holds()).toEqual(["192.0.2.50", "198.51.100.1", "198.51.100.5"]);
  });

  it("config: the write's answer lost after it landed (reset after apply), then a reconfigure error: the take-back still spares lines held before", async () => {
    if (method === "table") return;
    emu.backend.insertAddress("jit_nets", "198.51.100.5/32");
    const s = await create({ method, addresses: ["198.51.100.1"] });
    emu.faults.add({ match: /alias\/set_item/, kind: "reset", phase: "after", times: 1 });
    emu.backend.reconfigureError = "There were error(s) loading the rules";
    const news = await kit.checked(kit.setInputs({ method, addresses: ["198.51.100.1", "198.51.100.5", "198.51.100.7"], grantName: s.grantName }), s as never);
    await expect(provider.update("id", s, news)).rejects.toBeDefined();
    emu.faults.clear();
    emu.backend.reconfigureError = undefined;
    await emu.backend.reconfigure();
    expect(holds()).toEqual(["198.51.100.1", "198.51.100.5"]);
  });
  it("mixed state of a set whose own time came: the diff revokes (no crash on the stored-form conversion) and `up` removes every entry", async () => {
    const T0 = Date.parse("2030-01-01T00:00:00Z");
    setClock(() => T0);
    const expiresAt = "2030-01-01T01:00:00Z";
    const s = await create({ method, expiresAt, addresses: ["198.51.100.1", "198.51.100.2", { address: "198.51.100.3", description: "c" }] });
    const mixed = { ...s, addresses: [{ address: "198.51.100.1" }, "198.51.100.2", { address: "198.51.100.3", description: "c" }] } as never as AliasSetOutputs;
    setClock(() => T0 + 2 * 3600_000);
    const news = await kit.checked(kit.setInputs({ method, expiresAt, addresses: s.addresses, grantName: s.grantName }), mixed as never);
    expect((await provider.diff("id", mixed, news)).changes).toBe(true);
    await provider.update("id", mixed, news);
    expect(holds()).toEqual([]);
  });
});

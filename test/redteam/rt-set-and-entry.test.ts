/**
 * Red team (item 5): one address declared both by a per-entry grant and by an OpnsenseAliasSet on one alias —
 * an entry of the set coming due (its own `expiresAt`), an exclusive set next to a per-entry grant, switching
 * from the set back to per-entry grants in one `up` (engine order: creates, then deletes).
 */
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { setClock } from "../../provider/core/time-box";
import { resetProcessState } from "../../provider/core/process-state";
import { opnsenseAliasEntryProvider } from "../../provider/devices/opnsense/resource";
import { opnsenseAliasSetProvider as setP, type AliasSetOutputs } from "../../provider/devices/opnsense/set-resource";
import { useEmulator } from "../support/emulator";
import { connFor, fastConfigTiming, USERS } from "../opnsense/helpers";
import { opnsenseSetKit, opnsenseSetSteps } from "../sets/helpers";

const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));
fastConfigTiming();
const kit = opnsenseSetKit(emu);
const steps = opnsenseSetSteps(kit);
const entryP = opnsenseAliasEntryProvider as unknown as {
  check(olds: object, news: object): Promise<{ inputs?: unknown; failures?: unknown[] }>;
  create(inputs: never): Promise<{ id: string; outs: Record<string, unknown> }>;
  delete(id: string, props: never): Promise<void>;
};

const X = "198.51.100.21";
const Y = "198.51.100.22";
const T0 = Date.parse("2026-12-01T12:00:00Z");
const due = "2026-12-01T13:00:00Z";

const entryInputs = (grantName: string, address = X) => ({
  __provider: "x",
  ...connFor(emu.url, emu.caCert, "admin"),
  alias: "jit_nets",
  method: "table",
  address,
  grantName,
});
async function entry(grantName: string, address = X) {
  const c = await entryP.check({}, entryInputs(grantName, address));
  expect(c.failures ?? []).toEqual([]);
  return entryP.create(c.inputs as never);
}
/** A later run: the per-entry grant is declared again, unchanged (its check runs). */
async function redeclare(outs: Record<string, unknown>, grantName: string, address = X) {
  await entryP.check(outs, entryInputs(grantName, address));
}

afterEach(() => {
  setClock(undefined);
  resetProcessState();
});

describe("red team: per-entry grant and set on one address", () => {
  it("a set entry coming due leaves the address a per-entry grant still declares", async () => {
    setClock(() => T0);
    const a = await entry("alice");
    const s = await steps.create({ grantName: "team", addresses: [{ address: X, expiresAt: due }, Y] });
    resetProcessState();
    setClock(() => T0 + 2 * 3600_000);
    await redeclare(a.outs, "alice");
    await steps.update(s, { addresses: [{ address: X, expiresAt: due }, Y] });
    expect(kit.table()).toEqual([X, Y].sort());
  });

  it("a set entry coming due in an EXCLUSIVE set leaves the address a per-entry grant declares", async () => {
    setClock(() => T0);
    const a = await entry("alice");
    const s = await steps.create({ grantName: "team", exclusive: true, addresses: [{ address: X, expiresAt: due }, Y] });
    resetProcessState();
    setClock(() => T0 + 2 * 3600_000);
    await redeclare(a.outs, "alice");
    await steps.update(s, { exclusive: true, addresses: [{ address: X, expiresAt: due }, Y] });
    expect(kit.table()).toEqual([X, Y].sort());
  });

  it("control: with no per-entry grant declaring it, the due set entry is removed", async () => {
    setClock(() => T0);
    const s = await steps.create({ grantName: "team", addresses: [{ address: X, expiresAt: due }, Y] });
    resetProcessState();
    setClock(() => T0 + 2 * 3600_000);
    const r = await steps.update(s, { addresses: [{ address: X, expiresAt: due }, Y] });
    expect({ changes: r.changes, table: kit.table() }).toEqual({ changes: true, table: [Y] });
  });

  it("an exclusive set next to a per-entry grant of another address on the same alias keeps that address", async () => {
    const a = await entry("alice");
    const s = await steps.create({ grantName: "team", exclusive: true, addresses: [Y] });
    resetProcessState();
    await redeclare(a.outs, "alice");
    await steps.update(s, { exclusive: true, addresses: [Y, "198.51.100.23"] });
    expect(kit.table()).toEqual([X, Y, "198.51.100.23"].sort());
  });

  it("switching from the set back to a per-entry grant in one up keeps the address", async () => {
    const s: AliasSetOutputs = await steps.create({ grantName: "team", addresses: [X] });
    resetProcessState();
    await entry("alice"); // create (adopts)
    await setP.delete("id", s); // then the engine deletes the set
    expect(kit.table()).toEqual([X]);
  });

  it("deleting the per-entry grant keeps the address the set still lists", async () => {
    const a = await entry("alice");
    const s = await steps.create({ grantName: "team", addresses: [X] });
    resetProcessState();
    await steps.update(s, { addresses: [X] });
    await entryP.delete(a.id, a.outs as never);
    expect(kit.table()).toEqual([X]);
  });
});

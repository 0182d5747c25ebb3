/**
 * Red team (item 5): a FortiGate set entry lost by hand in several ways is `missing` (drift), `up` puts it back,
 * and the next drift check is clean.
 */
import { fortigateAddressSetProvider as fgt } from "../../provider/devices/fortigate/set-resource";
import { fortigateSetBase, useFortigateSetEmulator, type Raw } from "../sets/helpers";
const emu = useFortigateSetEmulator();
const base = () => fortigateSetBase(emu);
const members = () => emu.backend.groupMembers("root", "jit-admins", "ipv4").sort();
const read = async (s: Raw) => (await fgt.read("id", s as never)).props as unknown as Raw;
async function up(state: Raw, extra: Raw): Promise<{ changes: boolean; outs: Raw }> {
  const news = (await fgt.check(state, { ...base(), ...extra } as never)).inputs!;
  const d = await fgt.diff("id", state as never, news as never);
  return { changes: d.changes === true, outs: d.changes ? ((await fgt.update("id", state as never, news as never)).outs as unknown as Raw) : state };
}

describe.each([false, true])("red team: FortiGate set (exclusive %s), a listed entry lost", (exclusive) => {
  it.each([
    ["taken out of the group", (e: typeof emu) => e.backend.removeMember("root", "ipv4", "jit-admins", "grant-203.0.113.7")],
    [
      "taken out and its object deleted",
      (e: typeof emu) => {
        e.backend.removeMember("root", "ipv4", "jit-admins", "grant-203.0.113.7");
        e.backend.deleteAddress("root", "ipv4", "grant-203.0.113.7");
      },
    ],
  ])("%s: missing, up puts it back, then clean", async (_what, lose) => {
    const extra = { exclusive, addresses: ["203.0.113.7", "203.0.113.8"] };
    const r0 = await fgt.check({}, { ...base(), ...extra } as never);
    const s = (await fgt.create(r0.inputs as never)).outs as unknown as Raw;
    lose(emu);
    const r = await read(s);
    expect(r.missing).toEqual(["203.0.113.7"]);
    const u = await up(r, extra);
    expect(u.changes).toBe(true);
    expect(members()).toEqual(["grant-203.0.113.7", "grant-203.0.113.8"]);
    const again = await up(await read(u.outs), extra);
    expect(again.changes).toBe(false);
  });
});

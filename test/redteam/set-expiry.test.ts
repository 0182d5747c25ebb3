/**
 * Red team (item 5): `missing` (merged into set-lifecycle `read` today) also decides what an expiring set holds
 * (`holding` → `heldKeys`). A `missing` recorded by an earlier refresh must not make the revoking `up` (plain
 * `pulumi up`, no refresh: the engine diffs against state) believe the set holds nothing once the entry is back.
 */
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { opnsenseAliasSetProvider as provider, type AliasSetOutputs } from "../../provider/devices/opnsense/set-resource";
import { setClock } from "../../provider/core/time-box";
import { useEmulator } from "../support/emulator";
import { fastConfigTiming, USERS } from "../opnsense/helpers";
import { opnsenseSetKit } from "../sets/helpers";

const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));
fastConfigTiming();
const { setInputs, checked, table } = opnsenseSetKit(emu);

const T0 = Date.parse("2026-12-01T12:00:00Z");
const LATER = T0 + 2 * 3600_000;
const expiresAt = "2026-12-01T13:00:00Z";
afterEach(() => setClock(undefined));

describe.each([false, true])("red team: set expiry after a recorded `missing` (exclusive %s)", (exclusive) => {
  it("an entry refreshed as missing and then put back is revoked by the plain `up` after expiry", async () => {
    setClock(() => T0);
    const extra = { exclusive, addresses: ["198.51.100.1"], expiresAt };
    const s = (await provider.create(await checked(setInputs(extra)))).outs as AliasSetOutputs;
    emu.backend.removeAddress("jit_nets", "198.51.100.1");
    // `pulumi refresh` (before expiry): state records missing [198.51.100.1].
    const r = (await provider.read("id", s)).props as AliasSetOutputs;
    expect(r.missing).toEqual(["198.51.100.1"]);
    // Someone puts it back by hand (or the loss was transient); then the time passes.
    emu.backend.insertAddress("jit_nets", "198.51.100.1/32");
    setClock(() => LATER);
    // Plain `pulumi up`: diff against state, update when it says so.
    const news = await checked(setInputs({ ...extra, grantName: s.grantName }), r as never);
    const d = await provider.diff("id", r, news);
    if (d.changes) await provider.update("id", r, news);
    expect(table()).toEqual([]);
  });
});

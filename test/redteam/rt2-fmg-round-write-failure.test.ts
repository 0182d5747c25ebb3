/**
 * Red team (trusted-host rounds, cc854f9/9eaa6c9): the read that confirms grant A is now the read of the next
 * round on the administrator, which may also carry grant B's write. When B's write fails (a definite device
 * refusal, here a -9998 validation failure), the whole round rejected — A, whose slot the round's read had
 * just confirmed, failed too, and its slot stayed on the device, owned by no resource (a create that fails is
 * not in the state; nobody revokes it).
 * Fix: readAndWrite catches the write's failure and sets it on the write parts only; the confirmations get the
 * record their read returned.
 */
import { mustParseAddress } from "../../provider/core/address";
import { FortimanagerClient } from "../../provider/devices/fortimanager/client";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { closeFortimanagerSessions } from "../../provider/devices/fortimanager/session";
import { grantTrustedHost } from "../../provider/devices/fortimanager/trusted-hosts";
import { sleep } from "../../provider/core/transport";
import { useEmulator } from "../support/emulator";

const emu = useEmulator(() => startFortimanagerEmulator({ sysSessionForApiKeys: "answer" }));
afterAll(() => closeFortimanagerSessions());

const client = () => new FortimanagerClient({ url: emu.url, caCert: emu.caCert, token: DEFAULT_CREDENTIALS.apiKey, slotSettleMs: 1_000 });
const slots = () => emu.backend.admins.get("alice")!.slots as Record<string, unknown>;
const slotOf = (ip: string) => Object.keys(slots()).find((k) => /^trusthost\d+$/.test(k) && JSON.stringify(slots()[k]).includes(`"${ip}"`));
/** Synchronisation, not a timed assertion: until the emulator has answered `n` updates. */
async function updatesAnswered(n: number): Promise<void> {
  while (emu.log.entries().filter((e) => e.route?.startsWith("update")).length < n) await sleep(2);
}

describe("FortiManager round: a write refused in the round that confirms another grant", () => {
  it("the confirmed grant succeeds with its slot; only the refused grant fails", async () => {
    const c = client();
    const first = grantTrustedHost(c, "alice", mustParseAddress("10.71.0.1"));
    const firstSettled = first.then(
      (v) => ({ ok: true as const, v }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    await updatesAnswered(1);
    // The next update (the second grant's, in the round whose read confirms the first) is refused by the device.
    emu.backend.updateFailure = { code: -9998, message: "Invalid IP address" };
    const second = grantTrustedHost(c, "alice", mustParseAddress("10.71.0.2"));
    await expect(second).rejects.toThrow();
    emu.backend.updateFailure = undefined;
    const a = await firstSettled;
    const held = slotOf("10.71.0.1");
    expect(held).toBeDefined();
    // The device holds the first grant's address: the create that wrote it must report it.
    expect(a.ok ? a.v.slot : String(a.e)).toBe(held);
  });
});

/**
 * `FortimanagerTrustedHost` grants handed over as the engine does (8 at once, each followed by a
 * serialised checkpoint save): the grants that wait for a round on one administrator share its read and
 * ONE update carrying every chosen slot (trusted-hosts.ts `joinRound`), and the read that confirms a
 * round after its settle is the next round's read. Every grant still ends confirmed in its own slot,
 * nothing collides, and delete leaves every administrator as it was.
 */
import "../../provider/device-settings";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { DEFAULT_ADMINS } from "../../emulators/fortimanager/backend";
import { fortimanagerTrustedHostProvider as provider, type TrustedHostInputs, type TrustedHostOutputs } from "../../provider/devices/fortimanager/resource";
import { closeFortimanagerSessions } from "../../provider/devices/fortimanager/session";
import { useEmulator } from "../support/emulator";
import { enginePaced } from "../support/engine-pacing";

const ADMINS = 8;
const N = ADMINS * 9;
const admin = (k: number) => `burst${k}`;
const emu = useEmulator(() =>
  startFortimanagerEmulator({
    // The key's owner is learnt from /sys/session, as on a device that answers it (the default refuses: -11).
    sysSessionForApiKeys: "answer",
    latencyMs: 2,
    admins: [...DEFAULT_ADMINS, ...Array.from({ length: ADMINS }, (_, k) => ({ userid: admin(k), password: `pw-${k}`, profileid: "Restricted_User" }))],
  }),
);
afterAll(() => closeFortimanagerSessions());

const inputs = (i: number): TrustedHostInputs => ({
  connection: { url: emu.url, caCert: emu.caCert },
  credentials: { token: DEFAULT_CREDENTIALS.apiKey },
  adminUser: admin(Math.floor(i / 9)),
  address: `10.51.${i >> 8}.${(i & 255) + 1}`,
});

describe("FortiManager trusted hosts at engine pace", () => {
  it(`${N} grants on ${ADMINS} administrators: at most 1.2 requests per grant (shared rounds and confirming reads), every slot confirmed and distinct`, async () => {
    const before = Array.from({ length: ADMINS }, (_, k) => JSON.stringify(emu.backend.admins.get(admin(k))!.slots));
    const checked = await Promise.all(Array.from({ length: N }, async (_, i) => (await provider.check({}, inputs(i))).inputs!));
    emu.log.clear();
    const created = (await enginePaced(checked, (i) => provider.create(i))) as { id: string; outs: TrustedHostOutputs }[];
    const updates = emu.log.entries().filter((e) => e.route?.startsWith("update")).length;
    expect(updates).toBeGreaterThanOrEqual(ADMINS);
    expect(updates).toBeLessThan(N);
    process.stdout.write(`[fortimanager burst] ${N} grants: ${emu.log.count()} requests, ${updates} updates\n`);
    // Issue 22's target (was 148 requests for these 72 grants when every round had its own confirming read).
    expect(emu.log.count()).toBeLessThanOrEqual(1.2 * N);
    for (let k = 0; k < ADMINS; k++) {
      const mine = created.filter((c) => c.outs.adminUser === admin(k));
      expect(new Set(mine.map((c) => c.outs.slot)).size).toBe(9);
      const slots = emu.backend.admins.get(admin(k))!.slots as Record<string, unknown>;
      for (const c of mine) expect(JSON.stringify(slots[c.outs.slot])).toContain(c.outs.address);
    }
    await enginePaced(created, (c) => provider.delete(c.id, c.outs));
    expect(Array.from({ length: ADMINS }, (_, k) => JSON.stringify(emu.backend.admins.get(admin(k))!.slots))).toEqual(before);
  });
});

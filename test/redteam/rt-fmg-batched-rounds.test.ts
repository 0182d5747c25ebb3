/**
 * Red team (item 2, trusted-hosts.ts `batchedRound`): grants on one administrator share a round (one read, ONE
 * update carrying every chosen slot). One grant of the round with no slot left must fail alone (the others hold their
 * slots, the failed address is nowhere); two credentials on one administrator (two rounds, one queue) must not
 * overwrite each other's slots; an update whose answer is lost after it applied is settled by read-back.
 */
import "../../provider/device-settings";
import { DEFAULT_CREDENTIALS, IPV4_UNUSED, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { DEFAULT_ADMINS } from "../../emulators/fortimanager/backend";
import { isGrantError } from "../../provider/core/errors";
import { resetProcessState } from "../../provider/core/process-state";
import { fortimanagerTrustedHostProvider as provider, type TrustedHostInputs, type TrustedHostOutputs } from "../../provider/devices/fortimanager/resource";
import { closeFortimanagerSessions } from "../../provider/devices/fortimanager/session";
import { useEmulator } from "../support/emulator";

jest.setTimeout(60_000);
const emu = useEmulator(() =>
  startFortimanagerEmulator({
    sysSessionForApiKeys: "answer",
    admins: [
      ...DEFAULT_ADMINS,
      { userid: "carol", password: "carol-pw", profileid: "Restricted_User" },
      { userid: "dave", password: "dave-pw", profileid: "Restricted_User" },
    ],
  }),
);
afterAll(() => closeFortimanagerSessions());
afterEach(() => {
  emu.faults.clear();
  resetProcessState();
});

const byToken = (adminUser: string, address: string): TrustedHostInputs => ({
  connection: { url: emu.url, caCert: emu.caCert },
  credentials: { token: DEFAULT_CREDENTIALS.apiKey },
  adminUser,
  address,
});
const byPassword = (adminUser: string, address: string): TrustedHostInputs => ({
  connection: { url: emu.url, caCert: emu.caCert, username: "admin" },
  credentials: { password: DEFAULT_CREDENTIALS.adminPassword },
  adminUser,
  address,
});
const slotsOf = (admin: string) => emu.backend.admins.get(admin)!.slots as Record<string, unknown>;
const v4Holding = (admin: string) =>
  Object.entries(slotsOf(admin))
    .filter(([k, v]) => /^trusthost\d+$/.test(k) && Array.isArray(v) && v[0] !== IPV4_UNUSED[0])
    .map(([k, v]) => `${k}=${(v as string[])[0]}`)
    .sort();
async function grant(i: TrustedHostInputs): Promise<{ ok: TrustedHostOutputs } | { code: string }> {
  try {
    const c = await provider.check({}, i);
    return { ok: (await provider.create(c.inputs!)).outs };
  } catch (e) {
    return { code: isGrantError(e) ? e.code : String(e) };
  }
}

describe("red team: batched trusted-host rounds", () => {
  it("a round with one grant too many: the others hold their slots, the extra one fails 202052 and is nowhere", async () => {
    // Slots 2..8 taken by hand: two left.
    for (let n = 2; n <= 8; n++) slotsOf("carol")[`trusthost${n}`] = [`192.0.2.${n}`, "255.255.255.255"];
    const out = await Promise.all(["10.7.0.1", "10.7.0.2", "10.7.0.3"].map((a) => grant(byToken("carol", a))));
    const ok = out.filter((o): o is { ok: TrustedHostOutputs } => "ok" in o).map((o) => o.ok.address);
    const failed = out.filter((o): o is { code: string } => "code" in o).map((o) => o.code);
    const held = v4Holding("carol").filter((s) => s.includes("=10.7.0."));
    expect({ ok: ok.length, failed, held: held.length, heldAreOk: held.every((s) => ok.some((a) => s.endsWith(`=${a}`))) }).toEqual({
      ok: 2,
      failed: ["202052"],
      held: 2,
      heldAreOk: true,
    });
  });

  it("two credentials granting on one administrator at once: every grant confirmed in its own slot", async () => {
    const asks = [
      ...["10.8.0.1", "10.8.0.2", "10.8.0.3"].map((a) => byToken("dave", a)),
      ...["10.8.1.1", "10.8.1.2", "10.8.1.3"].map((a) => byPassword("dave", a)),
    ];
    const out = await Promise.all(asks.map(grant));
    const slots = out.map((o) => ("ok" in o ? o.ok.slot : o.code));
    expect(new Set(slots).size).toBe(6);
    expect(v4Holding("dave").filter((s) => s.includes("=10.8."))).toHaveLength(6);
    for (const o of out) if ("ok" in o) expect(JSON.stringify(slotsOf("dave")[o.ok.slot])).toContain(o.ok.address);
  });

  it("the batched update's answer lost after it applied: every grant of the round confirmed, no duplicate slot", async () => {
    const before = v4Holding("bob").length;
    // Session and preflight first: the create's first request is then the round's read, its second the update.
    const checked = await Promise.all(["10.9.0.1", "10.9.0.2"].map(async (a) => (await provider.check({}, byToken("bob", a))).inputs!));
    emu.log.clear();
    emu.faults.sequence("/jsonrpc", ["ok", { kind: "reset", phase: "after" }]);
    const out = await Promise.all(
      checked.map((i) =>
        provider.create(i).then(
          (r) => r.outs.slot,
          (e: unknown) => (isGrantError(e) ? e.code : String(e)),
        ),
      ),
    );
    expect(out.every((s) => /^trusthost\d+$/.test(s))).toBe(true);
    expect(v4Holding("bob").length - before).toBe(2);
    // The fault hit the batched update (not a read): the test proves the read-back path.
    expect(
      emu.log
        .entries()
        .filter((e) => e.fault !== undefined)
        .map((e) => e.route?.split(" ")[0]),
    ).toEqual(["update"]);
  });
});

/**
 * trusted-hosts.ts rounds: the read that confirms a round's slots (after its settle) is the next round's read on
 * that administrator, so a grant arriving while another settles writes on the read that confirms the other. The
 * proof is unchanged: the confirming read is sent after the settle, and a slot another writer took during the
 * settle is still seen and the grant goes on in another slot. Request counts, never times.
 */
import { randomUUID } from "node:crypto";
import { mustParseAddress } from "../../provider/core/address";
import { resetProcessState, setRunScopeForTests } from "../../provider/core/process-state";
import { fortimanagerTrustedHostProvider as provider } from "../../provider/devices/fortimanager/resource";
import { FortimanagerClient } from "../../provider/devices/fortimanager/client";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { closeFortimanagerSessions } from "../../provider/devices/fortimanager/session";
import { grantTrustedHost, revokeTrustedHost } from "../../provider/devices/fortimanager/trusted-hosts";
import { sleep } from "../../provider/core/transport";
import { useEmulator } from "../support/emulator";

const emu = useEmulator(() => startFortimanagerEmulator({ sysSessionForApiKeys: "answer" }));
afterAll(() => closeFortimanagerSessions());
afterEach(() => setRunScopeForTests(undefined));

// A long settle: the second grant surely arrives while the first one settles.
const client = () => new FortimanagerClient({ url: emu.url, caCert: emu.caCert, token: DEFAULT_CREDENTIALS.apiKey, slotSettleMs: 1_000 });
const slots = () => emu.backend.admins.get("alice")!.slots as Record<string, unknown>;
const slotOf = (ip: string) => Object.keys(slots()).find((k) => /^trusthost\d+$/.test(k) && JSON.stringify(slots()[k]).includes(`"${ip}"`));
const methods = () => emu.log.entries().map((e) => e.route?.split(" ")[0]);
/** Waits (synchronisation, not a timed assertion) until the emulator has answered `n` updates. */
async function updatesAnswered(n: number): Promise<void> {
  while (emu.log.entries().filter((e) => e.route?.startsWith("update")).length < n) await sleep(2);
}

describe("FortiManager rounds share the confirming read", () => {
  it("a grant arriving while another settles: 5 requests for the two (read, update, read that confirms one and bases the other, update, read)", async () => {
    const c = client();
    const first = grantTrustedHost(c, "alice", mustParseAddress("10.61.0.1"));
    await updatesAnswered(1);
    const second = grantTrustedHost(c, "alice", mustParseAddress("10.61.0.2"));
    const [a, b] = await Promise.all([first, second]);
    expect(methods()).toEqual(["get", "update", "get", "update", "get"]);
    expect(a.slot).not.toBe(b.slot);
    expect(slotOf("10.61.0.1")).toBe(a.slot);
    expect(slotOf("10.61.0.2")).toBe(b.slot);
    await revokeTrustedHost(c, "alice", mustParseAddress("10.61.0.1"));
    await revokeTrustedHost(c, "alice", mustParseAddress("10.61.0.2"));
  });

  it("another writer takes a slot during its settle: the shared read sees it, that writer keeps it, and the grant ends in another slot", async () => {
    const c = client();
    const first = grantTrustedHost(c, "alice", mustParseAddress("10.62.0.1"));
    await updatesAnswered(1);
    const taken = slotOf("10.62.0.1")!;
    // Another process writes the same free slot after our write (a lost update of ours).
    slots()[taken] = ["198.51.100.77", "255.255.255.255"];
    const second = grantTrustedHost(c, "alice", mustParseAddress("10.62.0.2"));
    const [a, b] = await Promise.all([first, second]);
    expect(a.slot).not.toBe(taken);
    expect(a.lostRounds).toBe(1);
    expect(JSON.stringify(slots()[taken])).toContain("198.51.100.77");
    expect(slotOf("10.62.0.1")).toBe(a.slot);
    expect(slotOf("10.62.0.2")).toBe(b.slot);
    expect(new Set([a.slot, b.slot, taken]).size).toBe(3);
  });
});

describe("FortiManager grant preflight", () => {
  it("runs once per CLI run: the update pass of a default up skips what its preview proved; another run probes again", async () => {
    const inputs = {
      connection: { url: emu.url, caCert: emu.caCert },
      credentials: { token: DEFAULT_CREDENTIALS.apiKey },
      adminUser: "alice",
      address: "10.63.0.1",
    };
    setRunScopeForTests(`cli-${randomUUID()}`);
    expect((await provider.check({}, inputs)).failures ?? []).toEqual([]);
    const preview = emu.log.count();
    // The update pass: a new provider process of the same CLI run.
    resetProcessState();
    emu.log.clear();
    expect((await provider.check({}, inputs)).failures ?? []).toEqual([]);
    const update = emu.log.count();
    setRunScopeForTests(`cli-${randomUUID()}`);
    resetProcessState();
    emu.log.clear();
    await provider.check({}, inputs);
    expect({ preview, update, nextRun: emu.log.count() }).toEqual({ preview, update: 0, nextRun: preview });
    expect(preview).toBeGreaterThan(0);
  });
});

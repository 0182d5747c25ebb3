/**
 * Issue 6, faults on FortiManager: 50 trusted-host grants over six administrators (at most 9 slots
 * each) on a flaky network leave exactly the declared slots; a lost update answer is read back; an
 * expired session is survived with one re-login, and every session is logged out in the end.
 */
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { IPV4_UNUSED, IPV6_UNUSED } from "../../emulators/fortimanager/emulator";
import { fortimanagerTrustedHostProvider as provider, type TrustedHostInputs } from "../../provider/devices/fortimanager/resource";
import { closeFortimanagerSessions } from "../../provider/devices/fortimanager/session";
import { useEmulator } from "../support/emulator";
import { appliedWrites, drainStalls, FAULT_TIMEOUT_MS, flakyNetwork, inParallel, summarize } from "../support/faults";

const ADMINS = ["g0", "g1", "g2", "g3", "g4", "g5"];
const N = 50;
// 50 grants over 6 admins: at most 9 per admin and family (slots 2..10), IPv6 every fifth.
const grants = Array.from({ length: N }, (_, i) => ({ adminUser: ADMINS[i % 6]!, address: i % 5 === 4 ? `2001:db8:8::${i + 1}` : `198.51.100.${i + 1}` }));

const emu = useEmulator(() => startFortimanagerEmulator({ sysSessionForApiKeys: "answer" }), {
  onReset: (e) => {
    for (const a of ADMINS) e.backend.seedAdmin({ userid: a, password: `${a}-pw`, profileid: "Restricted_User" });
  },
});

const token = (g: { adminUser: string; address: string }) =>
  ({
    connection: { url: emu.url, caCert: emu.caCert, timeoutMs: FAULT_TIMEOUT_MS },
    credentials: { token: DEFAULT_CREDENTIALS.apiKey },
    ...g,
  }) as TrustedHostInputs;
const session = (g: { adminUser: string; address: string }) =>
  ({
    connection: { url: emu.url, caCert: emu.caCert, username: "admin", timeoutMs: FAULT_TIMEOUT_MS },
    credentials: { password: DEFAULT_CREDENTIALS.adminPassword },
    ...g,
  }) as TrustedHostInputs;

/** Every address in slots 2..10 of `admin`, canonical (v4 as ip, v6 as addr/len). */
function granted(admin: string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(emu.backend.admins.get(admin)!.slots)) {
    const n = Number(/(\d+)$/.exec(k)![1]);
    if (n < 2) continue;
    if (Array.isArray(v) ? v[0] !== IPV4_UNUSED[0] : v !== IPV6_UNUSED) out.push(Array.isArray(v) ? v[0] : v.replace(/\/128$/, ""));
  }
  return out.sort();
}
const declared = (admin: string) =>
  grants
    .filter((g) => g.adminUser === admin)
    .map((g) => g.address)
    .sort();

describe("FortiManager on a flaky network", () => {
  it("50 parallel grants over six admins, then 50 deletes: exact slots, nothing duplicated", async () => {
    flakyNetwork(emu.faults, { seed: Number(process.env.FAULT_SEED ?? 81) });
    const created = await inParallel(grants, 10, async (g) => {
      const c = await provider.check!({} as TrustedHostInputs, token(g));
      expect(c.failures).toBeUndefined();
      return provider.create(c.inputs!);
    });
    await drainStalls();
    const createLog = summarize(emu.log.entries());
    for (const a of ADMINS) expect(granted(a)).toEqual(declared(a));
    expect(created.every((c) => c.outs!.adopted === false)).toBe(true);
    // Slot 1 (break-glass) untouched everywhere.
    for (const a of ADMINS) expect(emu.backend.admins.get(a)!.slots.trusthost1).toEqual(["0.0.0.0", "0.0.0.0"]);

    emu.log.clear();
    await inParallel(created, 10, (c) => provider.delete!(c.id, c.outs!));
    await drainStalls();
    const deleteLog = summarize(emu.log.entries());
    for (const a of ADMINS) expect(granted(a)).toEqual([]);
    console.log(
      `FortiManager, ${N} grants over ${ADMINS.length} admins under faults: create ${createLog.requests} requests (${createLog.faulted} faulted ${JSON.stringify(createLog.byFault)}, ${createLog.sideEffects} applied updates), ` +
        `delete ${deleteLog.requests} requests (${deleteLog.faulted} faulted ${JSON.stringify(deleteLog.byFault)}, ${deleteLog.sideEffects} applied updates)`,
    );
  });

  it("a tenth grant for one admin is refused with 202052 and leaves the nine slots as they were", async () => {
    const ten = Array.from({ length: 10 }, (_, i) => ({ adminUser: "g0", address: `203.0.113.${i + 1}` }));
    const results = await Promise.allSettled(ten.map((g) => provider.create(token(g))));
    const failed = results.filter((r) => r.status === "rejected");
    expect(failed).toHaveLength(1);
    expect((failed[0] as PromiseRejectedResult).reason.code).toBe("202052");
    expect(granted("g0")).toHaveLength(9);
  });

  it("an update applied whose answer is lost is read back, not written twice", async () => {
    emu.log.clear();
    emu.faults.sequence("/jsonrpc", ["ok", { kind: "reset", phase: "after" }]);
    const r = await provider.create(token({ adminUser: "g1", address: "203.0.113.50" }));
    expect(r.outs!.adopted).toBe(false);
    const updates = appliedWrites(emu.log, "update ");
    expect(updates).toHaveLength(1);
    expect(updates[0]!.status).toBe("reset");
    expect(granted("g1")).toEqual(["203.0.113.50"]);
  });
});

describe("FortiManager sessions", () => {
  it("session expiry mid-run: one re-login, and no session left open afterwards", async () => {
    const some = grants.slice(0, 24);
    let done = 0;
    const created = await inParallel(some, 6, async (g) => {
      const r = await provider.create(session(g));
      if (++done === 12) emu.backend.expireSessions(); // the manager drops every session mid-run
      return r;
    });
    expect(emu.backend.loginCount).toBe(2);
    for (const a of ADMINS)
      expect(granted(a)).toEqual(
        some
          .filter((g) => g.adminUser === a)
          .map((g) => g.address)
          .sort(),
      );
    await inParallel(created, 6, (c) => provider.delete!(c.id, c.outs!));
    for (const a of ADMINS) expect(granted(a)).toEqual([]);
    await closeFortimanagerSessions();
    expect(emu.backend.activeSessions).toBe(0);
    expect(emu.backend.logoutCount).toBeGreaterThanOrEqual(1);
  });

  it("a failing run still logs out: the session count goes back to zero", async () => {
    emu.faults.add({ match: "/jsonrpc", kind: "status", status: 503, probability: 0.3 });
    emu.faults.setSeed(5);
    await Promise.allSettled(grants.slice(0, 12).map((g) => provider.create(session(g))));
    emu.faults.clear();
    await closeFortimanagerSessions();
    expect(emu.backend.activeSessions).toBe(0);
  });
});

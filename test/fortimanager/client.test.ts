import { mustParseAddress } from "../../provider/core/address";
import { FortimanagerClient, type FortimanagerClientOptions } from "../../provider/devices/fortimanager/client";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { preflight } from "../../provider/devices/fortimanager/preflight";
import { closeFortimanagerSessions } from "../../provider/devices/fortimanager/session";
import { findTrustedHost, grantTrustedHost, revokeTrustedHost } from "../../provider/devices/fortimanager/trusted-hosts";
import { sleep } from "../../provider/core/transport";
import { grantErrorCode, useEmulator } from "../support/emulator";

const emu = useEmulator(() => startFortimanagerEmulator({ sysSessionForApiKeys: "answer" }));
const SECRETS = [DEFAULT_CREDENTIALS.apiKey, DEFAULT_CREDENTIALS.adminPassword, "readonly-pw", "custom-pw", "norpc-pw", "wrong-token-0000", "wrong-password"];
const messages: string[] = [];
const sessionIds = new Set<string>();

const client = (o: Partial<FortimanagerClientOptions>) => new FortimanagerClient({ url: emu.url, caCert: emu.caCert, ...o });
const token = (o: Partial<FortimanagerClientOptions> = {}) => client({ token: DEFAULT_CREDENTIALS.apiKey, ...o });
const session = (o: Partial<FortimanagerClientOptions> = {}) => client({ username: "admin", password: DEFAULT_CREDENTIALS.adminPassword, ...o });
const addr = (a: string) => mustParseAddress(a);

/** The diagnosis code a promise fails with ("ok" when it succeeds); records every message for the secret check. */
async function codeOf(p: Promise<unknown>): Promise<string> {
  const code = await grantErrorCode(p, { resolved: "ok", messages });
  if (code !== "ok") for (const sid of emu.backend.sessions.keys()) sessionIds.add(sid);
  return code;
}
const slots = (user: string) => emu.backend.admins.get(user)!.slots;

describe("FortiManager client: diagnoses reached for real", () => {
  it("202000 when the port refuses and when the name does not resolve", async () => {
    const closed = await startFortimanagerEmulator({ sysSessionForApiKeys: "answer" });
    const url = closed.url;
    await closed.close();
    expect(await codeOf(client({ url, token: "x-token-123" }).status())).toBe("202000");
    expect(await codeOf(client({ url: "https://fmg.invalid", token: "x-token-123", timeoutMs: 3000 }).status())).toBe("202000");
  });

  it("202001 for a wrong token (after one repeat and a /sys/status probe) and for a wrong password (-22)", async () => {
    expect(await codeOf(preflight(token({ token: "wrong-token-0000" }), "alice"))).toBe("202001");
    // the call, its one repeat, and /sys/session (with its repeat) telling a bad key from a valid key
    // without System Settings (reference §3a); bounded, never a loop
    expect(emu.log.count()).toBeLessThanOrEqual(4);
    expect(await codeOf(preflight(session({ password: "wrong-password" }), "alice"))).toBe("202001");
    expect(messages.at(-1)).toContain("-22");
  });

  it("202002 for a custom profile, naming Super_User, in both auth styles", async () => {
    expect(await codeOf(preflight(client({ username: "custom", password: "custom-pw" }), "alice"))).toBe("202002");
    expect(messages.at(-1)).toContain("Super_User");
    expect(await codeOf(preflight(client({ token: "customapikey0123456789abcdefghij" }), "alice"))).toBe("202002");
    expect(emu.log.sideEffects()).toHaveLength(0);
    await closeFortimanagerSessions(); // the live session refused with -11 was logged out, not leaked
    expect(emu.backend.activeSessions).toBe(0);
    expect(emu.backend.logoutCount).toBe(emu.backend.loginCount);
  });

  it("202002 for rpc-permit read, found by the preflight without any write", async () => {
    expect(await codeOf(preflight(client({ username: "readonly", password: "readonly-pw" }), "alice"))).toBe("202002");
    expect(messages.at(-1)).toContain("rpc-permit read");
    expect(emu.log.entries().every((e) => !String(e.route).startsWith("update"))).toBe(true);
    // and the write itself, if attempted, is diagnosed the same way
    expect(await codeOf(grantTrustedHost(client({ username: "readonly", password: "readonly-pw" }), "alice", addr("203.0.113.7")))).toBe("202002");
  });

  it("202002 when login answers -11 (rpc-permit none)", async () => {
    expect(await codeOf(client({ username: "norpc", password: "norpc-pw" }).status())).toBe("202002");
    expect(messages.at(-1)).toContain("rpc-permit");
  });

  it("202003 for an untrusted certificate", async () => {
    const bad = await startFortimanagerEmulator({ sysSessionForApiKeys: "answer", tls: "untrusted" });
    try {
      expect(await codeOf(client({ url: bad.url, token: DEFAULT_CREDENTIALS.apiKey }).status())).toBe("202003");
      expect(bad.log.count()).toBe(0);
    } finally {
      await bad.close();
    }
  });

  it("202004 when the manager hangs", async () => {
    emu.faults.add({ match: "/jsonrpc", kind: "hang", ms: 5000 });
    expect(await codeOf(token({ timeoutMs: 250 }).status())).toBe("202004");
  });

  it("202050 with the JSON-RPC code when the update is refused, 202062 when the workspace is locked", async () => {
    emu.backend.updateFailure = { code: -9998, message: "trusthost2 : invalid" };
    expect(await codeOf(grantTrustedHost(token(), "alice", addr("203.0.113.7")))).toBe("202050");
    expect(messages.at(-1)).toContain("-9998");
    emu.backend.updateFailure = undefined;
    emu.backend.workspaceLockedBy = "bob";
    expect(await codeOf(grantTrustedHost(token(), "alice", addr("203.0.113.7")))).toBe("202062");
  });

  it("202051 for an administrator that does not exist (ids are case-sensitive)", async () => {
    expect(await codeOf(preflight(token(), "Alice"))).toBe("202051");
    expect(await codeOf(grantTrustedHost(token(), "Alice", addr("203.0.113.7")))).toBe("202051");
  });

  it("202052 when slots 2..10 are full, without writing", async () => {
    const full = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`trusthost${i + 2}`, [`198.51.100.${i + 1}`, "255.255.255.255"]]));
    emu.backend.seedAdmin({ userid: "full", slots: full });
    expect(await codeOf(grantTrustedHost(token(), "full", addr("203.0.113.7")))).toBe("202052");
    expect(emu.log.sideEffects()).toHaveLength(0);
    expect(await codeOf(grantTrustedHost(token(), "full", addr("2001:db8::7")))).toBe("ok"); // IPv6 slots are separate
  });
});

describe("FortiManager client: grants", () => {
  it("preflight passes for Super_User in both styles, with few read-only requests", async () => {
    await preflight(token(), "alice");
    const tokenRequests = emu.log.count();
    emu.log.clear();
    await preflight(session(), "alice");
    const sessionRequests = emu.log.count();
    expect(emu.log.sideEffects()).toHaveLength(0);
    console.log(`preflight requests: token ${tokenRequests}, session ${sessionRequests} (incl. login)`);
    // token: status, /sys/session (the key's owner), the owner's record, the target; session: login, status, caller, target, logout
    expect(tokenRequests).toBeLessThanOrEqual(4);
    expect(sessionRequests).toBeLessThanOrEqual(5);
    emu.log.clear();
    await preflight(token(), "alice"); // cached by URL, credential, CA, insecure, username and target
    expect(emu.log.count()).toBe(0);
    await preflight(token(), "bob"); // the caller's verdict is cached; only the new target is looked up
    expect(emu.log.count()).toBe(1);
  });

  it("IPv4 via token: fills trusthost2 then trusthost3, never slot 1, adopts, and delete frees the slot", async () => {
    const c = token();
    expect(await grantTrustedHost(c, "alice", addr("203.0.113.7"))).toEqual({ slot: "trusthost2", adopted: false });
    const createRequests = emu.log.count();
    expect(await grantTrustedHost(c, "alice", addr("198.51.100.0/24"))).toEqual({ slot: "trusthost3", adopted: false });
    expect(slots("alice").trusthost1).toEqual(["0.0.0.0", "0.0.0.0"]);
    expect(slots("alice").trusthost3).toEqual(["198.51.100.0", "255.255.255.0"]);
    expect(await grantTrustedHost(c, "alice", addr("203.0.113.7/32"))).toEqual({ slot: "trusthost2", adopted: true });
    emu.log.clear();
    await revokeTrustedHost(c, "alice", addr("203.0.113.7"));
    const deleteRequests = emu.log.count();
    expect(slots("alice").trusthost2).toEqual(["255.255.255.255", "255.255.255.255"]);
    expect(slots("alice").trusthost3).toEqual(["198.51.100.0", "255.255.255.0"]);
    emu.log.clear();
    await revokeTrustedHost(c, "alice", addr("203.0.113.7")); // idempotent
    expect(emu.log.sideEffects()).toHaveLength(0);
    console.log(`token: create ${createRequests} requests, delete ${deleteRequests}, delete of a gone grant ${emu.log.count()}`);
    expect([createRequests, deleteRequests]).toEqual([3, 3]);
  });

  it("IPv6 via session: uses ipv6_trusthost2 and leaves ipv6_trusthost1 (::/0)", async () => {
    const c = session();
    expect(await grantTrustedHost(c, "bob", addr("2001:db8::7"))).toEqual({ slot: "ipv6_trusthost2", adopted: false });
    const first = emu.log.count();
    emu.log.clear();
    expect(await grantTrustedHost(c, "bob", addr("2001:db8:1::/48"))).toEqual({ slot: "ipv6_trusthost3", adopted: false });
    const second = emu.log.count();
    expect(slots("bob").ipv6_trusthost1).toBe("::/0");
    expect(slots("bob").ipv6_trusthost2).toBe("2001:db8::7/128");
    emu.log.clear();
    await revokeTrustedHost(c, "bob", addr("2001:db8::7"));
    const del = emu.log.count();
    expect(slots("bob").ipv6_trusthost2).toBe("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
    await closeFortimanagerSessions();
    console.log(
      `session: first create ${first} (incl. login), next create ${second}, delete ${del}; sessions open after shutdown: ${emu.backend.activeSessions}`,
    );
    expect([first, second, del]).toEqual([4, 3, 3]);
    expect(emu.backend.activeSessions).toBe(0);
  });

  it("an address held in slot 1 is adopted there and never written", async () => {
    emu.backend.seedAdmin({ userid: "carol", slots: { trusthost1: ["203.0.113.9", "255.255.255.255"] } });
    expect(await grantTrustedHost(token(), "carol", addr("203.0.113.9"))).toEqual({ slot: "trusthost1", adopted: true });
    await revokeTrustedHost(token(), "carol", addr("203.0.113.9"));
    expect(slots("carol").trusthost1).toEqual(["203.0.113.9", "255.255.255.255"]);
    expect(emu.log.sideEffects()).toHaveLength(0);
  });

  it("20 parallel grants on one admin: exactly 9 succeed in distinct slots, the rest 202052, nothing overwritten", async () => {
    const c = token();
    const started = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const ip = `192.0.2.${i + 1}`;
        let slot: string | undefined;
        const code = await codeOf(grantTrustedHost(c, "bob", addr(ip)).then((o) => (slot = o.slot)));
        return { ip, code, slot };
      }),
    );
    const ms = Date.now() - started;
    const ok = outcomes.filter((o) => o.code === "ok");
    expect(ok).toHaveLength(9);
    expect(outcomes.filter((o) => o.code === "202052")).toHaveLength(11);
    // Nothing overwritten: every success names a distinct slot that holds its own address now.
    expect(new Set(ok.map((o) => o.slot)).size).toBe(9);
    for (const o of ok) expect(slots("bob")[o.slot!]).toEqual([o.ip, "255.255.255.255"]);
    const held = Object.entries(slots("bob")).filter(([k, v]) => /^trusthost([2-9]|10)$/.test(k) && Array.isArray(v) && v[0] !== "255.255.255.255");
    expect(held).toHaveLength(9);
    expect(slots("bob").trusthost1).toEqual(["0.0.0.0", "0.0.0.0"]);
    const writes = emu.log.sideEffects();
    console.log(`20 parallel grants: ${emu.log.count()} requests, ${writes.length} writes, ${ms} ms`);
    // Grants waiting on one administrator may share one update (trusted-hosts.ts batchedRound), never more than one per slot.
    expect(writes.length).toBeGreaterThanOrEqual(1);
    expect(writes.length).toBeLessThanOrEqual(9);
    expect(writes.every((w) => w.route === "update /cli/global/system/admin/user/bob")).toBe(true);
    // Each write is confirmed by a read of the administrator sent after it was answered.
    const lastWriteSeq = Math.max(...writes.map((w) => w.seq));
    expect(emu.log.entries().some((e) => e.seq > lastWriteSeq && e.route === "get /cli/global/system/admin/user/bob")).toBe(true);
  });

  it("a reset after the update was applied is settled by a read-back, not a second write", async () => {
    emu.faults.sequence("/jsonrpc", ["ok", { kind: "reset", phase: "after" }]);
    expect(await grantTrustedHost(token(), "alice", addr("203.0.113.7"))).toEqual({ slot: "trusthost2", adopted: false });
    expect(emu.log.sideEffects()).toHaveLength(1);
    expect(Object.values(slots("alice")).filter((v) => Array.isArray(v) && v[0] === "203.0.113.7")).toHaveLength(1);
  });

  it("drift: a slot reset by hand is seen as gone; a moved address is found in its new slot", async () => {
    const c = token();
    await grantTrustedHost(c, "alice", addr("203.0.113.7"));
    expect(await findTrustedHost(c, "alice", addr("203.0.113.7"), "trusthost2")).toBe("trusthost2");
    slots("alice").trusthost5 = slots("alice").trusthost2!;
    slots("alice").trusthost2 = ["255.255.255.255", "255.255.255.255"];
    expect(await findTrustedHost(c, "alice", addr("203.0.113.7"), "trusthost2")).toBe("trusthost5");
    slots("alice").trusthost5 = ["255.255.255.255", "255.255.255.255"];
    expect(await findTrustedHost(c, "alice", addr("203.0.113.7"), "trusthost2")).toBeUndefined();
  });

  it("survives a session expiry mid-run with exactly one fresh login", async () => {
    const c = session();
    await grantTrustedHost(c, "alice", addr("203.0.113.7"));
    emu.backend.expireSessions();
    // Three calls meet the expired session at once (status, and two reads that do not wait for a grant round).
    await Promise.all([
      grantTrustedHost(c, "alice", addr("203.0.113.8")),
      grantTrustedHost(c, "bob", addr("203.0.113.8")),
      c.status(),
      c.readAdmin("alice"),
      c.readAdmin("bob"),
    ]);
    expect(emu.backend.loginCount).toBe(2);
    expect(slots("alice").trusthost3).toEqual(["203.0.113.8", "255.255.255.255"]);
  });

  it("operations: N parallel ones share one login, and the session is gone as soon as the last resolved", async () => {
    const c = session({ sessionIdleMs: 60_000 }); // the idle fallback cannot be what logs out here
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => c.operation((cl) => grantTrustedHost(cl, i % 2 ? "alice" : "bob", addr(`192.0.2.${i + 1}`)))),
    );
    expect(results.map((r) => r.adopted)).toEqual([false, false, false, false, false, false]);
    expect({ active: emu.backend.activeSessions, logins: emu.backend.loginCount, logouts: emu.backend.logoutCount }).toEqual({
      active: 0,
      logins: 1,
      logouts: 1,
    });
    // Operations that overlap only partly still share it: the second starts before the first ends.
    emu.backend.loginCount = emu.backend.logoutCount = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = c.operation(async (cl) => {
      await cl.status();
      await gate;
    });
    const second = c.operation((cl) => cl.readAdmin("alice"));
    await second;
    expect(emu.backend.activeSessions).toBe(1); // `first` is still in flight
    release();
    await first;
    expect({ active: emu.backend.activeSessions, logins: emu.backend.loginCount, logouts: emu.backend.logoutCount }).toEqual({
      active: 0,
      logins: 1,
      logouts: 1,
    });
  });

  it("operations: one starting while the last logout is in flight logs in afresh (never reuses the sid being logged out)", async () => {
    const c = session({ sessionIdleMs: 60_000 });
    emu.faults.sequence("/jsonrpc", ["ok", "ok", { kind: "latency", ms: 300 }]); // login, status, then a slow logout
    let aDone = false;
    const a = c.operation((cl) => cl.status()).then(() => (aDone = true));
    await sleep(100);
    expect(aDone).toBe(false); // `a` is still awaiting its logout
    const b = await c.operation((cl) => cl.readAdmin("alice"));
    expect(b.userid).toBe("alice");
    await a;
    // a: login, status, logout; b: login (after a's logout), read, logout. A reused sid would add a -11, a repeat and a re-login.
    expect(emu.log.count()).toBe(6);
    expect([emu.backend.loginCount, emu.backend.logoutCount, emu.backend.activeSessions]).toEqual([2, 2, 0]);
    // Token auth: an operation is just the call; nothing to log out.
    emu.log.clear();
    await token().operation((cl) => cl.status());
    expect(emu.log.count()).toBe(1);
  });

  it("operations: an expired session inside an operation gets one fresh login, and both are logged out", async () => {
    const c = session({ sessionIdleMs: 60_000 });
    await c.operation(async (cl) => {
      await cl.status();
      emu.backend.expireSessions();
      await cl.readAdmin("alice");
    });
    expect([emu.backend.loginCount, emu.backend.activeSessions]).toEqual([2, 0]);
  });

  it("logs the session out after the idle period and on explicit shutdown", async () => {
    // idle longer than the grant's settle interval (trusted-hosts.ts), which it spends without a call
    const c = session({ sessionIdleMs: 600 });
    await grantTrustedHost(c, "alice", addr("203.0.113.7"));
    expect(emu.backend.activeSessions).toBe(1);
    await sleep(1200);
    expect(emu.backend.activeSessions).toBe(0);
    expect(emu.backend.logoutCount).toBe(1);
    await c.status(); // a new use logs in again
    expect(emu.backend.activeSessions).toBe(1);
    await closeFortimanagerSessions();
    expect(emu.backend.activeSessions).toBe(0);
  });

  it("no token, password or session id appears in any message or URL", () => {
    expect(messages.length).toBeGreaterThan(10);
    for (const m of messages) {
      for (const s of [...SECRETS, ...sessionIds]) expect(m).not.toContain(s);
    }
    for (const e of emu.log.entries()) expect(`${e.path}?${e.query}`).not.toMatch(/token|passwd|session/i);
  });
});

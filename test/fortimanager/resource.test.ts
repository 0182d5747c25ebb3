import { configureFromStack, UNKNOWN } from "../../provider/core/dynamic-kit";
// The package root loads the registry's data half, which hands the core the stack-config keys; this test imports deeper.
import "../../provider/device-settings";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { fortimanagerTrustedHostProvider as provider, type TrustedHostInputs, type TrustedHostOutputs } from "../../provider/devices/fortimanager/resource";
import { closeFortimanagerSessions } from "../../provider/devices/fortimanager/session";
import { grantErrorCode, useEmulator } from "../support/emulator";

const emu = useEmulator(() => startFortimanagerEmulator({ sysSessionForApiKeys: "answer" }), {
  onReset: () => {
    delete process.env.FORTIMANAGER_URL;
    delete process.env.FORTIMANAGER_TOKEN;
  },
});

const tokenInputs = (o: Partial<TrustedHostInputs> = {}): TrustedHostInputs => ({
  connection: { url: emu.url, caCert: emu.caCert },
  credentials: { token: DEFAULT_CREDENTIALS.apiKey },
  adminUser: "alice",
  address: "203.0.113.7",
  ...o,
});
const sessionInputs = (o: Partial<TrustedHostInputs> = {}): TrustedHostInputs => ({
  ...tokenInputs(o),
  connection: { url: emu.url, caCert: emu.caCert, username: "admin" },
  credentials: { password: DEFAULT_CREDENTIALS.adminPassword },
});
const slots = (user: string) => emu.backend.admins.get(user)!.slots;
const codeOf = (p: Promise<unknown>) => grantErrorCode(p, { resolved: "ok" });

describe("FortimanagerTrustedHost provider: check", () => {
  it('a read-only API key fails preview (202002), and passes with the preflight setting "read"', async () => {
    const RO = "readonlyapikey0123456789abcdefgh";
    emu.backend.seedAdmin({ userid: "roapi", userType: "api", apiKey: RO, profileid: "Super_User", rpcPermit: "read" });
    const ro = tokenInputs({ credentials: { token: RO } });
    expect(await codeOf(provider.check({}, ro))).toBe("202002");
    process.env.FORTIMANAGER_PREFLIGHT = "read";
    try {
      expect((await provider.check({}, ro)).failures ?? []).toEqual([]);
    } finally {
      delete process.env.FORTIMANAGER_PREFLIGHT;
    }
    expect(emu.log.sideEffects()).toHaveLength(0);
  });

  it("accepts good inputs, runs the preflight once, and has no config side effect (preview-safe)", async () => {
    const r = await provider.check!({} as TrustedHostInputs, { ...tokenInputs(), __provider: "x" } as TrustedHostInputs);
    expect(r.failures).toBeUndefined();
    expect(r.inputs).toMatchObject({ adminUser: "alice", address: "203.0.113.7" });
    expect(r.inputs).not.toHaveProperty("__provider");
    const preflight = emu.log.count();
    for (let i = 0; i < 5; i++) await provider.check!({} as TrustedHostInputs, sessionInputs({ address: `198.51.100.${i + 1}` }));
    await provider.check!({} as TrustedHostInputs, tokenInputs({ adminUser: "bob" }));
    expect(emu.log.sideEffects()).toHaveLength(0);
    console.log(`check: token preflight ${preflight} requests; 5 session checks + 1 new admin: ${emu.log.count() - preflight}`);
    // Session: the first check logs in, reads and logs out before returning; the 4 cached ones send nothing at all.
    expect([emu.backend.loginCount, emu.backend.logoutCount, emu.backend.activeSessions]).toEqual([1, 1, 0]);
    expect(emu.log.count() - preflight).toBe(6); // login, status, alice, caller, logout + bob (token)
  });

  it.each([
    ["address", { address: "203.0.113.7\n" }],
    ["address", { address: "203.0.113.7,10.0.0.1" }],
    ["address", { address: "203.0.113.7 " }],
    ["address", { address: "0.0.0.0/0" }],
    ["address", { address: "fe80::1%eth0" }],
    ["address", { address: "010.0.0.1" }],
    ["address", { address: "10.0.0.1/24" }],
    ["address", { address: "::ffff:10.0.0.1" }],
    ["address", { address: "" }],
    ["adminUser", { adminUser: "alice/../admin" }],
    ["adminUser", { adminUser: "al ice" }],
    ["adminUser", { adminUser: "alice\n" }],
    ["adminUser", { adminUser: 'al"ice' }],
    ["adminUser", { adminUser: "" }],
    ["adminUser", { adminUser: "a".repeat(65) }],
    ["connection.url", { connection: { url: "http://fmg.example.net" } }],
    ["connection.timeoutMs", { connection: { url: "https://fmg.example.net", timeoutMs: -1 } }],
  ] as const)("refuses hostile %s %j at check with no request", async (property, patch) => {
    const r = await provider.check!({} as TrustedHostInputs, tokenInputs(patch as Partial<TrustedHostInputs>));
    expect(r.failures?.map((f) => f.property)).toContain(property);
    expect(emu.log.count()).toBe(0);
  });

  it("never names a secret field, and asks for credentials without printing them", async () => {
    const bad = await provider.check!({} as TrustedHostInputs, tokenInputs({ credentials: { token: 42 } as never }));
    expect(bad.failures?.[0]?.property).toBe("");
    const none = await provider.check!({} as TrustedHostInputs, tokenInputs({ credentials: {} }));
    expect(none.failures).toEqual([{ property: "", reason: expect.stringContaining("credentials are required") }]);
    expect(emu.log.count()).toBe(0);
  });

  it("allows /0 only with allowBroad, and skips unknown values without any request", async () => {
    expect((await provider.check!({} as TrustedHostInputs, tokenInputs({ address: "0.0.0.0/0", allowBroad: true }))).failures).toBeUndefined();
    emu.log.clear();
    const r = await provider.check!({} as TrustedHostInputs, tokenInputs({ adminUser: UNKNOWN, address: UNKNOWN }));
    expect(r.failures).toBeUndefined();
    expect(emu.log.count()).toBe(0);
  });

  it("preview fails with the diagnosis for a wrong token and a custom profile", async () => {
    expect(await codeOf(provider.check!({} as TrustedHostInputs, tokenInputs({ credentials: { token: "wrong-token-0000" } })))).toBe("202001");
    const custom = { connection: { url: emu.url, caCert: emu.caCert, username: "custom" }, credentials: { password: "custom-pw" } };
    expect(await codeOf(provider.check!({} as TrustedHostInputs, tokenInputs(custom)))).toBe("202002");
    expect(await codeOf(provider.check!({} as TrustedHostInputs, tokenInputs({ adminUser: "nobody" })))).toBe("202051");
    expect(emu.log.sideEffects()).toHaveLength(0);
  });

  it("reads the connection from stack config and the environment", async () => {
    await configureFromStack({ config: { get: (k: string) => ({ "fortimanager:caCert": emu.caCert, "fortimanager:token": DEFAULT_CREDENTIALS.apiKey })[k] } });
    process.env.FORTIMANAGER_URL = emu.url;
    const inputs = { adminUser: "alice", address: "203.0.113.7" } as TrustedHostInputs;
    expect((await provider.check!({} as TrustedHostInputs, inputs)).failures).toBeUndefined();
    const created = await provider.create(inputs);
    expect(created.outs?.slot).toBe("trusthost2");
    expect(JSON.stringify(created.outs)).not.toContain(DEFAULT_CREDENTIALS.apiKey);
  });
});

describe("FortimanagerTrustedHost provider: lifecycle", () => {
  it.each([
    ["token", tokenInputs],
    ["session", sessionInputs],
  ] as const)("create/read/delete with %s auth, IPv4 and IPv6", async (_style, inputs) => {
    const v4 = await provider.create(inputs({ address: "203.0.113.7/32" }));
    expect(v4.id).toBe("alice:203.0.113.7/32");
    expect(v4.outs).toMatchObject({ address: "203.0.113.7", cidr: "203.0.113.7/32", family: "ipv4", slot: "trusthost2", adopted: false });
    const v6 = await provider.create(inputs({ address: "2001:DB8::7" }));
    expect(v6.outs).toMatchObject({ address: "2001:db8::7", family: "ipv6", slot: "ipv6_trusthost2" });
    expect((await provider.read!(v4.id, v4.outs)).id).toBe(v4.id);
    await provider.delete!(v4.id, v4.outs!);
    await provider.delete!(v4.id, v4.outs!);
    await provider.delete!(v6.id, v6.outs!);
    expect(slots("alice").trusthost2).toEqual(["255.255.255.255", "255.255.255.255"]);
    expect(slots("alice").trusthost1).toEqual(["0.0.0.0", "0.0.0.0"]);
    expect(slots("alice").ipv6_trusthost1).toBe("::/0");
    await closeFortimanagerSessions();
    expect(emu.backend.activeSessions).toBe(0);
  });

  it("adopts an address already present and revokes it on delete all the same; refresh drops a grant removed by hand (drift)", async () => {
    emu.backend.seedAdmin({ userid: "dave", slots: { trusthost4: ["203.0.113.7", "255.255.255.255"] } });
    const r = await provider.create(tokenInputs({ adminUser: "dave" }));
    expect(r.outs).toMatchObject({ slot: "trusthost4", adopted: true });
    await provider.delete!(r.id, r.outs!); // delete revokes, adopted or not (SPEC §3)
    expect(slots("dave").trusthost4).toEqual(["255.255.255.255", "255.255.255.255"]);
    slots("dave").trusthost4 = ["203.0.113.7", "255.255.255.255"];
    expect((await provider.read!(r.id, r.outs)).id).toBe(r.id);
    slots("dave").trusthost4 = ["255.255.255.255", "255.255.255.255"];
    const refreshed = await provider.read!(r.id, r.outs);
    expect(refreshed.id).toBeUndefined();
  });

  it("diff: a cosmetic address rewrite is no change; another address or admin replaces", async () => {
    const olds = (await provider.create(tokenInputs())).outs as TrustedHostOutputs;
    expect(await provider.diff!("x", olds, tokenInputs({ address: "203.0.113.7/32" }))).toMatchObject({ changes: false, replaces: [] });
    expect((await provider.diff!("x", olds, tokenInputs({ address: "203.0.113.8" }))).replaces).toEqual(["address"]);
    expect((await provider.diff!("x", olds, tokenInputs({ adminUser: "bob" }))).replaces).toEqual(["adminUser"]);
    expect((await provider.diff!("x", olds, tokenInputs({ address: UNKNOWN }))).changes).toBe(true);
  });

  it("20 parallel creates on one admin through the provider (session auth): 9 succeed, 11 get 202052", async () => {
    const started = Date.now();
    const codes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => codeOf(provider.create(sessionInputs({ adminUser: "bob", address: `192.0.2.${i + 1}` })))),
    );
    const ms = Date.now() - started;
    expect(codes.filter((c) => c === "ok")).toHaveLength(9);
    expect(codes.filter((c) => c === "202052")).toHaveLength(11);
    // Overlapping operations shared one login, and the last create to resolve had already logged it out:
    // no idle timer (1.5 s by default) was waited for.
    const right = { active: emu.backend.activeSessions, logins: emu.backend.loginCount, logouts: emu.backend.logoutCount };
    console.log(
      `provider, session, 20 parallel: ${emu.log.count()} requests (1 login, 1 logout), ${emu.log.sideEffects().length} writes, ${ms} ms; sessions as soon as the last create resolved: ${JSON.stringify(right)}`,
    );
    expect(right).toEqual({ active: 0, logins: 1, logouts: 1 });
    expect(ms).toBeLessThan(1_500);
  });

  it("session auth: every operation that leaves none in flight logs out before it returns (requests per grant)", async () => {
    const counts: Record<string, number> = {};
    const step = async <T>(name: string, p: () => Promise<T>): Promise<T> => {
      emu.log.clear();
      const r = await p();
      counts[name] = emu.log.count();
      expect({ name, active: emu.backend.activeSessions }).toEqual({ name, active: 0 });
      return r;
    };
    await step("check", () => provider.check!({} as TrustedHostInputs, sessionInputs()));
    await step("check (cached)", () => provider.check!({} as TrustedHostInputs, sessionInputs({ address: "203.0.113.8" })));
    const created = await step("create", () => provider.create(sessionInputs()));
    await step("create (2nd)", () => provider.create(sessionInputs({ address: "203.0.113.8" })));
    await step("read", () => provider.read!(created.id, created.outs));
    await step("delete", () => provider.delete!(created.id, created.outs!));
    await step("delete (gone)", () => provider.delete!(created.id, created.outs!));
    console.log(`session auth, sequential operations, requests each (incl. login + logout): ${JSON.stringify(counts)}`);
    expect(counts).toEqual({ check: 5, "check (cached)": 0, create: 5, "create (2nd)": 5, read: 3, delete: 5, "delete (gone)": 3 });
    expect(emu.backend.loginCount).toBe(emu.backend.logoutCount);
  });

  it("session auth: a failing operation logs out too", async () => {
    expect(await codeOf(provider.create(sessionInputs({ adminUser: "nobody" })))).toBe("202051");
    expect([emu.backend.loginCount, emu.backend.logoutCount, emu.backend.activeSessions]).toEqual([1, 1, 0]);
  });
});

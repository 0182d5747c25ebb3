/**
 * Issue 10 (FortiManager) and issue 9 items 3/8: the preflight judges the administrator that owns
 * the API key (learnt from /sys/session, never "some visible admin"), tells a valid key without
 * System Settings (202002) from a bad key (202001), caches verdicts by everything that changes them,
 * revoke removes what a grant declares even when it was there before, and a captive portal or a
 * 404-everything server is never taken as success.
 */
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { mustParseAddress } from "../../provider/core/address";
import { testdataFile } from "../../emulators/kit";
import { FortimanagerClient, type FortimanagerClientOptions } from "../../provider/devices/fortimanager/client";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { preflight } from "../../provider/devices/fortimanager/preflight";
import { grantTrustedHost, revokeTrustedHost } from "../../provider/devices/fortimanager/trusted-hosts";
import { grantErrorCode, useEmulator } from "../support/emulator";

const emu = useEmulator(() => startFortimanagerEmulator({ sysSessionForApiKeys: "answer" }));
const RO_KEY = "readonlyapikey0123456789abcdefgh";
const NOSYS_KEY = "nosysapikey0123456789abcdefghijk";
const SECRETS = [DEFAULT_CREDENTIALS.apiKey, RO_KEY, NOSYS_KEY, DEFAULT_CREDENTIALS.adminPassword];
const messages: string[] = [];
const client = (o: Partial<FortimanagerClientOptions>) => new FortimanagerClient({ url: emu.url, caCert: emu.caCert, ...o });
const codeOf = (p: Promise<unknown>) => grantErrorCode(p, { resolved: "ok", messages });
const addr = mustParseAddress;

beforeEach(() => {
  // A read-only API key with the Super_User profile, and a key whose profile lacks System Settings.
  emu.backend.seedAdmin({ userid: "roapi", userType: "api", apiKey: RO_KEY, profileid: "Super_User", rpcPermit: "read" });
  emu.backend.seedAdmin({ userid: "nosysapi", userType: "api", apiKey: NOSYS_KEY, profileid: "Restricted_User" });
});

afterAll(() => {
  for (const m of messages) for (const s of SECRETS) expect(m).not.toContain(s);
});

describe("FortiManager preflight: the API key's owner is judged", () => {
  it("a read-only key without username is refused (202002) although a writable API admin is visible, with no write", async () => {
    expect(await codeOf(preflight(client({ token: RO_KEY }), "alice"))).toBe("202002");
    expect(messages.at(-1)).toContain('"roapi"');
    expect(messages.at(-1)).toContain("rpc-permit read");
    expect(emu.log.sideEffects()).toHaveLength(0);
    expect(emu.log.entries().some((e) => e.route === "get /sys/session")).toBe(true);
  });

  it("the writable key passes, naming nobody else", async () => {
    await expect(preflight(client({ token: DEFAULT_CREDENTIALS.apiKey }), "alice")).resolves.toEqual({ caller: "apiadmin", callerVerified: true });
  });

  it("a username that is not the key's owner is an error naming both, not another verdict", async () => {
    // "admin" is a writable Super_User: judging it instead of the key's owner would pass.
    expect(await codeOf(preflight(client({ token: RO_KEY, username: "admin" }), "alice"))).toBe("202006");
    expect(messages.at(-1)).toMatch(/belongs to administrator "roapi".*names "admin"/);
    await expect(preflight(client({ token: RO_KEY, username: "roapi" }), "alice")).rejects.toMatchObject({ code: "202002" });
  });

  it("a valid key whose profile lacks System Settings is 202002 (authorization), a bad key 202001", async () => {
    expect(await codeOf(preflight(client({ token: NOSYS_KEY }), "alice"))).toBe("202002");
    expect(messages.at(-1)).toContain("System Settings");
    expect(messages.at(-1)).toContain('"nosysapi"');
    expect(await codeOf(client({ token: NOSYS_KEY }).status())).toBe("202002");
    expect(await codeOf(client({ token: "wrongapikey0123456789abcdefghijk" }).status())).toBe("202001");
    expect(messages.at(-1)).toContain("System Settings"); // says both causes
  });

  it("a session whose login succeeded is never 202001 on /sys/status", async () => {
    emu.backend.seedAdmin({ userid: "nosys", password: "nosys-pw", profileid: "Restricted_User" });
    expect(await codeOf(client({ username: "nosys", password: "nosys-pw" }).status())).toBe("202002");
    expect(messages.at(-1)).toContain("System Settings");
  });
});

describe("FortiManager preflight: when the owner cannot be learnt", () => {
  const blind = useEmulator(() => startFortimanagerEmulator({ sysSessionForApiKeys: "no-permission" }));
  const on = (o: Partial<FortimanagerClientOptions>) => new FortimanagerClient({ url: blind.url, caCert: blind.caCert, ...o });

  it("fails closed without a username (202002 naming connection.username), judges the named one otherwise", async () => {
    expect(await codeOf(preflight(on({ token: DEFAULT_CREDENTIALS.apiKey }), "alice"))).toBe("202002");
    expect(messages.at(-1)).toContain("username");
    await expect(preflight(on({ token: DEFAULT_CREDENTIALS.apiKey, username: "apiadmin" }), "alice")).resolves.toMatchObject({
      caller: "apiadmin",
      callerVerified: false,
    });
    expect(blind.log.sideEffects()).toHaveLength(0);
  });
});

describe("FortiManager preflight cache", () => {
  it("is keyed by username, credential and target: one user's verdict is never reused for another", async () => {
    await expect(preflight(client({ username: "admin", password: DEFAULT_CREDENTIALS.adminPassword }), "alice")).resolves.toBeDefined();
    expect(await codeOf(preflight(client({ username: "readonly", password: "readonly-pw" }), "alice"))).toBe("202002");
    expect(await codeOf(preflight(client({ token: RO_KEY }), "alice"))).toBe("202002");
    expect(await codeOf(preflight(client({ token: DEFAULT_CREDENTIALS.apiKey }), "nobody"))).toBe("202051");
    expect(await codeOf(preflight(client({ token: DEFAULT_CREDENTIALS.apiKey }), "alice"))).toBe("ok");
  });

  it("a TLS failure is not remembered once the right CA is given (nor a refused connection)", async () => {
    expect(await codeOf(preflight(client({ token: DEFAULT_CREDENTIALS.apiKey, caCert: undefined }), "alice"))).toBe("202003");
    expect(await codeOf(preflight(client({ token: DEFAULT_CREDENTIALS.apiKey }), "alice"))).toBe("ok");
    // same settings twice: a transport failure is probed again, not cached
    emu.faults.add({ match: "/jsonrpc", kind: "status", status: 502, times: 12 });
    const c = () => client({ token: DEFAULT_CREDENTIALS.apiKey, username: "apiadmin" });
    expect(await codeOf(preflight(c(), "bob"))).toBe("202090");
    emu.faults.clear();
    expect(await codeOf(preflight(c(), "bob"))).toBe("ok");
  });
});

describe("FortiManager revoke", () => {
  it("removes the slot holding the address even when it was there before the grant; slot 1 untouched; idempotent", async () => {
    emu.backend.seedAdmin({ userid: "dora", slots: { trusthost6: ["203.0.113.50", "255.255.255.255"], trusthost1: ["0.0.0.0", "0.0.0.0"] } });
    const c = client({ token: DEFAULT_CREDENTIALS.apiKey });
    expect(await grantTrustedHost(c, "dora", addr("203.0.113.50"))).toEqual({ slot: "trusthost6", adopted: true });
    expect(await revokeTrustedHost(c, "dora", addr("203.0.113.50"))).toEqual({ cleared: ["trusthost6"], remainsInSlot1: false });
    const after = emu.backend.admins.get("dora")!.slots;
    expect(after.trusthost6).toEqual(["255.255.255.255", "255.255.255.255"]);
    expect(after.trusthost1).toEqual(["0.0.0.0", "0.0.0.0"]);
    const writes = emu.log.sideEffects().length;
    expect(await revokeTrustedHost(c, "dora", addr("203.0.113.50"))).toEqual({ cleared: [], remainsInSlot1: false });
    expect(emu.log.sideEffects()).toHaveLength(writes);
  });

  it("an address in slot 1 is never written and is reported as remaining there", async () => {
    emu.backend.seedAdmin({ userid: "erin", slots: { trusthost1: ["203.0.113.9", "255.255.255.255"] } });
    expect(await revokeTrustedHost(client({ token: DEFAULT_CREDENTIALS.apiKey }), "erin", addr("203.0.113.9"))).toEqual({ cleared: [], remainsInSlot1: true });
    expect(emu.log.sideEffects()).toHaveLength(0);
  });
});

describe("FortiManager: only a parsed JSON-RPC status is success", () => {
  let server: Server;
  let url = "";
  let mode: "portal" | "404" | "404-json-ok" | "wrong-id" | "two-results" = "portal";
  beforeAll(async () => {
    server = createServer({ cert: testdataFile("server.crt"), key: testdataFile("server.key") }, (req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        const id = (() => {
          try {
            return (JSON.parse(body) as { id?: unknown }).id;
          } catch {
            return null;
          }
        })();
        const ok = { status: { code: 0, message: "OK" }, url: "/cli/global/system/admin/user/alice", data: { userid: "alice" } };
        if (mode === "portal")
          return void res.writeHead(200, { "content-type": "text/html" }).end("<html><body>Please log in to the guest network</body></html>");
        if (mode === "404") return void res.writeHead(404, { "content-type": "text/html" }).end("<h1>Not Found</h1>");
        if (mode === "404-json-ok") return void res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ id, result: [ok] }));
        if (mode === "wrong-id") return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id: 999999, result: [ok] }));
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id, result: [ok, ok] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it.each(["portal", "404", "404-json-ok", "wrong-id", "two-results"] as const)("%s: preflight, grant and revoke all fail loudly", async (m) => {
    mode = m;
    const c = new FortimanagerClient({ url, caCert: emu.caCert, token: DEFAULT_CREDENTIALS.apiKey, timeoutMs: 2000 });
    expect(await codeOf(preflight(c, "alice"))).toBe("202090");
    expect(await codeOf(grantTrustedHost(c, "alice", addr("203.0.113.7")))).toBe("202090");
    expect(await codeOf(revokeTrustedHost(c, "alice", addr("203.0.113.7")))).toBe("202090");
  });
});

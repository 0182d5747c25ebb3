import { createServer, type AddressInfo } from "node:net";
import { isGrantError } from "../../provider/core/errors";
import { OpnsenseClient, privilegeFor, PATH_UTIL_ADD } from "../../provider/devices/opnsense/client";
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { grantErrorCode, secretFreeMessages, useEmulator } from "../support/emulator";
import { SECRET, USERS, type UserName } from "./helpers";

// A failed login is answered at once here (the 2 s pad of 25.1+ is test/opnsense/emulator-versions.test.ts's subject).
const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS), failedLoginDelayMs: 0 }));
const untrusted = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS), tls: "untrusted" }));
// No error message may carry a secret (the key appears nowhere either).
const messages = secretFreeMessages(SECRET);

const client = (who: UserName, extra: { url?: string; timeoutMs?: number; caCert?: string } = {}) =>
  new OpnsenseClient({
    url: extra.url ?? emu.url,
    caCert: extra.caCert ?? emu.caCert,
    apiKey: USERS[who].key,
    apiSecret: USERS[who].secret,
    timeoutMs: extra.timeoutMs,
  });

const codeOf = (p: Promise<unknown>) => grantErrorCode(p, { messages });

describe("OPNsense client: diagnoses", () => {
  it("reports OPN000 for a wrong secret and for a disabled user", async () => {
    const wrong = new OpnsenseClient({ url: emu.url, caCert: emu.caCert, apiKey: USERS.admin.key, apiSecret: `${SECRET}-wrong` });
    expect(await codeOf(wrong.menuSearch())).toBe("OPN000");
    expect(await codeOf(client("disabled").menuSearch())).toBe("OPN000");
  });

  it.each([
    ["read", "utilAliases", "Diagnostics: PF Table IP addresses"],
    ["tables", "getAliasUuid", "Firewall: Aliases"],
    ["read", "probeEdit", "Firewall: Alias: Edit"],
    ["read", "reconfigure", "Firewall: Alias: Edit"],
  ] as const)("reports OPN001 for user %s calling %s, naming %s", async (who, verb, privilege) => {
    const c = client(who) as unknown as Record<string, (a?: string) => Promise<unknown>>;
    try {
      await c[verb]!.call(c, "jit_admins");
      throw new Error("expected OPN001");
    } catch (e) {
      expect(isGrantError(e) && e.code).toBe("OPN001");
      const msg = (e as Error).message;
      messages.push(msg);
      expect(msg).toContain(`Missing privilege: "${privilege}"`);
      expect(msg).toContain("HTTP 403");
    }
  });

  it("names the tables privilege for every alias_util URL and Edit for writes", () => {
    expect(privilegeFor(PATH_UTIL_ADD)).toBe("Diagnostics: PF Table IP addresses");
    expect(privilegeFor("/api/firewall/alias/set_item/x")).toBe("Firewall: Alias: Edit");
    expect(privilegeFor("/api/firewall/alias/get_item/x")).toBe("Firewall: Aliases");
  });

  it("reports OPN201 when the user may not write the configuration", async () => {
    expect(await codeOf(client("readonly").utilAdd("jit_admins", "10.0.0.1", async () => false))).toBe("OPN201");
    const uuid = emu.backend.aliases.get("jit_admins")!.uuid;
    expect(await codeOf(client("readonly").setItemContent(uuid, "jit_admins", ["10.0.0.1"]))).toBe("OPN201");
  });

  it("reports OPN200 when reconfigure fails, with the device message", async () => {
    emu.backend.reconfigureError = "cannot define table jit_admins: Cannot allocate memory";
    try {
      await client("edit").reconfigure();
      throw new Error("expected OPN200");
    } catch (e) {
      expect(isGrantError(e) && e.code).toBe("OPN200");
      expect((e as Error).message).toContain("Cannot allocate memory");
    }
  });

  it("reports OPN100 from alias_util/add on a missing alias and OPN102 for a refused address", async () => {
    expect(await codeOf(client("tables").utilAdd("missing_alias", "10.0.0.1", async () => false))).toBe("OPN100");
    expect(await codeOf(client("tables").utilAdd("jit_admins", "A::1", async () => false))).toBe("OPN102");
  });

  it("reports OPN002 when the device does not answer within timeoutMs", async () => {
    emu.faults.add({ match: "/api/core/menu/search", kind: "hang", ms: 5_000 });
    expect(await codeOf(client("admin", { timeoutMs: 200 }).menuSearch())).toBe("OPN002");
  });

  it("reports OPN003 for a certificate this machine does not trust", async () => {
    expect(await codeOf(client("admin", { url: untrusted.url }).menuSearch())).toBe("OPN003");
  });

  it("reports OPN004 when nothing listens on the port", async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    const port = (srv.address() as AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    expect(await codeOf(client("admin", { url: `https://127.0.0.1:${port}` }).menuSearch())).toBe("OPN004");
  });

  it("reports OPN005 for a host name that does not resolve", async () => {
    expect(await codeOf(client("admin", { url: "https://fw1.example.invalid" }).menuSearch())).toBe("OPN005");
  });
});

describe("OPNsense client: requests", () => {
  it("sends lowercase snake_case paths, {} on body-less POSTs, and reads get_item content", async () => {
    // A network goes into a Network(s) alias: a Host(s) alias refuses any prefix (reference §2d).
    const c = client("admin");
    const uuid = (await c.getAliasUuid("jit_nets"))!;
    await c.setItemContent(uuid, "jit_nets", ["10.0.0.1", "10.0.0.0/24"]);
    await c.reconfigure();
    const item = await c.getItem(uuid);
    expect(item).toMatchObject({ found: true, name: "jit_nets", type: "network", content: ["10.0.0.1", "10.0.0.0/24"] });
    expect([...(await c.utilList("jit_nets"))].sort()).toEqual(["10.0.0.0/24", "10.0.0.1"]);
    expect(emu.log.entries().every((e) => e.path === e.path.toLowerCase() && e.status === 200)).toBe(true);
  });

  it("settles an add whose answer was lost by reading back, without a duplicate", async () => {
    emu.faults.add({ match: "/alias_util/add/", kind: "reset", phase: "after", times: 1 });
    const c = client("tables");
    await c.utilAdd("jit_admins", "10.0.0.7", async () => (await c.utilList("jit_admins")).includes("10.0.0.7"));
    expect(emu.backend.configContent("jit_admins")).toEqual(["10.0.0.7"]);
    expect(emu.log.count("alias_util/add")).toBe(1);
  });

  it("treats an unknown alias uuid as not found (26.7 partial answer)", async () => {
    const item = await client("admin").getItem("00000000-0000-4000-8000-000000000000");
    expect(item.found).toBe(false);
  });
});

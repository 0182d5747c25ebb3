/**
 * The FortiManager emulator's device behaviours from docs/reference/fortimanager.md "Behaviours
 * to model", each over HTTPS JSON-RPC, per firmware version where the device differs.
 */
import { Agent, request } from "undici";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator, type FortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import type { FortimanagerEmulatorOptions } from "../../emulators/fortimanager/emulator";
import { useEmulator } from "../support/emulator";

let agent: Agent;
const emu = useEmulator(() => startFortimanagerEmulator({ sysSessionForApiKeys: "answer" }), {
  onStart: (e) => void (agent = new Agent({ connect: { ca: e.caCert } })),
});
afterAll(() => agent.close());

type Body = { id?: unknown; result: { status: { code: number; message: string }; url?: string; data?: any }[]; session?: string | number };
async function rpcAt(target: FortimanagerEmulator, body: Record<string, unknown>, headers: Record<string, string> = {}, query = ""): Promise<Body> {
  const res = await request(`${target.url}/jsonrpc${query}`, {
    method: "POST",
    body: JSON.stringify({ id: 1, ...body }),
    headers: { "content-type": "application/json", ...headers },
    dispatcher: agent,
  });
  expect(res.statusCode).toBe(200); // every JSON-RPC answer is HTTP 200 (KB221089)
  return (await res.body.json()) as Body;
}
const rpc = (body: Record<string, unknown>, headers: Record<string, string> = {}, query = "") => rpcAt(emu, body, headers, query);
const code = (b: Body) => b.result[0]!.status.code;
const bearer = { authorization: `Bearer ${DEFAULT_CREDENTIALS.apiKey}` };
const get = (url: string) => ({ method: "get", params: [{ url }] });
async function login(user: string, passwd: string, target: FortimanagerEmulator = emu): Promise<string> {
  const r = await rpcAt(target, { method: "exec", params: [{ url: "/sys/login/user", data: { user, passwd } }] });
  expect(code(r)).toBe(0);
  return r.session as string;
}
async function withEmulator(opts: FortimanagerEmulatorOptions, fn: (e: FortimanagerEmulator) => Promise<void>): Promise<void> {
  const e = await startFortimanagerEmulator({ sysSessionForApiKeys: "answer", ...opts });
  try {
    await fn(e);
  } finally {
    await e.close();
  }
}

describe("get /sys/session (JPF-OPS, 6.4.1+)", () => {
  it("answers the session's own admin with exactly the documented 7.x keys, ignoring `fields`", async () => {
    const session = await login("alice", "alice-pw");
    const r = await rpc({ method: "get", params: [{ url: "/sys/session", fields: ["admin_user"] }], session, verbose: 1 });
    expect(code(r)).toBe(0);
    const d = r.result[0]!.data;
    expect(Object.keys(d).sort()).toEqual([
      "admin_adom",
      "admin_prof",
      "admin_user",
      "adom_list",
      "adom_override",
      "current_adom_name",
      "email",
      "first_name",
      "last_name",
      "login_user",
      "time_left",
      "timestamp",
      "valid",
    ]);
    expect(d).toMatchObject({ admin_user: "alice", login_user: "alice", admin_prof: "Restricted_User", adom_list: [], valid: 1 });
    expect(typeof r.session).toBe("number");
  });

  it("answers an API key's owner (Bearer), or -11 when configured so (UNCONFIRMED on a device)", async () => {
    const d = (await rpc(get("/sys/session"), bearer)).result[0]!.data;
    expect([d.admin_user, d.admin_prof]).toEqual(["apiadmin", "Super_User"]);
    const ro = (await rpc(get("/sys/session"), { authorization: "Bearer customapikey0123456789abcdefghij" })).result[0]!.data;
    expect([ro.admin_user, ro.admin_prof]).toEqual(["customapi", "custom_admins"]);
    await withEmulator({ sysSessionForApiKeys: "no-permission" }, async (e) => {
      expect(code(await rpcAt(e, get("/sys/session"), bearer))).toBe(-11);
    });
  });
});

describe("verbose (JPF-001 'Working with symbolic values')", () => {
  it("answers enum fields as names with verbose: 1 and as numbers without; slots and password look the same", async () => {
    const url = "/cli/global/system/admin/user/readonly";
    const named = (await rpc({ ...get(url), verbose: 1 }, bearer)).result[0]!.data;
    const numbered = (await rpc(get(url), bearer)).result[0]!.data;
    expect([named["rpc-permit"], named.user_type, named["adom-access"], named["change-password"]]).toEqual(["read", "local", "all", "enable"]);
    expect([numbered["rpc-permit"], numbered.user_type, numbered["adom-access"], numbered["change-password"]]).toEqual([2, 0, 0, 1]);
    expect(numbered.trusthost1).toEqual(named.trusthost1);
    expect(numbered.ipv6_trusthost2).toBe(named.ipv6_trusthost2);
    expect([named.password, numbered.password]).toEqual(["ENC ", "ENC "]);
  });

  it("does the same for profiles and /cli/global/system/global (workspace-mode 0, adom-status 1 as pyFMG checks)", async () => {
    const p = (v: boolean) => rpc({ ...get("/cli/global/system/admin/profile/Super_User"), ...(v && { verbose: 1 }) }, bearer);
    expect((await p(true)).result[0]!.data).toMatchObject({
      "super-user-profile": "enable",
      "system-setting": "read-write",
      type: "system",
      scope: "global",
      "rpc-permit": "read-write",
    });
    expect((await p(false)).result[0]!.data).toMatchObject({ "super-user-profile": 1, "system-setting": 2, type: 0, scope: 0, "rpc-permit": 0 });
    const g = (await rpc({ method: "get", params: [{ url: "/cli/global/system/global", fields: ["workspace-mode", "adom-status"] }] }, bearer)).result[0]!.data;
    expect(g).toEqual({ "workspace-mode": 0, "adom-status": 1 });
    const gv = (await rpc({ method: "get", params: [{ url: "/cli/global/system/global", fields: ["workspace-mode", "adom-status"] }], verbose: 1 }, bearer))
      .result[0]!.data;
    expect(gv).toEqual({ "workspace-mode": "disabled", "adom-status": "enable" });
  });

  it("takes enum writes by name or by number", async () => {
    const url = "/cli/global/system/admin/user/bob";
    expect(code(await rpc({ method: "update", params: [{ url, data: { "rpc-permit": 2 } }] }, bearer))).toBe(0);
    expect(emu.backend.admins.get("bob")!.rpcPermit).toBe("read");
    expect(code(await rpc({ method: "update", params: [{ url, data: { "rpc-permit": "read-write" } }] }, bearer))).toBe(0);
    expect(code(await rpc({ method: "update", params: [{ url, data: { "rpc-permit": "sometimes" } }] }, bearer))).toBe(-10);
  });
});

describe("/sys/status and /cli/global/system/status", () => {
  it.each([
    ["7.0.x", "v7.0.13-", 7, 0, 13],
    ["7.4.5", "v7.4.5-build2588 240827 (GA)", 7, 4, 5],
    ["v7.0.1-build4661 210831 (GA)", "v7.0.1-build4661 210831 (GA)", 7, 0, 1],
  ])("version %s reports %s on both urls", async (version, label, major, minor, patch) => {
    await withEmulator({ version }, async (e) => {
      const session = await login("admin", DEFAULT_CREDENTIALS.adminPassword, e);
      for (const url of ["/sys/status", "/cli/global/system/status"]) {
        const d = (await rpcAt(e, { ...get(url), session })).result[0]!.data;
        expect(d.Version.startsWith(label)).toBe(true);
        expect([d.Major, d.Minor, d.Patch]).toEqual([major, minor, patch]);
      }
    });
  });

  it("answers the default 7.6.4 and refuses unknown version strings", async () => {
    expect((await rpc(get("/sys/status"), bearer)).result[0]!.data.Version).toMatch(/^v7\.6\.4-build/);
    await expect(startFortimanagerEmulator({ version: "seven" })).rejects.toThrow(/version "seven"/);
  });

  it("a valid login whose profile lacks System Settings gets -11 on both status urls and /cli/global/system/global, not on /sys/session (ANS-I58, ANS-I98)", async () => {
    const session = await login("alice", "alice-pw"); // Restricted_User: system-setting none
    for (const url of ["/sys/status", "/cli/global/system/status", "/cli/global/system/global"]) {
      const r = await rpc({ ...get(url), session });
      expect([url, code(r), r.result[0]!.status.message]).toEqual([url, -11, "No permission for the resource"]);
    }
    expect(code(await rpc({ ...get("/sys/session"), session }))).toBe(0);
  });

  it("a valid API key whose profile lacks System Settings gets -11 on /sys/status too", async () => {
    emu.backend.seedAdmin({ userid: "weakapi", userType: "api", apiKey: "weakapikey0123456789", profileid: "Restricted_User" });
    const h = { authorization: "Bearer weakapikey0123456789" };
    expect(code(await rpc(get("/sys/status"), h))).toBe(-11);
    expect((await rpc(get("/sys/session"), h)).result[0]!.data.admin_user).toBe("weakapi");
  });
});

describe("API keys by version (JPF-001 #1084776, ANS-I107)", () => {
  const query = `?access_token=${DEFAULT_CREDENTIALS.apiKey}`;
  it.each([
    ["7.0.x", -11, -11],
    ["7.2.1", -11, -11],
    ["7.2.2", 0, 0],
    ["7.2.x", 0, 0],
    ["7.4.5", 0, 0],
    ["7.4.6", 0, 0],
    ["7.4.7", 0, -11],
    ["7.6.0", 0, 0],
    ["7.6.1", 0, 0],
    ["7.6.2", 0, -11],
    ["7.6.3", 0, -11],
  ])("%s: Bearer header %i, ?access_token alone %i", async (version, header, queryOnly) => {
    await withEmulator({ version }, async (e) => {
      expect(code(await rpcAt(e, get("/sys/status"), bearer))).toBe(header);
      expect(code(await rpcAt(e, get("/sys/status"), {}, query))).toBe(queryOnly);
      expect(code(await rpcAt(e, get("/sys/status"), { authorization: "Bearer wrong-key-000" }, query))).toBe(header === 0 ? -11 : queryOnly); // the header wins
    });
  });
});

describe("admin fields as the device returns them (JPF-CFG, ANS-ADMINUSER)", () => {
  it("updates documented fields, refuses unknown ones with -10, and reads them back", async () => {
    const url = "/cli/global/system/admin/user/alice";
    expect(
      code(
        await rpc({ method: "update", params: [{ url, data: { description: "CI runner", "email-address": "ci@example.net", "first-name": "Al" } }] }, bearer),
      ),
    ).toBe(0);
    const d = (await rpc({ ...get(url), verbose: 1 }, bearer)).result[0]!.data;
    expect([d.description, d["email-address"], d["first-name"], d.password]).toEqual(["CI runner", "ci@example.net", "Al", "ENC "]);
    expect(code(await rpc({ method: "update", params: [{ url, data: { nickname: "x" } }] }, bearer))).toBe(-10);
    const session = await login("alice", "alice-pw");
    expect((await rpc({ ...get("/sys/session"), session })).result[0]!.data.email).toBe("ci@example.net");
  });

  it('a password written with update is the one the next login needs; the read shows only "ENC "', async () => {
    const url = "/cli/global/system/admin/user/bob";
    expect(code(await rpc({ method: "update", params: [{ url, data: { password: "new-bob-pw" } }] }, bearer))).toBe(0);
    expect(code(await rpc({ method: "exec", params: [{ url: "/sys/login/user", data: { user: "bob", passwd: "bob-pw" } }] }))).toBe(-22);
    await login("bob", "new-bob-pw");
    expect(JSON.stringify((await rpc(get(url), bearer)).result[0]!.data)).not.toContain("new-bob-pw");
  });

  it.each([
    ["7.0.x", "cors-allow-origin", -10],
    ["7.2.x", "cors-allow-origin", 0],
    ["7.4.5", "fortiai", -10],
    ["7.6.x", "fortiai", 0],
  ])("%s: %s answers %i (ANS-ADMINUSER v_range)", async (version, field, expected) => {
    await withEmulator({ version }, async (e) => {
      const session = await login("admin", DEFAULT_CREDENTIALS.adminPassword, e);
      const value = field === "fortiai" ? "enable" : "https://ci.example.net";
      expect(code(await rpcAt(e, { method: "update", params: [{ url: "/cli/global/system/admin/user/alice", data: { [field]: value } }], session }))).toBe(
        expected,
      );
      const d = (await rpcAt(e, { ...get("/cli/global/system/admin/user/alice"), session, verbose: 1 })).result[0]!.data;
      expect(field in d).toBe(expected === 0);
    });
  });
});

describe("ADOM entries as listed (JPF 007_device_management, alternative-API page, ANS-HTTPAPI)", () => {
  it("lists every ADOM with tab_status; mode/os_ver/restricted_prds as names or numbers by verbose", async () => {
    const named = (await rpc({ ...get("/dvmdb/adom"), verbose: 1 }, bearer)).result[0]!.data as any[];
    expect(named.map((a) => a.name)).toEqual(["root", "others"]);
    for (const a of named) expect(a.tab_status).toBe("");
    expect(named[0]).toMatchObject({ mode: "gms", os_ver: "7.0", mr: 6, restricted_prds: "fos", workspace_mode: 0, state: 1 });
    const numbered = (await rpc(get("/dvmdb/adom/root"), bearer)).result[0]!.data;
    expect(numbered).toMatchObject({ mode: 1, os_ver: 7, mr: 6, restricted_prds: 1, tab_status: "" });
    expect(code(await rpc(get("/dvmdb/adom/nowhere"), bearer))).toBe(-6);
  });
});

describe("status codes (reference §3)", () => {
  it("rpc-permit read: get works, every write answers -11, for a session and for a key (JPF-001 'Permissions')", async () => {
    emu.backend.seedAdmin({ userid: "roapi", userType: "api", apiKey: "roapikey0123456789", profileid: "Super_User", rpcPermit: "read" });
    const session = await login("readonly", "readonly-pw");
    for (const auth of [{ session }, { headers: { authorization: "Bearer roapikey0123456789" } }]) {
      const h = "headers" in auth ? auth.headers : {};
      const s = "session" in auth ? { session: auth.session } : {};
      expect(code(await rpc({ ...get("/cli/global/system/admin/user/alice"), ...s }, h))).toBe(0);
      for (const method of ["update", "set"]) {
        expect(code(await rpc({ method, params: [{ url: "/cli/global/system/admin/user/alice", data: { description: "x" } }], ...s }, h))).toBe(-11);
      }
      expect(code(await rpc({ method: "add", params: [{ url: "/cli/global/system/admin/user", data: { userid: "new" } }], ...s }, h))).toBe(-11);
    }
    expect(emu.log.sideEffects()).toHaveLength(0);
  });

  it("-2 add of an existing admin, -3 missing admin, -9 wrong method for a url, -10 bad data, -22 bad login", async () => {
    const add = (data: unknown) => rpc({ method: "add", params: [{ url: "/cli/global/system/admin/user", data }] }, bearer);
    expect((await add({ userid: "alice" })).result[0]!.status).toEqual({ code: -2, message: "Object already exists" });
    // A missing admin answers -2 by default (missingAdminCode, docs/variants.md).
    expect((await rpc(get("/cli/global/system/admin/user/ghost"), bearer)).result[0]!.status).toEqual({ code: -2, message: "Object already exists" });
    expect((await rpc({ method: "exec", params: [{ url: "/sys/status" }] }, bearer)).result[0]!.status).toEqual({
      code: -9,
      message: "The command is invalid for selected url",
    });
    expect((await add({ userid: "carol", "rpc-permit": "maybe" })).result[0]!.status).toEqual({ code: -10, message: "The data is invalid for selected url" });
    expect(emu.backend.admins.has("carol")).toBe(false);
    expect(code(await add({ userid: "carol", profileid: "Standard_User", description: "made by CI", trusthost2: "192.0.2.1/32" }))).toBe(0);
    expect(emu.backend.admins.get("carol")!.slots.trusthost2).toEqual(["192.0.2.1", "255.255.255.255"]);
    const bad = await rpc({ method: "exec", params: [{ url: "/sys/login/user", data: { user: "admin", passwd: "nope" } }] });
    expect(bad.result[0]!.status).toEqual({ code: -22, message: "Login fail" });
  });

  it("non-Super_User admin edits: -11 by default, -60804 (and -60805 for delete) when configured", async () => {
    const custom = { authorization: "Bearer customapikey0123456789abcdefghij" };
    const upd = { method: "update", params: [{ url: "/cli/global/system/admin/user/alice", data: { description: "x" } }] };
    expect(code(await rpc(upd, custom))).toBe(-11);
    await withEmulator({ nonSuperAdminEditCode: -60804 }, async (e) => {
      expect((await rpcAt(e, upd, custom)).result[0]!.status).toEqual({ code: -60804, message: "Only super users can edit/create administrators" });
      expect(code(await rpcAt(e, { method: "delete", params: [{ url: "/cli/global/system/admin/user/alice" }] }, custom))).toBe(-60805);
    });
  });

  it("an unknown url among multiplexed params answers -6 for that entry only and is logged unhandled", async () => {
    const r = await rpc({ method: "get", params: [{ url: "/sys/status" }, { url: "/pm/config/adom/root/obj/firewall/nothing" }] }, bearer);
    expect(r.result.map((x) => [x.url, x.status.code])).toEqual([
      ["/sys/status", 0],
      ["/pm/config/adom/root/obj/firewall/nothing", -6],
    ]);
    expect(emu.log.unhandled()).toHaveLength(1);
  });
});

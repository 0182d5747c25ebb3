import { Agent, request } from "undici";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { useEmulator } from "../support/emulator";

let agent: Agent;
const emu = useEmulator(() => startFortimanagerEmulator({}), { onStart: (e) => void (agent = new Agent({ connect: { ca: e.caCert } })) });
afterAll(() => agent.close());

type Answer = {
  status: number;
  body: { id?: unknown; result: { status: { code: number; message: string }; url?: string; data?: any }[]; session?: string | number };
};

async function rpc(body: Record<string, unknown>, headers: Record<string, string> = {}, query = ""): Promise<Answer> {
  const res = await request(`${emu.url}/jsonrpc${query}`, {
    method: "POST",
    body: JSON.stringify({ id: 7, ...body }),
    headers: { "content-type": "application/json", ...headers },
    dispatcher: agent,
  });
  return { status: res.statusCode, body: (await res.body.json()) as Answer["body"] };
}
const code = (a: Answer) => a.body.result[0]!.status.code;
async function login(user = "admin", passwd: string = DEFAULT_CREDENTIALS.adminPassword): Promise<Answer> {
  return rpc({ method: "exec", params: [{ url: "/sys/login/user", data: { user, passwd } }] });
}
const bearer = { authorization: `Bearer ${DEFAULT_CREDENTIALS.apiKey}` };

describe("FortiManager emulator", () => {
  it("logs in with a string session, echoes id, answers HTTP 200, and logs out", async () => {
    const a = await login();
    expect(a.status).toBe(200);
    expect(a.body.id).toBe(7);
    expect(code(a)).toBe(0);
    expect(typeof a.body.session).toBe("string");
    expect(emu.backend.activeSessions).toBe(1);
    const s = await rpc({ method: "get", params: [{ url: "/sys/status" }], session: a.body.session });
    expect(code(s)).toBe(0);
    expect(typeof s.body.session).toBe("number"); // the numeric session id on later answers (JPF-001)
    expect(s.body.result[0]!.data.Major).toBe(7);
    expect(code(await rpc({ method: "exec", params: [{ url: "/sys/logout" }], session: a.body.session }))).toBe(0);
    expect(emu.backend.activeSessions).toBe(0);
    expect(emu.log.sideEffects()).toHaveLength(0); // sessions are not configuration
  });

  it("answers -22 for a wrong password, -11 for rpc-permit none, -23 at login-max, all with HTTP 200", async () => {
    const bad = await login("admin", "wrong");
    expect([bad.status, code(bad), bad.body.session]).toEqual([200, -22, undefined]);
    expect(code(await login("nobody", "x"))).toBe(-22);
    expect(code(await login("norpc", "norpc-pw"))).toBe(-11);
    emu.backend.seedAdmin({ userid: "two", password: "two-pw", loginMax: 2 });
    expect(code(await login("two", "two-pw"))).toBe(0);
    expect(code(await login("two", "two-pw"))).toBe(0);
    const third = await login("two", "two-pw");
    expect([code(third), third.body.result[0]!.status.message]).toEqual([-23, "Reach login limit"]);
  });

  it("accepts a Bearer API key, refuses a wrong key, and ignores ?access_token on the default 7.6.4", async () => {
    expect(code(await rpc({ method: "get", params: [{ url: "/sys/status" }] }, bearer))).toBe(0);
    expect(code(await rpc({ method: "get", params: [{ url: "/sys/status" }] }, { authorization: "Bearer nope-nope-nope" }))).toBe(-11);
    expect(code(await rpc({ method: "get", params: [{ url: "/sys/status" }] }, {}, `?access_token=${DEFAULT_CREDENTIALS.apiKey}`))).toBe(-11);
  });

  it("expired sessions answer -11 until a fresh login", async () => {
    const a = await login();
    expect(emu.backend.expireSessions()).toBe(1);
    expect(code(await rpc({ method: "get", params: [{ url: "/sys/status" }], session: a.body.session }))).toBe(-11);
  });

  it("reports the default trusted-host slots in the GET shape (lists for IPv4, strings for IPv6)", async () => {
    const r = await rpc({ method: "get", params: [{ url: "/cli/global/system/admin/user/alice" }] }, bearer);
    const d = r.body.result[0]!.data;
    expect(d.trusthost1).toEqual(["0.0.0.0", "0.0.0.0"]);
    expect(d.trusthost2).toEqual(["255.255.255.255", "255.255.255.255"]);
    expect(d.trusthost10).toEqual(["255.255.255.255", "255.255.255.255"]);
    expect(d.ipv6_trusthost1).toBe("::/0");
    expect(d.ipv6_trusthost5).toBe("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
  });

  it("updates one slot, flags it as a side effect, and validates values (-10)", async () => {
    const url = "/cli/global/system/admin/user/alice";
    expect(code(await rpc({ method: "update", params: [{ url, data: { trusthost3: ["203.0.113.7", "255.255.255.255"] } }] }, bearer))).toBe(0);
    expect(emu.backend.admins.get("alice")!.slots.trusthost3).toEqual(["203.0.113.7", "255.255.255.255"]);
    expect(emu.log.sideEffects()).toHaveLength(1);
    expect(code(await rpc({ method: "update", params: [{ url, data: { trusthost4: ["203.0.113.7", "255.0.255.0"] } }] }, bearer))).toBe(-10);
    expect(code(await rpc({ method: "update", params: [{ url, data: { bogus: 1 } }] }, bearer))).toBe(-10);
    expect(code(await rpc({ method: "update", params: [{ url, data: { trusthost5: ["203.0.113.9", "255.255.255.255"], bogus: 1 } }] }, bearer))).toBe(-10);
    expect(emu.backend.admins.get("alice")!.slots.trusthost5).toEqual(["255.255.255.255", "255.255.255.255"]); // a refused write changes nothing
    expect(code(await rpc({ method: "update", params: [{ url, data: { ipv6_trusthost2: "2001:db8::1/128" } }] }, bearer))).toBe(0);
    expect(emu.log.sideEffects()).toHaveLength(2);
  });

  it('accepts trusthost strings as Ansible sends them ("ip mask", "ip/len") and reads them back as lists', async () => {
    const url = "/cli/global/system/admin/user/alice";
    expect(
      code(await rpc({ method: "update", params: [{ url, data: { trusthost4: "203.0.113.7 255.255.255.255", trusthost5: "198.51.100.0/24" } }] }, bearer)),
    ).toBe(0);
    const d = (await rpc({ method: "get", params: [{ url }], verbose: 1 }, bearer)).body.result[0]!.data;
    expect([d.trusthost4, d.trusthost5]).toEqual([
      ["203.0.113.7", "255.255.255.255"],
      ["198.51.100.0", "255.255.255.0"],
    ]);
    expect(code(await rpc({ method: "update", params: [{ url, data: { trusthost6: "203.0.113.7/33" } }] }, bearer))).toBe(-10);
  });

  it("answers -3, -6, -9 and -2 per the reference", async () => {
    // A missing admin's `get` answers -2 by default (missingAdminCode, docs/variants.md).
    expect(code(await rpc({ method: "get", params: [{ url: "/cli/global/system/admin/user/Alice" }] }, bearer))).toBe(-2);
    expect(code(await rpc({ method: "update", params: [{ url: "/cli/global/system/admin/user/ghost", data: {} }] }, bearer))).toBe(-3);
    const unknown = await rpc({ method: "get", params: [{ url: "/no/such/thing" }] }, bearer);
    expect([unknown.status, code(unknown), unknown.body.result[0]!.status.message]).toEqual([200, -6, "Invalid url"]);
    expect(emu.log.unhandled().map((e) => e.route)).toEqual(["get /no/such/thing [unhandled]"]);
    expect(code(await rpc({ method: "update", params: [{ url: "/sys/status", data: {} }] }, bearer))).toBe(-9);
    expect(code(await rpc({ method: "add", params: [{ url: "/cli/global/system/admin/user", data: { userid: "alice" } }] }, bearer))).toBe(-2);
  });

  it("enforces rpc-permit read, Super_User-only admin edits, ADOM scope and the workspace lock", async () => {
    const ro = await login("readonly", "readonly-pw");
    const upd = { method: "update", params: [{ url: "/cli/global/system/admin/user/alice", data: { trusthost2: ["10.0.0.1", "255.255.255.255"] } }] };
    expect(code(await rpc({ method: "get", params: [{ url: "/cli/global/system/admin/user/alice" }], session: ro.body.session }))).toBe(0);
    expect(code(await rpc({ ...upd, session: ro.body.session }))).toBe(-11);
    const custom = await login("custom", "custom-pw");
    expect(code(await rpc({ method: "get", params: [{ url: "/sys/status" }], session: custom.body.session }))).toBe(0);
    expect(code(await rpc({ ...upd, session: custom.body.session }))).toBe(-11);
    expect(code(await rpc({ method: "get", params: [{ url: "/cli/global/system/admin/user/alice" }], session: custom.body.session }))).toBe(-11);
    emu.backend.seedAdmin({ userid: "scoped", password: "scoped-pw", profileid: "Super_User", adoms: ["root"] });
    const scoped = await login("scoped", "scoped-pw");
    expect(code(await rpc({ method: "get", params: [{ url: "/dvmdb/adom/others" }], session: scoped.body.session }))).toBe(-11);
    expect(code(await rpc({ method: "get", params: [{ url: "/dvmdb/adom/root" }], session: scoped.body.session }))).toBe(0);
    emu.backend.workspaceLockedBy = "bob";
    expect(code(await rpc(upd, bearer))).toBe(-20055);
    expect(emu.log.sideEffects()).toHaveLength(0);
  });

  it("can answer -60804 for non-super admin edits when configured", async () => {
    const other = await startFortimanagerEmulator({ nonSuperAdminEditCode: -60804 });
    try {
      const res = await request(`${other.url}/jsonrpc`, {
        method: "POST",
        dispatcher: agent,
        headers: { authorization: "Bearer customapikey0123456789abcdefghij" },
        body: JSON.stringify({ id: 1, method: "update", params: [{ url: "/cli/global/system/admin/user/alice", data: {} }] }),
      });
      expect(((await res.body.json()) as Answer["body"]).result[0]!.status.code).toBe(-60804);
    } finally {
      await other.close();
    }
  });

  it("can refuse callers outside their own trusted hosts (-11; the real code is UNCONFIRMED)", async () => {
    const strict = await startFortimanagerEmulator({
      enforceTrustedHosts: true,
      admins: [
        { userid: "here", userType: "api", apiKey: "here-key-0123456789", profileid: "Super_User", slots: { trusthost1: ["127.0.0.1", "255.255.255.255"] } },
        {
          userid: "elsewhere",
          userType: "api",
          apiKey: "elsewhere-key-0123456789",
          profileid: "Super_User",
          slots: { trusthost1: ["10.9.9.9", "255.255.255.255"] },
        },
      ],
    });
    try {
      const call = async (key: string) => {
        const res = await request(`${strict.url}/jsonrpc`, {
          method: "POST",
          dispatcher: agent,
          headers: { authorization: `Bearer ${key}` },
          body: JSON.stringify({ id: 1, method: "get", params: [{ url: "/sys/status" }] }),
        });
        return ((await res.body.json()) as Answer["body"]).result[0]!.status.code;
      };
      expect(await call("here-key-0123456789")).toBe(0);
      expect(await call("elsewhere-key-0123456789")).toBe(-11);
    } finally {
      await strict.close();
    }
  });

  it("injects faults through the kit and logs unhandled routes", async () => {
    emu.faults.add({ match: "/jsonrpc", kind: "status", status: 503, times: 1 });
    const r = await rpc({ method: "get", params: [{ url: "/sys/status" }] }, bearer).catch((e: unknown) => e);
    expect((r as Error).name).toBeDefined(); // an HTML 503 body is not JSON
    expect(code(await rpc({ method: "get", params: [{ url: "/sys/status" }] }, bearer))).toBe(0);
    const res = await request(`${emu.url}/api/v2/cmdb`, { dispatcher: agent });
    await res.body.text();
    expect(res.statusCode).toBe(404);
    expect(emu.log.unhandled()).toHaveLength(1);
  });

  it("serves control routes for session expiry and counts", async () => {
    await login();
    const ctl = async (method: "GET" | "POST", action: string) => (await request(`${emu.url}/__emulator/${action}`, { method, dispatcher: agent })).body.json();
    expect(await ctl("GET", "sessions")).toEqual({ active: 1 });
    expect(await ctl("POST", "expire-sessions")).toEqual({ expired: 1 });
    expect(emu.backend.activeSessions).toBe(0);
  });
});

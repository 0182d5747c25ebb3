/**
 * The FortiManager emulator's control routes (documented on startFortimanagerEmulator): list state,
 * set or clear a trusted-host slot by hand, add and remove admins, inject JSON-RPC faults.
 */
import { Agent, request } from "undici";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { useEmulator } from "../support/emulator";

let agent: Agent;
const emu = useEmulator(() => startFortimanagerEmulator({}), { onStart: (e) => void (agent = new Agent({ connect: { ca: e.caCert } })) });
afterAll(() => agent.close());

async function ctl(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await request(`${emu.url}/__emulator/${path}`, { method, dispatcher: agent, ...(body !== undefined && { body: JSON.stringify(body) }) });
  return { status: res.statusCode, json: await res.body.json() };
}
async function rpc(body: Record<string, unknown>): Promise<any> {
  const res = await request(`${emu.url}/jsonrpc`, {
    method: "POST",
    dispatcher: agent,
    headers: { authorization: `Bearer ${DEFAULT_CREDENTIALS.apiKey}` },
    body: JSON.stringify({ id: 1, ...body }),
  });
  return res.body.json();
}

describe("FortiManager emulator control routes", () => {
  it("GET state and GET admins list admins with their trusted hosts", async () => {
    const state = (await ctl("GET", "state")).json;
    expect(state.version).toMatch(/^v7\.6\.4-/);
    expect(state.sessions).toBe(0);
    const alice = state.admins.find((a: any) => a.userid === "alice");
    expect(alice).toMatchObject({
      profileid: "Restricted_User",
      rpcPermit: "read-write",
      userType: "local",
      superUser: false,
      trustedHosts: { trusthost1: "0.0.0.0 0.0.0.0", ipv6_trusthost1: "::/0" },
    });
    expect(alice.slots.trusthost2).toEqual(["255.255.255.255", "255.255.255.255"]);
    expect((await ctl("GET", "admins")).json.map((a: any) => a.userid)).toContain("apiadmin");
    expect((await ctl("GET", "admins/nobody")).status).toBe(404);
  });

  it("PUT and DELETE admins/{userid}/slots/{slot} set and clear a slot by hand, seen by JSON-RPC and not logged", async () => {
    const put = await ctl("PUT", "admins/alice/slots/trusthost3", { value: "198.51.100.7/32" });
    expect(put.status).toBe(200);
    expect(put.json.admin.trustedHosts.trusthost3).toBe("198.51.100.7 255.255.255.255");
    expect((await ctl("PUT", "admins/alice/slots/ipv6_trusthost2", { value: "2001:db8::7/128" })).status).toBe(200);
    const d = (await rpc({ method: "get", params: [{ url: "/cli/global/system/admin/user/alice" }], verbose: 1 })).result[0].data;
    expect([d.trusthost3, d.ipv6_trusthost2]).toEqual([["198.51.100.7", "255.255.255.255"], "2001:db8::7/128"]);
    expect((await ctl("DELETE", "admins/alice/slots/trusthost3")).json.admin.trustedHosts.trusthost3).toBeUndefined();
    expect(emu.backend.admins.get("alice")!.slots.trusthost3).toEqual(["255.255.255.255", "255.255.255.255"]);
    expect((await ctl("PUT", "admins/alice/slots/trusthost3", { value: "not-an-ip" })).status).toBe(400);
    expect((await ctl("PUT", "admins/alice/slots/trusthost11", { value: "192.0.2.1/32" })).status).toBe(404);
    expect(emu.log.entries().filter((e) => e.path.startsWith("/__emulator"))).toHaveLength(0);
  });

  it("POST admins adds (or replaces) an admin and DELETE admins/{userid} removes it with its sessions", async () => {
    expect((await ctl("POST", "admins", { userid: "ci", password: "ci-pw", profileid: "Super_User", fields: { description: "CI" } })).status).toBe(200);
    const login = await rpc({ method: "exec", params: [{ url: "/sys/login/user", data: { user: "ci", passwd: "ci-pw" } }] });
    expect(login.result[0].status.code).toBe(0);
    expect((await ctl("GET", "sessions")).json).toEqual({ active: 1 });
    expect((await ctl("DELETE", "admins/ci")).status).toBe(200);
    expect((await ctl("GET", "sessions")).json).toEqual({ active: 0 });
    expect((await ctl("POST", "admins", { password: "x" })).status).toBe(400);
    expect((await ctl("POST", "seed-admin", { userid: "legacy" })).status).toBe(200); // earlier name
    expect(emu.backend.admins.has("legacy")).toBe(true);
  });

  it("POST rpc-faults injects a JSON-RPC status for matching calls, `times` limits it, DELETE clears", async () => {
    expect((await ctl("POST", "rpc-faults", { code: -11, auth: "token", url: "sys/status", times: 1 })).status).toBe(200);
    const status = () => rpc({ method: "get", params: [{ url: "/sys/status" }] });
    expect((await status()).result[0].status).toEqual({ code: -11, message: "No permission for the resource" });
    expect((await status()).result[0].status.code).toBe(0);
    await ctl("POST", "rpc-faults", { code: -10147, message: "no write permission", method: "update" });
    expect((await ctl("GET", "state")).json.rpcFaults).toEqual([{ code: -10147, message: "no write permission", method: "update", left: null }]);
    const upd = await rpc({ method: "update", params: [{ url: "/cli/global/system/admin/user/alice", data: { description: "x" } }] });
    expect(upd.result[0].status).toEqual({ code: -10147, message: "no write permission" });
    await ctl("DELETE", "rpc-faults");
    expect((await rpc({ method: "update", params: [{ url: "/cli/global/system/admin/user/alice", data: { description: "x" } }] })).result[0].status.code).toBe(
      0,
    );
    expect((await ctl("POST", "rpc-faults", { message: "no code" })).status).toBe(400);
  });

  it("DELETE sessions ends every session; workspace-lock and update-failure still work; unknown routes are a loud 404", async () => {
    await rpc({ method: "exec", params: [{ url: "/sys/login/user", data: { user: "admin", passwd: DEFAULT_CREDENTIALS.adminPassword } }] });
    expect((await ctl("DELETE", "sessions")).json).toEqual({ expired: 1 });
    await ctl("POST", "workspace-lock", { user: "bob" });
    expect((await ctl("GET", "state")).json.workspaceLockedBy).toBe("bob");
    expect((await rpc({ method: "update", params: [{ url: "/cli/global/system/admin/user/alice", data: {} }] })).result[0].status.code).toBe(-20055);
    await ctl("DELETE", "workspace-lock");
    const missing = await ctl("GET", "no-such-thing");
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatch(/unknown control route/);
  });
});

describe("FortiManager emulator control routes refuse a body they do not understand", () => {
  it.each([
    ["GET", "state"],
    ["GET", "admins"],
    ["POST", "admins"],
    ["GET", "admins/alice"],
    ["DELETE", "admins/alice"],
    ["PUT", "admins/alice/slots/trusthost3"],
    ["DELETE", "admins/alice/slots/trusthost3"],
    ["GET", "devices"],
    ["POST", "devices"],
    ["GET", "devices/fgt-hq"],
    ["PUT", "devices/fgt-hq"],
    ["DELETE", "devices/fgt-hq"],
    ["POST", "devices/fgt-hq/entries"],
    ["GET", "proxy"],
    ["PUT", "proxy"],
    ["POST", "seed-admin"],
    ["GET", "sessions"],
    ["DELETE", "sessions"],
    ["POST", "expire-sessions"],
    ["POST", "rpc-faults"],
    ["DELETE", "rpc-faults"],
    ["POST", "update-failure"],
    ["DELETE", "update-failure"],
    ["POST", "workspace-lock"],
    ["DELETE", "workspace-lock"],
  ] as const)("%s %s: an unknown field is a 400 naming it, and nothing changes", async (method, path) => {
    const before = JSON.stringify((await ctl("GET", "state")).json);
    const r = await ctl(method, path, { bogus: 1 });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.json)).toContain("bogus");
    expect(JSON.stringify((await ctl("GET", "state")).json)).toBe(before);
  });

  it("update-failure needs its code and message, PUT devices/{name} and PUT proxy name at least one field", async () => {
    expect((await ctl("POST", "update-failure", { code: -9998 })).status).toBe(400);
    expect((await ctl("GET", "state")).json.updateFailure).toBeNull();
    expect((await ctl("PUT", "devices/fgt-hq", {})).status).toBe(400);
    expect((await ctl("PUT", "proxy", {})).status).toBe(400);
    expect((await ctl("POST", "rpc-faults", { code: "-11" })).status).toBe(400);
  });
});

import { Agent, request } from "undici";
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { useEmulator } from "../support/emulator";

let agent: Agent;
const RO = "readonly-token-0123456789";
const NOHOST = "nohost-token-0123456789";
// The users added at start outlive every test: lockouts are cleared instead of a backend reset.
const emu = useEmulator(
  () => startFortigateEmulator({ vdoms: ["root", "dmz"], groups: [{ name: "jit-admins" }, { name: "jit6", family: "ipv6" }], lockoutThreshold: 3 }),
  {
    onStart: (e) => {
      e.backend.addUser({ name: "ro", token: RO, fwgrp: "custom", addressPermission: "read", vdoms: ["root"] });
      e.backend.addUser({ name: "far", token: NOHOST, trusthosts: ["192.0.2.0/24"] });
      agent = new Agent({ connect: { ca: e.caCert } });
    },
    resetBackend: false,
    onReset: (e) => e.backend.clearLockouts(),
  },
);
afterAll(() => agent.close());

async function call(method: string, path: string, token: string | undefined, body?: unknown) {
  const res = await request(`${emu.url}${path}`, {
    method: method as "GET",
    dispatcher: agent,
    headers: { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, text, json, type: String(res.headers["content-type"]) };
}

describe("FortiGate emulator", () => {
  it("answers system status with the JSON envelope for a valid token", async () => {
    const r = await call("GET", "/api/v2/monitor/system/status?vdom=root", emu.token);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: "success", vdom: "root", serial: expect.any(String), version: expect.stringMatching(/^v7/) });
  });

  it("answers a bad token, a token in the query and an untrusted source with an HTML 401", async () => {
    for (const [path, token] of [
      ["/api/v2/cmdb/firewall/address", "wrong"],
      [`/api/v2/cmdb/firewall/address?access_token=${emu.token}`, undefined],
      ["/api/v2/cmdb/firewall/address", NOHOST],
    ] as const) {
      emu.backend.clearLockouts();
      const r = await call("GET", path, token);
      expect(r.status).toBe(401);
      expect(r.type).toContain("text/html");
    }
  });

  it("locks the source out with an HTML 429 after repeated failures, even for a good token", async () => {
    for (let i = 0; i < 3; i++) expect((await call("GET", "/api/v2/cmdb/firewall/address", "bad")).status).toBe(401);
    const r = await call("GET", "/api/v2/cmdb/firewall/address", emu.token);
    expect(r.status).toBe(429);
    expect(r.text).toContain("Maximum failed authentications");
  });

  it("a request with no credential at all is 401 but not a failed login (unsourced: a variant, lockoutCountsMissingCredentials)", async () => {
    for (let i = 0; i < 5; i++) expect((await call("GET", "/api/v2/monitor/system/status", undefined)).status).toBe(401);
    expect((await call("GET", "/api/v2/cmdb/firewall/address", emu.token)).status).toBe(200);
    emu.backend.lockoutCountsMissingCredentials = true;
    try {
      for (let i = 0; i < 3; i++) expect((await call("GET", "/api/v2/monitor/system/status", undefined)).status).toBe(401);
      expect((await call("GET", "/api/v2/cmdb/firewall/address", emu.token)).status).toBe(429);
    } finally {
      emu.backend.lockoutCountsMissingCredentials = false;
      emu.backend.clearLockouts();
    }
  });

  it("answers 403 JSON without an error code for a VDOM out of scope, an unknown VDOM and a read-only write", async () => {
    emu.backend.addVdom("other");
    for (const [m, p, t] of [
      ["GET", "/api/v2/monitor/system/status?vdom=other", RO],
      ["GET", "/api/v2/monitor/system/status?vdom=nope", emu.token],
      ["POST", "/api/v2/cmdb/firewall/address", RO],
    ] as const) {
      const r = await call(m, p, t, m === "POST" ? { name: "x", subnet: "10.1.1.1/32" } : undefined);
      expect(r.status).toBe(403);
      expect(r.json).toMatchObject({ status: "error", http_status: 403 });
      expect(r.json).not.toHaveProperty("error");
    }
  });

  it("write probe: PUT on a missing object is 404 with write access and 403 without, with no side effect", async () => {
    emu.log.clear();
    expect((await call("PUT", "/api/v2/cmdb/firewall/address/__missing__", emu.token, {})).status).toBe(404);
    expect((await call("PUT", "/api/v2/cmdb/firewall/address/__missing__", RO, {})).status).toBe(403);
    expect(emu.log.sideEffects()).toHaveLength(0);
  });

  it("stores a subnet as 'ip mask', refuses duplicates (-5), name clashes with groups (-163), bad values (-651)", async () => {
    const c = await call("POST", "/api/v2/cmdb/firewall/address?vdom=root", emu.token, { name: "a1", subnet: "10.9.0.0/16" });
    expect(c.json).toMatchObject({ status: "success", http_status: 200, mkey: "a1", revision_changed: true });
    const g = await call("GET", "/api/v2/cmdb/firewall/address/a1", emu.token);
    expect(g.json).toMatchObject({ mkey: "a1", results: [{ name: "a1", subnet: "10.9.0.0 255.255.0.0", q_origin_key: "a1" }] });
    expect((await call("POST", "/api/v2/cmdb/firewall/address", emu.token, { name: "a1", subnet: "10.9.0.0/16" })).json).toMatchObject({
      http_status: 500,
      error: -5,
    });
    expect((await call("POST", "/api/v2/cmdb/firewall/address", emu.token, { name: "jit-admins", subnet: "10.1.0.0/16" })).json).toMatchObject({ error: -163 });
    expect((await call("POST", "/api/v2/cmdb/firewall/address", emu.token, { name: "a2", subnet: "10.1.0.300/16" })).json).toMatchObject({ error: -651 });
    expect(emu.log.entries().filter((e) => e.sideEffect)).not.toHaveLength(0);
  });

  it("member child paths: add, -5 duplicate, -3 unknown member, -23 on deleting a member, 404 on a missing group", async () => {
    await call("POST", "/api/v2/cmdb/firewall/address", emu.token, { name: "m1", subnet: "10.2.2.2 255.255.255.255" });
    expect((await call("POST", "/api/v2/cmdb/firewall/addrgrp/jit-admins/member", emu.token, { name: "m1" })).status).toBe(200);
    expect((await call("POST", "/api/v2/cmdb/firewall/addrgrp/jit-admins/member", emu.token, { name: "m1" })).json).toMatchObject({ error: -5 });
    expect((await call("POST", "/api/v2/cmdb/firewall/addrgrp/jit-admins/member", emu.token, { name: "ghost" })).json).toMatchObject({ error: -3 });
    expect((await call("GET", "/api/v2/cmdb/firewall/addrgrp/jit-admins/member/m1", emu.token)).status).toBe(200);
    expect((await call("DELETE", "/api/v2/cmdb/firewall/address/m1", emu.token)).json).toMatchObject({ http_status: 500, error: -23 });
    const missing = await call("POST", "/api/v2/cmdb/firewall/addrgrp/nogroup/member", emu.token, { name: "m1" });
    expect(missing.status).toBe(404);
    expect(missing.json).not.toHaveProperty("error");
    expect((await call("DELETE", "/api/v2/cmdb/firewall/addrgrp/jit-admins/member/m1", emu.token)).status).toBe(200);
    expect((await call("DELETE", "/api/v2/cmdb/firewall/addrgrp/jit-admins/member/m1", emu.token)).status).toBe(404);
    expect((await call("DELETE", "/api/v2/cmdb/firewall/address/m1", emu.token)).status).toBe(200);
    expect(emu.backend.groupMembers("root", "jit-admins")).toEqual([]);
  });

  it("keeps VDOMs apart and stores IPv6 in address6", async () => {
    await call("POST", "/api/v2/cmdb/firewall/address6?vdom=dmz", emu.token.length ? emu.token : "", { name: "v6", ip6: "2001:db8::/64" });
    emu.backend.addUser({ name: "both", token: "both-token-0123456789", vdoms: ["root", "dmz"] });
    expect((await call("POST", "/api/v2/cmdb/firewall/address6?vdom=dmz", "both-token-0123456789", { name: "v6", ip6: "2001:db8::/64" })).status).toBe(200);
    expect(emu.backend.addresses("dmz", "ipv6").map((a) => a.value)).toEqual(["2001:db8::/64"]);
    expect(emu.backend.addresses("root", "ipv6")).toEqual([]);
  });

  it("control routes: seed a group and edit out of band", async () => {
    const ctl = (p: string, b: unknown) =>
      request(`${emu.url}/__emulator/${p}`, { method: "POST", dispatcher: agent, body: JSON.stringify(b) }).then((r) => r.body.json());
    await ctl("groups", { name: "ci-group" });
    expect(emu.backend.getGroup("root", "ipv4", "ci-group")).toBeDefined();
    expect(emu.log.unhandled()).toHaveLength(0);
  });
});

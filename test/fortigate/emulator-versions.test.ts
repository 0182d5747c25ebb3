/**
 * The FortiGate emulator's `version` option: what changes between FortiOS releases
 * (docs/reference/fortigate.md "Behaviours to model (verified from sources)"), each over HTTPS
 * against an emulator of that version.
 */
import { Agent, request } from "undici";
import { startFortigateEmulator, type FortigateEmulator } from "../../emulators/fortigate/emulator";

const VERSIONS = ["6.0.11", "7.0.12", "7.2.8", "7.4.4", "7.4.5", "7.6.x"] as const;
type V = (typeof VERSIONS)[number];
const emus = {} as Record<V, FortigateEmulator>;
let agent: Agent;
const SEED = {
  addresses: [
    { name: "a1", subnet: "10.0.0.1/32" },
    { name: "a2", subnet: "10.0.0.2/32" },
  ],
  groups: [{ name: "g", members: ["a1"] }],
};

beforeAll(async () => {
  for (const v of VERSIONS) emus[v] = await startFortigateEmulator({ version: v, ...SEED });
  agent = new Agent({ connect: { ca: emus["7.6.x"].caCert } });
});
afterAll(async () => {
  await agent.close();
  await Promise.all(Object.values(emus).map((e) => e.close()));
});
beforeEach(async () => {
  for (const v of VERSIONS) await call(v, "POST", "/__emulator/reset", undefined, "");
});

type Json = Record<string, any>;
async function call(v: V, method: string, path: string, body?: unknown, token: string = emus[v].token) {
  const res = await request(`${emus[v].url}${path}`, {
    method: method as "GET",
    dispatcher: agent,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  let json: Json | undefined;
  try {
    json = JSON.parse(text) as Json;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, json: json as Json, type: String(res.headers["content-type"]) };
}
const GRP = "/api/v2/cmdb/firewall/addrgrp";

describe("FortiGate emulator versions", () => {
  it("the envelope's version and build follow the option; '7.6.x' is the newest known 7.6", async () => {
    const got = await Promise.all(VERSIONS.map(async (v) => (await call(v, "GET", "/api/v2/monitor/system/status")).json));
    expect(got.map((j) => [j.version, j.build])).toEqual([
      ["v6.0.11", 6011],
      ["v7.0.12", 523],
      ["v7.2.8", 1639],
      ["v7.4.4", 2662],
      ["v7.4.5", 2702],
      ["v7.6.4", 3596],
    ]);
    await expect(startFortigateEmulator({ version: "seven" })).rejects.toThrow(/not a FortiOS version/);
  });

  it("before 7.2.0 the last member cannot leave a group (child DELETE, PUT member [], member table purge) — HTTP 500, -56; from 7.2.0 it can (PFGT-T, BATFISH)", async () => {
    for (const v of ["6.0.11", "7.0.12"] as const) {
      for (const [m, p, b] of [
        ["DELETE", `${GRP}/g/member/a1`, undefined],
        ["PUT", `${GRP}/g`, { member: [] }],
        ["DELETE", `${GRP}/g/member`, undefined],
      ] as const) {
        const r = await call(v, m, p, b);
        expect([v, m, p, r.status, r.json.error]).toEqual([v, m, p, 500, -56]);
      }
      expect(emus[v].backend.groupMembers("root", "g")).toEqual(["a1"]);
      // Swapping the last member is fine: the group never empties.
      expect((await call(v, "PUT", `${GRP}/g`, { member: [{ name: "a2" }] })).status).toBe(200);
      expect((await call(v, "DELETE", `${GRP}/g/member/a2`)).json).toMatchObject({ http_status: 500, error: -56 });
    }
    for (const v of ["7.2.8", "7.4.4", "7.6.x"] as const) {
      expect((await call(v, "DELETE", `${GRP}/g/member/a1`)).status).toBe(200);
      expect(emus[v].backend.groupMembers("root", "g")).toEqual([]);
    }
  });

  it("before 7.2.0 a group cannot be created empty, over REST, by a control route, or as a seed", async () => {
    expect((await call("7.0.12", "POST", GRP, { name: "empty" })).json).toMatchObject({
      http_status: 500,
      error: -56,
      cli_error: expect.stringContaining("-56"),
    });
    expect((await call("6.0.11", "POST", GRP, { name: "empty", member: [] })).json).not.toHaveProperty("cli_error");
    expect((await call("7.0.12", "POST", "/__emulator/groups", { name: "empty" }, "")).json).toMatchObject({ status: "error", error: -56 });
    await expect(startFortigateEmulator({ version: "7.0.12", groups: [{ name: "jit-admins" }] })).rejects.toThrow(/needs a member before 7.2.0/);
    expect((await call("7.2.8", "POST", GRP, { name: "empty" })).status).toBe(200);
  });

  it("?access_token= is accepted before 7.4.5 and refused (401 HTML) from 7.4.5 unless rest-api-key-url-query is enabled (P-URLQ, AN#359)", async () => {
    const viaUrl = async (v: V) => (await call(v, "GET", `/api/v2/monitor/system/status?access_token=${emus[v].token}`, undefined, "")).status;
    expect(await Promise.all(VERSIONS.map(viaUrl))).toEqual([200, 200, 200, 200, 401, 401]);
    expect((await call("7.4.5", "GET", `/api/v2/monitor/system/status?access_token=${emus["7.4.5"].token}`, undefined, "")).type).toContain("text/html");
    const enabled = await startFortigateEmulator({ version: "7.4.5", urlQueryToken: true });
    try {
      const r = await request(`${enabled.url}/api/v2/monitor/system/status?access_token=${enabled.token}`, { dispatcher: agent });
      await r.body.dump();
      expect(r.statusCode).toBe(200);
    } finally {
      await enabled.close();
    }
  });

  it("cmdb/system/global answers with the firmware version in the envelope on every version (terraform-provider-fortios reads it there)", async () => {
    for (const v of VERSIONS) {
      const r = await call(v, "GET", "/api/v2/cmdb/system/global");
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ status: "success", version: expect.stringMatching(/^v\d+\.\d+\.\d+$/), results: { hostname: expect.any(String) } });
    }
  });

  it("cmdb/system/status answers up to 7.2.x (also as a global=1 array) and is a JSON 404 object from 7.4 (FAPI#80, VG#31)", async () => {
    for (const v of ["7.0.12", "7.2.8"] as const) {
      expect((await call(v, "GET", "/api/v2/cmdb/system/status")).json).toMatchObject({
        status: "success",
        version: `v${v}`,
        results: { hostname: expect.any(String) },
      });
      expect((await call(v, "GET", "/api/v2/cmdb/system/status?global=1")).json).toEqual([expect.objectContaining({ version: `v${v}`, vdom: "root" })]);
    }
    for (const v of ["7.4.4", "7.4.5", "7.6.x"] as const) {
      const r = await call(v, "GET", "/api/v2/cmdb/system/status?global=1");
      expect(r.status).toBe(404);
      expect(r.json).toMatchObject({ status: "error", http_status: 404 });
      expect(Array.isArray(r.json)).toBe(false);
    }
  });

  it("collection envelopes carry size/matched_count/next_idx/limit_reached from 7.2 (ADM-API 7.2.9), not before (R7 6.2.3)", async () => {
    expect((await call("7.0.12", "GET", "/api/v2/cmdb/firewall/address?filter=name==a1")).json).not.toHaveProperty("matched_count");
    expect((await call("7.2.8", "GET", "/api/v2/cmdb/firewall/address?filter=name==a1")).json).toMatchObject({
      size: 2,
      matched_count: 1,
      limit_reached: false,
    });
  });

  it("names are limited to 63 characters on 6.0 (CLI60) and 79 from 6.4 (SW-CMDB): -1", async () => {
    const body = (n: number) => ({ name: "n".repeat(n), subnet: "10.9.0.1/32" });
    expect((await call("6.0.11", "POST", "/api/v2/cmdb/firewall/address", body(64))).json).toMatchObject({ http_status: 500, error: -1 });
    expect((await call("6.0.11", "POST", "/api/v2/cmdb/firewall/address", body(63))).status).toBe(200);
    expect((await call("7.0.12", "POST", "/api/v2/cmdb/firewall/address", body(79))).status).toBe(200);
    expect((await call("7.0.12", "POST", "/api/v2/cmdb/firewall/address", body(80))).json).toMatchObject({ error: -1 });
  });
});

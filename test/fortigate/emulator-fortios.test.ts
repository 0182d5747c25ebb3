/**
 * The FortiGate emulator against FortiOS behaviours that third-party tools rely on (default version,
 * 7.6.4): query options, trailing slashes, multi-VDOM answers, subnet forms, rename and comment by PUT,
 * object types, 405 vs 404, member child paths, purge, and the control routes. Each case cites the
 * reference line (docs/reference/fortigate.md) it checks.
 */
import { Agent, request } from "undici";
import { startFortigateEmulator, type FortigateEmulator } from "../../emulators/fortigate/emulator";

let emu: FortigateEmulator;
let agent: Agent;
const BOTH = "both-vdoms-token-0123456789";
beforeAll(async () => {
  emu = await startFortigateEmulator({
    vdoms: ["root", "dmz", "lab"],
    addresses: [
      { name: "web-1", subnet: "192.0.2.10/32", comment: "SSLVPN web" },
      { name: "web-2", subnet: "192.0.2.11 255.255.255.255" },
      { name: "db-net", subnet: "10.20.0.0/16" },
    ],
    groups: [{ name: "web", members: ["web-1", "web-2"] }, { name: "jit" }],
  });
  emu.backend.addUser({ name: "both", token: BOTH, vdoms: ["root", "dmz"] });
  agent = new Agent({ connect: { ca: emu.caCert } });
});
afterAll(async () => {
  await agent.close();
  await emu.close();
});
beforeEach(async () => {
  await ctl("POST", "reset");
  emu.backend.addUser({ name: "both", token: BOTH, vdoms: ["root", "dmz"] });
});

type Json = Record<string, any>;
async function call(method: string, path: string, body?: unknown, token: string | undefined = emu.token) {
  const res = await request(`${emu.url}${path}`, {
    method: method as "GET",
    dispatcher: agent,
    headers: { ...(token && { authorization: `Bearer ${token}` }) },
    ...(body !== undefined && { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await res.body.text();
  let json: Json | undefined;
  try {
    json = JSON.parse(text) as Json;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, json: json as Json, text, type: String(res.headers["content-type"]) };
}
const ctl = (method: string, action: string, body?: unknown) => call(method, `/__emulator/${action}`, body, "");
const names = (r: { json: Json }) => (r.json.results as Json[]).map((x) => x.name as string);
const ADDR = "/api/v2/cmdb/firewall/address";
const GRP = "/api/v2/cmdb/firewall/addrgrp";

describe("FortiGate emulator: FortiOS query options (§2a, ADM-API, SW-CMDB)", () => {
  it("envelope reports the default version v7.6.4 build 3596", async () => {
    expect((await call("GET", ADDR)).json).toMatchObject({ version: "v7.6.4", build: 3596, path: "firewall", name: "address", status: "success" });
  });

  it("filter: == and =@, ',' is OR, repeated filter is AND; matched_count follows (ADM-API 7.2.9)", async () => {
    expect(names(await call("GET", `${ADDR}?filter=name==web-1`))).toEqual(["web-1"]);
    const contains = await call("GET", `${ADDR}?filter=comment=@SSLVPN`);
    expect(contains.json).toMatchObject({ matched_count: 1, size: 3 });
    expect(names(await call("GET", `${ADDR}?filter=name==web-1,name==db-net`))).toEqual(["web-1", "db-net"]);
    expect(names(await call("GET", `${ADDR}?filter=name=@web&filter=name!=web-1`))).toEqual(["web-2"]);
    expect(names(await call("GET", `${ADDR}?filter=subnet=@${encodeURIComponent("255.255.0.0")}`))).toEqual(["db-net"]);
    expect(names(await call("GET", `${GRP}?filter=member=@web-2`))).toEqual(["web"]);
  });

  it("count caps the rows (limit_reached), start skips, format keeps only the named fields", async () => {
    const capped = await call("GET", `${ADDR}?count=1`);
    expect(capped.json).toMatchObject({ matched_count: 3, limit_reached: true, next_idx: 0 });
    expect(names(capped)).toEqual(["web-1"]);
    expect(names(await call("GET", `${ADDR}?start=1&count=1`))).toEqual(["web-2"]);
    expect((await call("GET", `${ADDR}?format=name|subnet`)).json.results[0]).toEqual({ name: "web-1", subnet: "192.0.2.10 255.255.255.255" });
    expect((await call("GET", `${ADDR}/web-2?format=name`)).json).toMatchObject({ mkey: "web-2", results: [{ name: "web-2" }] });
    expect((await call("GET", `${ADDR}?count=x`)).status).toBe(400);
  });

  it("action=schema answers the table schema with mkey 'name' (PFGT-T, FAPI get_mkeyname); action=default a new object", async () => {
    for (const p of [`${ADDR}?action=schema`, `${ADDR}/?action=schema`, `${GRP}/web?action=schema`]) {
      const r = await call("GET", p);
      expect(r.json.results).toMatchObject({ mkey: "name", category: "table", children: { name: { type: "string", size: 79 } } });
    }
    expect((await call("GET", `${ADDR}?action=schema`)).json.results.children.type.options.map((o: Json) => o.name)).toContain("fqdn");
    expect((await call("GET", `${ADDR}?action=default`)).json.results).toMatchObject({ type: "ipmask", subnet: "0.0.0.0 0.0.0.0" });
  });

  it("a trailing slash on a collection is the collection (ADM-API, PYFA, DCFA), for GET and POST", async () => {
    expect(names(await call("GET", `${ADDR}/?format=name`))).toEqual(["web-1", "web-2", "db-net"]);
    expect((await call("POST", `${ADDR}/`, { name: "slash", subnet: "10.9.9.9/32" })).json).toMatchObject({ status: "success", mkey: "slash" });
  });
});

describe("FortiGate emulator: VDOM scope (P-VDOM403, FAPI/AN-MU formatresponse)", () => {
  it("?global=1 and vdom=* answer an array of envelopes for the VDOMs the token holds only", async () => {
    await call("POST", `${ADDR}?vdom=dmz`, { name: "in-dmz", subnet: "10.3.0.0/16" }, BOTH);
    for (const q of ["global=1", "vdom=*"]) {
      const r = await call("GET", `${ADDR}?${q}&format=name`, undefined, BOTH);
      expect(Array.isArray(r.json)).toBe(true);
      expect((r.json as unknown as Json[]).map((e) => [e.vdom, e.results.map((x: Json) => x.name)])).toEqual([
        ["root", ["web-1", "web-2", "db-net"]],
        ["dmz", ["in-dmz"]],
      ]);
    }
    const mon = await call("GET", "/api/v2/monitor/system/status?global=1");
    expect(mon.json).toEqual([expect.objectContaining({ vdom: "root", version: "v7.6.4" })]);
  });

  it("vdom=a,b answers one envelope each; a VDOM outside the token's list is 403; a write in several VDOMs is refused (400)", async () => {
    const r = await call("GET", `${ADDR}?vdom=root,dmz`, undefined, BOTH);
    expect((r.json as unknown as Json[]).map((e) => e.vdom)).toEqual(["root", "dmz"]);
    const out = await call("GET", `${ADDR}?vdom=root,lab`, undefined, BOTH);
    expect(out.status).toBe(403);
    expect(out.json).toMatchObject({ status: "error", http_status: 403, vdom: "lab" });
    expect((await call("POST", `${ADDR}?global=1`, { name: "x", subnet: "10.0.0.1/32" })).status).toBe(400);
  });
});

describe("FortiGate emulator: objects (§2a body rules, Behaviours to model)", () => {
  it("subnet in '/len', 'ip mask', '/m.m.m.m' and bare form reads back as 'ip mask' (VG#20, PFGT#217, R7); a non-contiguous mask is -651", async () => {
    const forms: [string, string][] = [
      ["10.0.0.0 255.255.255.0", "10.0.0.0 255.255.255.0"],
      ["10.1.0.0/255.255.0.0", "10.1.0.0 255.255.0.0"],
      ["10.2.0.0/24", "10.2.0.0 255.255.255.0"],
      ["10.3.0.1", "10.3.0.1 255.255.255.255"],
    ];
    for (const [i, [input, out]] of forms.entries()) {
      expect((await call("POST", ADDR, { name: `f${i}`, subnet: input })).status).toBe(200);
      expect((await call("GET", `${ADDR}/f${i}`)).json.results[0]).toMatchObject({ type: "ipmask", subnet: out });
    }
    await call("PUT", `${ADDR}/f0`, { subnet: "10.0.0.0/255.255.255.128" });
    expect((await call("GET", `${ADDR}/f0`)).json.results[0].subnet).toBe("10.0.0.0 255.255.255.128");
    expect((await call("POST", ADDR, { name: "bad", subnet: "1.1.1.1 255.0.255.0" })).json).toMatchObject({ http_status: 500, error: -651 });
  });

  it("PUT {name} renames and the group follows; PUT {comment} on an address or a group keeps the rest (PFGT-T)", async () => {
    expect((await call("PUT", `${ADDR}/web-1`, { name: "web-one" })).json).toMatchObject({ status: "success", revision_changed: true });
    expect((await call("GET", `${ADDR}/web-1`)).status).toBe(404);
    expect((await call("GET", `${GRP}/web`)).json.results[0].member.map((m: Json) => m.name)).toEqual(["web-one", "web-2"]);
    await call("PUT", `${ADDR}/web-one`, { comment: "renamed" });
    expect((await call("GET", `${ADDR}/web-one`)).json.results[0]).toMatchObject({ comment: "renamed", subnet: "192.0.2.10 255.255.255.255" });
    await call("PUT", `${GRP}/web`, { comment: "Modified" });
    expect((await call("GET", `${GRP}/web`)).json.results[0]).toMatchObject({ comment: "Modified", member: [{ name: "web-one" }, { name: "web-2" }] });
    await call("PUT", `${GRP}/web`, { name: "web-servers" });
    expect((await call("GET", `${GRP}/web-servers`)).status).toBe(200);
    expect((await call("PUT", `${ADDR}/web-2`, { name: "db-net" })).json).toMatchObject({ error: -5 });
    expect((await call("PUT", `${ADDR}/web-2`, { name: "jit" })).json).toMatchObject({ error: -163 });
  });

  it("object types: iprange, fqdn (no subnet), geography, wildcard; address6 ipprefix and fqdn; a bad type or a missing field is -651", async () => {
    await call("POST", ADDR, { name: "r", type: "iprange", "start-ip": "10.0.0.1", "end-ip": "10.0.0.9" });
    await call("POST", ADDR, { name: "f", type: "fqdn", fqdn: "example.com" });
    await call("POST", ADDR, { name: "g", type: "geography", country: "FR" });
    await call("POST", ADDR, { name: "w", type: "wildcard", wildcard: "10.0.0.0 255.0.255.0" });
    const rows = (await call("GET", `${ADDR}?filter=name==r,name==f,name==g,name==w`)).json.results as Json[];
    // Every object also carries its settings (color, allow-routing, fabric-object: emulator-settings.test.ts).
    const common = ["q_origin_key", "uuid", "comment", "color", "allow-routing", "fabric-object"];
    expect(rows.map(({ name, type, ...rest }) => ({ name, type, keys: Object.keys(rest).filter((k) => !common.includes(k)) }))).toEqual([
      { name: "r", type: "iprange", keys: ["start-ip", "end-ip"] },
      { name: "f", type: "fqdn", keys: ["fqdn"] },
      { name: "g", type: "geography", keys: ["country"] },
      { name: "w", type: "wildcard", keys: ["wildcard"] },
    ]);
    expect((await call("POST", ADDR, { name: "x1", type: "nope" })).json).toMatchObject({ error: -651 });
    expect((await call("POST", ADDR, { name: "x2", type: "fqdn" })).json).toMatchObject({ error: -651 });
    expect((await call("POST", ADDR, { name: "x3", type: "iprange", "start-ip": "10.0.0.9", "end-ip": "10.0.0.1" })).json).toMatchObject({ error: -651 });
    await call("POST", `${ADDR}6`, { name: "v6", ip6: "2001:db8::/64" });
    await call("POST", `${ADDR}6`, { name: "v6f", type: "fqdn", fqdn: "v6.example.com" });
    expect((await call("GET", `${ADDR}6?format=name|type`)).json.results).toEqual([
      { name: "v6", type: "ipprefix" },
      { name: "v6f", type: "fqdn" },
    ]);
  });

  it("405 vs 404: PUT on a collection and an unsupported method are 405 JSON; POST on an object path is 404 (AN#289, FAPI)", async () => {
    for (const [m, p] of [
      ["PUT", ADDR],
      ["PUT", `${ADDR}/`],
      ["PATCH", `${ADDR}/web-1`],
      ["PUT", `${GRP}/web/member`],
    ] as const) {
      const r = await call(m, p, {});
      expect([m, p, r.status, r.json.http_status, r.json.status]).toEqual([m, p, 405, 405, "error"]);
      expect(r.json).not.toHaveProperty("error");
    }
    expect((await call("POST", `${ADDR}/web-1`, { name: "web-1" })).status).toBe(404);
    expect(emu.log.unhandled()).toHaveLength(0);
  });

  it("an unknown API path is a JSON 404 (FAPI#80), logged as unhandled even when the token is refused", async () => {
    const r = await call("GET", "/api/v2/cmdb/firewall/policy");
    expect(r).toMatchObject({ status: 404, json: { status: "error", http_status: 404, version: "v7.6.4" } });
    expect((await call("GET", "/api/v2/monitor/nope", undefined, "bad-token")).status).toBe(401);
    expect(emu.log.unhandled().map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      "GET /api/v2/cmdb/firewall/policy 404",
      "GET /api/v2/monitor/nope 401",
    ]);
  });

  it("DELETE on a collection purges the objects nothing references (P-604, DCFA PR #7)", async () => {
    const r = await call("DELETE", `${ADDR}/`);
    expect(r.json).toMatchObject({ status: "success", revision_changed: true });
    expect(emu.backend.addresses("root").map((a) => a.name)).toEqual(["web-1", "web-2"]);
  });
});

describe("FortiGate emulator: member child paths (AN-MU _request_sub_object, AN#300)", () => {
  const M = `${GRP}/web/member`;
  it("list with filter, read one, 404 for a non-member and a missing group, POST on a child path 404", async () => {
    expect(names(await call("GET", `${M}?filter=name==web-2`))).toEqual(["web-2"]);
    expect((await call("GET", `${M}/web-1`)).json).toMatchObject({ mkey: "web-1", results: [{ name: "web-1", q_origin_key: "web-1" }] });
    expect((await call("GET", `${M}/db-net`)).status).toBe(404);
    expect((await call("GET", `${GRP}/nogroup/member`)).status).toBe(404);
    expect((await call("POST", `${M}/web-1`, { name: "web-1" })).status).toBe(404);
  });

  it("a repeated member POST answers -5 without mkey by default; with repeatedMemberPost 'ok' a 200 that changes nothing", async () => {
    const dup = await call("POST", M, { name: "web-1" });
    expect(dup.json).toMatchObject({ status: "error", http_status: 500, error: -5, revision_changed: false });
    expect(dup.json).not.toHaveProperty("mkey");
    await ctl("POST", "settings", { repeatedMemberPost: "ok" });
    emu.log.clear();
    expect((await call("POST", M, { name: "web-1" })).json).toMatchObject({ status: "success", revision_changed: false });
    expect(emu.log.sideEffects()).toHaveLength(0);
    expect(emu.backend.groupMembers("root", "web")).toEqual(["web-1", "web-2"]);
  });

  it("child PUT: the same name is a 200 no-op, a new name replaces the member; the member table DELETE purges it (7.6: may empty)", async () => {
    expect((await call("PUT", `${M}/web-1`, { name: "web-1" })).json).toMatchObject({ status: "success", revision_changed: false });
    expect((await call("PUT", `${M}/web-1`, { name: "db-net" })).json).toMatchObject({ status: "success", revision_changed: true });
    expect(emu.backend.groupMembers("root", "web")).toEqual(["db-net", "web-2"]);
    expect((await call("PUT", `${M}/web-1`, {})).status).toBe(404);
    expect((await call("DELETE", `${M}/`)).status).toBe(200);
    expect(emu.backend.groupMembers("root", "web")).toEqual([]);
  });
});

describe("FortiGate emulator: control routes", () => {
  it("list state, add and remove an address, a group and a member by hand, with the device's codes on refusal", async () => {
    expect((await ctl("GET", "state")).json).toMatchObject({
      status: "ok",
      version: "v7.6.4",
      vdoms: ["root", "dmz", "lab"],
      groups: [{ name: "web" }, { name: "jit" }],
    });
    expect((await ctl("POST", "addresses", { name: "hand", subnet: "198.51.100.0/24" })).json).toMatchObject({ status: "ok" });
    expect((await ctl("POST", "members", { group: "jit", name: "hand" })).status).toBe(200);
    expect((await ctl("DELETE", "addresses", { name: "hand" })).json).toMatchObject({ status: "error", http_status: 500, error: -23 });
    expect((await ctl("DELETE", "members", { group: "jit", name: "hand" })).status).toBe(200);
    expect((await ctl("DELETE", "addresses", { name: "hand" })).status).toBe(200);
    expect((await ctl("POST", "groups", { family: "ipv6", name: "g6" })).status).toBe(200);
    expect((await ctl("GET", "state?vdom=root")).json.groups6).toEqual([expect.objectContaining({ name: "g6", members: [] })]);
    expect((await ctl("DELETE", "groups", { family: "ipv6", name: "g6" })).status).toBe(200);
    expect((await ctl("GET", "users")).json.users.map((u: Json) => u.name)).toEqual(["grants-api", "both"]);
    expect((await ctl("POST", "members", "{not json")).status).toBe(400);
    expect((await ctl("GET", "nope")).status).toBe(404);
  });

  it("settings toggle rest-api-key-url-query: a token in the URL is 401 on 7.6 until enabled (P-URLQ)", async () => {
    expect((await call("GET", `${ADDR}?access_token=${emu.token}`, undefined, "")).status).toBe(401);
    emu.backend.clearLockouts();
    expect((await ctl("POST", "settings", { urlQueryToken: true })).json).toMatchObject({ urlQueryToken: true });
    expect((await call("GET", `${ADDR}?access_token=${emu.token}`, undefined, "")).status).toBe(200);
  });

  it("faults from the kit apply to the device routes", async () => {
    await ctl("POST", "faults", { match: "GET /api/v2/cmdb/firewall/address", kind: "status", status: 503, times: 1 });
    expect((await call("GET", ADDR)).status).toBe(503);
    expect((await call("GET", ADDR)).status).toBe(200);
  });
});

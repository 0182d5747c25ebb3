/**
 * Issue 19, "real peers run unmodified against the emulators": terraform-provider-fortios 1.25.0 run
 * against the FortiGate emulator (bench/peer.ts) sets `color`, `allow-routing` and `fabric-object` on
 * addresses and groups and reads them back; the emulator answered "success" and dropped them, so every
 * plan after a clean apply showed a change. These cases replay the provider's requests (its own
 * `sdk/request/request.go`: `Authorization: Bearer`, `?vdom=root`, JSON bodies with integers as numbers)
 * and check the device's storage and answers (docs/reference/fortigate.md §2a "firewall/address body",
 * "Corrections").
 */
import { Agent, request } from "undici";
import { startFortigateEmulator, type FortigateEmulator } from "../../emulators/fortigate/emulator";

let emu: FortigateEmulator;
let agent: Agent;
beforeAll(async () => {
  emu = await startFortigateEmulator();
  agent = new Agent({ connect: { ca: emu.caCert } });
});
afterAll(async () => {
  await agent.close();
  await emu.close();
});
beforeEach(() => {
  emu.backend.reset();
  emu.backend.createAddress("root", "ipv4", { name: "seed", subnet: "10.0.0.1/32" });
});

type Json = Record<string, any>;
/** A request as the provider sends it (sdk/request/request.go `Send2`, `buildURL`). */
async function sdk(method: string, path: string, body?: unknown) {
  const res = await request(`${emu.url}${path}?vdom=root`, {
    method: method as "GET",
    dispatcher: agent,
    headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${emu.token}` },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.statusCode, json: (await res.body.json()) as Json };
}
const ADDR = "/api/v2/cmdb/firewall/address";
const GRP = "/api/v2/cmdb/firewall/addrgrp";

describe("FortiGate emulator: object settings a peer sets are stored and read back (issue 19)", () => {
  it("the version probe the provider sends before every operation answers with the firmware version", async () => {
    const r = await sdk("GET", "/api/v2/cmdb/system/global");
    expect(r).toMatchObject({ status: 200, json: { status: "success", version: "v7.6.4" } });
  });

  it("an address created with color, allow-routing and fabric-object reads them back", async () => {
    const body = { name: "peer-a", type: "ipmask", subnet: "10.9.9.9 255.255.255.255", color: 3, "allow-routing": "enable", "fabric-object": "enable" };
    expect((await sdk("POST", ADDR, body)).status).toBe(200);
    const got = (await sdk("GET", `${ADDR}/peer-a`)).json.results[0];
    expect(got).toMatchObject({ name: "peer-a", subnet: "10.9.9.9 255.255.255.255", color: 3, "allow-routing": "enable", "fabric-object": "enable" });
  });

  it("an address created without them shows the device's defaults (color 0, disable, disable)", async () => {
    await sdk("POST", ADDR, { name: "plain", subnet: "10.9.9.8/32" });
    expect((await sdk("GET", `${ADDR}/plain`)).json.results[0]).toMatchObject({ color: 0, "allow-routing": "disable", "fabric-object": "disable" });
  });

  it("a PUT changes only the settings it names", async () => {
    await sdk("POST", ADDR, { name: "peer-a", subnet: "10.9.9.9/32", color: 3, "allow-routing": "enable" });
    expect((await sdk("PUT", `${ADDR}/peer-a`, { color: 7 })).status).toBe(200);
    expect((await sdk("GET", `${ADDR}/peer-a`)).json.results[0]).toMatchObject({ color: 7, "allow-routing": "enable", subnet: "10.9.9.9 255.255.255.255" });
  });

  it("a group keeps its settings across a PUT that replaces the member list", async () => {
    await sdk("POST", GRP, { name: "peer_grp", color: 5, "allow-routing": "enable", member: [{ name: "seed" }] });
    await sdk("POST", ADDR, { name: "peer-b", subnet: "10.9.9.10/32" });
    expect((await sdk("PUT", `${GRP}/peer_grp`, { name: "peer_grp", member: [{ name: "seed" }, { name: "peer-b" }] })).status).toBe(200);
    const got = (await sdk("GET", `${GRP}/peer_grp`)).json.results[0];
    expect(got).toMatchObject({ color: 5, "allow-routing": "enable", "fabric-object": "disable" });
    expect(got.member.map((m: Json) => m.name)).toEqual(["seed", "peer-b"]);
  });

  it.each([
    ["color", 33],
    ["color", -1],
    ["color", "blue"],
    ["allow-routing", "yes"],
    ["fabric-object", true],
  ])("%s = %j is refused with -651 and nothing is stored", async (field, value) => {
    const r = await sdk("POST", ADDR, { name: "bad", subnet: "10.9.9.7/32", [field]: value });
    expect(r).toMatchObject({ status: 500, json: { status: "error", error: -651 } });
    expect((await sdk("GET", `${ADDR}/bad`)).status).toBe(404);
    await sdk("POST", GRP, { name: "g", member: [{ name: "seed" }] });
    expect((await sdk("PUT", `${GRP}/g`, { [field]: value })).json.error).toBe(-651);
    expect((await sdk("GET", `${GRP}/g`)).json.results[0]).toMatchObject({ color: 0, "allow-routing": "disable" });
  });

  it("6.2 has no fabric-object (not in its CLI reference): the answer does not carry it", async () => {
    const old = await startFortigateEmulator({ version: "6.2.3" });
    try {
      const a = new Agent({ connect: { ca: old.caCert } });
      const at = (m: string, p: string, body?: unknown) =>
        request(`${old.url}${p}?vdom=root`, {
          method: m as "GET",
          dispatcher: a,
          headers: { authorization: `Bearer ${old.token}` },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        });
      await (await at("POST", ADDR, { name: "x", subnet: "10.1.1.1/32", color: 2 })).body.text();
      const got = ((await (await at("GET", `${ADDR}/x`)).body.json()) as Json).results[0];
      expect(got).toMatchObject({ color: 2, "allow-routing": "disable" });
      expect(got).not.toHaveProperty("fabric-object");
      await a.close();
    } finally {
      await old.close();
    }
  });
});

/**
 * The FortiManager emulator's managed FortiGates and `exec /sys/proxy/json` (docs/reference/fortigate-feeds.md
 * §8–§10), over HTTPS with raw JSON-RPC bodies as curl or Ansible send them.
 */
import { Agent, request } from "undici";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { DEFAULT_DEVICES } from "../../emulators/fortimanager/seed";
import { useEmulator } from "../support/emulator";

let agent: Agent;
// These tests read the entry list right after a push: instant visibility (the shipped default, 2 s, is the variant suite's).
const emu = useEmulator(() => startFortimanagerEmulator({ devices: DEFAULT_DEVICES.map((d) => ({ ...d, feedSettings: { pushVisibleAfterMs: 0 } })) }), {
  onStart: (e) => void (agent = new Agent({ connect: { ca: e.caCert } })),
});
afterAll(() => agent.close());

type Json = any;
async function ctl(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await request(`${emu.url}/__emulator/${path}`, { method, dispatcher: agent, ...(body !== undefined && { body: JSON.stringify(body) }) });
  return { status: res.statusCode, json: await res.body.json() };
}
async function rpc(body: Record<string, unknown>, key: string = DEFAULT_CREDENTIALS.apiKey): Promise<Json> {
  const res = await request(`${emu.url}/jsonrpc`, {
    method: "POST",
    dispatcher: agent,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ id: 1, ...body }),
  });
  return res.body.json();
}
const PUSH = "/api/v2/monitor/system/external-resource/dynamic?vdom=root";
const LIST = "/api/v2/monitor/system/external-resource/entry-list?mkey=jit-allow&vdom=root";
const proxy = (data: Record<string, unknown>, key?: string) => rpc({ method: "exec", params: [{ url: "/sys/proxy/json", data }] }, key);
const add = (target: unknown, entries: string[] = ["203.0.113.7"], key?: string) =>
  proxy({ target, action: "post", resource: PUSH, payload: { commands: [{ name: "jit-allow", command: "add", entries }] }, timeout: 30 }, key);
const byTarget = (r: Json) => Object.fromEntries(r.result[0].data.map((e: Json) => [e.target, e]));
const entriesOn = async (dev: string) => (await ctl("GET", `devices/${dev}/entries?feed=jit-allow`)).json.entries.map((e: Json) => e.entry);

/** An API admin with a given profile and rpc-permit, scoped to some ADOMs. */
async function apiAdmin(userid: string, profileid: string, extra: Record<string, unknown> = {}): Promise<string> {
  const key = `${userid}-key-0123456789abcdefghijklmn`.slice(0, 32);
  expect((await ctl("POST", "admins", { userid, userType: "api", apiKey: key, profileid, ...extra })).status).toBe(200);
  return key;
}

describe("FortiManager emulator: managed devices and /sys/proxy/json", () => {
  it("default seed: fgt-hq and fgt-br1 in ADOM root, each with push feed jit-allow; inventory with numeric or verbose conn_status", async () => {
    const plain = await rpc({ method: "get", params: [{ url: "/dvmdb/adom/root/device", fields: ["name", "sn", "conn_status", "os_ver", "mr", "patch"] }] });
    expect(plain.result[0].status).toEqual({ code: 0, message: "OK" });
    expect(plain.result[0].data).toEqual([
      { name: "fgt-hq", sn: "FGVM02TM24000101", conn_status: 1, os_ver: 7, mr: 6, patch: 4 },
      { name: "fgt-br1", sn: "FGVM02TM24000102", conn_status: 1, os_ver: 7, mr: 6, patch: 4 },
    ]);
    const verbose = await rpc({ method: "get", verbose: 1, params: [{ url: "dvmdb/adom/root/device/fgt-hq" }] });
    expect(verbose.result[0].data).toMatchObject({
      name: "fgt-hq",
      conn_status: "up",
      os_ver: "7.0",
      mr: 6,
      patch: 4,
      conf_status: "insync",
      vdom: [{ name: "root" }],
    });
    expect((await rpc({ method: "get", params: [{ url: "/dvmdb/device/fgt-br1", fields: ["name"] }] })).result[0].data).toEqual({ name: "fgt-br1" });
    expect(
      (await rpc({ method: "get", params: [{ url: "/dvmdb/adom/root/device", filter: ["name", "==", "fgt-br1"], fields: ["name"] }] })).result[0].data,
    ).toEqual([{ name: "fgt-br1" }]);
    expect((await rpc({ method: "get", params: [{ url: "/dvmdb/adom/others/device/fgt-hq" }] })).result[0].status.code).toBe(-3);
    expect((await rpc({ method: "get", params: [{ url: "/dvmdb/adom/nope/device" }] })).result[0].status.code).toBe(-6);
    expect((await rpc({ method: "get", params: [{ url: "/dvmdb/adom/root/device/fgt-hq/vdom" }] })).result[0].data).toEqual([{ name: "root", oid: 3 }]);
    await ctl("PUT", "devices/fgt-br1", { connStatus: "down" });
    await ctl("PUT", "devices/fgt-hq", { connStatus: "unknown" });
    const down = await rpc({ method: "get", params: [{ url: "/dvmdb/adom/root/device", fields: ["name", "conn_status"] }] });
    expect(down.result[0].data).toEqual([
      { name: "fgt-hq", conn_status: 0 },
      { name: "fgt-br1", conn_status: 2 },
    ]);
    expect((await rpc({ method: "get", verbose: 1, params: [{ url: "/dvmdb/device/fgt-hq", fields: ["conn_status"] }] })).result[0].data).toEqual({
      conn_status: "UNKNOWN",
    });
  });

  it("a push through the proxy reaches every target form; per-device data elements relay the FortiGate's own answer", async () => {
    for (const target of [
      ["adom/root/device/fgt-hq"],
      ["/adom/root/group/All_FortiGate"],
      ["device/fgt-br1"],
      ["/group/All_FortiGate"],
      "adom/root/device/fgt-hq",
    ]) {
      const r = await add(target);
      expect(r.result[0].status).toEqual({ code: 0, message: "OK" });
      for (const e of r.result[0].data) {
        expect(e.status).toEqual({ code: 0, message: "OK" });
        expect(e.response).toMatchObject({ http_method: "POST", status: "success", http_status: 200, action: "dynamic", vdom: "root" });
      }
    }
    expect(await entriesOn("fgt-hq")).toEqual(["203.0.113.7"]);
    expect(await entriesOn("fgt-br1")).toEqual(["203.0.113.7"]);
    // Each device answers with its own serial: the response comes from that device.
    const r = await proxy({ target: ["group/All_FortiGate"], action: "get", resource: LIST });
    const t = byTarget(r);
    expect([t["fgt-hq"].response.serial, t["fgt-br1"].response.serial]).toEqual(["FGVM02TM24000101", "FGVM02TM24000102"]);
    expect(t["fgt-hq"].response.results.entries).toEqual([{ entry: "203.0.113.7", valid: true }]);
    // dev_oid form too.
    const oid = (await rpc({ method: "get", params: [{ url: "/dvmdb/device/fgt-hq", fields: ["oid"] }] })).result[0].data.oid;
    expect(Object.keys(byTarget(await proxy({ target: [`dev_oid/${oid}`], action: "get", resource: LIST })))).toEqual(["fgt-hq"]);
  });

  it("a device reached twice (directly and through a group) gets one request; the order of data elements is not fixed", async () => {
    const before = emu.backend.devices.devices.get("fgt-hq")!.requests;
    const r = await add(["adom/root/device/fgt-hq", "group/All_FortiGate", "device/fgt-hq"]);
    expect(r.result[0].data.map((e: Json) => e.target).sort()).toEqual(["fgt-br1", "fgt-hq"]);
    expect(emu.backend.devices.devices.get("fgt-hq")!.requests).toBe(before + 1);
    const orders = new Set<string>();
    for (let i = 0; i < 4; i++)
      orders.add((await proxy({ target: ["group/All_FortiGate"], action: "get", resource: LIST })).result[0].data.map((e: Json) => e.target).join());
    expect(orders.size).toBe(2);
    await ctl("PUT", "proxy", { order: "fixed" });
    orders.clear();
    for (let i = 0; i < 3; i++)
      orders.add((await proxy({ target: ["group/All_FortiGate"], action: "get", resource: LIST })).result[0].data.map((e: Json) => e.target).join());
    expect([...orders]).toEqual(["fgt-hq,fgt-br1"]);
  });

  it("FortiGate errors pass through in response with per-device status 0 (unknown feed → the FortiGate's refusal)", async () => {
    const r = await proxy({
      target: ["device/fgt-hq"],
      action: "post",
      resource: PUSH,
      payload: { commands: [{ name: "nope", command: "add", entries: ["203.0.113.7"] }] },
    });
    expect(r.result[0].data[0]).toMatchObject({ target: "fgt-hq", status: { code: 0 }, response: { status: "error", http_status: 404 } });
    const cmdb = await proxy({ target: ["device/fgt-hq"], action: "get", resource: "/api/v2/cmdb/system/external-resource/jit-allow?vdom=root" });
    expect(cmdb.result[0].data[0].response.results[0]).toMatchObject({ name: "jit-allow", "update-method": "push" });
  });

  it("offline and unknown devices: an element with a non-zero code by default, no element by setting; the others still get the push", async () => {
    expect((await ctl("PUT", "devices/fgt-br1", { connStatus: "down" })).status).toBe(200);
    let t = byTarget(await add(["group/All_FortiGate", "device/fgt-ghost"]));
    expect(t["fgt-hq"].status.code).toBe(0);
    expect(t["fgt-br1"].status.code).not.toBe(0);
    expect(t["fgt-br1"].status.message).toMatch(/offline/);
    expect(t["fgt-br1"].response).toBeUndefined();
    expect(t["fgt-ghost"].status).toEqual({ code: -3, message: "Object does not exist" });
    expect(await entriesOn("fgt-br1")).toEqual([]);
    await ctl("PUT", "proxy", { offlineDevice: "missing", unknownDevice: "missing" });
    t = byTarget(await add(["group/All_FortiGate", "device/fgt-ghost"], ["203.0.113.8"]));
    expect(Object.keys(t)).toEqual(["fgt-hq"]);
    await ctl("PUT", "proxy", { unknownDevice: "call" });
    expect((await add(["device/fgt-hq", "device/fgt-ghost"], ["203.0.113.9"])).result[0].status.code).toBe(-3);
    expect(await entriesOn("fgt-hq")).toEqual(["203.0.113.7", "203.0.113.8"]);
    // Back online: the push reaches it.
    await ctl("PUT", "devices/fgt-br1", { connStatus: "up" });
    expect(byTarget(await add(["device/fgt-br1"])).status).toBeUndefined();
    expect(await entriesOn("fgt-br1")).toEqual(["203.0.113.7"]);
  });

  it("timeout: a device slower than `timeout` seconds answers -24 after the timeout; others answer", async () => {
    await ctl("PUT", "devices/fgt-br1", { latencyMs: 1500 });
    const started = Date.now();
    const t = byTarget(await proxy({ target: ["group/All_FortiGate"], action: "get", resource: LIST, timeout: 1 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(t["fgt-br1"].status).toEqual({ code: -24, message: "Timeout" });
    expect(t["fgt-hq"].status.code).toBe(0);
  });

  it("permissions: rpc-permit read → -11 on proxied writes (and gets unless allowed); device-config read-write or Super_User for writes; ADOM scope", async () => {
    // rpc-permit read with Super_User: -11 on a proxied post [JPF-001].
    const ro = await apiAdmin("ro", "Super_User", { rpcPermit: "read" });
    expect((await add(["device/fgt-hq"], undefined, ro)).result[0].status.code).toBe(-11);
    expect((await proxy({ target: ["device/fgt-hq"], action: "get", resource: LIST }, ro)).result[0].status.code).toBe(-11);
    await ctl("PUT", "proxy", { readWithRpcRead: "allowed" });
    expect((await proxy({ target: ["device/fgt-hq"], action: "get", resource: LIST }, ro)).result[0].status.code).toBe(0);
    expect((await add(["device/fgt-hq"], undefined, ro)).result[0].status.code).toBe(-11);
    // A profile without Manage Device Configurations read-write: -11 on writes; with it: OK.
    const rest = await apiAdmin("rest", "Restricted_User");
    expect((await add(["device/fgt-hq"], undefined, rest)).result[0].status.code).toBe(-11);
    emu.backend.profiles.set("feed_pushers", {
      profileid: "feed_pushers",
      superUser: false,
      systemSetting: "none",
      permissions: { "device-config": "read-write" },
    });
    emu.backend.profiles.set("feed_readers", { profileid: "feed_readers", superUser: false, systemSetting: "none", permissions: { "device-config": "read" } });
    const pusher = await apiAdmin("pusher", "feed_pushers", { adoms: ["root"] });
    const reader = await apiAdmin("reader", "feed_readers");
    expect((await add(["device/fgt-hq"], undefined, reader)).result[0].status.code).toBe(-11);
    expect((await add(["device/fgt-hq"], undefined, pusher)).result[0].data[0].status.code).toBe(0);
    // ADOM outside the admin's scope: the whole call -11 by default, that device's element by setting.
    await ctl("POST", "devices", { name: "fgt-other", adom: "others" });
    expect((await add(["adom/others/device/fgt-other"], undefined, pusher)).result[0].status.code).toBe(-11);
    expect((await add(["group/All_FortiGate"], undefined, pusher)).result[0].status.code).toBe(-11);
    expect((await rpc({ method: "get", params: [{ url: "/dvmdb/adom/others/device" }] }, pusher)).result[0].status.code).toBe(-11);
    await ctl("PUT", "proxy", { outOfScope: "device" });
    const t = byTarget(await add(["group/All_FortiGate"], ["203.0.113.50"], pusher));
    expect([t["fgt-hq"].status.code, t["fgt-br1"].status.code, t["fgt-other"].status.code]).toEqual([0, 0, -11]);
    // Bad body: -10.
    expect((await proxy({ target: ["device/fgt-hq"], action: "patch", resource: PUSH })).result[0].status.code).toBe(-10);
    expect((await proxy({ target: ["nonsense"], action: "get", resource: LIST })).result[0].status.code).toBe(-10);
  });

  it("a device on FortiOS 7.0 has no push endpoint: its element relays the JSON 404", async () => {
    await ctl("POST", "devices", { name: "fgt-old", adom: "root", version: "7.0.12", feeds: [] });
    const t = byTarget(await add(["device/fgt-old"]));
    expect(t["fgt-old"]).toMatchObject({ status: { code: 0 }, response: { status: "error", http_status: 404 } });
    const inv = await rpc({ method: "get", verbose: 1, params: [{ url: "/dvmdb/device/fgt-old", fields: ["os_ver", "mr", "patch"] }] });
    expect(inv.result[0].data).toEqual({ os_ver: "7.0", mr: 0, patch: 12 });
  });

  it("control routes: add/remove devices, online/offline, reach a device's feed entries (list/add/remove/clear/reboot); state; reset", async () => {
    expect(
      (
        await ctl("POST", "devices", {
          name: "fgt-br2",
          adom: "root",
          vdoms: ["root", "dmz"],
          feeds: [{ name: "jit-allow" }, { name: "dmz-allow", vdom: "dmz" }],
          feedSettings: { pushVisibleAfterMs: 0 },
        })
      ).json.device,
    ).toMatchObject({ name: "fgt-br2", connStatus: "up", vdoms: ["root", "dmz"] });
    expect((await ctl("POST", "devices", { name: "x", adom: "nope" })).status).toBe(400);
    expect((await ctl("POST", "devices/fgt-br2/entries", { feed: "jit-allow", entries: ["10.0.0.1", "10.0.0.2"] })).status).toBe(200);
    expect(await entriesOn("fgt-br2")).toEqual(["10.0.0.1", "10.0.0.2"]);
    await ctl("DELETE", "devices/fgt-br2/entries", { feed: "jit-allow", entries: ["10.0.0.1"] });
    expect(await entriesOn("fgt-br2")).toEqual(["10.0.0.2"]);
    await ctl("DELETE", "devices/fgt-br2/entries", { feed: "jit-allow" });
    expect(await entriesOn("fgt-br2")).toEqual([]);
    await add(["device/fgt-br2"]);
    expect((await ctl("POST", "devices/fgt-br2/reboot", {})).json.cleared).toBe(1);
    expect((await ctl("GET", "devices/fgt-br2/feeds?vdom=dmz")).json.feeds.map((f: Json) => f.name)).toEqual(["dmz-allow"]);
    expect((await ctl("PUT", "devices/fgt-br2", { connStatus: "sideways" })).status).toBe(400);
    const state = (await ctl("GET", "state")).json;
    expect(state.devices.map((d: Json) => d.name)).toEqual(["fgt-hq", "fgt-br1", "fgt-br2"]);
    expect(state.proxy).toMatchObject({ offlineDevice: "status", unknownDevice: "status", outOfScope: "call" });
    expect((await ctl("DELETE", "devices/fgt-br2")).status).toBe(200);
    expect((await ctl("GET", "devices/fgt-br2")).status).toBe(404);
    expect(emu.log.entries().filter((e) => e.path.startsWith("/__emulator"))).toHaveLength(0);
    await ctl("POST", "devices", { name: "tmp" });
    await ctl("POST", "reset");
    expect((await ctl("GET", "devices")).json.devices.map((d: Json) => d.name)).toEqual(["fgt-hq", "fgt-br1"]);
  });

  it("start options: devices with feeds and proxy settings", async () => {
    const e = await startFortimanagerEmulator({
      devices: [
        { name: "a", feeds: [{ name: "f1", entries: ["10.0.0.1"] }], feedSettings: { pushVisibleAfterMs: 0 } },
        { name: "b", connStatus: "down" },
      ],
      proxy: { offlineDevice: "missing" },
    });
    try {
      expect([...e.backend.devices.devices.keys()]).toEqual(["a", "b"]);
      expect(e.backend.devices.devices.get("a")!.backend.feeds.find("root", "f1")!.entries.size).toBe(1);
      expect(e.backend.devices.devices.get("b")!.backend.feeds.find("root", "jit-allow")).toBeDefined();
      expect(e.backend.devices.settings.offlineDevice).toBe("missing");
    } finally {
      await e.close();
    }
  });
});

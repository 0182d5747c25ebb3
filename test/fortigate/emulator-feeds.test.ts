/**
 * The FortiGate emulator's threat feeds (docs/reference/fortigate-feeds.md §1–§3, §6–§7, §10), over
 * HTTPS with raw requests as curl or Ansible send them, per FortiOS version where the device differs.
 */
import { Agent, request } from "undici";
import { startFortigateEmulator, type FortigateEmulator } from "../../emulators/fortigate/emulator";

const VERSIONS = ["7.0.12", "7.2.8", "7.4.3", "7.6.x"] as const;
type V = (typeof VERSIONS)[number];
const emus = {} as Record<V, FortigateEmulator>;
let agent: Agent;
const TOKENS = {
  cfgRw: "cfg-rw-token-0123456789",
  cfgRead: "cfg-read-token-012345678",
  fwOnly: "fw-only-token-0123456789",
  readOnly: "read-only-token-0123456789",
};
const USERS = (main: string) => [
  {
    name: "grants-api",
    token: main,
    fwgrp: "read-write" as const,
    sysgrp: "custom" as const,
    sysgrpPermission: { cfg: "read-write" as const },
    vdoms: ["root", "vd2"],
  },
  { name: "cfg-rw", token: TOKENS.cfgRw, fwgrp: "none" as const, sysgrp: "custom" as const, sysgrpPermission: { cfg: "read-write" as const }, vdoms: ["root"] },
  {
    name: "cfg-read",
    token: TOKENS.cfgRead,
    fwgrp: "read-write" as const,
    sysgrp: "custom" as const,
    sysgrpPermission: { cfg: "read" as const },
    vdoms: ["root"],
  },
  { name: "fw-only", token: TOKENS.fwOnly, fwgrp: "read-write" as const, sysgrp: "none" as const, vdoms: ["root"] },
  { name: "read-only", token: TOKENS.readOnly, fwgrp: "read" as const, sysgrp: "read" as const, vdoms: ["root"] },
];

beforeAll(async () => {
  for (const v of VERSIONS)
    // These tests read the entry list right after a push: instant visibility (the shipped default, 2 s, is the variant suite's).
    emus[v] = await startFortigateEmulator({
      version: v,
      vdoms: ["root", "vd2"],
      users: USERS(`main-token-${v.replace(/\W/g, "")}-0123456789`),
      feedSettings: { pushVisibleAfterMs: 0 },
    });
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
    headers: { "content-type": "application/json", ...(token && { authorization: `Bearer ${token}` }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
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
const PUSH = "/api/v2/monitor/system/external-resource/dynamic";
const LIST = "/api/v2/monitor/system/external-resource/entry-list";
const CMDB = "/api/v2/cmdb/system/external-resource";
const push = (v: V, commands: unknown, vdom = "root", token?: string) => call(v, "POST", `${PUSH}?vdom=${vdom}`, { commands }, token);
const entries = async (v: V, feed = "jit-allow", extra = "", token?: string) =>
  (await call(v, "GET", `${LIST}?mkey=${feed}&vdom=root${extra}`, undefined, token)).json;

describe("FortiGate emulator threat feeds", () => {
  it("seeds one push feed 'jit-allow' in root from 7.2.1 (none below) and shows it in cmdb with update-method from 7.2.1", async () => {
    const got = (await call("7.6.x", "GET", `${CMDB}/jit-allow?vdom=root`)).json;
    expect(got).toMatchObject({ status: "success", http_status: 200, mkey: "jit-allow", path: "system", name: "external-resource" });
    expect(got.results[0]).toMatchObject({ name: "jit-allow", type: "address", "update-method": "push", status: "enable" });
    expect((await call("7.0.12", "GET", `${CMDB}?vdom=root`)).json.results).toEqual([]);
    // Below 7.2.1 `update-method` is not in the schema: a POST with it creates a feed-method feed that shows no method.
    expect(
      (await call("7.0.12", "POST", `${CMDB}?vdom=root`, { name: "f1", type: "address", "update-method": "push", resource: "https://x/y.txt" })).status,
    ).toBe(200);
    const f1 = (await call("7.0.12", "GET", `${CMDB}/f1`)).json.results[0];
    expect(f1["update-method"]).toBeUndefined();
    expect(f1.type).toBe("address");
  });

  it("cmdb: create/update/delete by REST with the device's rules (name ≤ 35, g- only in global, types by version, push only for four types)", async () => {
    const post = (b: unknown, v: V = "7.6.x") => call(v, "POST", `${CMDB}?vdom=root`, b);
    expect((await post({ name: "p2", type: "address", "update-method": "push", status: "enable" })).json).toMatchObject({
      status: "success",
      mkey: "p2",
      revision_changed: true,
    });
    expect((await post({ name: "p2", type: "address" })).json).toMatchObject({ http_status: 500, error: -5 });
    expect((await post({ name: "x".repeat(36) })).json).toMatchObject({ http_status: 500 });
    expect((await post({ name: "g-nope" })).json).toMatchObject({ http_status: 500, error: -651 });
    expect((await post({ name: "mac", type: "mac-address" }, "7.2.8")).json).toMatchObject({ http_status: 500, error: -651 });
    expect((await post({ name: "mac", type: "mac-address" }, "7.6.x")).status).toBe(200);
    expect((await post({ name: "macp", type: "mac-address", "update-method": "push" })).json.error).toBe(-651);
    expect((await call("7.6.x", "PUT", `${CMDB}/p2?vdom=root`, { "update-method": "feed" })).status).toBe(200);
    expect((await call("7.6.x", "GET", `${CMDB}/p2`)).json.results[0]["update-method"]).toBe("feed");
    expect((await call("7.6.x", "DELETE", `${CMDB}/p2`)).status).toBe(200);
    expect((await call("7.6.x", "GET", `${CMDB}/p2`)).status).toBe(404);
    expect((await call("7.6.x", "PUT", CMDB, {})).status).toBe(405);
  });

  it("push add/remove/snapshot with IPv4 and IPv6 in one feed; entry-list shows entries, valid and counts", async () => {
    const r = await push("7.6.x", [{ name: "jit-allow", command: "add", entries: ["203.0.113.7", "2001:db8::7", "198.51.100.0/24", "192.0.2.1-192.0.2.9"] }]);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      http_method: "POST",
      status: "success",
      http_status: 200,
      vdom: "root",
      path: "system",
      name: "external-resource",
      action: "dynamic",
    });
    let l = await entries("7.6.x");
    expect(l.results.entries).toEqual([
      { entry: "203.0.113.7", valid: true },
      { entry: "2001:db8::7", valid: true },
      { entry: "198.51.100.0/24", valid: true },
      { entry: "192.0.2.1-192.0.2.9", valid: true },
    ]);
    expect(l.results).toMatchObject({ valid_count: 4, invalid_count: 0, overflow: false });
    await push("7.6.x", [{ name: "jit-allow", command: "remove", entries: ["203.0.113.7", "10.9.9.9"] }]);
    expect((await entries("7.6.x")).results.valid_count).toBe(3);
    await push("7.6.x", [{ name: "jit-allow", command: "snapshot", entries: ["10.0.0.1"] }]);
    l = await entries("7.6.x");
    expect(l.results.entries).toEqual([{ entry: "10.0.0.1", valid: true }]);
    expect(emus["7.6.x"].log.sideEffects().map((e) => e.route)).toEqual([`POST ${PUSH}`, `POST ${PUSH}`, `POST ${PUSH}`]);
  });

  it("no push endpoint below 7.2.1: a JSON 404, logged as unhandled; the entry list exists (6.4.14 spec)", async () => {
    const r = await push("7.0.12", [{ name: "jit-allow", command: "add", entries: ["203.0.113.7"] }]);
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ status: "error", http_status: 404 });
    await call("7.0.12", "POST", "/__emulator/feeds", { name: "file-feed", updateMethod: "feed" });
    expect((await call("7.0.12", "GET", `${LIST}?mkey=file-feed`)).status).toBe(200);
    expect((await push("7.2.8", [{ name: "jit-allow", command: "add", entries: ["203.0.113.7"] }])).status).toBe(200);
  });

  it("unknown feed, feed-method feed and invalid entries: refusal / stored valid:false by default, the alternatives by settings", async () => {
    const v = "7.4.3";
    await call(v, "POST", "/__emulator/feeds", { name: "pulled", updateMethod: "feed", resource: "https://example.test/l.txt" });
    expect((await push(v, [{ name: "nope", command: "add", entries: ["203.0.113.7"] }])).json).toMatchObject({ status: "error", http_status: 404 });
    expect((await push(v, [{ name: "pulled", command: "add", entries: ["203.0.113.7"] }])).json).toMatchObject({ status: "error", http_status: 400 });
    expect((await push(v, [{ name: "jit-allow", command: "add", entries: ["not-an-ip", "203.0.113.7"] }])).status).toBe(200);
    expect((await entries(v)).results).toMatchObject({
      entries: [
        { entry: "not-an-ip", valid: false },
        { entry: "203.0.113.7", valid: true },
      ],
      valid_count: 1,
      invalid_count: 1,
    });
    expect((await push(v, { not: "an array" })).status).toBe(400);

    const s = await call(v, "POST", "/__emulator/settings", { unknownFeed: "accept", nonPushFeed: "accept", invalidEntry: "refuse" }, "");
    expect(s.json.feedSettings).toMatchObject({ unknownFeed: "accept", nonPushFeed: "accept", invalidEntry: "refuse" });
    expect((await push(v, [{ name: "nope", command: "add", entries: ["203.0.113.7"] }])).status).toBe(200);
    expect((await push(v, [{ name: "pulled", command: "add", entries: ["203.0.113.8"] }])).status).toBe(200);
    expect((await entries(v, "pulled")).results.entries).toEqual([{ entry: "203.0.113.8", valid: true }]);
    expect((await push(v, [{ name: "jit-allow", command: "add", entries: ["999.1.1.1"] }])).status).toBe(400);
    expect((await call(v, "POST", "/__emulator/settings", { invalidEntry: "maybe" }, "")).status).toBe(400);
  });

  it("several commands: applied in order until a refusal by default (earlier ones stay); atomic on request", async () => {
    const v = "7.6.x";
    const cmds = [
      { name: "jit-allow", command: "add", entries: ["203.0.113.1"] },
      { name: "nope", command: "add", entries: ["203.0.113.2"] },
    ];
    expect((await push(v, cmds)).status).toBe(404);
    expect((await entries(v)).results.entries).toEqual([{ entry: "203.0.113.1", valid: true }]);
    await call(v, "POST", "/__emulator/settings", { commands: "atomic" }, "");
    await call(v, "DELETE", "/__emulator/entries", {}, "");
    expect((await push(v, cmds)).status).toBe(404);
    expect((await entries(v)).results.entries).toEqual([]);
  });

  it("entries match as text by default (203.0.113.7/32 ≠ 203.0.113.7), by value with matching: value", async () => {
    const v = "7.6.x";
    await push(v, [{ name: "jit-allow", command: "add", entries: ["203.0.113.7/32", "2001:DB8:0::7"] }]);
    await push(v, [{ name: "jit-allow", command: "remove", entries: ["203.0.113.7", "2001:db8::7"] }]);
    expect((await entries(v)).results.valid_count).toBe(2);
    await call(v, "POST", "/__emulator/settings", { matching: "value" }, "");
    await push(v, [{ name: "jit-allow", command: "remove", entries: ["203.0.113.7", "2001:db8::7"] }]);
    expect((await entries(v)).results.valid_count).toBe(0);
  });

  it("entry-list parameters: status_only everywhere; counts_only and entry from 7.4.1, ignored below", async () => {
    for (const v of ["7.2.8", "7.4.3", "7.6.x"] as const) await push(v, [{ name: "jit-allow", command: "add", entries: ["203.0.113.7", "203.0.113.8"] }]);
    const so = (await entries("7.4.3", "jit-allow", "&status_only=true")).results;
    expect(so.entries).toBeUndefined();
    expect(so.status).toBe("unavailable"); // a push feed's status is UNCONFIRMED: the unhelpful default
    expect((await entries("7.6.x", "jit-allow", "&counts_only=true")).results).toMatchObject({ valid_count: 2, invalid_count: 0, overflow: false });
    expect((await entries("7.6.x", "jit-allow", "&counts_only=true")).results.entries).toBeUndefined();
    expect((await entries("7.4.3", "jit-allow", "&counts_only=true")).results.entries).toBeUndefined();
    expect((await entries("7.2.8", "jit-allow", "&counts_only=true")).results.entries).toHaveLength(2);
    expect((await entries("7.6.x", "jit-allow", "&entry=203.0.113.8")).results.entries).toEqual([{ entry: "203.0.113.8", valid: true }]);
    expect((await entries("7.4.3", "jit-allow", "&entry=203.0.113.8")).results.entries).toHaveLength(1);
    expect((await entries("7.2.8", "jit-allow", "&entry=203.0.113.8")).results.entries).toHaveLength(2);
    expect((await entries("7.6.x", "jit-allow", "&include_notes=true")).results.notes).toEqual([]);
    expect((await call("7.6.x", "GET", `${LIST}?mkey=nope`)).status).toBe(404);
    await call("7.6.x", "POST", "/__emulator/settings", { pushFeedStatus: "success" }, "");
    expect((await entries("7.6.x", "jit-allow", "&status_only=true")).results.status).toBe("success");
  });

  it("entry limit: per feed before 7.4.4, device-wide for IP entries from 7.4.4; the newest are truncated and overflow is set", async () => {
    for (const v of ["7.4.3", "7.6.x"] as const) {
      await call(v, "POST", "/__emulator/feeds", { name: "second" }, "");
      await call(v, "POST", "/__emulator/settings", { entryLimit: 2 }, "");
      await push(v, [{ name: "jit-allow", command: "add", entries: ["10.0.0.1", "10.0.0.2"] }]);
      await push(v, [{ name: "second", command: "add", entries: ["10.0.0.3"] }]);
    }
    // 7.4.3: 2 per feed → nothing over; 7.6.x: 3 IP entries device-wide over 2 → the newest (10.0.0.3 in "second") truncated.
    expect((await entries("7.4.3", "second")).results.overflow).toBe(false);
    expect((await entries("7.6.x", "second")).results).toMatchObject({ overflow: true, entries: [{ entry: "10.0.0.3", valid: true }] });
    expect((await entries("7.6.x", "jit-allow")).results.overflow).toBe(false);
    await push("7.4.3", [{ name: "jit-allow", command: "add", entries: ["10.0.0.4"] }]);
    expect((await entries("7.4.3", "jit-allow")).results.overflow).toBe(true);
    const ctl = (await call("7.4.3", "GET", "/__emulator/entries?feed=jit-allow", undefined, "")).json;
    expect(ctl.entries.map((e: Json) => e.enforced)).toEqual([true, true, false]);
    await call("7.6.x", "POST", "/__emulator/settings", { overflowEntries: "dropped" }, "");
    expect((await entries("7.6.x", "second")).results.entries).toEqual([]);
  });

  it("permission gates: cmdb sysgrp, entry-list sysgrp.cfg read, push System > Configuration read-write; 403 JSON (or HTML by setting)", async () => {
    const v = "7.6.x";
    const add = [{ name: "jit-allow", command: "add", entries: ["203.0.113.7"] }];
    expect((await push(v, add, "root", TOKENS.cfgRw)).status).toBe(200);
    expect((await call(v, "GET", `${CMDB}/jit-allow`, undefined, TOKENS.cfgRw)).status).toBe(200);
    expect((await entries(v, "jit-allow", "", TOKENS.cfgRead)).status).toBe("success");
    const ro = await push(v, add, "root", TOKENS.cfgRead);
    expect([ro.status, ro.json.status, ro.json.http_status, ro.type]).toEqual([403, "error", 403, "application/json; charset=UTF-8"]);
    expect((await push(v, add, "root", TOKENS.readOnly)).status).toBe(403);
    expect((await call(v, "GET", `${CMDB}/jit-allow`, undefined, TOKENS.readOnly)).status).toBe(200);
    expect((await call(v, "POST", `${CMDB}`, { name: "x" }, TOKENS.readOnly)).status).toBe(403);
    for (const path of [`${CMDB}/jit-allow`, `${LIST}?mkey=jit-allow`]) expect((await call(v, "GET", path, undefined, TOKENS.fwOnly)).status).toBe(403);
    expect((await push(v, add, "root", TOKENS.fwOnly)).status).toBe(403);
    // VDOM outside the token's list: 403 JSON (fortigate.md §1); the token without a Bearer word: 401 HTML.
    expect((await push(v, add, "vd2", TOKENS.cfgRw)).json).toMatchObject({ http_status: 403 });
    expect((await call(v, "POST", `${PUSH}?vdom=root`, { commands: add }, "")).status).toBe(401);
    await call(v, "POST", "/__emulator/settings", { pushDenied: "html-403" }, "");
    const html = await push(v, add, "root", TOKENS.cfgRead);
    expect([html.status, html.type]).toEqual([403, "text/html"]);
  });

  it("VDOM feeds and global g- feeds: a g- feed is usable in every VDOM (listed, entry list) but not editable there; pushes reach it only by setting", async () => {
    const v = "7.6.x";
    expect((await call(v, "POST", "/__emulator/feeds", { vdom: "global", name: "g-shared" }, "")).status).toBe(200);
    expect((await call(v, "POST", "/__emulator/feeds", { vdom: "global", name: "no-prefix" }, "")).json).toMatchObject({ status: "error", error: -651 });
    expect((await call(v, "POST", "/__emulator/feeds", { vdom: "vd2", name: "vd2-feed" }, "")).status).toBe(200);
    expect((await call(v, "GET", `${CMDB}?vdom=root`)).json.results.map((f: Json) => f.name)).toEqual(["g-shared", "jit-allow"]);
    expect((await call(v, "GET", `${CMDB}?vdom=vd2`)).json.results.map((f: Json) => f.name)).toEqual(["g-shared", "vd2-feed"]);
    expect((await call(v, "PUT", `${CMDB}/g-shared?vdom=root`, { status: "disable" })).status).toBe(403);
    const add = [{ name: "g-shared", command: "add", entries: ["203.0.113.7"] }];
    expect((await push(v, add)).status).toBe(404);
    await call(v, "POST", "/__emulator/settings", { globalFeedPush: "visible" }, "");
    expect((await push(v, add, "vd2")).status).toBe(200);
    expect((await entries(v, "g-shared")).results.entries).toEqual([{ entry: "203.0.113.7", valid: true }]);
    // vd2's feed is not root's.
    expect((await push(v, [{ name: "vd2-feed", command: "add", entries: ["10.0.0.1"] }])).status).toBe(404);
  });

  it("control routes: feeds and entries by hand, reboot clears pushed entries, feed changes clear them, state lists feeds, nothing logged", async () => {
    const v = "7.6.x";
    expect((await call(v, "POST", "/__emulator/entries", { feed: "jit-allow", entries: ["203.0.113.7", "203.0.113.8"] }, "")).status).toBe(200);
    expect((await entries(v)).results.valid_count).toBe(2);
    expect((await call(v, "DELETE", "/__emulator/entries", { feed: "jit-allow", entries: ["203.0.113.7"] }, "")).json.feed.entries).toEqual([
      { entry: "203.0.113.8", valid: true, enforced: true },
    ]);
    expect((await call(v, "POST", "/__emulator/reboot", {}, "")).json.cleared).toBe(1);
    expect((await entries(v)).results.entries).toEqual([]);
    await push(v, [{ name: "jit-allow", command: "add", entries: ["203.0.113.9"] }]);
    expect((await call(v, "PUT", "/__emulator/feeds", { name: "jit-allow", status: "disable" }, "")).json.feed.entries).toEqual([]);
    expect((await entries(v, "jit-allow", "&status_only=1")).results.status).toBe("disable");
    const state = (await call(v, "GET", "/__emulator/state", undefined, "")).json;
    expect(state.feeds.map((f: Json) => [f.name, f.vdom, f.updateMethod, f.status])).toEqual([["jit-allow", "root", "push", "disable"]]);
    expect((await call(v, "GET", "/__emulator/feeds?vdom=root", undefined, "")).json.feeds).toHaveLength(1);
    expect((await call(v, "DELETE", "/__emulator/feeds", { name: "jit-allow" }, "")).status).toBe(200);
    expect((await call(v, "GET", "/__emulator/entries?feed=jit-allow", undefined, "")).status).toBe(404);
    expect(emus[v].log.entries().filter((e) => e.path.startsWith("/__emulator"))).toHaveLength(0);
    // A reset brings the seed back.
    await call(v, "POST", "/__emulator/reset", undefined, "");
    expect((await call(v, "GET", "/__emulator/feeds", undefined, "")).json.feeds.map((f: Json) => f.name)).toEqual(["jit-allow"]);
  });

  it("start options: feeds with entries and settings", async () => {
    const emu = await startFortigateEmulator({
      version: "7.4.4",
      feeds: [
        { name: "a", entries: ["10.0.0.1"] },
        { name: "g-b", vdom: "global" },
      ],
      feedSettings: { entryLimit: 5, matching: "value" },
    });
    try {
      const res = await request(`${emu.url}${LIST}?mkey=a`, { dispatcher: agent, headers: { authorization: `Bearer ${emu.token}` } });
      expect(((await res.body.json()) as Json).results.entries).toEqual([{ entry: "10.0.0.1", valid: true }]);
      expect(emu.backend.feeds.settings).toMatchObject({ entryLimit: 5, matching: "value", unknownFeed: "refuse" });
      expect(emu.backend.feeds.all().map((f) => f.name)).toEqual(["g-b", "a"]);
    } finally {
      await emu.close();
    }
  });
});

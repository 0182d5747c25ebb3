import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { useEmulator } from "../support/emulator";
import { closeRawAgent, raw, USERS } from "./helpers";

const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));
const call = (method: string, path: string, opts: Parameters<typeof raw>[4] = {}) => raw(emu.url, emu.caCert, method, path, opts);

afterAll(closeRawAgent);

describe("OPNsense emulator: routing, auth and ACL as the device does them", () => {
  it("answers an unknown endpoint with 404 before authentication", async () => {
    const r = await call("GET", "/api/firewall/alias/no_such_action");
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ errorMessage: "Endpoint not found" });
    const missingParam = await call("POST", "/api/firewall/alias_util/add", { body: {} });
    expect(missingParam.status).toBe(404);
  });

  it("answers 401 with an empty body without credentials and the JSON body for bad ones", async () => {
    const none = await call("GET", "/api/core/menu/search");
    expect(none.status).toBe(401);
    expect(none.text).toBe("");
    const bad = await call("GET", "/api/core/menu/search", { auth: `Basic ${Buffer.from("key-admin:wrong").toString("base64")}` });
    expect(bad.json).toEqual({ status: 401, message: "Authentication Failed" });
    const disabled = await call("GET", "/api/core/menu/search", { who: "disabled" });
    expect(disabled.status).toBe(401);
  });

  it("lets every authenticated user call core/menu/search and shows the leaves the privileges allow", async () => {
    const r = await call("GET", "/api/core/menu/search", { who: "tables" });
    expect(r.status).toBe(200);
    // MenuController extractMenuLeaves also lists the visible category nodes (no Url)
    expect((r.json as { Url: string }[]).map((l) => l.Url).filter(Boolean)).toEqual(["/ui/firewall/alias_util/"]);
    expect((await call("GET", "/api/core/menu/search", { who: "none" })).json).toEqual([]);
  });

  it("answers 403 when no privilege pattern covers the literal URI, including the query string", async () => {
    expect((await call("GET", "/api/firewall/alias_util/aliases", { who: "read" })).json).toEqual({ status: 403, message: "Forbidden" });
    expect((await call("GET", "/api/firewall/alias/get_alias_u_u_i_d/jit_admins", { who: "tables" })).status).toBe(403);
    expect((await call("GET", "/api/firewall/alias/search_item", { who: "read" })).status).toBe(200);
    expect((await call("GET", "/api/firewall/alias/get_item?x=1", { who: "read" })).status).toBe(200); // get* covers the query
    expect((await call("GET", "/api/firewall/alias/reconfigure", { who: "read" })).status).toBe(403);
  });

  it("accepts camelCase and snake_case actions alike", async () => {
    const snake = await call("GET", "/api/firewall/alias/get_alias_u_u_i_d/jit_admins", { who: "admin" });
    const camel = await call("GET", "/api/firewall/alias/getAliasUUID/jit_admins", { who: "admin" });
    expect(camel.json).toEqual(snake.json);
    expect(snake.json).toEqual({ uuid: emu.backend.aliases.get("jit_admins")!.uuid });
    expect((await call("GET", "/api/firewall/alias/get_alias_u_u_i_d/nope", { who: "admin" })).json).toEqual([]);
    expect((await call("GET", "/api/firewall/alias/get_alias_u_u_i_d/bogons", { who: "admin" })).json).toEqual({ uuid: "bogons" });
  });

  it("answers 400 for a JSON content type with an empty body", async () => {
    const r = await call("POST", "/api/firewall/alias/reconfigure", { who: "admin", rawBody: "" });
    expect(r).toMatchObject({ status: 400, json: { status: 400, message: "Invalid JSON syntax" } });
  });

  it("answers a wrong method on a write action with 200 failed and no side effect", async () => {
    expect((await call("GET", "/api/firewall/alias/reconfigure", { who: "edit" })).json).toEqual({ status: "failed" });
    expect(emu.backend.reconfigureCount).toBe(0);
    expect(emu.log.sideEffects()).toHaveLength(0);
  });
});

describe("OPNsense emulator: alias_util quirks", () => {
  const add = (alias: string, address: string) => call("POST", `/api/firewall/alias_util/add/${alias}`, { who: "tables", body: { address } });
  const del = (alias: string, address: string) => call("POST", `/api/firewall/alias_util/delete/${alias}`, { who: "tables", body: { address } });

  it("appends a duplicate when the address is already the first line (index-0 bug), not otherwise", async () => {
    await add("jit_admins", "10.0.0.1");
    await add("jit_admins", "10.0.0.2");
    await add("jit_admins", "10.0.0.2");
    expect(emu.backend.configContent("jit_admins")).toEqual(["10.0.0.1", "10.0.0.2"]);
    await add("jit_admins", "10.0.0.1");
    expect(emu.backend.configContent("jit_admins")).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.1"]);
    expect(emu.backend.tableContent("jit_admins")).toEqual(["10.0.0.1", "10.0.0.2"]);
  });

  it("removes one config copy per delete but the whole pf entry, and says done for anything", async () => {
    emu.backend.aliases.get("jit_admins")!.content = ["10.0.0.1", "10.0.0.1"];
    await emu.backend.reconfigure();
    expect((await del("jit_admins", "10.0.0.1")).json).toEqual({ status: "done" });
    expect(emu.backend.configContent("jit_admins")).toEqual(["10.0.0.1"]);
    expect(emu.backend.tableContent("jit_admins")).toEqual([]);
    expect((await del("no_such_alias", "10.0.0.1")).json).toEqual({ status: "done" });
  });

  it("appends /32 for a bare IP in a network alias and refuses non-address characters", async () => {
    await add("jit_nets", "192.0.2.9");
    expect(emu.backend.configContent("jit_nets")).toEqual(["192.0.2.9/32"]);
    expect((await add("jit_nets", "Host.example")).json).toEqual({ status: "not_an_address" });
    expect((await add("missing", "192.0.2.1")).json).toEqual({ status: "failed", status_msg: "nonexistent alias missing" });
  });

  it("changes only the live table of an external alias", async () => {
    await add("jit_runtime", "192.0.2.5");
    expect(emu.backend.configContent("jit_runtime")).toEqual([]);
    expect(emu.backend.tableContent("jit_runtime")).toEqual(["192.0.2.5"]);
    expect((await call("GET", "/api/firewall/alias_util/list/jit_runtime", { who: "tables" })).json).toMatchObject({ rows: [{ ip: "192.0.2.5" }] });
  });

  it("refuses a save for a user with System: Deny config write (500 UserException)", async () => {
    const r = await call("POST", "/api/firewall/alias_util/add/jit_admins", { who: "readonly", body: { address: "10.1.1.1" } });
    expect(r.status).toBe(500);
    expect((r.json as { errorMessage: string }).errorMessage).toContain("denied for write access (user-config-readonly set)");
  });
});

describe("OPNsense emulator: config content vs live table", () => {
  it("keeps set_item content out of pf until reconfigure, and counts reconfigures", async () => {
    const uuid = emu.backend.aliases.get("jit_admins")!.uuid;
    const set = await call("POST", `/api/firewall/alias/set_item/${uuid}`, { who: "edit", body: { alias: { content: "10.9.9.9\n10.9.9.8" } } });
    expect(set.json).toEqual({ result: "saved" });
    expect(emu.backend.tableContent("jit_admins")).toEqual([]);
    expect((await call("POST", "/api/firewall/alias/reconfigure", { who: "edit", body: {} })).json).toEqual({ status: "ok" });
    expect(emu.backend.tableContent("jit_admins")).toEqual(["10.9.9.8", "10.9.9.9"]);
    expect(emu.backend.reconfigureCount).toBe(1);
    expect(emu.log.sideEffects().map((e) => e.route)).toEqual(["POST /api/firewall/alias/set_item", "POST /api/firewall/alias/reconfigure"]);
  });

  it("returns get_item content as a selected map listing every alias name", async () => {
    const uuid = emu.backend.aliases.get("jit_admins")!.uuid;
    const r = (await call("GET", `/api/firewall/alias/get_item/${uuid}`, { who: "read" })).json as {
      alias: { content: Record<string, { selected: number }>; type: Record<string, { selected: number }> };
    };
    expect(r.alias.content[""]).toEqual({ value: "", selected: 1 });
    expect(r.alias.content.bogons!.selected).toBe(0);
    expect(r.alias.type.host!.selected).toBe(1);
  });

  it("validates set_item content and refuses deleting an alias in use", async () => {
    const uuid = emu.backend.aliases.get("jit_nets")!.uuid;
    const bad = await call("POST", `/api/firewall/alias/set_item/${uuid}`, { who: "edit", body: { alias: { content: "not a network" } } });
    expect(bad.json).toEqual({ result: "failed", validations: { "alias.content": 'Entry "not a network" is not a network.' } });
    const del = await call("POST", `/api/firewall/alias/del_item/${uuid}`, { who: "edit", body: {} });
    expect(del.status).toBe(500);
    expect(del.json).toMatchObject({ errorTitle: "Alias in use" });
  });

  it("answers a failing reconfigure with 500 and the pfctl message", async () => {
    emu.backend.reconfigureError = "There were error(s) loading the rules";
    const r = await call("POST", "/api/firewall/alias/reconfigure", { who: "edit", body: {} });
    expect(r).toMatchObject({ status: 500, json: { errorTitle: "Alias", errorMessage: "There were error(s) loading the rules" } });
  });

  it("offers control routes for users, aliases and out-of-band edits", async () => {
    await call("POST", "/__emulator/users", { body: { name: "ci", key: "ci-key", secret: "ci-secret", privileges: ["page-firewall-aliases"] } });
    expect(emu.backend.users.get("ci-key")?.privileges).toEqual(["page-firewall-aliases"]);
    await call("POST", "/__emulator/aliases", { body: { name: "ci_hosts", type: "host", content: ["10.2.2.2"] } });
    await call("POST", "/__emulator/alias-content", { body: { alias: "ci_hosts", remove: "10.2.2.2", add: "10.3.3.3" } });
    const state = (await call("GET", "/__emulator/state")).json as { tables: Record<string, string[]> };
    expect(state.tables.ci_hosts).toEqual(["10.3.3.3"]);
  });
});

/**
 * The OPNsense emulator per release, over HTTPS as users' own tools reach it (curl, pyopnsense's
 * form posts, Ansible's JSON): body handling, the alias_util/list cap, host vs network content,
 * read-only alias_util, get_item on an unknown uuid, login padding, menu, export/import, control routes.
 */
import { startOpnsenseEmulator, type OpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { closeRawAgent, raw, USERS } from "./helpers";

const emus = new Map<string, OpnsenseEmulator>();
const VERSIONS = ["24.7", "25.1", "26.1.10", "26.1.11", "26.7", "26.7.1", "26.7.2"] as const;
type V = (typeof VERSIONS)[number];

beforeAll(async () => {
  for (const version of VERSIONS) emus.set(version, await startOpnsenseEmulator({ users: Object.values(USERS), version }));
});
beforeEach(() => {
  for (const e of emus.values()) {
    e.backend.reset();
    e.log.clear();
  }
});
afterAll(async () => {
  await closeRawAgent();
  for (const e of emus.values()) await e.close();
});

const at = (v: V) => emus.get(v)!;
const call = (v: V, method: string, path: string, opts: Parameters<typeof raw>[4] = {}) => raw(at(v).url, at(v).caCert, method, path, opts);
const uuidOf = (v: V, name: string) => at(v).backend.aliases.get(name)!.uuid;

describe("request bodies (ApiControllerBase parseJsonBodyData, PHP $_POST)", () => {
  it("takes a form-encoded POST as POST data, as pyopnsense sends it", async () => {
    const r = await call("26.7.2", "POST", "/api/firewall/alias_util/add/jit_admins", {
      who: "tables",
      rawBody: "address=10.0.0.7",
      contentType: "application/x-www-form-urlencoded",
    });
    expect(r.json).toEqual({ status: "done" });
    expect(at("26.7.2").backend.configContent("jit_admins")).toEqual(["10.0.0.7"]);
  });

  it('answers 400 only for a JSON content type with an empty body; "" and broken JSON run the action with no POST data', async () => {
    for (const rawBody of ["", "0"]) {
      expect(await call("26.7.2", "POST", "/api/firewall/alias_util/flush/jit_runtime", { who: "tables", rawBody })).toMatchObject({
        status: 400,
        json: { status: 400, message: "Invalid JSON syntax" },
      });
    }
    for (const rawBody of ['""', "{broken"]) {
      expect((await call("26.7.2", "POST", "/api/firewall/alias_util/add/jit_admins", { who: "tables", rawBody })).json).toEqual({ status: "failed" });
    }
    const charset = await call("26.7.2", "POST", "/api/firewall/alias_util/add/jit_admins", {
      who: "tables",
      body: { address: "10.0.0.8" },
      contentType: "application/json; charset=UTF-8",
    });
    expect(charset.json).toEqual({ status: "done" });
  });

  it("does not take query parameters as POST data", async () => {
    const r = await call("26.7.2", "POST", "/api/firewall/alias_util/add/jit_admins?address=10.0.0.9", { who: "tables", body: {} });
    expect(r.json).toEqual({ status: "failed" });
  });
});

describe("alias_util/list page size (AliasUtilController listAction)", () => {
  const seed = (v: V) => call(v, "POST", "/__emulator/seed-table", { body: { alias: "jit_runtime", count: 20_000, where: "table" } });
  it("caps a GET at 9999 rows from 25.7 while total counts all; POST rowCount -1 returns all", async () => {
    expect((await seed("26.7.2")).json).toMatchObject({ status: "ok", first: "10.128.0.0", count: 20_000 });
    const get = (await call("26.7.2", "GET", "/api/firewall/alias_util/list/jit_runtime?rowCount=-1", { who: "tables" })).json as {
      total: number;
      rowCount: number;
      rows: unknown[];
    };
    expect([get.total, get.rowCount, get.rows.length]).toEqual([20_000, 9999, 9999]);
    const post = (await call("26.7.2", "POST", "/api/firewall/alias_util/list/jit_runtime", { who: "tables", body: { rowCount: -1 } })).json as {
      total: number;
      rows: unknown[];
    };
    expect([post.total, post.rows.length]).toEqual([20_000, 20_000]);
    const form = (
      await call("26.7.2", "POST", "/api/firewall/alias_util/list/jit_runtime", {
        who: "tables",
        rawBody: "rowCount=-1",
        contentType: "application/x-www-form-urlencoded",
      })
    ).json as { rows: unknown[] };
    expect(form.rows).toHaveLength(20_000);
  });

  it("returns every row to a GET up to 25.1 (own paging code, rowCount echoes -1)", async () => {
    await seed("25.1");
    const get = (await call("25.1", "GET", "/api/firewall/alias_util/list/jit_runtime", { who: "tables" })).json as {
      total: number;
      rowCount: number;
      rows: unknown[];
    };
    expect([get.total, get.rowCount, get.rows.length]).toEqual([20_000, -1, 20_000]);
  });
});

describe("Host(s) aliases never hold a network (AliasContentField validateHost, Util isIpAddress)", () => {
  it.each(["10.0.0.0/24", "10.0.0.1/32"])("set_item refuses %s with the device's message; a Network(s) alias takes it", async (cidr) => {
    const r = await call("26.7.2", "POST", `/api/firewall/alias/set_item/${uuidOf("26.7.2", "jit_admins")}`, {
      who: "edit",
      body: { alias: { content: cidr } },
    });
    expect(r.json).toEqual({ result: "failed", validations: { "alias.content": `Entry "${cidr}" is not a valid hostname, IP address or range.` } });
    const net = await call("26.7.2", "POST", `/api/firewall/alias/set_item/${uuidOf("26.7.2", "jit_nets")}`, {
      who: "edit",
      body: { alias: { content: cidr } },
    });
    expect(net.json).toEqual({ result: "saved" });
  });

  it.each(["24.7", "26.7.2"] as const)("alias_util/add of a CIDR to a host alias is HTTP 500 Unexpected error and changes nothing (%s)", async (v) => {
    for (const cidr of ["10.0.0.0/24", "10.0.0.1/32"]) {
      const r = await call(v, "POST", "/api/firewall/alias_util/add/jit_admins", { who: "tables", body: { address: cidr } });
      expect(r).toMatchObject({ status: 500, json: { errorMessage: "Unexpected error, check log for details" } });
    }
    expect(at(v).backend.configContent("jit_admins")).toEqual([]);
    expect(at(v).backend.tableContent("jit_admins")).toEqual([]);
    expect(at(v).backend.configSaves).toBe(0);
  });

  it("lists several messages for one field as an array", async () => {
    const r = await call("26.7.2", "POST", `/api/firewall/alias/set_item/${uuidOf("26.7.2", "jit_admins")}`, {
      who: "edit",
      body: { alias: { content: "10.0.0.0/24\n10.0.0.1/32" } },
    });
    expect((r.json as { validations: Record<string, unknown> }).validations["alias.content"]).toHaveLength(2);
  });
});

describe("read-only users (System: Deny config write)", () => {
  it("alias_util add/delete/flush refuse them from 26.7.1, with errorLevel from 26.7.2", async () => {
    for (const path of ["add/jit_admins", "delete/jit_admins", "flush/jit_runtime"]) {
      const r = await call("26.7.1", "POST", `/api/firewall/alias_util/${path}`, { who: "readonly", body: { address: "10.1.1.1" } });
      expect(r).toMatchObject({
        status: 500,
        json: { errorMessage: "User readonly denied for write access (user-config-readonly set)", errorTitle: "General access" },
      });
      expect(r.json).not.toHaveProperty("errorLevel");
    }
    const r2 = await call("26.7.2", "POST", "/api/firewall/alias_util/add/jit_runtime", { who: "readonly", body: { address: "10.1.1.1" } });
    expect(r2.json).toEqual({
      errorMessage: "User readonly denied for write access (user-config-readonly set)",
      errorTitle: "General access",
      errorLevel: "error",
    });
  });

  it("up to 26.7 alias_util lets them write host/network content; model saves refuse them (title empty up to 26.1.10)", async () => {
    expect((await call("26.7", "POST", "/api/firewall/alias_util/add/jit_admins", { who: "readonly", body: { address: "10.1.1.1" } })).json).toEqual({
      status: "done",
    });
    expect(at("26.7").backend.configContent("jit_admins")).toEqual(["10.1.1.1"]);
    const set = await call("26.1.10", "POST", `/api/firewall/alias/set_item/${uuidOf("26.1.10", "jit_admins")}`, {
      who: "readonly",
      body: { alias: { content: "10.1.1.2" } },
    });
    expect(set).toMatchObject({ status: 500, json: { errorTitle: "" } });
  });
});

describe("alias endpoints users' tools call (AliasController, ApiMutableModelControllerBase)", () => {
  it("get_item on an unknown uuid: 500 up to 26.1.10, a partial object without name from 26.1.11", async () => {
    const id = "00000000-0000-4000-8000-000000000000";
    expect((await call("26.1.10", "GET", `/api/firewall/alias/get_item/${id}`, { who: "read" })).status).toBe(500);
    const r = await call("26.1.11", "GET", `/api/firewall/alias/get_item/${id}`, { who: "read" });
    expect(r.status).toBe(200);
    expect((r.json as { alias: Record<string, unknown> }).alias).not.toHaveProperty("name");
  });

  it("toggles an alias, and with a comma list only for explicit 0/1", async () => {
    const id = uuidOf("26.7.2", "web_ports");
    expect((await call("26.7.2", "POST", `/api/firewall/alias/toggle_item/${id}`, { who: "edit", body: {} })).json).toEqual({
      result: "Disabled",
      changed: true,
    });
    expect((await call("26.7.2", "POST", `/api/firewall/alias/toggle_item/${id}/0`, { who: "edit", body: {} })).json).toEqual({
      result: "Disabled",
      changed: false,
    });
    const list = await call("26.7.2", "POST", `/api/firewall/alias/toggle_item/${id},${uuidOf("26.7.2", "blocklist_url")}`, { who: "edit", body: {} });
    expect(list).toMatchObject({ status: 500, json: { errorTitle: "Toggle" } });
    expect((await call("26.7.2", "GET", `/api/firewall/alias/toggle_item/${id}`, { who: "edit" })).json).toEqual({ result: "failed" });
  });

  it("exports raw JSON and imports by name, all or nothing", async () => {
    const exp = await call("26.7.2", "GET", "/api/firewall/alias/export", { who: "read" });
    expect(exp.text).toContain('"content": "https:\\/\\/example.net\\/list.txt"');
    const bad = await call("26.7.2", "POST", "/api/firewall/alias/import", {
      who: "edit",
      body: {
        data: {
          aliases: { alias: { a: { name: "ok_hosts", type: "host", content: "10.0.0.1" }, b: { name: "bad_hosts", type: "host", content: "10.0.0.0/24" } } },
        },
      },
    });
    expect(bad.json).toEqual({
      existing: 0,
      new: 2,
      status: "failed",
      validations: { "b.content": 'Entry "10.0.0.0/24" is not a valid hostname, IP address or range.' },
    });
    expect(at("26.7.2").backend.aliases.has("ok_hosts")).toBe(false);
    const good = await call("26.7.2", "POST", "/api/firewall/alias/import", {
      who: "edit",
      body: { data: { aliases: { alias: { a: { name: "jit_admins", type: "host", content: "10.0.0.1" } } } } },
    });
    expect(good.json).toEqual({ existing: 1, new: 0, status: "ok" });
  });

  it("serves get, get_table_size, list_network_aliases and the menu tree", async () => {
    const get = (await call("26.7.2", "GET", "/api/firewall/alias/get", { who: "read" })).json as {
      alias: { aliases: { alias: Record<string, { name: string }> } };
    };
    expect(Object.values(get.alias.aliases.alias).map((a) => a.name)).toContain("jit_admins");
    await call("26.7.2", "POST", "/__emulator/seed-table", { body: { alias: "jit_nets", count: 3 } });
    expect((await call("26.7.2", "GET", "/api/firewall/alias/get_table_size", { who: "read" })).json).toMatchObject({
      status: "ok",
      details: { jit_nets: { count: 3 } },
    });
    expect(Object.keys((await call("26.7.2", "GET", "/api/firewall/alias/list_network_aliases", { who: "read" })).json as object)).not.toContain("jit_runtime");
    const tree = (await call("26.7.2", "GET", "/api/core/menu/tree", { who: "tables" })).json as { Id: string; Children: { Id: string }[] }[];
    expect(tree.map((n) => n.Id)).toEqual(["Firewall"]);
  });

  it("search rows carry raw values plus %type from 25.7, descriptions before", async () => {
    const row = async (v: V) =>
      ((await call(v, "GET", "/api/firewall/alias/search_item?searchPhrase=jit_admins", { who: "read" })).json as { rows: Record<string, string>[] }).rows[0]!;
    expect(await row("26.7.2")).toMatchObject({ type: "host", "%type": "Host(s)" });
    expect(await row("25.1")).toMatchObject({ type: "Host(s)" });
  });

  it("has alias/update from 26.1.5 and alias_util/update_bogons before", async () => {
    expect((await call("26.7.2", "POST", "/api/firewall/alias/update/bogons", { who: "edit", body: {} })).json).toEqual({
      status: "ok",
      message: "Update completed",
    });
    expect((await call("24.7", "POST", "/api/firewall/alias/update/bogons", { who: "edit", body: {} })).status).toBe(404);
    expect((await call("24.7", "GET", "/api/firewall/alias_util/update_bogons", { who: "tables" })).json).toEqual({ status: "done" });
  });
});

describe("routing and login", () => {
  it("answers an unknown route 404 before auth and records it as unhandled", async () => {
    const r = await call("26.7.2", "GET", "/api/firewall/alias/nope");
    expect(r).toMatchObject({ status: 404, json: { errorMessage: "Endpoint not found" } });
    expect(at("26.7.2").log.unhandled()).toHaveLength(1);
    expect((await call("26.7.2", "GET", "/__emulator/unhandled")).json).toHaveLength(1);
    expect((await call("26.7.2", "GET", "/api/Firewall/aliasUtil/aliases", { who: "admin" })).status).toBe(200);
  });

  it("pads a failed login to ~2 s from 25.1, not before", async () => {
    const bad = { auth: `Basic ${Buffer.from(`${USERS.admin.key}:wrong`).toString("base64")}` };
    let t = Date.now();
    expect((await call("25.1", "GET", "/api/core/menu/search", bad)).status).toBe(401);
    expect(Date.now() - t).toBeGreaterThanOrEqual(1900);
    t = Date.now();
    expect((await call("24.7", "GET", "/api/core/menu/search", bad)).status).toBe(401);
    expect(Date.now() - t).toBeLessThan(1000);
  });
});

describe("control routes", () => {
  it("edits the live table alone, lists one alias, and switches the version", async () => {
    await call("26.7.2", "POST", "/__emulator/alias-content", { body: { alias: "jit_admins", add: "10.4.4.4", where: "table" } });
    expect((await call("26.7.2", "GET", "/__emulator/alias?alias=jit_admins")).json).toMatchObject({ content: [], table: ["10.4.4.4"] });
    expect((await call("26.7.2", "POST", "/__emulator/version", { body: { version: "23.7" } })).status).toBe(400);
    expect((await call("26.7", "POST", "/__emulator/version", { body: { version: "26.7.1" } })).json).toEqual({ status: "ok", version: "26.7.1" });
    expect((await call("26.7", "POST", "/api/firewall/alias_util/flush/jit_runtime", { who: "readonly", body: {} })).status).toBe(500);
    await call("26.7", "POST", "/__emulator/version", { body: { version: "26.7" } });
  });
});

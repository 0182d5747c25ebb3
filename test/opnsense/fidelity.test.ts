/**
 * Client fixes of issue 10 against the emulator, per modelled version where the device differs:
 * - alias_util/list returns at most 9999 rows to a GET from 25.7 (`total` still counts all); the client
 *   POSTs `{"rowCount":-1}`, so presence, verification and refresh see every row of a 20,000-entry
 *   table (opnsense/core AliasUtilController.php `listAction` → ApiControllerBase `searchRecordsetBase`,
 *   25.7/26.7.2; own code with default "all" up to 25.1).
 * - A Host(s) alias never holds a prefix, not even /32: a network grant into it is refused at preflight,
 *   a /32 grant is written bare (AliasContentField.php `validateHost`, Util.php).
 * And of issue 9: config-mode verify-and-repair, make-live on retry, delete of an adopted address,
 * table and config grants on one alias in one process.
 */
import type { GrantAddress } from "../../provider/core/address";
import { mustParseAddress } from "../../provider/core/address";
import { isGrantError } from "../../provider/core/errors";
import { CONFIG_MODE_TIMING } from "../../provider/devices/opnsense/alias-batcher";
import { OpnsenseClient } from "../../provider/devices/opnsense/client";
import { resolveConnection } from "../../provider/devices/opnsense/connection";
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { addGrant, grantPresent, removeGrant, type GrantTarget } from "../../provider/devices/opnsense/grant-ops";
import { cachedAlias, preflightReport, type GrantMethod } from "../../provider/devices/opnsense/preflight";
import { grantErrorCode, secretFreeMessages, useEmulator } from "../support/emulator";
import { fastConfigTiming, raw, SECRET, USERS, type UserName } from "./helpers";

const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));
fastConfigTiming();
const messages = secretFreeMessages(SECRET);

async function target(who: UserName, alias: string, address: string, method: GrantMethod): Promise<GrantTarget> {
  const conn = resolveConnection({ url: emu.url, caCert: emu.caCert }, { apiKey: USERS[who].key, apiSecret: USERS[who].secret });
  const client = new OpnsenseClient(conn);
  const info = await cachedAlias(conn, client, alias, method);
  return { conn, client, alias, address: mustParseAddress(address), method, info };
}

describe.each(["25.1", "25.7", "26.7.2"])("OPNsense %s: a 20,000-entry table", (version) => {
  const N = 20_000;
  let seeded: { first: string; last: string };
  beforeEach(async () => {
    await raw(emu.url, emu.caCert, "POST", "/__emulator/version", { body: { version } });
    seeded = emu.backend.seedTable("jit_admins", N);
  });

  it("lists every row with one request, where a GET would stop at 9999 (25.7+)", async () => {
    const c = new OpnsenseClient({ url: emu.url, caCert: emu.caCert, apiKey: USERS.tables.key, apiSecret: USERS.tables.secret });
    emu.log.clear();
    const rows = await c.utilList("jit_admins");
    expect(rows).toHaveLength(N);
    expect(emu.log.count("alias_util/list")).toBe(1);
    const get = (await raw(emu.url, emu.caCert, "GET", "/api/firewall/alias_util/list/jit_admins", { who: "tables" })).json as {
      total: number;
      rows: unknown[];
    };
    expect(get.total).toBe(N);
    expect(get.rows).toHaveLength(version === "25.1" ? N : 9999);
  });

  it("finds, adopts, removes and adds grants past row 9999 (table mode)", async () => {
    const get = (await raw(emu.url, emu.caCert, "GET", "/api/firewall/alias_util/list/jit_admins", { who: "tables" })).json as { rows: { ip: string }[] };
    const firstPage = new Set(get.rows.map((r) => r.ip));
    const late = [seeded.last, "10.128.50.0", "10.128.70.7"].filter((a) => !firstPage.has(a) || version === "25.1");
    expect(late.length).toBeGreaterThan(0);
    for (const who of ["tables", "tablesRead"] as const) {
      const t = await target(who, "jit_admins", late[0]!, "table");
      expect(await grantPresent(t)).toBe(true);
      expect(await addGrant(t)).toEqual({ adopted: true });
    }
    const adds = emu.log.count("alias_util/add");
    expect(adds).toBe(0);
    const gone = await target("tablesRead", "jit_admins", late[late.length - 1]!, "table");
    await removeGrant(gone); // verified by the read-back of all 20,000 rows
    expect(emu.backend.tableContent("jit_admins")).not.toContain(gone.address.canonical);
    const fresh = await target("tablesRead", "jit_admins", "10.250.0.9", "table");
    expect(await addGrant(fresh)).toEqual({ adopted: false });
    expect(await grantPresent(fresh)).toBe(true);
    expect(emu.backend.tableContent("jit_admins")).toHaveLength(N);
  });
});

describe("Host(s) aliases never hold networks", () => {
  it("refuses a network grant into a Host(s) alias at preflight, naming the type and the fix, with no write", async () => {
    const t = await target("admin", "jit_admins", "10.9.0.0/24", "config");
    emu.log.clear();
    for (const method of ["table", "config"] as const) {
      try {
        await preflightReport(t.conn, t.client, "jit_admins", method, mustParseAddress("10.9.0.0/24"));
        throw new Error("expected a refusal");
      } catch (e) {
        expect(isGrantError(e) && ["OPN101", "OPN104"].includes(e.code)).toBe(true);
        const msg = (e as Error).message;
        messages.push(msg);
        expect(msg).toContain("Host(s) alias");
        expect(msg).toContain("Network(s) alias");
      }
    }
    // addGrant refuses it too, before any request (resource.ts may call preflight without the address).
    expect(await grantErrorCode(addGrant(t), { messages })).toMatch(/^OPN10[14]$/);
    expect(emu.log.sideEffects()).toHaveLength(0);
  });

  it.each(["table", "config"] as const)("writes a /32 grant into a Host(s) alias as the bare address (%s)", async (method) => {
    const t = await target("admin", "jit_admins", "203.0.113.7/32", method);
    expect((await preflightReport(t.conn, t.client, "jit_admins", method, t.address)).unverified).toEqual([]);
    await addGrant(t);
    expect(emu.backend.configContent("jit_admins")).toEqual(["203.0.113.7"]);
    expect(emu.backend.tableContent("jit_admins")).toEqual(["203.0.113.7"]);
  });

  it("puts networks and host addresses into a Network(s) alias (host as ip/32, IPv6 as ip/128)", async () => {
    for (const a of ["10.9.0.0/24", "10.9.1.1", "::a00:1"]) await addGrant(await target("tablesRead", "jit_nets", a, "table"));
    expect(emu.backend.configContent("jit_nets")).toEqual(["10.9.0.0/24", "10.9.1.1/32", "::a00:1/128"]);
    for (const a of ["10.9.0.0/24", "10.9.1.1", "::a00:1"]) await removeGrant(await target("tablesRead", "jit_nets", a, "table"));
    expect(emu.backend.configContent("jit_nets")).toEqual([]);
  });

  it("with a key that cannot read the alias type, says what preview could not verify; the device's 500 is OPN102", async () => {
    const t = await target("tables", "jit_admins", "10.9.0.0/24", "table");
    expect(t.info.type).toBe("unknown");
    const report = await preflightReport(t.conn, t.client, "jit_admins", "table", t.address);
    expect(report.unverified.join(" ")).toMatch(/could not verify.*Network\(s\) alias/);
    expect(await grantErrorCode(addGrant(t), { messages })).toBe("OPN102");
    expect(emu.backend.configContent("jit_admins")).toEqual([]);
  });
});

describe("config mode: verify after write, repair, fail loudly", () => {
  const addr = (a: string): GrantAddress => mustParseAddress(a);

  it("repairs a grant another writer wrote away between our write and the verify", async () => {
    const t = await target("edit", "jit_admins", "10.7.0.1", "config");
    emu.backend.insertAddress("jit_admins", "10.7.0.99");
    const p = addGrant(t);
    // As soon as our set_item landed, "another process" writes back the content it read before.
    while (emu.log.count("alias/set_item") === 0) await new Promise((r) => setTimeout(r, 2));
    emu.backend.removeAddress("jit_admins", addr("10.7.0.1").canonical);
    expect(await p).toEqual({ adopted: false });
    expect(emu.backend.configContent("jit_admins").sort()).toEqual(["10.7.0.1", "10.7.0.99"]);
    expect(emu.backend.tableContent("jit_admins").sort()).toEqual(["10.7.0.1", "10.7.0.99"]);
    expect(emu.log.count("alias/set_item")).toBe(2);
  });

  it("fails loudly (OPN102 / OPN103) when another writer keeps undoing the change", async () => {
    const saved = CONFIG_MODE_TIMING.maxRounds;
    CONFIG_MODE_TIMING.maxRounds = 2;
    const t = await target("edit", "jit_admins", "10.7.0.2", "config");
    const other = setInterval(() => emu.backend.removeAddress("jit_admins", "10.7.0.2"), 3);
    try {
      expect(await grantErrorCode(addGrant(t), { messages })).toBe("OPN102");
    } finally {
      clearInterval(other);
    }
    emu.backend.insertAddress("jit_admins", "10.7.0.3");
    const r = await target("edit", "jit_admins", "10.7.0.3", "config");
    const back = setInterval(() => emu.backend.configContent("jit_admins").includes("10.7.0.3") || emu.backend.insertAddress("jit_admins", "10.7.0.3"), 3);
    try {
      expect(await grantErrorCode(removeGrant(r), { messages })).toBe("OPN103");
    } finally {
      clearInterval(back);
      CONFIG_MODE_TIMING.maxRounds = saved;
    }
  });

  it("never writes on a read older than its window: slow reads are repeated, then the batch fails loudly with nothing written", async () => {
    const saved = { ...CONFIG_MODE_TIMING };
    // Window (b) (the settle floor less the write allowance) below window (a): the window is 100 ms whatever is measured.
    Object.assign(CONFIG_MODE_TIMING, { windowMs: 100, windowMsPerLine: 0, settleMs: 150 });
    emu.backend.insertAddress("jit_admins", "10.7.0.98");
    const t = await target("edit", "jit_admins", "10.7.0.6", "config");
    emu.log.clear();
    // Every read answers after the window: whatever another process wrote meanwhile, a write now would drop it.
    emu.faults.add({ match: "alias/get_item", kind: "latency", ms: 250 });
    try {
      expect(await grantErrorCode(addGrant(t), { messages })).toBe("OPN002");
      expect(messages[messages.length - 1]).toMatch(
        /answered after 2\d\d ms.*later than the 100 ms window a write may follow the start of its read.*nothing was written/s,
      );
      expect(emu.log.count("alias/get_item")).toBe(CONFIG_MODE_TIMING.readAttempts);
      expect(emu.log.count("alias/set_item")).toBe(0);
      expect(emu.backend.configContent("jit_admins")).toEqual(["10.7.0.98"]);
    } finally {
      emu.faults.clear();
      Object.assign(CONFIG_MODE_TIMING, saved);
    }
    // Reads back to normal: the same grant goes through.
    expect(await addGrant(t)).toEqual({ adopted: false });
    expect(emu.backend.tableContent("jit_admins").sort()).toEqual(["10.7.0.6", "10.7.0.98"]);
  });

  it("a set_item lost after its window is not resent on the old read: the batch reads again first", async () => {
    const t = await target("edit", "jit_admins", "10.7.0.7", "config");
    emu.log.clear();
    // The connection drops once the window has passed: a retry now would carry content read too long ago.
    emu.faults.add({ match: "alias/set_item", kind: "hang", ms: CONFIG_MODE_TIMING.windowMs + 100, times: 1 });
    try {
      expect(await addGrant(t)).toEqual({ adopted: false });
    } finally {
      emu.faults.clear();
    }
    const seq = emu.log
      .entries()
      .map((e) => e.path)
      .filter((p) => /get_item|set_item/.test(p))
      .map((p) => (p.includes("set_item") ? "set" : "get"));
    // get, set (dropped), get (a fresh read), set, then the verifying get.
    expect(seq.slice(0, 4)).toEqual(["get", "set", "get", "set"]);
    expect(emu.backend.tableContent("jit_admins")).toEqual(["10.7.0.7"]);
  });

  it("a create that finds the address saved but not live (a run killed before reconfigure) makes it live", async () => {
    await raw(emu.url, emu.caCert, "POST", "/__emulator/alias-content", { body: { alias: "jit_admins", add: "10.7.0.4", where: "config" } });
    expect(emu.backend.tableContent("jit_admins")).toEqual([]);
    const t = await target("edit", "jit_admins", "10.7.0.4", "config");
    expect(await addGrant(t)).toEqual({ adopted: true });
    expect(emu.backend.tableContent("jit_admins")).toEqual(["10.7.0.4"]);
    expect(emu.log.count("alias/set_item")).toBe(0); // no config revision for nothing
  });

  it.each(["table", "config"] as const)("delete removes an address that was there before the create, and is idempotent (%s)", async (method) => {
    emu.backend.insertAddress("jit_admins", "10.7.0.5");
    const t = await target(method === "table" ? "tablesRead" : "edit", "jit_admins", "10.7.0.5", method);
    expect(await addGrant(t)).toEqual({ adopted: true });
    await removeGrant(t);
    await removeGrant(t);
    expect(emu.backend.configContent("jit_admins")).toEqual([]);
    expect(emu.backend.tableContent("jit_admins")).toEqual([]);
  });

  it("table and config grants on one alias in one process: none lost", async () => {
    const table = Array.from({ length: 15 }, (_, i) => `10.8.0.${i + 1}`);
    const config = Array.from({ length: 15 }, (_, i) => `10.8.1.${i + 1}`);
    const targets = await Promise.all([
      ...table.map((a) => target("tablesRead", "jit_admins", a, "table")),
      ...config.map((a) => target("edit", "jit_admins", a, "config")),
    ]);
    await Promise.all(
      targets.map(async (t, i) => {
        await new Promise((r) => setTimeout(r, (i * 13) % 60));
        return addGrant(t);
      }),
    );
    const want = [...table, ...config].sort();
    expect([...emu.backend.configContent("jit_admins")].sort()).toEqual(want);
    expect(emu.backend.tableContent("jit_admins")).toEqual(want);
  });
});

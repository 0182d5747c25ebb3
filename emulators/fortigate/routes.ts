/**
 * The FortiGate emulator's route table and handlers: exact FortiOS methods and paths, the access each
 * needs, and the CMDB envelopes (docs/reference/fortigate.md §2a, §2b, §3, §4; each row cites its
 * source). The auth+privilege gate that runs before these lives in emulator.ts.
 */
import { CmdbError, type AddrFamily, type FortigateBackend, type StoredAddress, type StoredGroup } from "./backend";
import { shownFields } from "./values";
import { QueryError, queryRows, tableSchema } from "./query";
import type { EmulatorRequest } from "../kit";

export type Access = "any" | "read" | "write";
export interface Ctx {
  readonly req: EmulatorRequest;
  readonly vdom: string;
  readonly params: readonly string[];
  readonly body: Record<string, unknown>;
}
/** `text` (with `contentType`) replaces the JSON body, for the few HTML answers (feed push refusal variant). */
export type Reply = { status: number; json: Record<string, unknown>; sideEffect?: boolean; text?: string; contentType?: string };
export interface Route {
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  readonly pattern: RegExp;
  readonly access: Access;
  readonly name: string;
  readonly handler: (b: FortigateBackend, c: Ctx) => Reply;
  /** False when the modelled firmware has no such path: it answers like an unknown path (a JSON 404 object, also with `global=1`). */
  readonly present?: (b: FortigateBackend) => boolean;
  /** Access group of the route when not Firewall > Address (threat feeds: "sysgrp", "sysgrp.cfg"; feeds-routes.ts). */
  readonly group?: "sysgrp" | "sysgrp.cfg";
  /** The answer when the profile lacks the access (default: the 403 JSON envelope). */
  readonly denied?: (b: FortigateBackend, c: Ctx) => Reply;
}

const family = (table: string | undefined): AddrFamily => (table?.endsWith("6") ? "ipv6" : "ipv4");
type Table = "address" | "address6" | "addrgrp" | "addrgrp6";
const table = (c: Ctx) => c.params[0] as Table;

/** Envelope fields of every answer (captures of 6.2.3 and 7.2.6, reference §3). */
export function envelope(b: FortigateBackend, c: Pick<Ctx, "req" | "vdom">): Record<string, unknown> {
  const [, , , kind = "", path = "", name = ""] = c.req.rawPath.split("/");
  return {
    http_method: c.req.method,
    revision: b.revision,
    vdom: c.vdom,
    path: kind === "monitor" || kind === "cmdb" ? path : "",
    name,
    serial: b.serial,
    version: b.version,
    build: b.build,
  };
}
function ok(b: FortigateBackend, c: Ctx, extra: Record<string, unknown>, sideEffect = false): Reply {
  return { status: 200, json: { ...envelope(b, c), ...extra, status: "success", http_status: 200 }, sideEffect };
}
/** 403/404/405 carry no `error` code; 500 carries the negative CLI code (+ `cli_error` on 7.x) and no `mkey` on -5 [R7#1027], §4. */
export function err(b: FortigateBackend, c: Pick<Ctx, "req" | "vdom">, e: CmdbError, mkey?: string): Reply {
  const json: Record<string, unknown> = { ...envelope(b, c), status: "error", http_status: e.httpStatus };
  if (e.code !== undefined) Object.assign(json, { error: e.code, revision_changed: false });
  if (e.cliError !== undefined && b.firmware.major >= 7) json.cli_error = e.cliError;
  if (mkey && e.code !== -5) json.mkey = mkey;
  return { status: e.httpStatus, json };
}
function write(b: FortigateBackend, c: Ctx, mkey: string, apply: () => { revision: string; old_revision: string; changed?: boolean }): Reply {
  try {
    const { changed = true, ...rev } = apply();
    return ok(b, c, { ...rev, revision_changed: changed, mkey }, changed);
  } catch (e) {
    if (e instanceof CmdbError) return err(b, c, e, mkey);
    throw e;
  }
}
const notFound = (b: FortigateBackend, c: Ctx, mkey?: string) => err(b, c, new CmdbError(404, undefined), mkey);
/** 405 JSON: PUT on a collection (AN#289, AN#272; SW-CMDB lists only GET/POST there), or a method a path does not take. */
export const notAllowed = (b: FortigateBackend, c: Pick<Ctx, "req" | "vdom">) => err(b, c, new CmdbError(405, undefined));

const addrJson = (f: AddrFamily) => (a: StoredAddress) => ({
  name: a.name,
  q_origin_key: a.name,
  uuid: a.uuid,
  type: a.type,
  ...Object.fromEntries(shownFields(f, a.type).map((k) => [k, a.fields[k] ?? ""])),
  comment: a.comment,
  ...a.settings,
});
const grpJson = (g: StoredGroup) => ({
  name: g.name,
  q_origin_key: g.name,
  uuid: g.uuid,
  member: g.members.map((m) => ({ name: m, q_origin_key: m })),
  comment: g.comment,
  ...g.settings,
});
const rowsOf = (b: FortigateBackend, c: Ctx): Record<string, unknown>[] =>
  table(c).startsWith("addrgrp") ? b.groups(c.vdom, family(table(c))).map(grpJson) : b.addresses(c.vdom, family(table(c))).map(addrJson(family(table(c))));
function memberNames(raw: unknown): string[] | undefined {
  return Array.isArray(raw) ? raw.map((m) => String((m as { name?: unknown })?.name ?? "")) : undefined;
}

/** GET on a collection: rows with the query options; `action=schema` → the schema; `action=default` → a new object's defaults (SW-CMDB). */
function list(b: FortigateBackend, c: Ctx): Reply {
  const action = c.req.query.get("action");
  if (action === "schema") return ok(b, c, { results: tableSchema(table(c), b.features) });
  if (action === "default")
    return ok(b, c, {
      results: table(c).startsWith("addrgrp")
        ? { name: "", member: [], comment: "" }
        : table(c) === "address"
          ? { name: "", type: "ipmask", subnet: "0.0.0.0 0.0.0.0", comment: "" }
          : { name: "", type: "ipprefix", ip6: "::/0", comment: "" },
    });
  try {
    const { results, meta } = queryRows(rowsOf(b, c), c.req.query, b.features);
    return ok(b, c, { results, ...meta });
  } catch (e) {
    if (e instanceof QueryError) return err(b, c, new CmdbError(400, undefined));
    throw e;
  }
}
/** GET of one object: envelope + `mkey` + `results:[obj]` (array of one), `format` honoured [R7, SW-CMDB]. */
function one(b: FortigateBackend, c: Ctx): Reply {
  if (c.req.query.get("action") === "schema") return ok(b, c, { results: tableSchema(table(c), b.features) });
  const mkey = c.params[1]!;
  const row = rowsOf(b, c).find((r) => r.name === mkey);
  if (!row) return notFound(b, c, mkey);
  const only = new URLSearchParams();
  for (const f of c.req.query.getAll("format")) only.append("format", f);
  return ok(b, c, { mkey, results: queryRows([row], only, b.features).results });
}
function create(b: FortigateBackend, c: Ctx): Reply {
  const name = String(c.body.name ?? "");
  if (!table(c).startsWith("addrgrp")) return write(b, c, name, () => b.createAddress(c.vdom, family(table(c)), c.body));
  return write(b, c, name, () =>
    b.createGroup(c.vdom, family(table(c)), name, memberNames(c.body.member) ?? [], typeof c.body.comment === "string" ? c.body.comment : "", c.body),
  );
}
function update(b: FortigateBackend, c: Ctx): Reply {
  const f = family(table(c));
  const mkey = c.params[1]!;
  if (!table(c).startsWith("addrgrp")) return write(b, c, mkey, () => b.updateAddress(c.vdom, f, mkey, c.body));
  return write(b, c, mkey, () =>
    b.updateGroup(c.vdom, f, mkey, { name: c.body.name, comment: c.body.comment, members: memberNames(c.body.member), body: c.body }),
  );
}
function remove(b: FortigateBackend, c: Ctx): Reply {
  const f = family(table(c));
  const mkey = c.params[1]!;
  return write(b, c, mkey, () => (table(c).startsWith("addrgrp") ? b.deleteGroup(c.vdom, f, mkey) : b.deleteAddress(c.vdom, f, mkey)));
}
/** DELETE on a collection path (incl. a trailing slash, i.e. an empty name): "Purge child table" [P-604], unreferenced objects only [DCFA PR #7]; 7.x unverified. */
function purge(b: FortigateBackend, c: Ctx): Reply {
  const { rev, removed } = b.purge(c.vdom, family(table(c)), table(c).startsWith("addrgrp") ? "group" : "address");
  return ok(b, c, { ...rev, revision_changed: removed > 0 }, removed > 0);
}

// ---- member child table `…/addrgrp[6]/{g}/member[/{m}]` [AN-MU `_request_sub_object`, AN#300, P-604 TOC]
const group = (b: FortigateBackend, c: Ctx) => b.getGroup(c.vdom, family(table(c)), c.params[1]!);
function memberList(b: FortigateBackend, c: Ctx): Reply {
  const g = group(b, c);
  if (!g) return notFound(b, c, c.params[1]);
  const { results, meta } = queryRows(
    g.members.map((m) => ({ name: m, q_origin_key: m })),
    c.req.query,
    b.features,
  );
  return ok(b, c, { results, ...meta });
}
function memberOne(b: FortigateBackend, c: Ctx): Reply {
  const g = group(b, c);
  const m = c.params[2]!;
  if (!g || !g.members.includes(m)) return notFound(b, c, m);
  return ok(b, c, { mkey: m, results: [{ name: m, q_origin_key: m }] });
}
/**
 * Child PUT: Ansible sends it for an existing child and accepts 200 or 405 [AN-MU]; which one the device
 * gives is unverified. Modelled as an edit of the child entry: same name → 200 with nothing changed, a
 * new `name` → the member is replaced (like a rename, PFGT-T), a non-member → 404.
 */
function memberPut(b: FortigateBackend, c: Ctx): Reply {
  const g = group(b, c);
  const m = c.params[2]!;
  if (!g || !g.members.includes(m)) return notFound(b, c, m);
  const to = typeof c.body.name === "string" ? c.body.name : m;
  if (to === m) return ok(b, c, { mkey: m, revision: b.revision, old_revision: b.revision, revision_changed: false });
  return write(b, c, to, () => b.updateGroup(c.vdom, family(table(c)), g.name, { members: g.members.map((x) => (x === m ? to : x)) }));
}
/** DELETE on the member collection: "Purge child table" [P-604] — empties the group (refused before 7.2.0, see backend). */
function memberPurge(b: FortigateBackend, c: Ctx): Reply {
  if (!group(b, c)) return notFound(b, c, c.params[1]);
  return write(b, c, c.params[1]!, () => b.updateGroup(c.vdom, family(table(c)), c.params[1]!, { members: [] }));
}

const status = (b: FortigateBackend) => ({
  model_name: "FortiGate",
  model_number: "VM64",
  model: "FGVM64",
  hostname: "FGT-EMULATOR",
  log_disk_status: "available",
  serial: b.serial,
  version: b.version,
  build: b.build,
});
/** `monitor/system/status`: Access Group any [SW-MON]; results after fortigate_exporter `status.jsonnet`. */
const monitorStatus = (b: FortigateBackend, c: Ctx): Reply => ({
  status: 200,
  json: { ...envelope(b, c), action: "", status: "success", http_status: 200, results: status(b) },
});
/** Undocumented `cmdb/system/status`: answered ≤ 7.2.x, a JSON 404 (an object, also with `global=1`) by 7.4.4/7.4.5 [FAPI#80, VG#31]. Its `results` are unverified. */
const cmdbStatus = (b: FortigateBackend, c: Ctx): Reply => ok(b, c, { results: status(b) });

/**
 * `cmdb/system/global`, Access Group sysgrp [SW-CMDB]: terraform-provider-fortios reads the firmware `version` from this
 * answer's envelope before every resource operation (docs/reference/fortigate.md, Terraform row), so a peer fails without
 * it. The `results` keys are a few the table has (hostname, alias, timezone, admintimeout); their values are the emulator's.
 */
const systemGlobal = (b: FortigateBackend, c: Ctx): Reply =>
  ok(b, c, { results: { hostname: "FGT-EMULATOR", alias: "FGT-EMULATOR", timezone: "UTC", admintimeout: 5 } });

const T = "(address6?|addrgrp6?)";
const G = "(addrgrp6?)";
const base = "^\\/api\\/v2\\/cmdb\\/firewall\\/";
const r = (method: Route["method"], path: string, access: Access, name: string, handler: Route["handler"]): Route => ({
  method,
  pattern: new RegExp(base + path + "$"),
  access,
  name,
  handler,
});
const coll = `${T}\\/?`;
const obj = `${T}\\/([^/]+)`;
const members = `${G}\\/([^/]+)\\/member\\/?`;
const member = `${G}\\/([^/]+)\\/member\\/([^/]+)`;

/**
 * The route table. CMDB paths and methods: reference §2a (SW-CMDB 6.4.14); a trailing slash on a
 * collection is the collection [ADM-API, PYFA, DCFA]; child member paths [AN-GRP, AN#300, P-604].
 * Access "read"/"write" is on Firewall > Address (fwgrp / fwgrp-permission.address, §5); the status
 * endpoints are Access Group "any" [SW-MON]. A method a known path does not take answers 405 (see
 * emulator.ts); an unknown path a JSON 404 [FAPI#80].
 */
export const ROUTES: readonly Route[] = [
  { method: "GET", pattern: /^\/api\/v2\/monitor\/system\/status\/?$/, access: "any", name: "GET /api/v2/monitor/system/status", handler: monitorStatus },
  {
    method: "GET",
    pattern: /^\/api\/v2\/cmdb\/system\/status\/?$/,
    access: "any",
    name: "GET /api/v2/cmdb/system/status",
    handler: cmdbStatus,
    present: (b) => b.features.cmdbSystemStatus,
  },
  {
    method: "GET",
    pattern: /^\/api\/v2\/cmdb\/system\/global\/?$/,
    access: "read",
    group: "sysgrp",
    name: "GET /api/v2/cmdb/system/global",
    handler: systemGlobal,
  },
  r("GET", coll, "read", "GET /api/v2/cmdb/firewall/{table}", list),
  r("POST", coll, "write", "POST /api/v2/cmdb/firewall/{table}", create),
  r("PUT", coll, "write", "PUT /api/v2/cmdb/firewall/{table} (405)", notAllowed),
  r("DELETE", coll, "write", "DELETE /api/v2/cmdb/firewall/{table} (purge)", purge),
  r("GET", obj, "read", "GET /api/v2/cmdb/firewall/{table}/{name}", one),
  r("PUT", obj, "write", "PUT /api/v2/cmdb/firewall/{table}/{name}", update),
  r("DELETE", obj, "write", "DELETE /api/v2/cmdb/firewall/{table}/{name}", remove),
  // fortiosapi `post`: "post with mkey will return a 404 as the next level is not there yet" [FAPI].
  r("POST", obj, "write", "POST /api/v2/cmdb/firewall/{table}/{name} (404)", (b, c) => notFound(b, c, c.params[1])),
  r("GET", members, "read", "GET /api/v2/cmdb/firewall/{group}/{name}/member", memberList),
  r("POST", members, "write", "POST /api/v2/cmdb/firewall/{group}/{name}/member", (b, c) =>
    write(b, c, String(c.body.name ?? ""), () => b.addMember(c.vdom, family(table(c)), c.params[1]!, String(c.body.name ?? ""))),
  ),
  r("PUT", members, "write", "PUT /api/v2/cmdb/firewall/{group}/{name}/member (405)", notAllowed),
  r("DELETE", members, "write", "DELETE /api/v2/cmdb/firewall/{group}/{name}/member (purge)", memberPurge),
  r("GET", member, "read", "GET /api/v2/cmdb/firewall/{group}/{name}/member/{member}", memberOne),
  r("PUT", member, "write", "PUT /api/v2/cmdb/firewall/{group}/{name}/member/{member}", memberPut),
  r("DELETE", member, "write", "DELETE /api/v2/cmdb/firewall/{group}/{name}/member/{member}", (b, c) =>
    write(b, c, c.params[2]!, () => b.removeMember(c.vdom, family(table(c)), c.params[1]!, c.params[2]!)),
  ),
  r("POST", member, "write", "POST /api/v2/cmdb/firewall/{group}/{name}/member/{member} (404)", (b, c) => notFound(b, c, c.params[2])),
];

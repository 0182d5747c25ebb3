/**
 * The OPNsense emulator's route table: exact method and path, handler, and the privilege keys whose
 * ACL patterns cover the URL (shared/reference/opnsense.md §2, §4). Each row cites the opnsense/core
 * controller it follows. Handlers answer with device-native bodies; `sideEffect` marks state changes.
 */
import { randomUUID } from "node:crypto";
import type { HandledReply } from "../emulator-kit";
import { ALIAS_TYPE_LABELS, type AliasType, type EmulatedAlias, type EmulatedUser, type OpnsenseBackend } from "./emulator-backend";

export interface RouteCall {
  readonly method: string;
  readonly params: readonly string[];
  /** Parsed JSON body (`{}` when none). */
  readonly body: Record<string, unknown>;
  readonly user: EmulatedUser;
  readonly backend: OpnsenseBackend;
}

export interface Route {
  /** "alias", "alias_util" or "menu". */
  readonly controller: string;
  /** Action as the docs spell it; matched case-insensitively, with or without underscores (RTR). */
  readonly action: string;
  /** Path parameters the action requires; fewer → 404 before auth (RTR Dispatcher). */
  readonly requiredParams: number;
  readonly privileges: readonly string[];
  readonly source: string;
  readonly handle: (c: RouteCall) => Promise<Reply> | Reply;
}

type Reply = Omit<HandledReply, "route" | "user">;

const ok = (json: unknown, sideEffect = false): Reply => ({ status: 200, json, sideEffect });
const E = "page-firewall-alias-edit";
const R = "page-firewall-aliases";
const T = "page-diagnostics-tables";
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** get_item form (BaseListField/ACF `getNodes`): option maps with `selected`, content as a map. */
function selectedMap(a: EmulatedAlias, all: Iterable<EmulatedAlias>) {
  const content: Record<string, { value: string; selected: number; description?: string }> = {};
  for (const other of all) content[other.name] = { value: other.name, selected: 0, description: other.description };
  for (const line of a.content) content[line] = { value: line, selected: 1 };
  if (a.content.length === 0) content[""] = { value: "", selected: 1 };
  const type = Object.fromEntries(Object.entries(ALIAS_TYPE_LABELS).map(([k, v]) => [k, { value: v, selected: k === a.type ? 1 : 0 }]));
  return { enabled: a.enabled ? "1" : "0", name: a.name, type, content, description: a.description, counters: "0", updatefreq: "" };
}

/** Search row, ≥25.7 form: raw values plus `%field` descriptions (GRID). */
function searchRow(a: EmulatedAlias) {
  return { uuid: a.uuid, enabled: a.enabled ? "1" : "0", name: a.name, type: a.type, "%type": ALIAS_TYPE_LABELS[a.type], content: a.content.join("\n"), description: a.description };
}

/** set_item / add_item body → validations, or the fields to store (AMM `setBase`, BF `setNodes`). */
function applyAliasFields(c: RouteCall, target: EmulatedAlias): Record<string, string> | undefined {
  const fields = c.body.alias as Record<string, unknown> | undefined;
  if (!fields || typeof fields !== "object") return undefined;
  const validations: Record<string, string> = {};
  if (fields.type !== undefined) {
    if (typeof fields.type !== "string" || !(fields.type in ALIAS_TYPE_LABELS)) validations["alias.type"] = `Option [${String(fields.type)}] not in list.`;
    else target.type = fields.type as AliasType;
  }
  if (fields.name !== undefined) target.name = String(fields.name);
  if (fields.description !== undefined) {
    const d = String(fields.description);
    if (d !== "" && !/^(.){1,255}$/.test(d)) validations["alias.description"] = "Description should be a string between 1 and 255 characters.";
    else target.description = d;
  }
  if (fields.content !== undefined) {
    if (typeof fields.content !== "string") throw Object.assign(new Error("Invalid input type"), { unexpected: true });
    const lines = fields.content === "" ? [] : fields.content.split("\n");
    const problems = c.backend.contentProblems(target.type, lines);
    if (problems.length > 0) validations["alias.content"] = problems.join("\n");
    else target.content = lines;
  }
  if (!target.name) validations["alias.name"] = "alias name required";
  return validations;
}

function saveAlias(c: RouteCall, uuid: string | undefined, create: boolean): Reply {
  if (c.method !== "POST" || !c.body.alias) return ok({ result: "failed" });
  const existing = uuid ? c.backend.byUuid(uuid) : undefined;
  if (!create && !existing && !(uuid && UUID_RE.test(uuid))) return ok({ result: "failed" });
  const draft: EmulatedAlias = existing
    ? { ...existing, content: [...existing.content] }
    : { uuid: uuid ?? randomUUID(), name: "", type: "host", content: [], description: "", enabled: true, inUse: false, builtin: false };
  if (existing?.builtin) return ok({ result: "failed" });
  const validations = applyAliasFields(c, draft)!;
  const clash = c.backend.aliases.get(draft.name);
  if (clash && clash.uuid !== draft.uuid) validations["alias.name"] = "An alias with this name already exists.";
  if (Object.keys(validations).length > 0) return ok({ result: "failed", validations });
  c.backend.save(c.user);
  if (existing && existing.name !== draft.name) c.backend.aliases.delete(existing.name);
  c.backend.aliases.set(draft.name, Object.assign(existing ?? draft, draft));
  return ok(create ? { result: "saved", uuid: draft.uuid } : { result: "saved" }, true);
}

/** Natural, case-insensitive order, as AUC `aliasesAction` sorts table names. */
const natural = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });

export const ROUTES: readonly Route[] = [
  {
    controller: "menu", action: "search", requiredParams: 0, privileges: [], source: "Core/Api/MenuController.php searchAction (implicit api/core/menu/*)",
    handle: ({ user }) => {
      const has = (...k: string[]) => user.privileges.includes("page-all") || k.some((p) => user.privileges.includes(p));
      const leaves = [
        has(E, R) && { Url: "/ui/firewall/alias", VisibleName: "Aliases", breadcrumb: "Firewall / Aliases", depth: 2, isVisible: true },
        has(T) && { Url: "/ui/firewall/alias_util/", VisibleName: "pf Tables", breadcrumb: "Firewall / Diagnostics / Aliases", depth: 3, isVisible: true },
        has() && { Url: "/ui/core/dashboard", VisibleName: "Dashboard", breadcrumb: "Lobby / Dashboard", depth: 2, isVisible: true },
      ].filter(Boolean);
      return ok(leaves);
    },
  },
  {
    controller: "alias", action: "search_item", requiredParams: 0, privileges: [E, R], source: "Firewall/Api/AliasController.php searchItemAction",
    handle: ({ backend, body, params }) => {
      const phrase = String(body.searchPhrase ?? "").toLowerCase().split(" ").filter(Boolean);
      void params;
      const rows = [...backend.aliases.values()]
        .filter((a) => phrase.every((t) => `${a.name} ${a.description} ${a.content.join(" ")}`.toLowerCase().includes(t)))
        .sort((a, b) => a.name.localeCompare(b.name))
        .map(searchRow);
      return ok({ total: rows.length, rowCount: rows.length, current: 1, rows });
    },
  },
  {
    controller: "alias", action: "get_item", requiredParams: 0, privileges: [E, R], source: "Firewall/Api/AliasController.php getItemAction (26.7+: unknown uuid → partial object)",
    handle: ({ backend, params }) => {
      const a = params[0] ? backend.byUuid(params[0]) : undefined;
      if (a) return ok({ alias: selectedMap(a, backend.aliases.values()) });
      const content = Object.fromEntries([...backend.aliases.values()].map((o) => [o.name, { value: o.name, selected: 0, description: o.description }]));
      return ok({ alias: { content } });
    },
  },
  {
    controller: "alias", action: "get_alias_u_u_i_d", requiredParams: 1, privileges: [E, R], source: "Firewall/Api/AliasController.php getAliasUUIDAction",
    handle: ({ backend, params }) => {
      const a = backend.aliases.get(params[0]!);
      return ok(a ? { uuid: a.uuid } : []);
    },
  },
  { controller: "alias", action: "set_item", requiredParams: 1, privileges: [E], source: "Base/ApiMutableModelControllerBase.php setBase (23.1+ upsert)", handle: (c) => saveAlias(c, c.params[0], false) },
  { controller: "alias", action: "add_item", requiredParams: 0, privileges: [E], source: "Base/ApiMutableModelControllerBase.php addBase", handle: (c) => saveAlias(c, undefined, true) },
  {
    controller: "alias", action: "del_item", requiredParams: 1, privileges: [E], source: "Firewall/Api/AliasController.php delItemAction",
    handle: ({ backend, params, method, user }) => {
      if (method !== "POST") return ok({ result: "failed" });
      const a = backend.byUuid(params[0]!);
      if (!a || a.builtin) return ok({ result: "not found" });
      if (a.inUse) return { status: 500, json: { errorMessage: `Cannot delete alias ${a.name}. Currently in use by a filter rule`, errorTitle: "Alias in use" } };
      backend.save(user);
      backend.aliases.delete(a.name);
      backend.tables.delete(a.name);
      return ok({ result: "deleted" }, true);
    },
  },
  {
    controller: "alias", action: "reconfigure", requiredParams: 0, privileges: [E], source: "Firewall/Api/AliasController.php reconfigureAction",
    handle: async ({ backend, method }) => {
      if (method !== "POST") return ok({ status: "failed" });
      await backend.reconfigure();
      return ok({ status: "ok" }, true);
    },
  },
  {
    controller: "alias_util", action: "aliases", requiredParams: 0, privileges: [T], source: "Firewall/Api/AliasUtilController.php aliasesAction",
    handle: ({ backend }) => ok([...backend.tables.keys()].sort(natural)),
  },
  {
    controller: "alias_util", action: "list", requiredParams: 1, privileges: [T], source: "Firewall/Api/AliasUtilController.php listAction (pfctl -vT show)",
    handle: ({ backend, params }) => {
      const rows = backend.tableContent(params[0]!).map((ip) => ({ ip }));
      return ok({ total: rows.length, rowCount: rows.length, current: 1, rows });
    },
  },
  {
    controller: "alias_util", action: "add", requiredParams: 1, privileges: [T], source: "Firewall/Api/AliasUtilController.php addAction",
    handle: ({ backend, params, body, method, user }) => {
      if (method !== "POST" || typeof body.address !== "string") return ok({ status: "failed" });
      const r = backend.utilAdd(user, params[0]!, body.address);
      return ok(r, r.status === "done");
    },
  },
  {
    controller: "alias_util", action: "delete", requiredParams: 1, privileges: [T], source: "Firewall/Api/AliasUtilController.php deleteAction",
    handle: ({ backend, params, body, method, user }) => {
      if (method !== "POST" || typeof body.address !== "string") return ok({ status: "failed" });
      const r = backend.utilDelete(user, params[0]!, body.address);
      return ok(r, r.status === "done");
    },
  },
  {
    controller: "alias_util", action: "flush", requiredParams: 1, privileges: [T], source: "Firewall/Api/AliasUtilController.php flushAction",
    handle: ({ backend, params, method, user }) => {
      if (method !== "POST") return ok({ status: "failed" });
      backend.save(user); // post-27.1.a throwReadOnly (reference §0)
      backend.utilFlush(params[0]!);
      return ok({ status: "done" }, true);
    },
  },
  {
    controller: "alias_util", action: "find_references", requiredParams: 0, privileges: [T], source: "Firewall/Api/AliasUtilController.php findReferencesAction",
    handle: ({ backend, body }) => {
      if (typeof body.ip !== "string") return ok({ status: "IP parameter not specified!" });
      if (!/^[0-9a-f:./_]+$/.test(body.ip)) return ok({ status: "Not an IP address!" });
      const matches = [...backend.tables.entries()].filter(([, s]) => s.has(body.ip as string)).map(([n]) => n);
      return ok({ status: "ok", matches });
    },
  },
];

/** The ACL patterns per privilege key (core ACL.xml, reference §4). */
export const ACL_PATTERNS: Readonly<Record<string, readonly string[]>> = {
  [E]: ["ui/firewall/alias/*", "api/firewall/alias/*"],
  [R]: ["ui/firewall/alias/*", "api/firewall/alias/export", "api/firewall/alias/search*", "api/firewall/alias/list*", "api/firewall/alias/get*"],
  [T]: ["ui/firewall/alias_util/*", "api/firewall/alias_util/*"],
  "page-all": ["*"],
  "user-config-readonly": [],
};

/** Every user may reach these (ACL `urlMasks`). */
export const IMPLICIT_PATTERNS: readonly string[] = ["index.php?logout", "api/core/menu/*"];

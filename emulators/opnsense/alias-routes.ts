/**
 * `/api/firewall/alias/*` rows of the OPNsense emulator, each citing opnsense/core
 * controllers/OPNsense/Firewall/Api/AliasController.php (AC) or Base/ApiMutableModelControllerBase.php
 * (AMM); docs/reference/opnsense.md §2a, §2c. Privileges: E covers all, R the get/search/list/export URLs.
 */
import { randomUUID } from "node:crypto";
import { ALIAS_TYPE_LABELS, UnexpectedError, UserException, type AliasType, type EmulatedAlias } from "./backend";
import { applyStoredFields, fieldNodes, fieldRaw, optionMessage } from "./alias-fields";
import { contentProblems, nameProblem } from "./validate";
import type { OpnsenseVersionTraits } from "./version";
import { E, R, UUID_RE, intParam, natural, ok, page, type Reply, type Route, type RouteCall } from "./routes";

const opt = (labels: Record<string, string>, selected: readonly string[]) =>
  Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, { value: v, selected: selected.includes(k) ? 1 : 0 }]));

/** AMM `getBase` → BaseField `getNodes`: scalars as strings, option fields and content as selected maps. */
function nodes(t: OpnsenseVersionTraits, a: EmulatedAlias) {
  const content = Object.fromEntries(a.content.map((l) => [l, { value: l, selected: 1 }]));
  if (a.content.length === 0) content[""] = { value: "", selected: 1 };
  return {
    enabled: a.enabled ? "1" : "0",
    name: a.name,
    type: opt(ALIAS_TYPE_LABELS, [a.type]),
    ...fieldNodes(t, a.fields ?? {}),
    content,
    description: a.description,
  };
}

/** AC `exportAction` → `getRawNodes`: every field as its stored string. */
function raw(t: OpnsenseVersionTraits, a: EmulatedAlias) {
  return {
    enabled: a.enabled ? "1" : "0",
    name: a.name,
    type: a.type,
    ...fieldRaw(t, a.fields ?? {}),
    content: a.content.join("\n"),
    description: a.description,
  };
}

/** UIModelGrid row: ≥25.7 raw values plus `%type`; ≤25.1 the option description in `type` (reference §2c). */
function searchRow(c: RouteCall, a: EmulatedAlias) {
  const t = c.traits.searchRowsRaw ? { type: a.type, "%type": ALIAS_TYPE_LABELS[a.type] } : { type: ALIAS_TYPE_LABELS[a.type] };
  return {
    uuid: a.uuid,
    enabled: a.enabled ? "1" : "0",
    name: a.name,
    ...t,
    ...fieldRaw(c.traits, a.fields ?? {}),
    content: a.content.join("\n"),
    description: a.description,
    categories_uuid: [],
    current_items: String(c.backend.tables.get(a.name)?.size ?? 0),
    last_updated: "",
  };
}

/** BaseField `setNodes` + the model's validators: fields not sent are kept; messages keyed `<prefix>.<field>`. */
function applyFields(c: RouteCall, target: EmulatedAlias, fields: Record<string, unknown>, prefix: string, add: boolean): Record<string, string | string[]> {
  const v: Record<string, string | string[]> = {};
  for (const [k, val] of Object.entries(fields)) if (typeof val === "object" && val !== null) throw new UnexpectedError(`Invalid input type for ${k}`); // BF setNodes (≥26.7 explicit)
  if (fields.type !== undefined) target.type = String(fields.type) as AliasType;
  if (add && fields.type === undefined) target.type = "alert" as AliasType; // Alias.xml default, not an option
  if (!(target.type in ALIAS_TYPE_LABELS)) v[`${prefix}.type`] = optionMessage(c.traits);
  if (fields.name !== undefined) target.name = String(fields.name);
  if (fields.enabled !== undefined) {
    if (!/^[01]$/.test(String(fields.enabled))) v[`${prefix}.enabled`] = "Value should be a boolean (0,1).";
    else target.enabled = String(fields.enabled) === "1";
  }
  if (fields.description !== undefined) {
    const d = String(fields.description);
    if (d !== "" && !/^(.){1,255}$/.test(d)) v[`${prefix}.description`] = "Description should be a string between 1 and 255 characters.";
    else target.description = d;
  }
  if (fields.content !== undefined) target.content = String(fields.content) === "" ? [] : String(fields.content).split("\n");
  const stored = applyStoredFields(c.traits, target.type, target.fields ?? {}, fields);
  target.fields = stored.fields;
  for (const [k, msgs] of Object.entries(stored.problems)) v[`${prefix}.${k}`] = msgs.length === 1 ? msgs[0]! : msgs;
  const problems = contentProblems(target.type, target.content, (n) => c.backend.isAlias(n), c.traits);
  if (problems.length > 0) v[`${prefix}.content`] = problems.length === 1 ? problems[0]! : problems; // AMM `validate`: several → array
  const np = target.name === "" ? "A value is required." : nameProblem(target.name);
  const clash = c.backend.aliases.get(target.name);
  if (np) v[`${prefix}.name`] = np;
  else if (clash && clash.uuid !== target.uuid) v[`${prefix}.name`] = "An alias with this name already exists.";
  return v;
}

/** AMM `addBase` / `setBase` (23.1+: an unknown well-formed uuid is created, an invalid one fails). */
function saveAlias(c: RouteCall, uuid: string | undefined): Reply {
  const fields = c.post.alias;
  if (c.method !== "POST" || fields === undefined) return ok({ result: "failed" });
  const existing = uuid ? c.backend.byUuid(uuid) : undefined;
  if (uuid !== undefined && !existing && !UUID_RE.test(uuid)) return ok({ result: "failed" });
  if (existing?.builtin) return ok({ result: "failed" });
  const draft: EmulatedAlias = existing
    ? { ...existing, content: [...existing.content] }
    : { uuid: uuid ?? randomUUID(), name: "", type: "host", content: [], description: "", enabled: true, inUse: false, builtin: false };
  const v = applyFields(c, draft, typeof fields === "object" && fields !== null ? (fields as Record<string, unknown>) : {}, "alias", uuid === undefined);
  if (Object.keys(v).length > 0) return ok({ result: "failed", validations: v });
  c.backend.save(c.user);
  if (existing && existing.name !== draft.name) {
    c.backend.aliases.delete(existing.name); // AC setItemAction → Alias `refactor` renames references
    const t = c.backend.tables.get(existing.name);
    c.backend.tables.delete(existing.name);
    if (t) c.backend.tables.set(draft.name, t);
  }
  c.backend.aliases.set(draft.name, Object.assign(existing ?? draft, draft));
  return ok(uuid === undefined ? { result: "saved", uuid: draft.uuid } : { result: "saved" }, true);
}

const configured = (c: RouteCall) => [...c.backend.aliases.values()];

export const ALIAS_ROUTES: readonly Route[] = [
  {
    module: "firewall",
    controller: "alias",
    action: "search_item",
    requiredParams: 0,
    privileges: [E, R],
    source: "AC searchItemAction → AMM searchBase → UIModelGrid (rowCount default -1)",
    handle: (c) => {
      const tokens = String(c.request.searchPhrase ?? "")
        .toLowerCase()
        .split(" ")
        .filter(Boolean);
      const types = c.request.type;
      const rows = configured(c)
        .filter((a) => !Array.isArray(types) || types.length === 0 || types.includes(a.type))
        .filter((a) => tokens.every((t) => `${a.name} ${a.description} ${a.content.join(" ")} ${a.type}`.toLowerCase().includes(t)))
        .sort((a, b) => natural(a.name, b.name))
        .map((a) => searchRow(c, a));
      return ok(page(rows, intParam(c.request.rowCount, -1), intParam(c.request.current, 1), false));
    },
  },
  {
    module: "firewall",
    controller: "alias",
    action: "get_item",
    requiredParams: 0,
    privileges: [E, R],
    source: "AC getItemAction → AMM getBase (unknown uuid: 500 ≤26.1.10, partial ≥26.1.11)",
    handle: (c) => {
      const uuid = c.params[0];
      const a = uuid === undefined ? undefined : c.backend.byUuid(uuid);
      if (uuid !== undefined && !a && !c.traits.getItemUnknownPartial) throw new UnexpectedError('Undefined array key "alias"');
      const base =
        uuid === undefined
          ? nodes(c.traits, { uuid: "", name: "", type: "host", content: [], description: "", enabled: true, inUse: false, builtin: false })
          : a
            ? nodes(c.traits, a)
            : undefined;
      const content: Record<string, unknown> = { ...(base?.content ?? {}) };
      for (const o of configured(c)) content[o.name] = { ...((content[o.name] as object) ?? { selected: 0, value: o.name }), description: o.description };
      return ok({ alias: base ? { ...base, content } : { content } });
    },
  },
  {
    module: "firewall",
    controller: "alias",
    action: "get_alias_u_u_i_d",
    requiredParams: 1,
    privileges: [E, R],
    source: "AC getAliasUUIDAction",
    handle: (c) => {
      const a = c.backend.aliases.get(c.params[0]!);
      return ok(a ? { uuid: a.uuid } : []);
    },
  },
  {
    module: "firewall",
    controller: "alias",
    action: "add_item",
    requiredParams: 0,
    privileges: [E],
    source: "AC addItemAction → AMM addBase",
    handle: (c) => saveAlias(c, undefined),
  },
  {
    module: "firewall",
    controller: "alias",
    action: "set_item",
    requiredParams: 1,
    privileges: [E],
    source: "AC setItemAction → AMM setBase (23.1+ upsert)",
    handle: (c) => saveAlias(c, c.params[0]),
  },
  {
    module: "firewall",
    controller: "alias",
    action: "del_item",
    requiredParams: 1,
    privileges: [E],
    source: "AC delItemAction (in-use check before the POST check) → AMM delBase",
    handle: (c) => {
      const ids = c.params[0]!.split(",");
      // ≤26.1.8 AC looked the whole string up as one uuid, so a comma list skipped the in-use check.
      for (const id of c.traits.delItemList ? ids : [c.params[0]!]) {
        const a = c.backend.byUuid(id);
        if (a?.inUse) {
          const who = "\n[filter] rule";
          throw new UserException(
            c.traits.delItemList ? `Cannot delete alias ${a.name}. Currently in use by ${who}` : `Cannot delete alias. Currently in use by ${who}`,
            "Alias in use",
          );
        }
      }
      if (c.method !== "POST") return ok({ result: "failed" });
      let result = "not found";
      const gone: EmulatedAlias[] = [];
      for (const id of c.traits.toggleList ? ids : [c.params[0]!]) {
        const a = c.backend.byUuid(id);
        if (a && !a.builtin) gone.push(a);
        result = a && !a.builtin ? "deleted" : "not found";
      }
      if (gone.length > 0) {
        c.backend.save(c.user);
        for (const a of gone) c.backend.removeAlias(a.name);
      }
      return ok({ result }, gone.length > 0);
    },
  },
  {
    module: "firewall",
    controller: "alias",
    action: "toggle_item",
    requiredParams: 1,
    privileges: [E],
    source: "AC toggleItemAction → AMM toggleBase",
    handle: (c) => {
      if (c.method !== "POST") return ok({ result: "failed" });
      const ids = c.traits.toggleList ? c.params[0]!.split(",") : [c.params[0]!];
      const enabled = c.params[1];
      if (ids.length > 1 && enabled === undefined)
        throw new UserException("Toggle with a list of items in only supported for explicit actions [0,1]", "Toggle");
      const r: { result: string; changed?: boolean } = { result: "failed" };
      const touched: EmulatedAlias[] = [];
      for (const id of ids) {
        const a = c.backend.byUuid(id);
        if (!a || a.builtin) continue;
        r.changed = true;
        if (enabled === "0" || enabled === "1") {
          r.result = enabled === "1" ? "Enabled" : "Disabled";
          r.changed = a.enabled !== (enabled === "1");
          touched.push(Object.assign({}, a, { enabled: enabled === "1" }));
        } else if (enabled !== undefined) {
          r.changed = false;
          break;
        } else {
          r.result = a.enabled ? "Disabled" : "Enabled";
          touched.push(Object.assign({}, a, { enabled: !a.enabled }));
        }
      }
      // ≥26.1.3 reads `$result['changed']` unset for an unknown uuid: a PHP warning, which api.php turns into a 500.
      if (r.changed === undefined && c.traits.toggleList) throw new UnexpectedError('Undefined array key "changed"');
      if (!r.changed) return ok(r);
      c.backend.save(c.user);
      for (const t of touched) c.backend.byUuid(t.uuid)!.enabled = t.enabled;
      return ok(r, true);
    },
  },
  {
    module: "firewall",
    controller: "alias",
    action: "reconfigure",
    requiredParams: 0,
    privileges: [E],
    source: "AC reconfigureAction",
    handle: async (c) => {
      if (c.method !== "POST") return ok({ status: "failed" });
      await c.backend.reconfigure();
      return ok({ status: "ok" }, true);
    },
  },
  {
    module: "firewall",
    controller: "alias",
    action: "get",
    requiredParams: 0,
    privileges: [E, R],
    source: "AMM getAction (Ansible reads everything through it)",
    handle: (c) => {
      if (c.method !== "GET") return ok([]);
      const alias = Object.fromEntries(configured(c).map((a) => [a.uuid, nodes(c.traits, a)]));
      return ok({ alias: { geoip: { url: "" }, aliases: { alias } } });
    },
  },
  {
    module: "firewall",
    controller: "alias",
    action: "set",
    requiredParams: 0,
    privileges: [E],
    source: "AMM setAction (whole model)",
    handle: (c) => {
      const items = ((c.post.alias as { aliases?: { alias?: unknown } } | undefined)?.aliases?.alias ?? {}) as Record<string, Record<string, unknown>>;
      if (c.method !== "POST" || c.post.alias === undefined) return ok({ result: "failed" });
      const drafts: EmulatedAlias[] = [];
      const v: Record<string, string | string[]> = {};
      for (const [uuid, fields] of Object.entries(items)) {
        const cur = c.backend.byUuid(uuid);
        const d: EmulatedAlias = cur
          ? { ...cur, content: [...cur.content] }
          : { uuid, name: "", type: "host", content: [], description: "", enabled: true, inUse: false, builtin: false };
        Object.assign(v, applyFields(c, d, fields ?? {}, `alias.aliases.alias.${uuid}`, !cur));
        drafts.push(d);
      }
      if (Object.keys(v).length > 0) return ok({ result: "failed", validations: v });
      c.backend.save(c.user);
      for (const d of drafts) c.backend.aliases.set(d.name, Object.assign(c.backend.byUuid(d.uuid) ?? d, d));
      return ok({ result: "saved" }, true);
    },
  },
  {
    module: "firewall",
    controller: "alias",
    action: "export",
    requiredParams: 0,
    privileges: [E, R],
    source: "AC exportAction (raw JSON_PRETTY_PRINT, slashes escaped)",
    handle: (c) => {
      if (c.method !== "GET" && c.method !== "POST") throw new UserException("Unsupported request type", "");
      const ids = c.request.ids;
      const wanted = Array.isArray(ids) ? ids.map(String) : ids ? String(ids).split(",") : undefined;
      const list = configured(c).filter((a) => !a.builtin && (!wanted || wanted.includes(a.uuid)));
      const alias = list.length ? Object.fromEntries(list.map((a) => [a.uuid, raw(c.traits, a)])) : [];
      const payload = wanted ? { aliases: { alias } } : { geoip: { url: "" }, aliases: { alias } };
      return { status: 200, text: JSON.stringify(payload, null, 4).replace(/\//g, "\\/"), contentType: "application/json; charset=UTF-8" };
    },
  },
  {
    module: "firewall",
    controller: "alias",
    action: "import",
    requiredParams: 0,
    privileges: [E],
    source: "AC importAction (upsert by name, internal skipped, all-or-nothing)",
    handle: (c) => {
      if (c.method !== "POST") throw new UserException("Unsupported request type", "");
      const result: Record<string, unknown> = { existing: 0, new: 0, status: "failed" };
      const items = (c.post.data as { aliases?: { alias?: unknown } } | undefined)?.aliases?.alias;
      if (typeof items !== "object" || items === null || Object.keys(items).length === 0) return ok(result);
      const drafts: EmulatedAlias[] = [];
      const v: Record<string, string | string[]> = {};
      for (const [key, fields] of Object.entries(items as Record<string, Record<string, unknown>>)) {
        if (typeof fields !== "object" || !fields?.name || fields.type === "internal") continue;
        const cur = c.backend.aliases.get(String(fields.name));
        result[cur ? "existing" : "new"] = (result[cur ? "existing" : "new"] as number) + 1;
        const d: EmulatedAlias = cur
          ? { ...cur, content: [...cur.content] }
          : { uuid: randomUUID(), name: "", type: "host", content: [], description: "", enabled: true, inUse: false, builtin: false };
        for (const [f, msg] of Object.entries(applyFields(c, d, fields, "x", !cur))) v[`${key}.${f.slice(2)}`] = msg;
        drafts.push(d);
      }
      if (Object.keys(v).length > 0) return ok({ ...result, validations: v });
      c.backend.save(c.user);
      for (const d of drafts) c.backend.aliases.set(d.name, Object.assign(c.backend.aliases.get(d.name) ?? d, d));
      return ok({ ...result, status: "ok" }, true);
    },
  },
  {
    module: "firewall",
    controller: "alias",
    action: "get_table_size",
    requiredParams: 0,
    privileges: [E, R],
    source: "AC getTableSizeAction → scripts/filter/pftablecount.py",
    handle: (c) => {
      const details = Object.fromEntries([...c.backend.tables.entries()].map(([n, s]) => [n, { count: s.size, updated: null }]));
      const used = [...c.backend.tables.values()].reduce((n, s) => n + s.size, 0);
      return ok({ status: "ok", size: 1000000, used, details });
    },
  },
  {
    module: "firewall",
    controller: "alias",
    action: "list_categories",
    requiredParams: 0,
    privileges: [E, R],
    source: "AC listCategoriesAction (the emulator has no categories)",
    handle: () => ok({ rows: [] }),
  },
  {
    module: "firewall",
    controller: "alias",
    action: "list_network_aliases",
    requiredParams: 0,
    privileges: [E, R],
    source: "AC listNetworkAliasesAction (all but external and port, ksort)",
    handle: (c) => {
      const list = configured(c)
        .filter((a) => a.type !== "external" && a.type !== "port")
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      return ok(Object.fromEntries(list.map((a) => [a.name, { name: a.name, description: a.description }])));
    },
  },
  {
    module: "firewall",
    controller: "alias",
    action: "list_countries",
    requiredParams: 0,
    privileges: [E, R],
    source: "AC listCountriesAction (tzdata; abbreviated here)",
    handle: () =>
      ok({
        EU: { name: "Unclassified", region: "Europe" },
        DE: { name: "Germany", region: "Europe" },
        NL: { name: "Netherlands", region: "Europe" },
        US: { name: "United States", region: "America" },
      }),
  },
  {
    module: "firewall",
    controller: "alias",
    action: "list_user_groups",
    requiredParams: 0,
    privileges: [E, R],
    source: "AC listUserGroupsAction (groups but 'all', by gid)",
    handle: () => ok({ "1999": { name: "admins", gid: "1999" } }),
  },
  {
    module: "firewall",
    controller: "alias",
    action: "get_geo_i_p",
    requiredParams: 0,
    privileges: [E, R],
    source: "AC getGeoIPAction (GET only)",
    handle: (c) =>
      c.method !== "GET" ? ok([]) : ok({ alias: { geoip: { url: "", usages: configured(c).filter((a) => a.type === "geoip").length, address_count: 0 } } }),
  },
  {
    module: "firewall",
    controller: "alias",
    action: "update",
    requiredParams: 0,
    privileges: [E],
    source: "AC updateAction (26.1.5+)",
    exists: (t) => t.aliasUpdateAction,
    handle: (c) =>
      c.method === "POST" && ["geoip", "bogons"].includes(c.params[0] ?? "")
        ? ok({ status: "ok", message: "Update completed" }, true)
        : ok({ status: "failed", message: "Error updating action" }),
  },
];

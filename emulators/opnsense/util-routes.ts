/**
 * `/api/firewall/alias_util/*` (AUC = controllers/OPNsense/Firewall/Api/AliasUtilController.php),
 * `/api/core/menu/*` (Core/Api/MenuController.php, Core/Menu/Menu.xml) and `/api/core/firmware/status`
 * (Core/Api/FirmwareController.php) rows of the OPNsense emulator; docs/reference/opnsense.md §2b, §6.
 */
import { E, FW, R, T, intParam, natural, ok, page, type Route, type RouteCall } from "./routes";

const has = (c: RouteCall, ...keys: string[]) => c.user.privileges.includes("page-all") || keys.some((k) => c.user.privileges.includes(k));

/** The part of Menu.xml the emulator shows: Firewall > Aliases (E or R) and Firewall > Diagnostics > Aliases (T). */
function menuTree(c: RouteCall) {
  const item = (Id: string, VisibleName: string, Url: string, order: number, Children: unknown[] = []) => ({
    Id,
    VisibleName,
    order,
    CssClass: "",
    Url,
    isExternal: "N",
    Visibility: "all",
    Selected: false,
    isVisible: true,
    Children,
  });
  const firewall = [
    has(c, E, R) && item("Aliases", "Aliases", "/ui/firewall/alias", 0),
    has(c, T) && item("Diagnostics", "Diagnostics", "", 500, [item("Aliases", "Aliases", "/ui/firewall/alias_util/", 0)]),
  ].filter(Boolean);
  const lobby = has(c) ? [item("Lobby", "Lobby", "", 0, [item("Dashboard", "Dashboard", "/ui/core/dashboard", 0)])] : [];
  return [...lobby, ...(firewall.length ? [item("Firewall", "Firewall", "", 40, firewall)] : [])];
}

/** MenuController `extractMenuLeaves`: visible leaves with `breadcrumb` ("A: B") and `depth`. */
function leaves(nodes: readonly Record<string, unknown>[], crumb = "", depth = 1): Record<string, unknown>[] {
  return nodes.flatMap((n) => {
    const breadcrumb = crumb ? `${crumb}: ${String(n.VisibleName)}` : String(n.VisibleName);
    const { Children, ...rest } = n as { Children: Record<string, unknown>[] };
    return [...leaves(Children, breadcrumb, depth + 1), { ...rest, breadcrumb, depth }];
  });
}

const addressCall = (c: RouteCall) => c.method === "POST" && c.post.address !== undefined && c.post.address !== null;

export const UTIL_ROUTES: readonly Route[] = [
  {
    module: "core",
    controller: "menu",
    action: "search",
    requiredParams: 0,
    privileges: [],
    source: "MenuController searchAction (implicit api/core/menu/*)",
    handle: (c) => {
      const q = String(c.request.q ?? "").toLowerCase();
      const all = leaves(menuTree(c));
      return ok(q ? all.filter((l) => String(l.VisibleName).toLowerCase().includes(q) || String(l.breadcrumb).toLowerCase().includes(q)) : all);
    },
  },
  {
    module: "core",
    controller: "menu",
    action: "tree",
    requiredParams: 0,
    privileges: [],
    source: "MenuController treeAction (menuToArray)",
    handle: (c) => ok(menuTree(c)),
  },
  {
    module: "core",
    controller: "firmware",
    action: "status",
    requiredParams: 0,
    privileges: [FW],
    source: "FirmwareController statusAction (no update check run yet)",
    handle: (c) =>
      ok({
        product: {
          product_id: "opnsense",
          product_name: "OPNsense",
          product_version: c.traits.version,
          product_series: c.traits.version.split(".").slice(0, 2).join("."),
          product_check: null,
        },
        status_msg: "Firmware status requires to check for update first to provide more information.",
        status: "none",
      }),
  },
  {
    module: "firewall",
    controller: "alias_util",
    action: "aliases",
    requiredParams: 0,
    privileges: [T],
    source: "AUC aliasesAction (sort SORT_NATURAL | SORT_FLAG_CASE)",
    handle: (c) => ok([...c.backend.tables.keys()].sort(natural)),
  },
  {
    module: "firewall",
    controller: "alias_util",
    action: "list",
    requiredParams: 1,
    privileges: [T],
    source:
      "AUC listAction: 25.7+ ACB searchRecordsetBase (getPost rowCount default 9999, -1 = all; GET cannot lift it); ≤25.1 own code (default all, case-sensitive search)",
    handle: (c) => {
      const phrase = String(c.post.searchPhrase ?? "");
      const raw = c.backend.tableContent(c.params[0]!).map((ip) => ({ ip }));
      const tokens = phrase.split(/\s+/).filter(Boolean);
      const rows = c.traits.searchRowsRaw
        ? raw.filter((r) => tokens.every((t) => r.ip.toLowerCase().includes(t.toLowerCase())))
        : raw.filter((r) => phrase === "" || r.ip.includes(phrase));
      return ok(page(rows, intParam(c.post.rowCount, c.traits.utilListDefaultRows), intParam(c.post.current, 1), !c.traits.searchRowsRaw));
    },
  },
  {
    module: "firewall",
    controller: "alias_util",
    action: "add",
    requiredParams: 1,
    privileges: [T],
    source: "AUC addAction (26.7.1+ throwReadOnly)",
    handle: (c) => {
      if (!addressCall(c)) return ok({ status: "failed" });
      const r = c.backend.utilAdd(c.user, c.params[0]!, String(c.post.address));
      return ok(r, r.status === "done");
    },
  },
  {
    module: "firewall",
    controller: "alias_util",
    action: "delete",
    requiredParams: 1,
    privileges: [T],
    source: "AUC deleteAction (26.7.1+ throwReadOnly) + scripts/filter/delete_table.py",
    handle: (c) => {
      if (!addressCall(c)) return ok({ status: "failed" });
      return ok(c.backend.utilDelete(c.user, c.params[0]!, String(c.post.address)), true);
    },
  },
  {
    module: "firewall",
    controller: "alias_util",
    action: "flush",
    requiredParams: 1,
    privileges: [T],
    source: "AUC flushAction (26.7.1+ throwReadOnly)",
    handle: (c) => {
      if (c.method !== "POST") return ok({ status: "failed" });
      c.backend.utilFlush(c.user, c.params[0]!);
      return ok({ status: "done" }, true);
    },
  },
  {
    module: "firewall",
    controller: "alias_util",
    action: "find_references",
    requiredParams: 0,
    privileges: [T],
    source: "AUC findReferencesAction (POST ip)",
    handle: (c) => {
      const ip = c.post.ip;
      if (c.method !== "POST" || ip === undefined) return ok({ status: "IP parameter not specified!" });
      if (/[^0-9a-f:./_]/.test(String(ip))) return ok({ status: "Not an IP address!" });
      const matches = [...c.backend.tables.entries()].filter(([, s]) => s.has(String(ip))).map(([n]) => n);
      return ok({ status: "ok", matches });
    },
  },
  {
    module: "firewall",
    controller: "alias_util",
    action: "update_bogons",
    requiredParams: 0,
    privileges: [T],
    source: "AUC updateBogonsAction (removed in 26.1.5)",
    exists: (t) => !t.aliasUpdateAction,
    handle: () => ok({ status: "done" }),
  },
];

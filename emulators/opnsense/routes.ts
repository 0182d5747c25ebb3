/**
 * The OPNsense emulator's route-table types, the ACL patterns per privilege key, and the helpers the
 * route files share (docs/reference/opnsense.md §2, §4). The rows themselves live in
 * alias-routes.ts (`/api/firewall/alias/*`) and util-routes.ts (`alias_util`, menu,
 * firmware); emulator.ts joins them into `ROUTES`.
 */
import type { HandledReply } from "../kit";
import type { EmulatedUser, OpnsenseBackend } from "./backend";
import type { OpnsenseVersionTraits } from "./version";

export interface RouteCall {
  readonly method: string;
  readonly params: readonly string[];
  /** `$_POST`: the JSON object or form fields of the body (ACB `parseJsonBodyData`; PHP), `{}` when none. */
  readonly post: Record<string, unknown>;
  /** `$_REQUEST` (`$request->get()`): query parameters overlaid with `post`. */
  readonly request: Record<string, unknown>;
  readonly user: EmulatedUser;
  readonly backend: OpnsenseBackend;
  readonly traits: OpnsenseVersionTraits;
}

export type Reply = Omit<HandledReply, "route" | "user">;

export interface Route {
  /** "firewall" or "core" (matched case-insensitively, RTR `resolveNamespace`). */
  readonly module: string;
  /** "alias", "alias_util", "menu", "firmware" (controller names go through `ucwords`, RTR). */
  readonly controller: string;
  /** Action as the docs spell it; matched case-insensitively, with or without underscores (RTR). */
  readonly action: string;
  /** Path parameters the action requires; fewer → 404 before auth (RTR Dispatcher). */
  readonly requiredParams: number;
  /** Privilege keys whose ACL patterns cover the URL (documentation; the gate uses {@link ACL_PATTERNS}). */
  readonly privileges: readonly string[];
  readonly source: string;
  /** The route exists only on versions where this holds (a missing action is a 404 on the device too). */
  readonly exists?: (t: OpnsenseVersionTraits) => boolean;
  readonly handle: (c: RouteCall) => Promise<Reply> | Reply;
}

export const ok = (json: unknown, sideEffect = false): Reply => ({ status: 200, json, sideEffect });
export const E = "page-firewall-alias-edit";
export const R = "page-firewall-aliases";
export const T = "page-diagnostics-tables";
export const FW = "page-system-firmware-manualupdate";
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** PHP `intval` of a request value, with a default when absent. */
export function intParam(v: unknown, dflt: number): number {
  if (v === undefined || v === null || v === "") return dflt;
  const n = Number.parseInt(String(v), 10);
  return Number.isNaN(n) ? 0 : n;
}

/** Natural, case-insensitive order (PHP SORT_NATURAL | SORT_FLAG_CASE). */
export const natural = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });

/**
 * ACB `searchRecordsetBase` (25.7+) and the ≤25.1 AUC list code share this paging: `rowCount` -1 means
 * all; `total` counts every matching row; `rowCount` in the answer is the number of rows returned
 * (25.7+) or the requested page size (≤25.1).
 */
export function page<T>(rows: readonly T[], rowCount: number, current: number, echoRequested: boolean) {
  const per = rowCount === -1 ? rows.length : rowCount;
  const offset = Math.max(0, (current - 1) * per);
  const out = per > 0 ? rows.slice(offset, offset + per) : rowCount === -1 ? [...rows] : [];
  return { total: rows.length, rowCount: echoRequested ? rowCount : out.length, current, rows: out };
}

/** The ACL patterns per privilege key (core ACL/ACL.xml, reference §4). */
export const ACL_PATTERNS: Readonly<Record<string, readonly string[]>> = {
  [E]: ["ui/firewall/alias/*", "api/firewall/alias/*"],
  [R]: ["ui/firewall/alias/*", "api/firewall/alias/export", "api/firewall/alias/search*", "api/firewall/alias/list*", "api/firewall/alias/get*"],
  [T]: ["ui/firewall/alias_util/*", "api/firewall/alias_util/*"],
  [FW]: ["ui/core/firmware/*", "api/core/firmware/*", "ui/diagnostics/log/core/pkg/*", "api/diagnostics/log/core/pkg/*"],
  "page-all": ["*"],
  "user-config-readonly": [],
};

/** Every user may reach these (ACL `urlMasks`). */
export const IMPLICIT_PATTERNS: readonly string[] = ["index.php?logout", "api/core/menu/*"];

/** ACL `urlMatch`: `*` → `.*`, a trailing `/*` also matches the bare path, anchored, case-sensitive, on the URI with its query. */
export function aclAllows(privileges: readonly string[], uri: string): boolean {
  const patterns = [...IMPLICIT_PATTERNS, ...privileges.flatMap((p) => ACL_PATTERNS[p] ?? [])];
  return patterns.some((p) => {
    const body = p
      .split("*")
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*");
    return new RegExp(`^/${body}$`).test(uri) || (p.endsWith("/*") && uri === `/${p.slice(0, -2)}`);
  });
}

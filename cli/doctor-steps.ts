/**
 * The steps of each device's permission preflight, in the order the preflight runs them
 * (provider/<device>/preflight.ts), and which step a diagnosis came from. The preflight stops at the
 * first failure, so the steps before it passed and the steps after it did not run: `doctor` prints
 * ✔ only for steps that are known to have passed. A device without a plan here is shown as one step
 * (its whole preflight) until preflights are declared as steps (issue 11).
 */
import type { GrantError } from "../provider/errors";
import { PATH_MENU_SEARCH, PATH_UTIL_ALIASES, PRIVILEGE } from "../provider/opnsense/client";
import { resolveConnection } from "../provider/opnsense/connection";
import { knownAlias } from "../provider/opnsense/preflight";
import { ADMIN_USERS_URL, STATUS_URL as FMG_STATUS_URL } from "../provider/fortimanager/client";
import { STATUS_PATH as FGT_STATUS_PATH } from "../provider/fortigate/client";
import type { Target } from "./doctor-targets";

export interface StepPlan {
  /** Labels, in preflight order. */
  readonly labels: readonly string[];
  /** Index of the step that produced `e`. */
  readonly failedAt: (e: GrantError) => number;
}

const TRANSPORT_CODES = new Set(["OPN002", "OPN003", "OPN004", "OPN005", "202000", "202003", "202004", "202005"]);

export function hostOf(url: string | undefined): string {
  try {
    return url ? new URL(url).host : "(no url)";
  } catch {
    return "(invalid url)";
  }
}

/**
 * OPNsense: credentials (core/menu/search) → the alias (get_alias_u_u_i_d + get_item, or the
 * alias_util/aliases fallback in table mode) → the write privilege of the method (reconfigure probe,
 * or alias_util/aliases). `aliasKnown` says whether the alias lookup completed: alias_util/aliases is
 * both the table-mode fallback and the write probe.
 */
export function opnsenseSteps(t: Target, aliasLabel: string, aliasKnown: boolean): StepPlan {
  const method = t.values.method ?? "table";
  const privilege = method === "config" ? PRIVILEGE.edit : PRIVILEGE.tables;
  return {
    labels: [`opnsense ${hostOf(t.url)} authentication`, aliasLabel, `write privilege "${privilege}" (method ${method})`],
    failedAt: (e) => {
      const op = e.operation ?? "";
      if (op.includes(PATH_MENU_SEARCH)) return 0;
      if (op.includes("/api/firewall/alias/get")) return 1;
      if (op.includes(PATH_UTIL_ALIASES)) return aliasKnown ? 2 : 1;
      if (op.includes("/api/firewall/alias/reconfigure")) return 2;
      if (e.code === "OPN100" || e.code === "OPN101") return 1;
      return 0;
    },
  };
}

/** FortiGate: token and VDOM (monitor/system/status) → the group or the address table → the write probe. */
export function fortigateSteps(t: Target): StepPlan {
  const vdom = t.values.vdom ?? process.env.FORTIGATE_VDOM ?? "root";
  return {
    labels: [
      `fortigate ${hostOf(t.url)} authentication (VDOM ${vdom})`,
      t.values.group !== undefined ? `group ${t.values.group} exists` : "address table readable",
      "write privilege (Firewall > Address read-write)",
    ],
    failedAt: (e) => {
      const op = e.operation ?? "";
      if (op.includes(FGT_STATUS_PATH)) return 0;
      if (op.startsWith("PUT ")) return 2;
      if (op.includes("/api/v2/cmdb/firewall/")) return 1;
      if (e.code === "202060") return 1;
      return 0;
    },
  };
}

/** FortiManager: credentials (sys/status) → the target administrator → the right to edit administrators. */
export function fortimanagerSteps(t: Target): StepPlan {
  const adminUser = t.values.adminUser;
  return {
    labels: [`fortimanager ${hostOf(t.url)} authentication`, `admin ${adminUser ?? "?"} exists and is readable`, "right to edit administrators (super-user profile, rpc-permit read-write)"],
    failedAt: (e) => {
      const op = e.operation ?? "";
      if (op.includes(FMG_STATUS_URL) || op.includes("/sys/login")) return 0;
      if (op.endsWith(`${ADMIN_USERS_URL}/${adminUser ?? ""}`)) return 1;
      if (op !== "") return 2;
      if (e.code === "202051") return 1;
      if (e.code === "202002" || e.code === "202050") return 2;
      if (e.code === "202001" || TRANSPORT_CODES.has(e.code)) return 0;
      return 0;
    },
  };
}

/** OPNsense's plan names the alias type the preflight found (cached: reading it back sends no request). */
async function opnsensePlan(t: Target): Promise<StepPlan> {
  const alias = t.values.alias ?? "";
  const method = t.values.method === "config" ? "config" : "table";
  const connection = Object.fromEntries(Object.entries({ url: t.url, apiKeyFile: t.values.apiKeyFile, caCert: t.caCert, insecure: t.insecure, timeoutMs: t.timeoutMs }).filter(([, v]) => v !== undefined));
  const info = await knownAlias(resolveConnection(connection, undefined), alias, method).catch(() => undefined);
  const label = info === undefined ? `alias ${alias} exists` : info.type === "unknown" ? `alias ${alias} exists (type not readable: add "Firewall: Aliases" to check it)` : `alias ${alias} exists (${info.type})`;
  return opnsenseSteps(t, label, info !== undefined);
}

/** Step plans by device; a device without one is shown as a single step (see the module comment). */
const PLANS: Readonly<Record<string, (t: Target) => Promise<StepPlan>>> = {
  opnsense: opnsensePlan,
  fortigate: async (t) => fortigateSteps(t),
  fortimanager: async (t) => fortimanagerSteps(t),
};

/** The step plan of a target. */
export function stepPlan(t: Target): Promise<StepPlan> {
  const plan = PLANS[t.device];
  return plan ? plan(t) : Promise.resolve({ labels: [`${t.device} ${hostOf(t.url)} permission preflight`], failedAt: () => 0 });
}

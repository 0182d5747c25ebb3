/**
 * `firewall-grants doctor`: runs each device's provider `check` — the same input validation and the
 * same cached, side-effect-free permission preflight that `pulumi preview` runs — and prints one
 * line per preflight step, with the full diagnosis (code, cause, numbered fixes) for a failure.
 * Exit code 0 when every check passed, 1 when any failed.
 */
import { isGrantError, type GrantError } from "../provider/errors";
import { fortigateAddressProvider } from "../provider/fortigate/resource";
import { fortimanagerTrustedHostProvider } from "../provider/fortimanager/resource";
import { resolveConnection } from "../provider/opnsense/connection";
import { knownAlias } from "../provider/opnsense/preflight";
import { opnsenseAliasEntryProvider } from "../provider/opnsense/resource";
import { closeAllAgents } from "../provider/transport";
import { fortigateSteps, fortimanagerSteps, hostOf, opnsenseSteps, type StepPlan } from "./doctor-steps";
import type { DoctorPlan, FortigateTarget, FortimanagerTarget, OpnsenseTarget, Target } from "./doctor-targets";

export const PASS = "✔";
export const FAIL = "✘";
export const SKIP = "·";

interface Report {
  readonly lines: string[];
  passed: number;
  failed: number;
  skipped: number;
}

type CheckResult = { inputs?: unknown; failures?: readonly { property: string; reason: string }[] };

const defined = <T extends Record<string, unknown>>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
const indent = (text: string, n = 4) => text.split("\n").map((l) => " ".repeat(n) + l).join("\n");

/** Runs every target (in parallel) and prints their reports in order; resolves to the exit code. */
export async function runDoctor(plan: DoctorPlan, out: (line: string) => void): Promise<number> {
  const reports = await Promise.all(plan.targets.map((t) => checkTarget(t, plan.address)));
  await closeAllAgents();
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  reports.forEach((r, i) => {
    if (i > 0) out("");
    for (const l of r.lines) out(l);
    passed += r.passed;
    failed += r.failed;
    skipped += r.skipped;
  });
  out("");
  out(failed === 0 ? `${PASS} all ${passed} checks passed` : `${FAIL} ${failed} failed, ${passed} passed${skipped > 0 ? `, ${skipped} not run` : ""}`);
  return failed === 0 ? 0 : 1;
}

async function checkTarget(t: Target, address: string): Promise<Report> {
  const report: Report = { lines: [], passed: 0, failed: 0, skipped: 0 };
  const fail = (label: string, detail?: string) => {
    report.lines.push(`${FAIL} ${label}`);
    if (detail) report.lines.push(indent(detail));
    report.failed++;
  };
  try {
    if (t.device === "opnsense") await opnsense(t, address, report, fail);
    else if (t.device === "fortigate") await fortigate(t, address, report, fail);
    else await fortimanager(t, address, report, fail);
  } catch (e) {
    // Anything the provider did not diagnose; the library's messages carry no secret.
    fail(`${t.device} ${hostOf(t.url)} — unexpected error`, e instanceof Error ? e.message : String(e));
  }
  return report;
}

type Fail = (label: string, detail?: string) => void;

/** Prints the outcome of `check` as steps: ✔ up to the failed one, ✘ for it, "not run" after it. */
async function runCheck(report: Report, fail: Fail, what: string, check: () => Promise<CheckResult>, steps: (e?: GrantError) => Promise<StepPlan>): Promise<void> {
  let result: CheckResult;
  try {
    result = await check();
  } catch (e) {
    if (!isGrantError(e)) throw e;
    const plan = await steps(e);
    const at = plan.failedAt(e);
    plan.labels.forEach((label, i) => {
      if (i < at) {
        report.lines.push(`${PASS} ${label}`);
        report.passed++;
      } else if (i === at) fail(`${label} — ${e.code} ${e.title}`, e.message);
      else {
        report.lines.push(`${SKIP} ${label} — not run (an earlier check failed)`);
        report.skipped++;
      }
    });
    return;
  }
  if (result.failures && result.failures.length > 0) {
    // Input problems (bad name, missing URL or credentials): reasons never echo a secret value.
    fail(`${what} — input refused before any request`, result.failures.map((f) => `${f.property ? `${f.property}: ` : ""}${f.reason.replace(new RegExp(`^${escape(f.property)}: `), "")}`).join("\n"));
    return;
  }
  const plan = await steps();
  for (const label of plan.labels) {
    report.lines.push(`${PASS} ${label}`);
    report.passed++;
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

async function opnsense(t: OpnsenseTarget, address: string, report: Report, fail: Fail): Promise<void> {
  if (!t.alias) return fail(`opnsense ${hostOf(t.url)} — no alias given (--opnsense-alias, or "alias" in the config file)`);
  const connection = defined({ url: t.url, apiKeyFile: t.apiKeyFile, caCert: t.caCert, insecure: t.insecure, timeoutMs: t.timeoutMs });
  const news = { connection, alias: t.alias, address, method: t.method };
  const alias = t.alias;
  await runCheck(
    report,
    fail,
    `opnsense ${hostOf(t.url)}`,
    () => opnsenseAliasEntryProvider.check!({} as never, news as never) as Promise<CheckResult>,
    async () => {
      // The lookup is cached by the preflight: reading it back sends no request.
      const info = await knownAlias(resolveConnection(connection, undefined), alias, t.method).catch(() => undefined);
      const label = info === undefined ? `alias ${alias} exists` : info.type === "unknown" ? `alias ${alias} exists (type not readable: add "Firewall: Aliases" to check it)` : `alias ${alias} exists (${info.type})`;
      return opnsenseSteps(t, label, info !== undefined);
    },
  );
}

async function fortigate(t: FortigateTarget, address: string, report: Report, fail: Fail): Promise<void> {
  const connection = defined({ url: t.url, vdom: t.vdom, caCert: t.caCert, insecure: t.insecure, timeoutMs: t.timeoutMs });
  const news = defined({ connection, credentials: t.token !== undefined ? { token: t.token } : undefined, name: "grants-doctor", address, group: t.group });
  await runCheck(report, fail, `fortigate ${hostOf(t.url)}`, () => fortigateAddressProvider.check({}, news), async () => fortigateSteps(t));
}

async function fortimanager(t: FortimanagerTarget, address: string, report: Report, fail: Fail): Promise<void> {
  if (!t.adminUser) return fail(`fortimanager ${hostOf(t.url)} — no administrator given (--fortimanager-admin, or "adminUser" in the config file)`);
  const connection = defined({ url: t.url, username: t.username, adom: t.adom, caCert: t.caCert, insecure: t.insecure, timeoutMs: t.timeoutMs });
  const credentials = defined({ token: t.token, password: t.password });
  const news = defined({ connection, credentials: Object.keys(credentials).length > 0 ? credentials : undefined, adminUser: t.adminUser, address });
  await runCheck(
    report,
    fail,
    `fortimanager ${hostOf(t.url)}`,
    () => fortimanagerTrustedHostProvider.check!({} as never, news as never) as Promise<CheckResult>,
    async () => fortimanagerSteps(t),
  );
}

/**
 * `firewall-grants doctor`: runs each device's provider `check` — the same input validation and the
 * same cached, side-effect-free permission preflight that `pulumi preview` runs — and prints one
 * line per preflight step, with the full diagnosis (code, cause, numbered fixes) for a failure.
 * Exit code 0 when every check passed, 1 when any failed.
 */
import { deviceList, type NamedDeviceEntry } from "../provider/devices";
import { isGrantError, type GrantError } from "../provider/errors";
import { closeAllAgents } from "../provider/transport";
import { hostOf, stepPlan, type StepPlan } from "./doctor-steps";
import { doctorInputs, flagOf, type DoctorPlan, type Target } from "./doctor-targets";

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

const indent = (text: string, n = 4) => text.split("\n").map((l) => " ".repeat(n) + l).join("\n");

/** Runs every target (in parallel) and prints their reports in order; resolves to the exit code. */
export async function runDoctor(plan: DoctorPlan, out: (line: string) => void, devices: readonly NamedDeviceEntry[] = deviceList()): Promise<number> {
  const reports = await Promise.all(plan.targets.map((t) => checkTarget(devices.find((d) => d.name === t.device)!, t, plan.address)));
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

async function checkTarget(d: NamedDeviceEntry, t: Target, address: string): Promise<Report> {
  const report: Report = { lines: [], passed: 0, failed: 0, skipped: 0 };
  const fail = (label: string, detail?: string) => {
    report.lines.push(`${FAIL} ${label}`);
    if (detail) report.lines.push(indent(detail));
    report.failed++;
  };
  try {
    await check(d, t, address, report, fail);
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

/** Runs `check` of each resource of the device with the target's inputs (every option where its declaration puts it). */
async function check(d: NamedDeviceEntry, t: Target, address: string, report: Report, fail: Fail): Promise<void> {
  const what = `${t.device} ${hostOf(t.url)}`;
  const missing = d.settings.doctor.options.find((o) => o.required !== undefined && t.values[o.field] === undefined);
  if (missing) return fail(`${what} — no ${missing.required} given (--${flagOf(d.name, missing)}, or "${missing.field}" in the config file)`);
  const news = doctorInputs(d.settings, t, address);
  for (const { provider } of d.resources) await runCheck(report, fail, what, () => provider.check({}, news) as Promise<CheckResult>, () => stepPlan(t));
}

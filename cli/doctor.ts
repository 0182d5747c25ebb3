/**
 * `firewall-grants doctor`: runs each resource's provider `check` — the same input validation and the
 * same cached, side-effect-free permission preflight that `pulumi preview` runs — and prints the
 * resource's declared preflight steps (device registry `preflight`) with ✔ / ✘ / "not run", and the
 * full diagnosis (code, cause, numbered fixes) of a failure. Exit code 0 when every check passed, 1
 * when any failed.
 */
import { deviceList, type GrantResourceEntry, type NamedDeviceEntry } from "../provider/registry";
import { isGrantError } from "../provider/core/errors";
import { preflightMode, type PreflightMode } from "../provider/core/grant-lifecycle";
import type { SettingsNamespace } from "../provider/core/settings";
import { closeAllAgents } from "../provider/core/transport";
import { applicableSteps, FAIL, hostOf, PASS, SKIP, stepLines, type StepLine } from "./doctor-steps";
import { doctorInputs, flagOf, missingOption, resourcesToCheck, type CheckJob, type DoctorPlan } from "./doctor-targets";

export { PASS, FAIL, SKIP, type CheckJob };

interface Report {
  readonly lines: string[];
  passed: number;
  failed: number;
  skipped: number;
}

type CheckResult = { inputs?: unknown; failures?: readonly { property: string; reason: string }[] };

const indent = (text: string, n = 4) =>
  text
    .split("\n")
    .map((l) => " ".repeat(n) + l)
    .join("\n");
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** Inputs that never name the target (or carry a secret) in a heading. */
const NOT_TARGET = new Set(["connection", "credentials", "address", "name", "description", "comment", "expiresAt"]);

/** The checks of a plan from flags and a config file: per target, the resources it names. */
export function jobsOf(plan: DoctorPlan, devices: readonly NamedDeviceEntry[] = deviceList()): CheckJob[] {
  if (plan.jobs) return [...plan.jobs];
  return plan.targets.flatMap((t) => {
    const d = devices.find((x) => x.name === t.device)!;
    return resourcesToCheck(d.settings, t).map((resource): CheckJob => {
      const missing = missingOption(d.settings, t, resource);
      const problem = missing && `no ${missing.required} given (--${flagOf(d.name, missing)}, or "${missing.field}" in the config file)`;
      return { device: d.name, resource, url: t.url, inputs: doctorInputs(d.settings, t, plan.address, resource), ...(problem && { problem }) };
    });
  });
}

/** Runs every check (in parallel) and prints their reports in order; resolves to the exit code. */
export async function runDoctor(plan: DoctorPlan, out: (line: string) => void, devices: readonly NamedDeviceEntry[] = deviceList()): Promise<number> {
  const jobs = jobsOf(plan, devices);
  const reports = await Promise.all(
    jobs.map((j) =>
      checkJob(
        devices.find((d) => d.name === j.device)!,
        j,
      ),
    ),
  );
  await closeAllAgents();
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const l of plan.notes ?? []) out(l);
  reports.forEach((r, i) => {
    if (i > 0 || (plan.notes?.length ?? 0) > 0) out("");
    for (const l of r.lines) out(l);
    passed += r.passed;
    failed += r.failed;
    skipped += r.skipped;
  });
  out("");
  out(
    failed === 0
      ? `${PASS} all ${passed} checks passed${skipped > 0 ? `, ${skipped} not run` : ""}`
      : `${FAIL} ${failed} failed, ${passed} passed${skipped > 0 ? `, ${skipped} not run` : ""}`,
  );
  return failed === 0 ? 0 : 1;
}

/** `OpnsenseAliasEntry alias jit_admins, method table`: what a check is about, from its non-secret inputs. */
function heading(j: CheckJob): string {
  const shown = Object.entries(j.inputs)
    .filter(([k, v]) => !NOT_TARGET.has(k) && (typeof v === "string" || (Array.isArray(v) && v.every((x) => typeof x === "string"))))
    .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(",") : String(v)}`);
  return `${j.device} ${hostOf(j.url)} · ${j.shownAs ?? j.resource}${shown.length > 0 ? ` ${shown.join(", ")}` : ""}`;
}

function add(report: Report, lines: readonly StepLine[], pad = "  "): void {
  for (const l of lines) {
    report.lines.push(indent(l.text, pad.length));
    if (l.status === "pass") report.passed++;
    else if (l.status === "fail") report.failed++;
    else report.skipped++;
  }
}

async function checkJob(d: NamedDeviceEntry, j: CheckJob): Promise<Report> {
  const report: Report = { lines: [], passed: 0, failed: 0, skipped: 0 };
  const what = `${j.device} ${hostOf(j.url)}`;
  const resource = d.resources.find((r) => r.names.className === j.resource)!;
  if (j.problem) {
    add(report, [{ status: "fail", text: `${FAIL} ${what} — ${j.problem}` }], "");
    return report;
  }
  try {
    await check(resource, j, what, report);
  } catch (e) {
    // Anything the provider did not diagnose; the library's messages carry no secret.
    add(report, [{ status: "fail", text: `${FAIL} ${what} — unexpected error\n${e instanceof Error ? e.message : String(e)}` }], "");
  }
  return report;
}

function depthOf(device: string): PreflightMode {
  try {
    return preflightMode(device as SettingsNamespace);
  } catch {
    return "full"; // a bad value is refused by `check` itself, with where it came from
  }
}

async function check(resource: GrantResourceEntry, j: CheckJob, what: string, report: Report): Promise<void> {
  const steps = resource.preflight ? applicableSteps(resource.preflight, j.inputs) : undefined;
  const depth = depthOf(j.device);
  if (steps) report.lines.push(heading(j));
  let result: CheckResult;
  try {
    result = (await resource.provider.check({}, j.inputs)) as CheckResult;
  } catch (e) {
    if (!isGrantError(e)) throw e;
    if (steps) return add(report, stepLines(steps, depth === "off" ? "full" : depth, e));
    return add(report, [{ status: "fail", text: `${FAIL} ${what} permission preflight — ${e.code} ${e.title}\n${indent(e.message)}` }], "");
  }
  if (result.failures && result.failures.length > 0) {
    // Input problems (bad name, missing URL or credentials): reasons never echo a secret value.
    const reasons = result.failures
      .map((f) => `${f.property ? `${f.property}: ` : ""}${f.reason.replace(new RegExp(`^${escape(f.property)}: `), "")}`)
      .join("\n");
    return add(report, [{ status: "fail", text: `${FAIL} ${what} — input refused before any request\n${indent(reasons)}` }], steps ? "  " : "");
  }
  if (depth === "off") {
    const ns = j.device;
    const lines = (steps ?? []).map((s): StepLine => ({
      status: "skip",
      text: `${SKIP} ${s.id} — ${s.proves} — not run (preflight off: ${ns}:preflight / ${ns.toUpperCase()}_PREFLIGHT)`,
    }));
    return add(report, steps ? lines : [{ status: "skip", text: `${SKIP} ${what} permission preflight — not run (preflight off)` }], steps ? "  " : "");
  }
  if (steps) return add(report, stepLines(steps, depth));
  add(report, [{ status: "pass", text: `${PASS} ${what} permission preflight` }], "");
}

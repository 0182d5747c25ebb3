/**
 * How `doctor` shows a check: the resource's declared preflight steps (the device registry's
 * `preflight`, provider/core/preflight-steps.ts), in the order `check` runs them. The failed step is the one
 * the diagnosis names (`failedStep(e)`); the steps before it passed, the steps after it did not run.
 * Nothing here looks at request paths or codes: a step's identity travels with its diagnosis.
 */
import type { GrantError } from "../provider/core/errors";
import { failedStep, type PreflightDepth, type PreflightStep } from "../provider/core/preflight-steps";

export const PASS = "✔";
export const FAIL = "✘";
export const SKIP = "·";

export function hostOf(url: string | undefined): string {
  try {
    return url ? new URL(url).host : "(no url)";
  } catch {
    return "(invalid url)";
  }
}

/** One printed line; `status` feeds the summary counts. */
export interface StepLine {
  readonly status: "pass" | "fail" | "skip";
  readonly text: string;
}

const indent = (text: string, n: number) =>
  text
    .split("\n")
    .map((l) => " ".repeat(n) + l)
    .join("\n");
const label = (s: PreflightStep<never>) => `${s.id} — ${s.proves}`;

/**
 * The steps that apply to these inputs. A step's `applies` reads its context, whose fields carry the
 * inputs' names (`method`, `adminUser`); when it cannot decide from the inputs, the step is shown.
 */
export function applicableSteps(steps: readonly PreflightStep<never>[], inputs: Record<string, unknown>): PreflightStep<never>[] {
  return steps.filter((s) => {
    if (!s.applies) return true;
    try {
      return s.applies(inputs as never) !== false;
    } catch {
      return true;
    }
  });
}

/**
 * The lines of one check: every step ✔ on success; on a diagnosis, ✔ before the step it names, ✘ for
 * it (with the diagnosis), "not run" after it. `depth` "read" shows write steps as not run, as
 * `check` skips them. A diagnosis from outside the steps (e.g. an input rule checked after them) is
 * one more ✘ line after the steps it let pass.
 */
export function stepLines(steps: readonly PreflightStep<never>[], depth: PreflightDepth, e?: GrantError): StepLine[] {
  const failed = e ? failedStep(e) : undefined;
  const at = failed === undefined ? -1 : steps.findIndex((s) => s.id === failed);
  const lines: StepLine[] = [];
  const diagnosis = (err: GrantError) => `${err.code} ${err.title}\n${indent(err.message, 4)}`;
  steps.forEach((s, i) => {
    if (s.kind === "write" && depth === "read") return lines.push({ status: "skip", text: `${SKIP} ${label(s)} — not run (preflight read)` });
    if (e && at === -1) return lines.push({ status: "skip", text: `${SKIP} ${label(s)} — not known (the failure below is outside the declared steps)` });
    if (!e || i < at) return lines.push({ status: "pass", text: `${PASS} ${label(s)}` });
    if (i === at) return lines.push({ status: "fail", text: `${FAIL} ${label(s)} — ${diagnosis(e)}` });
    return lines.push({ status: "skip", text: `${SKIP} ${label(s)} — not run (an earlier step failed)` });
  });
  if (e && at === -1) lines.push({ status: "fail", text: `${FAIL} preflight — ${diagnosis(e)}` });
  return lines;
}

/**
 * Preflights as declared steps (issue 11): each resource lists, in order, what its permission preflight
 * proves, with which request and which privilege. `check` runs them ({@link runSteps}); `doctor` prints
 * them and reads the failed step from the diagnosis ({@link failedStep}), never from a URL; the README's
 * privilege tables are generated from them ({@link renderStepTable}). Every step is side-effect free.
 */
import { isGrantError } from "./errors";
import { tracePhase } from "./phase-trace";

/** How much of a preflight runs: "read" is what a least-privilege drift-check key must pass. */
export type PreflightDepth = "full" | "read";

export interface PreflightStep<Ctx> {
  /** Stable id, e.g. "auth", "alias", "write". */
  readonly id: string;
  /** What passing proves, for people (doctor, README). */
  readonly proves: string;
  /** The request(s) sent, e.g. "GET /api/core/menu/search". */
  readonly request: string;
  /** The privilege or right the step needs. */
  readonly needs: string;
  /** "write" steps run only in a full preflight. */
  readonly kind: "auth" | "read" | "write";
  /** Runs the step; false when it does not apply to this target (e.g. table-mode-only). */
  applies?(ctx: Ctx): boolean;
  run(ctx: Ctx): Promise<void>;
}

const STEP = Symbol.for("pulumi-firewall-grants.preflight-step");

/** Runs the steps in order (the first failure stops the preflight, its diagnosis tagged with the step id). */
export async function runSteps<Ctx>(
  steps: readonly PreflightStep<Ctx>[],
  ctx: Ctx,
  depth: PreflightDepth,
  onPassed?: (step: PreflightStep<Ctx>) => void,
): Promise<void> {
  const started = Date.now();
  for (const step of steps) {
    if (step.kind === "write" && depth === "read") continue;
    if (step.applies && !step.applies(ctx)) continue;
    try {
      await step.run(ctx);
    } catch (e) {
      if (isGrantError(e) && (e as unknown as Record<symbol, unknown>)[STEP] === undefined)
        Object.defineProperty(e, STEP, { value: step.id, enumerable: false });
      throw e;
    }
    onPassed?.(step);
  }
  tracePhase("preflight", started);
}

/** The id of the step a preflight diagnosis came from, or undefined for a failure outside the steps. */
export function failedStep(e: unknown): string | undefined {
  const v = e && typeof e === "object" ? (e as Record<symbol, unknown>)[STEP] : undefined;
  return typeof v === "string" ? v : undefined;
}

/** A Markdown table of the steps (the README's privilege tables are generated from it). */
export function renderStepTable(steps: readonly PreflightStep<never>[]): string {
  const cell = (t: string) => t.replace(/\|/g, "\\|");
  return [
    "| step | proves | request (no side effect) | needs | runs with preflight |",
    "|---|---|---|---|---|",
    ...steps.map((s) => `| ${s.id} | ${cell(s.proves)} | ${cell(s.request)} | ${cell(s.needs)} | ${s.kind === "write" ? "full" : "full, read"} |`),
  ].join("\n");
}

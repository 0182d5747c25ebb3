/**
 * The ToyfwListEntry permission preflight as declared steps (provider/core/preflight-steps.ts): `check`
 * runs them, `doctor` prints them, the README's privilege tables come from them. Every step is side-effect free.
 * TODO(new-device): the device's real probes, and the privilege each needs (cite the source).
 */
import { diagnosed } from "../../core/diagnosis";
import { runSteps, type PreflightDepth, type PreflightStep } from "../../core/preflight-steps";
import { cachedProbe, fingerprint } from "../../core/process-state";
import { TOYFW_DIAGNOSIS_FAMILY, TOYFW_LISTS_PATH, TOYFW_STATUS_PATH, type ToyfwClient } from "./client";

export interface ToyfwPreflightContext {
  readonly client: ToyfwClient;
  readonly list: string;
}

/**
 * A step's failure as a diagnosis, so that runSteps tags it with the step (doctor names it).
 * TODO(new-device): the device's own codes (provider/core/diagnosis-codes.ts) instead of the family's last resort.
 */
const asDiagnosis = (c: ToyfwPreflightContext, fn: () => Promise<void>) =>
  diagnosed(TOYFW_DIAGNOSIS_FAMILY, { host: c.client.host, timeoutMs: c.client.opts.timeoutMs }, fn);

export const TOYFW_LIST_ENTRY_PREFLIGHT: readonly PreflightStep<ToyfwPreflightContext>[] = [
  {
    id: "auth",
    kind: "auth",
    proves: "the token is accepted",
    request: `GET ${TOYFW_STATUS_PATH}`,
    needs: "a valid token",
    run: (c) => asDiagnosis(c, () => c.client.status()),
  },
  {
    id: "list",
    kind: "read",
    proves: "the list exists",
    request: `GET ${TOYFW_LISTS_PATH}/{list}`,
    needs: "read access to lists",
    run: (c) =>
      asDiagnosis(c, async () => {
        if ((await c.client.listEntries(c.list)) === undefined) throw new Error(`no list named "${c.list}" on ${c.client.host}`);
      }),
  },
];

/** Runs (or reuses, per process) the preflight. */
export function toyfwPreflight(client: ToyfwClient, list: string, mode: PreflightDepth): Promise<void> {
  const o = client.opts;
  return cachedProbe(fingerprint("toyfw-preflight", o.url, o.token, o.caCert ?? "", String(o.insecure), list, mode), () =>
    runSteps(TOYFW_LIST_ENTRY_PREFLIGHT, { client, list }, mode),
  );
}

/**
 * The permission preflight run from `check` (SPEC §5), so that `pulumi preview` fails before anything
 * on the device is touched. Three requests, none with a side effect: the token and VDOM
 * (`monitor/system/status`, Access Group any; its answer must have the status shape, so a captive
 * portal's 200 fails here), a read of the target (the group, or the address table; a FortiOS list or
 * group answer), and the write probe ({@link FortigateClient.probeWrite}).
 *
 * What preview cannot verify: the write probe proves a missing write permission only by a 403. Whether
 * FortiOS checks the profile before it looks up a missing object is in no source (reference §5), so a
 * 404 there passes preview; if the profile then lacks write access, the first real write gets 403 and
 * its 202002 diagnosis says that preview could not prove it (client.ts `forbidden`).
 *
 * The outcome is cached for the life of the provider process under everything that changes it: URL,
 * token, CA certificate, `insecure`, timeout, VDOM, family and group (a TLS failure is not reused once
 * the right CA is given; a timeout is not reused under a longer timeout).
 */
import { diagnosed } from "../../core/diagnosis";
import { runSteps, type PreflightDepth, type PreflightStep } from "../../core/preflight-steps";
import { cachedPreflight, fingerprint } from "../../core/process-state";
import type { FortigateClient, Family } from "./client";

export interface PreflightTarget {
  readonly family: Family;
  readonly group?: string | undefined;
}

/** The cache key: every input that can change the preflight's answer, digested (no secret is held). */
export function preflightKey(client: FortigateClient, url: string, token: string, target: PreflightTarget): string {
  const o = client.opts;
  return `fortigate:${fingerprint(
    url,
    token,
    o.caCert ?? "",
    o.insecure === true ? "insecure" : "verify",
    String(o.timeoutMs ?? ""),
    client.vdom,
    target.family,
    target.group === undefined ? "\u0001no-group" : `group:${target.group}`,
  )}`;
}

/** What each preflight step works on. */
export interface PreflightContext {
  readonly client: FortigateClient;
  readonly target: PreflightTarget;
}

/** The `FortigateAddress` preflight, in order (docs/reference/fortigate.md §1, §5). */
export const ADDRESS_PREFLIGHT: readonly PreflightStep<PreflightContext>[] = [
  {
    id: "auth",
    kind: "auth",
    proves: "the token is accepted from this address and the VDOM is in its scope",
    request: "GET /api/v2/monitor/system/status?vdom={vdom}",
    needs: "a REST API admin token whose trusted hosts include this machine, with the VDOM in its Virtual Domains",
    run: async (c) => void (await c.client.status()),
  },
  {
    id: "target",
    kind: "read",
    proves: "the address group exists (or, without a group, the address table is readable)",
    request: "GET /api/v2/cmdb/firewall/addrgrp[6]/{group} (without a group: GET /api/v2/cmdb/firewall/address[6])",
    needs: "Firewall > Address: Read",
    run: async (c) => {
      if (c.target.group === undefined) return void (await c.client.probeRead(c.target.family));
      if ((await c.client.getGroupMembers(c.target.family, c.target.group)) === undefined) throw c.client.groupMissing(c.target.group);
    },
  },
  {
    id: "write",
    kind: "write",
    proves:
      "the profile may write addresses (a 403 proves it may not; whether FortiOS checks rights before existence is unsourced, so a 404 passes and the first write says so)",
    request: "PUT /api/v2/cmdb/firewall/address[6]/{a name that does not exist} with an empty body",
    needs: "Firewall > Address: Read/Write",
    run: async (c) => void (await c.client.probeWrite(c.target.family)),
  },
];

export function preflight(client: FortigateClient, url: string, token: string, target: PreflightTarget, mode: PreflightDepth = "full"): Promise<void> {
  // Diagnosed inside, so that the cache keeps the verdict (cachedProbe forgets undiagnosed failures).
  return cachedPreflight(`${preflightKey(client, url, token, target)}:${mode}`, () =>
    diagnosed("fortinet", { host: client.host, timeoutMs: client.opts.timeoutMs }, () => runSteps(ADDRESS_PREFLIGHT, { client, target }, mode)),
  );
}

/**
 * The preflight of an in-place change of a set already in state on this group (issue 22): the write probe alone,
 * which FortiOS answers 401 for a token it does not accept (from this address, for this VDOM) and 403 without the
 * write right. That the group still exists is proven by the change's own read of it (set-ops.ts `view`, 404 →
 * the group-missing diagnosis).
 */
export function changePreflight(client: FortigateClient, url: string, token: string, target: PreflightTarget): Promise<void> {
  return cachedPreflight(`${preflightKey(client, url, token, target)}:change`, () =>
    diagnosed("fortinet", { host: client.host, timeoutMs: client.opts.timeoutMs }, () =>
      runSteps(
        ADDRESS_PREFLIGHT.filter((s) => s.id === "write"),
        { client, target },
        "full",
      ),
    ),
  );
}

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
import { diagnosed } from "../diagnosis";
import { cachedProbe, fingerprint } from "../process-state";
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

export function preflight(client: FortigateClient, url: string, token: string, target: PreflightTarget, mode: "full" | "read" = "full"): Promise<void> {
  // Diagnosed inside, so that the cache keeps the verdict (cachedProbe forgets undiagnosed failures).
  return cachedProbe(`${preflightKey(client, url, token, target)}:${mode}`, () => diagnosed("fortinet", { host: client.host, timeoutMs: client.opts.timeoutMs }, async () => {
    await client.status();
    if (target.group !== undefined) {
      if ((await client.getGroupMembers(target.family, target.group)) === undefined) throw client.groupMissing(target.group);
    } else {
      await client.probeRead(target.family);
    }
    // "read" (a drift-check token): the status and the read of the target only, no write probe.
    if (mode === "full") await client.probeWrite(target.family);
  }));
}

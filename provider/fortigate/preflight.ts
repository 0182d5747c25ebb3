/**
 * The permission preflight run from `check` (SPEC §5), so that `pulumi preview` fails before anything
 * on the device is touched. Three requests, none with a side effect: the token and VDOM
 * (`monitor/system/status`, Access Group any), a read of the target (the group, or the address table),
 * and the write probe ({@link FortigateClient.probeWrite}). The outcome is cached per device, token
 * hash, VDOM and target for the life of the provider process.
 */
import { cachedProbe, fingerprint } from "../process-state";
import type { FortigateClient, Family } from "./client";

export interface PreflightTarget {
  readonly family: Family;
  readonly group?: string | undefined;
}

export function preflight(client: FortigateClient, url: string, token: string, target: PreflightTarget): Promise<void> {
  const key = `fortigate:${fingerprint(url, token, client.vdom, target.family, target.group ?? "")}`;
  return cachedProbe(key, async () => {
    await client.status();
    if (target.group !== undefined) {
      if ((await client.getGroupMembers(target.family, target.group)) === undefined) throw client.groupMissing(target.group);
    } else {
      await client.probeRead(target.family);
    }
    await client.probeWrite(target.family);
  });
}

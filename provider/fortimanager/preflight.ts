/**
 * The permission preflight run from `check` (SPEC §5): only reads, no request with a side effect.
 *  1. `get /sys/status` proves the credentials (202001 / transport codes).
 *  2. `get /cli/global/system/admin/user/<adminUser>` proves the target exists (-3 → 202051).
 *  3. The right to edit administrators, read instead of tried: FortiManager has no dry-run, and an
 *     `update` on a missing object would only be side-effect-free if the device checked the
 *     permission before existence, which no source confirms. So the caller's own administrator
 *     record is read (`rpc-permit` must be read-write) and its profile (`super-user-profile` must be
 *     enable; Super_User always is, FMG562-PROF), since only super users may edit administrators
 *     (ADM-187819, PYFORTINET-ERR -60804). In token mode the API administrator's id is `username`
 *     when given; otherwise the visible `user_type api` administrators are read (a non-super caller
 *     sees only itself), and the check passes when any of them could edit.
 * Each step is cached per device + credential (+ target) for the life of the process.
 */
import type { GrantError } from "../errors";
import { cachedProbe } from "../process-state";
import { ADMIN_USERS_URL, type AdminRecord, type FortimanagerClient } from "./client";

export const SUPER_USER_PROFILE = "Super_User";
const CALLER_FIELDS = ["userid", "profileid", "rpc-permit", "user_type"] as const;

/** Runs (or reuses) the preflight for `adminUser`; throws the diagnosis when a step fails. */
export async function preflight(client: FortimanagerClient, adminUser: string): Promise<void> {
  await cachedProbe(`fortimanager:status:${client.identity}`, async () => {
    await client.status();
  });
  await cachedProbe(`fortimanager:admin:${client.identity}:${adminUser}`, async () => {
    await client.readAdmin(adminUser, ["userid"]);
  });
  await cachedProbe(`fortimanager:edit-right:${client.identity}`, () => probeEditRight(client));
}

async function probeEditRight(client: FortimanagerClient): Promise<void> {
  const caller = client.options.username;
  if (caller !== undefined && caller !== "") {
    const record = await client.readAdmin(caller, [...CALLER_FIELDS]);
    const verdict = await judge(client, record);
    if (verdict) throw verdict;
    return;
  }
  // Token without a named API user: judge the API administrators this caller can see.
  const candidates = await client.listAdmins(["user_type", "==", "api"], [...CALLER_FIELDS]);
  if (candidates.length === 0) return; // nothing visible to judge; the write itself will diagnose
  // Judge the cheapest candidates first (Super_User needs no profile read) and stop at the first that may edit.
  const ordered = [...candidates].sort((a, b) => Number(b.profileid === SUPER_USER_PROFILE) - Number(a.profileid === SUPER_USER_PROFILE));
  let first: GrantError | undefined;
  for (const c of ordered) {
    const verdict = await judge(client, c);
    if (!verdict) return;
    first ??= verdict;
  }
  if (first) throw first;
}

/** undefined when `record` may edit administrators, else the 202002 naming the one missing right. */
async function judge(client: FortimanagerClient, record: AdminRecord): Promise<GrantError | undefined> {
  const who = record.userid;
  const rpcPermit = record["rpc-permit"];
  let profileRpc: string | undefined;
  let superUser = record.profileid === SUPER_USER_PROFILE;
  if (!superUser || rpcPermit === "from-profile") {
    try {
      const profile = await client.readProfile(record.profileid ?? "");
      superUser = profile["super-user-profile"] === "enable";
      profileRpc = profile["rpc-permit"];
    } catch (e) {
      // A super user may read every profile; being refused is itself the answer.
      if ((e as { code?: string }).code !== "202002") throw e;
      superUser = false;
    }
  }
  const effectiveRpc = rpcPermit === "from-profile" ? profileRpc : rpcPermit;
  if (effectiveRpc !== undefined && effectiveRpc !== "read-write") {
    return client.permissionDenied(`administrator "${who}" has rpc-permit ${effectiveRpc}: JSON-RPC writes (${ADMIN_USERS_URL} update) answer -11`, who, "rpc");
  }
  if (!superUser) {
    return client.permissionDenied(`administrator "${who}" has profile "${record.profileid ?? "?"}", which is not a super-user profile: only super users may edit administrators' trusted hosts`, who, "profile");
  }
  return undefined;
}

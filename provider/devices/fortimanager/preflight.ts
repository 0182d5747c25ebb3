/**
 * The permission preflight run from `check` (SPEC §5): only reads, no request with a side effect.
 *  1. `get /sys/status` proves the credentials (202001 / transport codes). A -11 there from a valid
 *     session or key is a profile without System Settings: 202002, never 202001 (reference §3a).
 *  2. Who writes: with a login session, the login user. With an API key, the key's owner, learnt
 *     without a write from `get /sys/session` (`admin_user`, FMG 6.4.1+, reference §3b). A
 *     `username` that is not the owner is an error, never a different verdict. When the device
 *     cannot say (before 6.4.1, or -11 there): the named `username` is judged and the outcome says
 *     the owner was not verified; with no `username` the preflight fails closed (202002).
 *  3. That administrator's right to edit administrators, read instead of tried (FortiManager has no
 *     dry-run; a write probe is unsafe, §3b): `rpc-permit` must be read-write (or `from-profile`
 *     with a read-write profile) and its profile a super-user one (only super users may edit
 *     administrators, ADM-187819, PYFORTINET-ERR -60804). Never "some other visible admin could".
 *  4. `get /cli/global/system/admin/user/<adminUser>` proves the target exists (-3 → 202051).
 * Verdicts are cached for the life of the process by everything that can change them (client
 * `verdictKey`: URL origin, credential, CA, insecure, named username; plus the target admin).
 * Successes and verdicts about the credentials or rights are kept; a connection, TLS or timeout
 * failure, or an unexpected answer, is not, so the next check after a fix probes afresh.
 */
import { isGrantError, type GrantError } from "../../core/errors";
import { runSteps, type PreflightDepth, type PreflightStep } from "../../core/preflight-steps";
import { cachedPreflight, fingerprint, shared } from "../../core/process-state";
import { ADMIN_USERS_URL, SESSION_INFO_URL, type AdminRecord, type FortimanagerClient } from "./client";

export const SUPER_USER_PROFILE = "Super_User";
const CALLER_FIELDS = ["userid", "profileid", "rpc-permit", "user_type"] as const;
/** Diagnoses that describe the credentials or rights themselves; anything else may be transient. */
const CACHEABLE_CODES = new Set(["202001", "202002", "202006", "202051"]);

export interface PreflightOutcome {
  /** The administrator whose rights were judged (the login user, or the API key's owner). */
  readonly caller: string;
  /** False when the key's owner could not be learnt and the named `username` was judged instead. */
  readonly callerVerified: boolean;
  /** Why the caller could not be verified, when it could not. */
  readonly note?: string | undefined;
}

/** What each preflight step works on; `outcome` is filled by the caller step. */
export interface PreflightContext {
  readonly client: FortimanagerClient;
  readonly adminUser: string;
  outcome?: PreflightOutcome;
}

/** The `FortimanagerTrustedHost` preflight, in order (docs/reference/fortimanager.md §3, §3b, §5). */
export const TRUSTED_HOST_PREFLIGHT: readonly PreflightStep<PreflightContext>[] = [
  {
    id: "auth",
    kind: "auth",
    proves: "the API key or login is accepted and may read system status",
    request: "get /sys/status (with a login: exec /sys/login/user first)",
    needs: "a valid key or login; a profile with System Settings (read)",
    run: async (c) => void (await c.client.status()),
  },
  {
    id: "caller",
    kind: "write",
    proves: "which administrator writes: the login user, or the API key's owner",
    request: "get /sys/session (API key)",
    needs: "FortiManager 6.4.1+ (older: name the key's administrator in connection.username)",
    run: async (c) => void (c.outcome = await resolveCaller(c.client)),
  },
  {
    id: "rights",
    kind: "write",
    proves: "that administrator may edit administrators' trusted hosts (read, not tried: FortiManager has no dry-run)",
    request: "get /cli/global/system/admin/user/{caller} (+ /cli/global/system/admin/profile/{profile})",
    needs: "rpc-permit read-write and a super-user profile (Super_User)",
    run: async (c) => {
      const outcome = c.outcome ?? (await resolveCaller(c.client));
      const verdict = await judge(c.client, await c.client.readAdmin(outcome.caller, [...CALLER_FIELDS]), outcome);
      if (verdict) throw verdict;
    },
  },
  {
    id: "target",
    kind: "read",
    proves: "the administrator whose trusted hosts change exists",
    request: "get /cli/global/system/admin/user/{adminUser}",
    needs: "read access to administrators",
    run: async (c) => void (await c.client.readAdmin(c.adminUser, ["userid"])),
  },
];

/** Runs (or reuses) the preflight for `adminUser`; throws the diagnosis when a step fails. */
export async function preflight(client: FortimanagerClient, adminUser: string, mode: PreflightDepth = "full"): Promise<PreflightOutcome> {
  if (mode === "read") {
    // A drift-check key: the credentials and a read of the target admin, no judgement of write rights.
    return cached(`read:${client.verdictKey}:${adminUser}`, async () => {
      await runSteps(TRUSTED_HOST_PREFLIGHT, { client, adminUser }, "read");
      return { caller: client.options.username ?? "", callerVerified: false, note: "preflight read: write rights were not checked" };
    });
  }
  // The caller's verdict does not depend on the target; the target's existence is one more read.
  const outcome = await cached(`caller:${client.verdictKey}`, async () => {
    const ctx: PreflightContext = { client, adminUser };
    await runSteps(
      TRUSTED_HOST_PREFLIGHT.filter((s) => s.id !== "target"),
      ctx,
      "full",
    );
    return ctx.outcome!;
  });
  if (adminUser !== outcome.caller) {
    await cached(`target:${client.verdictKey}:${adminUser}`, async () => {
      await runSteps(
        TRUSTED_HOST_PREFLIGHT.filter((s) => s.id === "target"),
        { client, adminUser },
        "full",
      );
      return outcome;
    });
  }
  return outcome;
}

/**
 * The preflight of an in-place change of a set already in state for `adminUser` (issue 22): who writes and whether
 * that administrator may edit trusted hosts — FortiManager has no side-effect-free write probe, so these reads are
 * the proof — without the status read (the first request answers a refused key) and without reading the target
 * (the change reads it itself: 202051 when it is gone). Once per CLI run (process-state `cachedPreflight`).
 */
export function changePreflight(client: FortimanagerClient, adminUser: string): Promise<void> {
  return cachedPreflight(fingerprint("fortimanager-change", client.verdictKey, adminUser), async () => {
    await cached(`caller:${client.verdictKey}`, async () => {
      const ctx: PreflightContext = { client, adminUser };
      await runSteps(
        TRUSTED_HOST_PREFLIGHT.filter((s) => s.id === "caller" || s.id === "rights"),
        ctx,
        "full",
      );
      return ctx.outcome!;
    });
  });
}

function cached(key: string, run: () => Promise<PreflightOutcome>): Promise<PreflightOutcome> {
  const cache = shared("fortimanager.preflight-verdicts", () => new Map<string, Promise<PreflightOutcome>>());
  let p = cache.get(key);
  if (!p) {
    p = run();
    cache.set(key, p);
    p.catch((e: unknown) => {
      if (!(isGrantError(e) && CACHEABLE_CODES.has(e.code))) cache.delete(key);
    });
  }
  return p;
}

async function resolveCaller(client: FortimanagerClient): Promise<PreflightOutcome> {
  const named = client.options.username !== undefined && client.options.username !== "" ? client.options.username : undefined;
  if (client.mode === "session") return { caller: named!, callerVerified: true };
  const who = await client.whoAmI();
  if (who.known) {
    const owner = who.info.admin_user;
    if (named !== undefined && named !== owner) throw client.ownerMismatch(owner);
    return { caller: owner, callerVerified: true };
  }
  if (named !== undefined) {
    return {
      caller: named,
      callerVerified: false,
      note: `the API key's owner could not be verified (${who.reason}); administrator "${named}" from connection.username was checked instead`,
    };
  }
  // Fail closed (§3b): never pass because some other visible administrator could edit.
  throw client.permissionDenied(
    `the preflight cannot learn which administrator owns this API key (${who.reason}; ${SESSION_INFO_URL} exists from FortiManager 6.4.1), so it cannot check that the key may edit trusted hosts`,
    undefined,
    "owner",
  );
}

/** undefined when `record` may edit administrators, else the 202002 naming the one missing right. */
async function judge(client: FortimanagerClient, record: AdminRecord, outcome: PreflightOutcome): Promise<GrantError | undefined> {
  const who = record.userid;
  const owner = outcome.callerVerified && client.mode === "token" ? ` (the owner of this API key)` : "";
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
  // An rpc-permit the device did not report is not assumed: read-write must be seen.
  if (effectiveRpc !== "read-write") {
    const shown = effectiveRpc ?? (rpcPermit === "from-profile" ? "from-profile (profile's value not readable)" : "not reported");
    return client.permissionDenied(
      `administrator "${who}"${owner} has rpc-permit ${shown}: JSON-RPC writes (${ADMIN_USERS_URL} update) answer -11`,
      who,
      "rpc",
    );
  }
  if (!superUser) {
    return client.permissionDenied(
      `administrator "${who}"${owner} has profile "${record.profileid ?? "?"}", which is not a super-user profile: only super users may edit administrators' trusted hosts`,
      who,
      "profile",
    );
  }
  return undefined;
}

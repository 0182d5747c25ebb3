/**
 * The permission preflight of a FortiManager feed grant, run from `check` (SPEC §5; reference
 * fortigate-feeds.md §8, §9). Only reads:
 *  1. The credentials without `/sys/status`: a Passive+ admin needs Manage Device Configurations, not System Settings,
 *     and a profile without System Settings gets -11 there (fortimanager.md Turn 3; Ansible collection issue #58).
 *     `get /sys/session` (after the login, with a password); where it does not answer (under an API key it is
 *     unconfirmed: -6 or -11 are plausible), the ADOM's device list, which the feed path reads anyway. Both refused: 202001.
 *  2. full mode: who writes (the login user, or the API key's owner from `get /sys/session`) and that
 *     administrator's rights, read rather than tried (FortiManager has no dry run): `rpc-permit`
 *     read-write (a read-only admin gets -11 on proxied posts, even Super_User, JPF-001); a Super_User
 *     profile or `device-config` ("Manage Device Configurations") read-write (P-KK 202002); access to
 *     the ADOM (`adom-access`/`adom`). Each missing right is a 202002 naming it. When the key's owner
 *     cannot be learnt and no `username` is given, the rights are not judged (the outcome says so) and a
 *     push refused with -11 gets the 202002 naming all three.
 *  3. `get /dvmdb/adom/<adom>/device` — the ADOM is readable (-11 → 202002 naming it) and every listed
 *     device is managed there with `conn_status` up (202104 naming each that is not).
 *  4. One proxied `GET cmdb/system/external-resource/<feed>?vdom=` to every device at once: the feed
 *     exists and is an IP address feed with update method push, enabled (202102 naming feed, device
 *     and VDOM); a FortiOS 403 there is the VDOM (202002 naming it).
 * Not verified by any read: that `device-config` alone suffices for proxying (reference §8
 * UNCONFIRMED), which FortiGate account runs the proxied call, and push write access on the FortiGates.
 * Cached per process by everything that changes the verdict (client `verdictKey`, ADOM, VDOM, feed, devices).
 */
import { diagnose, diagnosed } from "../../core/diagnosis";
import { isGrantError } from "../../core/errors";
import { runSteps, type PreflightStep } from "../../core/preflight-steps";
import { cachedProbe, fingerprint } from "../../core/process-state";
import { EXTERNAL_RESOURCE_PATH, feedObjectProblem, feedUnusable } from "../fortinet/feed-entries";
import { ADMIN_PROFILES_URL, ADMIN_USERS_URL, SESSION_INFO_URL } from "./client";
import { SUPER_USER_PROFILE } from "./preflight";
import { PROXY_URL, adomDevicesUrl, managerRightsVars, type FortimanagerFeedClient } from "./feed-client";

export interface FeedPreflightOutcome {
  readonly unverified: string;
}

export interface FeedPreflightContext {
  readonly client: FortimanagerFeedClient;
  readonly feed: string;
  readonly devices: readonly string[];
  /** What a step could not prove, for preview to say (a right left to the push). */
  readonly notes: string[];
}

const UNVERIFIED =
  "No read proves that the proxied push is allowed on the FortiGates (which FortiGate account runs it is unpublished) or that Manage Device Configurations alone suffices for /sys/proxy/json: a refused push fails with 202100/202002 naming the device.";

/** The `FortimanagerFeedEntry` preflight, in order (fortigate-feeds.md §8, §9). "write" steps judge write rights by reading them. */
export const FORTIMANAGER_FEED_PREFLIGHT: readonly PreflightStep<FeedPreflightContext>[] = [
  {
    id: "auth",
    kind: "auth",
    proves: "the API key or login is accepted (no System Settings needed)",
    request: `get ${SESSION_INFO_URL}; where it does not answer, get ${adomDevicesUrl("<adom>")} (with a login: exec /sys/login/user first)`,
    needs: "a valid API key or login",
    run: ({ client }) => proveCredentials(client),
  },
  {
    id: "rights",
    kind: "write",
    proves:
      "the administrator (the login user, or the API key's owner) may push through the proxy: rpc-permit read-write, Manage Device Configurations read-write or Super_User, access to the ADOM",
    request: `get ${SESSION_INFO_URL}, get ${ADMIN_USERS_URL}/<caller>, get ${ADMIN_PROFILES_URL}/<profile>`,
    needs: 'rpc-permit read-write; Device Manager "Manage Device Configurations" read-write (device-config) or Super_User; the ADOM in its ADOM access',
    run: ({ client, notes }) => judgeCaller(client, notes),
  },
  {
    id: "devices",
    kind: "read",
    proves: "every listed device is managed in the ADOM and its connection is up",
    request: `get ${adomDevicesUrl("<adom>")}`,
    needs: "access to the ADOM (Device Manager read)",
    run: ({ client, devices }) => checkDevices(client, devices),
  },
  {
    id: "feed",
    kind: "read",
    proves: "the feed exists in the VDOM on every device and is an IP address feed with update method Push API, enabled",
    request: `exec ${PROXY_URL} get ${EXTERNAL_RESOURCE_PATH}/<feed>?vdom=<vdom> (one call for all devices)`,
    needs: "rpc-permit read-write (proxied gets), access to the ADOM",
    run: ({ client, feed, devices }) => checkFeeds(client, feed, devices),
  },
];

export async function feedPreflight(c: FortimanagerFeedClient, feed: string, devices: readonly string[], mode: "full" | "read"): Promise<FeedPreflightOutcome> {
  const targets = [...devices].sort();
  const key = `fortimanager.feed:${fingerprint(c.fmg.verdictKey, c.adom, c.vdom, feed, mode, ...targets)}`;
  const notes: string[] = [];
  // Diagnosed inside, so that the cache keeps the verdict (cachedProbe forgets undiagnosed failures).
  const judged = await cachedProbe(key, async () => {
    await diagnosed("fortinet", { host: c.host, timeoutMs: c.fmg.timeoutMs }, () =>
      runSteps(FORTIMANAGER_FEED_PREFLIGHT, { client: c, feed, devices: targets, notes }, mode),
    );
    return notes;
  });
  return { unverified: [...judged, UNVERIFIED].join(" ") };
}

/** Step 1: the credentials are accepted, proven by reads a Passive+ admin may make (never `/sys/status`). */
async function proveCredentials(c: FortimanagerFeedClient): Promise<void> {
  const who = await c.fmg.whoAmI();
  if (who.known) return;
  try {
    await c.inventory();
  } catch (e) {
    if (!(isGrantError(e) && e.code === "202002" && c.fmg.mode === "token")) throw e;
    throw diagnose("202001", {
      host: c.host,
      detail: `${SESSION_INFO_URL} (${who.reason}) and get ${adomDevicesUrl(c.adom)} were both refused: the API key is wrong, regenerated or deleted, or this machine is outside its administrator's trusted hosts — or the key is valid but its administrator may read neither its own session nor ADOM "${c.adom}"`,
    });
  }
}

async function judgeCaller(c: FortimanagerFeedClient, notes: string[]): Promise<void> {
  const fmg = c.fmg;
  const named = fmg.options.username ? fmg.options.username : undefined;
  let caller = named;
  if (fmg.mode === "token") {
    const who = await fmg.whoAmI();
    if (who.known) {
      if (named !== undefined && named !== who.info.admin_user) throw fmg.ownerMismatch(who.info.admin_user);
      caller = who.info.admin_user;
    }
  }
  if (caller === undefined) {
    notes.push(
      `The administrator behind the API key could not be learnt (${SESSION_INFO_URL} did not answer and no username is set), so its rights were not judged: rpc-permit read-write, Manage Device Configurations read-write and access to ADOM "${c.adom}" are left to the push, which fails with 202002 naming them. Set the connection's username to the key's administrator to have them judged in preview.`,
    );
    return;
  }
  const deny = (missing: "rpc" | "device-config" | "adom", detail: string) =>
    diagnose("202002", { host: c.host, detail, vars: managerRightsVars(caller, c.adom, missing) });
  const record = await fmg.readAdmin(caller, ["userid", "profileid", "rpc-permit", "adom-access", "adom", "adom-exclude"]);
  let profile: Record<string, unknown> | undefined;
  let profileUnread = false;
  if (record.profileid !== SUPER_USER_PROFILE) {
    try {
      profile = await fmg.readProfile(record.profileid ?? "");
    } catch (e) {
      if (!(isGrantError(e) && e.code === "202002")) throw e;
      // Reading a profile needs System Settings, which a least-privilege Passive+ admin lacks (fortimanager.md Turn 3):
      // the rights it holds cannot be read, so they are left to the push, and preview says so.
      profileUnread = true;
    }
  }
  if (profileUnread) {
    const rpcOwn = record["rpc-permit"];
    if (rpcOwn !== undefined && rpcOwn !== "from-profile" && rpcOwn !== "read-write")
      throw deny("rpc", `administrator "${caller}" has rpc-permit ${String(rpcOwn)}: proxied posts (${"/sys/proxy/json"}) answer -11`);
    notes.push(
      `Preview could not read the admin profile "${record.profileid ?? "?"}" of "${caller}" (reading profiles needs System Settings, which a Passive+ administrator does not need), so Manage Device Configurations read-write${rpcOwn === "from-profile" ? " and rpc-permit read-write" : ""} are not proven: a push refused for them fails with 202002 naming them.`,
    );
    return;
  }
  const superUser = record.profileid === SUPER_USER_PROFILE || profile?.["super-user-profile"] === "enable";
  const rpc = record["rpc-permit"] === "from-profile" ? profile?.["rpc-permit"] : record["rpc-permit"];
  if (rpc !== "read-write")
    throw deny("rpc", `administrator "${caller}" has rpc-permit ${String(rpc ?? "not reported")}: proxied posts (${"/sys/proxy/json"}) answer -11`);
  if (!superUser && profile?.["device-config"] !== "read-write") {
    throw deny(
      "device-config",
      `administrator "${caller}" has profile "${record.profileid ?? "?"}" with Manage Device Configurations ${String(profile?.["device-config"] ?? "not reported")}, not read-write, and it is not a super-user profile`,
    );
  }
  if (superUser) return;
  const names = (v: unknown) => (Array.isArray(v) ? v.map((e) => String((e as Record<string, unknown>)?.["adom-name"] ?? e)) : []);
  const access = record["adom-access"];
  const listed = names(record.adom);
  const outside =
    access === "exclude"
      ? names(record["adom-exclude"]).includes(c.adom)
      : access !== "all" && access !== "per-adom-profile" && listed.length > 0 && !listed.includes(c.adom);
  if (outside)
    throw deny("adom", `administrator "${caller}" has no access to ADOM "${c.adom}" (ADOM access: ${String(access ?? "specify")} ${listed.join(", ")})`);
}

async function checkDevices(c: FortimanagerFeedClient, devices: readonly string[]): Promise<void> {
  const inventory = await c.inventory();
  const unavailable = devices.flatMap((d) => {
    const m = inventory.get(d);
    return !m ? [`${d}: not managed in ADOM "${c.adom}"`] : !m.up ? [`${d}: connection status ${m.connStatus}`] : [];
  });
  if (unavailable.length > 0) {
    throw diagnose("202104", {
      host: c.host,
      detail: unavailable.join("; "),
      vars: { device: devices.filter((d) => !inventory.get(d)?.up).join(", "), adom: c.adom },
    });
  }
}

async function checkFeeds(c: FortimanagerFeedClient, feed: string, devices: readonly string[]): Promise<void> {
  const feeds = await c.getFeed(feed, devices);
  const missing: string[] = [];
  const forbidden: string[] = [];
  const other: string[] = [];
  for (const d of devices) {
    const f = feeds.get(d)!;
    if (!f.ok) {
      if (f.status === 404) missing.push(`${d}: no external resource "${feed}" in VDOM "${c.vdom}"`);
      else if (f.status === 403) forbidden.push(d);
      else other.push(`${d}: ${f.reason}`);
    } else {
      const problem = f.feed ? feedObjectProblem(f.feed) : "the FortiGate's answer has no feed object";
      if (problem) missing.push(`${d}: ${problem}`);
    }
  }
  if (forbidden.length > 0) {
    throw diagnose("202002", {
      host: c.host,
      detail: `reading feed "${feed}" in VDOM "${c.vdom}" was refused (FortiOS 403) on ${forbidden.join(", ")}`,
      vars: {
        scope: `VDOM "${c.vdom}" on ${forbidden.join(", ")}`,
        permission: "reading the feed's configuration through the manager",
        fixPermission: `Check that VDOM "${c.vdom}" exists on ${forbidden.join(", ")} and is spelled exactly (FortiOS answers 403 for an unknown VDOM too).`,
        fixScope: "Check FortiManager's management connection to the device (its FortiGate account needs System > Configuration).",
      },
    });
  }
  if (missing.length > 0) throw feedUnusable(c.host, feed, missing.map((m) => m.split(":")[0]).join(", "), c.vdom, missing.join("; "));
  if (other.length > 0)
    throw diagnose("202104", {
      host: c.host,
      detail: `the manager could not reach: ${other.join("; ")}`,
      vars: { device: other.map((m) => m.split(":")[0]).join(", "), adom: c.adom },
    });
}

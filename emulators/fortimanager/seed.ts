/**
 * What a FortiManager emulator starts with: the admin and profile shapes, the default seed (admins,
 * profiles, ADOMs) and the slot defaults. Facts follow docs/reference/fortimanager.md §4–5.
 */
import type { ManagedDeviceSeed, ProxySettings } from "./devices";

export type RpcPermit = "none" | "read" | "read-write" | "from-profile";
export type Access = "none" | "read" | "read-write";

export interface EmulatedProfile {
  readonly profileid: string;
  /** `super-user-profile enable` (Super_User has it; a custom profile may too, 6.2.2+). */
  readonly superUser: boolean;
  /** `system-setting`: needed for `/sys/status` and admin reads by non-super users (ANS-I58, ANS-I98). */
  readonly systemSetting: Access;
  /** Profile-level `rpc-permit`, used when the user says `from-profile` (7.0.3+). @default "read-write" */
  readonly rpcPermit?: Access;
  /** Other permission fields as the profile reads back (`adom-switch`, `policy-objects`, …; ANS-ADMINPROFILE). */
  readonly permissions?: Readonly<Record<string, Access>>;
}

export interface EmulatedAdminSeed {
  readonly userid: string;
  readonly password?: string;
  /** @default "Restricted_User" */
  readonly profileid?: string;
  /** @default "read-write" */
  readonly rpcPermit?: RpcPermit;
  /** `api` admins authenticate with `apiKey` as a Bearer token (FMG ≥ 7.2.2). @default "local" */
  readonly userType?: "local" | "api";
  readonly apiKey?: string;
  /** ADOMs in scope. @default "all" */
  readonly adoms?: "all" | readonly string[];
  /** Sessions this admin may hold at once (`login-max`, default 32 on 6.4.6+). @default 32 */
  readonly loginMax?: number;
  /** Initial slot values, e.g. `{ trusthost2: ["198.51.100.1", "255.255.255.255"] }`. */
  readonly slots?: Readonly<Record<string, unknown>>;
  /** Other admin fields as they read back, e.g. `{ description: "CI runner" }` (see {@link ADMIN_FIELD_DEFAULTS}). */
  readonly fields?: Readonly<Record<string, string | number>>;
}

export interface EmulatedAdmin {
  userid: string;
  password: string | undefined;
  profileid: string;
  rpcPermit: RpcPermit;
  userType: "local" | "api";
  apiKey: string | undefined;
  adoms: "all" | readonly string[];
  loginMax: number;
  /** trusthost1..10 as `[ip, mask]`, ipv6_trusthost1..10 as `"addr/len"`: the GET shape (JPF-CFG). */
  slots: Record<string, [string, string] | string>;
  /** The other plain fields (`description`, `email-address`, …), names for enums. */
  fields: Record<string, string | number>;
}

export interface EmulatedSession {
  readonly sid: string;
  /** The numeric id FMG puts in later responses' top-level `session` (JPF-001). */
  readonly numericId: number;
  readonly userid: string;
  lastUsedMs: number;
}

/** Default slot values (TF-ADMINUSER-DOC, FMG722-NF CLI `get`): slot 1 allows all, 2–10 are unused. */
export const IPV4_ALLOW_ALL: [string, string] = ["0.0.0.0", "0.0.0.0"];
export const IPV4_UNUSED: [string, string] = ["255.255.255.255", "255.255.255.255"];
export const IPV6_ALLOW_ALL = "::/0";
export const IPV6_UNUSED = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128";
export const SLOT_COUNT = 10;

export function defaultSlots(): Record<string, [string, string] | string> {
  const s: Record<string, [string, string] | string> = {};
  for (let i = 1; i <= SLOT_COUNT; i++) {
    s[`trusthost${i}`] = i === 1 ? [...IPV4_ALLOW_ALL] : [...IPV4_UNUSED];
    s[`ipv6_trusthost${i}`] = i === 1 ? IPV6_ALLOW_ALL : IPV6_UNUSED;
  }
  return s;
}

/**
 * Plain admin fields and the value a new admin reads back with (JPF-CFG `get` sample; names per
 * ANS-ADMINUSER). `update` accepts exactly these plus userid, password, profileid, rpc-permit,
 * user_type, adom, adom-access, login-max and the slots; any other field answers -10 (TF-I29).
 * Fields that exist only on some versions are filtered by `adminFieldExists`.
 */
export const ADMIN_FIELD_DEFAULTS: Readonly<Record<string, string | number>> = {
  avatar: "",
  ca: "",
  "change-password": "enable",
  description: "",
  "dev-group": "",
  "email-address": "",
  "ext-auth-accprofile-override": "disable",
  "ext-auth-adom-override": "disable",
  "ext-auth-group-match": "",
  "first-name": "",
  "force-password-change": "disable",
  group: "",
  hidden: 0,
  "last-name": "",
  "ldap-server": "",
  "mobile-number": "",
  "pager-number": "",
  "phone-number": "",
  radius_server: "",
  subject: "",
  "tacacs-plus-server": "",
  "two-factor-auth": "disable",
  wildcard: "disable",
  "th-from-profile": 0,
  "th6-from-profile": 0,
  "cors-allow-origin": "",
  fortiai: "disable",
};

export const DEFAULT_PROFILES: readonly EmulatedProfile[] = [
  { profileid: "Super_User", superUser: true, systemSetting: "read-write" },
  { profileid: "Standard_User", superUser: false, systemSetting: "read" },
  { profileid: "Restricted_User", superUser: false, systemSetting: "none" },
  { profileid: "Package_User", superUser: false, systemSetting: "none" },
  // A custom profile with every permission read-write but not super-user: it still may not edit
  // administrators (PYFORTINET-ERR -60804, ADM-187819).
  { profileid: "custom_admins", superUser: false, systemSetting: "read-write" },
];

/** Credentials of the default seed; for tests and the quick-start only. */
export const DEFAULT_CREDENTIALS = {
  adminPassword: "emulator-admin-pw",
  apiKey: "emulatorapikey0123456789abcdefgh",
} as const;

export const DEFAULT_ADMINS: readonly EmulatedAdminSeed[] = [
  { userid: "admin", password: DEFAULT_CREDENTIALS.adminPassword, profileid: "Super_User" },
  { userid: "apiadmin", userType: "api", apiKey: DEFAULT_CREDENTIALS.apiKey, profileid: "Super_User" },
  { userid: "readonly", password: "readonly-pw", profileid: "Super_User", rpcPermit: "read" },
  { userid: "norpc", password: "norpc-pw", profileid: "Super_User", rpcPermit: "none" },
  { userid: "custom", password: "custom-pw", profileid: "custom_admins" },
  { userid: "customapi", userType: "api", apiKey: "customapikey0123456789abcdefghij", profileid: "custom_admins" },
  { userid: "alice", password: "alice-pw", profileid: "Restricted_User" },
  { userid: "bob", password: "bob-pw", profileid: "Restricted_User" },
];

export const DEFAULT_ADOMS: readonly string[] = ["root", "others"];

/** Two managed FortiGates in ADOM root, each with the push feed "jit-allow" in root: one Passive+ grant reaching two FortiGates (quick-start). */
export const DEFAULT_DEVICES: readonly ManagedDeviceSeed[] = [
  { name: "fgt-hq", adom: "root", sn: "FGVM02TM24000101", feeds: [{ name: "jit-allow" }] },
  { name: "fgt-br1", adom: "root", sn: "FGVM02TM24000102", feeds: [{ name: "jit-allow" }] },
];

/** Defaults of the options below that stand for an answer no source settles (docs/variants.md). */
export const OPTION_DEFAULTS = {
  sysSessionForApiKeys: "no-permission",
  missingAdminCode: -2,
  nonSuperAdminEditCode: -11,
  enforceTrustedHosts: false,
} as const;

export interface BackendOptions {
  readonly admins?: readonly EmulatedAdminSeed[] | undefined;
  readonly profiles?: readonly EmulatedProfile[] | undefined;
  readonly adoms?: readonly string[] | undefined;
  /** Sessions unused this long expire (the API idle timeout). 0 = never. @default 0 */
  readonly sessionIdleMs?: number | undefined;
  /** Code for a non-super admin editing administrators: -11 or -60804 (which one is UNCONFIRMED, §10). @default -11 */
  readonly nonSuperAdminEditCode?: -11 | -60804 | undefined;
  /** Refuse (-11) callers whose source address matches none of their trusted hosts (§4; code UNCONFIRMED). @default false */
  readonly enforceTrustedHosts?: boolean | undefined;
  /**
   * Firmware to emulate: "7.0.x", "7.2.x", "7.4.x", "7.6.x", an exact "7.4.5", or a full
   * `/sys/status` Version string. Decides Bearer keys (7.2.2+), `?access_token` (7.2.2–7.4.6,
   * 7.6.0–7.6.1), version-bound admin fields and what `/sys/status` reports (version.ts).
   * @default "7.6.4"
   */
  readonly version?: string | undefined;
  /**
   * What `get /sys/session` answers for an API-key (Bearer) caller: the key owner's session record, -11
   * ("no-permission") or -6 ("invalid-url"). Documented samples use login sessions only; under a key it is
   * UNCONFIRMED (reference "Not verified").
   * @default "answer"
   */
  readonly sysSessionForApiKeys?: "answer" | "no-permission" | "invalid-url" | undefined;
  /**
   * What `get /cli/global/system/admin/user/<name>` answers for an admin that does not exist: -3 "Object does not
   * exist" (fortimanager-mcp, 7.6.7, for `/pm` objects) or -2 (Knocknoc's 202051 page calls -2 "object not found"
   * for this url; fortimanager.md Turn 3). The default is the less common code, so a client must know both. @default -2
   */
  readonly missingAdminCode?: -2 | -3 | undefined;
  /** Managed FortiGates (proxy.ts). @default {@link DEFAULT_DEVICES} (those whose ADOM exists) */
  readonly devices?: readonly ManagedDeviceSeed[] | undefined;
  /** Answers of `/sys/proxy/json` the sources leave open ({@link ProxySettings}). */
  readonly proxy?: Partial<ProxySettings> | undefined;
  /** Whether ADOMs are enabled (`adom-status`, `/sys/status` "Admin Domain Configuration"). @default true */
  readonly adomsEnabled?: boolean | undefined;
}

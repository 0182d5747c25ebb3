/**
 * State and rules of the FortiManager emulator: administrators, admin profiles, ADOMs, JSON-RPC
 * sessions and API keys. Facts follow shared/reference/fortimanager.md (cited per rule); the
 * emulator imports nothing from the client, so the two cannot share a mistake.
 */
import { randomBytes } from "node:crypto";

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
  /** `/sys/status` Version. @default "v7.4.5-build2588 240827 (GA)" */
  readonly version?: string | undefined;
}

export class FortimanagerBackend {
  admins = new Map<string, EmulatedAdmin>();
  profiles = new Map<string, EmulatedProfile>();
  adoms: string[] = [];
  sessions = new Map<string, EmulatedSession>();
  /** When set, admin writes answer -20055 "Workspace is locked by other user" (ANS-I78). */
  workspaceLockedBy: string | undefined;
  /** When set, admin updates answer this status instead of applying (e.g. a -9998 CLI validation failure). */
  updateFailure: { code: number; message: string } | undefined;
  /** Logins and logouts since the last reset, for tests. */
  loginCount = 0;
  logoutCount = 0;
  private nextNumericId = 1000;

  constructor(readonly options: BackendOptions = {}) {
    this.reset();
  }

  reset(): void {
    this.admins.clear();
    this.profiles.clear();
    this.sessions.clear();
    this.workspaceLockedBy = undefined;
    this.updateFailure = undefined;
    this.loginCount = 0;
    this.logoutCount = 0;
    for (const p of this.options.profiles ?? DEFAULT_PROFILES) this.profiles.set(p.profileid, p);
    for (const a of this.options.admins ?? DEFAULT_ADMINS) this.seedAdmin(a);
    this.adoms = [...(this.options.adoms ?? DEFAULT_ADOMS)];
  }

  /** Adds or replaces an administrator (test seeding). */
  seedAdmin(seed: EmulatedAdminSeed): EmulatedAdmin {
    const admin: EmulatedAdmin = {
      userid: seed.userid,
      password: seed.password,
      profileid: seed.profileid ?? "Restricted_User",
      rpcPermit: seed.rpcPermit ?? "read-write",
      userType: seed.userType ?? "local",
      apiKey: seed.apiKey,
      adoms: seed.adoms ?? "all",
      loginMax: seed.loginMax ?? 32,
      slots: { ...defaultSlots(), ...(structuredClone(seed.slots ?? {}) as EmulatedAdmin["slots"]) },
    };
    this.admins.set(admin.userid, admin);
    return admin;
  }

  /** Sessions currently open, across all admins. */
  get activeSessions(): number {
    this.dropIdleSessions();
    return this.sessions.size;
  }

  /** Makes every open session invalid, as the API idle timeout would (calls then answer -11). */
  expireSessions(): number {
    const n = this.sessions.size;
    this.sessions.clear();
    return n;
  }

  profileOf(admin: EmulatedAdmin): EmulatedProfile {
    return this.profiles.get(admin.profileid) ?? { profileid: admin.profileid, superUser: false, systemSetting: "none" };
  }

  effectiveRpcPermit(admin: EmulatedAdmin): Access {
    return admin.rpcPermit === "from-profile" ? (this.profileOf(admin).rpcPermit ?? "read-write") : admin.rpcPermit;
  }

  isSuper(admin: EmulatedAdmin): boolean {
    return this.profileOf(admin).superUser;
  }

  /** `exec sys/login/user`: -22 on a bad user or password, -11 for rpc-permit none, -23 at login-max (§3, §10). */
  login(user: unknown, passwd: unknown): { code: number; message: string; sid?: string } {
    const admin = typeof user === "string" ? this.admins.get(user) : undefined;
    if (!admin || admin.userType === "api" || admin.password === undefined || passwd !== admin.password) return { code: -22, message: "Login fail" };
    if (this.effectiveRpcPermit(admin) === "none") return { code: -11, message: "No permission for the resource" };
    this.dropIdleSessions();
    const open = [...this.sessions.values()].filter((s) => s.userid === admin.userid).length;
    if (open >= admin.loginMax) return { code: -23, message: "Reach login limit" };
    const sid = randomBytes(48).toString("base64");
    this.sessions.set(sid, { sid, numericId: this.nextNumericId++, userid: admin.userid, lastUsedMs: Date.now() });
    this.loginCount++;
    return { code: 0, message: "OK", sid };
  }

  logout(sid: string): boolean {
    const had = this.sessions.delete(sid);
    if (had) this.logoutCount++;
    return had;
  }

  /** The session's admin, refreshing its idle clock; undefined when unknown or expired. */
  sessionAdmin(sid: unknown): { admin: EmulatedAdmin; session: EmulatedSession } | undefined {
    if (typeof sid !== "string") return undefined;
    this.dropIdleSessions();
    const session = this.sessions.get(sid);
    const admin = session && this.admins.get(session.userid);
    if (!session || !admin) return undefined;
    session.lastUsedMs = Date.now();
    return { admin, session };
  }

  /** The `user_type api` admin holding this key (Bearer), if any (JPF-001 "Token-based authentication"). */
  apiKeyAdmin(key: string): EmulatedAdmin | undefined {
    for (const a of this.admins.values()) if (a.userType === "api" && a.apiKey !== undefined && a.apiKey === key) return a;
    return undefined;
  }

  private dropIdleSessions(): void {
    const idle = this.options.sessionIdleMs ?? 0;
    if (idle <= 0) return;
    const now = Date.now();
    for (const [sid, s] of this.sessions) if (now - s.lastUsedMs > idle) this.sessions.delete(sid);
  }

  /** The record as `get` returns it with `verbose: 1` (JPF-CFG sample; password shows as "ENC"). */
  adminRecord(a: EmulatedAdmin): Record<string, unknown> {
    return {
      userid: a.userid,
      profileid: a.profileid,
      "rpc-permit": a.rpcPermit,
      user_type: a.userType,
      "adom-access": a.adoms === "all" ? "all" : "specify",
      adom: a.adoms === "all" ? [] : a.adoms.map((n) => ({ "adom-name": n })),
      "login-max": a.loginMax,
      password: ["ENC", "emulated"],
      ...structuredClone(a.slots),
    };
  }

  profileRecord(p: EmulatedProfile): Record<string, unknown> {
    return {
      profileid: p.profileid,
      type: "system",
      scope: "global",
      "super-user-profile": p.superUser ? "enable" : "disable",
      "system-setting": p.systemSetting,
      "rpc-permit": p.rpcPermit ?? "read-write",
    };
  }
}

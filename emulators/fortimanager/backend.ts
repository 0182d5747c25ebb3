/**
 * State and rules of the FortiManager emulator: administrators, admin profiles, ADOMs, JSON-RPC
 * sessions and API keys. Facts follow docs/reference/fortimanager.md (cited per rule); the
 * emulator imports nothing from the client, so the two cannot share a mistake.
 */
import { randomBytes } from "node:crypto";
import {
  ADMIN_FIELD_DEFAULTS,
  DEFAULT_ADMINS,
  DEFAULT_ADOMS,
  DEFAULT_DEVICES,
  DEFAULT_PROFILES,
  defaultSlots,
  type Access,
  type BackendOptions,
  type EmulatedAdmin,
  type EmulatedAdminSeed,
  type EmulatedProfile,
  type EmulatedSession,
} from "./seed";
import { ManagedDevices } from "./devices";
import { adminFieldExists, profileRpcPermitExists, resolveVersion, statusRecord, type FmgVersion } from "./version";

export * from "./seed";

/**
 * A JSON-RPC-level fault: matching `params` entries answer `code`/`message` instead of running (the
 * HTTP-level faults are the kit's). E.g. the intermittent -11 of token auth under concurrency on
 * 7.2.7–7.4.7 (TF-I59, TF-I71, TF-I80): `{ auth: "token", code: -11, probability: 0.2 }`.
 */
export interface RpcFault {
  /** JSON-RPC method (`get`, `update`, …); absent: any. */
  readonly method?: string;
  /** Substring of the param's url (leading `/` ignored); absent: any. */
  readonly url?: string;
  /** Only for this kind of caller; absent: any. */
  readonly auth?: "session" | "token";
  readonly code: number;
  /** @default the device's message for `code` where known, else "Unknown error" */
  readonly message?: string;
  /** How many matches it applies to; absent: every one. */
  readonly times?: number;
  /** Chance per match, 0..1 (Math.random). @default 1 */
  readonly probability?: number;
}

export class FortimanagerBackend {
  readonly version: FmgVersion;
  admins = new Map<string, EmulatedAdmin>();
  profiles = new Map<string, EmulatedProfile>();
  adoms: string[] = [];
  sessions = new Map<string, EmulatedSession>();
  /** When set, admin writes answer -20055 "Workspace is locked by other user" (ANS-I78). */
  workspaceLockedBy: string | undefined;
  /** When set, admin updates answer this status instead of applying (e.g. a -9998 CLI validation failure). */
  updateFailure: { code: number; message: string } | undefined;
  /** JSON-RPC-level faults, first match wins (see {@link RpcFault}). */
  rpcFaults: { fault: RpcFault; left: number }[] = [];
  /** Managed FortiGates, each an in-process FortiGate emulator backend (devices.ts, proxy.ts). */
  devices!: ManagedDevices;
  /** Logins and logouts since the last reset, for tests. */
  loginCount = 0;
  logoutCount = 0;
  private nextNumericId = 1000;

  constructor(readonly options: BackendOptions = {}) {
    this.version = resolveVersion(options.version);
    this.reset();
  }

  reset(): void {
    this.admins.clear();
    this.profiles.clear();
    this.sessions.clear();
    this.workspaceLockedBy = undefined;
    this.updateFailure = undefined;
    this.rpcFaults = [];
    this.loginCount = 0;
    this.logoutCount = 0;
    for (const p of this.options.profiles ?? DEFAULT_PROFILES) this.profiles.set(p.profileid, p);
    for (const a of this.options.admins ?? DEFAULT_ADMINS) this.seedAdmin(a);
    this.adoms = [...(this.options.adoms ?? DEFAULT_ADOMS)];
    this.devices = new ManagedDevices(
      this.options.devices ?? DEFAULT_DEVICES.filter((d) => this.adoms.includes(d.adom ?? "root")),
      this.options.proxy,
      () => this.adoms,
    );
  }

  /** Adds or replaces an administrator (test seeding). */
  seedAdmin(seed: EmulatedAdminSeed): EmulatedAdmin {
    const admin = this.draftAdmin(seed);
    this.admins.set(admin.userid, admin);
    return admin;
  }

  /** An administrator built from a seed, not yet stored. */
  draftAdmin(seed: EmulatedAdminSeed): EmulatedAdmin {
    return {
      userid: seed.userid,
      password: seed.password,
      profileid: seed.profileid ?? "Restricted_User",
      rpcPermit: seed.rpcPermit ?? "read-write",
      userType: seed.userType ?? "local",
      apiKey: seed.apiKey,
      adoms: seed.adoms ?? "all",
      loginMax: seed.loginMax ?? 32,
      slots: { ...defaultSlots(), ...(structuredClone(seed.slots ?? {}) as EmulatedAdmin["slots"]) },
      fields: { ...ADMIN_FIELD_DEFAULTS, ...seed.fields },
    };
  }

  /** Removes an administrator and ends its sessions; false when there was none. */
  removeAdmin(userid: string): boolean {
    for (const [sid, sess] of this.sessions) if (sess.userid === userid) this.sessions.delete(sid);
    return this.admins.delete(userid);
  }

  /** The first armed fault matching this call, consumed. */
  takeRpcFault(method: string, url: string, auth: "session" | "token"): RpcFault | undefined {
    for (const f of this.rpcFaults) {
      const { fault } = f;
      if (f.left <= 0 || (fault.method && fault.method !== method) || (fault.auth && fault.auth !== auth)) continue;
      if (fault.url && !url.replace(/^\//, "").includes(fault.url.replace(/^\//, ""))) continue;
      if (fault.probability !== undefined && Math.random() >= fault.probability) continue;
      if (--f.left <= 0) this.rpcFaults = this.rpcFaults.filter((x) => x !== f);
      return fault;
    }
    return undefined;
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

  /**
   * The record as `get` returns it with `verbose: 1` (JPF-CFG sample): `password` masked as the
   * string "ENC " (not a list), IPv4 slots as `[ip, mask]`, IPv6 slots as strings, `adom` as
   * `[{"adom-name"}]`, version-bound fields only where the version has them (ANS-ADMINUSER v_range).
   */
  adminRecord(a: EmulatedAdmin): Record<string, unknown> {
    const plain = Object.entries(a.fields).filter(([k]) => adminFieldExists(this.version, k));
    return {
      userid: a.userid,
      profileid: a.profileid,
      "rpc-permit": a.rpcPermit,
      user_type: a.userType,
      ...(adminFieldExists(this.version, "adom-access") && { "adom-access": a.adoms === "all" ? "all" : "specify" }),
      adom: a.adoms === "all" ? [] : a.adoms.map((n) => ({ "adom-name": n })),
      "login-max": a.loginMax,
      password: "ENC ",
      "password-expire": ["0000/00/00", "00:00:00"],
      ...Object.fromEntries(plain),
      ...structuredClone(a.slots),
    };
  }

  /** A profile as `get` returns it with `verbose: 1` (field names per ANS-ADMINPROFILE). */
  profileRecord(p: EmulatedProfile): Record<string, unknown> {
    return {
      profileid: p.profileid,
      type: "system",
      scope: "global",
      "super-user-profile": p.superUser ? "enable" : "disable",
      "system-setting": p.systemSetting,
      ...p.permissions,
      ...(profileRpcPermitExists(this.version) && { "rpc-permit": p.rpcPermit ?? "read-write" }),
    };
  }

  /**
   * `get /sys/session` data (JPF-OPS "How to get user session information?", 6.4.1+ #0632548): who the
   * caller is. The documented 7.x sample has exactly these keys (`adom_access` and
   * `custom_session_label` appear only in the 8.0 sample). `adom_list` is `[]` for an all-ADOM
   * Super_User there; the entries for a scoped admin are UNCONFIRMED (names here). `time_left` counts
   * down the API idle timeout (28800 s in the sample when none is configured here).
   */
  sessionRecord(admin: EmulatedAdmin, session: EmulatedSession | undefined): Record<string, unknown> {
    const idle = this.options.sessionIdleMs ?? 0;
    const used = session ? Date.now() - session.lastUsedMs : 0;
    return {
      admin_adom: "root",
      admin_prof: admin.profileid,
      admin_user: admin.userid,
      adom_list: admin.adoms === "all" ? [] : [...admin.adoms],
      adom_override: 0,
      current_adom_name: "root",
      email: String(admin.fields["email-address"] ?? ""),
      first_name: String(admin.fields["first-name"] ?? ""),
      last_name: String(admin.fields["last-name"] ?? ""),
      login_user: admin.userid,
      time_left: idle > 0 ? Math.max(0, Math.round((idle - used) / 1000)) : 28800,
      timestamp: Math.floor(Date.now() / 1000),
      valid: 1,
    };
  }

  /** `/sys/status` and `/cli/global/system/status` data (version.ts). */
  statusRecord(): Record<string, unknown> {
    return statusRecord(this.version, this.options.adomsEnabled ?? true);
  }

  /**
   * An ADOM entry of `/dvmdb/adom` as listed with `verbose: 1` (a 7.x entry in JPF 007_device_management;
   * `tab_status` is on every entry, ANS-HTTPAPI `get_adom_list` reads it). `os_ver` "7.0" + `mr` gives
   * the ADOM's FortiOS version, here the emulated firmware's.
   */
  adomRecord(name: string): Record<string, unknown> {
    const oid = 3 + this.adoms.indexOf(name);
    return {
      create_time: 0,
      desc: "",
      lock_override: 0,
      log_db_retention_hours: 1440,
      log_disk_quota: 0,
      log_disk_quota_alert_thres: 90,
      log_disk_quota_split_ratio: 70,
      log_file_retention_hours: 8760,
      logview_customize: "",
      mig_mr: 0,
      mig_os_ver: "0.0",
      mode: "gms",
      mr: this.version.minor,
      name,
      obj_customize: "",
      oid,
      os_ver: `${this.version.major}.0`,
      restricted_prds: "fos",
      state: 1,
      tab_status: "",
      tz: 0,
      uuid: `00000000-0000-5000-8000-${String(oid).padStart(12, "0")}`,
      workspace_mode: 0,
    };
  }
}

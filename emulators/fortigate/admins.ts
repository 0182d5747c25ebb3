/**
 * REST API administrators of the FortiGate emulator (`config system api-user`: token, admin profile,
 * VDOM list, trusted hosts) and the per-source auth-failure lockout (docs/reference/fortigate.md §1, §5).
 */
import { randomBytes } from "node:crypto";

export type AccessLevel = "none" | "read" | "read-write";

/** A REST API administrator (`config system api-user`, reference §1, §5). */
export interface FortigateApiUser {
  readonly name: string;
  readonly token: string;
  /** Admin profile `fwgrp`; "custom" defers to `addressPermission` (`fwgrp-permission.address`). @default "read-write" */
  readonly fwgrp?: AccessLevel | "custom";
  /** `fwgrp-permission.address` when `fwgrp` is "custom". @default "none" */
  readonly addressPermission?: AccessLevel;
  /**
   * Admin profile `sysgrp`; "custom" defers to `sysgrpPermission` (`sysgrp-permission`, reference §5). Threat feeds need it:
   * `cmdb/system/external-resource` sysgrp, `entry-list` sysgrp.cfg, the push System > Configuration read-write (fortigate-feeds.md §6).
   * @default "none", as on a new custom admin profile (issue 19: deriving it from `fwgrp` let a Firewall-only token read and
   * push feeds; a real one gets 403 — FNDN 6.4.14: every `system/external-resource` operation is Access Group sysgrp)
   */
  readonly sysgrp?: AccessLevel | "custom";
  /** `sysgrp-permission` when `sysgrp` is "custom": `{admin, upd, cfg, mnt}`, each @default "none". */
  readonly sysgrpPermission?: Readonly<Partial<Record<"admin" | "upd" | "cfg" | "mnt", AccessLevel>>>;
  /** VDOMs in the api-user's scope. @default ["root"] */
  readonly vdoms?: readonly string[];
  /** `trusthost` entries (IPv4 CIDR, or "::/0"). @default ["0.0.0.0/0", "::/0"] */
  readonly trusthosts?: readonly string[];
}

/**
 * The default administrator: what this library's grants need and no more — Firewall read-write (address objects and
 * groups) and System > Configuration read-write (threat feeds and their push, fortigate-feeds.md §6) in "root". Its
 * token is random per emulator.
 */
export function defaultUser(): FortigateApiUser {
  return {
    name: "grants-api",
    token: randomBytes(15).toString("hex"),
    fwgrp: "read-write",
    sysgrp: "custom",
    sysgrpPermission: { cfg: "read-write" },
    vdoms: ["root"],
  };
}

/** Administrators and lockouts; the device backend extends it. */
export class FortigateAdmins {
  private users = new Map<string, FortigateApiUser>();
  private failures = new Map<string, { count: number; lockedUntil: number }>();

  constructor(
    readonly lockoutThreshold: number,
    readonly lockoutMs: number,
  ) {}

  protected resetAdmins(users: readonly FortigateApiUser[]): void {
    this.users.clear();
    for (const u of users) this.addUser(u);
    this.failures.clear();
  }
  addUser(u: FortigateApiUser): void {
    this.users.set(u.token, u);
  }
  userByToken(token: string): FortigateApiUser | undefined {
    return this.users.get(token);
  }
  listUsers(): FortigateApiUser[] {
    return [...this.users.values()];
  }
  /** The token of the first administrator (the default one unless users were given). */
  get defaultToken(): string {
    return [...this.users.keys()][0] ?? "";
  }
  /** Effective Firewall-address access of a user (reference §5: fwgrp, or fwgrp-permission.address when custom). */
  addressAccess(u: FortigateApiUser): AccessLevel {
    const fw = u.fwgrp ?? "read-write";
    return fw === "custom" ? (u.addressPermission ?? "none") : fw;
  }

  /**
   * Access of a user to an access group (SW-CMDB/SW-MON "Access Group"): "sysgrp" and "sysgrp.cfg" are the
   * `sysgrp` level, or with `sysgrp custom` the `cfg` permission (reference §5: System > Custom > Configuration
   * R/W is enough for `cmdb/system/external-resource` and the external-resource monitor calls).
   */
  groupAccess(u: FortigateApiUser, group: "sysgrp" | "sysgrp.cfg"): AccessLevel {
    const sys = u.sysgrp ?? "none";
    void group;
    return sys === "custom" ? (u.sysgrpPermission?.cfg ?? "none") : sys;
  }

  /** Lockout (reference §1): true while `source` is blocked. */
  isLockedOut(source: string, now = Date.now()): boolean {
    const f = this.failures.get(source);
    return f !== undefined && f.lockedUntil > now;
  }
  recordAuthFailure(source: string, now = Date.now()): void {
    const f = this.failures.get(source) ?? { count: 0, lockedUntil: 0 };
    f.count++;
    if (f.count >= this.lockoutThreshold) {
      f.lockedUntil = now + this.lockoutMs;
      f.count = 0;
    }
    this.failures.set(source, f);
  }
  recordAuthSuccess(source: string): void {
    this.failures.delete(source);
  }
  clearLockouts(): void {
    this.failures.clear();
  }
}

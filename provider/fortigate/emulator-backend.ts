/**
 * Device state of the FortiGate emulator: per-VDOM address, address6, addrgrp and addrgrp6 tables,
 * REST API administrators (token, admin profile, VDOM list, trusted hosts) and the auth-failure
 * lockout. Rules and error codes follow shared/reference/fortigate.md §1, §3, §4 and §8; each rule
 * names its source. Written from the device sources, independently of the client.
 */
import { randomBytes, randomUUID } from "node:crypto";

export type AccessLevel = "none" | "read" | "read-write";
export type AddrFamily = "ipv4" | "ipv6";

/** A REST API administrator (`config system api-user`, reference §1, §5). */
export interface FortigateApiUser {
  readonly name: string;
  readonly token: string;
  /** Admin profile `fwgrp`; "custom" defers to `addressPermission` (`fwgrp-permission.address`). @default "read-write" */
  readonly fwgrp?: AccessLevel | "custom";
  /** `fwgrp-permission.address` when `fwgrp` is "custom". @default "none" */
  readonly addressPermission?: AccessLevel;
  /** VDOMs in the api-user's scope. @default ["root"] */
  readonly vdoms?: readonly string[];
  /** `trusthost` entries (IPv4 CIDR, or "::/0"). @default ["0.0.0.0/0", "::/0"] */
  readonly trusthosts?: readonly string[];
}

export interface StoredAddress {
  name: string;
  uuid: string;
  /** IPv4: "ip mask" as the device stores it (reference §3); IPv6: `ip6` "addr/prefix". */
  value: string;
  comment: string;
}

export interface StoredGroup {
  name: string;
  uuid: string;
  members: string[];
  comment: string;
}

interface VdomTables {
  readonly address: Map<string, StoredAddress>;
  readonly address6: Map<string, StoredAddress>;
  readonly addrgrp: Map<string, StoredGroup>;
  readonly addrgrp6: Map<string, StoredGroup>;
}

/** A FortiOS CMDB error: HTTP status plus the negative `error` code (absent on 403/404, reference §4a). */
export class CmdbError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number | undefined,
    readonly cliError?: string,
  ) {
    super(`FortiOS error ${code ?? httpStatus}`);
  }
}

export interface FortigateBackendOptions {
  readonly vdoms?: readonly string[];
  readonly users?: readonly FortigateApiUser[];
  /** Failed authentications from one source before it is locked out (429). @default 3 */
  readonly lockoutThreshold?: number;
  /** Lockout duration. @default 60000 */
  readonly lockoutMs?: number;
  /** Accept `?access_token=` (FortiOS ≥ 7.4.5 refuses it by default, reference §1). @default false */
  readonly urlQueryToken?: boolean;
}

/** The default administrator: full Firewall read-write in "root". Its token is random per emulator. */
export function defaultUser(): FortigateApiUser {
  return { name: "grants-api", token: randomBytes(15).toString("hex"), fwgrp: "read-write", vdoms: ["root"] };
}

const V4_TABLES = { address: "address", group: "addrgrp" } as const;
const V6_TABLES = { address: "address6", group: "addrgrp6" } as const;
export const tablesOf = (f: AddrFamily) => (f === "ipv4" ? V4_TABLES : V6_TABLES);

export class FortigateBackend {
  readonly serial = "FGVM02TM24000001";
  readonly version = "v7.2.8";
  readonly build = 1639;
  revision = randomBytes(16).toString("hex");
  private vdomTables = new Map<string, VdomTables>();
  private users = new Map<string, FortigateApiUser>();
  private failures = new Map<string, { count: number; lockedUntil: number }>();
  readonly lockoutThreshold: number;
  readonly lockoutMs: number;
  urlQueryToken: boolean;

  constructor(private readonly opts: FortigateBackendOptions = {}) {
    this.lockoutThreshold = opts.lockoutThreshold ?? 3;
    this.lockoutMs = opts.lockoutMs ?? 60_000;
    this.urlQueryToken = opts.urlQueryToken ?? false;
    this.reset();
  }

  reset(): void {
    this.vdomTables.clear();
    for (const v of this.opts.vdoms ?? ["root"]) this.addVdom(v);
    this.users.clear();
    for (const u of this.opts.users ?? [defaultUser()]) this.addUser(u);
    this.failures.clear();
  }

  addVdom(name: string): void {
    if (!this.vdomTables.has(name)) this.vdomTables.set(name, { address: new Map(), address6: new Map(), addrgrp: new Map(), addrgrp6: new Map() });
  }
  hasVdom(name: string): boolean {
    return this.vdomTables.has(name);
  }
  addUser(u: FortigateApiUser): void {
    this.users.set(u.token, u);
  }
  userByToken(token: string): FortigateApiUser | undefined {
    return this.users.get(token);
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

  private tables(vdom: string): VdomTables {
    const t = this.vdomTables.get(vdom);
    if (!t) throw new CmdbError(403, undefined);
    return t;
  }
  private bump(): { old_revision: string; revision: string } {
    const old = this.revision;
    this.revision = randomBytes(16).toString("hex");
    return { old_revision: old, revision: this.revision };
  }

  // ---- addresses ----
  addresses(vdom: string, family: AddrFamily = "ipv4"): StoredAddress[] {
    return [...this.tables(vdom)[tablesOf(family).address].values()];
  }
  getAddress(vdom: string, family: AddrFamily, name: string): StoredAddress | undefined {
    return this.tables(vdom)[tablesOf(family).address].get(name);
  }
  createAddress(vdom: string, family: AddrFamily, body: Record<string, unknown>) {
    const t = this.tables(vdom);
    const name = body.name;
    if (typeof name !== "string" || name === "") throw new CmdbError(500, -56);
    if (name.length > 79) throw new CmdbError(500, -1);
    if (t[tablesOf(family).address].has(name)) throw new CmdbError(500, -5);
    // Address and address-group names share one namespace (-163, reference §4b).
    if (t.addrgrp.has(name) || t.addrgrp6.has(name) || t[family === "ipv4" ? "address6" : "address"].has(name)) throw new CmdbError(500, -163);
    const value = family === "ipv4" ? normaliseSubnet(body.subnet ?? "0.0.0.0 0.0.0.0") : normaliseIp6(body.ip6 ?? "::/0");
    if (value === undefined) throw new CmdbError(500, -651, `node_check_object fail! for ${family === "ipv4" ? "subnet" : "ip6"}\nvalue parse error before '${String(body.subnet ?? body.ip6)}'`);
    t[tablesOf(family).address].set(name, { name, uuid: randomUUID(), value, comment: typeof body.comment === "string" ? body.comment : "" });
    return this.bump();
  }
  updateAddress(vdom: string, family: AddrFamily, name: string, body: Record<string, unknown>) {
    const a = this.getAddress(vdom, family, name);
    if (!a) throw new CmdbError(404, undefined);
    if (typeof body.comment === "string") a.comment = body.comment;
    const raw = family === "ipv4" ? body.subnet : body.ip6;
    if (raw !== undefined) {
      const v = family === "ipv4" ? normaliseSubnet(raw) : normaliseIp6(raw);
      if (v === undefined) throw new CmdbError(500, -651);
      a.value = v;
    }
    return this.bump();
  }
  /** Deletes an address; -23 while any group still references it (reference §4b, TF#106). */
  deleteAddress(vdom: string, family: AddrFamily, name: string) {
    const t = this.tables(vdom);
    if (!t[tablesOf(family).address].has(name)) throw new CmdbError(404, undefined);
    const users = [...t[tablesOf(family).group].values()].filter((g) => g.members.includes(name)).length;
    if (users > 0) throw new CmdbError(500, -23, `The entry is used by other ${users} entries`);
    t[tablesOf(family).address].delete(name);
    return this.bump();
  }

  // ---- groups ----
  groups(vdom: string, family: AddrFamily = "ipv4"): StoredGroup[] {
    return [...this.tables(vdom)[tablesOf(family).group].values()];
  }
  getGroup(vdom: string, family: AddrFamily, name: string): StoredGroup | undefined {
    return this.tables(vdom)[tablesOf(family).group].get(name);
  }
  groupMembers(vdom: string, group: string, family: AddrFamily = "ipv4"): string[] {
    return [...(this.getGroup(vdom, family, group)?.members ?? [])];
  }
  createGroup(vdom: string, family: AddrFamily, name: string, members: readonly string[] = [], comment = "") {
    const t = this.tables(vdom);
    if (name === "" || name.length > 79) throw new CmdbError(500, -651);
    if (t[tablesOf(family).group].has(name)) throw new CmdbError(500, -5);
    if (t.address.has(name) || t.address6.has(name) || t[family === "ipv4" ? "addrgrp6" : "addrgrp"].has(name)) throw new CmdbError(500, -163);
    for (const m of members) this.assertMemberExists(t, family, m);
    t[tablesOf(family).group].set(name, { name, uuid: randomUUID(), members: [...new Set(members)], comment });
    return this.bump();
  }
  /** Replaces the whole member list (PUT on the group, what the Terraform provider does, reference §7). */
  setGroupMembers(vdom: string, family: AddrFamily, name: string, members: readonly string[]) {
    const t = this.tables(vdom);
    const g = t[tablesOf(family).group].get(name);
    if (!g) throw new CmdbError(404, undefined);
    for (const m of members) this.assertMemberExists(t, family, m);
    g.members = [...new Set(members)];
    return this.bump();
  }
  deleteGroup(vdom: string, family: AddrFamily, name: string) {
    if (!this.tables(vdom)[tablesOf(family).group].delete(name)) throw new CmdbError(404, undefined);
    return this.bump();
  }
  /** Child path POST `…/addrgrp/{g}/member` (reference §2a, AN#300): parent missing → 404, unknown member → -3, duplicate → -5. */
  addMember(vdom: string, family: AddrFamily, group: string, member: string) {
    const t = this.tables(vdom);
    const g = t[tablesOf(family).group].get(group);
    if (!g) throw new CmdbError(404, undefined);
    this.assertMemberExists(t, family, member);
    if (g.members.includes(member)) throw new CmdbError(500, -5);
    g.members.push(member);
    return this.bump();
  }
  /** Child path DELETE `…/member/{m}`; parent or member missing → 404. Also the out-of-band edit for tests. */
  removeMember(vdom: string, family: AddrFamily, group: string, member: string) {
    const g = this.getGroup(vdom, family, group);
    if (!g || !g.members.includes(member)) throw new CmdbError(404, undefined);
    g.members = g.members.filter((m) => m !== member);
    return this.bump();
  }
  private assertMemberExists(t: VdomTables, family: AddrFamily, member: string): void {
    const tb = tablesOf(family);
    if (!t[tb.address].has(member) && !t[tb.group].has(member)) {
      throw new CmdbError(500, -3, `entry not found in datasource\nvalue parse error before '${member}'\nCommand fail. Return code -3`);
    }
  }
}

/** "ip mask" or "ip/prefix" → "ip mask" (reference §3: subnet is stored and returned as "ip mask"). */
export function normaliseSubnet(raw: unknown): string | undefined {
  if (typeof raw !== "string") return undefined;
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\s+(\d{1,3}(?:\.\d{1,3}){3})|\/(\d{1,2}))?$/.exec(raw.trim());
  if (!m) return undefined;
  const ip = m[1]!;
  if (ip.split(".").some((o) => Number(o) > 255)) return undefined;
  let mask = m[2];
  if (mask === undefined) {
    const p = m[3] === undefined ? 32 : Number(m[3]);
    if (p > 32) return undefined;
    const bits = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
    mask = [24, 16, 8, 0].map((s) => (bits >>> s) & 255).join(".");
  }
  return `${ip} ${mask}`;
}

/** `ip6` is held as "addr/prefix"; a bare address is a /128. */
export function normaliseIp6(raw: unknown): string | undefined {
  if (typeof raw !== "string" || !/^[0-9a-fA-F:]+(\/\d{1,3})?$/.test(raw.trim()) || !raw.includes(":")) return undefined;
  const v = raw.trim().toLowerCase();
  return v.includes("/") ? v : `${v}/128`;
}

/**
 * Device state of the FortiGate emulator: per-VDOM address, address6, addrgrp and addrgrp6 tables,
 * REST API administrators (token, admin profile, VDOM list, trusted hosts), the auth-failure lockout
 * and the firmware version. Rules and error codes follow docs/reference/fortigate.md §1–§4, §8 and
 * "Behaviours to model"; each rule names its source. Written from the device sources, independently
 * of the client.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { DEFAULT_FORTIOS_VERSION, fortiosFeatures, parseFortiosVersion, type FortiosFeatures, type FortiosVersion } from "./versions";
import { ADDRESS6_TYPES, ADDRESS_TYPES, applySettings, typeFields, type ObjectSettings } from "./values";
import { FortigateAdmins, defaultUser, type FortigateApiUser } from "./admins";
import { FeedStore, type FeedSeed, type FeedSettings } from "./feeds";

export { normaliseSubnet, normaliseIp6 } from "./values";
export { defaultUser, type FortigateApiUser, type AccessLevel } from "./admins";

export type AddrFamily = "ipv4" | "ipv6";

export interface StoredAddress {
  name: string;
  uuid: string;
  /** `ipmask`, `iprange`, `fqdn`, … (IPv6: `ipprefix`, …). */
  type: string;
  /** IPv4: `subnet` as "ip mask" (reference §3); IPv6: `ip6` "addr/prefix". */
  value: string;
  comment: string;
  /** Every type field held (`subnet`, `start-ip`, `end-ip`, `fqdn`, `country`, `wildcard`, `ip6`, …). */
  fields: Record<string, string>;
  /** IPv4: `color`, `allow-routing`, `fabric-object` (values.ts `applySettings`); IPv6: none modelled. */
  settings: ObjectSettings;
}

export interface StoredGroup {
  name: string;
  uuid: string;
  members: string[];
  comment: string;
  /** As {@link StoredAddress.settings}. */
  settings: ObjectSettings;
}

interface VdomTables {
  readonly address: Map<string, StoredAddress>;
  readonly address6: Map<string, StoredAddress>;
  readonly addrgrp: Map<string, StoredGroup>;
  readonly addrgrp6: Map<string, StoredGroup>;
}

/** A FortiOS CMDB error: HTTP status plus the negative `error` code (absent on 403/404/405, reference §4a). */
export class CmdbError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number | undefined,
    readonly cliError?: string,
  ) {
    super(`FortiOS error ${code ?? httpStatus}`);
  }
}

/** What a `POST …/member` of a name that is already a member answers. No public source shows it (reference "Not verified"). */
export type RepeatedMemberPost = "duplicate" | "ok";

export interface FortigateBackendOptions {
  /** FortiOS version to model ("7.0.12", "7.2.8", "7.4.4", "7.6.x" …); the envelope's `version`/`build` follow it. @default "7.6.4" */
  readonly version?: string;
  readonly vdoms?: readonly string[];
  readonly users?: readonly FortigateApiUser[];
  /** Failed authentications from one source before it is locked out (429). @default 3 */
  readonly lockoutThreshold?: number;
  /** Lockout duration. @default 60000 */
  readonly lockoutMs?: number;
  /**
   * Whether a request carrying no credential at all (no `Authorization`, no `access_token`) counts as a failed
   * authentication toward the lockout. No source says (reference §1: "repeated failed auth"); terraform-provider-fortios
   * sends its start-up check without the header, so counting it locked a peer's source out for a minute. @default false
   */
  readonly lockoutCountsMissingCredentials?: boolean;
  /**
   * `config system global / set rest-api-key-url-query enable` (FortiOS ≥ 7.4.5, P-URLQ). Below 7.4.5
   * the setting does not exist and `?access_token=` is always accepted. @default false
   */
  readonly urlQueryToken?: boolean;
  /**
   * Answer to `POST …/addrgrp/{g}/member` for a current member. Unsourced: "duplicate" (HTTP 500,
   * `error: -5`, nothing changed) is what every CMDB table answers to a POST of an existing mkey
   * (R7#1027, TF#244) and changes nothing; "ok" (200, `revision_changed: false`) lets a client's CI
   * check that it does not take a 200 as "added by me". @default "duplicate"
   */
  readonly repeatedMemberPost?: RepeatedMemberPost;
  /** Threat feeds at start and after each reset (feeds.ts). @default one push feed "jit-allow" in "root" from 7.2.1, none below */
  readonly feeds?: readonly FeedSeed[];
  /** Answers the feed sources leave open, and the entry limit ({@link FeedSettings}). */
  readonly feedSettings?: Partial<FeedSettings>;
  /** Serial number in every envelope. @default "FGVM02TM24000001" */
  readonly serial?: string;
}

const V4_TABLES = { address: "address", group: "addrgrp" } as const;
const V6_TABLES = { address: "address6", group: "addrgrp6" } as const;
export const tablesOf = (f: AddrFamily) => (f === "ipv4" ? V4_TABLES : V6_TABLES);
type Rev = { old_revision: string; revision: string };

export class FortigateBackend extends FortigateAdmins {
  readonly serial: string;
  readonly firmware: FortiosVersion;
  readonly features: FortiosFeatures;
  private readonly initialUsers: readonly FortigateApiUser[];
  revision = randomBytes(16).toString("hex");
  private vdomTables = new Map<string, VdomTables>();
  urlQueryToken = false;
  repeatedMemberPost: RepeatedMemberPost = "duplicate";
  /** {@link FortigateBackendOptions.lockoutCountsMissingCredentials}; settable for tests. */
  lockoutCountsMissingCredentials: boolean;
  /** Threat feeds and their entries (feeds.ts). */
  readonly feeds: FeedStore;

  constructor(private readonly opts: FortigateBackendOptions = {}) {
    super(opts.lockoutThreshold ?? 3, opts.lockoutMs ?? 60_000);
    this.firmware = parseFortiosVersion(opts.version ?? DEFAULT_FORTIOS_VERSION);
    this.features = fortiosFeatures(this.firmware);
    this.serial = opts.serial ?? "FGVM02TM24000001";
    this.lockoutCountsMissingCredentials = opts.lockoutCountsMissingCredentials ?? false;
    this.feeds = new FeedStore(this.firmware, opts.feeds, opts.feedSettings, () => this.vdoms());
    // One default administrator for the emulator's life: its token survives resets (`emu.token` stays valid).
    this.initialUsers = opts.users ?? [defaultUser()];
    this.reset();
  }
  /** Envelope `version`, e.g. "v7.6.4" (reference §3). */
  get version(): string {
    return `v${this.firmware.text}`;
  }
  get build(): number {
    return this.firmware.build;
  }
  /** Whether `?access_token=` authenticates: always below 7.4.5, else only with `rest-api-key-url-query enable` (P-URLQ). */
  get acceptsQueryToken(): boolean {
    return !this.features.urlQuerySetting || this.urlQueryToken;
  }

  reset(): void {
    this.vdomTables.clear();
    for (const v of this.opts.vdoms ?? ["root"]) this.addVdom(v);
    this.resetAdmins(this.initialUsers);
    this.urlQueryToken = this.opts.urlQueryToken ?? false;
    this.repeatedMemberPost = this.opts.repeatedMemberPost ?? "duplicate";
    this.feeds.reset();
  }
  addVdom(name: string): void {
    if (!this.vdomTables.has(name)) this.vdomTables.set(name, { address: new Map(), address6: new Map(), addrgrp: new Map(), addrgrp6: new Map() });
  }
  hasVdom(name: string): boolean {
    return this.vdomTables.has(name);
  }
  vdoms(): string[] {
    return [...this.vdomTables.keys()];
  }
  private tables(vdom: string): VdomTables {
    const t = this.vdomTables.get(vdom);
    if (!t) throw new CmdbError(403, undefined);
    return t;
  }
  private bump(): Rev {
    const old = this.revision;
    this.revision = randomBytes(16).toString("hex");
    return { old_revision: old, revision: this.revision };
  }
  /** Name rules: present, ≤ nameMax (63 on 6.0, 79 from 6.4), unique (-5 same table, -163 the group/address table, §4b). */
  private checkNewName(t: VdomTables, table: keyof VdomTables, name: unknown): string {
    if (typeof name !== "string" || name === "") throw new CmdbError(500, -56, "Command fail. Return code -56");
    if (name.length > this.features.nameMax) throw new CmdbError(500, -1, "Command fail. Return code -1");
    if (t[table].has(name)) throw new CmdbError(500, -5);
    // address↔addrgrp of one family [CLI60 "must have unique names"]; across IPv4/IPv6 no source, so not refused ("Not verified").
    const other = ({ address: "addrgrp", addrgrp: "address", address6: "addrgrp6", addrgrp6: "address6" } as const)[table];
    if (t[other].has(name)) throw new CmdbError(500, -163);
    return name;
  }
  private badValue(field: string, raw: unknown): CmdbError {
    return new CmdbError(
      500,
      -651,
      `node_check_object fail! for ${field} ${String(raw)}\n\nvalue parse error before '${String(raw)}'\nCommand fail. Return code -651`,
    );
  }

  // ---- addresses ----
  addresses(vdom: string, family: AddrFamily = "ipv4"): StoredAddress[] {
    return [...this.tables(vdom)[tablesOf(family).address].values()];
  }
  getAddress(vdom: string, family: AddrFamily, name: string): StoredAddress | undefined {
    return this.tables(vdom)[tablesOf(family).address].get(name);
  }
  /** POST: any type of §2a; `subnet` in any of its three input forms (Behaviours to model). */
  createAddress(vdom: string, family: AddrFamily, body: Record<string, unknown>): Rev {
    const t = this.tables(vdom);
    const name = this.checkNewName(t, tablesOf(family).address, body.name);
    const type = this.checkType(family, body.type);
    const r = typeFields(family, type, body, {});
    if ("bad" in r) throw this.badValue(r.bad, body[r.bad]);
    const comment = typeof body.comment === "string" ? body.comment : "";
    if (comment.length > 255) throw new CmdbError(500, -1);
    const settings = this.settingsOf(family, body, {});
    t[tablesOf(family).address].set(name, {
      name,
      uuid: randomUUID(),
      type,
      value: family === "ipv4" ? r.fields.subnet! : r.fields.ip6!,
      comment,
      fields: r.fields,
      settings,
    });
    return this.bump();
  }
  /** The IPv4 object settings `body` sets over `prev` (refused as a bad value, -651); IPv6 objects hold none here. */
  private settingsOf(family: AddrFamily, body: Record<string, unknown>, prev: ObjectSettings): ObjectSettings {
    if (family !== "ipv4") return {};
    const r = applySettings(this.features.fabricObject, body, prev);
    if ("bad" in r) throw this.badValue(r.bad, body[r.bad]);
    return r.settings;
  }
  private checkType(family: AddrFamily, raw: unknown): string {
    const types: readonly string[] = family === "ipv4" ? ADDRESS_TYPES : ADDRESS6_TYPES;
    const type = raw === undefined ? types[0]! : String(raw);
    if (!types.includes(type)) throw this.badValue("type", raw);
    return type;
  }
  /** PUT: a partial update; `{"name":…}` renames (PFGT-T "Change Name"), group references follow the new name (unverified). */
  updateAddress(vdom: string, family: AddrFamily, name: string, body: Record<string, unknown>): Rev {
    const t = this.tables(vdom);
    const tb = tablesOf(family);
    const a = t[tb.address].get(name);
    if (!a) throw new CmdbError(404, undefined);
    const type = body.type === undefined ? a.type : this.checkType(family, body.type);
    const r = typeFields(family, type, body, a.fields);
    if ("bad" in r) throw this.badValue(r.bad, body[r.bad]);
    const settings = this.settingsOf(family, body, a.settings);
    const newName = body.name === undefined || body.name === name ? name : this.checkNewName(t, tb.address, body.name);
    if (typeof body.comment === "string") a.comment = body.comment;
    Object.assign(a, { type, fields: r.fields, value: family === "ipv4" ? r.fields.subnet! : r.fields.ip6!, settings });
    if (newName !== name) this.rename(t[tb.address], t[tb.group], name, newName, a);
    return this.bump();
  }
  private rename<T extends { name: string }>(table: Map<string, T>, groups: Map<string, StoredGroup>, from: string, to: string, obj: T): void {
    table.delete(from);
    obj.name = to;
    table.set(to, obj);
    for (const g of groups.values()) g.members = g.members.map((m) => (m === from ? to : m));
  }
  /** Deletes an address; -23 while any group still references it (reference §4b, TF#106). */
  deleteAddress(vdom: string, family: AddrFamily, name: string): Rev {
    const t = this.tables(vdom);
    if (!t[tablesOf(family).address].has(name)) throw new CmdbError(404, undefined);
    const users = [...t[tablesOf(family).group].values()].filter((g) => g.members.includes(name)).length;
    if (users > 0) throw new CmdbError(500, -23, `The entry is used by other ${users} entries\nCommand fail. Return code -23`);
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
  /**
   * Before 7.2.0 a group needs a member [PFGT-T, BATFISH]. The device's answer is in no source; modelled
   * as the CMDB answer for an empty required value: HTTP 500, -56 "Empty values are not allowed" (§4b).
   */
  private checkNotEmpty(members: readonly string[]): void {
    if (members.length === 0 && !this.features.emptyGroups) throw new CmdbError(500, -56, "Command fail. Return code -56");
  }
  createGroup(vdom: string, family: AddrFamily, name: string, members: readonly string[] = [], comment = "", body: Record<string, unknown> = {}): Rev {
    const t = this.tables(vdom);
    this.checkNewName(t, tablesOf(family).group, name);
    this.checkNotEmpty(members);
    for (const m of members) this.assertMemberExists(t, family, m);
    const settings = this.settingsOf(family, body, {});
    t[tablesOf(family).group].set(name, { name, uuid: randomUUID(), members: [...new Set(members)], comment, settings });
    return this.bump();
  }
  /** PUT on a group: partial; `member` replaces the whole list (§2a), `comment` keeps members, `name` renames [PFGT-T]. */
  updateGroup(
    vdom: string,
    family: AddrFamily,
    name: string,
    patch: { name?: unknown; comment?: unknown; members?: readonly string[] | undefined; body?: Record<string, unknown> },
  ): Rev {
    const t = this.tables(vdom);
    const tb = tablesOf(family);
    const g = t[tb.group].get(name);
    if (!g) throw new CmdbError(404, undefined);
    if (patch.members !== undefined) {
      this.checkNotEmpty(patch.members);
      for (const m of patch.members) this.assertMemberExists(t, family, m);
    }
    const settings = this.settingsOf(family, patch.body ?? {}, g.settings);
    const newName = patch.name === undefined || patch.name === name ? name : this.checkNewName(t, tb.group, patch.name);
    g.settings = settings;
    if (patch.members !== undefined) g.members = [...new Set(patch.members)];
    if (typeof patch.comment === "string") g.comment = patch.comment;
    if (newName !== name) this.rename(t[tb.group], t[tb.group], name, newName, g);
    return this.bump();
  }
  /** Deletes a group; -23 while another group holds it (§4b). */
  deleteGroup(vdom: string, family: AddrFamily, name: string): Rev {
    const t = this.tables(vdom)[tablesOf(family).group];
    if (!t.has(name)) throw new CmdbError(404, undefined);
    const users = [...t.values()].filter((g) => g.members.includes(name)).length;
    if (users > 0) throw new CmdbError(500, -23, `The entry is used by other ${users} entries\nCommand fail. Return code -23`);
    t.delete(name);
    return this.bump();
  }
  /**
   * DELETE on a collection path: "Purge child table" (6.0.4 [P-604]); DCFA PR #7: it deletes every
   * object that nothing references. 7.x unverified. Returns how many went.
   */
  purge(vdom: string, family: AddrFamily, kind: "address" | "group"): { rev: Rev; removed: number } {
    const t = this.tables(vdom);
    const tb = tablesOf(family);
    const table = kind === "address" ? t[tb.address] : t[tb.group];
    const referenced = new Set([...t[tb.group].values()].flatMap((g) => g.members));
    let removed = 0;
    for (const name of [...table.keys()]) if (!referenced.has(name) && table.delete(name)) removed++;
    return { rev: this.bump(), removed };
  }
  /** Child path POST `…/addrgrp/{g}/member` (§2a, AN#300): parent missing → 404, unknown member → -3, current member → see {@link RepeatedMemberPost}. */
  addMember(vdom: string, family: AddrFamily, group: string, member: string): Rev & { changed: boolean } {
    const t = this.tables(vdom);
    const g = t[tablesOf(family).group].get(group);
    if (!g) throw new CmdbError(404, undefined);
    this.assertMemberExists(t, family, member);
    if (g.members.includes(member)) {
      if (this.repeatedMemberPost === "duplicate") throw new CmdbError(500, -5);
      return { old_revision: this.revision, revision: this.revision, changed: false };
    }
    g.members.push(member);
    return { ...this.bump(), changed: true };
  }
  /** Child path DELETE `…/member/{m}`; parent or member missing → 404; the last member below 7.2.0 → -56 (see checkNotEmpty). */
  removeMember(vdom: string, family: AddrFamily, group: string, member: string): Rev {
    const g = this.getGroup(vdom, family, group);
    if (!g || !g.members.includes(member)) throw new CmdbError(404, undefined);
    const rest = g.members.filter((m) => m !== member);
    this.checkNotEmpty(rest);
    g.members = rest;
    return this.bump();
  }
  private assertMemberExists(t: VdomTables, family: AddrFamily, member: string): void {
    const tb = tablesOf(family);
    if (!t[tb.address].has(member) && !t[tb.group].has(member)) {
      throw new CmdbError(500, -3, `entry not found in datasource\n\nvalue parse error before '${member}'\nCommand fail. Return code -3`);
    }
  }
}

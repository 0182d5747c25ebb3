/**
 * Device state of the OPNsense emulator: aliases as stored in config.xml, the live pf tables, API
 * users, config revisions and the reconfigure counter, with the device's rules and quirks per version
 * (docs/reference/opnsense.md §2–§3, §7). Written from the opnsense/core sources named per method
 * (AUC = controllers/OPNsense/Firewall/Api/AliasUtilController.php); it shares nothing with the client,
 * so the two cannot share a mistake.
 */
import { randomUUID } from "node:crypto";
import {
  BACKUP_COUNT,
  BUILTINS,
  UnexpectedError,
  UserException,
  type AliasSpec,
  type AliasType,
  type ConfigRevision,
  type EditTarget,
  type EmulatedAlias,
  type EmulatedUser,
} from "./types";
import { pfEntry, pfLoad } from "./pf";
import { contentProblems } from "./validate";
import { versionTraits, type OpnsenseVersionTraits } from "./version";

export {
  ALIAS_TYPE_LABELS,
  BACKUP_COUNT,
  DEFAULT_ALIASES,
  UnexpectedError,
  UserException,
  type AliasSpec,
  type AliasType,
  type ConfigRevision,
  type EditTarget,
  type EmulatedAlias,
  type EmulatedUser,
} from "./types";

const ADDRESS_TYPES: ReadonlySet<AliasType> = new Set(["host", "network"]);

/** How pfctl prints a table entry: hosts without prefix, networks as ip/prefix (pf.ts, not the client's parser). */
const pfForm = pfEntry;

/** An IPv4 address as a number and back (for cheap seeding). */
const v4 = (s: string) => s.split(".").reduce((n, o) => n * 256 + Number(o), 0);
const v4s = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");

export class OpnsenseBackend {
  readonly aliases = new Map<string, EmulatedAlias>();
  readonly tables = new Map<string, Set<string>>();
  readonly users = new Map<string, EmulatedUser>();
  /** Host names an alias line may hold and what they resolve to (the emulator has no DNS: unlisted names load nothing). */
  readonly dns = new Map<string, string[]>();
  reconfigureCount = 0;
  reconfigureLatencyMs = 0;
  /** When set, `reconfigure` fails with this pfctl error (OPN200 tests). */
  reconfigureError: string | undefined;
  /** Config revisions written since the start (one per save); only the last {@link BACKUP_COUNT} are kept in `revisions`. */
  configSaves = 0;
  readonly revisions: ConfigRevision[] = [];
  traits: OpnsenseVersionTraits;

  constructor(
    private readonly initialAliases: readonly AliasSpec[],
    private readonly initialUsers: readonly EmulatedUser[],
    reconfigureLatencyMs: number,
    traits: OpnsenseVersionTraits = versionTraits(),
  ) {
    this.reconfigureLatencyMs = reconfigureLatencyMs;
    this.traits = traits;
    this.reset();
  }

  reset(): void {
    this.aliases.clear();
    this.tables.clear();
    this.users.clear();
    this.reconfigureCount = 0;
    this.configSaves = 0;
    this.revisions.length = 0;
    this.reconfigureError = undefined;
    for (const b of BUILTINS) this.putAlias({ ...b, uuid: b.name }, true);
    for (const a of this.initialAliases) this.addAlias(a);
    for (const u of this.initialUsers) this.putUser(u);
  }

  putUser(u: EmulatedUser): void {
    this.users.set(u.key, { ...u, privileges: [...u.privileges] });
  }

  /** Creates (or replaces) a user alias as an admin would (config + loaded table), for tests and control routes. */
  addAlias(spec: AliasSpec): EmulatedAlias {
    return this.putAlias(spec, false);
  }

  /** Drops a user alias and its table, as an admin would in the UI; false when there is none. */
  removeAlias(name: string): boolean {
    const a = this.aliases.get(name);
    if (!a || a.builtin) return false;
    this.aliases.delete(name);
    this.tables.delete(name);
    return true;
  }

  private putAlias(spec: AliasSpec, builtin: boolean): EmulatedAlias {
    const alias: EmulatedAlias = {
      uuid: spec.uuid ?? randomUUID(),
      name: spec.name,
      type: spec.type,
      content: [...(spec.content ?? [])],
      description: spec.description ?? "",
      enabled: spec.enabled ?? true,
      inUse: spec.inUse ?? false,
      builtin,
    };
    this.aliases.set(alias.name, alias);
    if (alias.type !== "port") this.tables.set(alias.name, new Set(this.loadable(alias)));
    return alias;
  }

  byUuid(uuid: string): EmulatedAlias | undefined {
    for (const a of this.aliases.values()) if (a.uuid === uuid) return a;
    return undefined;
  }

  /** Util `isAlias`: any alias name, built-ins included (case-sensitive). */
  isAlias(name: string): boolean {
    return this.aliases.has(name);
  }

  /** Lines of config content (what get_item/search_item show). */
  configContent(alias: string): string[] {
    return [...(this.aliases.get(alias)?.content ?? [])];
  }

  /** Entries of the live pf table, as pfctl prints them (sorted). */
  tableContent(alias: string): string[] {
    return [...(this.tables.get(alias) ?? [])].sort();
  }

  /** An out-of-band removal (the UI plus Apply by default): every config copy and the live entry. */
  removeAddress(alias: string, address: string, where: EditTarget = "both"): void {
    const a = this.aliases.get(alias);
    const pf = pfForm(address);
    if (a && where !== "table") a.content = a.content.filter((l) => (pf === undefined ? l !== address : pfForm(l) !== pf));
    if (pf && where !== "config") this.tables.get(alias)?.delete(pf);
  }

  /** An out-of-band add (the UI plus Apply by default). */
  insertAddress(alias: string, address: string, where: EditTarget = "both"): void {
    const a = this.aliases.get(alias);
    if (!a) return;
    if (where !== "table") a.content.push(address);
    // The UI's Apply reloads the table: what pf loads from the line, a range or host name included.
    if (where !== "config") for (const e of this.loadLine(address)) this.table(alias).add(e);
  }

  /**
   * Fills `alias` with `count` consecutive IPv4 hosts from `start` (config and/or live table), for
   * large-table tests (e.g. the 9999-row cap of alias_util/list). Linear, no validation; returns the range.
   */
  seedTable(alias: string, count: number, start = "10.128.0.0", where: EditTarget = "both"): { first: string; last: string; count: number } {
    const a = this.aliases.get(alias);
    if (!a) throw new Error(`no alias ${alias}`);
    const base = v4(start);
    const t = this.table(alias);
    for (let i = 0; i < count; i++) {
      const ip = v4s(base + i);
      if (where !== "table") a.content.push(ip);
      if (where !== "config") t.add(ip);
    }
    return { first: v4s(base), last: v4s(base + count - 1), count };
  }

  private table(alias: string): Set<string> {
    let t = this.tables.get(alias);
    if (!t) this.tables.set(alias, (t = new Set()));
    return t;
  }

  /** What pf loads for an alias: its addresses, with nested alias names resolved (filter refresh_aliases). */
  /** Every entry pf loads for the alias: nested aliases' content, then each line as base.py `iter_addresses` reads it. */
  private loadable(a: EmulatedAlias, depth = 0): string[] {
    return a.content.flatMap((l) => this.loadLine(l, depth));
  }

  private loadLine(line: string, depth = 0): string[] {
    const nested = this.aliases.get(line.trim());
    if (nested && depth < 4) return this.loadable(nested, depth + 1);
    return pfLoad(line, (host) => this.dns.get(host) ?? []);
  }

  /** ACB `throwReadOnly` (also what AMM `save` does): user-config-readonly may not write. */
  checkReadOnly(user: EmulatedUser): void {
    if (user.privileges.includes("user-config-readonly")) {
      throw new UserException(`User ${user.name} denied for write access (user-config-readonly set)`, this.traits.readOnlyTitle);
    }
  }

  /** Core/Config.php `save`: one revision with the user and key (ACB `setRevisionContext`). */
  private revision(user: EmulatedUser): void {
    this.configSaves++;
    this.revisions.push({ seq: this.configSaves, username: user.name, apiKey: user.key });
    if (this.revisions.length > BACKUP_COUNT) this.revisions.splice(0, this.revisions.length - BACKUP_COUNT);
  }

  /** AMM `save`: the read-only check, then a config revision. */
  save(user: EmulatedUser): void {
    this.checkReadOnly(user);
    this.revision(user);
  }

  /** AC `reconfigureAction`: reload every enabled host/network alias table from config (slow on a real device). */
  async reconfigure(): Promise<void> {
    this.reconfigureCount++;
    if (this.reconfigureLatencyMs > 0) await new Promise((r) => setTimeout(r, this.reconfigureLatencyMs));
    if (this.reconfigureError !== undefined) throw new UserException(this.reconfigureError, "Alias");
    for (const a of this.aliases.values()) {
      if (!ADDRESS_TYPES.has(a.type) && a.type !== "networkgroup") continue;
      if (a.enabled) this.tables.set(a.name, new Set(this.loadable(a)));
      else this.tables.delete(a.name);
    }
  }

  /**
   * AUC `addAction`. 26.7.1+: `throwReadOnly()` right after the lock, before the character check.
   * Host/network: the line goes to config (network: `/32`, or `/128` when `strpos(":")` is truthy, so
   * `::1` gets `/32`); the duplicate check is `!array_search()`, so a first-line address is appended
   * again (index-0 bug). The model save validates the content: a CIDR in a Host(s) alias throws a
   * ValidationException → HTTP 500 "Unexpected error", nothing saved, pf untouched (BaseModel
   * `serializeToConfig`). The save is Config::save, not AMM `save`: up to 26.7 no read-only check.
   */
  utilAdd(user: EmulatedUser, alias: string, address: string): { status: string; status_msg?: string } {
    if (this.traits.utilReadOnlyCheck) this.checkReadOnly(user);
    if (/[^0-9a-f:./_]/.test(address)) return { status: "not_an_address" };
    const a = this.aliases.get(alias);
    let entry = address;
    if (a && ADDRESS_TYPES.has(a.type)) {
      if (!address.includes("/") && a.type === "network") entry = `${address}/${address.indexOf(":") > 0 ? 128 : 32}`;
      if (a.content.indexOf(entry) <= 0) {
        const next = [...a.content, entry];
        if (contentProblems(a.type, next, (n) => this.isAlias(n), this.traits).length > 0) throw new UnexpectedError("ValidationException");
        a.content = next;
        this.revision(user);
      }
    }
    if (!a) return { status: "failed", status_msg: `nonexistent alias ${alias}` };
    const pf = pfForm(entry);
    if (pf) this.table(alias).add(pf);
    return { status: "done" };
  }

  /**
   * AUC `deleteAction`: 26.7.1+ read-only check; host/network: removes the first config line equal to
   * `ip/32` (`/128`; the address itself when it has a prefix) and then the first equal to the address
   * (so one of each per call); always "done", no character check. pf (scripts/filter/delete_table.py):
   * deleted only when a `pfctl -T show` line equals the argument exactly, so `10.0.0.1/32` leaves `10.0.0.1`.
   */
  utilDelete(user: EmulatedUser, alias: string, address: string): { status: string } {
    if (this.traits.utilReadOnlyCheck) this.checkReadOnly(user);
    const a = this.aliases.get(alias);
    if (a && ADDRESS_TYPES.has(a.type)) {
      const withMask = address.includes("/") ? address : `${address}/${address.indexOf(":") > 0 ? 128 : 32}`;
      let found = false;
      for (const item of [withMask, address]) {
        const idx = a.content.indexOf(item);
        if (idx >= 0) {
          a.content.splice(idx, 1);
          found = true;
        }
      }
      if (found) this.revision(user);
    }
    this.tables.get(alias)?.delete(address.trim());
    return { status: "done" };
  }

  /** AUC `flushAction`: 26.7.1+ read-only check; clears the live table only (config untouched). */
  utilFlush(user: EmulatedUser, alias: string): void {
    if (this.traits.utilReadOnlyCheck) this.checkReadOnly(user);
    this.tables.get(alias)?.clear();
  }
}

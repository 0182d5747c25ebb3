/**
 * Device state of the OPNsense emulator: aliases as stored in config.xml, the live pf tables, API
 * users and the reconfigure counter, with the device's rules and quirks (shared/reference/opnsense.md
 * §2–§3, §7). Written from the opnsense/core sources named per method; it shares nothing with the
 * client, so the two cannot share a mistake.
 */
import { randomUUID } from "node:crypto";
import { normaliseDeviceAddress } from "../address";

export type AliasType =
  | "host" | "network" | "port" | "url" | "urltable" | "urljson" | "geoip" | "networkgroup"
  | "mac" | "asn" | "dynipv6host" | "authgroup" | "internal" | "external";

export const ALIAS_TYPE_LABELS: Record<AliasType, string> = {
  host: "Host(s)", network: "Network(s)", port: "Port(s)", url: "URL (IPs)", urltable: "URL Table (IPs)",
  urljson: "URL Table in JSON format (IPs)", geoip: "GeoIP", networkgroup: "Network group", mac: "MAC address",
  asn: "BGP ASN", dynipv6host: "Dynamic IPv6 Host", authgroup: "OpenVPN group", internal: "Internal (automatic)",
  external: "External (advanced)",
};

export interface EmulatedAlias {
  uuid: string;
  name: string;
  type: AliasType;
  /** Config lines, in order, duplicates kept (the index-0 bug can create them). */
  content: string[];
  description: string;
  enabled: boolean;
  /** Referenced by a rule: `del_item` answers 500 "Alias in use". */
  inUse: boolean;
  /** Built-ins (static_aliases/core.json, `__<if>_network`) are not in config; uuid = name. */
  builtin: boolean;
}

export interface EmulatedUser {
  name: string;
  key: string;
  secret: string;
  /** Privilege keys, e.g. "page-diagnostics-tables", "user-config-readonly". */
  privileges: string[];
  disabled: boolean;
}

export interface AliasSpec {
  name: string;
  type: AliasType;
  content?: string[];
  description?: string;
  inUse?: boolean;
  uuid?: string;
}

/** Aliases that ship with every emulator (reference §2d built-ins) plus a few user aliases. */
export const DEFAULT_ALIASES: readonly AliasSpec[] = [
  { name: "jit_admins", type: "host", description: "Just-in-time admin access", inUse: true },
  { name: "jit_nets", type: "network", description: "Just-in-time networks", inUse: true },
  { name: "jit_runtime", type: "external", description: "Runtime-only grants" },
  { name: "web_ports", type: "port", content: ["80", "443"] },
  { name: "blocklist_url", type: "urltable", content: ["https://example.net/list.txt"] },
];

const BUILTINS: readonly AliasSpec[] = [
  { name: "bogons", type: "external", description: "bogon networks (internal)" },
  { name: "bogonsv6", type: "external", description: "bogon networks IPv6 (internal)" },
  { name: "sshlockout", type: "external", description: "abuse lockout table (internal)" },
  { name: "virusprot", type: "external", description: "overload table for rate limiting (internal)" },
  { name: "__lan_network", type: "internal", description: "LAN net" },
];

/** A UserException as api.php renders it: HTTP 500 with errorMessage/errorTitle. */
export class UserException extends Error {
  constructor(message: string, readonly title: string) {
    super(message);
  }
}

const ADDRESS_TYPES: ReadonlySet<AliasType> = new Set(["host", "network"]);

/** How pfctl prints a table entry: hosts without prefix, networks as ip/prefix. */
function pfForm(entry: string): string | undefined {
  return normaliseDeviceAddress(entry)?.canonical;
}

export class OpnsenseBackend {
  readonly aliases = new Map<string, EmulatedAlias>();
  readonly tables = new Map<string, Set<string>>();
  readonly users = new Map<string, EmulatedUser>();
  reconfigureCount = 0;
  reconfigureLatencyMs = 0;
  /** When set, `reconfigure` fails with this pfctl error (OPN200 tests). */
  reconfigureError: string | undefined;
  /** Config revisions written (one per save), for audit-style assertions. */
  configSaves = 0;

  constructor(
    private readonly initialAliases: readonly AliasSpec[],
    private readonly initialUsers: readonly EmulatedUser[],
    reconfigureLatencyMs: number,
  ) {
    this.reconfigureLatencyMs = reconfigureLatencyMs;
    this.reset();
  }

  reset(): void {
    this.aliases.clear();
    this.tables.clear();
    this.users.clear();
    this.reconfigureCount = 0;
    this.configSaves = 0;
    this.reconfigureError = undefined;
    for (const b of BUILTINS) this.putAlias({ ...b, uuid: b.name }, true);
    for (const a of this.initialAliases) this.addAlias(a);
    for (const u of this.initialUsers) this.putUser(u);
  }

  putUser(u: EmulatedUser): void {
    this.users.set(u.key, { ...u, privileges: [...u.privileges] });
  }

  /** Creates a user alias as an admin would (config + loaded table), for tests and control routes. */
  addAlias(spec: AliasSpec): EmulatedAlias {
    return this.putAlias(spec, false);
  }

  private putAlias(spec: AliasSpec, builtin: boolean): EmulatedAlias {
    const alias: EmulatedAlias = {
      uuid: spec.uuid ?? randomUUID(),
      name: spec.name,
      type: spec.type,
      content: [...(spec.content ?? [])],
      description: spec.description ?? "",
      enabled: true,
      inUse: spec.inUse ?? false,
      builtin,
    };
    this.aliases.set(alias.name, alias);
    if (alias.type !== "port") this.tables.set(alias.name, new Set(this.loadable(alias)));
    return alias;
  }

  byUuid(uuid: string): EmulatedAlias | undefined {
    return [...this.aliases.values()].find((a) => a.uuid === uuid);
  }

  /** Lines of config content (what get_item/search_item show). */
  configContent(alias: string): string[] {
    return [...(this.aliases.get(alias)?.content ?? [])];
  }

  /** Entries of the live pf table, as pfctl prints them. */
  tableContent(alias: string): string[] {
    return [...(this.tables.get(alias) ?? [])].sort();
  }

  /** An out-of-band edit (the UI plus Apply): removes every config copy and the live entry. */
  removeAddress(alias: string, address: string): void {
    const a = this.aliases.get(alias);
    const pf = pfForm(address);
    if (a) a.content = a.content.filter((l) => pfForm(l) !== pf || pf === undefined);
    if (pf) this.tables.get(alias)?.delete(pf);
  }

  /** An out-of-band add (the UI plus Apply). */
  insertAddress(alias: string, address: string): void {
    const a = this.aliases.get(alias);
    if (!a) return;
    a.content.push(address);
    const pf = pfForm(address);
    if (pf) this.tables.get(alias)?.add(pf);
  }

  private loadable(a: EmulatedAlias): string[] {
    return a.content.map(pfForm).filter((x): x is string => x !== undefined);
  }

  /** AMM `save` → ACB `throwReadOnly`: a user holding user-config-readonly may not save. */
  save(user: EmulatedUser): void {
    if (user.privileges.includes("user-config-readonly")) {
      throw new UserException(`User ${user.name} denied for write access (user-config-readonly set)`, "Access denied");
    }
    this.configSaves++;
  }

  /** AC `reconfigureAction`: reload every alias table from config (slow on a real device). */
  async reconfigure(): Promise<void> {
    this.reconfigureCount++;
    if (this.reconfigureLatencyMs > 0) await new Promise((r) => setTimeout(r, this.reconfigureLatencyMs));
    if (this.reconfigureError !== undefined) throw new UserException(this.reconfigureError, "Alias");
    for (const a of this.aliases.values()) {
      if (ADDRESS_TYPES.has(a.type)) this.tables.set(a.name, new Set(this.loadable(a)));
    }
  }

  /**
   * AUC `addAction`. Host/network: the line goes to config (network: `/32` or `/128` appended to a
   * bare IP) and to pf. The duplicate check is `!array_search()`, so an address that is already the
   * first line is appended again (the index-0 bug). Other types: pf only.
   */
  utilAdd(user: EmulatedUser, alias: string, address: string): { status: string; status_msg?: string } {
    if (!/^[0-9a-f:./_]+$/.test(address)) return { status: "not_an_address" };
    const a = this.aliases.get(alias);
    if (!a) return { status: "failed", status_msg: `nonexistent alias ${alias}` };
    if (ADDRESS_TYPES.has(a.type)) {
      const line = a.type === "network" && !address.includes("/") ? `${address}/${address.includes(":") ? 128 : 32}` : address;
      const idx = a.content.indexOf(line);
      if (idx <= 0) {
        this.save(user);
        a.content.push(line);
      }
    }
    const pf = pfForm(address);
    if (pf) {
      if (!this.tables.has(alias)) this.tables.set(alias, new Set());
      this.tables.get(alias)!.add(pf);
    }
    return { status: "done" };
  }

  /** AUC `deleteAction`: removes ONE config occurrence (tries `ip`, then `ip/32`) and the pf entry; always "done". */
  utilDelete(user: EmulatedUser, alias: string, address: string): { status: string } {
    if (!/^[0-9a-f:./_]+$/.test(address)) return { status: "not_an_address" };
    const a = this.aliases.get(alias);
    if (a && ADDRESS_TYPES.has(a.type)) {
      let idx = a.content.indexOf(address);
      if (idx < 0) idx = a.content.indexOf(`${address}/32`); // only /32, also for IPv6 (AUC deleteAction)
      if (idx >= 0) {
        this.save(user);
        a.content.splice(idx, 1);
      }
    }
    const pf = pfForm(address);
    if (pf) this.tables.get(alias)?.delete(pf);
    return { status: "done" };
  }

  /** AUC `flushAction`: clears the live table only. */
  utilFlush(alias: string): void {
    this.tables.get(alias)?.clear();
  }

  /** Validates content for `set_item` (AliasContentField), returning device messages. */
  contentProblems(type: AliasType, lines: readonly string[]): string[] {
    if (!ADDRESS_TYPES.has(type)) return [];
    const problems: string[] = [];
    for (const l of lines) {
      const ok =
        normaliseDeviceAddress(l.replace(/^!/, "")) !== undefined ||
        this.aliases.has(l) ||
        (type === "host" && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(l));
      if (!ok) problems.push(type === "host" ? `Entry "${l}" is not a valid hostname, IP address or range.` : `Entry "${l}" is not a network.`);
    }
    return problems;
  }
}

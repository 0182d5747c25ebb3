/**
 * Data types, built-in aliases and exception classes of the OPNsense emulator (docs/reference/opnsense.md
 * §1, §2d): Alias.xml field shapes, static_aliases/core.json built-ins, and the two exception kinds
 * www/api.php tells apart (UserException → 500 with errorTitle; anything else → 500 "Unexpected error").
 */
export type AliasType =
  | "host"
  | "network"
  | "port"
  | "url"
  | "urltable"
  | "urljson"
  | "geoip"
  | "networkgroup"
  | "mac"
  | "asn"
  | "dynipv6host"
  | "authgroup"
  | "internal"
  | "external";

/** Option labels of Alias.xml `type` (what ≤25.1 search rows and get_item show). */
export const ALIAS_TYPE_LABELS: Record<AliasType, string> = {
  host: "Host(s)",
  network: "Network(s)",
  port: "Port(s)",
  url: "URL (IPs)",
  urltable: "URL Table (IPs)",
  urljson: "URL Table in JSON format (IPs)",
  geoip: "GeoIP",
  networkgroup: "Network group",
  mac: "MAC address",
  asn: "BGP ASN",
  dynipv6host: "Dynamic IPv6 Host",
  authgroup: "OpenVPN group",
  internal: "Internal (automatic)",
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
  /** The model's other stored fields (alias-fields.ts) as config.xml strings; absent ones hold the model default. */
  fields?: Readonly<Record<string, string>>;
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
  enabled?: boolean;
}

/** One config revision (Core/Config.php `updateRevision`: username and the API key that saved). */
export interface ConfigRevision {
  readonly seq: number;
  readonly username: string;
  readonly apiKey: string;
}

/** Where an out-of-band edit lands: config only (drift until reconfigure), live table only, or both. */
export type EditTarget = "config" | "table" | "both";

/** Aliases that ship with every emulator (reference §2d built-ins) plus a few user aliases. */
export const DEFAULT_ALIASES: readonly AliasSpec[] = [
  { name: "jit_admins", type: "host", description: "Just-in-time admin access", inUse: true },
  { name: "jit_nets", type: "network", description: "Just-in-time networks", inUse: true },
  { name: "jit_runtime", type: "external", description: "Runtime-only grants" },
  { name: "web_ports", type: "port", content: ["80", "443"] },
  { name: "blocklist_url", type: "urltable", content: ["https://example.net/list.txt"] },
];

export const BUILTINS: readonly AliasSpec[] = [
  { name: "bogons", type: "external", description: "bogon networks (internal)" },
  { name: "bogonsv6", type: "external", description: "bogon networks IPv6 (internal)" },
  { name: "sshlockout", type: "external", description: "abuse lockout table (internal)" },
  { name: "virusprot", type: "external", description: "overload table for rate limiting (internal)" },
  { name: "__lan_network", type: "internal", description: "LAN net" },
];

/** How long `reconfigure` takes unless told (device timing is not verified, docs/variants.md). */
export const DEFAULT_RECONFIGURE_LATENCY_MS = 0;

/** Core/Config.php `cleanupBackups`: `backupcount` default 100 revisions are kept. */
export const BACKUP_COUNT = 100;

/** A UserException as api.php renders it: HTTP 500 with errorMessage/errorTitle. */
export class UserException extends Error {
  constructor(
    message: string,
    readonly title: string,
  ) {
    super(message);
  }
}

/** Any other exception (ValidationException, PHP warnings): api.php answers 500 "Unexpected error". */
export class UnexpectedError extends Error {}

/**
 * How FortiManager values look on the wire: enum fields as names with `verbose: 1` and as numbers
 * without (JPF-001 "Working with symbolic (human readable) values": `get` "returns by default a JSON
 * output with numerical values"; writes accept either form), and the trusted-host value forms.
 */
import { isIPv4, isIPv6 } from "node:net";

/**
 * Enum choices in the order of the Ansible collection's arg specs (ANS-ADMINUSER, ANS-ADMINPROFILE,
 * `fmgr_system_global.py`), which are generated from the device schema. The number of a name is taken
 * to be its index: that matches every number a source shows (pyFMG `check_mode`: `workspace-mode` 0 =
 * disabled, `adom-status` 1 = enable; the non-verbose ADOM sample of the alternative-API page:
 * `mode` 1 = gms, `restricted_prds` 1 = fos). For the other fields the numbers are UNCONFIRMED.
 */
const ACCESS = ["none", "read", "read-write"] as const;
const TOGGLE = ["disable", "enable"] as const;
export const ENUMS: Readonly<Record<string, readonly string[]>> = {
  "rpc-permit": ["read-write", "none", "read", "from-profile"],
  user_type: ["local", "radius", "ldap", "tacacs-plus", "pki-auth", "group", "sso", "api"],
  "adom-access": ["all", "specify", "exclude", "per-adom-profile"],
  "two-factor-auth": ["disable", "enable", "password", "ftc-ftm", "ftc-email", "ftc-sms"],
  "change-password": TOGGLE,
  "force-password-change": TOGGLE,
  wildcard: TOGGLE,
  "ext-auth-accprofile-override": TOGGLE,
  "ext-auth-adom-override": TOGGLE,
  fortiai: TOGGLE,
  "super-user-profile": TOGGLE,
  "system-setting": ACCESS,
  "adom-switch": ACCESS,
  "device-manager": ACCESS,
  "policy-objects": ACCESS,
  "adom-lock": ACCESS,
  "deploy-management": ACCESS,
  type: ["system", "restricted"],
  scope: ["global", "adom"],
  "workspace-mode": ["disabled", "normal", "workflow", "per-adom"],
  "adom-status": TOGGLE,
  mode: ["ems", "gms", "provider"],
};

/**
 * ADOM `restricted_prds` is a bit set over `fmgr_dvmdb_adom.py`'s choice order: the non-verbose root
 * ADOM shows 1 where the verbose one shows "fos" (alternative-API page vs 007_device_management).
 * `flags` is left out of ADOM entries: its bits do not follow the choice order (136 and 2056 in
 * samples whose names are not shown), so no number for a name can be sourced.
 */
const BITSETS: Readonly<Record<string, readonly string[]>> = { restricted_prds: ["fos", "foc", "fml", "fch", "fwb", "log", "fct", "faz", "fsa", "fsw", "fmg"] };

/** Profile-level `rpc-permit` has no `from-profile` (ANS-ADMINPROFILE choices). */
const PROFILE_ENUMS: Readonly<Record<string, readonly string[]>> = { ...ENUMS, "rpc-permit": ["read-write", "none", "read"] };

export type EnumTable = "admin" | "profile" | "other";

function table(kind: EnumTable): Readonly<Record<string, readonly string[]>> {
  return kind === "profile" ? PROFILE_ENUMS : ENUMS;
}

/** A record as `get` answers it: names when `verbose`, else each known enum field as its number. */
export function toWire<T extends Record<string, unknown>>(record: T, verbose: boolean, kind: EnumTable = "other"): Record<string, unknown> {
  if (verbose) return record;
  const enums = table(kind);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    const choices = enums[k];
    const bits = BITSETS[k];
    const i = typeof v === "string" && choices ? choices.indexOf(v) : -1;
    const b = typeof v === "string" && bits ? bits.indexOf(v) : -1;
    // ADOM `os_ver` "7.0" (verbose) is 7 without verbose (the two ADOM samples above).
    out[k] = i >= 0 ? i : b >= 0 ? 1 << b : k === "os_ver" && typeof v === "string" ? Number.parseInt(v, 10) : v;
  }
  return out;
}

/** A written enum value as its name (writes take the name or the number, JPF-001); undefined when invalid. */
export function enumFromWire(field: string, value: unknown, kind: EnumTable = "admin"): string | undefined {
  const choices = table(kind)[field];
  if (!choices) return undefined;
  if (typeof value === "number" && Number.isInteger(value)) return choices[value];
  return typeof value === "string" && choices.includes(value) ? value : undefined;
}

/** A prefix length as the dotted mask the device stores (`ip/len` is kept as `ip mask`, FMG722-NF). */
function prefixToMask(prefix: number): string {
  const n = 2 ** 32 - 2 ** (32 - prefix);
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/** The prefix length of a dotted netmask; undefined for a non-contiguous one, which the device refuses (-10). */
function maskToPrefix(mask: string): number | undefined {
  if (!isIPv4(mask)) return undefined;
  const hostBits = 2 ** 32 - 1 - mask.split(".").reduce((n, o) => n * 256 + Number(o), 0);
  const free = Math.log2(hostBits + 1);
  return Number.isInteger(free) ? 32 - free : undefined;
}

/**
 * An IPv4 trusted-host value as written: Terraform sends `["ip","mask"]` (TF-RES-ADMINUSER); Ansible
 * types `trusthostN` as `str` and passes `"ip mask"` through (ANS-ADMINUSER); the CLI takes
 * `ip/len` and stores it as `ip mask` (FMG722-NF). String forms over JSON are UNCONFIRMED on a device
 * (reference §4), accepted here because the Ansible collection sends them. A non-contiguous mask is
 * refused (-10).
 */
export function ipv4SlotFromWire(v: unknown): [string, string] | undefined {
  let ip: unknown;
  let mask: unknown;
  if (Array.isArray(v) && v.length === 2) [ip, mask] = v;
  else if (typeof v === "string") {
    const m = /^\s*([0-9.]+)\s*(?:\/\s*(\d{1,2}|[0-9.]+)|\s+([0-9.]+))\s*$/.exec(v);
    if (!m) return undefined;
    ip = m[1];
    const tail = m[2] ?? m[3]!;
    mask = /^\d{1,2}$/.test(tail) ? (Number(tail) <= 32 ? prefixToMask(Number(tail)) : undefined) : tail;
  }
  if (typeof ip !== "string" || typeof mask !== "string" || !isIPv4(ip) || maskToPrefix(mask) === undefined) return undefined;
  return [ip, mask];
}

/** IPv6 slots are strings `addr/len` on read and write (JPF-CFG sample, ANS-ADMINUSER `str`). */
export function ipv6SlotFromWire(v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(v.trim());
  return m && isIPv6(m[1]!) && Number(m[2]) <= 128 ? v.trim().toLowerCase() : undefined;
}

/** Object names escape `/` as `\/` inside the url (reference §2). */
export function unescapeMkey(s: string): string {
  return s.replace(/\\\//g, "/");
}

/** `fields: [...]` beside `url` (reference §2 get params). */
export function pickFields<T>(data: T, fields: unknown): T {
  if (!Array.isArray(fields)) return data;
  const pick = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([k]) => fields.includes(k)));
  return (Array.isArray(data) ? data.map(pick) : pick(data as Record<string, unknown>)) as T;
}

/**
 * The one parser for grant addresses. Every hostile-input rule lives here, so that every device
 * refuses the same inputs for the same reasons, before any request is built (SPEC §8).
 *
 * Accepted: one IPv4 or IPv6 address, optionally with a prefix length, in the strict textual form.
 * Refused, each with its own rule: any character outside the address alphabet (spaces, newlines,
 * commas, NUL, zone ids `%eth0`, Unicode digits), leading-zero / octal / hex / short IPv4 forms
 * (`010.1.1.1`, `0x7f.1`, `127.1`), IPv4-mapped or embedded-IPv4 IPv6, host bits set in a CIDR
 * (`10.0.0.1/24` is refused, not silently widened or narrowed), and prefixes broader than /8 (IPv4)
 * or /32 (IPv6) unless `allowBroad` is set.
 *
 * Canonical form: a host is written without prefix (`203.0.113.7`, `2001:db8::1`), a network as
 * `address/prefix`; IPv6 is lower case and compressed per RFC 5952. `203.0.113.7` and
 * `203.0.113.7/32` are the same grant.
 */

export type IpFamily = 4 | 6;

export interface GrantAddress {
  readonly family: IpFamily;
  /** Canonical address part, e.g. `203.0.113.0` or `2001:db8::`. */
  readonly ip: string;
  readonly prefix: number;
  /** True for /32 (IPv4) or /128 (IPv6). */
  readonly isHost: boolean;
  /** The canonical form: `ip` for a host, `ip/prefix` for a network. */
  readonly canonical: string;
  /** Always `ip/prefix`. */
  readonly cidr: string;
}

export type AddressResult = { readonly ok: true; readonly address: GrantAddress } | { readonly ok: false; readonly rule: string };

export interface AddressRules {
  /** Allow prefixes broader than /8 (IPv4) or /32 (IPv6), including /0. @default false */
  readonly allowBroad?: boolean | undefined;
}

export const MAX_ADDRESS_LENGTH = 64;
export const BROADEST_IPV4_PREFIX = 8;
export const BROADEST_IPV6_PREFIX = 32;

const CHAR_NAMES: Record<string, string> = {
  "\n": "a newline",
  "\r": "a carriage return",
  "\t": "a tab",
  " ": "a space",
  ",": "a comma",
  "\0": "a NUL byte",
  "%": "a zone id (%)",
  ";": "a semicolon",
};

function describeChar(c: string): string {
  return CHAR_NAMES[c] ?? `the character ${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")})`;
}

const fail = (rule: string): AddressResult => ({ ok: false, rule });

/** An IPv4 host already in canonical form (four decimal octets 0–255, no leading zero, no prefix). */
const CANONICAL_IPV4_HOST = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;

/** Parses and normalises one grant address; never throws. */
export function parseAddress(raw: unknown, rules: AddressRules = {}): AddressResult {
  // The common case in one test: the full parse below accepts exactly this form unchanged (a 50,000-line alias, issue 22).
  if (typeof raw === "string" && CANONICAL_IPV4_HOST.test(raw)) {
    return { ok: true, address: { family: 4, ip: raw, prefix: 32, isHost: true, canonical: raw, cidr: `${raw}/32` } };
  }
  if (typeof raw !== "string") return fail("must be a string holding one IPv4 or IPv6 address or CIDR");
  if (raw.length === 0) return fail("must not be empty: give one IPv4 or IPv6 address or CIDR");
  if (raw.length > MAX_ADDRESS_LENGTH) return fail(`must be at most ${MAX_ADDRESS_LENGTH} characters (one address or CIDR)`);
  const bad = [...raw].find((c) => !/[0-9a-fA-F:./]/.test(c));
  if (bad !== undefined) {
    return fail(
      `must be exactly one IPv4 or IPv6 address or CIDR: it contains ${describeChar(bad)}${/[g-zG-Z]/.test(bad) ? " (host names are not accepted)" : ""}`,
    );
  }
  const slash = raw.split("/");
  if (slash.length > 2) return fail("must hold at most one '/' (address/prefix)");
  const [ipPart = "", prefixPart] = slash;
  const family: IpFamily | undefined = ipPart.includes(":") ? 6 : /^[0-9.]+$/.test(ipPart) ? 4 : undefined;
  if (family === undefined) return fail("must be an IPv4 address in dotted-decimal form or an IPv6 address (host names are not accepted)");

  const parsed = family === 4 ? parseIpv4(ipPart) : parseIpv6(ipPart);
  if (typeof parsed === "string") return fail(parsed);

  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (prefixPart !== undefined) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixPart)) return fail(`prefix length must be a decimal number from 0 to ${max} without leading zeros`);
    prefix = Number(prefixPart);
    if (prefix > max) return fail(`prefix length must be from 0 to ${max} for IPv${family}`);
  }
  const hostBits = maskOff(parsed, prefix, max);
  if (hostBits !== parsed) {
    const net = family === 4 ? formatIpv4(hostBits) : formatIpv6(hostBits);
    return fail(`has host bits set beyond /${prefix}: write the network address ${net}/${prefix}, or the single host without a prefix`);
  }
  const broadest = family === 4 ? BROADEST_IPV4_PREFIX : BROADEST_IPV6_PREFIX;
  if (prefix < broadest && rules.allowBroad !== true) {
    return fail(
      `prefix /${prefix} is broader than /${broadest} for IPv${family} and would open the firewall to a large range: set allowBroad: true if that is really intended`,
    );
  }
  const ip = family === 4 ? formatIpv4(parsed) : formatIpv6(parsed);
  const isHost = prefix === max;
  return { ok: true, address: { family, ip, prefix, isHost, canonical: isHost ? ip : `${ip}/${prefix}`, cidr: `${ip}/${prefix}` } };
}

/** Parses or throws an Error naming the rule; for values that were validated at `check` already. */
export function mustParseAddress(raw: string, rules: AddressRules = { allowBroad: true }): GrantAddress {
  const r = parseAddress(raw, rules);
  if (!r.ok) throw new Error(`invalid address ${JSON.stringify(raw)}: ${r.rule}`);
  return r.address;
}

/**
 * Normalises an address as a device reports it (lenient on host bits and breadth, since a device may
 * hold anything); `undefined` when it is not a plain IP/CIDR (an alias name, a range, an FQDN).
 */
export function normaliseDeviceAddress(raw: string): GrantAddress | undefined {
  const r = parseAddress(raw.trim(), { allowBroad: true });
  return r.ok ? r.address : undefined;
}

/** True when two address strings denote the same grant. */
export function sameAddress(a: string, b: string): boolean {
  const x = normaliseDeviceAddress(a);
  const y = normaliseDeviceAddress(b);
  return x !== undefined && y !== undefined && x.cidr === y.cidr;
}

/** `24` → `255.255.255.0`. */
export function prefixToMask(prefix: number): string {
  return formatIpv4(prefix === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - prefix)) - 1n));
}

/** `255.255.255.0` → `24`; `undefined` for a non-contiguous or malformed mask. */
export function maskToPrefix(mask: string): number | undefined {
  const v = parseIpv4(mask);
  if (typeof v === "string") return undefined;
  const bits = v.toString(2).padStart(32, "0");
  const ones = bits.indexOf("0") === -1 ? 32 : bits.indexOf("0");
  return /^1*0*$/.test(bits) ? ones : undefined;
}

function parseIpv4(s: string): bigint | string {
  const parts = s.split(".");
  if (parts.length !== 4) return "IPv4 must have exactly four dotted-decimal octets (short forms like 127.1 are refused)";
  let v = 0n;
  for (const p of parts) {
    if (p === "") return "IPv4 has an empty octet";
    if (!/^[0-9]+$/.test(p)) return "IPv4 octets must be decimal digits (hex forms are refused)";
    if (p.length > 1 && p.startsWith("0")) return `IPv4 octet "${p}" has a leading zero, which some systems read as octal: write it without leading zeros`;
    const n = Number(p);
    if (n > 255) return `IPv4 octet ${p} is larger than 255`;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseIpv6(s: string): bigint | string {
  if (s.includes(".")) return "IPv6 with an embedded or IPv4-mapped IPv4 address (::ffff:a.b.c.d) is refused: write the IPv4 address itself";
  const halves = s.split("::");
  if (halves.length > 2) return "IPv6 may contain '::' only once";
  const group = (h: string) => (h === "" ? [] : h.split(":"));
  const head = group(halves[0] ?? "");
  const tail = halves.length === 2 ? group(halves[1] ?? "") : [];
  const groups = halves.length === 2 ? [...head, ...Array<string>(8 - head.length - tail.length).fill("0"), ...tail] : head;
  if (groups.length !== 8 || (halves.length === 2 && head.length + tail.length > 7)) return "IPv6 must have eight groups (or fewer with one '::')";
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return "IPv6 groups must be one to four hex digits";
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (v >> 32n === 0xffffn) return "IPv4-mapped IPv6 (::ffff:0:0/96) is refused: write the IPv4 address itself";
  return v;
}

function maskOff(v: bigint, prefix: number, max: number): bigint {
  const hostBits = BigInt(max - prefix);
  return (v >> hostBits) << hostBits;
}

function formatIpv4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => ((v >> s) & 255n).toString()).join(".");
}

/** RFC 5952: lower case, no leading zeros, the longest run (≥ 2) of zero groups as `::`, leftmost on ties. */
function formatIpv6(v: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((v >> BigInt((7 - i) * 16)) & 0xffffn));
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

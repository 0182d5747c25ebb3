/**
 * The alias model's validation as the OPNsense emulator applies it, written from opnsense/core
 * (Firewall/Util.php `isIpAddress`/`isSubnet`/`isWildcard`/`isDomain`, FieldTypes/AliasContentField.php
 * `validateHost`/`validateNetwork`/`validateNestedAlias`, FieldTypes/AliasNameField.php; messages verbatim).
 * Independent of the client's address parser on purpose: a Host(s) alias refuses `10.0.0.1/32` here
 * because Util `isIpAddress` is PHP `FILTER_VALIDATE_IP`, which refuses any `/`.
 */
import { isIP } from "node:net";
import type { OpnsenseVersionTraits } from "./version";

/** Util `isIpAddress`: PHP FILTER_VALIDATE_IP (no prefix, no zone id, no leading zeros). */
export function isIpAddress(s: string): boolean {
  return !s.includes("%") && isIP(s) !== 0;
}

/** Util `isSubnet`: `ip/digits`, at most 128 for IPv6 and 32 for IPv4. */
export function isSubnet(s: string): boolean {
  const p = s.split("/");
  if (p.length !== 2 || !isIpAddress(p[0]!) || !/^\d+$/.test(p[1]!)) return false;
  return p[0]!.includes(":") ? Number(p[1]) <= 128 : Number(p[1]) <= 32;
}

/** Util `isWildcard`: `ip/ip` of one family (e.g. `10.0.0.0/255.0.255.0`). */
export function isWildcard(s: string): boolean {
  const p = s.split("/");
  return p.length === 2 && isIpAddress(p[0]!) && isIpAddress(p[1]!) && p[0]!.includes(":") === p[1]!.includes(":");
}

const DOMAIN = /^(?:(?:[a-z\p{L}0-9]|[a-z\p{L}0-9][a-z\p{L}0-9-]*[a-z\p{L}0-9])\.)*(?:[a-z\p{L}0-9]|[a-z\p{L}0-9][a-z\p{L}0-9-]*[a-z\p{L}0-9])$/iu;

/** Util `isDomain`: RFC 1123 labels; a dotted all-digit form is never a hostname. */
export function isDomain(s: string): boolean {
  const parts = s.split(".");
  if (/^\d+$/.test(parts[0]!) && /^\d+$/.test(parts[parts.length - 1]!)) return false;
  return DOMAIN.test(s);
}

/**
 * Messages for alias `content` lines of `type` (ACF; content is split on "\n" only). Types the
 * emulator does not check (port, url*, geoip, mac, asn, …) pass; an empty content is not validated.
 */
export function contentProblems(type: string, lines: readonly string[], isAlias: (name: string) => boolean, traits: OpnsenseVersionTraits): string[] {
  if (lines.length === 0) return [];
  const out: string[] = [];
  for (const l of lines) {
    if (type === "host") {
      const range = l.split("-");
      const hostMsg = `Entry "${l}" is not a valid hostname, IP address or range.`;
      if (range.length === 2 && isIpAddress(range[0]!) && (traits.hostRangeStrict || isIpAddress(range[1]!))) {
        if (!isIpAddress(range[1]!)) out.push(hostMsg); // 25.7+: `ip-junk` is a broken range, not a hostname
      } else if (l.startsWith("!") && isIpAddress(l.slice(1))) {
        continue;
      } else if (!isAlias(l) && !isIpAddress(l) && !isDomain(l)) out.push(hostMsg);
    } else if (type === "network") {
      const tokens = l.split("-");
      const ips = tokens.filter(isIpAddress).length;
      const others = tokens.filter((t) => !isIpAddress(t) && t.trim() !== "").length;
      const neg = l.slice(1);
      if (l.startsWith("!") && (isIpAddress(neg) || isSubnet(neg) || isWildcard(neg))) continue;
      if (!isAlias(l) && !isIpAddress(l) && !isSubnet(l) && !isWildcard(l) && !(ips === 2 && others === 0)) out.push(`Entry "${l}" is not a network.`);
    } else if (type === "networkgroup") {
      if (!isAlias(l)) out.push(`Entry "${l}" is not a valid alias.`);
    }
  }
  return out;
}

/** A sample of AliasNameField's pf reserved words (the device lists ~120; all are refused case-sensitively). */
const RESERVED = new Set(
  (
    "all allow-opts altq anchor antispoof any bandwidth binat block buckets code debug drop file flags floating flush for fragment from " +
    "global group hostid in include inet inet6 interval keep label limit load log max nat no on os out overload pass port prio priority " +
    "proto queue quick random rdr return route rule scrub set state table tag tagged to user"
  ).split(" "),
);
/** Names from /etc/services and getprotobyname the device refuses (a sample). */
const SERVICES = new Set(["tcp", "udp", "icmp", "icmp6", "ipv6", "gre", "esp", "ah", "http", "https", "ssh", "domain", "ftp", "smtp", "ntp", "snmp", "telnet"]);

/** AliasNameField messages for `name`, or undefined when it is valid (uniqueness is checked by the caller). */
export function nameProblem(name: string): string | undefined {
  if (!/^([a-zA-Z]|(([_a-zA-Z][a-zA-Z0-9]|[a-zA-Z][_a-zA-Z0-9])[_a-zA-Z0-9]{0,29}))$/.test(name)) {
    return "The name must start with a letter or single underscore, be less than 32 characters and only consist of alphanumeric characters or underscores.";
  }
  if (RESERVED.has(name)) return 'The name cannot be the internally reserved keyword "%s".';
  if (SERVICES.has(name)) return "Reserved protocol or service names may not be used";
  return undefined;
}

/**
 * OPNsense alias-name rules, as the firewall itself applies them (opnsense/core
 * models/OPNsense/Firewall/FieldTypes/AliasNameField.php; shared/reference/opnsense.md §2d), so that
 * `check` refuses a name the device would refuse — and any name that could address another URL.
 */

/** 1–31 chars; a letter or one leading `_`, then `[A-Za-z0-9_]` (HEAD regex, reference §2d). */
export const ALIAS_NAME_PATTERN = /^([a-zA-Z]|(([_a-zA-Z][a-zA-Z0-9]|[a-zA-Z][_a-zA-Z0-9])[_a-zA-Z0-9]{0,29}))$/;

/**
 * pf reserved words (AliasNameField.php `$reservedwords`, from pfctl parse.y). Entries with a `-` can
 * never pass the pattern; they are kept so the list reads like its source.
 */
export const PF_RESERVED_WORDS: ReadonlySet<string> = new Set([
  "all", "allow-opts", "altq", "anchor", "antispoof", "any", "bandwidth", "binat", "binat-anchor", "bitmask",
  "block", "block-policy", "buckets", "cbq", "code", "codelq", "crop", "debug", "divert-reply", "divert-to",
  "drop", "drop-ovl", "dup-to", "fail-policy", "fairq", "fastroute", "file", "fingerprints", "flags",
  "floating", "flush", "for", "fragment", "from", "global", "group", "hfsc", "hogs", "hostid", "icmp-type",
  "icmp6-type", "if-bound", "in", "include", "inet", "inet6", "interval", "keep", "label", "limit",
  "linkshare", "load", "log", "loginterface", "max", "max-mss", "max-src-conn", "max-src-conn-rate",
  "max-src-nodes", "max-src-states", "min-ttl", "modulate", "nat", "nat-anchor", "no", "no-df", "no-route",
  "no-sync", "on", "optimization", "os", "out", "overload", "pass", "port", "prio", "priority", "priq",
  "probability", "proto", "qlimit", "queue", "quick", "random", "random-id", "rdr", "rdr-anchor", "realtime",
  "reassemble", "reply-to", "require-order", "return", "return-icmp", "return-icmp6", "return-rst",
  "round-robin", "route", "route-to", "rtable", "rule", "ruleset-optimization", "scrub", "set", "set-tos",
  "skip", "sloppy", "source-hash", "source-track", "state", "state-defaults", "state-policy", "static-port",
  "sticky-address", "synproxy", "table", "tag", "tagged", "target", "tbrsize", "timeout", "to", "tos", "ttl",
  "upperlimit", "urpf-failed", "user",
]);

/**
 * Common names from a FreeBSD `/etc/services` and `/etc/protocols`: the device refuses any name that
 * `getservbyname`/`getprotobyname` knows. The firewall's own files are authoritative; this list
 * catches the usual ones before a request is made.
 */
export const SERVICE_AND_PROTOCOL_NAMES: ReadonlySet<string> = new Set([
  "ip", "icmp", "igmp", "ggp", "ipencap", "st2", "tcp", "cbt", "egp", "igp", "pup", "udp", "hmp", "rdp",
  "ipv6", "gre", "esp", "ah", "ospf", "pim", "vrrp", "carp", "pfsync", "sctp", "udplite", "etherip", "l2tp",
  "echo", "discard", "daytime", "ftp", "ssh", "telnet", "smtp", "time", "domain", "bootps", "bootpc", "tftp",
  "gopher", "finger", "http", "www", "kerberos", "pop3", "sunrpc", "auth", "nntp", "ntp", "netbios", "imap",
  "snmp", "bgp", "irc", "ldap", "https", "syslog", "printer", "submission", "ldaps", "imaps", "pop3s", "nfsd",
  "openvpn", "radius", "mysql", "postgresql", "rsync", "isakmp", "ipsec", "socks", "sip", "xmpp", "dns",
]);

/** Why `name` would be refused as an alias name, or `undefined` when it is acceptable. */
export function aliasNameProblem(name: string): string | undefined {
  if (!ALIAS_NAME_PATTERN.test(name)) {
    return "must be 1-31 characters, start with a letter or a single underscore, and hold only letters, digits and underscores (OPNsense alias name rule)";
  }
  if (PF_RESERVED_WORDS.has(name)) return `"${name}" is a pf reserved word, which OPNsense refuses as an alias name`;
  if (SERVICE_AND_PROTOCOL_NAMES.has(name)) return `"${name}" is a service or protocol name, which OPNsense refuses as an alias name`;
  return undefined;
}

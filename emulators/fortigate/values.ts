/**
 * Value rules of the FortiGate emulator's address tables: subnet and IPv6 prefix forms, and the fields
 * each object `type` carries (docs/reference/fortigate.md §2a "firewall/address body").
 */

/** `firewall/address` types [SW-CMDB POST schema; HFX-HELP `firewall/_helpers/address.py`]. */
export const ADDRESS_TYPES = ["ipmask", "iprange", "fqdn", "geography", "wildcard", "dynamic", "interface-subnet", "mac"] as const;
/** `firewall/address6` types [SW-CMDB; HFX-HELP]. */
export const ADDRESS6_TYPES = ["ipprefix", "iprange", "fqdn", "geography", "dynamic", "template", "mac"] as const;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const ipv4Int = (s: string): number | undefined => {
  const m = IPV4.exec(s);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) return undefined;
  return m.slice(1).reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
};
const dotted = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
const prefixMask = (p: number) => (p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0);
export const isIpv4 = (s: unknown): s is string => typeof s === "string" && ipv4Int(s) !== undefined;

/**
 * `"a.b.c.d/len"`, `"a.b.c.d m.m.m.m"`, `"a.b.c.d/m.m.m.m"` or a bare address (a /32) → `"a.b.c.d m.m.m.m"`,
 * the only form the device reads back [VG#20, PFGT#217, PFGT-T "Change IP Mask", R7]. A mask that is not
 * contiguous is refused ("Invalid masks are rejected", BATFISH #6733). Host bits are kept: the CLI masks
 * them, REST is unverified (reference "Not verified").
 */
export function normaliseSubnet(raw: unknown): string | undefined {
  if (typeof raw !== "string") return undefined;
  const m = /^(\S+?)(?:\s+(\S+)|\/(\S+))?$/.exec(raw.trim());
  if (!m || ipv4Int(m[1]!) === undefined) return undefined;
  const maskText = m[2] ?? m[3];
  let mask: number;
  if (maskText === undefined) mask = prefixMask(32);
  else if (/^\d{1,2}$/.test(maskText)) {
    if (Number(maskText) > 32) return undefined;
    mask = prefixMask(Number(maskText));
  } else {
    const n = ipv4Int(maskText);
    if (n === undefined) return undefined;
    mask = n;
  }
  // Contiguous: the inverted mask plus one is a power of two.
  const inv = ~mask >>> 0;
  if ((inv & (inv + 1)) !== 0) return undefined;
  return `${m[1]} ${dotted(mask)}`;
}

/** `ip6` is held as "addr/prefix"; a bare address is a /128. */
export function normaliseIp6(raw: unknown): string | undefined {
  if (typeof raw !== "string" || !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(raw.trim()) || !raw.includes(":")) return undefined;
  const v = raw.trim().toLowerCase();
  if (v.includes("/") && Number(v.split("/")[1]) > 128) return undefined;
  return v.includes("/") ? v : `${v}/128`;
}

/** An IPv4 wildcard `"ip mask"` (any mask, not only contiguous ones, SW-CMDB `wildcard`). */
function normaliseWildcard(raw: unknown): string | undefined {
  if (typeof raw !== "string") return undefined;
  const [ip, mask, extra] = raw.trim().split(/\s+/);
  return extra === undefined && isIpv4(ip) && isIpv4(mask) ? `${ip} ${mask}` : undefined;
}

/** The type-specific fields of an object after a POST or a partial PUT, or the name of the bad field. */
export function typeFields(
  family: "ipv4" | "ipv6",
  type: string,
  body: Record<string, unknown>,
  prev: Readonly<Record<string, string>>,
): { fields: Record<string, string> } | { bad: string } {
  const fields: Record<string, string> = { ...prev };
  const take = (key: string, norm: (v: unknown) => string | undefined, fallback?: string): string | undefined => {
    const raw = body[key];
    if (raw === undefined) {
      if (fields[key] === undefined && fallback !== undefined) fields[key] = fallback;
      return undefined;
    }
    const v = norm(raw);
    if (v === undefined) return key;
    fields[key] = v;
    return undefined;
  };
  const str = (max: number) => (v: unknown) => (typeof v === "string" && v.length <= max ? v : undefined);
  const ip6 = (v: unknown) => (typeof v === "string" && v.includes(":") && normaliseIp6(v) !== undefined ? v.toLowerCase() : undefined);
  const bad =
    family === "ipv4"
      ? (take("subnet", normaliseSubnet, "0.0.0.0 0.0.0.0") ??
        take("start-ip", (v) => (isIpv4(v) ? v : undefined), "0.0.0.0") ??
        take("end-ip", (v) => (isIpv4(v) ? v : undefined), "0.0.0.0") ??
        take("fqdn", str(255)) ??
        take("country", str(2)) ??
        take("wildcard", normaliseWildcard) ??
        take("macaddr", str(17)))
      : (take("ip6", normaliseIp6, "::/0") ?? take("start-ip", ip6, "::") ?? take("end-ip", ip6, "::") ?? take("fqdn", str(255)) ?? take("country", str(2)));
  if (bad) return { bad };
  // A type's required field [SW-CMDB]: fqdn needs `fqdn`, geography `country`; iprange a start not after its end.
  if (type === "fqdn" && !fields.fqdn) return { bad: "fqdn" };
  if (type === "geography" && !fields.country) return { bad: "country" };
  if (type === "iprange" && family === "ipv4" && (ipv4Int(fields["start-ip"]!) ?? 0) > (ipv4Int(fields["end-ip"]!) ?? 0)) return { bad: "end-ip" };
  return { fields };
}

/** The fields a GET shows for an object of this type (the device shows every field; these are the ones that mean something for it). */
export function shownFields(family: "ipv4" | "ipv6", type: string): readonly string[] {
  if (family === "ipv6")
    return type === "ipprefix" ? ["ip6"] : type === "iprange" ? ["start-ip", "end-ip"] : type === "fqdn" ? ["fqdn"] : type === "geography" ? ["country"] : [];
  switch (type) {
    case "ipmask":
      return ["subnet"];
    case "iprange":
      return ["start-ip", "end-ip"];
    case "fqdn":
      return ["fqdn"];
    case "geography":
      return ["country"];
    case "wildcard":
      return ["wildcard"];
    case "mac":
      return ["macaddr"];
    default:
      return [];
  }
}

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

/**
 * Settings every IPv4 address and address group holds besides its type fields, as the device stores and
 * shows them (FortiOS CLI reference `config firewall address` / `config firewall addrgrp`, 6.4–7.6:
 * `color` integer 0–32, default 0; `allow-routing` and `fabric-object` enable|disable, default disable;
 * `fabric-object` is not in the 6.2 reference). terraform-provider-fortios 1.25.0 sends them when set
 * (`resource_firewall_address.go`, `color` IntBetween(0, 32)) and reads them back: a device that answered
 * "success" and dropped them would show a change after every apply (issue 19).
 */
export type ObjectSettings = Readonly<Record<string, string | number>>;

/** The settings of the release played, with the device's defaults. */
export function defaultSettings(fabricObject: boolean): Record<string, string | number> {
  return { color: 0, "allow-routing": "disable", ...(fabricObject ? { "fabric-object": "disable" } : {}) };
}

/**
 * Writes the settings `body` carries over `prev` (a PUT keeps what it does not name). A value outside the
 * field's range or options is refused as other bad values are (`{bad: field}`, answered -651).
 */
export function applySettings(
  fabricObject: boolean,
  body: Record<string, unknown>,
  prev: ObjectSettings,
): { settings: Record<string, string | number> } | { bad: string } {
  const settings: Record<string, string | number> = { ...defaultSettings(fabricObject), ...prev };
  if (body.color !== undefined) {
    // The REST API takes the integer as a number or a numeric string (forti-sdk-go sends numbers).
    const n = typeof body.color === "string" && /^\d+$/.test(body.color) ? Number(body.color) : body.color;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 32) return { bad: "color" };
    settings.color = n;
  }
  for (const key of ["allow-routing", ...(fabricObject ? ["fabric-object"] : [])]) {
    const v = body[key];
    if (v === undefined) continue;
    if (v !== "enable" && v !== "disable") return { bad: key };
    settings[key] = v;
  }
  return { settings };
}

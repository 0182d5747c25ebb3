/**
 * Trusted-host slots of a FortiManager administrator (reference §4): `trusthost1..10` (IPv4, read
 * as `["ip","mask"]`) and `ipv6_trusthost1..10` (IPv6, read as `"addr/len"`). Slot 1 holds the
 * allow-all default and is the break-glass slot: it is never read as free and never written. Slots
 * 2..10 are unused when they hold `255.255.255.255 255.255.255.255` /
 * `ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128`.
 */
import { maskToPrefix, normaliseDeviceAddress, prefixToMask, type GrantAddress, type IpFamily } from "../../core/address";

export const SLOT_COUNT = 10;
export const FIRST_WRITABLE_SLOT = 2;
export const IPV4_UNUSED: readonly [string, string] = ["255.255.255.255", "255.255.255.255"];
export const IPV6_UNUSED = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128";

/** `trusthost3` / `ipv6_trusthost3`. */
export function slotName(family: IpFamily, n: number): string {
  return family === 4 ? `trusthost${n}` : `ipv6_trusthost${n}`;
}

export function slotNumber(name: string): number | undefined {
  const m = /^(?:ipv6_)?trusthost(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export type SlotValue =
  { readonly kind: "unused" } | { readonly kind: "address"; readonly address: GrantAddress } | { readonly kind: "other"; readonly raw: string };

/**
 * Reads one slot as the device reports it. IPv4 wire shape `["203.0.113.7","255.255.255.255"]`
 * (also tolerated: `"ip mask"`, `"ip/len"`); IPv6 `"2001:db8::1/128"`. Host bits are masked off, as
 * the device stores `set trusthost1 10.3.121.1/16` (FMG722-NF).
 */
export function readSlot(family: IpFamily, raw: unknown): SlotValue {
  const text = Array.isArray(raw) ? raw.map(String).join(" ") : typeof raw === "string" ? raw : JSON.stringify(raw ?? null);
  if (family === 4) {
    const [ip, mask] = Array.isArray(raw) ? raw.map(String) : text.split(/[ /]/);
    if (ip === IPV4_UNUSED[0] && mask === IPV4_UNUSED[1]) return { kind: "unused" };
    const prefix = mask === undefined ? undefined : /^\d+$/.test(mask) ? Number(mask) : maskToPrefix(mask);
    const a = ip !== undefined && prefix !== undefined && prefix <= 32 ? normaliseHostBits(ip, prefix) : undefined;
    return a && a.family === 4 ? { kind: "address", address: a } : { kind: "other", raw: text };
  }
  if (text.toLowerCase() === IPV6_UNUSED) return { kind: "unused" };
  const [ip, len] = text.split("/");
  const a = ip !== undefined && len !== undefined && /^\d+$/.test(len) ? normaliseHostBits(ip, Number(len)) : undefined;
  return a && a.family === 6 ? { kind: "address", address: a } : { kind: "other", raw: text };
}

function normaliseHostBits(ip: string, prefix: number): GrantAddress | undefined {
  const host = normaliseDeviceAddress(ip);
  if (!host) return undefined;
  const max = host.family === 4 ? 32 : 128;
  if (prefix > max) return undefined;
  if (host.family === 4) {
    const masked = ip
      .split(".")
      .map((o, i) => Number(o) & Number(prefixToMask(prefix).split(".")[i]))
      .join(".");
    return normaliseDeviceAddress(`${masked}/${prefix}`);
  }
  const v = BigInt(`0x${expandIpv6(host.ip)}`);
  const hostBits = BigInt(max - prefix);
  const net = (v >> hostBits) << hostBits;
  const hex = net.toString(16).padStart(32, "0").match(/.{4}/g)!.join(":");
  return normaliseDeviceAddress(`${hex}/${prefix}`);
}

function expandIpv6(ip: string): string {
  const [head = "", tail = ""] = ip.split("::");
  const h = head ? head.split(":") : [];
  const t = ip.includes("::") && tail ? tail.split(":") : [];
  const groups = ip.includes("::") ? [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t] : h;
  return groups.map((g) => g.padStart(4, "0")).join("");
}

/** The value written for `address` (TF-RES-ADMINUSER writes IPv4 as a list; IPv6 as a string). */
export function slotWriteValue(address: GrantAddress): [string, string] | string {
  return address.family === 4 ? [address.ip, prefixToMask(address.prefix)] : address.cidr;
}

export function unusedValue(family: IpFamily): [string, string] | string {
  return family === 4 ? [...IPV4_UNUSED] : IPV6_UNUSED;
}

/** Slots of `family` in `record` holding `address`, slot 1 included (it may be adopted, never written). */
export function slotsHolding(record: Readonly<Record<string, unknown>>, address: GrantAddress): number[] {
  const out: number[] = [];
  for (let n = 1; n <= SLOT_COUNT; n++) {
    const v = readSlot(address.family, record[slotName(address.family, n)]);
    if (v.kind === "address" && v.address.cidr === address.cidr) out.push(n);
  }
  return out;
}

/** The first free slot among 2..10; a field the device did not report is not assumed free. */
export function firstFreeSlot(record: Readonly<Record<string, unknown>>, family: IpFamily): number | undefined {
  for (let n = FIRST_WRITABLE_SLOT; n <= SLOT_COUNT; n++) {
    const name = slotName(family, n);
    if (name in record && readSlot(family, record[name]).kind === "unused") return n;
  }
  return undefined;
}

/** Every free slot among 2..10, ascending; a field the device did not report is not assumed free. */
export function freeSlots(record: Readonly<Record<string, unknown>>, family: IpFamily): number[] {
  const out: number[] = [];
  for (let n = FIRST_WRITABLE_SLOT; n <= SLOT_COUNT; n++) {
    const name = slotName(family, n);
    if (name in record && readSlot(family, record[name]).kind === "unused") out.push(n);
  }
  return out;
}

/**
 * `undefined` unless `address` is what FortiManager stores in an unused slot (`255.255.255.255
 * 255.255.255.255`, `ffff:…:ffff/128`): a grant of it would be read back as a free slot, never as the
 * grant, so it is refused at `check` rather than failing at create with a misleading "no free slot".
 */
export function unusedSlotProblem(address: GrantAddress): string | undefined {
  if (readSlot(address.family, slotWriteValue(address)).kind !== "unused") return undefined;
  return `must not be ${address.cidr}: FortiManager stores that value in an unused trusted-host slot, so a grant of it could never be told from a free slot`;
}

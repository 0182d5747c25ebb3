/**
 * What pf loads from an alias line, as the OPNsense emulator computes it — written from opnsense/core
 * `src/opnsense/scripts/filter/lib/alias/base.py` (`iter_addresses`, `net_wildcard_iterator`) and pfctl's
 * table semantics (an entry is masked to its prefix; hosts print without one), in the emulator's own code: the
 * client's address parser refuses most of these forms, and a parser shared by both would hide exactly the lines
 * an exclusive set must see (docs/reference/opnsense.md Turn 3).
 *
 * Line forms: `a-b` ranges (summarised into networks), `ip/len` with host bits (`ip_network(strict=False)`,
 * masked by pf), wildcard masks `ip/mask-ip` (every combination of the non-trailing wildcard bits), IPv4-mapped
 * IPv6, `!` negations; anything else is a host name, resolved through `resolve` (nested alias names are expanded
 * by the caller, as the alias loader does before it gets here).
 */
import { isIP } from "node:net";

interface Ip {
  readonly v: 4 | 6;
  readonly n: bigint;
}

/** Above this many networks a wildcard line stops (base.py logs "alias table overflow"). */
const WILDCARD_MAX = 65_536;

const width = (v: 4 | 6) => (v === 4 ? 32 : 128);

function v4(s: string): bigint {
  return s.split(".").reduce((a, o) => a * 256n + BigInt(o), 0n);
}

function v6(s: string): bigint {
  let str = s;
  const lastColon = str.lastIndexOf(":");
  const tail = str.slice(lastColon + 1);
  if (tail.includes(".")) {
    const x = v4(tail);
    str = `${str.slice(0, lastColon + 1)}${(x >> 16n).toString(16)}:${(x & 0xffffn).toString(16)}`;
  }
  const [head = "", rest] = str.split("::");
  const h = head === "" ? [] : head.split(":");
  const r = rest === undefined ? undefined : rest === "" ? [] : rest.split(":");
  const groups = r === undefined ? h : [...h, ...Array<string>(8 - h.length - r.length).fill("0"), ...r];
  return groups.reduce((a, g) => a * 65536n + BigInt(parseInt(g, 16)), 0n);
}

/** Python `ipaddress.ip_address`: a plain IPv4 or IPv6 address (no prefix, no zone). */
function ip(s: string): Ip | undefined {
  const f = isIP(s);
  if (f === 0 || s.includes("%")) return undefined;
  return f === 4 ? { v: 4, n: v4(s) } : { v: 6, n: v6(s) };
}

/** inet_ntop's text: dotted IPv4; IPv6 with the longest run of zero groups compressed, mapped IPv4 as `::ffff:a.b.c.d`. */
function text(a: Ip): string {
  if (a.v === 4) return [24n, 16n, 8n, 0n].map((s) => String((a.n >> s) & 255n)).join(".");
  if (a.n >> 32n === 0xffffn) return `::ffff:${text({ v: 4, n: a.n & 0xffffffffn })}`;
  const g = [...Array(8).keys()].map((i) => Number((a.n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let len = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > len && j - i > 1) [best, len] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + len).join(":")}`;
}

const maskOf = (p: number, v: 4 | 6) => ((1n << BigInt(width(v))) - 1n) ^ ((1n << BigInt(width(v) - p)) - 1n);

function net(a: Ip, p: number): string {
  return p === width(a.v) ? text(a) : `${text({ v: a.v, n: a.n & maskOf(p, a.v) })}/${p}`;
}

/**
 * One pf table entry as `pfctl -T add` takes it and `pfctl -T show` prints it: `ip` or `ip/len` (masked; a full
 * prefix prints as the host), optionally negated with `!`. `undefined` when pf would not take it.
 */
export function pfEntry(raw: string): string | undefined {
  const neg = raw.startsWith("!");
  const parts = (neg ? raw.slice(1) : raw).split("/");
  if (parts.length > 2) return undefined;
  const a = ip(parts[0]!);
  if (!a) return undefined;
  let p = width(a.v);
  if (parts.length === 2) {
    if (!/^\d+$/.test(parts[1]!) || Number(parts[1]) > p) return undefined;
    p = Number(parts[1]);
  }
  return `${neg ? "!" : ""}${net(a, p)}`;
}

/** `summarize_address_range`: the fewest networks covering first..last. */
function summarize(first: Ip, last: Ip): string[] {
  const out: string[] = [];
  const w = width(first.v);
  for (let n = first.n; n <= last.n;) {
    let bits = 0;
    while (bits < w && ((n >> BigInt(bits)) & 1n) === 0n && n + (1n << BigInt(bits + 1)) - 1n <= last.n) bits++;
    out.push(net({ v: first.v, n }, w - bits));
    n += 1n << BigInt(bits);
  }
  return out;
}

/** `net_wildcard_iterator`: trailing wildcard bits become the prefix, every other wildcard bit is enumerated. */
function wildcard(line: string): string[] {
  const [a0 = "", w0 = ""] = line.split("/");
  const a = ip(a0);
  const w = ip(w0);
  if (!a || !w || a.v !== w.v) return [];
  const max = width(w.v);
  const set = [...Array(max).keys()].filter((i) => ((w.n >> BigInt(i)) & 1n) === 1n);
  let maskLength = 0;
  while (maskLength < set.length && set[maskLength] === maskLength) maskLength++;
  const free = set.slice(maskLength);
  const out: string[] = [];
  const combos = 1n << BigInt(free.length);
  for (let c = 0n; c < combos && out.length < WILDCARD_MAX; c++) {
    let n = a.n;
    free.forEach((bit, i) => {
      const on = ((c >> BigInt(i)) & 1n) === 1n;
      n = on ? n | (1n << BigInt(bit)) : n & ~(1n << BigInt(bit));
    });
    out.push(net({ v: a.v, n }, max - maskLength));
  }
  return out;
}

/** The table entries pf loads from one alias line (`iter_addresses`); host names go through `resolve`. */
export function pfLoad(line: string, resolve: (hostname: string) => readonly string[] = () => []): string[] {
  const address = line.trim();
  const slash = address.indexOf("/");
  if (slash > -1 && !/^\d+$/.test(address.split("/").pop()!)) {
    const neg = address.startsWith("!");
    return wildcard(address.replace(/^!+/, "")).map((e) => (neg ? `!${e}` : e));
  }
  if (slash > -1) {
    const e = pfEntry(address.replace(/^!+/, "!"));
    return e === undefined ? [] : [e];
  }
  const tmp = address.split("-");
  if (tmp.length > 1) {
    const a = ip(tmp[0]!);
    const b = ip(tmp[1]!);
    if (a && b && a.v === b.v && a.n <= b.n) return summarize(a, b);
  } else {
    const a = ip(tmp[0]!.replace(/^!+/, ""));
    if (a) return [`${address.startsWith("!") ? "!" : ""}${text(a)}`];
  }
  return resolve(address).flatMap((r) => {
    const e = pfEntry(r);
    return e === undefined ? [] : [e];
  });
}

/**
 * The detailed diff a preview shows (`[diff: ~addresses]`, and with `--diff` which member): per input
 * property what changes between the state and the program's checked inputs, and for a list of entries
 * (a set's `addresses`) per member. The lifecycle's own `diff` decides whether anything changes; this only
 * says where, so that a drift the engine cannot see in the inputs (a set's member lost on the device,
 * recorded in `missing` by refresh) is named too.
 */
import type { DiffKind } from "./grpc-hooks";

type Props = Record<string, unknown>;

/** JSON with sorted keys: two values are the same when this is. */
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .filter((k) => (v as Props)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((v as Props)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v) ?? "undefined";
}

/** What names a member of a list: the address of an entry (`{address, description}`), else the value. */
const memberKey = (e: unknown): string =>
  typeof e === "string" ? e : e && typeof e === "object" && typeof (e as Props).address === "string" ? String((e as Props).address) : stable(e);

/** An entry given as a plain address is the entry `{address}`. */
const entry = (e: unknown): unknown => (typeof e === "string" ? { address: e } : e);

/**
 * `inputKeys`: the resource's input properties; `replaces`: what the lifecycle's diff said forces a
 * replacement (its kinds become `…-replace`, and a non-input such as `device` is named too).
 */
export function detailedDiff(inputKeys: readonly string[], olds: Props, news: Props, replaces: readonly string[]): Map<string, DiffKind> {
  const out = new Map<string, DiffKind>();
  const kind = (k: string, o: unknown, n: unknown): DiffKind => {
    const base: DiffKind = o === undefined ? "add" : n === undefined ? "delete" : "update";
    return replaces.includes(k) ? (`${base}-replace` as DiffKind) : base;
  };
  for (const k of new Set([...inputKeys, ...replaces])) {
    const o = olds[k];
    const n = news[k];
    const norm = (v: unknown) => (Array.isArray(v) ? v.map(entry) : v);
    if (stable(norm(o)) === stable(norm(n))) {
      if (replaces.includes(k)) out.set(k, "update-replace");
      continue;
    }
    if (Array.isArray(o) && Array.isArray(n) && !replaces.includes(k)) {
      const before = new Map(o.map((e, i) => [memberKey(e), { e, i }]));
      const after = new Map(n.map((e, i) => [memberKey(e), { e, i }]));
      for (const [m, { i }] of before) if (!after.has(m)) out.set(`${k}[${i}]`, "delete");
      for (const [m, { e, i }] of after) {
        const was = before.get(m);
        if (!was) out.set(`${k}[${i}]`, "add");
        else if (stable(entry(was.e)) !== stable(entry(e))) out.set(`${k}[${i}]`, "update");
      }
      // Only the order changed: the list as a whole.
      if (![...out.keys()].some((p) => p.startsWith(`${k}[`))) out.set(k, "update");
      continue;
    }
    out.set(k, kind(k, o, n));
  }
  // A set's members lost on the device (refresh records them in `missing`): `up` adds each back.
  const missing = Array.isArray(olds.missing) ? (olds.missing as unknown[]).map(String) : [];
  const listed = Array.isArray(news.addresses) ? (news.addresses as unknown[]) : [];
  for (const m of missing) {
    const i = listed.findIndex((e) => memberKey(e) === m);
    if (i >= 0 && !out.has(`addresses[${i}]`)) out.set(`addresses[${i}]`, "add");
  }
  // Set entries past their own `expiresAt` (check computes `expiredEntries`, no input): `up` removes each.
  if (stable(olds.expiredEntries) !== stable(news.expiredEntries)) out.set("expiredEntries", kind("expiredEntries", olds.expiredEntries, news.expiredEntries));
  return out;
}

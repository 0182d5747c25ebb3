/**
 * What a `FortigateAddressSet` / `FortigateGroupGuard` does on the device (issue 13). The target is an
 * address group (`addrgrp` for IPv4 members, `addrgrp6` for IPv6); a listed entry is an address object
 * named `<namePrefix><address>` (`/` → `_`, since a name is a URL path segment) that is a member.
 *
 * Reads: per family, ONE read of the address table and ONE of the group, whatever the number of
 * entries (a refresh costs O(1) requests per target). Writes go through the per-member child paths
 * (SPEC §4.2: never by rewriting the member list), one object create and one member add per new entry
 * (client.ts `ensureMember` reads the group before its POST, since the answer to a repeated POST is
 * unsourced — except for an object the set just created, which no group can hold yet), one member
 * removal and one object delete per dropped entry; an entry an exclusive set or a guard removes is
 * only taken out of the group (the object may be used elsewhere). FortiOS caps a group at 600 members
 * in the 6.4 schema, so N stays small here.
 */
import type { GrantAddress } from "../../core/address";
import { diagnose } from "../../core/diagnosis";
import { fingerprint, runQueued } from "../../core/process-state";
import { noteWrite } from "../../core/read-coalescer";
import { pool, type HeldEntry, type ReconcileResult, type SetPlan, type WantedEntry } from "../../core/set-lifecycle";
import { addressPath, FortigateClient, type DeviceAddress, type Family, type FortigateClientOptions } from "./client";
import { deleteObject, diagnosed, objectQueue } from "./grant";

export interface GroupTarget {
  readonly group: string;
  /** IPv6 group. @default group */
  readonly group6?: string | undefined;
  readonly namePrefix: string;
}

/** Writes sent at once (the transport pools 8 connections per origin). */
const WRITE_CONCURRENCY = 6;

export const familyOfAddress = (a: GrantAddress): Family => (a.family === 4 ? "ipv4" : "ipv6");
export const groupFor = (t: GroupTarget, f: Family) => (f === "ipv6" ? (t.group6 ?? t.group) : t.group);

/** The object name of an entry: its own name, else prefix + address with `/` as `_` (`grant-10.0.0.0_24`). */
export function objectName(t: GroupTarget, e: { readonly name?: string | undefined; readonly parsed: GrantAddress }): string {
  return e.name ?? `${t.namePrefix}${e.parsed.canonical.replace("/", "_")}`;
}

export const entryKey = (f: Family, name: string) => `${f}:${name}`;
const splitKey = (k: string): [Family, string] => [k.startsWith("ipv6:") ? "ipv6" : "ipv4", k.slice(5)];

/** The families the set works on: those of its entries; exclusive sets and guards always check IPv4, and IPv6 when a v6 group is named. */
export function familiesOf(t: GroupTarget, want: Iterable<WantedEntry>, exclusive: boolean): Family[] {
  const fs = new Set<Family>([...want].map((w) => familyOfAddress(w.parsed)));
  if (exclusive) {
    fs.add("ipv4");
    if (t.group6 !== undefined) fs.add("ipv6");
  }
  return [...fs].sort();
}

interface FamilyView {
  readonly table: Map<string, DeviceAddress>;
  readonly members: string[];
}

async function view(c: FortigateClient, t: GroupTarget, f: Family): Promise<FamilyView> {
  const group = groupFor(t, f);
  const [table, members] = await Promise.all([c.listAddresses(f), c.getGroupMembers(f, group)]);
  if (members === undefined) throw c.groupMissing(group);
  return { table, members };
}

/** What a member enforces: its object's address, else what else it is (an fqdn, iprange, … object; a nested group). */
function valueOf(a: DeviceAddress | undefined): string {
  if (a === undefined) return "address group";
  return a.address?.canonical ?? (a.type !== undefined && a.type !== "ipmask" && a.type !== "ipprefix" ? `${a.type} object` : "not an IP address");
}

function held(f: Family, v: FamilyView): Map<string, HeldEntry> {
  const out = new Map<string, HeldEntry>();
  for (const m of v.members) {
    const a = v.table.get(m);
    const address = a?.address?.canonical;
    const value = valueOf(a);
    out.set(entryKey(f, m), { label: `${m} (${value})`, ...(address !== undefined && { address }), value, description: a?.comment ?? "" });
  }
  return out;
}

/** Every member of the group(s), by `family:name`. */
/**
 * Every member of the group(s), by `family:name`; plus each `listed` object that is not a member and holds
 * another value (taken out of the group and edited by hand): reported like a member holding that value,
 * so that the set still knows it as its own and `up` puts both back instead of refusing it (202061).
 */
export async function currentMembers(
  opts: FortigateClientOptions,
  t: GroupTarget,
  families: readonly Family[],
  listed: ReadonlyMap<string, WantedEntry> = new Map(),
): Promise<Map<string, HeldEntry>> {
  const c = new FortigateClient(opts);
  return diagnosed({ host: c.host, timeoutMs: opts.timeoutMs }, async () => {
    const out = new Map<string, HeldEntry>();
    for (const f of families) {
      const v = await view(c, t, f);
      for (const [k, h] of held(f, v)) out.set(k, h);
      for (const [k, w] of listed) {
        const [lf, name] = splitKey(k);
        const a = lf === f && !out.has(k) ? v.table.get(name) : undefined;
        if (a && a.address?.cidr !== w.parsed.cidr) out.set(k, { label: `${name} (${valueOf(a)}, not a member)`, value: valueOf(a), description: a.comment });
      }
    }
    return out;
  });
}

const writeKey = (c: FortigateClient, f: Family) => `fortigate.writes:${fingerprint(c.opts.url, c.vdom, f)}`;
const groupQueue = (c: FortigateClient, f: Family, group: string) => `fortigate-member:${fingerprint(c.opts.url, c.vdom, f, group)}`;

/** What the set resource adds to the plan: the values it lists (a guard's too) and the objects other resources declare. */
export interface GroupContext {
  /** Every listed entry by key, with its address (a guard's covered grants included, which `plan.want` leaves out). */
  readonly listed: ReadonlyMap<string, WantedEntry>;
  /** Never delete this entry's object (another resource of the program declares it, in whatever group). */
  keepObject(key: string): boolean;
}

/** Applies the plan; see the module comment for the requests. */
export async function reconcileGroup(
  opts: FortigateClientOptions,
  t: GroupTarget,
  plan: SetPlan,
  ctx: GroupContext = { listed: plan.want, keepObject: () => false },
): Promise<ReconcileResult> {
  const c = new FortigateClient(opts);
  return diagnosed({ host: c.host, timeoutMs: opts.timeoutMs }, async () => {
    const fams = new Set(familiesOf(t, plan.want.values(), plan.exclusive));
    for (const k of [...plan.drop, ...plan.allow]) fams.add(splitKey(k)[0]);
    const views = new Map<Family, FamilyView>();
    for (const f of [...fams].sort()) views.set(f, await view(c, t, f));
    const before = new Map<string, HeldEntry>();
    for (const [f, v] of views) for (const [k, h] of held(f, v)) before.set(k, h);
    // Someone else's object under a listed name is refused before any write (and before `onBefore`, so
    // that a create refused here takes nothing back: it added nothing). The set's own object, edited by
    // hand (another value, another type), is put back in place instead.
    const differs = (k: string, w: WantedEntry) => {
      const existing = views.get(splitKey(k)[0])!.table.get(splitKey(k)[1]);
      return existing !== undefined && existing.address?.cidr !== w.parsed.cidr;
    };
    for (const [k, w] of plan.want) {
      if (!differs(k, w) || plan.owned?.has(k) === true) continue;
      const [f, name] = splitKey(k);
      throw diagnose("202061", {
        host: c.host,
        operation: `POST ${addressPath(f)}`,
        detail: `an object named "${name}" already exists in VDOM "${c.vdom}" with a different value`,
        vars: { name, existing: views.get(f)!.table.get(name)!.address?.canonical ?? "a non-IP address" },
      });
    }
    plan.onBefore?.(before);

    const jobs: (() => Promise<unknown>)[] = [];
    for (const [k, w] of plan.want) {
      const [f, name] = splitKey(k);
      const v = views.get(f)!;
      const existing = v.table.get(name);
      const comment = w.description ?? "";
      const repair = differs(k, w);
      const member = v.members.includes(name);
      if (existing && member && !repair && (w.description === undefined || existing.comment === comment)) continue;
      jobs.push(async () => {
        // Taken since the read: the same value (another grant of the program creating it) is fine; a
        // group of that name (FortiOS -163) or another value never becomes a member in its place.
        const outcome = existing ? undefined : await c.createAddress(f, name, w.parsed, comment);
        const taken = outcome === "exists";
        if (taken && (await c.getAddress(f, name))?.address?.cidr !== w.parsed.cidr) {
          throw diagnose("202061", {
            host: c.host,
            operation: `POST ${addressPath(f)}`,
            detail: `the name "${name}" is already used in VDOM "${c.vdom}" by another object`,
            vars: { name, existing: "an address group, an object of the other IP family or another value" },
          });
        }
        if (repair) await c.setValue(f, name, w.parsed);
        if (existing && w.description !== undefined && existing.comment !== comment) await c.setComment(f, name, comment);
        // An object FortiOS answered created is in no group yet: no read before its membership POST (client.ts
        // `ensureMember`); one settled by read-back may have been there before, in the group.
        const created = outcome === "created";
        if (!member) await runQueued(groupQueue(c, f, groupFor(t, f)), () => c.ensureMember(f, groupFor(t, f), name, created));
        noteWrite(writeKey(c, f), name);
      });
    }
    const unexpected: string[] = [];
    for (const [f, v] of views) {
      for (const name of new Set([...v.members, ...v.table.keys()])) {
        const k = entryKey(f, name);
        if (plan.want.has(k) || plan.keep(k)) continue;
        const own = plan.drop.has(k);
        const isMember = v.members.includes(name);
        // A covered member (a guard's) counts only while it enforces the address its grant declares.
        const l = ctx.listed.get(k);
        const asListed = l !== undefined && v.table.get(name)?.address?.cidr === l.parsed.cidr;
        if (own && (isMember || v.table.has(name))) {
          jobs.push(() =>
            runQueued(objectQueue(c, f, name), async () => {
              if (isMember) await runQueued(groupQueue(c, f, groupFor(t, f)), () => c.removeMember(f, groupFor(t, f), name));
              if (!ctx.keepObject(k)) await deleteObject(c, f, name);
              noteWrite(writeKey(c, f), name);
            }),
          );
        } else if (plan.exclusive && isMember && (!plan.allow.has(k) || !asListed)) {
          unexpected.push(before.get(k)!.label);
          jobs.push(() => runQueued(groupQueue(c, f, groupFor(t, f)), () => c.removeMember(f, groupFor(t, f), name)));
        }
      }
    }
    await pool(jobs, WRITE_CONCURRENCY);
    return { before, removedUnexpected: unexpected };
  });
}

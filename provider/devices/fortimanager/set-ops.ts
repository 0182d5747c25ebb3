/**
 * What a `FortimanagerTrustedHostSet` / `FortimanagerTrustedHostGuard` does on the manager (issue 13):
 * the entries are the addresses in trusted-host slots 2..10 (IPv4 `trusthostN`, IPv6
 * `ipv6_trusthostN`); slot 1 (the break-glass slot) is never read as an entry and never written.
 *
 * One read of the administrator, then ONE `update` carrying every slot that changes (removals reset to
 * the unused value, additions into the free slots — those freed by the removals included), then, after
 * the settle interval of trusted-hosts.ts, one confirming read: 3 requests per admin for any number of
 * changes. FortiManager's update changes only the fields sent (reference §4), so two writers collide
 * only on the same slot; the confirming read catches that, and the round is repeated on a fresh read
 * (bounded, then a loud 202050), as for single grants. The work runs in the per-admin queue of
 * trusted-hosts.ts, so single grants and sets of one process never pick the same slot. An address the
 * set revokes (delete, update, expiry) that slot 1 also holds is still admitted: the change fails with
 * 202050 naming it, as the per-entry resource's delete does.
 */
import { normaliseDeviceAddress, type GrantAddress, type IpFamily } from "../../core/address";
import { diagnose } from "../../core/diagnosis";
import { isGrantError } from "../../core/errors";
import { runQueued } from "../../core/process-state";
import { noteWrite } from "../../core/read-coalescer";
import type { HeldEntry, ReconcileResult, SetPlan } from "../../core/set-lifecycle";
import { sleep } from "../../core/transport";
import type { AdminRecord, FortimanagerClient } from "./client";
import { FIRST_WRITABLE_SLOT, readSlot, SLOT_COUNT, slotName, slotsHolding, slotWriteValue, unusedValue } from "./slots";
import { DEFAULT_SLOT_SETTLE_MS } from "./trusted-hosts";

/** Rounds lost to other writers before the set fails loudly. */
const MAX_ROUNDS = 4;

/** Same queue and write keys as trusted-hosts.ts. */
const queueKey = (client: FortimanagerClient, adminUser: string) => `fortimanager:${client.host}:${adminUser}`;
const writeKey = (client: FortimanagerClient, adminUser: string) => `fortimanager.writes:${client.host}:${adminUser}`;

interface SlotEntry extends HeldEntry {
  readonly slot: string;
  readonly family: IpFamily;
}

/** Slots 2..10 of both families as entries, by CIDR (an unreadable value by `raw:<slot>`). */
export function slotEntries(record: Readonly<Record<string, unknown>>): Map<string, SlotEntry> {
  const out = new Map<string, SlotEntry>();
  for (const family of [4, 6] as const) {
    for (let n = FIRST_WRITABLE_SLOT; n <= SLOT_COUNT; n++) {
      const slot = slotName(family, n);
      if (!(slot in record)) continue;
      const v = readSlot(family, record[slot]);
      if (v.kind === "address") out.set(v.address.cidr, { label: v.address.canonical, address: v.address.canonical, slot, family });
      else if (v.kind === "other") out.set(`raw:${slot}`, { label: `${slot}=${v.raw}`, slot, family });
    }
  }
  return out;
}

/** The admin's entries now (one read); an administrator that is gone holds nothing. */
export async function currentSlots(client: FortimanagerClient, adminUser: string): Promise<Map<string, HeldEntry>> {
  try {
    return slotEntries(await client.readAdmin(adminUser));
  } catch (e) {
    if (isGrantError(e) && e.code === "202051") return new Map();
    throw e;
  }
}

function freeSlotsOf(record: Readonly<Record<string, unknown>>, family: IpFamily): string[] {
  const out: string[] = [];
  for (let n = FIRST_WRITABLE_SLOT; n <= SLOT_COUNT; n++) {
    const slot = slotName(family, n);
    if (slot in record && readSlot(family, record[slot]).kind === "unused") out.push(slot);
  }
  return out;
}

/** The slot changes of one round: what to write, where each add goes, what is removed. */
function planRound(client: FortimanagerClient, adminUser: string, record: AdminRecord, plan: SetPlan) {
  const before = slotEntries(record);
  plan.onBefore?.(before);
  const removes = [...before.entries()].filter(([k]) => !plan.want.has(k) && !plan.keep(k) && (plan.drop.has(k) || (plan.exclusive && !plan.allow.has(k))));
  const data: Record<string, unknown> = {};
  const free: Record<IpFamily, string[]> = { 4: freeSlotsOf(record, 4), 6: freeSlotsOf(record, 6) };
  for (const [, e] of removes) {
    data[e.slot] = unusedValue(e.family);
    free[e.family].push(e.slot);
  }
  const placed = new Map<string, string>();
  for (const [k, w] of plan.want) {
    if (before.has(k)) continue;
    const slot = free[w.parsed.family].shift();
    if (slot === undefined) {
      throw diagnose("202052", {
        host: client.host,
        detail: `administrator "${adminUser}" has no free ${w.parsed.family === 4 ? "IPv4 trusthost2..10" : "IPv6 ipv6_trusthost2..10"} slot for ${w.parsed.canonical} (the set needs more slots than are free)`,
        vars: { adminUser, family: w.parsed.family === 4 ? "IPv4 trusthost2..10" : "IPv6 ipv6_trusthost2..10" },
      });
    }
    data[slot] = slotWriteValue(w.parsed);
    placed.set(k, slot);
  }
  return { before, removes, data, placed };
}

/** The administrator's record; `undefined` when it is gone and the plan adds nothing (a set's delete: nothing left to revoke). */
async function readAdminFor(client: FortimanagerClient, adminUser: string, plan: SetPlan): Promise<AdminRecord | undefined> {
  try {
    return await client.readAdmin(adminUser);
  } catch (e) {
    if (isGrantError(e) && e.code === "202051" && plan.want.size === 0) return undefined;
    throw e;
  }
}

/** Applies the plan with one update per administrator; see the module comment. */
export async function reconcileSlots(client: FortimanagerClient, adminUser: string, plan: SetPlan): Promise<ReconcileResult> {
  const settleMs = client.options.slotSettleMs ?? DEFAULT_SLOT_SETTLE_MS;
  let first: ReturnType<typeof planRound> | undefined;
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    const { p: r, record } = await runQueued(queueKey(client, adminUser), async () => {
      const record = await readAdminFor(client, adminUser, plan);
      if (record === undefined) return { p: undefined, record: undefined };
      const p = planRound(client, adminUser, record, plan);
      first ??= p;
      if (Object.keys(p.data).length > 0) await client.updateAdmin(adminUser, p.data);
      for (const k of [...p.placed.keys(), ...p.removes.map(([k]) => k)]) noteWrite(writeKey(client, adminUser), k);
      return { p, record };
    });
    // An administrator that is gone holds nothing: a plan that only revokes is done (as for the per-entry grant).
    if (r === undefined || record === undefined) return { before: new Map(), removedUnexpected: [] };
    if (Object.keys(r.data).length === 0) return revoked(client, adminUser, record, plan, result(first!, plan));
    await sleep(settleMs + Math.random() * 50);
    const afterRecord = await client.readAdmin(adminUser);
    const after = slotEntries(afterRecord);
    const lost = [...r.placed.entries()].filter(([k, slot]) => after.get(k)?.slot !== slot && !after.has(k));
    const back = r.removes.filter(([k, e]) => after.get(k)?.slot === e.slot);
    if (lost.length === 0 && back.length === 0) return revoked(client, adminUser, afterRecord, plan, result(first!, plan));
    await sleep(Math.random() * 60 * 2 ** round);
  }
  throw diagnose("202050", {
    host: client.host,
    detail: `another writer changed the trusted-host slots of administrator "${adminUser}" after each of ${MAX_ROUNDS} set updates: other processes are granting on this administrator at the same time`,
    vars: { adminUser },
  });
}

/**
 * `done`, unless slot 1 (break-glass, never written) still holds an address the plan revokes: the access
 * remains, so a success would be untrue. The same 202050 as the per-entry resource's delete (resource.ts).
 */
function revoked(client: FortimanagerClient, adminUser: string, record: AdminRecord, plan: SetPlan, done: ReconcileResult): ReconcileResult {
  const remain = [...plan.drop]
    .filter((k) => !plan.want.has(k) && !plan.keep(k))
    .map((k) => normaliseDeviceAddress(k))
    .filter((a): a is GrantAddress => a !== undefined && slotsHolding(record, a).includes(1));
  if (remain.length === 0) return done;
  const slots = [...new Set(remain.map((a) => slotName(a.family, 1)))].join(", ");
  throw diagnose("202050", {
    host: client.host,
    detail: `${remain.map((a) => a.canonical).join(", ")} ${remain.length === 1 ? "was" : "were"} removed from slots 2..10 of "${adminUser}" but slot 1 (${slots}, never written by this library) also holds ${remain.length === 1 ? "it" : "them"}, so the access remains`,
    vars: { adminUser },
  });
}

function result(first: ReturnType<typeof planRound>, plan: SetPlan): ReconcileResult {
  const unexpected = first.removes.filter(([k]) => !plan.drop.has(k)).map(([, e]) => e.label);
  return { before: first.before, removedUnexpected: unexpected };
}

/** The CIDR key of an address string, as the set uses it. */
export const cidrKey = (a: string) => normaliseDeviceAddress(a)?.cidr ?? a;

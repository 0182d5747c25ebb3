/**
 * Grant operations on one administrator's trusted-host slots.
 *
 * Within one provider process the per-admin queue (SPEC §4.3) keeps concurrent grants from picking
 * the same slot. Across processes (two stacks, two CI jobs, one admin) FortiManager offers no lock or
 * compare-and-set on an admin's fields, and an `update` of one `trusthostN` changes that field only
 * (reference §1 "update modifies an existing object", §2 admin update `{"trusthost2": [...]}`,
 * ANS-NAPI update_object), so two writers only collide when they pick the same free slot. Protection
 * (issue 9 item 6), in rounds:
 *   1. read the admin (this read is the "re-read right before writing"): adopt the address if a
 *      slot already holds it; else pick a free slot 2..10 — the lowest one while this process has
 *      seen no other writer on this admin (predictable slots for the usual single writer), AT RANDOM
 *      after a lost round or once contention was seen on this admin (two writers that read the same
 *      free set then rarely pick the same slot);
 *   2. write only if the read answered moments ago (`WRITE_GUARD_MS`; a stale read is read again):
 *      a writer's read-to-write gap stays small, and every writer waits longer than that gap...
 *   3. ...before confirming: after a settle interval (≥ `slotSettleMs`, and twice this round's own
 *      read-to-write time) the slot is read back — by the next round's read on the administrator, which
 *      does not start before the settle ended ({@link joinRound}). Still ours → done. Taken by another
 *      writer → that writer keeps it (it will confirm it), and we back off at random and go to 1 with a
 *      fresh read.
 *   4. after `MAX_ROUNDS` lost rounds, a loud 202050 naming the concurrent writers: never a success
 *      that is not on the device.
 * Two writers of the SAME address in different slots converge on the lowest slot: the other one
 * resets its own slot (only if it still holds the address) and reports the lower one, adopted.
 * Guarantee: a success means the address held its slot after every writer whose read-to-write gap is
 * shorter than our settle interval had written; a slower writer could still overwrite it later, and
 * the next refresh (`findTrustedHost`) reports that as drift. Measured in test/fortimanager/cross-process.test.ts.
 *
 * - find: which slot holds the address now (drift detection).
 * - revoke: reset every slot 2..10 holding the address (whoever wrote it: delete revokes), confirmed
 *   by read-back; slot 1 is never written. Idempotent: gone already, or admin gone, is success.
 */
import type { GrantAddress } from "../../core/address";
import { diagnose, toGrantError } from "../../core/diagnosis";
import { isGrantError } from "../../core/errors";
import { runQueued, shared } from "../../core/process-state";
import { coalescedRead, lastWrite, noteWrite, now, recordedWrite, waitingOn } from "../../core/read-coalescer";
import { applyVerified as applyVerifiedRaw, sleep } from "../../core/transport";
import type { AdminRecord, FortimanagerClient } from "./client";
import { freeSlots, FIRST_WRITABLE_SLOT, readSlot, slotName, slotsHolding, slotWriteValue, unusedValue } from "./slots";

export interface GrantOutcome {
  /** `trusthost3` / `ipv6_trusthost3`. */
  readonly slot: string;
  /** True when the address was already present and was taken over. */
  readonly adopted: boolean;
  /** Rounds lost to other writers before this one held; absent when the first write held. */
  readonly lostRounds?: number;
}

export interface RevokeOutcome {
  /** Slots reset by this call (empty when the address was already gone). */
  readonly cleared: readonly string[];
  /** True when slot 1 holds exactly this address: it is never written, so the address stays allowed there. */
  readonly remainsInSlot1: boolean;
}

/** Default least settle interval between writing a slot and confirming it (client option `slotSettleMs`). */
export const DEFAULT_SLOT_SETTLE_MS = 250;
/** Reads slower than half the settle interval are repeated this many times before one is written on anyway. */
const MAX_STALE_READS = 3;
/** Rounds lost to other writers before a grant fails loudly. */
export const MAX_ROUNDS = 8;
const BACKOFF_BASE_MS = 60;
const BACKOFF_MAX_MS = 2_000;

const familyName = (a: GrantAddress) => (a.family === 4 ? "IPv4 trusthost2..10" : "IPv6 ipv6_trusthost2..10");

/** A write settled by read-back on an ambiguous failure (transport.ts), diagnosed when it still fails. */
async function applyVerified(client: FortimanagerClient, write: () => Promise<void>, isApplied: () => Promise<boolean>): Promise<void> {
  try {
    await applyVerifiedRaw(write, isApplied);
  } catch (e) {
    throw toGrantError(e, "fortinet", { host: client.host, timeoutMs: client.timeoutMs });
  }
}

function queueKey(client: FortimanagerClient, adminUser: string): string {
  return `fortimanager:${client.host}:${adminUser}`;
}

/** Writes are recorded per device + admin + address; a refresh read never predates this process's last write of that address. */
const writeKey = (client: FortimanagerClient, adminUser: string) => `fortimanager.writes:${client.host}:${adminUser}`;

/** How long a lost round on an admin keeps this process choosing slots at random there. */
const CONTENTION_MEMORY_MS = 10 * 60_000;
const contentionMap = () => shared("fortimanager.slot-contention", () => new Map<string, number>());
function noteContention(client: FortimanagerClient, adminUser: string): void {
  contentionMap().set(queueKey(client, adminUser), now());
}
function contended(client: FortimanagerClient, adminUser: string): boolean {
  const at = contentionMap().get(queueKey(client, adminUser));
  return at !== undefined && now() - at < CONTENTION_MEMORY_MS;
}

const withLost = (o: GrantOutcome, lost: readonly number[]): GrantOutcome => (lost.length > 0 ? { ...o, lostRounds: lost.length } : o);

type Step = { readonly done: GrantOutcome } | { readonly wrote: number; readonly writeMs: number; readonly answeredAt: number } | { readonly stale: true };

export async function grantTrustedHost(client: FortimanagerClient, adminUser: string, address: GrantAddress): Promise<GrantOutcome> {
  const settleMs = client.options.slotSettleMs ?? DEFAULT_SLOT_SETTLE_MS;
  const lost: number[] = [];
  let stale = 0;
  while (lost.length < MAX_ROUNDS) {
    const random = lost.length > 0 || contended(client, adminUser);
    const step = await batchedRound(client, adminUser, { address, guardMs: stale < MAX_STALE_READS ? settleMs / 2 : Infinity, random });
    if ("done" in step) return withLost(step.done, lost);
    if ("stale" in step) {
      stale++;
      continue;
    }
    // Outside the queue: other grants of this process go on while this one settles. The confirming read is
    // the next round's read on this administrator, started no earlier than the end of the settle.
    const settled = step.answeredAt + Math.max(settleMs, 2 * step.writeMs) + Math.random() * 50;
    const { record } = await waitingOn(joinRound(client, adminUser, CONFIRM, settled));
    const mine = readSlot(address.family, record[slotName(address.family, step.wrote)]);
    if (mine.kind === "address" && mine.address.cidr === address.cidr) {
      return withLost(await converge(client, adminUser, address, step.wrote, record), lost);
    }
    const elsewhere = slotsHolding(record, address);
    if (elsewhere.length > 0)
      return withLost({ slot: slotName(address.family, elsewhere.find((n) => n >= FIRST_WRITABLE_SLOT) ?? elsewhere[0]!), adopted: true }, lost);
    // Another writer took the slot between our read and its confirmation: it keeps it; we try again.
    lost.push(step.wrote);
    noteContention(client, adminUser);
    await sleep(Math.random() * Math.min(BACKOFF_BASE_MS * 2 ** lost.length, BACKOFF_MAX_MS));
  }
  throw diagnose("202050", {
    host: client.host,
    detail: `another writer took the ${familyName(address)} slot chosen for ${address.canonical} on administrator "${adminUser}" in ${lost.length} rounds (slots ${lost.map((n) => slotName(address.family, n)).join(", ")}): other processes are granting on this administrator at the same time; the address is not on the device`,
    vars: { adminUser },
  });
}

/** One grant's part in a round: its address, how fresh the read must be, and whether to pick a slot at random. */
interface Ask {
  readonly address: GrantAddress;
  readonly guardMs: number;
  readonly random: boolean;
}

/** A grant's part in a round: a slot to pick and write, or ({@link CONFIRM}) the read that confirms slots written before. */
type Part = Ask | typeof CONFIRM;
const CONFIRM = Symbol("confirm");

/** What a round answers: the administrator as its read found it, and each write part's step. */
interface RoundResult {
  readonly record: AdminRecord;
  readonly steps: Map<Part, Step | Error>;
}

/** The parts of a round that has not started yet, per credential and administrator (see {@link joinRound}). */
const pendingRounds = () => shared("fortimanager.slot-rounds.v2", () => new Map<string, Part[]>());

/**
 * Joins the next round on this administrator. A round is one read, then ONE update carrying every slot
 * chosen for its write parts, in the per-admin queue. Its read is also the confirming read of the slots
 * written by earlier rounds whose settle has ended: a grant that wrote asks for the next round with
 * `startAt` = the end of its settle, and the round does not start before that. So through `pulumi up`
 * (creates arrive one by one, read-coalescer.ts burst window) the grants that arrive while earlier ones
 * settle join the read that confirms those: a run of rounds on one administrator costs one read and one
 * update per round plus one last read, instead of a read, an update and a confirming read per round.
 * Each read still proves what it proved before: it is sent after every settle it confirms has ended, and
 * it is the read right before the round's write (the write still follows it within the guard).
 */
function joinRound(client: FortimanagerClient, adminUser: string, part: Part, startAt?: number): Promise<RoundResult> {
  const key = queueKey(client, adminUser);
  // Per credential: the round writes with the client of the grant that opened it.
  const roundKey = `${client.identity}:${adminUser}`;
  let parts = pendingRounds().get(roundKey);
  if (!parts) {
    parts = [];
    pendingRounds().set(roundKey, parts);
  }
  parts.push(part);
  const mine = parts;
  const paceKey = `fortimanager.round-pace:${client.identity}`;
  return coalescedRead(
    `fortimanager.round:${roundKey}`,
    () => {
      // The round starts: later parts form the next one.
      if (pendingRounds().get(roundKey) === mine) pendingRounds().delete(roundKey);
      return runQueued(key, () => readAndWrite(client, adminUser, mine));
    },
    // Never a round in flight (it was read before this part asked). A write part is an arrival of the burst,
    // paced by all rounds of this credential (one engine feeds them: the first round of an administrator
    // waits for the burst too). A confirmation holds the round until its settle ended and is no arrival; a
    // round it opens waits for the burst like any other (the next grants of the administrator are on their
    // way while the engine saves its checkpoint: they write on the read that confirms), and starts at once
    // when every operation in flight waits (read-coalescer.ts).
    part === CONFIRM ? { purpose: "round", notBefore: Infinity, startAt, burst: { paceKey } } : { purpose: "round", notBefore: Infinity, burst: { paceKey } },
  );
}

/** A write part's step in its round. */
async function batchedRound(client: FortimanagerClient, adminUser: string, ask: Ask): Promise<Step> {
  const { steps } = await waitingOn(joinRound(client, adminUser, ask));
  const step = steps.get(ask);
  if (step === undefined) throw new Error("internal: a trusted-host round lost a grant");
  if (step instanceof Error) throw step;
  return step;
}

/**
 * One round in the per-admin queue: read (this read also confirms the earlier rounds' slots); per write
 * part, adopt or pick a free slot (at random after contention); write the chosen slots in one update if
 * the read is fresh (answered within the grant's `guardMs` of being sent: a slow read is read again, so
 * that a writer's read-to-write gap stays below the other writers' settle interval).
 */
async function readAndWrite(client: FortimanagerClient, adminUser: string, parts: readonly Part[]): Promise<RoundResult> {
  const out = new Map<Part, Step | Error>();
  const asks = parts.filter((p): p is Ask => p !== CONFIRM);
  const readSent = now();
  const record = await client.readAdmin(adminUser);
  const elapsed = now() - readSent;
  const free = { 4: freeSlots(record, 4), 6: freeSlots(record, 6) };
  const taken = new Set<string>();
  const writes: { ask: Ask; n: number }[] = [];
  for (const ask of asks) {
    const { address } = ask;
    const held = slotsHolding(record, address);
    if (held.length > 0) {
      out.set(ask, { done: { slot: slotName(address.family, held.find((n) => n >= FIRST_WRITABLE_SLOT) ?? held[0]!), adopted: true } });
      continue;
    }
    // Two grants of one address are never in one round (the lifecycle queues them); should it happen, the second reads again.
    if (taken.has(address.cidr) || elapsed > ask.guardMs) {
      out.set(ask, { stale: true });
      continue;
    }
    const left = free[address.family];
    if (left.length === 0) {
      out.set(
        ask,
        diagnose("202052", {
          host: client.host,
          detail: `administrator "${adminUser}" has no free ${familyName(address)} slot for ${address.canonical}`,
          vars: { adminUser, family: familyName(address) },
        }),
      );
      continue;
    }
    const n = ask.random ? left.splice(Math.floor(Math.random() * left.length), 1)[0]! : left.shift()!;
    taken.add(address.cidr);
    writes.push({ ask, n });
  }
  if (writes.length === 0) return { record, steps: out };
  const data = Object.fromEntries(writes.map(({ ask, n }) => [slotName(ask.address.family, n), slotWriteValue(ask.address)]));
  const holds = async () => {
    const r = await client.readAdmin(adminUser);
    return writes.every(({ ask, n }) => slotsHolding(r, ask.address).includes(n));
  };
  try {
    await applyVerified(client, () => client.updateAdmin(adminUser, data), holds);
  } catch (e) {
    // The write parts fail; the confirmations of the round still have their read (a grant confirmed here
    // whose create failed would leave its slot on the device, owned by nobody).
    const err = e instanceof Error ? e : new Error(String(e));
    for (const { ask } of writes) out.set(ask, err);
    return { record, steps: out };
  } finally {
    for (const { ask } of writes) noteWrite(writeKey(client, adminUser), ask.address.cidr);
  }
  const answeredAt = now();
  for (const { ask, n } of writes) out.set(ask, { wrote: n, writeMs: answeredAt - readSent, answeredAt });
  return { record, steps: out };
}

/**
 * Our slot holds the address. When another writer put the same address in a lower slot, the lower
 * one stays and ours is reset (only while it still holds the address), so two stacks granting one
 * address end with one slot; the rule is the same on both sides, so exactly one slot stays.
 */
async function converge(client: FortimanagerClient, adminUser: string, address: GrantAddress, ours: number, record: AdminRecord): Promise<GrantOutcome> {
  const lower = slotsHolding(record, address).filter((n) => n >= FIRST_WRITABLE_SLOT && n < ours);
  if (lower.length === 0) return { slot: slotName(address.family, ours), adopted: false };
  return runQueued(queueKey(client, adminUser), async () => {
    const fresh = await client.readAdmin(adminUser);
    const holding = slotsHolding(fresh, address).filter((n) => n >= FIRST_WRITABLE_SLOT);
    const keep = holding.find((n) => n !== ours);
    if (keep === undefined || !holding.includes(ours)) return { slot: slotName(address.family, holding[0] ?? ours), adopted: keep !== undefined };
    const name = slotName(address.family, ours);
    const released = async () => !slotsHolding(await client.readAdmin(adminUser), address).includes(ours);
    await recordedWrite(writeKey(client, adminUser), address.cidr, () =>
      applyVerified(client, () => client.updateAdmin(adminUser, { [name]: unusedValue(address.family) }), released),
    );
    return { slot: slotName(address.family, keep), adopted: true };
  });
}

/**
 * The slot now holding `address` (the recorded one first), or undefined when it is gone. Concurrent
 * refreshes of grants on one administrator share one read of its record (read-coalescer.ts).
 */
export async function findTrustedHost(client: FortimanagerClient, adminUser: string, address: GrantAddress, recorded?: string): Promise<string | undefined> {
  let record;
  try {
    record = await coalescedRead(`fortimanager.admin:${client.identity}:${adminUser}`, () => client.readAdmin(adminUser), {
      purpose: "refresh",
      notBefore: lastWrite(writeKey(client, adminUser), address.cidr),
      burst: {},
    });
  } catch (e) {
    if (isGrantError(e) && e.code === "202051") return undefined; // the admin is gone, so is the grant
    throw e;
  }
  const names = slotsHolding(record, address).map((n) => slotName(address.family, n));
  return recorded !== undefined && names.includes(recorded) ? recorded : names[0];
}

/**
 * Resets every slot 2..10 holding `address`, whether this library wrote it or it was there before
 * (delete revokes; `adopted` is informational), and confirms by read-back. Slot 1 is never written:
 * `remainsInSlot1` says when the address stays allowed there. Idempotent: gone already, or the
 * administrator gone, is success.
 */
export function revokeTrustedHost(client: FortimanagerClient, adminUser: string, address: GrantAddress): Promise<RevokeOutcome> {
  return runQueued(queueKey(client, adminUser), async () => {
    let record;
    try {
      record = await client.readAdmin(adminUser);
    } catch (e) {
      if (isGrantError(e) && e.code === "202051") return { cleared: [], remainsInSlot1: false };
      throw e;
    }
    const inSlot1 = (r: AdminRecord) => slotsHolding(r, address).includes(1);
    const slots = slotsHolding(record, address).filter((n) => n >= FIRST_WRITABLE_SLOT);
    if (slots.length === 0) return { cleared: [], remainsInSlot1: inSlot1(record) };
    const data = Object.fromEntries(slots.map((n) => [slotName(address.family, n), unusedValue(address.family)]));
    let after: AdminRecord | undefined;
    const gone = async () => {
      after = await client.readAdmin(adminUser);
      return slotsHolding(after, address).every((n) => n < FIRST_WRITABLE_SLOT);
    };
    await recordedWrite(writeKey(client, adminUser), address.cidr, () => applyVerified(client, () => client.updateAdmin(adminUser, data), gone));
    if (!(await gone())) {
      throw diagnose("202050", {
        host: client.host,
        detail: `the reset of ${Object.keys(data).join(", ")} answered OK but administrator "${adminUser}" still holds ${address.canonical}`,
        vars: { adminUser },
      });
    }
    return { cleared: Object.keys(data), remainsInSlot1: after !== undefined && inSlot1(after) };
  });
}

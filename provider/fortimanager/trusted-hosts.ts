/**
 * Grant operations on one administrator's trusted-host slots, each run in the per-admin queue so
 * that concurrent grants in one provider process never pick the same slot (SPEC §4.3).
 * - grant: read, adopt the address if any slot holds it, else write the first free slot of 2..10
 *   with `update` (that field only) and read back; none free → 202052.
 * - find: which slot holds the address now (drift detection).
 * - revoke: reset every slot 2..10 holding the address to the unused value; slot 1 is never written.
 */
import type { GrantAddress } from "../address";
import { diagnose, toGrantError } from "../diagnosis";
import { isGrantError } from "../errors";
import { serialize } from "../process-state";
import { coalescedRead, lastWrite, recordedWrite } from "../read-coalescer";
import { applyVerified as applyVerifiedRaw } from "../transport";
import type { FortimanagerClient } from "./client";
import { firstFreeSlot, FIRST_WRITABLE_SLOT, slotName, slotsHolding, slotWriteValue, unusedValue } from "./slots";

export interface GrantOutcome {
  /** `trusthost3` / `ipv6_trusthost3`. */
  readonly slot: string;
  /** True when the address was already present and was taken over. */
  readonly adopted: boolean;
}

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

export function grantTrustedHost(client: FortimanagerClient, adminUser: string, address: GrantAddress): Promise<GrantOutcome> {
  return serialize(queueKey(client, adminUser), async () => {
    const record = await client.readAdmin(adminUser);
    const held = slotsHolding(record, address);
    const heldWritable = held.find((n) => n >= FIRST_WRITABLE_SLOT);
    if (heldWritable !== undefined || held.length > 0) return { slot: slotName(address.family, heldWritable ?? held[0]!), adopted: true };
    const free = firstFreeSlot(record, address.family);
    if (free === undefined) {
      throw diagnose("202052", {
        host: client.host,
        detail: `administrator "${adminUser}" has no free ${familyName(address)} slot for ${address.canonical}`,
        vars: { adminUser, family: familyName(address) },
      });
    }
    const slot = slotName(address.family, free);
    const holds = async () => slotsHolding(await client.readAdmin(adminUser), address).includes(free);
    await recordedWrite(writeKey(client, adminUser), address.cidr, () => applyVerified(client, () => client.updateAdmin(adminUser, { [slot]: slotWriteValue(address) }), holds));
    if (!(await holds())) {
      throw diagnose("202050", {
        host: client.host,
        detail: `the update of ${slot} answered OK but reading administrator "${adminUser}" back does not show ${address.canonical}`,
        vars: { adminUser },
      });
    }
    return { slot, adopted: false };
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
    });
  } catch (e) {
    if (isGrantError(e) && e.code === "202051") return undefined; // the admin is gone, so is the grant
    throw e;
  }
  const names = slotsHolding(record, address).map((n) => slotName(address.family, n));
  return recorded !== undefined && names.includes(recorded) ? recorded : names[0];
}

/** Resets the slots 2..10 holding `address`; idempotent (gone already, or admin gone, is success). */
export function revokeTrustedHost(client: FortimanagerClient, adminUser: string, address: GrantAddress): Promise<void> {
  return serialize(queueKey(client, adminUser), async () => {
    let record;
    try {
      record = await client.readAdmin(adminUser);
    } catch (e) {
      if (isGrantError(e) && e.code === "202051") return;
      throw e;
    }
    const slots = slotsHolding(record, address).filter((n) => n >= FIRST_WRITABLE_SLOT);
    if (slots.length === 0) return;
    const data = Object.fromEntries(slots.map((n) => [slotName(address.family, n), unusedValue(address.family)]));
    const gone = async () => slotsHolding(await client.readAdmin(adminUser), address).every((n) => n < FIRST_WRITABLE_SLOT);
    await recordedWrite(writeKey(client, adminUser), address.cidr, () => applyVerified(client, () => client.updateAdmin(adminUser, data), gone));
    if (!(await gone())) {
      throw diagnose("202050", {
        host: client.host,
        detail: `the reset of ${Object.keys(data).join(", ")} answered OK but administrator "${adminUser}" still holds ${address.canonical}`,
        vars: { adminUser },
      });
    }
  });
}

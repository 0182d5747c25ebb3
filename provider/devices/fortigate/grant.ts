/**
 * The grant lifecycle on the device, behind the provider methods: create (or adopt) the address object
 * and its group membership, read them back, update the comment, and delete in the order the device
 * requires (membership first: FortiOS refuses to delete a referenced address with -23, TF#106).
 * Delete revokes (SPEC §3): it removes the membership and the object whether this grant added them or
 * adopted them; `adopted` and `membershipAdded` are informational. Every answer counts only when it is
 * FortiOS's (client.ts `answer`): a captive portal's 200 or a blanket 404 never reads as success.
 * Membership edits of one group are queued per group ({@link runQueued}); overall concurrency per
 * device is bounded by the transport's connection pool (8 per origin).
 *
 * Refresh reads are coalesced (read-coalescer.ts): grants read together share one read of the whole
 * address table (per device, token, VDOM and family) and one read of each group, so `preview
 * --refresh` of N grants costs about one request per table and one per group per wave instead of one
 * or two per grant. Every write of a grant (object or membership) is recorded, and a shared read only
 * serves a grant when it started after that grant's last write was answered. The read-back after a
 * create is the same shared table read ({@link readBackCreated}); delete needs no read (FortiOS's own
 * answer to the DELETE decides, client.ts `deleteAddress`).
 */
import { mustParseAddress } from "../../core/address";
import { diagnose, diagnosed as diagnosedAs } from "../../core/diagnosis";
import { fingerprint, runQueued } from "../../core/process-state";
import { coalescedRead, lastWrite, recordedWrite } from "../../core/read-coalescer";
import { isGrantError } from "../../core/errors";
import type { DevicePin } from "../../core/grant-lifecycle";
import type { Assert, SameType } from "../../core/resource-declaration";
import { FortigateClient, addressPath, type DeviceAddress, type Family, type FortigateClientOptions } from "./client";
import type { FortigateAddressState } from "./state";

export type { FortigateAddressState } from "./state";
type _FamilyIsTheClients = Assert<SameType<FortigateAddressState["family"], Family>>;

export interface GrantSpec {
  readonly name: string;
  readonly address: string;
  readonly comment: string;
  readonly group?: string | undefined;
}

export const familyOf = (address: string): Family => (mustParseAddress(address).family === 4 ? "ipv4" : "ipv6");
const groupKey = (c: FortigateClient, f: Family, group: string) => `fortigate-member:${fingerprint(c.opts.url, c.vdom, f, group)}`;
/** Queue of one object's removal (its membership, then the object): two memberships of one object are taken out one after the other. */
export const objectQueue = (c: FortigateClient, f: Family, name: string) => `fortigate-object:${fingerprint(c.opts.url, c.vdom, f, name)}`;

/**
 * The shared-address key of the object itself (device + VDOM + family + name), beside the membership
 * key (object + group): every FortiGate resource that uses the object declares it, whatever its group,
 * so that no resource deletes an object another resource of the program still declares (issue 18).
 */
export const objectDeclKey = (pin: DevicePin, f: Family, name: string) => fingerprint("fortigate-object", pin.url, pin.scope, f, name);

/** Coalescing keys of refresh reads: device + token + VDOM + family (+ group): what one request answers. */
const tableReadKey = (c: FortigateClient, f: Family) => `fortigate.table:${fingerprint(c.opts.url, c.opts.token, c.vdom, f)}`;
const groupReadKey = (c: FortigateClient, f: Family, group: string) => `fortigate.group:${fingerprint(c.opts.url, c.opts.token, c.vdom, f, group)}`;
/** Writes are recorded per device + VDOM + family, item = the object name (its object and membership writes alike). */
const writeKey = (c: FortigateClient, f: Family) => `fortigate.writes:${fingerprint(c.opts.url, c.vdom, f)}`;
/** Runs a write of object `name` and records when it was answered (success or not). */
const recorded = <T>(c: FortigateClient, f: Family, name: string, write: () => Promise<T>) => recordedWrite(writeKey(c, f), name, write);

/** Runs `fn`, turning anything that is not yet a diagnosis into one (202000…202090). */
export const diagnosed = <T>(c: { host: string; timeoutMs?: number | undefined }, fn: () => Promise<T>): Promise<T> => diagnosedAs("fortinet", c, fn);

/**
 * The object just created, as the device shows it. Grants created together share one read of the whole
 * address table that started after each of their POSTs was answered (a burst read, read-coalescer.ts):
 * through `pulumi up` that is one read per burst of creates instead of one per grant. A name the table
 * does not show (a row of unexpected shape, a table read that came too early for a device that shows a
 * new object late) is read by name with the retries FortiOS may need (TF#333, TF#434), as before.
 */
async function readBackCreated(c: FortigateClient, f: Family, name: string): Promise<DeviceAddress | undefined> {
  const table = await coalescedRead(tableReadKey(c, f), () => c.listAddresses(f), { purpose: "create", notBefore: lastWrite(writeKey(c, f), name), burst: {} });
  return table.get(name) ?? (await c.getAddressAfterCreate(f, name));
}

/**
 * Creates the object, or adopts one with the same name and value (202061 when the value differs),
 * then adds the membership. When the membership fails after this call created the object, the object
 * is removed again so that nothing is left behind without state.
 */
export async function createGrant(
  opts: FortigateClientOptions,
  spec: GrantSpec,
): Promise<Omit<FortigateAddressState, "connection" | "credentials" | "allowBroad">> {
  const c = new FortigateClient(opts);
  return diagnosed({ host: c.host, timeoutMs: opts.timeoutMs }, async () => {
    const addr = mustParseAddress(spec.address);
    const f: Family = addr.family === 4 ? "ipv4" : "ipv6";
    const outcome = await recorded(c, f, spec.name, () => c.createAddress(f, spec.name, addr, spec.comment));
    let adopted = false;
    let found = outcome === "exists" ? await c.getAddress(f, spec.name) : await readBackCreated(c, f, spec.name);
    if (outcome === "exists") {
      if (!found || found.address?.cidr !== addr.cidr) {
        throw diagnose("202061", {
          host: c.host,
          operation: `POST ${addressPath(f)}`,
          detail: `an object named "${spec.name}" already exists in VDOM "${c.vdom}" with a different value`,
          vars: {
            name: spec.name,
            existing: found ? (found.address?.canonical ?? "a non-IP address") : "an address group or an object of the other IP family",
          },
        });
      }
      adopted = true;
      if (found.comment !== spec.comment) {
        await recorded(c, f, spec.name, () => c.setComment(f, spec.name, spec.comment));
        found = { ...found, comment: spec.comment };
      }
    } else if (!found) {
      throw diagnose("202090", {
        host: c.host,
        operation: `GET ${addressPath(f)}/…`,
        detail: `the device accepted the new object "${spec.name}" but did not show it on read-back after several attempts`,
      });
    }
    let membershipAdded: boolean | undefined;
    if (spec.group !== undefined) {
      const group = spec.group;
      try {
        // An object FortiOS answered created is in no group yet: its membership POST needs no read before it (client.ts).
        // One settled by read-back ("verified") may have been there before, in the group: read first.
        const created = outcome === "created";
        membershipAdded = await runQueued(groupKey(c, f, group), () => recorded(c, f, spec.name, () => c.ensureMember(f, group, spec.name, created)));
      } catch (e) {
        if (!adopted) await recorded(c, f, spec.name, () => c.deleteAddress(f, spec.name)).catch(() => undefined);
        throw e;
      }
    }
    return {
      name: spec.name,
      address: addr.canonical,
      cidr: addr.cidr,
      family: f,
      vdom: c.vdom,
      ...(spec.group !== undefined && { group: spec.group, membershipAdded, member: true }),
      comment: found.comment,
      adopted,
      objectPath: `${addressPath(f)}/${encodeURIComponent(spec.name)}`,
      ...(found.uuid !== undefined && { uuid: found.uuid }),
    };
  });
}

/**
 * Reads the object and membership as the device holds them (the refresh path). `undefined` when the
 * object is gone; `member: false` when only the membership is gone (or the group is); a changed value
 * is reported as the device's value.
 *
 * The object comes from the address table and the membership from the group object, each read shared
 * with the grants reading at the same time ({@link coalescedRead}, purpose "refresh", never a read that
 * started before this process's last write of the object was answered; waiting for a burst of callers).
 * A name the table read does not show is read by name before it is reported gone: a gone object costs one more request, and a table
 * answer that is paged or holds a row of unexpected shape never drops a grant from state.
 */
export async function readGrant(opts: FortigateClientOptions, s: FortigateAddressState): Promise<Partial<FortigateAddressState> | undefined> {
  const c = new FortigateClient(opts);
  return diagnosed({ host: c.host, timeoutMs: opts.timeoutMs }, async () => {
    const f = s.family;
    const shared = { purpose: "refresh", notBefore: lastWrite(writeKey(c, f), s.name), burst: {} };
    const table = coalescedRead(tableReadKey(c, f), () => c.listAddresses(f), shared);
    const group = s.group;
    // Both reads are asked for at once so that they share one join window; a group read that fails
    // does not matter when the object is gone (as before, when the group was not read then).
    const members = group === undefined ? undefined : coalescedRead(groupReadKey(c, f, group), () => c.getGroupMembers(f, group), shared);
    members?.catch(() => undefined);
    const found: DeviceAddress | undefined = (await table).get(s.name) ?? (await c.getAddress(f, s.name));
    if (!found) return undefined;
    const member = members === undefined ? undefined : ((await members) ?? []).includes(s.name);
    return {
      address: found.address?.canonical ?? "(not an IP address)",
      cidr: found.address?.cidr ?? "",
      comment: found.comment,
      ...(member !== undefined && { member }),
      ...(found.uuid !== undefined && { uuid: found.uuid }),
    };
  });
}

/** Sets the comment and restores a membership removed by hand. Returns the fields that changed. */
export async function updateGrant(opts: FortigateClientOptions, s: FortigateAddressState, comment: string): Promise<Partial<FortigateAddressState>> {
  const c = new FortigateClient(opts);
  return diagnosed({ host: c.host, timeoutMs: opts.timeoutMs }, async () => {
    if (comment !== s.comment) await recorded(c, s.family, s.name, () => c.setComment(s.family, s.name, comment));
    if (s.group !== undefined && s.member === false) {
      const group = s.group;
      const added = await runQueued(groupKey(c, s.family, group), () => recorded(c, s.family, s.name, () => c.ensureMember(s.family, group, s.name)));
      return { comment, member: true, membershipAdded: added || s.membershipAdded === true };
    }
    return { comment };
  });
}

/**
 * Deletes the object once the caller's membership is gone. FortiOS refuses while anything references
 * it (-23, 202063). When only groups in `sharedWith` still hold it — other memberships of the same
 * object that the program declares (the other FortiGate targets of a `Grant`) — the object stays and
 * the last of those memberships' removal deletes it: this caller's access is revoked either way, and
 * destroy, which checks nothing, removes all of them in any order. Any other reference fails as before.
 */
export async function deleteObject(c: FortigateClient, f: Family, name: string, sharedWith: readonly string[] = []): Promise<void> {
  try {
    await recorded(c, f, name, () => c.deleteAddress(f, name));
  } catch (e) {
    if (!isGrantError(e) || e.code !== "202063" || sharedWith.length === 0) throw e;
    const holders = await c.groupsHolding(f, name);
    if (holders.length === 0 || holders.some((g) => !sharedWith.includes(g))) throw e;
  }
}

/**
 * Revokes the grant: the membership first, then the object; idempotent (gone is success, as FortiOS
 * says it). Adopted or not, both go (SPEC §3, issue 9: adoption is import semantics; a user who wants
 * a pre-existing entry kept sets `retainOnDelete`). The object stays while another resource of the
 * program declares it (`keepObject`) or one of `sharedWith` holds it ({@link deleteObject}); an object
 * still referenced otherwise fails with 202063 after its own membership is gone; the last member of a group
 * on FortiOS < 7.2.0 fails before anything is removed (client.ts `removeMember`).
 */
export async function deleteGrant(
  opts: FortigateClientOptions,
  s: FortigateAddressState,
  keepObject = false,
  sharedWith: readonly string[] = [],
): Promise<void> {
  const c = new FortigateClient(opts);
  await diagnosed({ host: c.host, timeoutMs: opts.timeoutMs }, () =>
    runQueued(objectQueue(c, s.family, s.name), async () => {
      if (s.group !== undefined) {
        const group = s.group;
        await runQueued(groupKey(c, s.family, group), () => recorded(c, s.family, s.name, () => c.removeMember(s.family, group, s.name)));
      }
      if (!keepObject) await deleteObject(c, s.family, s.name, sharedWith);
    }),
  );
}

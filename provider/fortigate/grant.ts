/**
 * The grant lifecycle on the device, behind the provider methods: create (or adopt) the address object
 * and its group membership, read them back, update the comment, and delete in the order the device
 * requires (membership first: FortiOS refuses to delete a referenced address with -23, TF#106).
 * Membership edits of one group are queued per group ({@link serialize}); overall concurrency per
 * device is bounded by the transport's connection pool (8 per origin).
 */
import { mustParseAddress } from "../address";
import { diagnose, toGrantError } from "../diagnosis";
import { fingerprint, serialize } from "../process-state";
import { FortigateClient, addressPath, type Family, type FortigateClientOptions } from "./client";

/** What state holds for one grant (the resource's outputs). */
export interface FortigateAddressState {
  readonly connection?: { url?: string; vdom?: string; caCert?: string; insecure?: boolean; timeoutMs?: number };
  readonly credentials?: { token?: string };
  readonly name: string;
  /** Canonical address as the device holds it (`203.0.113.7`, `10.0.0.0/24`). */
  readonly address: string;
  readonly cidr: string;
  readonly family: Family;
  readonly vdom: string;
  readonly group?: string;
  readonly comment: string;
  readonly allowBroad?: boolean;
  /** True when the object existed with the same value before this grant and was taken over. */
  readonly adopted: boolean;
  /** True when this grant added the group membership (false: it was a member already). */
  readonly membershipAdded?: boolean;
  /** False when the membership was found missing on `read` (drift). */
  readonly member?: boolean;
  /** Device path of the object, e.g. `/api/v2/cmdb/firewall/address/grant-alice`. */
  readonly objectPath: string;
  readonly uuid?: string;
}

export interface GrantSpec {
  readonly name: string;
  readonly address: string;
  readonly comment: string;
  readonly group?: string | undefined;
}

export const familyOf = (address: string): Family => (mustParseAddress(address).family === 4 ? "ipv4" : "ipv6");
const groupKey = (c: FortigateClient, f: Family, group: string) => `fortigate-member:${fingerprint(c.opts.url, c.vdom, f, group)}`;

/** Runs `fn`, turning anything that is not yet a diagnosis into one (202000…202090). */
export async function diagnosed<T>(c: { host: string; timeoutMs?: number | undefined }, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toGrantError(e, "fortinet", { host: c.host, ...(c.timeoutMs !== undefined && { timeoutMs: c.timeoutMs }) });
  }
}

/**
 * Creates the object, or adopts one with the same name and value (202061 when the value differs),
 * then adds the membership. When the membership fails after this call created the object, the object
 * is removed again so that nothing is left behind without state.
 */
export async function createGrant(opts: FortigateClientOptions, spec: GrantSpec): Promise<Omit<FortigateAddressState, "connection" | "credentials" | "allowBroad">> {
  const c = new FortigateClient(opts);
  return diagnosed({ host: c.host, timeoutMs: opts.timeoutMs }, async () => {
    const addr = mustParseAddress(spec.address);
    const f: Family = addr.family === 4 ? "ipv4" : "ipv6";
    const outcome = await c.createAddress(f, spec.name, addr, spec.comment);
    let adopted = false;
    let found = outcome === "created" ? await c.getAddressAfterCreate(f, spec.name) : await c.getAddress(f, spec.name);
    if (outcome === "exists") {
      if (!found || found.address?.cidr !== addr.cidr) {
        throw diagnose("202061", {
          host: c.host,
          operation: `POST ${addressPath(f)}`,
          detail: `an object named "${spec.name}" already exists in VDOM "${c.vdom}" with a different value`,
          vars: { name: spec.name, existing: found ? (found.address?.canonical ?? "a non-IP address") : "an address group or an object of the other IP family" },
        });
      }
      adopted = true;
      if (found.comment !== spec.comment) {
        await c.setComment(f, spec.name, spec.comment);
        found = { ...found, comment: spec.comment };
      }
    } else if (!found) {
      throw diagnose("202090", { host: c.host, operation: `GET ${addressPath(f)}/…`, detail: `the device accepted the new object "${spec.name}" but did not show it on read-back after several attempts` });
    }
    let membershipAdded: boolean | undefined;
    if (spec.group !== undefined) {
      const group = spec.group;
      try {
        membershipAdded = await serialize(groupKey(c, f, group), () => c.addMember(f, group, spec.name));
      } catch (e) {
        if (!adopted) await c.deleteAddress(f, spec.name).catch(() => undefined);
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
 * Reads the object and membership as the device holds them. `undefined` when the object is gone;
 * `member: false` when only the membership is gone; a changed value is reported as the device's value.
 */
export async function readGrant(opts: FortigateClientOptions, s: FortigateAddressState): Promise<Partial<FortigateAddressState> | undefined> {
  const c = new FortigateClient(opts);
  return diagnosed({ host: c.host, timeoutMs: opts.timeoutMs }, async () => {
    const found = await c.getAddress(s.family, s.name);
    if (!found) return undefined;
    const member = s.group !== undefined ? await c.isMember(s.family, s.group, s.name) : undefined;
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
    if (comment !== s.comment) await c.setComment(s.family, s.name, comment);
    if (s.group !== undefined && s.member === false) {
      const group = s.group;
      const added = await serialize(groupKey(c, s.family, group), () => c.addMember(s.family, group, s.name));
      return { comment, member: true, membershipAdded: added || s.membershipAdded === true };
    }
    return { comment };
  });
}

/**
 * Removes the membership, then the object; idempotent (gone is success). An adopted object is left in
 * place, and so is a membership that predates an adopted object: this grant never removes what it did
 * not add (SPEC §3).
 */
export async function deleteGrant(opts: FortigateClientOptions, s: FortigateAddressState): Promise<void> {
  const c = new FortigateClient(opts);
  await diagnosed({ host: c.host, timeoutMs: opts.timeoutMs }, async () => {
    const ownsMembership = s.membershipAdded !== false || !s.adopted;
    if (s.group !== undefined && ownsMembership) {
      const group = s.group;
      await serialize(groupKey(c, s.family, group), () => c.removeMember(s.family, group, s.name));
    }
    if (!s.adopted) await c.deleteAddress(s.family, s.name);
  });
}

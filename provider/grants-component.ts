/**
 * `Grants`: many people's grants carried as ONE set resource per target (issue 22), and the collected mode of
 * `Grant` (`collect: true`). Per-entry children cost one resource — a state entry, a checkpoint write, a
 * device change — per person, target and address; a set costs one per target, however many people it holds
 * (one `set_item` + `reconfigure` in OPNsense config mode instead of one per batch of grants).
 *
 * What each person's grant keeps in the set:
 * - who, description and ticket: the entry's description (`alice: on call (CHG-1)`), as a child's description;
 * - expiry: the entry's own `expiresAt` (set-lifecycle.ts), so `up` removes that one entry when it comes due
 *   and preview names it (`~ expiredEntries`), the others untouched;
 * - the shared-address rule: people listing one address are one entry that lasts while any of them lists it
 *   (descriptions joined, the latest end); across resources the set declares each address it holds in the
 *   per-entry form, so a set and per-entry grants (or two sets) of one target keep each other's addresses.
 *
 * Switching from per-entry children to the collected sets opens no gap: the engine creates the sets (which
 * find the addresses present and adopt them) before it deletes the children, and a child's delete leaves an
 * address that a set of the program declares.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseAddress } from "./core/address";
import { deviceTextProblem } from "./core/text-rules";
import type { SetEntryInput } from "./core/set-lifecycle";
import { FortigateFeedSet } from "./devices/fortigate/feed-set";
import { FortigateAddressSet } from "./devices/fortigate/set-resource";
import { FortimanagerFeedSet } from "./devices/fortimanager/feed-set";
import { FortimanagerTrustedHostSet } from "./devices/fortimanager/set-resource";
import { OpnsenseAliasSet } from "./devices/opnsense/set-resource";
import {
  deviceTag,
  grantDescription,
  type GrantFortigateFeedTarget,
  type GrantFortigateTarget,
  type GrantFortimanagerFeedTarget,
  type GrantFortimanagerTarget,
  type GrantKind,
  type GrantOpnsenseTarget,
} from "./grant-targets";

/** One person's grant in a {@link Grants} list: `GrantArgs` without targets (the list's targets apply to all). */
export interface GrantsPerson {
  readonly who: string;
  /** IPv4/IPv6 hosts or CIDRs (plain strings). Duplicates are one. */
  readonly addresses: readonly string[];
  readonly description?: string;
  readonly ticket?: string;
  /** When this person's entries end (ISO 8601 with a zone): `up` then removes them, and only them. @default no expiry */
  readonly expiresAt?: pulumi.Input<string>;
  /** Allow prefixes broader than /8 (IPv4) or /32 (IPv6) for this person. @default false */
  readonly allowBroad?: boolean;
}

/** The targets every person of a {@link Grants} list is granted on (the same shapes as `Grant`'s). */
export interface GrantsTargets {
  readonly opnsense?: readonly GrantOpnsenseTarget[];
  readonly fortigate?: readonly GrantFortigateTarget[];
  readonly fortimanager?: readonly GrantFortimanagerTarget[];
  readonly fortigateFeeds?: readonly GrantFortigateFeedTarget[];
  readonly fortimanagerFeeds?: readonly GrantFortimanagerFeedTarget[];
}

export interface GrantsArgs extends GrantsTargets {
  readonly people: readonly GrantsPerson[];
}

/** One set: its target, and the resource. */
export interface GrantsSet {
  readonly kind: GrantKind;
  readonly target: string;
  readonly resource: pulumi.CustomResource;
}

/** 255 bytes: the description limit every device shares (grant-lifecycle `grantMetaFields`). */
const DESCRIPTION_BYTES = 255;

/** One description for the people sharing an entry: each of them while it fits, then how many more. */
function joined(descriptions: readonly string[]): string {
  const all = [...new Set(descriptions)];
  for (let n = all.length; n > 0; n--) {
    const text = all.slice(0, n).join("; ") + (n < all.length ? `; +${all.length - n} more` : "");
    if (Buffer.byteLength(text, "utf8") <= DESCRIPTION_BYTES) return text;
  }
  return `${all.length} grants`;
}

/** The end of an entry several people list: none when one of them has none, else the latest. */
function latest(ends: readonly (pulumi.Input<string> | undefined)[]): pulumi.Input<string> | undefined {
  if (ends.some((e) => e === undefined)) return undefined;
  if (ends.every((e) => typeof e === "string")) return (ends as string[]).reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
  return pulumi.all(ends as pulumi.Input<string>[]).apply((xs) => xs.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a)));
}

interface Contribution {
  readonly description: string;
  readonly expiresAt: pulumi.Input<string> | undefined;
}

/** One set to build: its target, and per address what each person contributes. */
interface SetPlan {
  readonly kind: GrantKind;
  readonly target: string;
  readonly name: string;
  /** What else the set is (the OPNsense method): one name, one set. */
  readonly signature: string;
  readonly entries: Map<string, Contribution[]>;
  allowBroad: boolean;
  build(name: string, addresses: SetEntryInput[], allowBroad: boolean, opts: pulumi.CustomResourceOptions): pulumi.CustomResource;
}

/**
 * Builds one set per target holding every person's addresses of its family, under `parent`. Errors name the
 * component (`what`) and the person, as `Grant`'s do.
 * @internal
 */
export function collectedSets(
  parent: pulumi.Resource,
  name: string,
  what: string,
  people: readonly GrantsPerson[],
  targets: GrantsTargets,
): { sets: GrantsSet[]; granted: { kind: GrantKind; target: string; address: string; resource: pulumi.CustomResource }[] } {
  const plans = new Map<string, SetPlan>();
  const planFor = (kind: GrantKind, target: string, named: string, build: SetPlan["build"], signature = ""): SetPlan => {
    const setName = `${name}-${kind}-${named}`;
    let p = plans.get(setName);
    if (p && (p.target !== target || p.signature !== signature))
      throw new Error(`${what}: two ${kind} targets are the same (${target}): give each its own target, or its connection.url as a plain string`);
    if (!p) plans.set(setName, (p = { kind, target, name: setName, signature, entries: new Map(), allowBroad: false, build }));
    return p;
  };
  // FortiGate sets of one device name their objects prefix + address: two groups with one prefix would share
  // objects, and the first set's delete (destroy checks nothing) could not remove an object the other group holds.
  const prefixes = new Map<string, string>();
  for (const t of targets.fortigate ?? []) {
    const key = `${t.namePrefix ?? "grant-"}${deviceTag(t.connection)}`;
    const other = prefixes.get(key);
    if (other !== undefined && other !== t.group)
      throw new Error(
        `${what}: FortiGate targets ${other} and ${t.group} would share address objects (${t.namePrefix ?? "grant-"}<address>): give each its own namePrefix`,
      );
    prefixes.set(key, t.group);
  }
  const add = (p: SetPlan, address: string, c: Contribution, broad: boolean) => {
    p.entries.set(address, [...(p.entries.get(address) ?? []), c]);
    p.allowBroad ||= broad;
  };
  people.forEach((person, i) => {
    const who = `${what}: people[${i}] (${person.who})`;
    const description = grantDescription(person);
    const problem = deviceTextProblem(description, DESCRIPTION_BYTES, "every device");
    if (problem) throw new Error(`${who}: description: ${problem}`);
    const c: Contribution = { description, expiresAt: person.expiresAt };
    const broad = person.allowBroad === true;
    const parsed = new Map<string, { canonical: string; family: 4 | 6 }>();
    for (const raw of person.addresses) {
      const r = parseAddress(raw, { allowBroad: broad });
      if (!r.ok) throw new Error(`${who}: address ${JSON.stringify(raw)}: ${r.rule}`);
      parsed.set(r.address.cidr, { canonical: r.address.canonical, family: r.address.family });
    }
    for (const t of targets.opnsense ?? []) {
      for (const a of parsed.values()) {
        const alias = a.family === 4 ? (t.alias4 ?? t.alias) : (t.alias6 ?? t.alias);
        if (alias === undefined) throw new Error(`${who}: ${a.canonical} has no OPNsense IPv${a.family} alias to go to (give it in the target)`);
        const method = t.method ?? "table";
        const p = planFor(
          "opnsense",
          `${alias}${deviceTag(t.connection)}`,
          `${alias}${deviceTag(t.connection)}`,
          (n, addresses, allowBroad, o) => new OpnsenseAliasSet(n, { connection: t.connection, alias, method, addresses, allowBroad }, o),
          method,
        );
        add(p, a.canonical, c, broad);
      }
    }
    for (const t of targets.fortigate ?? []) {
      const named = `${t.group}${t.group6 !== undefined ? `+${t.group6}` : ""}${deviceTag(t.connection)}`;
      const p = planFor(
        "fortigate",
        named,
        named,
        (n, addresses, allowBroad, o) =>
          new FortigateAddressSet(
            n,
            {
              connection: t.connection,
              group: t.group,
              ...(t.group6 !== undefined && { group6: t.group6 }),
              namePrefix: t.namePrefix ?? "grant-",
              addresses,
              allowBroad,
            },
            o,
          ),
      );
      for (const a of parsed.values()) add(p, a.canonical, c, broad);
    }
    for (const t of targets.fortimanager ?? []) {
      const named = `${t.adminUser}${deviceTag(t.connection)}`;
      const p = planFor(
        "fortimanager",
        named,
        named,
        (n, addresses, allowBroad, o) => new FortimanagerTrustedHostSet(n, { connection: t.connection, adminUser: t.adminUser, addresses, allowBroad }, o),
      );
      for (const a of parsed.values()) add(p, a.canonical, c, broad);
    }
    for (const t of targets.fortigateFeeds ?? []) {
      const named = `${t.feed}${deviceTag(t.connection)}`;
      const p = planFor(
        "fortigate-feed",
        named,
        named,
        (n, addresses, allowBroad, o) => new FortigateFeedSet(n, { connection: t.connection, feed: t.feed, addresses, allowBroad }, o),
      );
      for (const a of parsed.values()) add(p, a.canonical, c, broad);
    }
    for (const t of targets.fortimanagerFeeds ?? []) {
      const devices = [...t.devices].sort();
      const named = `${t.feed}${deviceTag(t.connection)}-${devices.join("+")}${t.vdom !== undefined ? `/${t.vdom}` : ""}`;
      const p = planFor(
        "fortimanager-feed",
        `${t.feed} on ${devices.join(", ")}`,
        named,
        (n, addresses, allowBroad, o) =>
          new FortimanagerFeedSet(
            n,
            { connection: t.connection, devices: [...t.devices], feed: t.feed, ...(t.vdom !== undefined && { vdom: t.vdom }), addresses, allowBroad },
            o,
          ),
      );
      for (const a of parsed.values()) add(p, a.canonical, c, broad);
    }
  });

  const sets: GrantsSet[] = [];
  const granted: { kind: GrantKind; target: string; address: string; resource: pulumi.CustomResource }[] = [];
  for (const p of plans.values()) {
    const addresses: SetEntryInput[] = [...p.entries.entries()].map(([address, cs]) => {
      const expiresAt = latest(cs.map((x) => x.expiresAt));
      return { address, description: joined(cs.map((x) => x.description)), ...(expiresAt !== undefined && { expiresAt }) };
    });
    const resource = p.build(p.name, addresses, p.allowBroad, { parent });
    sets.push({ kind: p.kind, target: p.target, resource });
    for (const address of p.entries.keys()) granted.push({ kind: p.kind, target: p.target, address, resource });
  }
  return { sets, granted };
}

/**
 * Many people's access as one set resource per target: a list of people (who, addresses, description, ticket,
 * expiry) granted on the same targets. Each person keeps their entries' description and expiry; an address two
 * people list stays while either lists it.
 * @example
 * new Grants("jit", { opnsense: [{ alias: "jit_admins", method: "config" }], fortigate: [{ group: "jit-admins" }],
 *   people: [{ who: "alice", addresses: ["203.0.113.7"], ticket: "CHG-1" },
 *            { who: "bob", addresses: ["198.51.100.9"], expiresAt: "2030-01-31T18:00:00Z" }] });
 */
export class Grants extends pulumi.ComponentResource {
  /** One set per target. */
  readonly sets: readonly GrantsSet[];
  /** `{kind, target, address}` per entry, as an output. */
  readonly granted: pulumi.Output<{ kind: string; target: string; address: string }[]>;

  constructor(name: string, args: GrantsArgs, opts?: pulumi.ComponentResourceOptions) {
    const people = args.people.map((p) => ({ who: p.who, ticket: p.ticket, description: p.description, grantDescription: grantDescription(p) }));
    super("firewall-grants:index:Grants", name, { people }, opts);
    const { sets, granted } = collectedSets(this, name, `Grants ${name}`, args.people, args);
    this.sets = sets;
    this.granted = pulumi.output(granted.map(({ kind, target, address }) => ({ kind, target, address })));
    this.registerOutputs({ granted: this.granted });
  }
}

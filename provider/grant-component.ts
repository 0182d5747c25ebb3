/**
 * `Grant`: "one person → many devices" (issue 13). One declaration — who, addresses, optional
 * description/ticket, expiresAt — fans out to the targets listed, as per-entry child grants
 * (`OpnsenseAliasEntry`, `FortigateAddress`, `FortimanagerTrustedHost`, `FortigateFeedEntry`,
 * `FortimanagerFeedEntry`), one per target and address.
 *
 * - IPv4/IPv6: an OPNsense target with `alias4`/`alias6` (or one `alias` for both), a FortiGate target
 *   with `group` and optional `group6`: each address goes to the alias/group of its family; an address
 *   whose family the target has no place for is refused at construction. A feed (`fortigateFeeds`,
 *   `fortimanagerFeeds`) takes both families.
 * - Shared addresses (office NAT): each child's logical name starts with the person's component name,
 *   so two people granting one address declare it under distinct names; the lifecycle's shared-address
 *   rule keeps it on the device until the last of them is removed. FortiGate children of one address
 *   share one object name (`<namePrefix><address>`), so both grants point at the same object.
 * - The children are ordinary grants: preflight, pinning, revocation and drift are theirs.
 * Addresses must be known when the program runs (plain strings), since they decide the children.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseAddress } from "./address";
import { FortigateFeedEntry } from "./fortigate/feed-resource";
import { FortigateAddress, type FortigateConnection } from "./fortigate/resource";
import { FortimanagerFeedEntry, type FortimanagerFeedConnection } from "./fortimanager/feed-resource";
import { FortimanagerTrustedHost, type FortimanagerConnection } from "./fortimanager/resource";
import { OpnsenseAliasEntry, type OpnsenseConnection } from "./opnsense/resource";

export interface GrantOpnsenseTarget {
  readonly connection?: OpnsenseConnection;
  /** The alias for both families (when `alias4`/`alias6` are not given). */
  readonly alias?: string;
  /** The alias for IPv4 addresses. @default alias */
  readonly alias4?: string;
  /** The alias for IPv6 addresses. @default alias */
  readonly alias6?: string;
  /** @default "table" */
  readonly method?: "table" | "config";
}

export interface GrantFortigateTarget {
  readonly connection?: FortigateConnection;
  /** Address group of IPv4 addresses (and of IPv6 ones unless `group6` is given). */
  readonly group: string;
  /** Address group (`addrgrp6`) of IPv6 addresses. @default group */
  readonly group6?: string;
  /** Object names: prefix + address (`/` as `_`). @default "grant-" */
  readonly namePrefix?: string;
}

export interface GrantFortimanagerTarget {
  readonly connection?: FortimanagerConnection;
  readonly adminUser: string;
}

/** A FortiGate push threat feed (IPv4 and IPv6 addresses go into the same feed). */
export interface GrantFortigateFeedTarget {
  readonly connection?: FortigateConnection;
  /** Existing IP address threat feed with update method Push API, in the connection's VDOM. */
  readonly feed: string;
}

/** A push threat feed on managed FortiGates through FortiManager (IPv4 and IPv6 go into the same feed). */
export interface GrantFortimanagerFeedTarget {
  readonly connection?: FortimanagerFeedConnection;
  /** Managed FortiGates (device names in the ADOM) whose feed gets the addresses. */
  readonly devices: readonly string[];
  readonly feed: string;
  /** @default "root" */
  readonly vdom?: string;
}

export interface GrantArgs {
  /** Who the access is for (a person, a team); part of every child's description. */
  readonly who: string;
  /** IPv4/IPv6 hosts or CIDRs (plain strings: they decide the children). Duplicates are one. */
  readonly addresses: readonly string[];
  readonly description?: string;
  /** A ticket or change reference, appended to the description. */
  readonly ticket?: string;
  /** When every child grant ends (ISO 8601 with a zone). @default no expiry */
  readonly expiresAt?: pulumi.Input<string>;
  /** Allow prefixes broader than /8 (IPv4) or /32 (IPv6). @default false */
  readonly allowBroad?: boolean;
  readonly opnsense?: readonly GrantOpnsenseTarget[];
  readonly fortigate?: readonly GrantFortigateTarget[];
  readonly fortimanager?: readonly GrantFortimanagerTarget[];
  /** FortiGate push feeds (`FortigateFeedEntry` children). */
  readonly fortigateFeeds?: readonly GrantFortigateFeedTarget[];
  /** Push feeds on managed FortiGates through FortiManager (`FortimanagerFeedEntry` children). */
  readonly fortimanagerFeeds?: readonly GrantFortimanagerFeedTarget[];
}

/** One child: where it went, for outputs and tests. */
export interface GrantChild {
  readonly kind: "opnsense" | "fortigate" | "fortimanager" | "fortigate-feed" | "fortimanager-feed";
  readonly target: string;
  readonly address: string;
  readonly resource: pulumi.CustomResource;
}

/** `203.0.113.7` → `203-0-113-7`; `2001:db8::/48` → `2001-db8--_48`: a readable, URN-safe suffix. */
const slug = (a: string) => a.replace(/[.:]/g, "-").replace("/", "_");

/**
 * One person's access on many devices, as per-entry child grants.
 * @example
 * new Grant("alice", { who: "alice", addresses: ["203.0.113.7", "2001:db8::7"], ticket: "CHG-1234",
 *   opnsense: [{ alias4: "jit_admins", alias6: "jit_admins6" }], fortimanager: [{ adminUser: "alice" }],
 *   fortigateFeeds: [{ feed: "jit-allow" }], fortimanagerFeeds: [{ devices: ["fgt-hq", "fgt-br1"], feed: "jit-allow" }] });
 */
export class Grant extends pulumi.ComponentResource {
  /** Every child grant. */
  readonly children: readonly GrantChild[];
  /** `{kind, target, address}` per child, as an output. */
  readonly granted: pulumi.Output<{ kind: string; target: string; address: string }[]>;

  constructor(name: string, args: GrantArgs, opts?: pulumi.ComponentResourceOptions) {
    super("firewall-grants:index:Grant", name, {}, opts);
    const parsed = new Map<string, { canonical: string; family: 4 | 6 }>();
    for (const raw of args.addresses) {
      const r = parseAddress(raw, { allowBroad: args.allowBroad === true });
      if (!r.ok) throw new Error(`Grant ${name}: address ${JSON.stringify(raw)}: ${r.rule}`);
      parsed.set(r.address.cidr, { canonical: r.address.canonical, family: r.address.family });
    }
    const description = [`${args.who}${args.description ? `: ${args.description}` : ""}`, args.ticket ? `(${args.ticket})` : ""].filter(Boolean).join(" ");
    const common = { description, expiresAt: args.expiresAt, allowBroad: args.allowBroad };
    const child = { parent: this };
    const children: GrantChild[] = [];
    const needs = (where: string | undefined, what: string, a: string) => {
      if (where === undefined) throw new Error(`Grant ${name}: ${a} has no ${what} to go to (give it in the target)`);
      return where;
    };

    (args.opnsense ?? []).forEach((t, i) => {
      for (const a of parsed.values()) {
        const alias = needs(a.family === 4 ? (t.alias4 ?? t.alias) : (t.alias6 ?? t.alias), `OPNsense IPv${a.family} alias`, a.canonical);
        const r = new OpnsenseAliasEntry(
          `${name}-opn${i}-${alias}-${slug(a.canonical)}`,
          { ...common, connection: t.connection, alias, address: a.canonical, method: t.method ?? "table" },
          child,
        );
        children.push({ kind: "opnsense", target: alias, address: a.canonical, resource: r });
      }
    });
    // Targets that differ only by group share one object: each child names the other groups holding it,
    // so that deleting them all (destroy checks nothing) removes every membership and then the object.
    // Connections are not resolved here, so targets on other devices count too: at worst an object that a
    // same-named group holds by hand on this device stays instead of failing with 202063.
    const fgtGroup = (t: GrantFortigateTarget, family: 4 | 6) => (family === 4 ? t.group : (t.group6 ?? t.group));
    const fgtObject = (t: GrantFortigateTarget, canonical: string) => `${t.namePrefix ?? "grant-"}${canonical.replace("/", "_")}`;
    (args.fortigate ?? []).forEach((t, i) => {
      for (const a of parsed.values()) {
        const group = fgtGroup(t, a.family);
        const object = fgtObject(t, a.canonical);
        const others = (args.fortigate ?? []).filter((o) => fgtObject(o, a.canonical) === object).map((o) => fgtGroup(o, a.family));
        const sharedObjectGroups = [...new Set(others)].filter((g) => g !== group).sort();
        const r = new FortigateAddress(
          `${name}-fgt${i}-${group}-${slug(a.canonical)}`,
          { ...common, connection: t.connection, name: object, address: a.canonical, group, ...(sharedObjectGroups.length > 0 && { sharedObjectGroups }) },
          child,
        );
        children.push({ kind: "fortigate", target: group, address: a.canonical, resource: r });
      }
    });
    (args.fortimanager ?? []).forEach((t, i) => {
      for (const a of parsed.values()) {
        const r = new FortimanagerTrustedHost(
          `${name}-fmg${i}-${t.adminUser}-${slug(a.canonical)}`,
          { ...common, connection: t.connection, adminUser: t.adminUser, address: a.canonical },
          child,
        );
        children.push({ kind: "fortimanager", target: t.adminUser, address: a.canonical, resource: r });
      }
    });
    (args.fortigateFeeds ?? []).forEach((t, i) => {
      for (const a of parsed.values()) {
        const r = new FortigateFeedEntry(
          `${name}-fgtfeed${i}-${t.feed}-${slug(a.canonical)}`,
          { ...common, connection: t.connection, feed: t.feed, address: a.canonical },
          child,
        );
        children.push({ kind: "fortigate-feed", target: t.feed, address: a.canonical, resource: r });
      }
    });
    (args.fortimanagerFeeds ?? []).forEach((t, i) => {
      for (const a of parsed.values()) {
        const r = new FortimanagerFeedEntry(
          `${name}-fmgfeed${i}-${t.feed}-${slug(a.canonical)}`,
          { ...common, connection: t.connection, devices: [...t.devices], feed: t.feed, ...(t.vdom !== undefined && { vdom: t.vdom }), address: a.canonical },
          child,
        );
        children.push({ kind: "fortimanager-feed", target: `${t.feed} on ${[...t.devices].sort().join(", ")}`, address: a.canonical, resource: r });
      }
    });

    this.children = children;
    this.granted = pulumi.output(children.map(({ kind, target, address }) => ({ kind, target, address })));
    this.registerOutputs({ granted: this.granted });
  }
}

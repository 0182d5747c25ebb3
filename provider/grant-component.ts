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
 * - Children are named by what they are — `<component>-<kind>-<target>[@<device>]-<address>` — never by
 *   list position, so reordering or adding targets renames nothing (no delete and create in preview).
 *   The index-based names of earlier versions (`alice-opn0-jit_admins-203-0-113-7`) are `aliases`.
 * - The children are ordinary grants: preflight, pinning, revocation and drift are theirs.
 * - `collect: true` (issue 22): one set per target instead (grants-component.ts), each entry with this grant's
 *   description and expiry; `Grants` does the same for a list of people.
 * Addresses must be known when the program runs (plain strings), since they decide the children.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseAddress } from "./core/address";
import { FortigateFeedEntry } from "./devices/fortigate/feed-resource";
import { FortigateAddress } from "./devices/fortigate/resource";
import { FortimanagerFeedEntry } from "./devices/fortimanager/feed-resource";
import { FortimanagerTrustedHost } from "./devices/fortimanager/resource";
import { OpnsenseAliasEntry } from "./devices/opnsense/resource";
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
import { collectedSets } from "./grants-component";

export type {
  GrantFortigateFeedTarget,
  GrantFortigateTarget,
  GrantFortimanagerFeedTarget,
  GrantFortimanagerTarget,
  GrantOpnsenseTarget,
} from "./grant-targets";

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
  /**
   * One set resource per target (`OpnsenseAliasSet`, `FortigateAddressSet`, …) holding the addresses, each entry
   * with this grant's description and expiry, instead of one per-entry child per target and address. For many
   * people on the same targets, `Grants` collects them all into one set per target. TypeScript only (the
   * provider plugin's `Grant` builds per-entry children). @default false
   */
  readonly collect?: boolean;
}

/** The child grant classes, by class name ({@link Grant.child} builds them). */
const CHILD_CLASSES = { OpnsenseAliasEntry, FortigateAddress, FortimanagerTrustedHost, FortigateFeedEntry, FortimanagerFeedEntry };
export type GrantChildClass = keyof typeof CHILD_CLASSES;
export type GrantChildArgs<K extends GrantChildClass> = ConstructorParameters<(typeof CHILD_CLASSES)[K]>[1];

/** One child: where it went, for outputs and tests (with `collect`, the set holding the address). */
export interface GrantChild {
  readonly kind: GrantKind;
  readonly target: string;
  readonly address: string;
  readonly resource: pulumi.CustomResource;
}

/** `203.0.113.7` → `203-0-113-7`; `2001:db8::/48` → `2001-db8--_48`: a readable, URN-safe suffix. */
const slug = (a: string) => a.replace(/[.:]/g, "-").replace("/", "_");

/** One child before it is built: its stable name, the index-based name it had before (issue 20), and how to build it. */
interface ChildPlan {
  readonly kind: GrantChild["kind"];
  readonly target: string;
  readonly address: string;
  /** `<component>-<kind>-<target><@device>-<address>`: what it is, so reordering or adding targets renames nothing. */
  readonly name: string;
  /** `(i) => <component>-opn<i>-<target>-<address>`: its name by list position, as earlier versions named it. */
  readonly oldName: (i: number) => string;
  /** How many targets its list has (the positions an old name may have had). */
  readonly positions: number;
  /** The target it comes from, as given. */
  readonly source: { readonly connection?: unknown };
  build(name: string, opts: pulumi.CustomResourceOptions): pulumi.CustomResource;
}

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
    const description = grantDescription(args);
    // Its inputs (Pulumi ≥ 3.202 sends them) let the policy pack check the description once, on the Grant.
    super("firewall-grants:index:Grant", name, { who: args.who, ticket: args.ticket, description: args.description, grantDescription: description }, opts);
    if (args.collect === true) {
      const { granted } = collectedSets(this, name, `Grant ${name}`, [args], args);
      this.children = granted;
      this.granted = pulumi.output(granted.map(({ kind, target, address }) => ({ kind, target, address })));
      this.registerOutputs({ granted: this.granted });
      return;
    }
    const parsed = new Map<string, { canonical: string; family: 4 | 6 }>();
    for (const raw of args.addresses) {
      const r = parseAddress(raw, { allowBroad: args.allowBroad === true });
      if (!r.ok) throw new Error(`Grant ${name}: address ${JSON.stringify(raw)}: ${r.rule}`);
      parsed.set(r.address.cidr, { canonical: r.address.canonical, family: r.address.family });
    }
    const common = { description, expiresAt: args.expiresAt, allowBroad: args.allowBroad };
    const plans: ChildPlan[] = [];
    const needs = (where: string | undefined, what: string, a: string) => {
      if (where === undefined) throw new Error(`Grant ${name}: ${a} has no ${what} to go to (give it in the target)`);
      return where;
    };
    /** `named`: target and device in the new name; `old`: the target as the index-based name had it. */
    const plan = (
      kind: GrantChild["kind"],
      short: string,
      count: number,
      target: string,
      named: string,
      old: string,
      a: string,
      source: { readonly connection?: unknown },
      build: ChildPlan["build"],
    ) =>
      plans.push({
        kind,
        target,
        address: a,
        source,
        name: `${name}-${kind}-${named}-${slug(a)}`,
        oldName: (j) => `${name}-${short}${j}-${old}-${slug(a)}`,
        positions: count,
        build,
      });

    const opn = args.opnsense ?? [];
    opn.forEach((t) => {
      for (const a of parsed.values()) {
        const alias = needs(a.family === 4 ? (t.alias4 ?? t.alias) : (t.alias6 ?? t.alias), `OPNsense IPv${a.family} alias`, a.canonical);
        plan("opnsense", "opn", opn.length, alias, `${alias}${deviceTag(t.connection)}`, alias, a.canonical, t, (n, o) =>
          this.child("OpnsenseAliasEntry", n, { ...common, connection: t.connection, alias, address: a.canonical, method: t.method ?? "table" }, o),
        );
      }
    });
    // Targets that differ only by group share one object: each child names the other groups holding it,
    // so that deleting them all (destroy checks nothing) removes every membership and then the object.
    // Connections are not resolved here, so targets on other devices count too: at worst an object that a
    // same-named group holds by hand on this device stays instead of failing with 202063.
    const fgtGroup = (t: GrantFortigateTarget, family: 4 | 6) => (family === 4 ? t.group : (t.group6 ?? t.group));
    const fgtObject = (t: GrantFortigateTarget, canonical: string) => `${t.namePrefix ?? "grant-"}${canonical.replace("/", "_")}`;
    const fgt = args.fortigate ?? [];
    fgt.forEach((t) => {
      for (const a of parsed.values()) {
        const group = fgtGroup(t, a.family);
        const object = fgtObject(t, a.canonical);
        const others = fgt.filter((o) => fgtObject(o, a.canonical) === object).map((o) => fgtGroup(o, a.family));
        const sharedObjectGroups = [...new Set(others)].filter((g) => g !== group).sort();
        plan("fortigate", "fgt", fgt.length, group, `${group}${deviceTag(t.connection)}`, group, a.canonical, t, (n, o) =>
          this.child(
            "FortigateAddress",
            n,
            { ...common, connection: t.connection, name: object, address: a.canonical, group, ...(sharedObjectGroups.length > 0 && { sharedObjectGroups }) },
            o,
          ),
        );
      }
    });
    const fmg = args.fortimanager ?? [];
    fmg.forEach((t) => {
      for (const a of parsed.values()) {
        plan("fortimanager", "fmg", fmg.length, t.adminUser, `${t.adminUser}${deviceTag(t.connection)}`, t.adminUser, a.canonical, t, (n, o) =>
          this.child("FortimanagerTrustedHost", n, { ...common, connection: t.connection, adminUser: t.adminUser, address: a.canonical }, o),
        );
      }
    });
    const fgtFeeds = args.fortigateFeeds ?? [];
    fgtFeeds.forEach((t) => {
      for (const a of parsed.values()) {
        plan("fortigate-feed", "fgtfeed", fgtFeeds.length, t.feed, `${t.feed}${deviceTag(t.connection)}`, t.feed, a.canonical, t, (n, o) =>
          this.child("FortigateFeedEntry", n, { ...common, connection: t.connection, feed: t.feed, address: a.canonical }, o),
        );
      }
    });
    const fmgFeeds = args.fortimanagerFeeds ?? [];
    fmgFeeds.forEach((t) => {
      const devices = [...t.devices].sort();
      for (const a of parsed.values()) {
        // The managed devices (and VDOM) are part of what the child is: the same feed on other devices is another child.
        const named = `${t.feed}${deviceTag(t.connection)}-${devices.join("+")}${t.vdom !== undefined ? `/${t.vdom}` : ""}`;
        plan("fortimanager-feed", "fmgfeed", fmgFeeds.length, `${t.feed} on ${devices.join(", ")}`, named, t.feed, a.canonical, t, (n, o) =>
          this.child(
            "FortimanagerFeedEntry",
            n,
            {
              ...common,
              connection: t.connection,
              devices: [...t.devices],
              feed: t.feed,
              ...(t.vdom !== undefined && { vdom: t.vdom }),
              address: a.canonical,
            },
            o,
          ),
        );
      }
    });
    // The old-name form of the FortiManager feed children was `<component>-fmgfeed<i>-<feed>-<address>`.
    for (const [k, p] of plans.entries())
      if (p.kind === "fortimanager-feed") plans[k] = { ...p, oldName: (j) => `${name}-fmgfeed${j}-${p.target.split(" on ")[0]}-${slug(p.address)}` };

    const names = new Map<string, ChildPlan>();
    for (const [k, p] of [...plans.entries()].reverse()) {
      const twin = names.get(p.name);
      // Two different targets that yield the same entry on the stack's own device (FortiGate targets sharing an
      // IPv6 group) are one grant: one child declares it. The same target twice, or devices named by Outputs
      // (which may differ), are refused.
      if (twin && twin.source.connection === undefined && p.source.connection === undefined && JSON.stringify(twin.source) !== JSON.stringify(p.source)) {
        plans.splice(k, 1);
        continue;
      }
      if (twin)
        throw new Error(
          `Grant ${name}: two ${p.kind} targets are the same (${p.target}, ${p.address}): give each its own target, or its connection.url (and VDOM/ADOM) as plain strings so the children are named by device`,
        );
      names.set(p.name, p);
    }
    // Earlier versions named children by list position: each child takes, as an alias, every old name
    // that only it could have had, so existing stacks migrate without a replace, even when targets moved.
    const claims = new Map<string, number>();
    const candidates = plans.map((p) => [...new Set(Array.from({ length: p.positions }, (_, j) => p.oldName(j)))]);
    for (const c of candidates) for (const n of c) claims.set(n, (claims.get(n) ?? 0) + 1);
    const children: GrantChild[] = plans.map((p, k) => {
      const aliases = candidates[k]!.filter((n) => claims.get(n) === 1).map((n) => ({ name: n }));
      return { kind: p.kind, target: p.target, address: p.address, resource: p.build(p.name, { parent: this, aliases }) };
    });

    this.children = children;
    this.granted = pulumi.output(children.map(({ kind, target, address }) => ({ kind, target, address })));
    this.registerOutputs({ granted: this.granted });
  }

  /**
   * Builds one child grant. The provider plugin's `construct` (provider/plugin/grant.ts) overrides it to
   * build the plugin's own resources, since dynamic resources cannot load inside a multi-language component.
   */
  protected child<K extends GrantChildClass>(cls: K, name: string, args: GrantChildArgs<K>, opts: pulumi.CustomResourceOptions): pulumi.CustomResource {
    const Class = CHILD_CLASSES[cls] as new (n: string, a: GrantChildArgs<K>, o: pulumi.CustomResourceOptions) => pulumi.CustomResource;
    return new Class(name, args, opts);
  }
}

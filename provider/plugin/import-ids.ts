/**
 * `pulumi import <type> <name> <id>`: what each resource's id names, parsed with the device's own name
 * rules, and what create records that a read alone does not (so an imported grant's state carries the
 * same outputs as a created one). The engine sends only the id; provider.ts reads the device with what
 * this returns and refuses an id the device does not hold.
 *
 * This belongs to each resource's one declaration (issue 17, "The house shows its rules"): when the
 * declarations exist, each takes its `importId` from here and this file goes.
 *
 * Sets and guards have no id: a set declares a list that only the program knows (a non-exclusive set
 * owns only its own entries, so "the target's current entries" would claim entries other grants or a
 * person put there, and deleting the set would revoke them; a guard owns nothing, its list is the program's
 * grants' addresses); declare them with the `import:` option. An exclusive set could adopt the target's
 * content soundly (not done: the read's entry labels differ per device).
 */
import { mustParseAddress, parseAddress } from "../core/address";
import type { DevicePin } from "../core/grant-lifecycle";
import { addressPath, type Family } from "../devices/fortigate/client";
import { nameProblem, objectNameProblem, vdomProblem } from "../devices/fortinet/names";
import { feedNameProblem } from "../devices/fortinet/feed-entries";
import { DeviceNameSchema } from "../devices/fortimanager/feed-resource";
import { AdminUserSchema } from "../devices/fortimanager/resource";
import { clientFor, resolveConnection } from "../devices/opnsense/connection";
import { aliasNameProblem } from "../devices/opnsense/names";
import { cachedAlias, type GrantMethod } from "../devices/opnsense/preflight";

type Props = Record<string, unknown>;

/** An id that does not name an entry by the device's rules: the message names the part and the rule. */
export class ImportIdProblem extends Error {}

export interface ImportId {
  /** The id's form, as docs/plugin.md and the error messages show it. */
  readonly format: string;
  /** The inputs the id names (what the printed program snippet declares); throws {@link ImportIdProblem}. */
  parse(id: string): Props;
  /**
   * Inputs only the device knows (the FortiGate address object's value and comment), read with `read`
   * (the provider's own read, given a probe state); `undefined` when the device holds nothing by that id.
   */
  complete?(declared: Props, read: (probe: Props) => Promise<Props | undefined>): Promise<Props | undefined>;
  /** The fields the provider's read needs beside the inputs: those create records from the inputs alone. */
  probe(inputs: Props): Props;
  /** What create records beside the read's fields (the entry was there before this stack: adopted). */
  recorded(state: Props): Promise<Props> | Props;
  /** Why the read state is not one grant of these inputs (a FortiGate object outside the named group), or undefined. */
  refuse?(state: Props): string | undefined;
}

function rule(part: string, value: string, problem: string | undefined): void {
  if (problem) throw new ImportIdProblem(`${part} ${JSON.stringify(value)} ${problem}`);
}

function zodRule(part: string, value: string, schema: { safeParse(v: unknown): { success: boolean; error?: { issues: { message: string }[] } } }): void {
  const r = schema.safeParse(value);
  if (!r.success) rule(part, value, r.error?.issues.map((i) => i.message).join("; "));
}

/** `<left>@<address>` split at the last `@` (an address never holds one; a FortiManager admin name may). */
function atAddress(id: string, left: string): [string, string] {
  const at = id.lastIndexOf("@");
  if (at < 0) throw new ImportIdProblem(`no "@": the id is ${left}@<address>`);
  const head = id.slice(0, at);
  const address = id.slice(at + 1);
  if (head.length === 0) throw new ImportIdProblem(`the ${left} part before "@" is empty`);
  const a = parseAddress(address);
  if (!a.ok) throw new ImportIdProblem(`address ${JSON.stringify(address)} ${a.rule}`);
  return [head, a.address.canonical];
}

/** `[<vdom>/]<rest>`: one optional VDOM prefix; more `/` than that is refused by the name rules that follow. */
function vdomPrefix(s: string): { vdom?: string; rest: string } {
  const slash = s.indexOf("/");
  if (slash < 0) return { rest: s };
  const vdom = s.slice(0, slash);
  rule("vdom", vdom, vdomProblem(vdom));
  return { vdom, rest: s.slice(slash + 1) };
}

const scopeOf = (device: unknown, prefix: string): string | undefined => {
  const scope = (device as DevicePin | undefined)?.scope;
  return scope?.startsWith(`${prefix} `) ? scope.slice(prefix.length + 1) : undefined;
};
const cidrFamily = (address: unknown) => {
  const a = mustParseAddress(String(address));
  return { cidr: a.cidr, family: (a.family === 4 ? "ipv4" : "ipv6") as Family };
};

export const IMPORT_IDS: Readonly<Record<string, ImportId>> = {
  // create's id: `<alias>@<address>`; an optional `#config` picks the method.
  OpnsenseAliasEntry: {
    format: "<alias>@<address>[#table|#config]",
    parse(id) {
      const hash = id.indexOf("#");
      const method = hash < 0 ? "table" : id.slice(hash + 1);
      if (method !== "table" && method !== "config") throw new ImportIdProblem(`method ${JSON.stringify(method)} must be "table" or "config"`);
      const [alias, address] = atAddress(hash < 0 ? id : id.slice(0, hash), "<alias>");
      rule("alias", alias, aliasNameProblem(alias));
      return { alias, address, method };
    },
    probe: (i) => ({ cidr: cidrFamily(i.address).cidr }),
    async recorded(s) {
      const conn = resolveConnection({ ...(s.connection as Props), url: (s.device as DevicePin).url }, s.credentials as Props | undefined);
      const client = clientFor(conn);
      const info = await cachedAlias(conn, client, String(s.alias), s.method as GrantMethod);
      return { host: client.host, aliasUuid: info.uuid, aliasType: info.type, adopted: true };
    },
  },
  // The object by name (its value comes from the device), optionally as a member of a group.
  FortigateAddress: {
    format: "<object>, or <group>/<object> (the object as a member of that address group)",
    parse(id) {
      const slash = id.lastIndexOf("/");
      const name = slash < 0 ? id : id.slice(slash + 1);
      rule("object name", name, objectNameProblem(name));
      if (slash < 0) return { name };
      const group = id.slice(0, slash);
      rule("group", group, nameProblem(group));
      return { name, group };
    },
    async complete(declared, read) {
      // The id names no family: the object is in `address` or in `address6`.
      for (const family of ["ipv4", "ipv6"] as const) {
        const s = await read({ ...declared, family });
        if (s) return { ...declared, address: s.address, ...(s.comment ? { comment: s.comment } : {}) };
      }
      return undefined;
    },
    probe: (i) => cidrFamily(i.address),
    recorded(s) {
      const { family } = cidrFamily(s.address);
      return {
        family,
        vdom: scopeOf(s.device, "vdom"),
        objectPath: `${addressPath(family)}/${encodeURIComponent(String(s.name))}`,
        adopted: true,
        ...(s.group !== undefined && { membershipAdded: false }),
      };
    },
    refuse: (s) =>
      s.group !== undefined && s.member === false
        ? `the object ${JSON.stringify(s.name)} is not a member of the address group ${JSON.stringify(s.group)}`
        : undefined,
  },
  FortigateFeedEntry: {
    format: "[<vdom>/]<feed>@<address>",
    parse(id) {
      const [head, address] = atAddress(id, "[<vdom>/]<feed>");
      const { vdom, rest: feed } = vdomPrefix(head);
      rule("feed", feed, feedNameProblem(feed));
      return { feed, address, ...(vdom !== undefined && { connection: { vdom } }) };
    },
    probe: (i) => cidrFamily(i.address),
    recorded: (s) => ({ vdom: scopeOf(s.device, "vdom"), adopted: true }),
  },
  FortimanagerTrustedHost: {
    format: "<admin>@<address>",
    parse(id) {
      const [adminUser, address] = atAddress(id, "<admin>");
      zodRule("admin", adminUser, AdminUserSchema);
      return { adminUser, address };
    },
    probe: (i) => cidrFamily(i.address),
    recorded: () => ({ adopted: true }),
  },
  // The devices are part of the id: the entry is one address on every listed FortiGate.
  FortimanagerFeedEntry: {
    format: "[<vdom>/]<feed>@<address>#<device>[,<device>…]",
    parse(id) {
      const hash = id.indexOf("#");
      if (hash < 0) throw new ImportIdProblem(`no "#<device>[,<device>…]": the id names the managed FortiGates whose feed holds the entry`);
      const devices = id.slice(hash + 1).split(",");
      for (const d of devices) zodRule("device", d, DeviceNameSchema);
      const [head, address] = atAddress(id.slice(0, hash), "[<vdom>/]<feed>");
      const { vdom, rest: feed } = vdomPrefix(head);
      rule("feed", feed, feedNameProblem(feed));
      return { feed, address, devices: [...new Set(devices)].sort(), ...(vdom !== undefined && { vdom }) };
    },
    probe: (i) => cidrFamily(i.address),
    recorded: (s) => ({ adom: scopeOf(s.device, "adom"), adopted: s.heldBy }),
    refuse(s) {
      const held = (s.heldBy as string[] | undefined) ?? [];
      const missing = (s.devices as string[]).filter((d) => !held.includes(d));
      return missing.length > 0
        ? `the feed ${JSON.stringify(s.feed)} on ${missing.join(", ")} does not hold ${String(s.address)} (held by ${held.join(", ") || "none"}); import with the devices that hold it`
        : undefined;
    },
  },
};

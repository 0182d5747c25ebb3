/**
 * `FortigateFeedEntry`: one address in a FortiGate push threat feed, on the FortiGate's REST API
 * (SPEC §4.4, issue 12; docs/reference/fortigate-feeds.md). Inputs, input schema, the provider object
 * and the resource class; the API is feed-client.ts, batching feed-batcher.ts, preflight feed-preflight.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { mustParseAddress, parseAddress, type GrantAddress } from "../../core/address";
import { baseConnectionFields, hostUrlField, ruleField } from "../../core/connection-kit";
import { hostOfUrl } from "../../core/diagnosis";
import { setting, type GrantAddressArgs } from "../../core/dynamic-kit";
import { defineGrantResource } from "../../core/define-resource";
import type { Assert, BaseConnectionInputs, GrantMetaInputs, ResourceOutputs, SameType } from "../../core/resource-declaration";
import { grantMetaFields, grantProvider, type DevicePin, type PinnedState } from "../../core/grant-lifecycle";
import { fingerprint } from "../../core/process-state";
import { resolveDeviceUrl } from "../../core/settings";
import type { FortigateClientOptions } from "./client";
import { feedOp, type TargetOutcome } from "../fortinet/feed-batcher";
import { FortigateFeedClient } from "./feed-client";
import { entryNotTaken, feedNameProblem, pushFailed, withLeftBehind, type FeedCommand } from "../fortinet/feed-entries";
import { feedPreflight } from "./feed-preflight";
import { declareFeedEntry, forgetFeedEntry, keptByOtherKind, otherKindDeclarations } from "../fortinet/feed-identity";
import { vdomProblem } from "../fortinet/names";
import { fortigateConnectionProps, resolveConnection, type FortigateConnection } from "./resource";

export interface FortigateFeedEntryArgs extends GrantAddressArgs {
  /** The FortiGate, as for `FortigateAddress`; each field may also come from stack config `fortigate:<key>` or env `FORTIGATE_<KEY>`. */
  readonly connection?: FortigateConnection;
  /** Name of an existing IP address threat feed (external resource) with update method Push API, in the connection's VDOM. Case-sensitive. */
  readonly feed: pulumi.Input<string>;
}

/** @internal */
export const feedNameField = ruleField(feedNameProblem);
const addressRule = (v: { address: string; allowBroad?: boolean | undefined }, ctx: z.RefinementCtx) => {
  const r = parseAddress(v.address, { allowBroad: v.allowBroad === true });
  if (!r.ok) ctx.addIssue({ code: "custom", path: ["address"], message: r.rule });
};

/** @internal */
export const FortigateFeedEntryInputsSchema = z
  .object({
    connection: z
      .object({ url: hostUrlField, vdom: ruleField(vdomProblem).optional(), ...baseConnectionFields })
      .strict()
      .optional(),
    credentials: z.object({ token: z.string().optional() }).strict().optional(),
    feed: feedNameField,
    address: z.string(),
    allowBroad: z.boolean().optional(),
    ...grantMetaFields,
  })
  .strict()
  .superRefine(addressRule);
/** The provider's inputs, as `check` accepts them ({@link FortigateFeedEntryInputsSchema}). */
export interface FortigateFeedEntryInputs extends GrantMetaInputs {
  connection?: BaseConnectionInputs & { vdom?: string };
  credentials?: { token?: string };
  feed: string;
  address: string;
}
type _InputsAreTheSchema = Assert<SameType<FortigateFeedEntryInputs, z.infer<typeof FortigateFeedEntryInputsSchema>>>;

export interface FortigateFeedEntryState extends FortigateFeedEntryInputs, PinnedState {
  readonly cidr: string;
  readonly family: "ipv4" | "ipv6";
  readonly vdom: string;
  /** The entry text as the feed lists it. */
  readonly entry: string;
  /** True when the feed already listed the address at create (informational: delete removes it all the same). */
  readonly adopted: boolean;
}

const vdomOf = (i: Pick<FortigateFeedEntryInputs, "connection">) => setting("fortigate", "vdom", i.connection?.vdom) ?? "root";
const familyOf = (a: GrantAddress) => (a.family === 4 ? ("ipv4" as const) : ("ipv6" as const));

/** Batch key: one feed of one VDOM reached with one token. */
const batchKey = (o: FortigateClientOptions, vdom: string, feed: string) => `fortigate.feed:${fingerprint(o.url, o.token, vdom, feed)}`;

/** Runs one op on this FortiGate's feed (batched with the grants into the same feed) and answers its one target's outcome. */
async function onFeed(
  o: FortigateClientOptions,
  feed: string,
  kind: FeedCommand | "read",
  address: GrantAddress,
  takeBack = false,
): Promise<{ c: FortigateFeedClient; r: TargetOutcome }> {
  const c = new FortigateFeedClient(o);
  const out = await feedOp(batchKey(o, c.vdom, feed), c.backend(feed), { kind, address, targets: [c.host], takeBack });
  return { c, r: out.get(c.host)! };
}

/** The diagnosis for a failed op on the one FortiGate: the exact one when known, 202103 when the feed did not take it, else 202100. */
function failure(c: FortigateFeedClient, feed: string, address: GrantAddress, command: FeedCommand, r: Extract<TargetOutcome, { ok: false }>): Error {
  if (r.failure.error && !r.failure.notTaken) return r.failure.error;
  if (r.failure.notTaken) return entryNotTaken(c.host, feed, `${c.host} (VDOM "${c.vdom}")`, address.canonical, undefined, r.failure.reason);
  return pushFailed(c.host, feed, address.canonical, command, [{ device: `${c.host} (VDOM "${c.vdom}")`, reason: r.failure.reason }], []);
}

/**
 * True when a `FortimanagerFeedEntry` of the program declares this entry on this very FortiGate (same serial): the
 * delete then leaves it (the shared-address rule across the two kinds, feed-identity.ts). Reads only when such a grant
 * declares the same VDOM, feed and address; a serial that cannot be learnt fails the delete (202100), never a guess.
 */
async function keptThroughManager(o: FortigateClientOptions, s: FortigateFeedEntryState, address: GrantAddress): Promise<boolean> {
  const others = otherKindDeclarations("direct", s.vdom ?? vdomOf(s), s.feed, address.cidr);
  if (others.length === 0) return false;
  const c = new FortigateFeedClient(o);
  const device = `${c.host} (VDOM "${c.vdom}")`;
  const mine = new Map([[await c.serial(), device]]);
  try {
    return (await keptByOtherKind(others, mine)).size > 0;
  } catch (e) {
    throw pushFailed(c.host, s.feed, address.canonical, "remove", [{ device, reason: (e as Error).message }], []);
  }
}

/** The provider object behind {@link FortigateFeedEntry}; tests, the benchmark and the CLI drive it directly. */
export const fortigateFeedEntryProvider = grantProvider<FortigateFeedEntryInputs, FortigateFeedEntryState, FortigateClientOptions>({
  namespace: "fortigate",
  family: "fortinet",
  schema: FortigateFeedEntryInputsSchema,
  placeholders: {
    feed: "placeholder",
    address: "192.0.2.1",
    description: "",
    expiresAt: "2999-01-01T00:00:00Z",
    allowBroad: false,
    connection: {},
    credentials: {},
  },
  outputOnly: ["cidr", "family", "vdom", "entry", "adopted"],
  identity: ["feed", "address"],
  normalise: (i) => ({ ...i, address: mustParseAddress(i.address).canonical }),
  same: (field, a, b) =>
    field === "address" && typeof a === "string" && typeof b === "string" ? mustParseAddress(a).cidr === mustParseAddress(b).cidr : a === b,
  pin: (i) => ({ url: resolveDeviceUrl("fortigate", i.connection?.url, i.connection?.allowHttp), scope: `vdom ${vdomOf(i)}` }),
  connect: (i, pin) => resolveConnection(i, pin),
  hostOf: (pin: DevicePin) => hostOfUrl(pin.url),
  sharedKey: (i, pin) => fingerprint("fortigate-feed", pin.url, pin.scope, i.feed, mustParseAddress(i.address).cidr),
  // Called by `check` only: the same entry may be declared through FortiManager, keyed otherwise (feed-identity.ts).
  sharedKeys: (i, pin) => {
    const grantName = (i as { grantName?: string }).grantName;
    if (grantName !== undefined) {
      const vdom = pin.scope?.replace(/^vdom /, "") ?? vdomOf(i);
      declareFeedEntry(vdom, i.feed, mustParseAddress(i.address).cidr, {
        kind: "direct",
        grantName,
        where: pin.url,
        serials: async () => {
          const c = new FortigateFeedClient(resolveConnection(i, pin));
          return new Map([[await c.serial(), `${c.host} (VDOM "${c.vdom}")`]]);
        },
      });
    }
    return [];
  },
  preflight: (o, i, mode) => feedPreflight(new FortigateFeedClient(o), o, i.feed, mode),

  /** Adds the entry (or adopts it when listed already); success only when the entry list shows it valid. */
  async create(o, i) {
    const address = mustParseAddress(i.address);
    const { c, r } = await onFeed(o, i.feed, "add", address);
    if (!r.ok) {
      // What this create may have put there (marked invalid, dropped, or not shown in time and still able to land) is
      // taken back by a remove sent whatever the list shows: nothing stays without state. Never an entry listed before
      // it that is still listed (feed-batcher.ts `judge`). Where that fails too, the error says the entry stays.
      if (r.failure.pushed === true) {
        const device = `${c.host} (VDOM "${c.vdom}")`;
        const reason = await onFeed(o, i.feed, "remove", address, true).then(
          ({ r: back }) => (back.ok ? undefined : back.failure.reason),
          (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0]!,
        );
        const left = reason === undefined ? [] : [{ device, entries: [address.canonical], reason }];
        throw withLeftBehind(failure(c, i.feed, address, "add", r), c.host, i.feed, left);
      }
      throw failure(c, i.feed, address, "add", r);
    }
    return {
      id: `${c.vdom}/${i.feed}/${address.canonical}`,
      outs: {
        address: address.canonical,
        cidr: address.cidr,
        family: familyOf(address),
        vdom: c.vdom,
        entry: r.entries[0]?.text ?? address.canonical,
        adopted: r.wasPresent,
      },
    };
  },

  /** The entry list as the device holds it: `undefined` when the address is gone (a reboot, a hand edit), so refresh drops it. */
  async read(o, s) {
    const address = mustParseAddress(s.cidr ?? s.address);
    const { c, r } = await onFeed(o, s.feed, "read", address);
    if (!r.ok) throw failure(c, s.feed, address, "add", r);
    return r.present ? { entry: r.entries[0]!.text } : undefined;
  },

  /** Removes every listed text of the address; gone is success. Adopted or not (SPEC §3: delete revokes). */
  async remove(o, s) {
    const address = mustParseAddress(s.cidr ?? s.address);
    if (s.device) forgetFeedEntry(s.device.scope?.replace(/^vdom /, "") ?? vdomOf(s), s.feed, address.cidr, "direct", s.grantName, s.device.url);
    if (await keptThroughManager(o, s, address)) return;
    const { c, r } = await onFeed(o, s.feed, "remove", address);
    if (!r.ok) throw failure(c, s.feed, address, "remove", r);
  },

  // Feed or address changes put another entry in place: the old one can go after the new one is there.
  deleteBeforeReplace: () => false,
});

/** The one declaration of `FortigateFeedEntry`: its inputs are {@link FortigateFeedEntryInputsSchema}. */
export const fortigateFeedEntryDeclaration = defineGrantResource<FortigateFeedEntryArgs, typeof FortigateFeedEntryInputsSchema.shape>({
  kind: "grant",
  module: "fortigate",
  type: "FeedEntry",
  providerExport: "fortigateFeedEntryProvider",
  schema: FortigateFeedEntryInputsSchema,
  connection: fortigateConnectionProps,
  identity: ["feed", "address"],
  outputs: {
    cidr: "The address as a CIDR (`203.0.113.7/32`).",
    family: '"ipv4" or "ipv6".',
    vdom: "The VDOM of the feed.",
    entry: "The entry text as the feed lists it.",
    adopted: "True when the feed already listed the address at create (informational: delete removes it all the same).",
  },
});

/**
 * A Passive+ grant on one FortiGate: the address pushed into an existing IP address threat feed whose
 * update method is the Push API (FortiOS 7.2.1+); firewall policies that reference the feed let it in.
 * Create adopts an entry already listed (`adopted: true`) and succeeds only when the entry list shows it;
 * delete removes it, adopted or not, unless another grant of the program still declares it; refresh drops
 * the grant when the feed no longer lists it (push entries may not survive a reboot: UNCONFIRMED).
 * @example
 * new FortigateFeedEntry("alice", { connection: { url, token: cfg.requireSecret("token") },
 *   feed: "jit-allow", address: "203.0.113.7" });
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface FortigateFeedEntry extends ResourceOutputs<FortigateFeedEntryState> {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class FortigateFeedEntry extends pulumi.dynamic.Resource {
  constructor(name: string, args: FortigateFeedEntryArgs, opts?: pulumi.CustomResourceOptions) {
    super(...fortigateFeedEntryDeclaration.register(name, args, opts));
  }
}

/**
 * `FortigateFeedSet`: a list of addresses in one FortiGate push threat feed, one resource (issue 13), on
 * the shared lifecycle through set-lifecycle.ts; device work in feed-set-ops.ts (one read, one `add`
 * and/or one `remove` push, one read back per change, whatever the number of addresses).
 * Non-exclusive, it manages exactly what it lists; `exclusive: true` makes every other entry of the
 * feed drift (named in `unexpected`, removed by `up`).
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { baseConnectionFields, hostUrlField, ruleField } from "../../core/connection-kit";
import { hostOfUrl } from "../../core/diagnosis";
import { setting } from "../../core/dynamic-kit";
import { defineGrantResource } from "../../core/define-resource";
import type { Assert, BaseConnectionInputs, ResourceOutputs, SameType, SetInputFields } from "../../core/resource-declaration";
import { grantProvider, type DevicePin, type GrantLifecycle } from "../../core/grant-lifecycle";
import { fingerprint } from "../../core/process-state";
import { resolveDeviceUrl } from "../../core/settings";
import {
  loudDiff,
  SET_OUTPUT_DESCRIPTIONS,
  refineAddresses,
  setFields,
  liveWanted,
  setLifecycle,
  wanted,
  type SetEntryInput,
  type SetFields,
  type SetState,
} from "../../core/set-lifecycle";
import type { FortigateClientOptions } from "./client";
import type { TargetFailure } from "../fortinet/feed-batcher";
import { FortigateFeedClient } from "./feed-client";
import { entryNotTaken, feedNameProblem, pushFailed, withLeftBehind } from "../fortinet/feed-entries";
import { feedPreflight } from "./feed-preflight";
import { mergeTargets, readTargets, reconcileFeed, type FeedSetFailures } from "../fortinet/feed-set-ops";
import {
  declareFeedSet,
  forgetFeedSet,
  keepingOtherProcesses,
  keptForOtherProcess,
  keptInFeedByOtherKind,
  type FeedSetIdentity,
} from "../fortinet/feed-identity";
import { vdomProblem } from "../fortinet/names";
import { fortigateConnectionProps, resolveConnection, type FortigateConnection } from "./resource";

export interface FortigateFeedSetArgs {
  /** The FortiGate, as for `FortigateFeedEntry` (stack config `fortigate:<key>` / env `FORTIGATE_<KEY>` fill what is missing). */
  readonly connection?: FortigateConnection;
  /** Name of an existing IP address threat feed with update method Push API, in the connection's VDOM. Case-sensitive. */
  readonly feed: pulumi.Input<string>;
  /** IPv4 and IPv6 hosts or CIDRs (both go into the one feed). Feeds store no description. */
  readonly addresses: pulumi.Input<pulumi.Input<SetEntryInput>[]>;
  /** The feed must hold exactly these entries: any other entry is drift, and `up` removes it. @default false */
  readonly exclusive?: pulumi.Input<boolean>;
  readonly allowBroad?: pulumi.Input<boolean>;
  readonly description?: pulumi.Input<string>;
  /** When the whole set ends (ISO 8601 with a zone). @default no expiry */
  readonly expiresAt?: pulumi.Input<string>;
}

/** @internal */
export const FortigateFeedSetInputsSchema = z
  .object({
    connection: z
      .object({ url: hostUrlField, vdom: ruleField(vdomProblem).optional(), ...baseConnectionFields })
      .strict()
      .optional(),
    credentials: z.object({ token: z.string().optional() }).strict().optional(),
    feed: ruleField(feedNameProblem),
    ...setFields,
  })
  .strict()
  .superRefine(refineAddresses);
/** The provider's inputs, as `check` accepts them ({@link FortigateFeedSetInputsSchema}). */
interface FortigateFeedSetInputsChecked extends SetInputFields {
  connection?: BaseConnectionInputs & { vdom?: string };
  credentials?: { token?: string };
  feed: string;
}
export type FortigateFeedSetInputs = FortigateFeedSetInputsChecked & SetFields;
type _InputsAreTheSchema = Assert<SameType<FortigateFeedSetInputsChecked, z.infer<typeof FortigateFeedSetInputsSchema>>>;
export interface FortigateFeedSetOutputs extends FortigateFeedSetInputs, SetState {}

const vdomOf = (i: Pick<FortigateFeedSetInputs, "connection">) => setting("fortigate", "vdom", i.connection?.vdom) ?? "root";

/** The FortiGate's diagnoses for a failed read or push of the set (as the per-entry grant gives them). */
function failures(c: FortigateFeedClient, feed: string): FeedSetFailures {
  const device = `${c.host} (VDOM "${c.vdom}")`;
  const first = (failed: readonly [string, TargetFailure][]) => failed[0]![1];
  return {
    read: (failed) => first(failed).error ?? pushFailed(c.host, feed, "the set's entries", "add", [{ device, reason: first(failed).reason }], []),
    write: (command, failed, entries) => {
      const f = first(failed);
      if (f.error && !f.notTaken) return f.error;
      const list = entries.join(", ");
      if (f.notTaken) return entryNotTaken(c.host, feed, device, list, undefined, f.reason);
      return pushFailed(c.host, feed, list, command, [{ device, reason: f.reason }], []);
    },
    leftBehind: (error, left) => withLeftBehind(error, c.host, feed, left),
  };
}

const base = setLifecycle<FortigateFeedSetInputs, FortigateClientOptions>(
  {
    namespace: "fortigate",
    family: "fortinet",
    schema: FortigateFeedSetInputsSchema as unknown as z.ZodType<FortigateFeedSetInputs>,
    placeholders: { feed: "placeholder", connection: {}, credentials: {} },
    identity: ["feed"],
    pin: (i) => ({ url: resolveDeviceUrl("fortigate", i.connection?.url, i.connection?.allowHttp), scope: `vdom ${vdomOf(i)}` }),
    connect: (i, pin) => resolveConnection(i, pin),
    hostOf: (pin: DevicePin) => hostOfUrl(pin.url),
    targetOf: (i) => `feed ${i.feed}`,
    keyOf: (_i, e) => e.parsed.cidr,
    // The per-entry resource's key (feed-resource.ts `sharedKey`): a FortigateFeedEntry of the program keeps its address.
    entrySharedKey: (i, pin, cidr) => fingerprint("fortigate-feed", pin.url, pin.scope, i.feed, cidr),
    preflight: (o, i, mode) => feedPreflight(new FortigateFeedClient(o), o, i.feed, mode),
    async current(o, i) {
      const c = new FortigateFeedClient(o);
      const held = await readTargets(c.backend(i.feed), [c.host], failures(c, i.feed));
      return mergeTargets(held, new Set(wanted({ keyOf: (_i, e) => e.parsed.cidr }, i).keys()));
    },
    async reconcile(o, i, plan) {
      const c = new FortigateFeedClient(o);
      const key = `fortigate.feed-set:${fingerprint(o.url, o.token, c.vdom, i.feed)}`;
      // An entry a FortimanagerFeedEntry or FortimanagerFeedSet declares on this same FortiGate (same serial) stays (feed-identity.ts).
      // Only a change that may remove something asks (a create or a pure add reads no serial).
      let kept = new Map<string, Set<string>>();
      if (plan.drop.size > 0 || plan.exclusive)
        try {
          kept = await keptInFeedByOtherKind("direct", vdomOf(i), i.feed, async () => new Map([[await c.serial(), c.host]]), plan);
        } catch (e) {
          throw pushFailed(c.host, i.feed, "the set's entries", "remove", [{ device: c.host, reason: (e as Error).message }], []);
        }
      const mine = kept.get(c.host);
      const here = mine ? { ...plan, keep: (k: string, t?: string) => mine.has(k) || plan.keep(k, t) } : plan;
      const on = keepingOtherProcesses("direct", vdomOf(i), i.feed, here);
      const r = await reconcileFeed(c.backend(i.feed), key, [c.host], on.plan, failures(c, i.feed));
      const unproven = on.unproven();
      if (unproven.length > 0) throw pushFailed(c.host, i.feed, "the set's entries", "remove", [{ device: c.host, reason: keptForOtherProcess(unproven) }], []);
      return r;
    },
  },
  "FortigateFeedSet",
);

const cidrsOf = (i: FortigateFeedSetInputs, live = false) => (live ? liveWanted : wanted)({ keyOf: (_i, e) => e.parsed.cidr }, i).keys();
const nameOf = (i: object) => (i as { grantName?: string }).grantName;
/** This set in feed-identity.ts: a FortimanagerFeedEntry or FortimanagerFeedSet of the same FortiGate (same serial) keeps what it lists. */
const identityOf = (i: FortigateFeedSetInputs, pin: DevicePin): FeedSetIdentity => ({
  kind: "direct",
  resource: "FortigateFeedSet",
  vdom: pin.scope?.replace(/^vdom /, "") ?? vdomOf(i),
  feed: i.feed,
  where: pin.url,
  serials: async () => {
    const c = new FortigateFeedClient(resolveConnection(i, pin));
    return new Map([[await c.serial(), `${c.host} (VDOM "${c.vdom}")`]]);
  },
});

const lifecycle: GrantLifecycle<FortigateFeedSetInputs, FortigateFeedSetInputs & SetState, FortigateClientOptions> = {
  ...base,
  sharedKeys(i, pin) {
    // Not on the lifecycle's URL-less call (cross-URL keys, a NUL-led URL): the call with the real pin follows.
    if (i.guard !== true && !pin.url.startsWith("\u0000")) declareFeedSet(identityOf(i, pin), nameOf(i), cidrsOf(i, true));
    return base.sharedKeys!(i, pin);
  },
  async update(o, olds, news) {
    if (olds.device) {
      const kept = new Set(cidrsOf(news, true));
      forgetFeedSet(
        identityOf(olds, olds.device),
        nameOf(olds),
        [...cidrsOf(olds)].filter((k) => !kept.has(k)),
      );
    }
    return base.update!(o, olds, news);
  },
  async remove(o, s) {
    if (s.device) forgetFeedSet(identityOf(s, s.device), nameOf(s), cidrsOf(s));
    return base.remove(o, s);
  },
};

/** The provider object of {@link FortigateFeedSet}; tests, the benchmark and the CLI drive it directly. */
export const fortigateFeedSetProvider = loudDiff(
  grantProvider<FortigateFeedSetInputs, FortigateFeedSetOutputs, FortigateClientOptions>(lifecycle as never),
  "FortigateFeedSet",
);

/** The one declaration of `FortigateFeedSet`: its inputs are {@link FortigateFeedSetInputsSchema}. */
export const fortigateFeedSetDeclaration = defineGrantResource<FortigateFeedSetArgs, typeof FortigateFeedSetInputsSchema.shape>({
  kind: "set",
  module: "fortigate",
  type: "FeedSet",
  providerExport: "fortigateFeedSetProvider",
  schema: FortigateFeedSetInputsSchema,
  connection: fortigateConnectionProps,
  identity: ["feed"],
  defaults: { exclusive: false },
  outputs: SET_OUTPUT_DESCRIPTIONS,
});

/**
 * A list of addresses in one FortiGate push threat feed, one resource: a change costs one entry-list
 * read, one `add` and/or one `remove` push, and one read back, whatever the number of addresses.
 * Non-exclusive, it manages exactly what it lists; with `exclusive: true` the feed must hold exactly
 * these entries (others are named in `unexpected`, fail `preview --refresh --expect-no-changes`, and
 * `up` removes them).
 * @example
 * new FortigateFeedSet("admins", { feed: "jit-allow", exclusive: true, addresses: ["203.0.113.7", "2001:db8::7"] });
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface FortigateFeedSet extends ResourceOutputs<FortigateFeedSetOutputs> {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class FortigateFeedSet extends pulumi.dynamic.Resource {
  constructor(name: string, args: FortigateFeedSetArgs, opts?: pulumi.CustomResourceOptions) {
    super(...fortigateFeedSetDeclaration.register(name, args, opts));
  }
}

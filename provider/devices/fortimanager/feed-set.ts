/**
 * `FortimanagerFeedSet`: a list of addresses in a push threat feed on every listed FortiGate, through
 * FortiManager's proxy, one resource (issue 13), on the shared lifecycle through set-lifecycle.ts;
 * device work in fortigate/feed-set-ops.ts: a change costs one proxied entry-list read of every device,
 * one proxied `add` and/or `remove` push per group of devices that need the same entries, and one
 * proxied read back, whatever the number of addresses. The manager and the ADOM are the pinned device;
 * `feed` and `vdom` are the identity; `devices` changes in place (a device taken out loses the set's
 * entries, a device added gets them). With `exclusive: true`, any other entry in the feed of any listed
 * device is drift (named with the devices that hold it when not all do) and `up` removes it.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ruleField } from "../../core/connection-kit";
import { diagnose, hostOfUrl } from "../../core/diagnosis";
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
import type { TargetFailure } from "../fortinet/feed-batcher";
import { entryNotTaken, feedNameProblem, pushFailed, withLeftBehind } from "../fortinet/feed-entries";
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
import { FortimanagerClient, type FortimanagerClientOptions } from "./client";
import { FortimanagerFeedClient } from "./feed-client";
import { feedPreflight } from "./feed-preflight";
import { DeviceNameSchema, deviceKey, managedSerials, managedWhere, type FortimanagerFeedConnection } from "./feed-resource";
import { FortimanagerConnectionSchema, FortimanagerCredentialsSchema, fortimanagerConnectionProps, resolveManagerConnection } from "./resource";

export interface FortimanagerFeedSetArgs {
  readonly connection?: FortimanagerFeedConnection;
  /** Managed FortiGates (device names in the ADOM, case-sensitive) whose feed holds the set. At least one. */
  readonly devices: pulumi.Input<pulumi.Input<string>[]>;
  /** VDOM of the feed on each device. @default "root" */
  readonly vdom?: pulumi.Input<string>;
  /** Name of an existing IP address threat feed with update method Push API on each device. Case-sensitive. */
  readonly feed: pulumi.Input<string>;
  /** IPv4 and IPv6 hosts or CIDRs (both go into the one feed). Feeds store no description. */
  readonly addresses: pulumi.Input<pulumi.Input<SetEntryInput>[]>;
  /** Every listed device's feed must hold exactly these entries: any other entry is drift, and `up` removes it. @default false */
  readonly exclusive?: pulumi.Input<boolean>;
  readonly allowBroad?: pulumi.Input<boolean>;
  readonly description?: pulumi.Input<string>;
  /** When the whole set ends (ISO 8601 with a zone). @default no expiry */
  readonly expiresAt?: pulumi.Input<string>;
}

/** @internal */
export const FortimanagerFeedSetInputsSchema = z
  .object({
    connection: FortimanagerConnectionSchema.optional(),
    credentials: FortimanagerCredentialsSchema.optional(),
    devices: z.array(DeviceNameSchema).min(1, "must name at least one managed FortiGate"),
    vdom: ruleField(vdomProblem).optional(),
    feed: ruleField(feedNameProblem),
    ...setFields,
  })
  .strict()
  .superRefine(refineAddresses);
/** The provider's inputs, as `check` accepts them ({@link FortimanagerFeedSetInputsSchema}). */
interface FortimanagerFeedSetInputsChecked extends SetInputFields {
  connection?: BaseConnectionInputs & { username?: string; adom?: string };
  credentials?: { token?: string; password?: string };
  devices: string[];
  feed: string;
  vdom?: string;
}
export type FortimanagerFeedSetInputs = FortimanagerFeedSetInputsChecked & SetFields;
type _InputsAreTheSchema = Assert<SameType<FortimanagerFeedSetInputsChecked, z.infer<typeof FortimanagerFeedSetInputsSchema>>>;
export interface FortimanagerFeedSetOutputs extends FortimanagerFeedSetInputs, SetState {}

type Options = FortimanagerClientOptions & { readonly adom: string };

const adomOf = (i: Pick<FortimanagerFeedSetInputs, "connection">) => setting("fortimanager", "adom", i.connection?.adom) ?? "root";
const vdomOf = (i: { vdom?: string | undefined }) => i.vdom ?? "root";
const sortedUnique = (xs: readonly string[]) => [...new Set(xs)].sort();

/** Runs `fn` as one client operation (a login session is logged out when the last one ends). */
const operation = <T>(o: Options, vdom: string, fn: (c: FortimanagerFeedClient) => Promise<T>): Promise<T> => {
  const fmg = new FortimanagerClient(o);
  return fmg.operation(() => fn(new FortimanagerFeedClient(fmg, o.adom, vdom)));
};

/** The manager's diagnoses: one shared exact diagnosis when every device failed with it, else 202104 (read), 202103 (not taken), 202100 naming each device. */
function failures(c: FortimanagerFeedClient, feed: string): FeedSetFailures {
  const shared = (failed: readonly [string, TargetFailure][]) => {
    const errors = failed.map(([, f]) => f.error);
    return errors.every((e) => e !== undefined && e === errors[0]) && errors[0]!.code !== "202090" ? errors[0] : undefined;
  };
  const named = (failed: readonly [string, TargetFailure][]) => failed.map(([d, f]) => ({ device: d, reason: f.reason }));
  return {
    read: (failed) =>
      shared(failed) ??
      diagnose("202104", {
        host: c.host,
        detail: `the feed "${feed}" could not be read on ${named(failed)
          .map((r) => `${r.device}: ${r.reason}`)
          .join("; ")}; the set stays in state as it was`,
        vars: { device: failed.map(([d]) => d).join(", "), adom: c.adom },
      }),
    write: (command, failed, entries, held) => {
      const one = shared(failed);
      if (one) return one;
      const list = entries.join(", ");
      if (command === "add" && failed.every(([, f]) => f.notTaken))
        return entryNotTaken(c.host, feed, failed.map(([d]) => d).join(", "), list, undefined, failed.map(([d, f]) => `${d}: ${f.reason}`).join("; "));
      return pushFailed(c.host, feed, list, command, named(failed), held);
    },
    leftBehind: (error, left) => withLeftBehind(error, c.host, feed, left),
  };
}

const feedKeyOf = (c: FortimanagerFeedClient, feed: string) => `fortimanager.feed-set:${fingerprint(c.fmg.identity, c.adom, c.vdom, feed)}`;
const cidrKeys = (i: FortimanagerFeedSetInputs) => new Set(wanted({ keyOf: (_i, e) => e.parsed.cidr }, i).keys());

const base = setLifecycle<FortimanagerFeedSetInputs, Options>(
  {
    namespace: "fortimanager",
    family: "fortinet",
    schema: FortimanagerFeedSetInputsSchema as unknown as z.ZodType<FortimanagerFeedSetInputs>,
    placeholders: { devices: ["placeholder"], vdom: "root", feed: "placeholder", connection: {}, credentials: {} },
    identity: ["feed", "vdom"],
    // Order and repeats of `devices` are cosmetic: never a diff.
    normalise: (i) => ({ ...i, devices: sortedUnique(i.devices), vdom: vdomOf(i) }),
    // The ADOM scopes the targets: a change of manager or ADOM is another device (replace).
    pin: (i) => ({ url: resolveDeviceUrl("fortimanager", i.connection?.url, i.connection?.allowHttp), scope: `adom ${adomOf(i)}` }),
    connect: (i, pin) => ({ ...resolveManagerConnection(i, pin), adom: pin.scope?.replace(/^adom /, "") ?? adomOf(i) }),
    hostOf: (pin) => hostOfUrl(pin.url),
    targetOf: (i) => `feed ${i.feed} (VDOM ${vdomOf(i)}) on ${sortedUnique(i.devices).join(", ")}`,
    keyOf: (_i, e) => e.parsed.cidr,
    // The per-entry resource's key (feed-resource.ts `sharedKey`): a FortimanagerFeedEntry of the program keeps its address.
    entrySharedKey: (i, pin, cidr) => fingerprint("fortimanager-feed", pin.url, pin.scope, vdomOf(i), i.feed, cidr),
    // Shared addresses are per device (FortiGate + VDOM + feed): a grant naming the address on one device keeps it
    // there only, and a FortimanagerFeedEntry's delete keeps it on the devices this set lists.
    targetsOf: (i) => sortedUnique(i.devices),
    entryTargetKey: (i, pin, cidr, device) => deviceKey(pin, vdomOf(i), i.feed, cidr, device),
    preflight: (o, i, mode) => operation(o, vdomOf(i), (c) => feedPreflight(c, i.feed, sortedUnique(i.devices), mode)),
    current: (o, i) =>
      operation(o, vdomOf(i), async (c) => mergeTargets(await readTargets(c.backend(i.feed), sortedUnique(i.devices), failures(c, i.feed)), cidrKeys(i))),
    reconcile: (o, i, plan) =>
      operation(o, vdomOf(i), async (c) => {
        const devices = sortedUnique(i.devices);
        // An entry a FortigateFeedEntry or FortigateFeedSet declares directly on one of these FortiGates (same serial) stays there (feed-identity.ts).
        // Only a change that may remove something asks (a create or a pure add reads no serial).
        let kept = new Map<string, Set<string>>();
        if (plan.drop.size > 0 || plan.exclusive)
          try {
            kept = await keptInFeedByOtherKind("managed", vdomOf(i), i.feed, () => managedSerials(c, devices), plan);
          } catch (e) {
            throw pushFailed(hostOfUrl(o.url), i.feed, "the set's entries", "remove", [{ device: devices.join(", "), reason: (e as Error).message }], []);
          }
        const here = kept.size > 0 ? { ...plan, keep: (k: string, t?: string) => (t !== undefined && kept.get(t)?.has(k)) || plan.keep(k, t) } : plan;
        const on = keepingOtherProcesses("managed", vdomOf(i), i.feed, here);
        const r = await reconcileFeed(c.backend(i.feed), feedKeyOf(c, i.feed), devices, on.plan, failures(c, i.feed));
        const unproven = on.unproven();
        if (unproven.length > 0)
          throw pushFailed(
            hostOfUrl(o.url),
            i.feed,
            "the set's entries",
            "remove",
            [{ device: devices.join(", "), reason: keptForOtherProcess(unproven) }],
            [],
          );
        return r;
      }),
  },
  "FortimanagerFeedSet",
);

const liveCidrs = (i: FortimanagerFeedSetInputs) => liveWanted({ keyOf: (_i, e) => e.parsed.cidr }, i).keys();
const nameOf = (i: object) => (i as { grantName?: string }).grantName;
/** This set in feed-identity.ts: a FortigateFeedEntry or FortigateFeedSet reaching one of its FortiGates directly (same serial) keeps what it lists there. */
const identityOf = (i: FortimanagerFeedSetInputs, pin: DevicePin): FeedSetIdentity => ({
  kind: "managed",
  resource: "FortimanagerFeedSet",
  vdom: vdomOf(i),
  feed: i.feed,
  where: managedWhere(pin, i.devices),
  serials: () => operation(base.connect(i, pin), vdomOf(i), (c) => managedSerials(c, sortedUnique(i.devices))),
});

/** The set's own key must not depend on `devices` (it changes in place): the set-lifecycle `targetOf` names them, so key on feed and VDOM. */
const lifecycle: GrantLifecycle<FortimanagerFeedSetInputs, FortimanagerFeedSetInputs & SetState, Options> = {
  ...base,
  sharedKey: (i, pin) => fingerprint("set", pin.url, pin.scope, `feed ${i.feed} (VDOM ${vdomOf(i)})`, (i as { grantName?: string }).grantName),
  sharedKeys(i, pin) {
    // Not on the lifecycle's URL-less call (cross-URL keys, a NUL-led URL): the call with the real pin follows.
    if (i.guard !== true && !pin.url.startsWith("\u0000")) declareFeedSet(identityOf(i, pin), nameOf(i), liveCidrs(i));
    return base.sharedKeys!(i, pin);
  },
  async remove(o, s) {
    if (s.device) forgetFeedSet(identityOf(s, s.device), nameOf(s), cidrKeys(s));
    return base.remove(o, s);
  },
  /** Devices taken out of `devices` lose the set's entries first (unless another grant declares them); then the set is reconciled on the rest. */
  async update(o, olds, news) {
    // What it no longer lists goes from feed-identity.ts (what it keeps, its `check` declared again with the new devices).
    if (olds.device) {
      const kept = new Set(liveCidrs(news));
      forgetFeedSet(
        identityOf(olds, olds.device),
        nameOf(olds),
        [...cidrKeys(olds)].filter((k) => !kept.has(k)),
      );
    }
    const dropped = sortedUnique(olds.devices).filter((d) => !news.devices.includes(d));
    if (dropped.length > 0) await base.remove(o, { ...olds, devices: dropped });
    return base.update!(o, olds, news);
  },
};

/** The provider object of {@link FortimanagerFeedSet}; tests, the benchmark and the CLI drive it directly. */
export const fortimanagerFeedSetProvider = loudDiff(
  grantProvider<FortimanagerFeedSetInputs, FortimanagerFeedSetOutputs, Options>(lifecycle as never),
  "FortimanagerFeedSet",
);

/** The one declaration of `FortimanagerFeedSet`: its inputs are {@link FortimanagerFeedSetInputsSchema}. */
export const fortimanagerFeedSetDeclaration = defineGrantResource<FortimanagerFeedSetArgs, typeof FortimanagerFeedSetInputsSchema.shape>({
  kind: "set",
  module: "fortimanager",
  type: "FeedSet",
  providerExport: "fortimanagerFeedSetProvider",
  schema: FortimanagerFeedSetInputsSchema,
  connection: fortimanagerConnectionProps,
  identity: ["feed", "vdom"],
  defaults: { exclusive: false },
  outputs: SET_OUTPUT_DESCRIPTIONS,
});

/**
 * A list of addresses in a push threat feed on several FortiGates through FortiManager, one resource:
 * a change costs one proxied read of every device, one proxied `add` and/or `remove` push (one call for
 * all devices that need the same entries) and one proxied read back, whatever the number of addresses.
 * Non-exclusive, it manages exactly what it lists; with `exclusive: true` every listed device's feed
 * must hold exactly these entries (others are named in `unexpected`, fail `preview --refresh
 * --expect-no-changes`, and `up` removes them).
 * @example
 * new FortimanagerFeedSet("admins", { devices: ["fgt-hq", "fgt-br1"], feed: "jit-allow", exclusive: true,
 *   addresses: ["203.0.113.7", "2001:db8::7"] });
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface FortimanagerFeedSet extends ResourceOutputs<FortimanagerFeedSetOutputs> {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class FortimanagerFeedSet extends pulumi.dynamic.Resource {
  constructor(name: string, args: FortimanagerFeedSetArgs, opts?: pulumi.CustomResourceOptions) {
    super(...fortimanagerFeedSetDeclaration.register(name, args, opts));
  }
}

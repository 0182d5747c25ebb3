/**
 * `FortimanagerTrustedHostSet` (a list of addresses in an administrator's trusted-host slots 2..10, one
 * resource) and `FortimanagerTrustedHostGuard` (the slots may hold only what the program's
 * `FortimanagerTrustedHost` grants declare), issue 13, on the shared lifecycle through set-lifecycle.ts;
 * device work in set-ops.ts. Slot 1 is never an entry and never written.
 */
import { fortimanagerConnectionProps, resolveManagerConnection } from "./resource";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { mustParseAddress, parseAddress } from "../../core/address";
import { hostOfUrl } from "../../core/diagnosis";

import { defineGrantResource } from "../../core/define-resource";
import type { Assert, BaseConnectionInputs, ResourceOutputs, SameType, SetInputFields } from "../../core/resource-declaration";
import { grantProvider } from "../../core/grant-lifecycle";
import { fingerprint } from "../../core/process-state";
import { resolveDeviceUrl } from "../../core/settings";
import {
  guardInputs,
  loudDiff,
  SET_OUTPUT_DESCRIPTIONS,
  normaliseEntries,
  refineAddresses,
  setFields,
  setLifecycle,
  type SetEntryInput,
  type SetFields,
  type SetState,
} from "../../core/set-lifecycle";
import { FortimanagerClient, type FortimanagerClientOptions } from "./client";
import { changePreflight, preflight } from "./preflight";
import { AdminUserSchema, TrustedHostInputsSchema, type FortimanagerConnection } from "./resource";
import { currentSlots, reconcileSlots } from "./set-ops";
import { FIRST_WRITABLE_SLOT, SLOT_COUNT, unusedSlotProblem } from "./slots";

interface AdminTargetArgs {
  readonly connection?: FortimanagerConnection;
  /** The administrator whose trusted hosts the set manages; case-sensitive. */
  readonly adminUser: pulumi.Input<string>;
  readonly description?: pulumi.Input<string>;
  /** When the whole set ends (ISO 8601 with a zone). @default no expiry */
  readonly expiresAt?: pulumi.Input<string>;
}

export interface FortimanagerTrustedHostSetArgs extends AdminTargetArgs {
  /** Up to 9 IPv4 and 9 IPv6 addresses (slots 2..10 of each family). */
  readonly addresses: pulumi.Input<pulumi.Input<SetEntryInput>[]>;
  /** Slots 2..10 must hold exactly these addresses: anything else there is drift, and `up` resets it. Slot 1 stays untouched. @default false */
  readonly exclusive?: pulumi.Input<boolean>;
  readonly allowBroad?: pulumi.Input<boolean>;
}

export interface FortimanagerTrustedHostGuardArgs extends AdminTargetArgs {
  /** The `FortimanagerTrustedHost` grants of this administrator the program declares. */
  readonly grants: readonly { readonly address: pulumi.Input<string> }[];
}

const shape = TrustedHostInputsSchema.shape;
const SLOTS_PER_FAMILY = SLOT_COUNT - FIRST_WRITABLE_SLOT + 1;

/** @internal */
export const TrustedHostSetInputsSchema = z
  .object({ connection: shape.connection, credentials: shape.credentials, adminUser: AdminUserSchema, ...setFields })
  .strict()
  .superRefine(refineAddresses)
  .superRefine((v, ctx) => {
    v.addresses.forEach((e, i) => {
      const r = parseAddress(typeof e === "string" ? e : e.address, { allowBroad: true });
      const problem = r.ok ? unusedSlotProblem(r.address) : undefined;
      if (problem) ctx.addIssue({ code: "custom", path: ["addresses", i, ...(typeof e === "string" ? [] : ["address"])], message: problem });
    });
    const entries = normaliseEntries(v.addresses, true);
    for (const fam of [4, 6] as const) {
      const n = entries.filter((e) => mustParseAddress(e.address).family === fam).length;
      if (n > SLOTS_PER_FAMILY)
        ctx.addIssue({
          code: "custom",
          path: ["addresses"],
          message: `at most ${SLOTS_PER_FAMILY} IPv${fam} addresses: an administrator has trusted-host slots 2..10 (slot 1 is never written), got ${n}`,
        });
    }
  });
/** The provider's inputs, as `check` accepts them ({@link TrustedHostSetInputsSchema}). */
interface TrustedHostSetInputsChecked extends SetInputFields {
  connection?: BaseConnectionInputs & { username?: string; adom?: string };
  credentials?: { token?: string; password?: string };
  adminUser: string;
}
export type TrustedHostSetInputs = TrustedHostSetInputsChecked & SetFields;
type _InputsAreTheSchema = Assert<SameType<TrustedHostSetInputsChecked, z.infer<typeof TrustedHostSetInputsSchema>>>;
export interface TrustedHostSetOutputs extends TrustedHostSetInputs, SetState {}

const operation = <T>(o: FortimanagerClientOptions, fn: (client: FortimanagerClient) => Promise<T>): Promise<T> => new FortimanagerClient(o).operation(fn);

const lifecycle = setLifecycle<TrustedHostSetInputs, FortimanagerClientOptions>(
  {
    namespace: "fortimanager",
    family: "fortinet",
    schema: TrustedHostSetInputsSchema as unknown as z.ZodType<TrustedHostSetInputs>,
    placeholders: { adminUser: "placeholder", connection: {}, credentials: {} },
    identity: ["adminUser"],
    pin: (i) => ({ url: resolveDeviceUrl("fortimanager", i.connection?.url, i.connection?.allowHttp) }),
    connect: resolveManagerConnection,
    hostOf: (pin) => hostOfUrl(pin.url),
    targetOf: (i) => `administrator ${i.adminUser}`,
    keyOf: (_i, e) => e.parsed.cidr,
    // The per-entry resource's key (fortimanager/resource.ts `sharedKey`).
    entrySharedKey: (i, pin, cidr) => fingerprint("fortimanager", pin.url, i.adminUser, cidr),
    // An in-place change: who writes and that it may, not the target (the change reads it), preflight.ts `changePreflight`.
    preflight: (o, i, mode, { existing }) =>
      operation<unknown>(o, (client) => (existing && mode === "full" ? changePreflight(client, i.adminUser) : preflight(client, i.adminUser, mode))),
    current: (o, i) => operation(o, (client) => currentSlots(client, i.adminUser)),
    reconcile: (o, i, plan) => operation(o, (client) => reconcileSlots(client, i.adminUser, plan)),
  },
  "FortimanagerTrustedHostSet",
);

/** The provider object of {@link FortimanagerTrustedHostSet} and {@link FortimanagerTrustedHostGuard}. */
export const fortimanagerTrustedHostSetProvider = loudDiff(
  grantProvider<TrustedHostSetInputs, TrustedHostSetOutputs, FortimanagerClientOptions>(lifecycle as never),
  "FortimanagerTrustedHostSet",
);

/** The one declaration of `FortimanagerTrustedHostSet`: its inputs are {@link TrustedHostSetInputsSchema}. */
export const fortimanagerTrustedHostSetDeclaration = defineGrantResource<FortimanagerTrustedHostSetArgs, typeof TrustedHostSetInputsSchema.shape>({
  kind: "set",
  module: "fortimanager",
  type: "TrustedHostSet",
  providerExport: "fortimanagerTrustedHostSetProvider",
  schema: TrustedHostSetInputsSchema,
  connection: fortimanagerConnectionProps,
  identity: ["adminUser"],
  defaults: { exclusive: false },
  outputs: SET_OUTPUT_DESCRIPTIONS,
});

/** The one declaration of `FortimanagerTrustedHostGuard`: a set (same schema and provider) over the addresses its grants hold. */
export const fortimanagerTrustedHostGuardDeclaration = defineGrantResource<FortimanagerTrustedHostGuardArgs, typeof TrustedHostSetInputsSchema.shape>({
  kind: "guard",
  module: "fortimanager",
  type: "TrustedHostGuard",
  providerExport: "fortimanagerTrustedHostSetProvider",
  schema: TrustedHostSetInputsSchema,
  connection: fortimanagerConnectionProps,
  identity: ["adminUser"],
  fixed: (args) => guardInputs(pulumi.all(args.grants.map((g) => g.address))),
  outputs: SET_OUTPUT_DESCRIPTIONS,
});

/**
 * A list of addresses in a FortiManager administrator's trusted-host slots 2..10, one resource, written
 * with ONE update per administrator. Non-exclusive, it manages exactly what it lists; with `exclusive:
 * true` slots 2..10 must hold exactly these addresses (others are named in `unexpected`, fail
 * `preview --refresh --expect-no-changes`, and `up` resets them). Slot 1 is never touched.
 * @example
 * new FortimanagerTrustedHostSet("alice", { adminUser: "alice", exclusive: true,
 *   addresses: ["203.0.113.7", "2001:db8::7"] });
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface FortimanagerTrustedHostSet extends ResourceOutputs<TrustedHostSetOutputs> {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class FortimanagerTrustedHostSet extends pulumi.dynamic.Resource {
  constructor(name: string, args: FortimanagerTrustedHostSetArgs, opts?: pulumi.CustomResourceOptions) {
    super(...fortimanagerTrustedHostSetDeclaration.register(name, args, opts));
  }
}

/**
 * Guards an administrator whose trusted hosts are granted one by one (`FortimanagerTrustedHost`): any
 * address in slots 2..10 the listed grants do not hold is drift and `up` resets its slot. It never adds
 * anything; deleting it removes nothing; slot 1 is never touched.
 * @example
 * const a = new FortimanagerTrustedHost("alice-laptop", { adminUser: "alice", address: "203.0.113.7" });
 * new FortimanagerTrustedHostGuard("alice-guard", { adminUser: "alice", grants: [a] });
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface FortimanagerTrustedHostGuard extends ResourceOutputs<TrustedHostSetOutputs> {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class FortimanagerTrustedHostGuard extends pulumi.dynamic.Resource {
  constructor(name: string, args: FortimanagerTrustedHostGuardArgs, opts?: pulumi.CustomResourceOptions) {
    super(...fortimanagerTrustedHostGuardDeclaration.register(name, args, opts));
  }
}

/**
 * `FortigateAddressSet` (a list of addresses as members of one address group, one resource) and
 * `FortigateGroupGuard` (the group may hold only the members the program's `FortigateAddress` grants
 * declare), issue 13, on the shared lifecycle through set-lifecycle.ts; device work in set-ops.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { hostOfUrl } from "../../core/diagnosis";
import { setting } from "../../core/dynamic-kit";
import { defineGrantResource } from "../../core/define-resource";
import type { Assert, BaseConnectionInputs, ResourceOutputs, SameType, SetInputFields } from "../../core/resource-declaration";
import { declaredByOther, grantProvider, type DevicePin } from "../../core/grant-lifecycle";
import { fingerprint } from "../../core/process-state";
import { resolveDeviceUrl } from "../../core/settings";
import { byteLengthProblem } from "../../core/text-rules";
import {
  guardInputs,
  loudDiff,
  SET_OUTPUT_DESCRIPTIONS,
  refineAddresses,
  setFields,
  setLifecycle,
  wanted,
  type SetEntryInput,
  type SetFields,
  type SetState,
  type WantedEntry,
} from "../../core/set-lifecycle";
import { FortigateClient, type FortigateClientOptions } from "./client";
import { objectDeclKey } from "./grant";
import { nameProblem, objectNameProblem } from "../fortinet/names";
import { changePreflight, preflight } from "./preflight";
import { FortigateAddressInputsSchema, fortigateConnectionProps, resolveConnection, type FortigateConnection } from "./resource";
import { currentMembers, entryKey, familiesOf, familyOfAddress, groupFor, objectName, reconcileGroup, type GroupTarget } from "./set-ops";

interface GroupTargetArgs {
  readonly connection?: FortigateConnection;
  /** Existing address group (IPv4 members; IPv6 members too unless `group6` is given). Never created here. */
  readonly group: pulumi.Input<string>;
  /** Existing IPv6 address group (`addrgrp6`) for IPv6 entries. @default group */
  readonly group6?: pulumi.Input<string>;
  readonly description?: pulumi.Input<string>;
  /** When the whole set ends (ISO 8601 with a zone). @default no expiry */
  readonly expiresAt?: pulumi.Input<string>;
}

export interface FortigateAddressSetArgs extends GroupTargetArgs {
  /** The addresses, each optionally `{ address, description, expiresAt }` (the description becomes the object's comment; `expiresAt` ends that entry alone). */
  readonly addresses: pulumi.Input<pulumi.Input<SetEntryInput>[]>;
  /** Object names are this prefix plus the address (`/` written as `_`): `grant-203.0.113.7`, `grant-10.0.0.0_24`. @default "grant-" */
  readonly namePrefix?: pulumi.Input<string>;
  /** The group must hold exactly these members: any other member is drift, and `up` takes it out of the group. @default false */
  readonly exclusive?: pulumi.Input<boolean>;
  readonly allowBroad?: pulumi.Input<boolean>;
}

export interface FortigateGroupGuardArgs extends GroupTargetArgs {
  /** The `FortigateAddress` grants of this group the program declares: any other member is drift, and `up` takes it out. */
  readonly grants: readonly { readonly name: pulumi.Input<string>; readonly address: pulumi.Input<string> }[];
}

const shape = FortigateAddressInputsSchema.shape;
const groupName = z.string().superRefine((v, ctx) => {
  const p = nameProblem(v);
  if (p) ctx.addIssue({ code: "custom", message: p });
});

/** @internal */
export const AddressSetInputsSchema = z
  .object({
    connection: shape.connection,
    credentials: shape.credentials,
    group: groupName,
    group6: groupName.optional(),
    namePrefix: z.string().default("grant-"),
    ...setFields,
  })
  .strict()
  .superRefine(refineAddresses)
  .superRefine((v, ctx) => {
    // 40 bytes: the address follows the prefix in a name of at most 79 bytes (FortiOS counts bytes).
    const p =
      v.namePrefix === ""
        ? undefined
        : (byteLengthProblem(v.namePrefix, 40, "the address follows it in a 79-byte name; FortiOS") ?? objectNameProblem(v.namePrefix));
    if (p) ctx.addIssue({ code: "custom", path: ["namePrefix"], message: p });
    v.addresses.forEach((e, i) => {
      const n = typeof e === "string" ? undefined : e.name;
      const q = n === undefined ? undefined : objectNameProblem(n);
      if (q) ctx.addIssue({ code: "custom", path: ["addresses", i, "name"], message: q });
    });
  });
/** The provider's inputs, as `check` accepts them ({@link AddressSetInputsSchema}). */
interface AddressSetInputsChecked extends SetInputFields {
  connection?: BaseConnectionInputs & { vdom?: string };
  credentials?: { token?: string };
  group: string;
  group6?: string;
  namePrefix: string;
}
export type AddressSetInputs = AddressSetInputsChecked & SetFields;
type _InputsAreTheSchema = Assert<SameType<AddressSetInputsChecked, z.infer<typeof AddressSetInputsSchema>>>;
export interface AddressSetOutputs extends AddressSetInputs, SetState {}

const vdomOf = (i: AddressSetInputs) => setting("fortigate", "vdom", i.connection?.vdom) ?? "root";
const targetOf = (i: AddressSetInputs): GroupTarget => ({ group: i.group, group6: i.group6, namePrefix: i.namePrefix });

const keyOf = (i: AddressSetInputs, e: WantedEntry) => entryKey(familyOfAddress(e.parsed), objectName(targetOf(i), e));
const familyOfKey = (key: string) => (key.startsWith("ipv6:") ? "ipv6" : "ipv4");

const lifecycle = setLifecycle<AddressSetInputs, FortigateClientOptions>(
  {
    namespace: "fortigate",
    family: "fortinet",
    schema: AddressSetInputsSchema as unknown as z.ZodType<AddressSetInputs>,
    placeholders: { group: "placeholder", group6: "placeholder", namePrefix: "grant-", connection: {}, credentials: {} },
    identity: ["group", "group6", "namePrefix"],
    pin: (i) => ({ url: resolveDeviceUrl("fortigate", i.connection?.url, i.connection?.allowHttp), scope: `vdom ${vdomOf(i)}` }),
    connect: (i, pin) => resolveConnection(i, pin),
    hostOf: (pin) => hostOfUrl(pin.url),
    targetOf: (i) => `group ${i.group}${i.group6 ? `/${i.group6}` : ""}`,
    keyOf,
    // The per-entry resource's key (fortigate/resource.ts `sharedKey`): object name + group on the device.
    entrySharedKey: (i, pin, key) => {
      const f = key.startsWith("ipv6:") ? "ipv6" : "ipv4";
      return fingerprint("fortigate", pin.url, pin.scope, key.slice(5), groupFor(targetOf(i), f));
    },
    // The object apart from its membership in this group: per-entry grants and other sets may use it in another group.
    entryDeviceKeys: (_i, pin, key) => [objectDeclKey(pin, familyOfKey(key), key.slice(5))],
    async preflight(o, i, mode, { existing }) {
      // An in-place change: the write probe alone (preflight.ts `changePreflight`); its own reads prove the group.
      const run = existing && mode === "full" ? changePreflight : preflight;
      for (const f of familiesOf(targetOf(i), wantedOf(i), i.exclusive || i.guard === true)) {
        await run(new FortigateClient(o), o.url, o.token, { family: f, group: groupFor(targetOf(i), f) }, mode);
      }
    },
    // A guard adds nothing, so it never claims a listed object that is not a member.
    current: (o, i) =>
      currentMembers(o, targetOf(i), familiesOf(targetOf(i), wantedOf(i), i.exclusive || i.guard === true), i.guard === true ? undefined : wanted(BY_KEY, i)),
    reconcile: (o, i, plan) => {
      const { device: pin, grantName } = i as { device?: DevicePin | string; grantName?: string };
      const keepObject = (k: string) => typeof pin === "object" && declaredByOther(objectDeclKey(pin, familyOfKey(k), k.slice(5)), grantName);
      const listed = wanted({ keyOf }, i);
      return reconcileGroup(o, targetOf(i), plan, { listed, keepObject });
    },
  },
  "FortigateAddressSet",
);

// Module constants: `wanted` computes once per device part and inputs object.
const BY_KEY = { keyOf: (x: AddressSetInputs, e: WantedEntry) => keyOf(x, e) };
const BY_ADDRESS = { keyOf: (_x: AddressSetInputs, e: WantedEntry) => e.address };
function wantedOf(i: AddressSetInputs) {
  return [...wanted(BY_ADDRESS, i).values()];
}

/** The provider object of {@link FortigateAddressSet} and {@link FortigateGroupGuard}. */
export const fortigateAddressSetProvider = loudDiff(
  grantProvider<AddressSetInputs, AddressSetOutputs, FortigateClientOptions>(lifecycle as never),
  "FortigateAddressSet",
);

/** The one declaration of `FortigateAddressSet`: its inputs are {@link AddressSetInputsSchema}. */
export const fortigateAddressSetDeclaration = defineGrantResource<FortigateAddressSetArgs, typeof AddressSetInputsSchema.shape>({
  kind: "set",
  module: "fortigate",
  type: "AddressSet",
  providerExport: "fortigateAddressSetProvider",
  schema: AddressSetInputsSchema,
  connection: fortigateConnectionProps,
  identity: ["group", "group6", "namePrefix"],
  defaults: { namePrefix: "grant-", exclusive: false },
  outputs: SET_OUTPUT_DESCRIPTIONS,
});

/** The one declaration of `FortigateGroupGuard`: a set (same schema and provider) over the objects its grants hold. */
export const fortigateGroupGuardDeclaration = defineGrantResource<FortigateGroupGuardArgs, typeof AddressSetInputsSchema.shape>({
  kind: "guard",
  module: "fortigate",
  type: "GroupGuard",
  providerExport: "fortigateAddressSetProvider",
  schema: AddressSetInputsSchema,
  connection: fortigateConnectionProps,
  identity: ["group", "group6", "namePrefix"],
  defaults: { namePrefix: "grant-" },
  fixed: (args) => guardInputs(pulumi.all(args.grants.map((g) => pulumi.all([g.name, g.address]).apply(([n, a]) => ({ address: a, name: n }))))),
  outputs: SET_OUTPUT_DESCRIPTIONS,
});

/**
 * A list of addresses as members of one FortiGate address group, one resource: each address is an
 * object named from `namePrefix` and the address. Non-exclusive, it manages exactly what it lists; with
 * `exclusive: true` the group must hold exactly these members (others are named in `unexpected`, fail
 * `preview --refresh --expect-no-changes`, and `up` takes them out of the group).
 * @example
 * new FortigateAddressSet("admins", { group: "jit-admins", group6: "jit-admins6", exclusive: true,
 *   addresses: ["203.0.113.7", { address: "2001:db8::7", description: "alice" }] });
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface FortigateAddressSet extends ResourceOutputs<AddressSetOutputs> {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class FortigateAddressSet extends pulumi.dynamic.Resource {
  constructor(name: string, args: FortigateAddressSetArgs, opts?: pulumi.CustomResourceOptions) {
    super(...fortigateAddressSetDeclaration.register(name, args, opts));
  }
}

/**
 * Guards a group whose members are granted one by one (`FortigateAddress`): any member the listed
 * grants do not hold is drift (named in `unexpected`) and `up` takes it out of the group. It never
 * adds anything; deleting it removes nothing.
 * @example
 * const a = new FortigateAddress("alice", { name: "grant-alice", address: "203.0.113.7", group: "jit-admins" });
 * new FortigateGroupGuard("jit-admins-guard", { group: "jit-admins", grants: [a] });
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface FortigateGroupGuard extends ResourceOutputs<AddressSetOutputs> {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class FortigateGroupGuard extends pulumi.dynamic.Resource {
  constructor(name: string, args: FortigateGroupGuardArgs, opts?: pulumi.CustomResourceOptions) {
    super(...fortigateGroupGuardDeclaration.register(name, args, opts));
  }
}

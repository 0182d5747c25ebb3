/**
 * `FortigateAddress`: one FortiOS address object per grant (`firewall/address` or `address6`), in one
 * VDOM, optionally a member of an address group (SPEC §4.2). Inputs, input schema, the provider object
 * and the resource class; device work is in grant.ts, the API in client.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { mustParseAddress, parseAddress } from "../../core/address";
import { baseConnectionFields, hostUrlField, resolveBaseConnection, type BaseConnection } from "../../core/connection-kit";
import { hostOfUrl } from "../../core/diagnosis";
import { setting, type GrantAddressArgs } from "../../core/dynamic-kit";
import { defineGrantResource } from "../../core/define-resource";
import type { Assert, BaseConnectionInputs, GrantMetaInputs, ResourceOutputs, SameType } from "../../core/resource-declaration";
import { declaredByOther, grantMetaFields, grantProvider, type DevicePin, type PinnedState } from "../../core/grant-lifecycle";
import { fingerprint } from "../../core/process-state";
import { resolveDeviceUrl, SettingProblem, settingPlaces } from "../../core/settings";
import { deviceTextField } from "../../core/text-rules";
import type { FortigateClientOptions } from "./client";
import { FortigateClient } from "./client";
import { createGrant, deleteGrant, familyOf, objectDeclKey, readGrant, updateGrant } from "./grant";
import type { FortigateAddressState } from "./state";
import { nameProblem, objectNameProblem, vdomProblem } from "../fortinet/names";
import { preflight } from "./preflight";

export type { FortigateAddressState } from "./state";

/** How to reach a FortiGate. Each field may also come from stack config `fortigate:<key>` or env `FORTIGATE_<KEY>`. */
export interface FortigateConnection extends BaseConnection {
  /** `https://host[:port]` of the FortiGate's HTTPS management access. */
  readonly url?: pulumi.Input<string>;
  /** REST API administrator token (`execute api-user generate-key`); stored as a secret; sent only as `Authorization: Bearer`. */
  readonly token?: pulumi.Input<string>;
  /** VDOM of the objects. @default "root" */
  readonly vdom?: pulumi.Input<string>;
}

export interface FortigateAddressArgs extends GrantAddressArgs {
  readonly connection?: FortigateConnection;
  /** Address object name (≤ 79 characters; no `/ \ % ? # ' " \``, `..`, control characters or edge whitespace). */
  readonly name: pulumi.Input<string>;
  readonly comment?: pulumi.Input<string>;
  /** Existing address group to add the object to (never created by this resource). */
  readonly group?: pulumi.Input<string>;
  /**
   * The other groups of this program that hold the same object (set by `Grant` for its FortiGate targets
   * that share an address): while only they still hold it, delete leaves the object to the last
   * membership's delete instead of failing with 202063. @default none
   */
  readonly sharedObjectGroups?: pulumi.Input<pulumi.Input<string>[]>;
}

const nameField = z.string().superRefine((v, ctx) => {
  const p = nameProblem(v);
  if (p) ctx.addIssue({ code: "custom", message: p });
});
const vdomField = z.string().superRefine((v, ctx) => {
  const p = vdomProblem(v);
  if (p) ctx.addIssue({ code: "custom", message: p });
});
const objectNameField = z.string().superRefine((v, ctx) => {
  const p = objectNameProblem(v);
  if (p) ctx.addIssue({ code: "custom", message: p });
});

/** @internal */
export const FortigateAddressInputsSchema = z
  .object({
    connection: z
      .object({ url: hostUrlField, vdom: vdomField.optional(), ...baseConnectionFields })
      .strict()
      .optional(),
    credentials: z.object({ token: z.string().optional() }).strict().optional(),
    name: objectNameField,
    address: z.string(),
    comment: deviceTextField(255, "FortiOS").optional(),
    group: nameField.optional(),
    sharedObjectGroups: z.array(nameField).max(64, "at most 64 groups").optional(),
    allowBroad: z.boolean().optional(),
    ...grantMetaFields,
  })
  .strict()
  .superRefine((v, ctx) => {
    const r = parseAddress(v.address, { allowBroad: v.allowBroad === true });
    if (!r.ok) ctx.addIssue({ code: "custom", path: ["address"], message: r.rule });
  });
/** The provider's inputs, as `check` accepts them ({@link FortigateAddressInputsSchema}). */
export interface FortigateAddressInputs extends GrantMetaInputs {
  connection?: BaseConnectionInputs & { vdom?: string };
  credentials?: { token?: string };
  name: string;
  address: string;
  comment?: string;
  group?: string;
  sharedObjectGroups?: string[];
}
type _InputsAreTheSchema = Assert<SameType<FortigateAddressInputs, z.infer<typeof FortigateAddressInputsSchema>>>;

/** The VDOM these inputs name: inline, else stack config `fortigate:vdom`, else env, else "root". */
const vdomOf = (i: Pick<FortigateAddressInputs, "connection">) => setting("fortigate", "vdom", i.connection?.vdom) ?? "root";

/** The connection as inline value > stack config > environment, to the pinned device. @internal */
export function resolveConnection(i: Pick<FortigateAddressInputs, "connection" | "credentials">, pin: DevicePin): FortigateClientOptions {
  const token = setting("fortigate", "token", i.credentials?.token);
  if (!token) throw new SettingProblem("", `credentials.token: no FortiGate API token; set ${settingPlaces("fortigate", "token")} (a secret)`);
  return { url: pin.url, token, vdom: pin.scope?.replace(/^vdom /, "") ?? vdomOf(i), ...resolveBaseConnection("fortigate", i.connection) };
}

const OUTPUT_ONLY = ["cidr", "family", "vdom", "adopted", "membershipAdded", "member", "objectPath", "uuid"] as const;

type State = FortigateAddressState & FortigateAddressInputs;

/** The provider object behind {@link FortigateAddress}; tests and the CLI drive it directly. */
export const fortigateAddressProvider = grantProvider<FortigateAddressInputs, State, FortigateClientOptions>({
  namespace: "fortigate",
  family: "fortinet",
  schema: FortigateAddressInputsSchema,
  placeholders: {
    name: "placeholder",
    address: "192.0.2.1",
    comment: "",
    group: "placeholder",
    sharedObjectGroups: [],
    description: "",
    expiresAt: "2999-01-01T00:00:00Z",
    allowBroad: false,
    connection: {},
    credentials: {},
  },
  outputOnly: OUTPUT_ONLY,
  identity: ["name", "address", "group"],
  // An absent comment is the device's "" (create records ""): never a difference on the next preview.
  normalise: (i) => ({ ...i, address: mustParseAddress(i.address).canonical, comment: i.comment ?? "" }),
  pin: (i) => ({ url: resolveDeviceUrl("fortigate", i.connection?.url, i.connection?.allowHttp), scope: `vdom ${vdomOf(i)}` }),
  connect: resolveConnection,
  hostOf: (pin) => hostOfUrl(pin.url),
  sharedKey: (i, pin) => fingerprint("fortigate", pin.url, pin.scope, i.name, i.group),
  // The object apart from its membership: a set or another grant may use it through another group.
  sharedKeys: (i, pin) => [objectDeclKey(pin, familyOf(i.address), i.name)],
  preflight: (o, i, mode) => preflight(new FortigateClient(o), o.url, o.token, { family: familyOf(i.address), group: i.group }, mode),

  /** Creates or adopts the object (and membership); see createGrant. */
  async create(o, i) {
    const outs = await createGrant(o, { name: i.name, address: i.address, comment: i.comment ?? "", group: i.group });
    return { id: `${outs.vdom}/${outs.name}`, outs };
  },

  /** Asks the device; `undefined` when the object is gone, so refresh drops it from state. */
  read: (o, s) => readGrant(o, s),

  /** Comment in place; re-adds a membership removed by hand. */
  update: (o, olds, news) => updateGrant(o, olds, news.comment ?? ""),

  /** Membership first, then the object; gone is success; adopted objects are revoked too (SPEC §3). */
  remove: (o, s: State & PinnedState) =>
    deleteGrant(o, s, s.device !== undefined && declaredByOther(objectDeclKey(s.device, s.family, s.name), s.grantName), s.sharedObjectGroups ?? []),

  // Same name on replace: the old object must go first, or the new one collides with it (-5).
  deleteBeforeReplace: (replaces) => !replaces.includes("name") && !replaces.includes("device"),
  needsUpdate: (olds) => olds.group !== undefined && olds.member === false,
});

/**
 * The resource properties of a connection, shared by every FortiGate resource class: the non-secret fields
 * as `connection` (absent when none was given), the token apart as a Pulumi secret `credentials`.
 */
export function fortigateConnectionProps(c: FortigateConnection | undefined) {
  const { token, ...connection } = c ?? {};
  return { ...(c && { connection }), ...(token !== undefined && { credentials: pulumi.secret(pulumi.output(token).apply((t) => ({ token: t }))) }) };
}

/** The one declaration of `FortigateAddress`: its inputs are {@link FortigateAddressInputsSchema}. */
export const fortigateAddressDeclaration = defineGrantResource<FortigateAddressArgs, typeof FortigateAddressInputsSchema.shape>({
  kind: "grant",
  module: "fortigate",
  type: "Address",
  providerExport: "fortigateAddressProvider",
  schema: FortigateAddressInputsSchema,
  connection: fortigateConnectionProps,
  identity: ["name", "address", "group"],
  outputs: {
    cidr: "The address as a CIDR (`203.0.113.7/32`).",
    family: '"ipv4" (`firewall/address`) or "ipv6" (`firewall/address6`).',
    vdom: "The VDOM the object is in.",
    adopted: "True when the object existed with the same value before this grant and was taken over (informational: delete removes it all the same).",
    membershipAdded: "True when this grant added the group membership, false when the group already held it (delete removes it either way).",
    member: "False when the membership was found missing on the last refresh (drift).",
    objectPath: "Device path of the object, e.g. `/api/v2/cmdb/firewall/address/grant-alice`.",
    uuid: "The object's uuid, where FortiOS reports one.",
  } satisfies Record<(typeof OUTPUT_ONLY)[number], string>,
});

/**
 * A network-access grant on a FortiGate: an address object, optionally in an address group.
 * Create adopts an identical existing object (`adopted: true`); delete removes the membership, then the
 * object, adopted or not, unless another grant of the program still declares it.
 * @example
 * new FortigateAddress("alice", { connection: { url, token: cfg.requireSecret("token") },
 *   name: "grant-alice", address: "203.0.113.7", group: "jit-admins" });
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface FortigateAddress extends ResourceOutputs<State> {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class FortigateAddress extends pulumi.dynamic.Resource {
  constructor(name: string, args: FortigateAddressArgs, opts?: pulumi.CustomResourceOptions) {
    super(...fortigateAddressDeclaration.register(name, args, opts));
  }
}

/**
 * `FortimanagerTrustedHost`: one address in one trusted-host slot (2..10) of a FortiManager
 * administrator (SPEC §4.3). This module is the only one that turns errors into Pulumi outcomes:
 * CheckFailures for input, a thrown diagnosis (GrantError) for everything else.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { mustParseAddress, parseAddress } from "../../core/address";
import { diagnose, hostOfUrl } from "../../core/diagnosis";
import { baseConnectionFields, hostUrlField, resolveBaseConnection, type BaseConnection } from "../../core/connection-kit";
import { setting, type GrantAddressArgs } from "../../core/dynamic-kit";
import { defineGrantResource } from "../../core/define-resource";
import type { Assert, BaseConnectionInputs, GrantMetaInputs, ResourceOutputs, SameType } from "../../core/resource-declaration";
import { grantMetaFields, grantProvider, type DevicePin, type PinnedState } from "../../core/grant-lifecycle";
import { cachedPreflight, fingerprint } from "../../core/process-state";
import { segmentNameProblem, SEGMENT_NAME_RULE } from "../../core/transport";
import { resolveDeviceUrl, SettingProblem, settingPlaces } from "../../core/settings";
import { FortimanagerClient, type FortimanagerClientOptions } from "./client";
import { preflight } from "./preflight";
import { unusedSlotProblem } from "./slots";
import { findTrustedHost, grantTrustedHost, revokeTrustedHost } from "./trusted-hosts";

/** How to reach a FortiManager. Every field may instead come from stack config `fortimanager:<key>` or env `FORTIMANAGER_<KEY>`. */
export interface FortimanagerConnection extends BaseConnection {
  /** `https://fmg.example.net`. */
  readonly url?: pulumi.Input<string>;
  /** API key of a `user_type api` administrator (FMG ≥ 7.2.2), sent as a Bearer header. Stored as a secret. */
  readonly token?: pulumi.Input<string>;
  /** Login user for session auth; with `token`, the API administrator's id (lets the preflight check its rights). */
  readonly username?: pulumi.Input<string>;
  /** Login password. Stored as a secret. */
  readonly password?: pulumi.Input<string>;
  /** ADOM for diagnoses; trusted hosts are global. */
  readonly adom?: pulumi.Input<string>;
}

export interface FortimanagerTrustedHostArgs extends GrantAddressArgs {
  readonly connection?: FortimanagerConnection;
  /** The administrator whose trusted hosts change; case-sensitive. */
  readonly adminUser: pulumi.Input<string>;
}

/**
 * The resource properties of a connection, shared by every FortiManager resource class: the non-secret
 * fields as `connection`, the token and password apart as a Pulumi secret `credentials`.
 */
export function fortimanagerConnectionProps(c: FortimanagerConnection = {}) {
  const { token, password, ...connection } = c;
  return { connection, credentials: pulumi.secret(pulumi.output({ token, password })) };
}

/** FortiManager admin ids: case-sensitive; letters, digits and `_ . @ -` (no `/`, quotes, spaces or control characters, so a url can never be steered). Max 64, as FortiOS (FMG's own limit is UNCONFIRMED). @internal */
export const AdminUserSchema = z
  .string()
  .min(1, "must not be empty")
  .max(64, "must be at most 64 characters")
  .regex(/^[A-Za-z0-9_.@-]+$/, "may contain only letters, digits and _ . @ - (ids are case-sensitive; no spaces, slashes, quotes or control characters)")
  .refine((v) => !v.includes(".."), "must not contain '..' (it is part of the JSON-RPC object url)")
  .refine((v) => segmentNameProblem(v) === undefined, SEGMENT_NAME_RULE);

/** ADOM names: letters, digits and `_ . -`; never `..` (an ADOM is part of JSON-RPC urls and proxy targets). @internal */
export const AdomSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, "ADOM names contain letters, digits and _ . -")
  .refine((v) => !v.includes(".."), "must not contain '..'")
  .refine((v) => segmentNameProblem(v) === undefined, SEGMENT_NAME_RULE);

/** The non-secret connection of every FortiManager resource, as `check` validates it. @internal */
export const FortimanagerConnectionSchema = z
  .object({
    url: hostUrlField,
    username: AdminUserSchema.optional(),
    adom: AdomSchema.optional(),
    ...baseConnectionFields,
    caCert: z.string().includes("BEGIN CERTIFICATE", { error: "must be a PEM certificate" }).optional(),
  })
  .strict();

/** The secret part of every FortiManager connection (stored as a Pulumi secret). @internal */
export const FortimanagerCredentialsSchema = z.object({ token: z.string().optional(), password: z.string().optional() }).strict();
const ConnectionInputSchema = FortimanagerConnectionSchema;
const CredentialsSchema = FortimanagerCredentialsSchema;

/** The provider's inputs: non-secret `connection`, secret `credentials`, the grant. @internal */
export const TrustedHostInputsSchema = z
  .object({
    connection: ConnectionInputSchema.optional(),
    credentials: CredentialsSchema.optional(),
    adminUser: AdminUserSchema,
    address: z.string(),
    ...grantMetaFields,
    allowBroad: z.boolean().optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    const r = parseAddress(v.address, { allowBroad: v.allowBroad === true });
    const problem = r.ok ? unusedSlotProblem(r.address) : r.rule;
    if (problem) ctx.addIssue({ code: "custom", path: ["address"], message: problem });
  });
/** The provider's inputs, as `check` accepts them ({@link TrustedHostInputsSchema}). */
export interface TrustedHostInputs extends GrantMetaInputs {
  connection?: BaseConnectionInputs & { username?: string; adom?: string };
  credentials?: { token?: string; password?: string };
  adminUser: string;
  address: string;
}
type _InputsAreTheSchema = Assert<SameType<TrustedHostInputs, z.infer<typeof TrustedHostInputsSchema>>>;

export interface TrustedHostOutputs extends TrustedHostInputs, PinnedState {
  cidr: string;
  family: "ipv4" | "ipv6";
  slot: string;
  /** True when the address was already in a slot at create (informational: delete revokes it all the same). */
  adopted: boolean;
}

/** Connection settings to the pinned manager: inline, else stack config, else environment; credentials the same. Shared by every FortiManager resource. @internal */
export function resolveManagerConnection(i: Pick<TrustedHostInputs, "connection" | "credentials">, pin: DevicePin): FortimanagerClientOptions {
  const c = i.connection ?? {};
  const token = setting("fortimanager", "token", i.credentials?.token);
  const username = setting("fortimanager", "username", c.username);
  const password = setting("fortimanager", "password", i.credentials?.password);
  // Never name a secret field: the CLI would print its value (docs/reference/pulumi.md §1.4).
  if (!token && !(username && password)) {
    throw new SettingProblem(
      "",
      `FortiManager credentials are required: a token (${settingPlaces("fortimanager", "token")}), or username and password (${settingPlaces("fortimanager", "username")}; ${settingPlaces("fortimanager", "password", "credentials.password")})`,
    );
  }
  return { url: pin.url, token, username, password, adom: setting("fortimanager", "adom", c.adom), ...resolveBaseConnection("fortimanager", c) };
}

/** Runs `fn` as one client operation: a login session is logged out before it returns when no other is in flight (session.ts). */
const operation = <T>(o: FortimanagerClientOptions, fn: (client: FortimanagerClient) => Promise<T>): Promise<T> => new FortimanagerClient(o).operation(fn);

const familyOf = (f: 4 | 6): "ipv4" | "ipv6" => (f === 4 ? "ipv4" : "ipv6");

/** The provider object the shim forwards to; tests and the benchmark drive it directly. */
export const fortimanagerTrustedHostProvider = grantProvider<TrustedHostInputs, TrustedHostOutputs, FortimanagerClientOptions>({
  namespace: "fortimanager",
  family: "fortinet",
  schema: TrustedHostInputsSchema,
  placeholders: {
    adminUser: "placeholder",
    address: "192.0.2.1",
    description: "",
    expiresAt: "2999-01-01T00:00:00Z",
    allowBroad: false,
    connection: {},
    credentials: {},
  },
  outputOnly: ["cidr", "family", "slot", "adopted"],
  identity: ["adminUser", "address"],
  normalise: (i) => ({ ...i, address: mustParseAddress(i.address).canonical }),
  same: (field, a, b) =>
    field === "address" && typeof a === "string" && typeof b === "string" ? mustParseAddress(a).cidr === mustParseAddress(b).cidr : a === b,
  // Trusted hosts are global on the manager: the ADOM does not scope them, so it is not part of the pin.
  pin: (i) => ({ url: resolveDeviceUrl("fortimanager", i.connection?.url, i.connection?.allowHttp) }),
  connect: resolveManagerConnection,
  hostOf: (pin) => hostOfUrl(pin.url),
  sharedKey: (i, pin) => fingerprint("fortimanager", pin.url, i.adminUser, mustParseAddress(i.address).cidr),
  // One operation: a session the preflight logged in to is logged out before check returns (a cached preflight sends nothing).
  // Once per CLI run (process-state `cachedPreflight`): the update pass of a default `up` reuses its preview's proof
  // (issue 22: that was one read of every administrator again, and the caller's rights). A right or an administrator
  // lost in between still fails, with its diagnosis, from the create's own read and write (202051, 202002).
  preflight: (o, i, mode) => {
    const client = new FortimanagerClient(o);
    return cachedPreflight(fingerprint("fortimanager-grant", client.verdictKey, i.adminUser, mode), () =>
      client.operation(async (c) => void (await preflight(c, i.adminUser, mode))),
    );
  },

  async create(o, i) {
    const address = mustParseAddress(i.address);
    const outcome = await operation(o, (client) => grantTrustedHost(client, i.adminUser, address));
    return {
      id: `${i.adminUser}:${address.cidr}`,
      outs: { address: address.canonical, cidr: address.cidr, family: familyOf(address.family), slot: outcome.slot, adopted: outcome.adopted },
    };
  },

  async read(o, s) {
    const slot = await operation(o, (client) => findTrustedHost(client, s.adminUser, mustParseAddress(s.cidr), s.slot));
    return slot === undefined ? undefined : { slot };
  },

  // Delete revokes (SPEC §3): the slot holding the address is reset, adopted or not; slot 1 is never touched.
  async remove(o, s) {
    const r = await operation(o, (client) => revokeTrustedHost(client, s.adminUser, mustParseAddress(s.cidr)));
    // A success must mean the access is gone: slot 1 (break-glass, never written) still lets it in.
    if (r.remainsInSlot1) {
      throw diagnose("202050", {
        host: hostOfUrl(o.url),
        detail: `${s.address} was removed from slots 2..10 of "${s.adminUser}" but slot 1 (trusthost1, never written by this library) also holds it, so the access remains`,
        vars: { adminUser: s.adminUser },
      });
    }
  },

  deleteBeforeReplace: () => false,
});

/** The one declaration of `FortimanagerTrustedHost`: its inputs are {@link TrustedHostInputsSchema}. */
export const fortimanagerTrustedHostDeclaration = defineGrantResource<FortimanagerTrustedHostArgs, typeof TrustedHostInputsSchema.shape>({
  kind: "grant",
  module: "fortimanager",
  type: "TrustedHost",
  providerExport: "fortimanagerTrustedHostProvider",
  schema: TrustedHostInputsSchema,
  connection: fortimanagerConnectionProps,
  identity: ["adminUser", "address"],
  outputs: {
    cidr: "The address as a CIDR (`203.0.113.7/32`).",
    family: '"ipv4" (`trusthostN`) or "ipv6" (`ipv6_trusthostN`).',
    slot: "The trusted-host slot used, e.g. `trusthost3`.",
    adopted: "True when the address was already on the device and was taken over (informational: delete removes it all the same).",
  },
});

/**
 * Lets `address` reach FortiManager as administrator `adminUser`, using one free trusted-host slot
 * (2..10; slot 1 is never touched). Create adopts an address already present (`adopted: true`); delete
 * resets the slot holding the address, adopted or not, unless another grant of the program still declares
 * it, and is idempotent; refresh drops the grant when the address was removed by hand.
 * @example
 * new FortimanagerTrustedHost("alice-laptop", { adminUser: "alice", address: "203.0.113.7",
 *   connection: { url: "https://fmg.example.net", token: cfg.requireSecret("fmgToken") } });
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface FortimanagerTrustedHost extends ResourceOutputs<TrustedHostOutputs> {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class FortimanagerTrustedHost extends pulumi.dynamic.Resource {
  constructor(name: string, args: FortimanagerTrustedHostArgs, opts?: pulumi.CustomResourceOptions) {
    super(...fortimanagerTrustedHostDeclaration.register(name, args, opts));
  }
}

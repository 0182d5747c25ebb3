/**
 * `OpnsenseAliasEntry`: one address in an existing OPNsense alias (SPEC §4.1). The alias is created by
 * an admin and referenced by a rule; this resource manages only whether the address is in it.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { mustParseAddress, normaliseDeviceAddress, parseAddress } from "../../core/address";
import { hostOfUrl } from "../../core/diagnosis";
import { baseConnectionFields, hostUrlField, type BaseConnection } from "../../core/connection-kit";
import { type GrantAddressArgs } from "../../core/dynamic-kit";
import { defineGrantResource } from "../../core/define-resource";
import type { Assert, BaseConnectionInputs, GrantMetaInputs, ResourceOutputs, SameType } from "../../core/resource-declaration";
import { grantMetaFields, grantProvider, type DevicePin, type PinnedState } from "../../core/grant-lifecycle";
import { fingerprint } from "../../core/process-state";
import { resolveDeviceUrl, SettingProblem } from "../../core/settings";
import { clientFor, ConnectionProblem, resolveConnection, type ResolvedConnection } from "./connection";
import { addGrant, grantPresent, removeGrant, type GrantTarget } from "./grant-ops";
import { aliasNameProblem, type GrantMethod } from "./names";
import { cachedAlias, preflight } from "./preflight";

/** How to reach the firewall. Secret fields accept `pulumi.Input` and are stored as secrets. */
export interface OpnsenseConnection extends BaseConnection {
  /** `https://host[:port]` of the web GUI. @default stack config `opnsense:url`, env `OPNSENSE_URL` */
  readonly url?: pulumi.Input<string>;
  /** API key. @default `opnsense:apiKey`, `OPNSENSE_API_KEY`, or the key file */
  readonly apiKey?: pulumi.Input<string>;
  /** API secret. @default `opnsense:apiSecret`, `OPNSENSE_API_SECRET`, or the key file */
  readonly apiSecret?: pulumi.Input<string>;
  /** Path of the key file OPNsense downloads (`key=…`, `secret=…`); read inside the provider at call time, so state holds no secret. */
  readonly apiKeyFile?: pulumi.Input<string>;
}

export interface OpnsenseAliasEntryArgs extends GrantAddressArgs {
  /** @default everything from stack config / environment */
  readonly connection?: OpnsenseConnection;
  /** Name of an existing Host(s) or Network(s) alias (External too in table mode). Case-sensitive. */
  readonly alias: pulumi.Input<string>;
  /** "table": alias_util add/delete (privilege "Diagnostics: PF Table IP addresses"); "config": set_item + reconfigure ("Firewall: Alias: Edit"). @default "table" */
  readonly method?: pulumi.Input<GrantMethod>;
}

const ConnectionSchema = z
  .object({
    url: hostUrlField,
    apiKeyFile: z.string().min(1).optional(),
    ...baseConnectionFields,
  })
  .strict();
const CredentialsSchema = z.object({ apiKey: z.string().optional(), apiSecret: z.string().optional() }).strict();

/** @internal */
export const AliasEntryInputsSchema = z
  .object({
    connection: ConnectionSchema.optional(),
    credentials: CredentialsSchema.optional(),
    alias: z.string().superRefine((v, ctx) => {
      const problem = aliasNameProblem(v);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
    address: z.string(),
    method: z.enum(["table", "config"]).default("table"),
    ...grantMetaFields,
    allowBroad: z.boolean().optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    const r = parseAddress(v.address, { allowBroad: v.allowBroad });
    if (!r.ok) ctx.addIssue({ code: "custom", path: ["address"], message: r.rule });
  });
/** The provider's inputs, as `check` accepts them ({@link AliasEntryInputsSchema}). */
export interface AliasEntryInputs extends GrantMetaInputs {
  connection?: BaseConnectionInputs & { apiKeyFile?: string };
  credentials?: { apiKey?: string; apiSecret?: string };
  alias: string;
  address: string;
  method: "table" | "config";
}
type _InputsAreTheSchema = Assert<SameType<AliasEntryInputs, z.infer<typeof AliasEntryInputsSchema>>>;

/** What state holds: the inputs plus what the device reported. */
export interface AliasEntryOutputs extends AliasEntryInputs, PinnedState {
  /** Canonical address. */
  readonly address: string;
  readonly cidr: string;
  readonly host: string;
  /** "" when the key may not read aliases (table mode with only the tables privilege). */
  readonly aliasUuid: string;
  readonly aliasType: string;
  /** True when the address was already in the alias at create (informational: delete revokes it all the same). */
  readonly adopted: boolean;
}

const OUTPUT_ONLY = ["cidr", "host", "aliasUuid", "aliasType", "adopted"] as const;

/** The resolved connection to `pin` (its URL wins over whatever the settings say now). */
function connectTo(inputs: AliasEntryInputs, pin: DevicePin): ResolvedConnection {
  try {
    return resolveConnection({ ...inputs.connection, url: pin.url }, inputs.credentials);
  } catch (e) {
    if (e instanceof ConnectionProblem) throw new SettingProblem(e.property, e.property ? `${e.property}: ${e.message}` : e.message);
    throw e;
  }
}

async function grantTarget(conn: ResolvedConnection, inputs: AliasEntryInputs, stored?: AliasEntryOutputs): Promise<GrantTarget> {
  const client = clientFor(conn);
  // read/delete reuse what create recorded; only create (and check) look the alias up.
  const info = stored?.aliasType ? { uuid: stored.aliasUuid, type: stored.aliasType } : await cachedAlias(conn, client, inputs.alias, inputs.method);
  return { conn, client, alias: inputs.alias, address: mustParseAddress(inputs.address), method: inputs.method, info };
}

const cidrOf = (a: unknown) => (typeof a === "string" ? (normaliseDeviceAddress(a)?.cidr ?? a) : a);

/** The provider object; the serialised shim (`providerShim`) forwards every call here. */
export const opnsenseAliasEntryProvider = grantProvider<AliasEntryInputs, AliasEntryOutputs, ResolvedConnection>({
  namespace: "opnsense",
  family: "opnsense",
  schema: AliasEntryInputsSchema,
  placeholders: {
    alias: "unknown_alias",
    address: "192.0.2.1",
    method: "table",
    description: "",
    expiresAt: "2999-01-01T00:00:00Z",
    allowBroad: false,
    connection: {},
    credentials: {},
  },
  outputOnly: OUTPUT_ONLY,
  identity: ["alias", "address", "method"],
  normalise: (i) => ({ ...i, address: mustParseAddress(i.address).canonical }),
  same: (field, a, b) => (field === "address" ? cidrOf(a) === cidrOf(b) : (a ?? "table") === (b ?? "table")),
  pin: (i) => ({ url: resolveDeviceUrl("opnsense", i.connection?.url, i.connection?.allowHttp) }),
  connect: connectTo,
  hostOf: (pin) => hostOfUrl(pin.url),
  sharedKey: (i, pin) => fingerprint("opnsense", pin.url, i.alias, cidrOf(i.address) as string),
  preflight: async (conn, i, mode) => preflight(conn, clientFor(conn), i.alias, i.method, mustParseAddress(i.address), mode),

  async create(conn, inputs) {
    const t = await grantTarget(conn, inputs);
    const { adopted } = await addGrant(t);
    return {
      id: `${t.alias}@${t.address.canonical}`,
      outs: { address: t.address.canonical, cidr: t.address.cidr, host: t.client.host, aliasUuid: t.info.uuid, aliasType: t.info.type, adopted },
    };
  },

  async read(conn, state) {
    return (await grantPresent(await grantTarget(conn, state, state))) ? {} : undefined;
  },

  async remove(conn, state) {
    await removeGrant(await grantTarget(conn, state, state));
  },

  // Same address in the same alias (a method change): the old must go first, or the new one would
  // adopt it and the old one's delete would then remove the grant.
  deleteBeforeReplace: (replaces) => !replaces.includes("alias") && !replaces.includes("address") && !replaces.includes("device"),
});

/**
 * The resource properties of a connection, shared by every OPNsense resource class: the non-secret fields
 * as `connection`, the key and secret apart as a Pulumi secret `credentials` (so state encrypts them).
 */
export function opnsenseConnectionProps(c: OpnsenseConnection = {}) {
  const connection = Object.fromEntries(
    Object.entries({ url: c.url, apiKeyFile: c.apiKeyFile, caCert: c.caCert, insecure: c.insecure, timeoutMs: c.timeoutMs, allowHttp: c.allowHttp }).filter(
      ([, v]) => v !== undefined,
    ),
  );
  const credentials = c.apiKey !== undefined || c.apiSecret !== undefined ? pulumi.secret({ apiKey: c.apiKey, apiSecret: c.apiSecret }) : undefined;
  return { connection, credentials };
}

/** The one declaration of `OpnsenseAliasEntry`: its inputs are {@link AliasEntryInputsSchema}. */
export const opnsenseAliasEntryDeclaration = defineGrantResource<OpnsenseAliasEntryArgs, typeof AliasEntryInputsSchema.shape>({
  kind: "grant",
  module: "opnsense",
  type: "AliasEntry",
  providerExport: "opnsenseAliasEntryProvider",
  schema: AliasEntryInputsSchema,
  connection: opnsenseConnectionProps,
  identity: ["alias", "address", "method"],
  defaults: { method: "table" },
  outputs: {
    cidr: "The address as a CIDR (`203.0.113.7/32`).",
    host: "The firewall's host name, from the URL.",
    aliasUuid: 'The alias\'s uuid; "" when the key may not read aliases (table mode with only the tables privilege).',
    aliasType: "The alias's type as OPNsense reports it (Host(s), Network(s), External).",
    adopted: "True when the address was already in the alias at create (informational: delete revokes it all the same).",
  } satisfies Record<(typeof OUTPUT_ONLY)[number], string>,
});

/**
 * One address in an existing OPNsense alias, granted with alias_util (`method: "table"`) or by
 * editing the alias content and applying it (`method: "config"`). Create adopts an address already
 * present (`adopted: true`); delete revokes the address all the same, unless another grant of the
 * program still declares it (use Pulumi's `retainOnDelete` to keep a pre-existing entry).
 * @example
 * new OpnsenseAliasEntry("alice", { connection: { url: "https://fw1", apiKeyFile: "apikey.txt" },
 *   alias: "jit_admins", address: "203.0.113.7" });
 */
// Declaration merging types the outputs the engine fills in (no `declare readonly` list to keep in step).
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface OpnsenseAliasEntry extends ResourceOutputs<AliasEntryOutputs> {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class OpnsenseAliasEntry extends pulumi.dynamic.Resource {
  constructor(name: string, args: OpnsenseAliasEntryArgs, opts?: pulumi.CustomResourceOptions) {
    super(...opnsenseAliasEntryDeclaration.register(name, args, opts));
  }
}

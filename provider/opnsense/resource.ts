/**
 * `OpnsenseAliasEntry`: one address in an existing OPNsense alias (SPEC §4.1). The alias is created by
 * an admin and referenced by a rule; this resource manages only whether the address is in it.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { mustParseAddress, normaliseDeviceAddress, parseAddress } from "../address";
import { hostOfUrl, toGrantError } from "../diagnosis";
import { baseConnectionFields, hostUrlField, type BaseConnection } from "../connection-kit";
import { checkFailures, configureFromStack, hasUnknown, providerShim, setting, UNKNOWN, withSecretOutputs, type CheckFailure, type GrantAddressArgs } from "../dynamic-kit";
import { clientFor, ConnectionProblem, resolveConnection, type ConnectionInputs, type CredentialInputs } from "./connection";
import { addGrant, grantPresent, removeGrant, type GrantTarget } from "./grant-ops";
import { aliasNameProblem } from "./names";
import { cachedAlias, preflight, type GrantMethod } from "./preflight";

/** How to reach the firewall. Secret fields accept `pulumi.Input` and are stored as secrets. */
export interface OpnsenseConnection extends BaseConnection {
  /** `https://host[:port]` of the web GUI. @default stack config `opnsense:url`, env `OPNSENSE_URL` */
  readonly url?: string;
  /** API key. @default `opnsense:apiKey`, `OPNSENSE_API_KEY`, or the key file */
  readonly apiKey?: pulumi.Input<string>;
  /** API secret. @default `opnsense:apiSecret`, `OPNSENSE_API_SECRET`, or the key file */
  readonly apiSecret?: pulumi.Input<string>;
  /** Path of the key file OPNsense downloads (`key=…`, `secret=…`); read inside the provider at call time, so state holds no secret. */
  readonly apiKeyFile?: string;
}

export interface OpnsenseAliasEntryArgs extends GrantAddressArgs {
  /** @default everything from stack config / environment */
  readonly connection?: OpnsenseConnection;
  /** Name of an existing Host(s) or Network(s) alias (External too in table mode). Case-sensitive. */
  readonly alias: pulumi.Input<string>;
  /** "table": alias_util add/delete (privilege "Diagnostics: PF Table IP addresses"); "config": set_item + reconfigure ("Firewall: Alias: Edit"). @default "table" */
  readonly method?: pulumi.Input<GrantMethod>;
  /** Recorded in state only (alias entries carry no per-address description on the device). */
  readonly description?: pulumi.Input<string>;
}

const ConnectionSchema = z
  .object({
    url: hostUrlField,
    apiKeyFile: z.string().min(1).optional(),
    ...baseConnectionFields,
  })
  .strict();
const CredentialsSchema = z.object({ apiKey: z.string().optional(), apiSecret: z.string().optional() }).strict();

/** The provider's inputs, as `check` accepts them. */
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
    description: z.string().max(255).regex(/^[^\r\n]*$/, "must be one line").optional(),
    allowBroad: z.boolean().optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    const r = parseAddress(v.address, { allowBroad: v.allowBroad });
    if (!r.ok) ctx.addIssue({ code: "custom", path: ["address"], message: r.rule });
  });
export type AliasEntryInputs = z.infer<typeof AliasEntryInputsSchema>;

/** What state holds: the inputs plus what the device reported. */
export interface AliasEntryOutputs extends AliasEntryInputs {
  /** Canonical address. */
  readonly address: string;
  readonly cidr: string;
  readonly host: string;
  /** "" when the key may not read aliases (table mode with only the tables privilege). */
  readonly aliasUuid: string;
  readonly aliasType: string;
  /** True when the address was already in the alias: delete then leaves it there. */
  readonly adopted: boolean;
}

const OUTPUT_ONLY = ["cidr", "host", "aliasUuid", "aliasType", "adopted", "__provider"] as const;
/** Valid stand-ins for values that are unknown during preview, so only known fields are validated. */
const PLACEHOLDERS: Record<string, unknown> = { alias: "unknown_alias", address: "192.0.2.1", method: "table", description: "", allowBroad: false, connection: {}, credentials: {} };

function target(inputs: Pick<AliasEntryOutputs, "connection" | "credentials" | "alias" | "address" | "method">) {
  const conn = resolveConnection(inputs.connection, inputs.credentials);
  return { conn, client: clientFor(conn), alias: inputs.alias, address: mustParseAddress(inputs.address), method: inputs.method };
}

async function guarded<T>(inputs: { connection?: ConnectionInputs | undefined; credentials?: CredentialInputs | undefined }, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ConnectionProblem) throw new Error(`${e.property ? `${e.property}: ` : ""}${e.message}`);
    throw toGrantError(e, "opnsense", { host: hostOfUrl(setting("opnsense", "url", inputs.connection?.url)) });
  }
}

async function withInfo(inputs: AliasEntryOutputs | AliasEntryInputs): Promise<GrantTarget> {
  const t = target(inputs);
  const stored = "aliasUuid" in inputs ? inputs : undefined;
  // read/delete reuse what create recorded; only create (and check) look the alias up.
  const info = stored?.aliasType ? { uuid: stored.aliasUuid, type: stored.aliasType } : await cachedAlias(t.conn, t.client, t.alias, t.method);
  return { ...t, info };
}

/** The provider object; the serialised shim (`providerShim`) forwards every call here. */
export const opnsenseAliasEntryProvider: pulumi.dynamic.ResourceProvider<AliasEntryInputs, AliasEntryOutputs> = {
  configure: (req) => configureFromStack(req),

  async check(_olds, news) {
    const raw = { ...(news as Record<string, unknown>) };
    const provider = raw.__provider;
    for (const k of OUTPUT_ONLY) delete raw[k];
    const unknown = Object.keys(raw).filter((k) => hasUnknown(raw[k]));
    const probe = { ...raw, ...Object.fromEntries(unknown.map((k) => [k, PLACEHOLDERS[k] ?? raw[k]])) };
    const parsed = AliasEntryInputsSchema.safeParse(probe);
    if (!parsed.success) return { failures: checkFailures(parsed.error) };
    const inputs = { ...parsed.data, ...Object.fromEntries(unknown.map((k) => [k, raw[k]])) } as AliasEntryInputs;
    if (!unknown.includes("address")) inputs.address = mustParseAddress(parsed.data.address).canonical;
    const result = provider === undefined ? inputs : ({ ...inputs, __provider: provider } as AliasEntryInputs);
    if (unknown.length > 0) return { inputs: result }; // preview with values not known yet: no device I/O
    let t;
    try {
      t = target(inputs);
    } catch (e) {
      if (e instanceof ConnectionProblem) return { failures: [{ property: e.property, reason: e.message } satisfies CheckFailure] };
      throw e;
    }
    await guarded(inputs, () => preflight(t.conn, t.client, t.alias, t.method));
    return { inputs: result };
  },

  async diff(_id, olds, news) {
    const replaces: string[] = [];
    const same = (a: unknown, b: unknown, norm: (v: string) => string = (v) => v) =>
      a !== UNKNOWN && b !== UNKNOWN && (a === b || (typeof a === "string" && typeof b === "string" && norm(a) === norm(b)));
    const origin = (u: string) => hostOfUrl(u);
    const cidr = (a: string) => normaliseDeviceAddress(a)?.cidr ?? a;
    if (!same(olds.connection?.url, news.connection?.url, origin) && !(olds.connection?.url === undefined && news.connection?.url === undefined)) replaces.push("connection");
    if (!same(olds.alias, news.alias)) replaces.push("alias");
    if (!same(olds.address, news.address, cidr)) replaces.push("address");
    if (!same(olds.method ?? "table", news.method ?? "table")) replaces.push("method");
    const inPlace =
      !same(olds.description ?? "", news.description ?? "") ||
      (olds.allowBroad ?? false) !== (news.allowBroad ?? false) ||
      JSON.stringify({ ...olds.connection, url: undefined }) !== JSON.stringify({ ...news.connection, url: undefined }) ||
      JSON.stringify(olds.credentials ?? {}) !== JSON.stringify(news.credentials ?? {});
    // Same address in the same alias (e.g. a method change): the old must go first, or the new one
    // would adopt it and the old one's delete would then remove the grant.
    const sameGrant = !replaces.includes("alias") && !replaces.includes("address");
    return { changes: replaces.length > 0 || inPlace, replaces, deleteBeforeReplace: replaces.length > 0 && sameGrant };
  },

  async create(inputs) {
    return guarded(inputs, async () => {
      const t = await withInfo(inputs);
      const { adopted } = await addGrant(t);
      const outs: AliasEntryOutputs = {
        ...inputs,
        address: t.address.canonical,
        cidr: t.address.cidr,
        host: t.client.host,
        aliasUuid: t.info.uuid,
        aliasType: t.info.type,
        adopted,
      };
      return { id: `${t.alias}@${t.address.canonical}`, outs };
    });
  },

  async read(id, props) {
    if (!props) return {};
    return guarded(props, async () => {
      const t = await withInfo(props);
      return (await grantPresent(t)) ? { id, props } : {}; // gone by hand: the engine drops it on refresh
    });
  },

  async update(_id, olds, news) {
    return { outs: { ...olds, description: news.description, allowBroad: news.allowBroad, connection: news.connection, credentials: news.credentials } };
  },

  async delete(_id, props) {
    // An adopted address was there before this resource: it is left in place (SPEC §3).
    if (props.adopted) return;
    await guarded(props, async () => removeGrant(await withInfo(props)));
  },
};

let shim: pulumi.dynamic.ResourceProvider | undefined;

/**
 * One address in an existing OPNsense alias, granted with alias_util (`method: "table"`) or by
 * editing the alias content and applying it (`method: "config"`). Create adopts an address already
 * present; delete removes only what this resource added.
 * @example
 * new OpnsenseAliasEntry("alice", { connection: { url: "https://fw1", apiKeyFile: "apikey.txt" },
 *   alias: "jit_admins", address: "203.0.113.7" });
 */
export class OpnsenseAliasEntry extends pulumi.dynamic.Resource {
  declare readonly alias: pulumi.Output<string>;
  /** Canonical form: a host without prefix, a network as ip/prefix. */
  declare readonly address: pulumi.Output<string>;
  declare readonly cidr: pulumi.Output<string>;
  declare readonly method: pulumi.Output<GrantMethod>;
  declare readonly description: pulumi.Output<string | undefined>;
  declare readonly host: pulumi.Output<string>;
  declare readonly aliasUuid: pulumi.Output<string>;
  declare readonly aliasType: pulumi.Output<string>;
  declare readonly adopted: pulumi.Output<boolean>;

  constructor(name: string, args: OpnsenseAliasEntryArgs, opts?: pulumi.CustomResourceOptions) {
    const c = args.connection ?? {};
    const connection = Object.fromEntries(
      Object.entries({ url: c.url, apiKeyFile: c.apiKeyFile, caCert: c.caCert, insecure: c.insecure, timeoutMs: c.timeoutMs }).filter(([, v]) => v !== undefined),
    );
    const credentials = c.apiKey !== undefined || c.apiSecret !== undefined ? pulumi.secret({ apiKey: c.apiKey, apiSecret: c.apiSecret }) : undefined;
    const props = {
      connection,
      credentials,
      alias: args.alias,
      address: args.address,
      method: args.method ?? "table",
      description: args.description,
      allowBroad: args.allowBroad,
      cidr: undefined,
      host: undefined,
      aliasUuid: undefined,
      aliasType: undefined,
      adopted: undefined,
    };
    shim ??= providerShim("opnsenseAliasEntryProvider");
    super(shim, name, props, withSecretOutputs(opts, ["credentials"]), "opnsense", "AliasEntry");
  }
}

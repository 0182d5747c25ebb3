/**
 * `FortimanagerTrustedHost`: one address in one trusted-host slot (2..10) of a FortiManager
 * administrator (SPEC §4.3). This module is the only one that turns errors into Pulumi outcomes:
 * CheckFailures for input, a thrown diagnosis (GrantError) for everything else.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { mustParseAddress, parseAddress } from "../address";
import { diagnosed as diagnosedAs, hostOfUrl } from "../diagnosis";
import { baseConnectionFields, resolveBaseConnection, type BaseConnection } from "../connection-kit";
import { checkFailures, configureFromStack, hasUnknown, providerShim, setting, UNKNOWN, withSecretOutputs, type CheckFailure, type GrantAddressArgs } from "../dynamic-kit";
import { FortimanagerClient, type FortimanagerClientOptions } from "./client";
import { preflight } from "./preflight";
import { findTrustedHost, grantTrustedHost, revokeTrustedHost } from "./trusted-hosts";

/** How to reach a FortiManager. Every field may instead come from stack config `fortimanager:<key>` or env `FORTIMANAGER_<KEY>`. */
export interface FortimanagerConnection extends BaseConnection {
  /** `https://fmg.example.net`. */
  readonly url?: string;
  /** API key of a `user_type api` administrator (FMG ≥ 7.2.2), sent as a Bearer header. Stored as a secret. */
  readonly token?: pulumi.Input<string>;
  /** Login user for session auth; with `token`, the API administrator's id (lets the preflight check its rights). */
  readonly username?: string;
  /** Login password. Stored as a secret. */
  readonly password?: pulumi.Input<string>;
  /** ADOM for diagnoses; trusted hosts are global. */
  readonly adom?: string;
}

export interface FortimanagerTrustedHostArgs extends GrantAddressArgs {
  readonly connection?: FortimanagerConnection;
  /** The administrator whose trusted hosts change; case-sensitive. */
  readonly adminUser: pulumi.Input<string>;
}

/**
 * Lets `address` reach FortiManager as administrator `adminUser`, using one free trusted-host slot
 * (2..10; slot 1 is never touched). Create adopts an address already present (and delete then leaves
 * it there); delete resets only the slot this grant wrote and is idempotent; refresh drops the grant when the address was removed by hand.
 * @example
 * new FortimanagerTrustedHost("alice-laptop", { adminUser: "alice", address: "203.0.113.7",
 *   connection: { url: "https://fmg.example.net", token: cfg.requireSecret("fmgToken") } });
 */
export class FortimanagerTrustedHost extends pulumi.dynamic.Resource {
  declare readonly adminUser: pulumi.Output<string>;
  /** Canonical form (`203.0.113.7`, `2001:db8::/48`). */
  declare readonly address: pulumi.Output<string>;
  declare readonly cidr: pulumi.Output<string>;
  declare readonly family: pulumi.Output<"ipv4" | "ipv6">;
  /** The slot used, e.g. `trusthost3`. */
  declare readonly slot: pulumi.Output<string>;
  /** True when the address was already on the device and was taken over. */
  declare readonly adopted: pulumi.Output<boolean>;

  constructor(name: string, args: FortimanagerTrustedHostArgs, opts?: pulumi.CustomResourceOptions) {
    const { token, password, ...connection } = args.connection ?? {};
    const props = {
      connection,
      credentials: pulumi.secret(pulumi.output({ token, password })),
      adminUser: args.adminUser,
      address: args.address,
      allowBroad: args.allowBroad,
      cidr: undefined,
      family: undefined,
      slot: undefined,
      adopted: undefined,
    };
    super(SHIM, name, props, withSecretOutputs(opts, ["credentials"]), "fortimanager", "TrustedHost");
  }
}

const SHIM = providerShim("fortimanagerTrustedHostProvider");

const unknownOr = <T extends z.ZodType>(s: T) => z.union([z.literal(UNKNOWN), s]);

/** FortiManager admin ids: case-sensitive; letters, digits and `_ . @ -` (no `/`, quotes, spaces or control characters, so a url can never be steered). Max 64, as FortiOS (FMG's own limit is UNCONFIRMED). */
export const AdminUserSchema = z
  .string()
  .min(1, "must not be empty")
  .max(64, "must be at most 64 characters")
  .regex(/^[A-Za-z0-9_.@-]+$/, "may contain only letters, digits and _ . @ - (ids are case-sensitive; no spaces, slashes, quotes or control characters)")
  .refine((v) => !v.includes(".."), "must not contain '..' (it is part of the JSON-RPC object url)");

const ConnectionInputSchema = z
  .object({
    url: unknownOr(z.url({ protocol: /^https$/, error: "must be an https:// URL" })).optional(),
    username: unknownOr(AdminUserSchema).optional(),
    adom: unknownOr(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "ADOM names contain letters, digits and _ . -")).optional(),
    ...baseConnectionFields,
    caCert: unknownOr(z.string().includes("BEGIN CERTIFICATE", { error: "must be a PEM certificate" })).optional(),
  })
  .strict();

const CredentialsSchema = z.object({ token: z.string().optional(), password: z.string().optional() }).strict();

/** The provider's inputs: non-secret `connection`, secret `credentials`, the grant. */
export const TrustedHostInputsSchema = z
  .object({
    connection: ConnectionInputSchema.optional(),
    credentials: unknownOr(CredentialsSchema).optional(),
    adminUser: unknownOr(AdminUserSchema),
    address: z.string(),
    allowBroad: z.boolean().optional(),
    cidr: z.undefined().optional(),
    family: z.undefined().optional(),
    slot: z.undefined().optional(),
    adopted: z.undefined().optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.address === UNKNOWN) return;
    const r = parseAddress(v.address, { allowBroad: v.allowBroad === true });
    if (!r.ok) ctx.addIssue({ code: "custom", path: ["address"], message: r.rule });
  });
export type TrustedHostInputs = z.infer<typeof TrustedHostInputsSchema>;

export interface TrustedHostOutputs {
  connection: NonNullable<TrustedHostInputs["connection"]>;
  credentials: { token?: string; password?: string };
  adminUser: string;
  address: string;
  cidr: string;
  family: "ipv4" | "ipv6";
  slot: string;
  adopted: boolean;
  allowBroad?: boolean;
}

/** Connection settings as given inline, else stack config, else environment; credentials the same. */
function resolveConnection(connection: TrustedHostInputs["connection"], credentials: unknown): { options?: FortimanagerClientOptions; failures: CheckFailure[] } {
  const c = connection ?? {};
  const creds = (credentials && typeof credentials === "object" ? credentials : {}) as { token?: string; password?: string };
  const url = setting("fortimanager", "url", c.url);
  const token = setting("fortimanager", "token", creds.token);
  const username = setting("fortimanager", "username", c.username);
  const password = setting("fortimanager", "password", creds.password);
  const failures: CheckFailure[] = [];
  if (!url) failures.push({ property: "connection.url", reason: "connection.url is required (inline, stack config fortimanager:url, or env FORTIMANAGER_URL)" });
  // Never name a secret field: the CLI would print its value (shared/reference/pulumi.md §1.4).
  if (!token && !(username && password)) failures.push({ property: "", reason: "FortiManager credentials are required: a token (fortimanager:token), or username and password (fortimanager:username / fortimanager:password)" });
  if (failures.length > 0) return { failures };
  return {
    failures,
    options: {
      url: url!,
      token,
      username,
      password,
      adom: setting("fortimanager", "adom", c.adom),
      ...resolveBaseConnection("fortimanager", c),
    },
  };
}

/**
 * A client for one provider operation; run the operation through `client.operation(…)` so that a
 * login session is logged out before the operation returns when no other is in flight (session.ts).
 */
function clientFor(props: { connection?: TrustedHostInputs["connection"]; credentials?: unknown }): FortimanagerClient {
  const r = resolveConnection(props.connection, props.credentials);
  if (!r.options) throw new Error(r.failures.map((f) => f.reason).join("; "));
  return new FortimanagerClient(r.options);
}

/** The last-resort diagnosis of a provider method, naming the manager's host (inline, config or env URL). */
const diagnosed = <T>(props: { connection?: { url?: string | undefined } | undefined }, fn: () => Promise<T>): Promise<T> =>
  diagnosedAs("fortinet", { host: hostOfUrl(setting("fortimanager", "url", props.connection?.url)) }, fn);

const familyOf = (f: 4 | 6): "ipv4" | "ipv6" => (f === 4 ? "ipv4" : "ipv6");

/** The provider object the shim forwards to; tests and the benchmark drive it directly. */
export const fortimanagerTrustedHostProvider: pulumi.dynamic.ResourceProvider<TrustedHostInputs, TrustedHostOutputs> = {
  configure: (req) => configureFromStack(req),

  async check(_olds, news) {
    const { __provider: _p, ...raw } = news as TrustedHostInputs & { __provider?: string };
    const parsed = TrustedHostInputsSchema.safeParse(raw);
    if (!parsed.success) return { failures: checkFailures(parsed.error) };
    const inputs = parsed.data;
    if (hasUnknown(inputs)) return { inputs };
    const conn = resolveConnection(inputs.connection, inputs.credentials);
    if (!conn.options) return { failures: conn.failures };
    const options = conn.options;
    // One operation: a session the preflight logged in to is logged out before check returns (a cached preflight sends nothing).
    await diagnosed(inputs, () => new FortimanagerClient(options).operation((client) => preflight(client, inputs.adminUser)));
    return { inputs };
  },

  async diff(_id, olds, news) {
    const replaces: string[] = [];
    const newCidr = news.address === UNKNOWN ? UNKNOWN : parseAddress(news.address, { allowBroad: true }).ok ? mustParseAddress(news.address).cidr : news.address;
    if (newCidr !== olds.cidr) replaces.push("address");
    if (news.adminUser !== olds.adminUser) replaces.push("adminUser");
    if ((news.connection?.url ?? "") !== (olds.connection?.url ?? "")) replaces.push("connection");
    const changes = replaces.length > 0 || hasUnknown(news) || JSON.stringify([news.connection ?? {}, news.credentials ?? {}, news.allowBroad]) !== JSON.stringify([olds.connection ?? {}, olds.credentials ?? {}, olds.allowBroad]);
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    return diagnosed(inputs, async () => {
      const address = mustParseAddress(inputs.address);
      const outcome = await clientFor(inputs).operation((client) => grantTrustedHost(client, inputs.adminUser, address));
      const outs: TrustedHostOutputs = {
        connection: inputs.connection ?? {},
        credentials: (inputs.credentials as TrustedHostOutputs["credentials"] | undefined) ?? {},
        adminUser: inputs.adminUser,
        address: address.canonical,
        cidr: address.cidr,
        family: familyOf(address.family),
        slot: outcome.slot,
        adopted: outcome.adopted,
        ...(inputs.allowBroad !== undefined && { allowBroad: inputs.allowBroad }),
      };
      return { id: `${inputs.adminUser}:${address.cidr}`, outs };
    });
  },

  async read(id, props) {
    if (!props) return { id, props };
    return diagnosed(props, async () => {
      const slot = await clientFor(props).operation((client) => findTrustedHost(client, props.adminUser, mustParseAddress(props.cidr), props.slot));
      // No id: the engine drops the resource from state on refresh (drift, shared/reference/pulumi.md §1.1).
      return slot === undefined ? {} : { id, props: { ...props, slot } };
    });
  },

  async update(_id, olds, news) {
    // Only non-identity fields change here (diff replaces on the rest): keep the device state.
    return { outs: { ...olds, connection: news.connection ?? {}, credentials: (news.credentials as TrustedHostOutputs["credentials"] | undefined) ?? {}, ...(news.allowBroad !== undefined && { allowBroad: news.allowBroad }) } };
  },

  async delete(_id, props) {
    // SPEC §3: never remove what this resource did not add. An adopted address stays on the device.
    if (props.adopted) return;
    await diagnosed(props, () => clientFor(props).operation((client) => revokeTrustedHost(client, props.adminUser, mustParseAddress(props.cidr))));
  },
};

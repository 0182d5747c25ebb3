/**
 * `FortigateAddress`: one FortiOS address object per grant (`firewall/address` or `address6`), in one
 * VDOM, optionally a member of an address group (SPEC §4.2). Inputs, input schema, the provider object
 * and the resource class; device work is in grant.ts, the API in client.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { parseAddress } from "../address";
import { baseConnectionFields, hostUrlField, resolveBaseConnection, type BaseConnection } from "../connection-kit";
import { checkFailures, configureFromStack, hasUnknown, providerShim, setting, withSecretOutputs, type CheckFailure, type GrantAddressArgs } from "../dynamic-kit";
import type { FortigateClientOptions } from "./client";
import { FortigateClient } from "./client";
import { createGrant, deleteGrant, diagnosed, familyOf, readGrant, updateGrant, type FortigateAddressState } from "./grant";
import { nameProblem, objectNameProblem } from "./names";
import { preflight } from "./preflight";

export type { FortigateAddressState } from "./grant";

/** How to reach a FortiGate. Each field may also come from stack config `fortigate:<key>` or env `FORTIGATE_<KEY>`. */
export interface FortigateConnection extends BaseConnection {
  /** `https://host[:port]` of the FortiGate's HTTPS management access. */
  readonly url?: string;
  /** REST API administrator token (`execute api-user generate-key`); stored as a secret; sent only as `Authorization: Bearer`. */
  readonly token?: pulumi.Input<string>;
  /** VDOM of the objects. @default "root" */
  readonly vdom?: string;
}

export interface FortigateAddressArgs extends GrantAddressArgs {
  readonly connection?: FortigateConnection;
  /** Address object name (≤ 79 characters; no `/ \ % ? # ' " \``, `..`, control characters or edge whitespace). */
  readonly name: pulumi.Input<string>;
  readonly comment?: pulumi.Input<string>;
  /** Existing address group to add the object to (never created by this resource). */
  readonly group?: pulumi.Input<string>;
}

const nameField = z.string().superRefine((v, ctx) => {
  const p = nameProblem(v);
  if (p) ctx.addIssue({ code: "custom", message: p });
});
const objectNameField = z.string().superRefine((v, ctx) => {
  const p = objectNameProblem(v);
  if (p) ctx.addIssue({ code: "custom", message: p });
});

export const FortigateAddressInputsSchema = z
  .object({
    connection: z
      .object({ url: hostUrlField, vdom: nameField.optional(), ...baseConnectionFields })
      .strict()
      .optional(),
    credentials: z.object({ token: z.string().optional() }).strict().optional(),
    name: objectNameField,
    address: z.string(),
    comment: z.string().max(255, "must be at most 255 characters (FortiOS limit)").optional(),
    group: nameField.optional(),
    allowBroad: z.boolean().optional(),
  })
  .strict();
export type FortigateAddressInputs = z.infer<typeof FortigateAddressInputsSchema>;

/** The connection as inline value > stack config > environment; `undefined` fields when not given anywhere. */
export function resolveConnection(i: Pick<FortigateAddressInputs, "connection" | "credentials">): Omit<FortigateClientOptions, "url" | "token"> & { url: string | undefined; token: string | undefined } {
  const c = i.connection ?? {};
  return {
    url: setting("fortigate", "url", c.url),
    token: setting("fortigate", "token", i.credentials?.token),
    vdom: setting("fortigate", "vdom", c.vdom) ?? "root",
    ...resolveBaseConnection("fortigate", c),
  };
}

function clientOptions(i: Pick<FortigateAddressInputs, "connection" | "credentials">): FortigateClientOptions {
  const r = resolveConnection(i);
  if (!r.url) throw new Error("FortiGate URL missing: set connection.url, stack config fortigate:url or FORTIGATE_URL");
  if (!r.token) throw new Error("FortiGate token missing: set connection.token, secret stack config fortigate:token or FORTIGATE_TOKEN");
  return { ...r, url: r.url, token: r.token };
}

const IDENTITY = ["name", "address", "group"] as const;

/** The provider object behind {@link FortigateAddress}; tests and the CLI drive it directly. */
export const fortigateAddressProvider = {
  configure: configureFromStack,

  /** Validates inputs (no request), then runs the cached, side-effect-free permission preflight. */
  async check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<{ inputs?: Record<string, unknown>; failures?: CheckFailure[] }> {
    const { __provider: _p, ...raw } = news;
    const unknown = Object.keys(raw).filter((k) => hasUnknown(raw[k]));
    const known = Object.fromEntries(Object.entries(raw).filter(([k]) => !unknown.includes(k)));
    const parsed = FortigateAddressInputsSchema.partial({ name: true, address: true }).safeParse(known);
    const failures: CheckFailure[] = parsed.success ? [] : checkFailures(parsed.error);
    for (const k of ["name", "address"] as const) if (!unknown.includes(k) && raw[k] === undefined) failures.push({ property: k, reason: `${k}: is required` });
    let canonical: string | undefined;
    if (typeof raw.address === "string" && !unknown.includes("address") && !unknown.includes("allowBroad")) {
      const a = parseAddress(raw.address, { allowBroad: raw.allowBroad === true });
      if (a.ok) canonical = a.address.canonical;
      else failures.push({ property: "address", reason: `address: ${a.rule}` });
    }
    if (failures.length > 0 || !parsed.success) return { failures };
    const inputs: Record<string, unknown> = { ...raw, ...(canonical !== undefined && { address: canonical }) };
    if (unknown.length > 0) return { inputs };
    const conn = resolveConnection(parsed.data);
    if (!conn.url) return { failures: [{ property: "connection.url", reason: "connection.url: no FortiGate URL; set connection.url, stack config fortigate:url or FORTIGATE_URL" }] };
    if (!conn.token) return { failures: [{ property: "", reason: "credentials.token: no FortiGate API token; set connection.token, secret stack config fortigate:token or FORTIGATE_TOKEN" }] };
    const client = new FortigateClient({ ...conn, url: conn.url, token: conn.token });
    await diagnosed({ host: client.host, timeoutMs: conn.timeoutMs }, () => preflight(client, conn.url!, conn.token!, { family: familyOf(canonical!), group: parsed.data.group }));
    return { inputs };
  },

  /** Identity (name, address, group, VDOM, device URL) replaces; the comment and a lost membership update in place. */
  async diff(_id: string, olds: FortigateAddressState, news: FortigateAddressInputs): Promise<{ changes: boolean; replaces: string[]; deleteBeforeReplace?: boolean }> {
    const replaces: string[] = IDENTITY.filter((k) => hasUnknown(news[k]) || (news[k] ?? undefined) !== (olds[k] ?? undefined));
    if (hasUnknown(news.connection)) replaces.push("connection");
    else {
      const n = resolveConnection(news);
      const o = resolveConnection(olds as Pick<FortigateAddressInputs, "connection" | "credentials">);
      if (n.url !== o.url || (n.vdom ?? "root") !== (olds.vdom ?? "root")) replaces.push("connection");
    }
    const changes =
      replaces.length > 0 ||
      hasUnknown(news.comment) || hasUnknown(news.credentials) ||
      (news.comment ?? "") !== (olds.comment ?? "") ||
      (olds.group !== undefined && olds.member === false) ||
      news.credentials?.token !== olds.credentials?.token ||
      JSON.stringify(news.connection ?? {}) !== JSON.stringify(olds.connection ?? {});
    // Same name on replace: the old object must go first, or the new one collides with it (-5).
    const sameName = !replaces.includes("name");
    return { changes, replaces, ...(replaces.length > 0 && sameName && { deleteBeforeReplace: true }) };
  },

  /** Creates or adopts the object (and membership); see createGrant. */
  async create(inputs: FortigateAddressInputs): Promise<{ id: string; outs: FortigateAddressState }> {
    const outs = await createGrant(clientOptions(inputs), { name: inputs.name, address: inputs.address, comment: inputs.comment ?? "", group: inputs.group });
    return { id: `${outs.vdom}/${outs.name}`, outs: { ...keep(inputs), ...outs } };
  },

  /** Asks the device; `{}` (no id) when the object is gone, so refresh drops it from state. */
  async read(id: string, props?: FortigateAddressState): Promise<{ id?: string; props?: FortigateAddressState }> {
    if (!props?.name) return { id, ...(props && { props }) };
    const seen = await readGrant(clientOptions(props), props);
    return seen === undefined ? {} : { id, props: { ...props, ...seen } };
  },

  /** Comment in place; re-adds a membership removed by hand. */
  async update(_id: string, olds: FortigateAddressState, news: FortigateAddressInputs): Promise<{ outs: FortigateAddressState }> {
    const changed = await updateGrant(clientOptions(news), olds, news.comment ?? "");
    return { outs: { ...olds, ...keep(news), ...changed } };
  },

  /** Membership first, then the object; gone is success; adopted objects stay. */
  async delete(_id: string, props: FortigateAddressState): Promise<void> {
    await deleteGrant(clientOptions(props), props);
  },
};

/** Input fields carried into state (connection without secrets, credentials as a secret output). */
function keep(i: FortigateAddressInputs) {
  return { ...(i.connection && { connection: i.connection }), ...(i.credentials && { credentials: i.credentials }), ...(i.allowBroad !== undefined && { allowBroad: i.allowBroad }) };
}

/**
 * A network-access grant on a FortiGate: an address object, optionally in an address group.
 * Create adopts an identical existing object; delete removes the membership, then the object it created.
 * @example
 * new FortigateAddress("alice", { connection: { url, token: cfg.requireSecret("token") },
 *   name: "grant-alice", address: "203.0.113.7", group: "jit-admins" });
 */
export class FortigateAddress extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly address: pulumi.Output<string>;
  declare readonly cidr: pulumi.Output<string>;
  declare readonly family: pulumi.Output<"ipv4" | "ipv6">;
  declare readonly vdom: pulumi.Output<string>;
  declare readonly group: pulumi.Output<string | undefined>;
  declare readonly comment: pulumi.Output<string>;
  declare readonly adopted: pulumi.Output<boolean>;
  declare readonly membershipAdded: pulumi.Output<boolean | undefined>;
  declare readonly member: pulumi.Output<boolean | undefined>;
  declare readonly objectPath: pulumi.Output<string>;
  declare readonly uuid: pulumi.Output<string | undefined>;

  constructor(name: string, args: FortigateAddressArgs, opts?: pulumi.CustomResourceOptions) {
    const { token, ...connection } = args.connection ?? {};
    const props = {
      ...(args.connection && { connection }),
      ...(token !== undefined && { credentials: pulumi.secret(pulumi.output(token).apply((t) => ({ token: t }))) }),
      name: args.name,
      address: args.address,
      comment: args.comment,
      group: args.group,
      allowBroad: args.allowBroad,
      cidr: undefined, family: undefined, vdom: undefined, adopted: undefined, membershipAdded: undefined, member: undefined, objectPath: undefined, uuid: undefined,
    };
    super(providerShim("fortigateAddressProvider"), name, props, withSecretOutputs(opts, ["credentials"]), "fortigate", "Address");
  }
}

/**
 * ToyfwListEntry: one address in an existing Toy Firewall list, on the shared grant lifecycle
 * (provider/core/grant-lifecycle.ts), declared once (provider/core/define-resource.ts): the input schema
 * is the one list of inputs; the class, its registered properties and its secret outputs follow from it.
 * TODO(new-device): the device's own rules (names, address families, quirks), each with a failing-input test.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { mustParseAddress, parseAddress } from "../../core/address";
import { baseConnectionFields, hostUrlField, resolveBaseConnection, ruleField, type BaseConnection } from "../../core/connection-kit";
import { defineGrantResource } from "../../core/define-resource";
import { hostOfUrl } from "../../core/diagnosis";
import { setting, type GrantAddressArgs } from "../../core/dynamic-kit";
import { grantMetaFields, grantProvider, type DevicePin, type PinnedState } from "../../core/grant-lifecycle";
import { fingerprint } from "../../core/process-state";
import type { Assert, BaseConnectionInputs, GrantMetaInputs, ResourceOutputs, SameType } from "../../core/resource-declaration";
import { resolveDeviceUrl, SettingProblem } from "../../core/settings";
import { TOYFW_DIAGNOSIS_FAMILY, ToyfwClient, type ToyfwClientOptions } from "./client";
import { toyfwPreflight } from "./preflight";

/** How to reach the device. The token accepts `pulumi.Input` and is stored as a secret. */
export interface ToyfwConnection extends BaseConnection {
  /** `https://host[:port]`. @default stack config `toyfw:url`, env `TOYFW_URL` */
  readonly url?: pulumi.Input<string>;
  /** API token. @default stack config `toyfw:token`, env `TOYFW_TOKEN` */
  readonly token?: pulumi.Input<string>;
}

export interface ToyfwListEntryArgs extends GrantAddressArgs {
  /** @default everything from stack config / environment */
  readonly connection?: ToyfwConnection;
  /** The existing list the address goes into. */
  readonly list: pulumi.Input<string>;
}

/**
 * The list name rule, stated so that a refusal names it (hostile-input table: path characters, quotes,
 * controls, invisible characters, over-length). TODO(new-device): the device's own rule, citing it.
 */
export function toyfwListNameProblem(name: string): string | undefined {
  if (name === "") return "must not be empty";
  if (name.length > 31) return `must be at most 31 characters (is ${name.length})`;
  if (!/^[A-Za-z0-9_-]+$/.test(name)) return "must hold only letters A-Z a-z, digits, '-' and '_'";
  return undefined;
}

/**
 * The schema `check` parses with. Left out of the published declarations, which name no zod type (a
 * user's `tsc` under the classic template would load zod's): the plain type below is what users see.
 * @internal
 */
export const ToyfwListEntryInputsSchema = z
  .object({
    connection: z
      .object({ url: hostUrlField.optional(), ...baseConnectionFields })
      .strict()
      .optional(),
    credentials: z.object({ token: z.string().optional() }).strict().optional(),
    list: ruleField(toyfwListNameProblem),
    address: z.string(),
    ...grantMetaFields,
    allowBroad: z.boolean().optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    const r = parseAddress(v.address, { allowBroad: v.allowBroad });
    if (!r.ok) ctx.addIssue({ code: "custom", path: ["address"], message: r.rule });
  });
/** The provider's inputs, as `check` accepts them ({@link ToyfwListEntryInputsSchema}); the compiler keeps the two equal. */
export interface ToyfwListEntryInputs extends GrantMetaInputs {
  connection?: BaseConnectionInputs;
  credentials?: { token?: string };
  list: string;
  address: string;
}
type _InputsAreTheSchema = Assert<SameType<ToyfwListEntryInputs, z.infer<typeof ToyfwListEntryInputsSchema>>>;

/** What state holds: the inputs plus what the device reported. */
export interface ToyfwListEntryOutputs extends ToyfwListEntryInputs, PinnedState {
  /** Canonical address. */
  readonly address: string;
  readonly cidr: string;
}

const OUTPUT_ONLY = ["cidr"] as const;

function connect(i: ToyfwListEntryInputs, pin: DevicePin): ToyfwClientOptions {
  const token = setting("toyfw", "token", i.credentials?.token);
  if (token === undefined) throw new SettingProblem("credentials.token", "no token: set connection.token, stack config toyfw:token or environment TOYFW_TOKEN");
  return { url: pin.url, token, ...resolveBaseConnection("toyfw", i.connection) };
}

/** The provider object behind {@link ToyfwListEntry}; tests, the bench and the CLI drive it directly. */
export const toyfwListEntryProvider = grantProvider<ToyfwListEntryInputs, ToyfwListEntryOutputs, ToyfwClientOptions>({
  namespace: "toyfw",
  family: TOYFW_DIAGNOSIS_FAMILY,
  schema: ToyfwListEntryInputsSchema,
  placeholders: {
    list: "placeholder",
    address: "192.0.2.1",
    description: "",
    expiresAt: "2999-01-01T00:00:00Z",
    allowBroad: false,
    connection: {},
    credentials: {},
  },
  outputOnly: OUTPUT_ONLY,
  identity: ["list", "address"],
  normalise: (i) => ({ ...i, address: mustParseAddress(i.address).canonical }),
  pin: (i) => ({ url: resolveDeviceUrl("toyfw", i.connection?.url, i.connection?.allowHttp) }),
  connect,
  hostOf: (pin) => hostOfUrl(pin.url),
  sharedKey: (i, pin) => fingerprint("toyfw", pin.url, i.list, mustParseAddress(i.address).cidr),
  preflight: (o, i, mode) => toyfwPreflight(new ToyfwClient(o), i.list, mode),
  async create(o, i) {
    const a = mustParseAddress(i.address);
    await new ToyfwClient(o).addEntry(i.list, a.canonical);
    return { id: `${i.list}/${a.canonical}`, outs: { address: a.canonical, cidr: a.cidr } };
  },
  async read(o, s) {
    const entries = await new ToyfwClient(o).listEntries(s.list);
    return entries?.includes(s.address) ? {} : undefined;
  },
  async remove(o, s) {
    await new ToyfwClient(o).removeEntry(s.list, s.address);
  },
  deleteBeforeReplace: () => false,
});

/** The registered `connection`/`credentials` properties: the token apart, as a Pulumi secret (state encrypts it). */
function toyfwConnectionProps(c: ToyfwConnection = {}) {
  const { token, ...rest } = c;
  const connection = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  return { connection, credentials: token === undefined ? undefined : pulumi.secret({ token }) };
}

/** The one declaration of `ToyfwListEntry`: its inputs are {@link ToyfwListEntryInputsSchema}. */
export const toyfwListEntryDeclaration = defineGrantResource<ToyfwListEntryArgs, typeof ToyfwListEntryInputsSchema.shape>({
  kind: "grant",
  module: "toyfw",
  type: "ListEntry",
  providerExport: "toyfwListEntryProvider",
  schema: ToyfwListEntryInputsSchema,
  connection: toyfwConnectionProps,
  identity: ["list", "address"],
  outputs: { cidr: "The address as a CIDR (`203.0.113.7/32`)." } satisfies Record<(typeof OUTPUT_ONLY)[number], string>,
});

/**
 * One address in an existing Toy Firewall list.
 * @example
 * new ToyfwListEntry("alice", { list: "jit", address: "203.0.113.7" });
 */
// Declaration merging types the outputs the engine fills in (no `declare readonly` list to keep in step).
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface ToyfwListEntry extends ResourceOutputs<ToyfwListEntryOutputs> {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class ToyfwListEntry extends pulumi.dynamic.Resource {
  constructor(name: string, args: ToyfwListEntryArgs, opts?: pulumi.CustomResourceOptions) {
    super(...toyfwListEntryDeclaration.register(name, args, opts));
  }
}

/**
 * One declaration per resource (issue 17): the zod schema `check` parses with is the single list of a
 * resource's inputs, and {@link defineGrantResource} derives from it what a resource class used to
 * restate by hand — the properties it registers (every input, the fields every grant shares, the
 * output-only fields declared unknown, the logical name as `grantName`), the secret outputs, and the one
 * provider shim of the process. It also carries what a Pulumi package schema generator needs (type
 * token, input JSON Schema, secret inputs, outputs with descriptions, identity), without zod types in
 * its public shape (issue 20: a user's `tsc` must not load zod's declarations).
 */
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { providerShim, withSecretOutputs, type ProviderExportName } from "./dynamic-kit";
import { tracePhase } from "./phase-trace";
import type { CommonArgs, GrantResourceDeclaration, ResourceDeclaration, ResourceKind } from "./resource-declaration";

export type { CommonArgs, GrantResourceDeclaration, ResourceDeclaration, ResourceKind, ResourceOutputs } from "./resource-declaration";

/** The fields the lifecycle records on every grant, set and guard. */
const PINNED_OUTPUTS: Readonly<Record<string, string>> = {
  device: "The device the grant is on (URL origin, and its VDOM/ADOM where it has one), recorded at create: a change of it by any route replaces the grant.",
  expired: "True once `expiresAt` passed and `up` revoked the grant (it stays in state so previews stay clean).",
};

/** Inputs every resource must have (grant-lifecycle `grantMetaFields`, address rules): a declaration without them does not load. */
const COMMON_INPUTS = ["description", "expiresAt", "allowBroad"] as const;

/** Properties that are never a user's input of the class: the connection is mapped by the device, `grantName` is the resource name. */
const NOT_ARGS = new Set(["connection", "credentials", "grantName"]);

export interface ResourceSpec<Args extends CommonArgs, Shape extends z.core.$ZodShape> {
  readonly kind: ResourceKind;
  readonly module: string;
  readonly type: string;
  readonly providerExport: ProviderExportName;
  /** The strict object schema `check` parses with (refinements allowed: zod 4 keeps `.shape`). */
  readonly schema: z.ZodObject<Shape>;
  /** The registered `connection`/`credentials` properties of the user's connection argument (secrets wrapped). */
  readonly connection: (c: Args["connection"]) => Record<string, unknown>;
  readonly outputs: Readonly<Record<string, string>>;
  readonly identity: readonly (keyof Shape & string)[];
  /** @default ["credentials"] */
  readonly secretInputs?: readonly string[];
  /** Values registered when the argument is absent (the schema's defaults, so state reads the same as before). */
  readonly defaults?: { readonly [K in keyof Shape]?: unknown };
  /** Properties that do not come from an argument of the same name (a guard's addresses from its grants). */
  readonly fixed?: (args: Args) => { readonly [K in keyof Shape]?: unknown };
}

const shims = new Map<string, pulumi.dynamic.ResourceProvider>();
const declarations: GrantResourceDeclaration<never>[] = [];

/** Every declaration loaded in this process (each resource module adds its own when it loads). */
export function resourceDeclarations(): readonly ResourceDeclaration[] {
  return declarations;
}

/**
 * Declares a resource from its input schema. The class then only forwards its constructor:
 * `super(...decl.register(name, args, opts))`, and declares its outputs as `ResourceOutputs<State>`.
 */
export function defineGrantResource<Args extends CommonArgs, Shape extends z.core.$ZodShape>(spec: ResourceSpec<Args, Shape>): GrantResourceDeclaration<Args> {
  const shape = spec.schema.shape as Record<string, unknown>;
  const missing = COMMON_INPUTS.filter((k) => !(k in shape));
  if (missing.length > 0) throw new Error(`${spec.module}:${spec.type}: the input schema lacks ${missing.join(", ")} (spread grantMetaFields and allowBroad)`);
  const argNames = Object.keys(shape).filter((k) => !NOT_ARGS.has(k));
  const outputs = { ...spec.outputs, ...PINNED_OUTPUTS };
  const secretInputs = spec.secretInputs ?? ["credentials"];
  const provider = () => {
    let shim = shims.get(spec.providerExport);
    if (!shim) shims.set(spec.providerExport, (shim = providerShim(spec.providerExport)));
    return shim;
  };
  const declaration: GrantResourceDeclaration<Args> = {
    kind: spec.kind,
    module: spec.module,
    type: spec.type,
    token: `pulumi-nodejs:dynamic/${spec.module}:${spec.type}`,
    providerExport: spec.providerExport,
    secretInputs,
    outputs,
    identity: spec.identity,
    inputJsonSchema: () => z.toJSONSchema(spec.schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>,
    provider,
    register(name, args, opts) {
      tracePhase("register"); // the program reached its first resource: compile and library load are behind it
      const given = args as unknown as Record<string, unknown>;
      const defaults = (spec.defaults ?? {}) as Record<string, unknown>;
      const props: Record<string, unknown> = {
        ...spec.connection(args.connection),
        ...Object.fromEntries(argNames.map((k) => [k, given[k] ?? defaults[k]])),
        ...spec.fixed?.(args),
        ...Object.fromEntries(Object.keys(outputs).map((k) => [k, undefined])),
        grantName: name,
      };
      return [provider(), name, props, withSecretOutputs(opts, secretInputs), spec.module, spec.type];
    },
  };
  declarations.push(declaration as GrantResourceDeclaration<never>);
  return declaration;
}

/**
 * The plain shape of a resource declaration (define-resource.ts builds them): what the public declarations
 * of the resource classes reference, so they name no zod type (issue 20: a user's `tsc` must not load
 * zod's declarations through ours).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ProviderExportName } from "./dynamic-kit";
import type { DevicePin } from "./grant-lifecycle";

/** What a set, a guard or a grant is: a generator names the kinds apart, the registration is the same. */
export type ResourceKind = "grant" | "set" | "guard";

/** A resource as a schema generator and the registry see it (plain data: no zod type, no class). */
export interface ResourceDeclaration {
  readonly kind: ResourceKind;
  /** `pulumi-nodejs:dynamic/<module>:<type>`: fixed forever, existing stacks name it. */
  readonly module: string;
  readonly type: string;
  readonly token: string;
  /** The package-root export name of the provider object the shim forwards to. */
  readonly providerExport: ProviderExportName;
  /** Inputs stored as Pulumi secrets (`additionalSecretOutputs`); never named in a check failure. */
  readonly secretInputs: readonly string[];
  /** Output-only fields (filled by the provider), each with what it holds. */
  readonly outputs: Readonly<Record<string, string>>;
  /** Inputs whose change replaces the resource (besides the device pin). */
  readonly identity: readonly string[];
  /** The JSON Schema of the inputs `check` accepts (`z.toJSONSchema`, input side: defaults are optional). */
  inputJsonSchema(): Record<string, unknown>;
  /** The provider shim of this resource: one object per process, shared by every instance (issue 22). */
  provider(): pulumi.dynamic.ResourceProvider;
}

/** The class-side arguments every resource shares (a declaration's `Args` must have them). */
export interface CommonArgs {
  readonly connection?: unknown;
  readonly description?: pulumi.Input<string>;
  readonly expiresAt?: pulumi.Input<string>;
}

/** A declaration plus what its class calls in its constructor. */
export interface GrantResourceDeclaration<Args> extends ResourceDeclaration {
  /** The arguments of `pulumi.dynamic.Resource`'s constructor for one instance. */
  register(
    name: string,
    args: Args,
    opts: pulumi.CustomResourceOptions | undefined,
  ): [pulumi.dynamic.ResourceProvider, string, Record<string, unknown>, pulumi.CustomResourceOptions, string, string];
}

/** The outputs a resource class exposes: every state field but the connection, typed as Pulumi outputs. */
export type ResourceOutputs<State> = {
  readonly [K in Exclude<keyof State, "connection" | "credentials" | "grantName" | "device" | "expired">]-?: pulumi.Output<State[K]>;
} & {
  /** The device the grant is on (URL origin and scope), recorded at create: a change by any route replaces the grant. */
  readonly device: pulumi.Output<DevicePin>;
  /** True once `expiresAt` passed and `up` revoked the grant. */
  readonly expired: pulumi.Output<boolean>;
};

// Plain input types (issue 20): a resource's public `…Inputs` type is written out with these rather than
// inferred from its zod schema, so the declarations name no zod type; each resource module ties the two
// with `Assert<SameType<…>>`, so the type cannot drift from what `check` accepts.

/** The checked connection fields every device shares (connection-kit `baseConnectionFields`, `hostUrlField`). */
export interface BaseConnectionInputs {
  caCert?: string;
  insecure?: boolean;
  timeoutMs?: number;
  allowHttp?: boolean;
  url?: string;
}

/** The checked fields every grant, set and guard shares (grant-lifecycle `grantMetaFields`, address rules). */
export interface GrantMetaInputs {
  description?: string;
  expiresAt?: string;
  allowBroad?: boolean;
}

/** One entry of a set's `addresses` as `check` accepts it: an address, or an address with its own description and name. */
export type CheckedSetEntry = string | { address: string; description?: string; name?: string; expiresAt?: string };

/** The checked fields every set and guard shares (set-lifecycle `setFields`). */
export interface SetInputFields extends GrantMetaInputs {
  addresses: CheckedSetEntry[];
  exclusive: boolean;
  guard?: boolean;
  unexpected?: string[];
  missing?: string[];
}

type Plain<T> = T extends readonly (infer E)[] ? Plain<E>[] : T extends object ? { [K in keyof T]: Plain<T[K]> } : T;
/**
 * True only when `A` and `B` are the same type, fields, optionality and nesting alike (interfaces and
 * intersections compared by their members).
 * @internal
 */
export type SameType<A, B> = (<T>() => T extends Plain<A> ? 1 : 2) extends <T>() => T extends Plain<B> ? 1 : 2 ? true : false;
/** A compile-time assertion: `type _Check = Assert<SameType<A, B>>` fails typecheck unless `A` is `B`. @internal */
export type Assert<T extends true> = T;

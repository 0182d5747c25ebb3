/**
 * `OpnsenseAliasSet` (a list of addresses in one existing alias, as one resource) and
 * `OpnsenseAliasGuard` (the alias may hold only what the program's per-entry grants declare), issue 13.
 * Both run on the shared lifecycle through set-lifecycle.ts; the device work is set-ops.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { hostOfUrl } from "../../core/diagnosis";
import { defineGrantResource } from "../../core/define-resource";
import type { Assert, BaseConnectionInputs, ResourceOutputs, SameType, SetInputFields } from "../../core/resource-declaration";
import { grantProvider, type DevicePin } from "../../core/grant-lifecycle";
import { isGrantError } from "../../core/errors";
import { fingerprint, shared } from "../../core/process-state";
import { resolveDeviceUrl, SettingProblem } from "../../core/settings";
import {
  guardInputs,
  loudDiff,
  parsedAddresses,
  SET_OUTPUT_DESCRIPTIONS,
  refineAddresses,
  setFields,
  setLifecycle,
  type SetEntryInput,
  type SetFields,
  type SetState,
} from "../../core/set-lifecycle";
import { clientFor, ConnectionProblem, resolveConnection, type ResolvedConnection } from "./connection";
import { aliasNameProblem, type GrantMethod } from "./names";
import { addressFitProblem, cachedAlias, freshAlias, knownAlias, preflight, setChangePreflight, type AliasInfo } from "./preflight";
import { AliasEntryInputsSchema, opnsenseConnectionProps, type OpnsenseConnection } from "./resource";
import { currentEntries, reconcileAlias, type SetTarget } from "./set-ops";

/** Arguments shared by the OPNsense set and guard. */
interface AliasTargetArgs {
  /** @default everything from stack config / environment */
  readonly connection?: OpnsenseConnection;
  /** Name of an existing Host(s) or Network(s) alias (External too in table mode). Case-sensitive. */
  readonly alias: pulumi.Input<string>;
  /** "table": alias_util add/delete (one request and one config revision per change); "config": one set_item + one reconfigure per change of the whole list. @default "table" */
  readonly method?: pulumi.Input<GrantMethod>;
  /** Why this access exists; kept in state. */
  readonly description?: pulumi.Input<string>;
  /** When the whole set ends (ISO 8601 with a zone); then `up` removes its addresses. @default no expiry */
  readonly expiresAt?: pulumi.Input<string>;
}

export interface OpnsenseAliasSetArgs extends AliasTargetArgs {
  /** The addresses (IPv4/IPv6 host or CIDR), each optionally `{ address, description, expiresAt }` (`expiresAt` ends that entry alone). Duplicates are one entry. */
  readonly addresses: pulumi.Input<pulumi.Input<SetEntryInput>[]>;
  /** The alias must hold exactly these addresses: anything else is drift, and `up` removes it. @default false */
  readonly exclusive?: pulumi.Input<boolean>;
  /** Allow prefixes broader than /8 (IPv4) or /32 (IPv6). @default false */
  readonly allowBroad?: pulumi.Input<boolean>;
}

export interface OpnsenseAliasGuardArgs extends AliasTargetArgs {
  /** The per-entry grants of this alias the program declares: any other address in the alias is drift, and `up` removes it. */
  readonly grants: readonly { readonly address: pulumi.Input<string> }[];
}

const entryShape = AliasEntryInputsSchema.shape;

/** @internal */
export const AliasSetInputsSchema = z
  .object({
    connection: entryShape.connection,
    credentials: entryShape.credentials,
    alias: z.string().superRefine((v, ctx) => {
      const problem = aliasNameProblem(v);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
    method: z.enum(["table", "config"]).default("table"),
    ...setFields,
  })
  .strict()
  .superRefine(refineAddresses);
/** The provider's inputs, as `check` accepts them ({@link AliasSetInputsSchema}). */
interface AliasSetInputsChecked extends SetInputFields {
  connection?: BaseConnectionInputs & { apiKeyFile?: string };
  credentials?: { apiKey?: string; apiSecret?: string };
  alias: string;
  method: "table" | "config";
}
export type AliasSetInputs = AliasSetInputsChecked & SetFields;
type _InputsAreTheSchema = Assert<SameType<AliasSetInputsChecked, z.infer<typeof AliasSetInputsSchema>>>;

export interface AliasSetOutputs extends AliasSetInputs, SetState {
  readonly aliasUuid: string;
  readonly aliasType: string;
}

function connectTo(inputs: AliasSetInputs, pin: DevicePin): ResolvedConnection {
  try {
    return resolveConnection({ ...inputs.connection, url: pin.url }, inputs.credentials);
  } catch (e) {
    if (e instanceof ConnectionProblem) throw new SettingProblem(e.property, e.property ? `${e.property}: ${e.message}` : e.message);
    throw e;
  }
}

/** Recorded alias uuids found naming no alias, with the alias that has the name now (this process). */
const relocated = () => shared("opnsense.set-relocated-aliases", () => new Map<string, AliasInfo>());
const relocatedKey = (conn: ResolvedConnection, i: AliasSetInputs) => fingerprint(conn.url, i.alias, (i as Partial<AliasSetOutputs>).aliasUuid ?? "");

async function target(conn: ResolvedConnection, i: AliasSetInputs): Promise<SetTarget> {
  const client = clientFor(conn);
  const s = i as Partial<AliasSetOutputs>;
  // read/update/delete reuse what create recorded (or where it was found since); create (and check) look the alias up.
  const info: AliasInfo = s.aliasType
    ? (relocated().get(relocatedKey(conn, i)) ?? { uuid: s.aliasUuid ?? "", type: s.aliasType })
    : await cachedAlias(conn, client, i.alias, i.method);
  return { conn, client, alias: i.alias, method: i.method, info };
}

/**
 * Runs `fn` on the alias state recorded. The alias is named by the user and identified by name: when the
 * recorded uuid names no alias any more (deleted and re-created under the same name, issue 18 item 9),
 * the alias is looked up by name and `fn` runs once more on it; `outputs` then records its uuid. Only a
 * name that no alias has is OPN100.
 */
async function onAlias<T>(conn: ResolvedConnection, i: AliasSetInputs, fn: (t: SetTarget) => Promise<T>): Promise<T> {
  const t = await target(conn, i);
  try {
    return await fn(t);
  } catch (e) {
    if (!isGrantError(e) || e.code !== "OPN100" || t.info.uuid === "") throw e;
    const now = await freshAlias(conn, t.client, i.alias, i.method);
    if (now.uuid === t.info.uuid) throw e;
    relocated().set(relocatedKey(conn, i), now);
    return fn({ ...t, info: now });
  }
}

const lifecycle = setLifecycle<AliasSetInputs, ResolvedConnection>(
  {
    namespace: "opnsense",
    family: "opnsense",
    schema: AliasSetInputsSchema as unknown as z.ZodType<AliasSetInputs>,
    placeholders: { alias: "unknown_alias", method: "table", connection: {}, credentials: {} },
    identity: ["alias", "method"],
    outputOnly: ["aliasUuid", "aliasType"],
    pin: (i) => ({ url: resolveDeviceUrl("opnsense", i.connection?.url, i.connection?.allowHttp) }),
    connect: connectTo,
    hostOf: (pin) => hostOfUrl(pin.url),
    targetOf: (i) => `alias ${i.alias}`,
    keyOf: (_i, e) => e.parsed.cidr,
    // The per-entry resource's key (opnsense/resource.ts `sharedKey`): alias + CIDR on the device.
    entrySharedKey: (i, pin, cidr) => fingerprint("opnsense", pin.url, i.alias, cidr),
    async preflight(conn, i, mode, { existing }) {
      // An in-place change of hosts (or a guard, which adds nothing) needs no alias type: one request proves the
      // key and the right to write; the change's own read proves the alias (preflight.ts ALIAS_SET_CHANGE_PREFLIGHT).
      if (existing && mode === "full" && (i.guard === true || parsedAddresses(i.addresses).every((a) => a?.isHost === true)))
        return setChangePreflight(conn, clientFor(conn), i.alias, i.method);
      await preflight(conn, clientFor(conn), i.alias, i.method, undefined, mode);
      if (i.guard === true) return;
      // Every listed address must fit the alias type (a network never goes into a Host(s) alias).
      const t = await target(conn, i);
      await reconcileFitOnly(t, i);
    },
    // The alias as the state recorded it (same alias and method: another one replaces the set). Config mode: the
    // change's own get_item proves the uuid (or `onAlias` looks the alias up by name again). Table mode writes by
    // name, so one get_alias_u_u_i_d tells whether the recorded uuid still names it (a key without "Firewall:
    // Aliases" recorded none); a re-created alias is looked up again, type included.
    async forChange(conn, olds, news) {
      const s = olds as Partial<AliasSetOutputs>;
      if (!s.aliasType || s.aliasUuid === undefined) return news;
      const recorded = { ...news, aliasUuid: s.aliasUuid, aliasType: s.aliasType } as AliasSetInputs;
      if (news.method === "config" || s.aliasUuid === "") return recorded;
      const client = clientFor(conn);
      // Looked up earlier in this process (the create of this run, a preflight): that answer is as good.
      const known = await knownAlias(conn, news.alias, news.method);
      if (known) return known.uuid === s.aliasUuid ? recorded : ({ ...recorded, aliasUuid: known.uuid, aliasType: known.type } as AliasSetInputs);
      const uuid = await client.getAliasUuid(news.alias);
      if (uuid === s.aliasUuid) return recorded;
      const now = await freshAlias(conn, client, news.alias, news.method);
      relocated().set(relocatedKey(conn, recorded), now);
      return recorded;
    },
    current: (conn, i) => onAlias(conn, i, (t) => currentEntries(t, i.exclusive === true || i.guard === true)),
    reconcile: (conn, i, plan) => onAlias(conn, i, (t) => reconcileAlias(t, plan)),
    async outputs(conn, i) {
      const t = await target(conn, i);
      return { aliasUuid: t.info.uuid, aliasType: t.info.type };
    },
  },
  "OpnsenseAliasSet",
);

/** The address-fit rule of preflight, without any request beyond the cached alias lookup. */
async function reconcileFitOnly(t: SetTarget, i: AliasSetInputs): Promise<void> {
  for (const a of parsedAddresses(i.addresses)) {
    const problem = a && addressFitProblem(t.client, t.alias, t.info, a);
    if (problem) throw problem;
  }
}

/** The provider object of {@link OpnsenseAliasSet} and {@link OpnsenseAliasGuard}; tests and the benchmark drive it directly. */
export const opnsenseAliasSetProvider = loudDiff(grantProvider<AliasSetInputs, AliasSetOutputs, ResolvedConnection>(lifecycle as never), "OpnsenseAliasSet");

/** Output-only fields of the set and the guard, besides the ones every set has (set-lifecycle `SET_OUTPUT_DESCRIPTIONS`). */
const ALIAS_OUTPUTS = {
  ...SET_OUTPUT_DESCRIPTIONS,
  aliasUuid: "The alias's uuid (where it was found since, when it was re-created under the same name).",
  aliasType: "The alias's type as OPNsense reports it (Host(s), Network(s), External).",
};

/** The one declaration of `OpnsenseAliasSet`: its inputs are {@link AliasSetInputsSchema}. */
export const opnsenseAliasSetDeclaration = defineGrantResource<OpnsenseAliasSetArgs, typeof AliasSetInputsSchema.shape>({
  kind: "set",
  module: "opnsense",
  type: "AliasSet",
  providerExport: "opnsenseAliasSetProvider",
  schema: AliasSetInputsSchema,
  connection: opnsenseConnectionProps,
  identity: ["alias", "method"],
  defaults: { method: "table", exclusive: false },
  outputs: ALIAS_OUTPUTS,
});

/** The one declaration of `OpnsenseAliasGuard`: a set (same schema and provider) over the addresses its grants hold. */
export const opnsenseAliasGuardDeclaration = defineGrantResource<OpnsenseAliasGuardArgs, typeof AliasSetInputsSchema.shape>({
  kind: "guard",
  module: "opnsense",
  type: "AliasGuard",
  providerExport: "opnsenseAliasSetProvider",
  schema: AliasSetInputsSchema,
  connection: opnsenseConnectionProps,
  identity: ["alias", "method"],
  defaults: { method: "table" },
  fixed: (args) => guardInputs(pulumi.all(args.grants.map((g) => g.address))),
  outputs: ALIAS_OUTPUTS,
});

/**
 * A list of addresses in an existing OPNsense alias, as one resource. Non-exclusive, it manages exactly
 * the addresses it lists; with `exclusive: true` the alias must hold exactly them (anything else shows
 * in `unexpected` on refresh, fails `preview --refresh --expect-no-changes`, and `up` removes it).
 * Config mode applies any number of changes with one set_item and one reconfigure.
 * @example
 * new OpnsenseAliasSet("admins", { alias: "jit_admins", method: "config", exclusive: true,
 *   addresses: ["203.0.113.7", { address: "198.51.100.0/24", description: "office" }] });
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface OpnsenseAliasSet extends ResourceOutputs<AliasSetOutputs> {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class OpnsenseAliasSet extends pulumi.dynamic.Resource {
  constructor(name: string, args: OpnsenseAliasSetArgs, opts?: pulumi.CustomResourceOptions) {
    super(...opnsenseAliasSetDeclaration.register(name, args, opts));
  }
}

/**
 * Guards an alias whose addresses are granted one by one (`OpnsenseAliasEntry`): any address the
 * listed grants do not hold is drift (named in `unexpected`; `preview --refresh --expect-no-changes`
 * exits 7) and `up` removes it. It never adds anything, and deleting it removes nothing.
 * @example
 * const a = new OpnsenseAliasEntry("alice", { alias: "jit_admins", address: "203.0.113.7" });
 * new OpnsenseAliasGuard("jit-admins-guard", { alias: "jit_admins", grants: [a] });
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface OpnsenseAliasGuard extends ResourceOutputs<AliasSetOutputs> {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class OpnsenseAliasGuard extends pulumi.dynamic.Resource {
  constructor(name: string, args: OpnsenseAliasGuardArgs, opts?: pulumi.CustomResourceOptions) {
    super(...opnsenseAliasGuardDeclaration.register(name, args, opts));
  }
}

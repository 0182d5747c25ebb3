/**
 * The resources the `firewall-grants` provider plugin serves: every resource of the device registry
 * (per-entry grants, sets, guards, feeds) under the token `firewall-grants:<device>:<Type>`, mapped to
 * the provider object the TypeScript dynamic resources already use. No device logic lives here.
 */
import type { z } from "zod";
import { deviceSettingsList, type ResourceNames } from "../device-settings";
import * as lib from "../index";
import { IMPORT_IDS, type ImportId } from "./import-ids";
import { AliasEntryInputsSchema } from "../devices/opnsense/resource";
import { AliasSetInputsSchema } from "../devices/opnsense/set-resource";
import { FortigateAddressInputsSchema } from "../devices/fortigate/resource";
import { FortigateFeedEntryInputsSchema } from "../devices/fortigate/feed-resource";
import { AddressSetInputsSchema } from "../devices/fortigate/set-resource";
import { FortigateFeedSetInputsSchema } from "../devices/fortigate/feed-set";
import { TrustedHostInputsSchema } from "../devices/fortimanager/resource";
import { FortimanagerFeedEntryInputsSchema } from "../devices/fortimanager/feed-resource";
import { TrustedHostSetInputsSchema } from "../devices/fortimanager/set-resource";
import { FortimanagerFeedSetInputsSchema } from "../devices/fortimanager/feed-set";

export const PACKAGE = "firewall-grants";

/** The dynamic-provider shape every registered provider object has (grant-lifecycle.ts `GrantProvider`). */
export interface WrappedProvider {
  configure?(req: { config: { get(key: string): string | undefined } }): Promise<void>;
  check(olds: unknown, news: unknown): Promise<{ inputs?: Record<string, unknown>; failures?: { property: string; reason: string }[] }>;
  diff(id: string, olds: unknown, news: unknown): Promise<{ changes?: boolean; replaces?: string[]; deleteBeforeReplace?: boolean }>;
  create(inputs: unknown): Promise<{ id: string; outs?: Record<string, unknown> }>;
  read(id: string, props?: unknown): Promise<{ id?: string; props?: Record<string, unknown> }>;
  update(id: string, olds: unknown, news: unknown): Promise<{ outs?: Record<string, unknown> }>;
  delete(id: string, props: unknown): Promise<void>;
}

/**
 * The input schema of a resource, by class name. The one place the plugin learns a resource's inputs:
 * when each resource has one declaration (issue 17), this returns the declaration's schema instead.
 */
export function inputSchemaOf(className: string): z.ZodType | undefined {
  return INPUT_SCHEMAS[className];
}

const INPUT_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  OpnsenseAliasEntry: AliasEntryInputsSchema,
  OpnsenseAliasSet: AliasSetInputsSchema,
  OpnsenseAliasGuard: AliasSetInputsSchema,
  FortigateAddress: FortigateAddressInputsSchema,
  FortigateFeedEntry: FortigateFeedEntryInputsSchema,
  FortigateAddressSet: AddressSetInputsSchema,
  FortigateGroupGuard: AddressSetInputsSchema,
  FortigateFeedSet: FortigateFeedSetInputsSchema,
  FortimanagerTrustedHost: TrustedHostInputsSchema,
  FortimanagerFeedEntry: FortimanagerFeedEntryInputsSchema,
  FortimanagerTrustedHostSet: TrustedHostSetInputsSchema,
  FortimanagerTrustedHostGuard: TrustedHostSetInputsSchema,
  FortimanagerFeedSet: FortimanagerFeedSetInputsSchema,
};

/** Inputs the TypeScript guard classes set themselves (set-lifecycle.ts `guardProps`); a plugin user cannot change them. */
const GUARD_INPUTS = { exclusive: true, guard: true, allowBroad: true } as const;
const isGuard = (n: ResourceNames) => /Guard$/.test(n.className);

export interface PluginResource {
  readonly device: string;
  readonly names: ResourceNames;
  readonly token: string;
  readonly provider: WrappedProvider;
  readonly inputSchema: z.ZodType;
  /** Inputs the plugin adds (guards), over what the program gives. */
  readonly fixedInputs: Readonly<Record<string, unknown>>;
  readonly importId?: ImportId;
}

export const tokenOf = (device: string, n: Pick<ResourceNames, "type">): string => `${PACKAGE}:${device}:${n.type}`;

/** Every registered resource (grants first, then sets and guards, in registration order). */
export function pluginResources(): PluginResource[] {
  return deviceSettingsList().flatMap((d) =>
    [...d.resources, ...(d.sets ?? [])].map((names) => {
      const provider = (lib as unknown as Record<string, WrappedProvider | undefined>)[names.providerExport];
      const inputSchema = inputSchemaOf(names.className);
      if (!provider || !inputSchema) throw new Error(`${names.className}: no provider object or input schema for the plugin (provider/plugin/resources.ts)`);
      const importId = IMPORT_IDS[names.className];
      return {
        device: d.name,
        names,
        token: tokenOf(d.name, names),
        provider,
        inputSchema,
        fixedInputs: isGuard(names) ? GUARD_INPUTS : {},
        ...(importId && { importId }),
      };
    }),
  );
}

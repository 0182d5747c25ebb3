/**
 * The resources the `firewall-grants` provider plugin serves: every resource of the device registry
 * (per-entry grants, sets, guards, feeds) under the token `firewall-grants:<device>:<Type>`, mapped to
 * the provider object the TypeScript dynamic resources already use. No device logic lives here.
 */
import { resourceDeclarations, type ResourceDeclaration } from "../core/define-resource";
import { deviceSettingsList, type ResourceNames } from "../device-settings";
import * as lib from "../index";
import { IMPORT_IDS, type ImportId } from "./import-ids";

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
 * The declaration of a registered resource (provider/core/define-resource.ts): its inputs' JSON Schema,
 * secret inputs and output-only fields, from the same zod schema `check` parses with. A device module
 * registers its declarations when it loads, and the package root (`lib`) loads it on the first read of one
 * of its exports: read the provider object first (pluginResources does).
 */
export function declarationOf(device: string, n: Pick<ResourceNames, "type">): ResourceDeclaration | undefined {
  return resourceDeclarations().find((d) => d.module === device && d.type === n.type);
}

/** Inputs the TypeScript guard classes set themselves (set-lifecycle.ts `guardProps`); a plugin user cannot change them. */
const GUARD_INPUTS = { exclusive: true, guard: true, allowBroad: true } as const;
const isGuard = (n: ResourceNames) => /Guard$/.test(n.className);

export interface PluginResource {
  readonly device: string;
  readonly names: ResourceNames;
  readonly token: string;
  readonly provider: WrappedProvider;
  readonly declaration: ResourceDeclaration;
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
      const declaration = declarationOf(d.name, names);
      if (!provider || !declaration)
        throw new Error(`${names.className}: no provider object or resource declaration for the plugin (provider/plugin/resources.ts)`);
      const importId = IMPORT_IDS[names.className];
      return {
        device: d.name,
        names,
        token: tokenOf(d.name, names),
        provider,
        declaration,
        fixedInputs: isGuard(names) ? GUARD_INPUTS : {},
        ...(importId && { importId }),
      };
    }),
  );
}

/**
 * `firewall-grants:index:Grant` as a multi-language component: the plugin's `construct` runs the same
 * `Grant` (provider/grant-component.ts) — address parsing, child naming, shared objects — with children
 * that are the plugin's own resources (`firewall-grants:<device>:<Type>`) instead of dynamic ones, which
 * cannot load inside a component built by a provider (pulumi/pulumi#5455).
 */
import * as pulumi from "@pulumi/pulumi";
import type * as provider from "@pulumi/pulumi/provider";
import { z } from "zod";
import { Grant, type GrantArgs, type GrantChildArgs, type GrantChildClass } from "../grant-component";
import { PACKAGE, pluginResources } from "./resources";

export const GRANT_TOKEN = `${PACKAGE}:index:Grant`;

const name = z.string().min(1);
/** The component's inputs: `GrantArgs` without the targets' inline connections (the schema is generated from this). */
export const GrantInputsSchema = z
  .object({
    who: name.describe("Who the access is for (a person, a team); part of every child's description."),
    addresses: z.array(z.string()).describe("IPv4/IPv6 hosts or CIDRs (plain strings: they decide the children). Duplicates are one."),
    description: z.string().optional(),
    ticket: z.string().optional().describe("A ticket or change reference, appended to the description."),
    expiresAt: z.string().optional().describe("When every child grant ends (ISO 8601 with a zone)."),
    allowBroad: z.boolean().optional().describe("Allow prefixes broader than /8 (IPv4) or /32 (IPv6)."),
    opnsense: z
      .array(z.object({ alias: name.optional(), alias4: name.optional(), alias6: name.optional(), method: z.enum(["table", "config"]).optional() }).strict())
      .optional()
      .describe("OPNsense aliases (`alias`, or `alias4`/`alias6` per family)."),
    fortigate: z
      .array(z.object({ group: name, group6: name.optional(), namePrefix: z.string().optional() }).strict())
      .optional()
      .describe("FortiGate address groups (`group`, and `group6` for IPv6)."),
    fortimanager: z
      .array(z.object({ adminUser: name }).strict())
      .optional()
      .describe("FortiManager administrators whose trusted hosts get the addresses."),
    fortigateFeeds: z
      .array(z.object({ feed: name }).strict())
      .optional()
      .describe("FortiGate push threat feeds."),
    fortimanagerFeeds: z
      .array(z.object({ devices: z.array(name), feed: name, vdom: name.optional() }).strict())
      .optional()
      .describe("Push threat feeds on managed FortiGates through FortiManager."),
  })
  .strict()
  .describe("One person's access on many devices, as per-entry child grants (the TypeScript `Grant`).");

/** The component's outputs. */
export const GrantOutputsSchema = z.object({
  granted: z.array(z.object({ kind: z.string(), target: z.string(), address: z.string() })).describe("`{kind, target, address}` per child grant."),
});

/** A plugin resource by token (CustomResource itself is abstract). */
class PluginChild extends pulumi.CustomResource {}

/** `Grant` whose children are plugin resources; their settings come from the provider config or an explicit provider. */
class PluginGrant extends Grant {
  protected override child<K extends GrantChildClass>(
    cls: K,
    name: string,
    args: GrantChildArgs<K>,
    opts: pulumi.CustomResourceOptions,
  ): pulumi.CustomResource {
    const r = pluginResources().find((x) => x.names.className === cls);
    if (!r) throw new Error(`${GRANT_TOKEN}: no plugin resource for ${cls}`);
    // A target's inline connection is not offered by the component's schema: a plugin resource takes its
    // credentials as their own secret input, which the TypeScript classes split off themselves.
    const { connection, ...props } = args as unknown as { connection?: unknown } & Record<string, unknown>;
    if (connection !== undefined)
      throw new Error(`${GRANT_TOKEN} ${name}: a target's connection is not supported here; use the provider config or an explicit provider`);
    return new PluginChild(r.token, name, props, opts);
  }
}

export async function constructGrant(name: string, inputs: pulumi.Inputs, options: pulumi.ComponentResourceOptions): Promise<provider.ConstructResult> {
  const grant = new PluginGrant(name, inputs as unknown as GrantArgs, options);
  return { urn: grant.urn, state: { granted: grant.granted } };
}

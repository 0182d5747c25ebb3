/**
 * The Pulumi package schema of the `firewall-grants` plugin, generated from the resources' zod input
 * schemas (zod 4 `z.toJSONSchema`) and the device registry: resource tokens, input and output
 * properties, required inputs, secrets, defaults, enums, descriptions, and the provider config
 * (`firewall-grants:<device><Key>`, one per device setting). `scripts/gen-schema.ts` writes it to
 * provider/plugin/schema.json; a test keeps the two equal.
 */
import { z } from "zod";
import { BASE_SETTINGS, deviceSettingsList } from "../device-settings";
import { GRANT_TOKEN, GrantInputsSchema, GrantOutputsSchema } from "./grant";
import { PACKAGE, pluginResources, type PluginResource } from "./resources";

/** A property or type of the Pulumi package schema (pulumi.com/docs/iac/extending-pulumi/schema). */
export interface TypeSpec {
  type?: string;
  $ref?: string;
  items?: TypeSpec;
  oneOf?: TypeSpec[];
  additionalProperties?: TypeSpec;
}
export interface PropertySpec extends TypeSpec {
  description?: string;
  secret?: boolean;
  default?: unknown;
}
interface ObjectTypeSpec {
  type: "object";
  description?: string;
  properties: Record<string, PropertySpec>;
  required?: string[];
}
interface EnumTypeSpec {
  type: "string";
  description?: string;
  enum: { value: string }[];
}

/** Inputs held as secrets in state and over the wire (the dynamic resources' `additionalSecretOutputs`). */
export const SECRET_INPUTS = ["credentials"] as const;

/** Outputs every grant, set and guard adds to its inputs (grant-lifecycle.ts `PinnedState`). */
const LIFECYCLE_OUTPUTS: Record<string, PropertySpec> = {
  device: { $ref: `#/types/${PACKAGE}:index:DevicePin`, description: "The device the grant is on, recorded at create: a change of URL replaces the grant." },
  expired: { type: "boolean", description: "True once `expiresAt` passed and `up` revoked the grant." },
  grantName: { type: "string", description: "The resource's logical name: it tells two grants of one address apart." },
};

type Json = Record<string, unknown>;
const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** A provider config variable name: `opnsense` + `apiKey` → `opnsenseApiKey` (`firewall-grants:opnsenseApiKey`). */
export const configVariable = (device: string, key: string): string => `${device}${pascal(key)}`;

class Builder {
  readonly types: Record<string, ObjectTypeSpec | EnumTypeSpec> = {
    [`${PACKAGE}:index:DevicePin`]: {
      type: "object",
      description: "A device a grant is pinned to.",
      properties: { url: { type: "string", description: "Origin of the device URL, `https://host[:port]`." }, scope: { type: "string" } },
      required: ["url"],
    },
  };

  /** A JSON-schema node as a Pulumi property; nested objects and enums become named types under `name`. */
  property(node: Json, name: string): PropertySpec {
    const spec = this.type(node, name) as PropertySpec;
    if (typeof node.description === "string") spec.description = node.description;
    if (node.default !== undefined && ["string", "number", "boolean"].includes(typeof node.default)) spec.default = node.default;
    return spec;
  }

  type(node: Json, name: string): TypeSpec {
    if (Array.isArray(node.anyOf) || Array.isArray(node.oneOf)) {
      const alts = (node.anyOf ?? node.oneOf) as Json[];
      return { oneOf: alts.map((a, i) => this.type(a, alts.length > 1 && a.type === "object" ? `${name}Entry` : `${name}${i}`)) };
    }
    if (Array.isArray(node.enum) && node.enum.every((v) => typeof v === "string")) {
      const token = `${name}`;
      this.types[token] = { type: "string", enum: (node.enum as string[]).map((value) => ({ value })) };
      return { $ref: `#/types/${token}` };
    }
    switch (node.type) {
      case "string":
      case "boolean":
      case "integer":
      case "number":
        return { type: node.type };
      case "array":
        return { type: "array", items: node.items ? this.type(node.items as Json, `${name}Item`) : { $ref: "pulumi.json#/Any" } };
      case "object": {
        const props = (node.properties ?? {}) as Record<string, Json>;
        if (Object.keys(props).length === 0) return { type: "object", additionalProperties: { $ref: "pulumi.json#/Any" } };
        this.types[name] = {
          type: "object",
          properties: Object.fromEntries(Object.entries(props).map(([k, v]) => [k, this.property(v, `${name}${pascal(k)}`)])),
          ...(Array.isArray(node.required) && node.required.length > 0 && { required: node.required as string[] }),
        };
        return { $ref: `#/types/${name}` };
      }
      default:
        return { $ref: "pulumi.json#/Any" };
    }
  }

  /** A multi-language component (`construct`): inputs and outputs from its zod schemas. */
  component(token: string, inputs: z.ZodType, outputs: z.ZodType) {
    const props = (schema: z.ZodType, prefix: string) => {
      const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json;
      const properties = Object.fromEntries(
        Object.entries((json.properties ?? {}) as Record<string, Json>).map(([k, v]) => [k, this.property(v, `${prefix}${pascal(k)}`)]),
      );
      return { json, properties, required: (json.required ?? []) as string[] };
    };
    const i = props(inputs, token);
    const o = props(outputs, token);
    return {
      isComponent: true,
      description: typeof i.json.description === "string" ? i.json.description : token,
      inputProperties: i.properties,
      requiredInputs: i.required,
      properties: o.properties,
      required: o.required,
    };
  }

  /** The declaration's output-only fields; their shapes differ per device, so the schema types them as Any with what they hold. */
  outputs(r: PluginResource): Record<string, PropertySpec> {
    return Object.fromEntries(
      Object.entries(r.declaration.outputs)
        .filter(([k]) => !(k in LIFECYCLE_OUTPUTS))
        .map(([k, description]) => [k, { $ref: "pulumi.json#/Any", description }]),
    );
  }

  resource(r: PluginResource) {
    const json = r.declaration.inputJsonSchema() as Json;
    const props = (json.properties ?? {}) as Record<string, Json>;
    const inputProperties: Record<string, PropertySpec> = {};
    for (const [k, v] of Object.entries(props)) {
      if (k in r.fixedInputs) continue;
      const spec = this.property(v, `${PACKAGE}:${r.device}:${r.names.type}${pascal(k)}`);
      if (r.declaration.secretInputs.includes(k)) spec.secret = true;
      inputProperties[k] = spec;
    }
    const requiredInputs = ((json.required ?? []) as string[]).filter((k) => !(k in r.fixedInputs));
    return {
      description:
        typeof json.description === "string" ? json.description : `${r.names.className} (the TypeScript class of the same name, served by the plugin).`,
      inputProperties,
      requiredInputs,
      properties: { ...inputProperties, ...this.outputs(r), ...LIFECYCLE_OUTPUTS },
      required: requiredInputs,
    };
  }
}

/** Provider config: every device setting, as `firewall-grants:<device><Key>` (secret where the registry says so). */
function configVariables(): Record<string, PropertySpec> {
  return Object.fromEntries(
    deviceSettingsList().flatMap((d) => [
      ...BASE_SETTINGS.map((key) => [
        configVariable(d.name, key),
        { type: "string", description: `${d.displayName} \`${key}\` (like stack config \`${d.name}:${key}\`).` },
      ]),
      ...d.settings.map((s) => [
        configVariable(d.name, s.key),
        { type: "string", description: `${d.displayName} \`${s.key}\` (like stack config \`${d.name}:${s.key}\`).`, ...(s.secret && { secret: true }) },
      ]),
    ]),
  );
}

/** The package schema, as the plugin's GetSchema returns it. */
export function buildSchema(version: string) {
  const b = new Builder();
  const resources: Record<string, ReturnType<Builder["resource"]> & { isComponent?: boolean }> = {
    ...Object.fromEntries(pluginResources().map((r) => [r.token, b.resource(r)])),
    [GRANT_TOKEN]: b.component(GRANT_TOKEN, GrantInputsSchema, GrantOutputsSchema),
  };
  const variables = configVariables();
  return {
    name: PACKAGE,
    displayName: "Firewall Grants",
    version,
    description: "Network-access grants on OPNsense, FortiGate and FortiManager: what the program declares is exactly what the firewall allows.",
    keywords: ["pulumi", "firewall", "opnsense", "fortigate", "fortimanager", "category/network"],
    license: "Apache-2.0",
    config: { variables },
    provider: { description: "The firewall-grants provider: per device, the settings of `<device>:<key>` stack config.", inputProperties: variables },
    types: b.types,
    resources,
    language: {
      python: { packageName: "pulumi_firewall_grants" },
      // A module path of the SDK user's choosing; scripts/gen-sdk.sh compiles it as module `firewall-grants/sdk/go`.
      go: { importBasePath: "firewall-grants/sdk/go/firewallgrants" },
    },
  };
}

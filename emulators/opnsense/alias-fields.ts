/**
 * The alias fields beside name/type/content/description/enabled that OPNsense stores, as the emulator stores,
 * validates and shows them — written from opnsense/core `models/OPNsense/Firewall/Alias.xml` (read per tag with
 * `git show <tag>:…`), Base/FieldTypes (BaseListField, BooleanField, NumericField, IntegerField, TextField,
 * ModelRelationField, BaseField `getValidationMessage`) and Firewall/Alias.php `performValidation`. A device
 * keeps what it answered "saved" to; a peer that reads a field back (browningluke/terraform-provider-opnsense)
 * would see a change after every clean apply if the emulator dropped it (issue 19).
 *
 * Values are kept as config.xml holds them: one string per field, lists comma-joined.
 */
import type { OpnsenseVersionTraits } from "./version";

export type StoredFields = Readonly<Record<string, string>>;

/** The emulator's interfaces (InterfaceField options: interface key → description). */
export const INTERFACES: Readonly<Record<string, string>> = { lan: "LAN", wan: "WAN" };

type Kind = "option" | "multi" | "interface" | "bool" | "numeric" | "integer" | "text" | "relation";
interface FieldSpec {
  readonly name: string;
  readonly kind: Kind;
  /** Alias.xml `Default` (BooleanField: "0" when none). */
  readonly fallback: string;
  readonly options?: Readonly<Record<string, string>>;
  /** The field's `ValidationMessage` when Alias.xml sets one. */
  readonly message?: string;
  readonly min?: number;
  readonly max?: number;
}

/** Alias.xml's stored fields in model order for the release played (volatile statistics are not stored). */
export function aliasFieldSpecs(t: OpnsenseVersionTraits): FieldSpec[] {
  const auth: Record<string, string> = { Basic: "Basic", Bearer: "Bearer", ...(t.aliasHeaderAuth ? { Header: "Header" } : {}) };
  return [
    ...(t.aliasUrlAuthFields ? [{ name: "path_expression", kind: "text", fallback: "" } as const] : []),
    { name: "proto", kind: "multi", fallback: "", options: { IPv4: "IPv4", IPv6: "IPv6" } },
    { name: "interface", kind: "interface", fallback: "", options: INTERFACES },
    { name: "counters", kind: "bool", fallback: "0" },
    { name: "updatefreq", kind: "numeric", fallback: "", message: "Days and hours should be numeric values or left empty." },
    ...(t.aliasUrlAuthFields
      ? ([
          { name: "password", kind: "text", fallback: "" },
          { name: "username", kind: "text", fallback: "" },
          { name: "authtype", kind: "option", fallback: "", options: auth },
        ] as const)
      : []),
    ...(t.aliasExpire ? [{ name: "expire", kind: "integer", fallback: "", min: 60, max: 999_999_999 } as const] : []),
    // No categories exist on the emulator (list_categories answers none), so any uuid is refused as the device does.
    { name: "categories", kind: "relation", fallback: "", options: {}, message: "Related category not found." },
  ];
}

/** A new alias's values: each field's model default. */
export function defaultFields(t: OpnsenseVersionTraits): Record<string, string> {
  return Object.fromEntries(aliasFieldSpecs(t).map((f) => [f.name, f.fallback]));
}

/**
 * BaseListField's message for a value not in the list. Before 26.1 it was "Option not in list."; from 26.1
 * (47bc962ade) "Option [%s] not in list.", filled by BaseField `getValidationMessage` with the failing item
 * for multi-selects and with nothing (PHP `sprintf` of null) for single selects.
 */
export function optionMessage(t: OpnsenseVersionTraits, item?: string, custom?: string): string {
  const msg = custom ?? (t.optionMessageNamesValue ? "Option [%s] not in list." : "Option not in list.");
  return msg.split("%s").length === 2 ? msg.replace("%s", item ?? "") : msg;
}

/** PHP `is_numeric` (MinMaxValidator, Numericality): decimal or exponent notation, leading whitespace allowed. */
const isNumeric = (s: string) => /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(s);

function fieldProblems(t: OpnsenseVersionTraits, f: FieldSpec, value: string): string[] {
  // Every field type validates only a non-empty value (`if ($this->internalValue != null)`).
  if (value === "") return [];
  switch (f.kind) {
    case "bool":
      return /^[01]$/.test(value) ? [] : [f.message ?? "Value should be a boolean (0,1)."];
    case "numeric":
    case "integer": {
      const msg = f.message ?? (f.kind === "numeric" ? "Invalid numeric value." : "Invalid integer value.");
      const [min, max] = f.kind === "numeric" ? [-99_999_999_999_999, 99_999_999_999_999] : [f.min ?? -Infinity, f.max ?? Infinity];
      // MinMaxValidator, then Numericality (NumericField) or IntegerValidator (IntegerField, FILTER_VALIDATE_INT).
      const inRange = isNumeric(value) && Number(value) >= min && Number(value) <= max;
      const form = f.kind === "numeric" ? /^(-?[0-9,]+(\.[0-9]+)?|-?[0-9.]+(,[0-9]+)?)$/ : /^\s*[+-]?(0|[1-9]\d*)\s*$/;
      return inRange && form.test(value) ? [] : [msg];
    }
    case "option":
    case "interface":
      return value in f.options! ? [] : [optionMessage(t, undefined, f.message)];
    case "multi":
    case "relation":
      return value
        .split(",")
        .filter((item) => !(item in f.options!))
        .map((item) => optionMessage(t, item, f.message));
    case "text":
      return [];
  }
}

/**
 * Writes `input`'s known fields over `stored` (fields not sent are kept, BaseField `setNodes`) and returns the
 * messages keyed by field name: the field types' own, the dynipv6host interface constraint, and Alias.php
 * `performValidation`'s URL-auth checks.
 */
export function applyStoredFields(
  t: OpnsenseVersionTraits,
  type: string,
  stored: StoredFields,
  input: Readonly<Record<string, unknown>>,
): { fields: Record<string, string>; problems: Record<string, string[]> } {
  const fields: Record<string, string> = { ...defaultFields(t), ...stored };
  const problems: Record<string, string[]> = {};
  const add = (k: string, msgs: string[]) => msgs.length > 0 && (problems[k] = [...(problems[k] ?? []), ...msgs]);
  // BaseModel `performValidation` checks the fields that changed; AMM `validate` drops repeated messages.
  for (const f of aliasFieldSpecs(t)) {
    if (input[f.name] === undefined) continue;
    fields[f.name] = String(input[f.name]);
    add(f.name, [...new Set(fieldProblems(t, f, fields[f.name]!))]);
  }
  // Alias.xml interface check001 (SetIfConstraint on type).
  if (type === "dynipv6host" && fields.interface === "") add("interface", ["IPv6 Dynamic Host require an interface to track."]);
  if (t.aliasUrlAuthFields) add("authtype", authProblems(fields.authtype ?? "", fields.username ?? "", fields.password ?? ""));
  return { fields, problems };
}

/** Alias.php `performValidation` (25.1+; `Header` from 26.1): the first failing check of the chosen auth type. */
function authProblems(authtype: string, username: string, password: string): string[] {
  const token = /^[A-Za-z0-9-_.]+$/;
  switch (authtype) {
    case "Basic":
      return username === "" || password === "" ? ["Please provide a username and password when Basic auth is selected"] : [];
    case "Bearer":
      if (password === "") return ["Please provide an API token when Bearer auth is selected"];
      if (password.length > 512) return ["Invalid token length"];
      return token.test(password) ? [] : ["Illegal characters in token"];
    case "Header":
      if (username === "" || password === "") return ["Please provide a header key and value when Header auth is selected"];
      if (username.length > 255) return ["Invalid key length"];
      if (password.length > 512) return ["Invalid value length"];
      if (!token.test(username)) return ["Illegal characters in key"];
      return token.test(password) ? [] : ["Illegal characters in value"];
    default:
      return [];
  }
}

/** BaseListField `getNodeOptions`: an optional single select gets a `""` "None" entry; a multi-select none. */
function listNode(f: FieldSpec, value: string) {
  const selected = value.split(",");
  const out: Record<string, { value: string; selected: number }> = {};
  if (f.kind !== "multi" && f.kind !== "relation") out[""] = { value: "None", selected: value === "" ? 1 : 0 };
  for (const [k, label] of Object.entries(f.options!)) out[k] = { value: label, selected: selected.includes(k) ? 1 : 0 };
  return out;
}

/** get_item / get (BaseField `getNodes`): scalars as strings, list fields as option maps. */
export function fieldNodes(t: OpnsenseVersionTraits, stored: StoredFields): Record<string, unknown> {
  const fields = { ...defaultFields(t), ...stored };
  return Object.fromEntries(aliasFieldSpecs(t).map((f) => [f.name, f.options ? listNode(f, fields[f.name]!) : fields[f.name]]));
}

/** export (`getRawNodes`) and search rows: every field as its stored string. */
export function fieldRaw(t: OpnsenseVersionTraits, stored: StoredFields): Record<string, string> {
  const fields = { ...defaultFields(t), ...stored };
  return Object.fromEntries(aliasFieldSpecs(t).map((f) => [f.name, fields[f.name]!]));
}

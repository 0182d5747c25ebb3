/**
 * The device registry, data half: per device, the settings the provider reads (stack config
 * `<device>:<key>`, environment `<DEVICE>_<KEY>`, which of them are secret), the resources it publishes
 * (class, provider export, type token) and the `doctor` options. No code and no resource or emulator
 * import, so that dynamic-kit.ts (which every resource imports) and the CLI's flag parser can read it
 * without a cycle or loading `@pulumi/pulumi`. The code half (resource objects, emulators) is registry.ts,
 * keyed by the same names; the compiler refuses a device registered in one and not the other.
 * docs/adding-a-device.md says what to fill in.
 */
import { envName, type SettingsNamespace } from "./core/settings";

/** A setting every device reads (connection-kit.ts `BaseConnection`, the URL, and grant-lifecycle.ts `preflight`). */
export const BASE_SETTINGS = ["url", "caCert", "insecure", "timeoutMs", "allowHttp", "preflight"] as const;

/** One setting of a device beyond {@link BASE_SETTINGS}. */
export interface SettingKey {
  readonly key: string;
  /** Credentials: never taken from a `doctor` flag or config file, stored by Pulumi as secrets. */
  readonly secret?: boolean;
}

/** A resource's published names; the type token is `pulumi-nodejs:dynamic/<module>:<type>`, fixed forever (see {@link typeToken}). */
export interface ResourceNames {
  readonly className: string;
  /** The package-root export the serialised provider shim loads (dynamic-kit.ts `providerShim`). */
  readonly providerExport: string;
  readonly module: string;
  readonly type: string;
  /**
   * Sets and guards: the per-entry resource whose checks `doctor --stack` runs for this set's target
   * (same target fields, one check per address family the set lists).
   */
  readonly checkedAs?: string;
}

/**
 * A `doctor` option of a device: flag `--<device>-<flag>`, key `<field>` in the `--config` file, and
 * where the value goes in the `check` inputs. Kinds: `string` as given; `path` a file path (relative
 * to the config file); `secretFile` a file whose first line is a secret (a secret never comes from a flag);
 * `list` a comma-separated list (an array in the config file).
 */
export interface DoctorOption {
  readonly flag: string;
  readonly field: string;
  readonly kind: "string" | "path" | "secretFile" | "list";
  /** Where the value goes: `connection.<input>`, `credentials.<input>` or the top-level input `<input>`. */
  readonly into: "connection" | "credentials" | "input";
  /** Input name. @default field */
  readonly input?: string;
  readonly arg: string;
  readonly help: string;
  readonly choices?: readonly string[];
  readonly default?: string;
  /** When set, the option is required and this names it in the message ("alias", "administrator"). */
  readonly required?: string;
  /**
   * The resources (class names) an `input` option belongs to. `doctor` checks a device's first
   * resource always, and another one when one of its own options is given. @default the first resource
   */
  readonly resources?: readonly string[];
}

export interface DeviceSettings {
  /** Product name as written (`OPNsense`). */
  readonly displayName: string;
  /** Settings beyond {@link BASE_SETTINGS}. */
  readonly settings: readonly SettingKey[];
  readonly resources: readonly ResourceNames[];
  /**
   * The device's set and guard resources (issue 13): published names and type tokens like `resources`,
   * but kept apart from them, because what iterates `resources` (registry.ts entries, `doctor` and
   * `doctor --stack`, the hostile-input and secrets tables) assumes one `address` input per grant,
   * while a set takes `addresses`. A set and its guard share one provider export. @default none
   */
  readonly sets?: readonly ResourceNames[];
  readonly doctor: {
    readonly options: readonly DoctorOption[];
    /** Top-level `check` inputs `doctor` always sends to the device's first resource (e.g. a placeholder object name). */
    readonly fixed?: Readonly<Record<string, string>>;
  };
}

/** Every device, by settings namespace (`opnsense:url`, `OPNSENSE_URL`). Registration step 1 of docs/adding-a-device.md. */
export const DEVICE_SETTINGS = {
  opnsense: {
    displayName: "OPNsense",
    settings: [{ key: "apiKey", secret: true }, { key: "apiSecret", secret: true }, { key: "apiKeyFile" }],
    resources: [{ className: "OpnsenseAliasEntry", providerExport: "opnsenseAliasEntryProvider", module: "opnsense", type: "AliasEntry" }],
    sets: [
      { className: "OpnsenseAliasSet", providerExport: "opnsenseAliasSetProvider", module: "opnsense", type: "AliasSet", checkedAs: "OpnsenseAliasEntry" },
      { className: "OpnsenseAliasGuard", providerExport: "opnsenseAliasSetProvider", module: "opnsense", type: "AliasGuard", checkedAs: "OpnsenseAliasEntry" },
    ],
    doctor: {
      options: [
        {
          flag: "key-file",
          field: "apiKeyFile",
          kind: "path",
          into: "connection",
          arg: "<file>",
          help: "the API key file OPNsense downloads (key=..., secret=...)",
        },
        { flag: "alias", field: "alias", kind: "string", into: "input", arg: "<name>", help: "alias to grant into (required for OPNsense)", required: "alias" },
        {
          flag: "method",
          field: "method",
          kind: "string",
          into: "input",
          arg: "<table|config>",
          help: "privilege checked: table (default) or config",
          choices: ["table", "config"],
          default: "table",
        },
      ],
    },
  },
  fortigate: {
    displayName: "FortiGate",
    settings: [{ key: "token", secret: true }, { key: "vdom" }],
    resources: [
      { className: "FortigateAddress", providerExport: "fortigateAddressProvider", module: "fortigate", type: "Address" },
      { className: "FortigateFeedEntry", providerExport: "fortigateFeedEntryProvider", module: "fortigate", type: "FeedEntry" },
    ],
    sets: [
      {
        className: "FortigateAddressSet",
        providerExport: "fortigateAddressSetProvider",
        module: "fortigate",
        type: "AddressSet",
        checkedAs: "FortigateAddress",
      },
      {
        className: "FortigateGroupGuard",
        providerExport: "fortigateAddressSetProvider",
        module: "fortigate",
        type: "GroupGuard",
        checkedAs: "FortigateAddress",
      },
      { className: "FortigateFeedSet", providerExport: "fortigateFeedSetProvider", module: "fortigate", type: "FeedSet", checkedAs: "FortigateFeedEntry" },
    ],
    doctor: {
      options: [
        {
          flag: "token-file",
          field: "tokenFile",
          kind: "secretFile",
          into: "credentials",
          input: "token",
          arg: "<file>",
          help: "file whose first line is the REST API token",
        },
        { flag: "vdom", field: "vdom", kind: "string", into: "connection", arg: "<name>", help: "default root" },
        { flag: "group", field: "group", kind: "string", into: "input", arg: "<name>", help: "address group the grants join (checks it exists)" },
        {
          flag: "feed",
          field: "feed",
          kind: "string",
          into: "input",
          arg: "<name>",
          help: "push threat feed of FortigateFeedEntry grants (checks it)",
          required: "feed",
          resources: ["FortigateFeedEntry"],
        },
      ],
      fixed: { name: "grants-doctor" },
    },
  },
  fortimanager: {
    displayName: "FortiManager",
    settings: [{ key: "token", secret: true }, { key: "username" }, { key: "password", secret: true }, { key: "adom" }],
    resources: [
      { className: "FortimanagerTrustedHost", providerExport: "fortimanagerTrustedHostProvider", module: "fortimanager", type: "TrustedHost" },
      { className: "FortimanagerFeedEntry", providerExport: "fortimanagerFeedEntryProvider", module: "fortimanager", type: "FeedEntry" },
    ],
    sets: [
      {
        className: "FortimanagerTrustedHostSet",
        providerExport: "fortimanagerTrustedHostSetProvider",
        module: "fortimanager",
        type: "TrustedHostSet",
        checkedAs: "FortimanagerTrustedHost",
      },
      {
        className: "FortimanagerTrustedHostGuard",
        providerExport: "fortimanagerTrustedHostSetProvider",
        module: "fortimanager",
        type: "TrustedHostGuard",
        checkedAs: "FortimanagerTrustedHost",
      },
      {
        className: "FortimanagerFeedSet",
        providerExport: "fortimanagerFeedSetProvider",
        module: "fortimanager",
        type: "FeedSet",
        checkedAs: "FortimanagerFeedEntry",
      },
    ],
    doctor: {
      options: [
        {
          flag: "admin",
          field: "adminUser",
          kind: "string",
          into: "input",
          arg: "<userid>",
          help: "administrator whose trusted hosts change (required)",
          required: "administrator",
        },
        {
          flag: "username",
          field: "username",
          kind: "string",
          into: "connection",
          arg: "<id>",
          help: "login user, or the API administrator's id with a token",
        },
        {
          flag: "token-file",
          field: "tokenFile",
          kind: "secretFile",
          into: "credentials",
          input: "token",
          arg: "<file>",
          help: "file whose first line is the API key",
        },
        {
          flag: "password-file",
          field: "passwordFile",
          kind: "secretFile",
          into: "credentials",
          input: "password",
          arg: "<file>",
          help: "file whose first line is the login password",
        },
        { flag: "adom", field: "adom", kind: "string", into: "connection", arg: "<name>", help: "ADOM named in diagnoses" },
        {
          flag: "feed",
          field: "feed",
          kind: "string",
          into: "input",
          arg: "<name>",
          help: "push threat feed of FortimanagerFeedEntry grants (with --fortimanager-devices)",
          required: "feed",
          resources: ["FortimanagerFeedEntry"],
        },
        {
          flag: "devices",
          field: "devices",
          kind: "list",
          into: "input",
          arg: "<a,b>",
          help: "managed FortiGates that hold the feed",
          required: "device list",
          resources: ["FortimanagerFeedEntry"],
        },
      ],
    },
  },
  // new-device: settings above this line (scripts/new-device.ts)
} as const satisfies Record<string, DeviceSettings>;

export type DeviceName = keyof typeof DEVICE_SETTINGS;

/** A device's settings with its name: what the derived surfaces iterate (tests pass extra ones). */
export interface NamedDeviceSettings extends DeviceSettings {
  readonly name: string;
}

/** The registered devices' settings, in registration order. */
export function deviceSettingsList(): readonly NamedDeviceSettings[] {
  return Object.entries(DEVICE_SETTINGS).map(([name, s]) => ({ name, ...(s as DeviceSettings) }));
}

/** The package-root export names of every resource's provider object (sets and guards included). */
export type ProviderExportName =
  (typeof DEVICE_SETTINGS)[DeviceName]["resources"][number]["providerExport"] | SetExportOf<(typeof DEVICE_SETTINGS)[DeviceName]>;
/** The class name of every resource (sets and guards included), e.g. "OpnsenseAliasEntry". */
export type ResourceClassName = (typeof DEVICE_SETTINGS)[DeviceName]["resources"][number]["className"] | SetClassOf<(typeof DEVICE_SETTINGS)[DeviceName]>;
type SetClassOf<D> = D extends { readonly sets: readonly (infer R)[] } ? (R extends { readonly className: infer C } ? C : never) : never;
/** A device's set provider exports; none when the device has no `sets` (a scaffolded device). */
type SetExportOf<D> = D extends { readonly sets: readonly (infer R)[] } ? (R extends { readonly providerExport: infer P } ? P : never) : never;

/** Every set and guard resource's names, with its device (their type tokens are fixed like the grants'). */
export function setResourceNames(devices: readonly NamedDeviceSettings[] = deviceSettingsList()): { device: string; names: ResourceNames }[] {
  return devices.flatMap((d) => (d.sets ?? []).map((names) => ({ device: d.name, names })));
}

/** The type token of a resource, as the engine records it in state: `pulumi-nodejs:dynamic/<module>:<type>`. */
export function typeToken(r: Pick<ResourceNames, "module" | "type">): string {
  return `pulumi-nodejs:dynamic/${r.module}:${r.type}`;
}

/** Every setting key of `d`, base settings first. */
export function settingKeys(d: DeviceSettings): { key: string; secret: boolean }[] {
  return [...BASE_SETTINGS.map((key) => ({ key, secret: false })), ...d.settings.map((s) => ({ key: s.key, secret: s.secret === true }))];
}

/** Every stack-config key the provider reads (`opnsense:url`, …): what `configureFromStack` copies. */
export function stackConfigKeys(devices: readonly NamedDeviceSettings[] = deviceSettingsList()): string[] {
  return devices.flatMap((d) => settingKeys(d).map((s) => `${d.name}:${s.key}`));
}

/** The environment variable of a device setting (`OPNSENSE_API_KEY_FILE`). */
export function settingEnvName(device: string, key: string): string {
  // settings.ts's rule; its namespace type names the three devices until it derives from DeviceName.
  return envName(device as SettingsNamespace, key);
}

/** Every environment variable the provider reads, with whether it holds a secret. */
export function environmentNames(
  devices: readonly NamedDeviceSettings[] = deviceSettingsList(),
): { name: string; device: string; key: string; secret: boolean }[] {
  return devices.flatMap((d) => settingKeys(d).map((s) => ({ name: settingEnvName(d.name, s.key), device: d.name, key: s.key, secret: s.secret })));
}

/** Product names as a sentence: "OPNsense, FortiGate and FortiManager". */
export function displayNames(devices: readonly NamedDeviceSettings[] = deviceSettingsList()): string {
  const names = devices.map((d) => d.displayName);
  return names.length <= 1 ? (names[0] ?? "") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

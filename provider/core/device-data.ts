/**
 * What a device's data half declares (provider/devices/<device>/settings.ts): its settings, published
 * resource names and `doctor` options. Device-free shapes and rules; the registry lists the devices.
 */
import { envName } from "./settings";

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

/**
 * A kind of target the policy pack's allowed-targets rule can restrict (policy/index.ts): the config
 * key listing the allowed ones (devices may share a key, e.g. `feeds`), what one is called in a
 * violation, the inputs that name it, and the resources (class names) that have them.
 */
export interface PolicyTarget {
  readonly key: string;
  readonly what: string;
  readonly inputs: readonly string[];
  readonly resources: readonly string[];
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
  /** What the policy pack's allowed-targets rule may restrict. @default none */
  readonly policyTargets?: readonly PolicyTarget[];
  readonly doctor: {
    readonly options: readonly DoctorOption[];
    /** Top-level `check` inputs `doctor` always sends to the device's first resource (e.g. a placeholder object name). */
    readonly fixed?: Readonly<Record<string, string>>;
  };
}

/** The type token of a resource, as the engine records it in state: `pulumi-nodejs:dynamic/<module>:<type>`. */
export function typeToken(r: Pick<ResourceNames, "module" | "type">): string {
  return `pulumi-nodejs:dynamic/${r.module}:${r.type}`;
}

/** Every setting key of `d`, base settings first. */
export function settingKeys(d: DeviceSettings): { key: string; secret: boolean }[] {
  return [...BASE_SETTINGS.map((key) => ({ key, secret: false })), ...d.settings.map((s) => ({ key: s.key, secret: s.secret === true }))];
}

/** The environment variable of a device setting (`OPNSENSE_API_KEY_FILE`). */
export function settingEnvName(device: string, key: string): string {
  return envName(device, key);
}

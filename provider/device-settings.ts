/**
 * The device registry, data half: the one list of every device's data (provider/devices/<device>/
 * settings.ts: settings, published resource names, `doctor` options), one line per device. A second
 * list beside registry.ts because of load cost: the CLI's flag parser and the core's stack-config keys
 * need the data without loading any resource (`@pulumi/pulumi`) or emulator. The compiler refuses a
 * device listed here and not in registry.ts, or the reverse. docs/adding-a-device.md says what to fill in.
 */
import { registerStackConfigKeys } from "./core/settings";
import { settingEnvName, settingKeys, type DeviceSettings, type ResourceNames } from "./core/device-data";
import { OPNSENSE_SETTINGS } from "./devices/opnsense/settings";
import { FORTIGATE_SETTINGS } from "./devices/fortigate/settings";
import { FORTIMANAGER_SETTINGS } from "./devices/fortimanager/settings";
// new-device: data imports above this line (scripts/new-device.ts)

export {
  BASE_SETTINGS,
  settingEnvName,
  settingKeys,
  typeToken,
  type DeviceSettings,
  type DoctorOption,
  type ResourceNames,
  type SettingKey,
} from "./core/device-data";

/** Every device, by settings namespace (`opnsense:url`, `OPNSENSE_URL`). Registration step 1 of docs/adding-a-device.md. */
export const DEVICE_SETTINGS = {
  opnsense: OPNSENSE_SETTINGS,
  fortigate: FORTIGATE_SETTINGS,
  fortimanager: FORTIMANAGER_SETTINGS,
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

/** Every stack-config key the provider reads (`opnsense:url`, …): what `configureFromStack` copies. */
export function stackConfigKeys(devices: readonly NamedDeviceSettings[] = deviceSettingsList()): string[] {
  return devices.flatMap((d) => settingKeys(d).map((s) => `${d.name}:${s.key}`));
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

// The core knows no device: hand it every registered device's stack-config keys (configureFromStack).
registerStackConfigKeys(stackConfigKeys());

/**
 * The device registry, code half: one line per device, each device's own provider/devices/<device>/
 * device.ts (its resources and their sets, its emulator: start function, the seeded-credential shape,
 * a seeded start, a state snapshot, the `emulate` demo; its bench scenarios). The data half is
 * device-settings.ts, keyed by the same names. Derived from it: the package exports (checked by
 * test/devices.test.ts), environment names, `doctor` and `emulate` flags and help, the engine fixture,
 * the bench, the README's privilege tables and the cross-device test tables (hostile input, secrets).
 * Adding a device: docs/adding-a-device.md (`scripts/new-device.ts` writes the lines).
 */
import { settingEnvName, type DeviceName, type NamedDeviceSettings } from "./device-settings";
import type { DeviceEntry, EmulatorTarget, GrantResourceEntry, SeededUser, SeededUsers } from "./device-entry";
import { OPNSENSE_DEVICE } from "./devices/opnsense/device";
import { FORTIGATE_DEVICE } from "./devices/fortigate/device";
import { FORTIMANAGER_DEVICE } from "./devices/fortimanager/device";
// new-device: imports above this line (scripts/new-device.ts)

export type {
  BenchRun,
  BenchScenario,
  DemoEmulator,
  DeviceEmulatorEntry,
  DeviceEntry,
  EmulatorTarget,
  GrantResourceEntry,
  SeededUser,
  SeededUsers,
} from "./device-entry";

/** A registry entry with its name: what the derived surfaces iterate (tests add a toy device). */
export interface NamedDeviceEntry extends DeviceEntry {
  readonly name: string;
  readonly settings: NamedDeviceSettings;
}

/**
 * Every device, by settings namespace. Registration step 2 of docs/adding-a-device.md; the type
 * refuses a device of device-settings.ts that has no entry here, and an entry that is not there.
 */
export const DEVICES = {
  opnsense: OPNSENSE_DEVICE,
  fortigate: FORTIGATE_DEVICE,
  fortimanager: FORTIMANAGER_DEVICE,
  // new-device: entries above this line (scripts/new-device.ts)
} satisfies { readonly [K in DeviceName]: DeviceEntry };

type Entry<K extends DeviceName> = (typeof DEVICES)[K];
/** The emulator type of a device (`OpnsenseEmulator`, …). */
export type EmulatorOf<K extends DeviceName> = Awaited<ReturnType<Entry<K>["emulator"]["seeded"]>>;
/** A device's emulator snapshot type. */
export type SnapshotOf<K extends DeviceName> = ReturnType<Entry<K>["emulator"]["snapshot"]>;
/** A device's part of the `emulate` JSON. */
export type DemoInfoOf<K extends DeviceName> = Awaited<ReturnType<Entry<K>["emulator"]["demo"]>>["info"];
/** Field names of the fixtures' flat credentials (`opnsenseKey`, `fortigateReadOnlyToken`, …). */
export type CredentialName = {
  [K in DeviceName]: { [U in keyof SeededUsers]: Entry<K>["emulator"]["credentials"][U][keyof Entry<K>["emulator"]["credentials"][U]] }[keyof SeededUsers];
}[DeviceName];

/** The registered devices, in registration order. */
export function deviceList(): readonly NamedDeviceEntry[] {
  return Object.entries(DEVICES).map(([name, d]) => ({ ...(d as unknown as DeviceEntry), name, settings: { name, ...d.settings } }));
}

/** Every grant resource of `devices`, with its device. */
export function grantResources(devices: readonly NamedDeviceEntry[] = deviceList()): { device: NamedDeviceEntry; resource: GrantResourceEntry }[] {
  return devices.flatMap((device) => device.resources.map((resource) => ({ device, resource })));
}

/** The users' settings of a seeded device, by setting key: credentials from `values` (by their flat names), plus the fixed user settings. */
export function seededUsers(device: DeviceEntry, values: Readonly<Record<string, string>>): SeededUsers {
  const user = (u: keyof SeededUsers): SeededUser => ({
    ...Object.fromEntries(Object.entries(device.emulator.credentials[u]).map(([key, name]) => [key, values[name] ?? ""])),
    ...device.emulator.userSettings?.[u],
  });
  return { full: user("full"), weak: user("weak") };
}

/** Stack config for a seeded device's user (`<device>:url`, credentials as secrets, `<device>:caCert`). */
export function seededStackConfig(device: NamedDeviceEntry, e: EmulatorTarget, user: SeededUser): { key: string; value: string; secret: boolean }[] {
  const secret = new Set(device.settings.settings.filter((s) => s.secret).map((s) => s.key));
  return [
    { key: `${device.name}:url`, value: e.url, secret: false },
    ...Object.entries(user).map(([k, value]) => ({ key: `${device.name}:${k}`, value, secret: secret.has(k) })),
    { key: `${device.name}:caCert`, value: e.caCert, secret: false },
  ];
}

/** `<DEVICE>_<KEY>` for `<device>:<key>` entries. */
export function asEnvironment(entries: readonly { key: string; value: string }[]): Record<string, string> {
  return Object.fromEntries(entries.map((e) => [settingEnvName(e.key.split(":")[0]!, e.key.split(":")[1]!), e.value]));
}

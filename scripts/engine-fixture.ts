/**
 * Every registered device's emulator (provider/registry.ts), started in-process for runs of the real
 * Pulumi CLI (the quick-start and test/engine): users with good and under-privileged credentials, a
 * snapshot of everything a grant can touch (to prove `destroy` leaves the devices as they were), and
 * the stack config that points the provider at them.
 */
import { randomBytes } from "node:crypto";
import type { DeviceName } from "../provider/device-settings";
import {
  asEnvironment,
  DEVICES,
  deviceList,
  seededStackConfig,
  seededUsers,
  type CredentialName,
  type EmulatorOf,
  type SnapshotOf,
} from "../provider/registry";
import type { LoggedRequest } from "../emulators/index";

/**
 * Per device, the credentials of its two seeded users (provider/registry.ts `emulator.credentials`):
 * `opnsenseKey`/`opnsenseSecret` ("Diagnostics: PF Table IP addresses" and "Firewall: Alias: Edit"),
 * `opnsenseWeakKey`/`opnsenseWeakSecret` (only "Firewall: Aliases": OPN001), `fortigateToken`
 * (Firewall read-write), `fortigateReadOnlyToken` (202002), `fortimanagerToken` (Super_User API
 * administrator), `fortimanagerWeakToken` (custom profile: 202002).
 */
export type Credentials = Readonly<Record<CredentialName, string>>;

/**
 * Recognisable, per-run credentials (so a secret scan cannot be fooled by a constant that happens
 * to be elsewhere): every value starts with `prefix` and ends in random hex.
 */
export function makeCredentials(prefix = "fwgsecret"): Credentials {
  const names = deviceList().flatMap((d) => [...Object.values(d.emulator.credentials.full), ...Object.values(d.emulator.credentials.weak)]);
  return Object.fromEntries(names.map((n) => [n, `${prefix}${n.toLowerCase()}${randomBytes(8).toString("hex")}`])) as Credentials;
}

/** Everything a grant could change, per device, as plain JSON. */
export type DeviceSnapshot = { readonly [K in DeviceName]: SnapshotOf<K> };

export type Devices = { readonly [K in DeviceName]: EmulatorOf<K> } & {
  readonly credentials: Credentials;
  /** Everything a grant could change, as plain JSON (compare before/after). */
  snapshot(): DeviceSnapshot;
  /** Requests with a side effect since the logs were last cleared, per device. */
  sideEffects(): Record<DeviceName, readonly LoggedRequest[]>;
  clearLogs(): void;
  close(): Promise<void>;
};

/** No side effect on any registered device: what `sideEffects()` returns after a run that changed nothing. */
export function noSideEffects(): Record<DeviceName, readonly LoggedRequest[]> {
  return Object.fromEntries(deviceList().map((d) => [d.name, []])) as unknown as Record<DeviceName, readonly LoggedRequest[]>;
}

/** Starts every device's emulator (test CA, random ports) with the users of `credentials`. */
export async function startDevices(credentials: Credentials = makeCredentials()): Promise<Devices> {
  const started: Record<string, EmulatorOf<DeviceName>> = {};
  const closeAll = () => Promise.allSettled(Object.values(started).map((s) => s.close()));
  try {
    for (const d of deviceList()) started[d.name] = (await d.emulator.seeded({}, seededUsers(d, credentials))) as EmulatorOf<DeviceName>;
    const each = <T>(fn: (name: DeviceName, e: EmulatorOf<DeviceName>) => T) =>
      Object.fromEntries(Object.entries(started).map(([n, e]) => [n, fn(n as DeviceName, e)]));
    return {
      ...(started as unknown as { [K in DeviceName]: EmulatorOf<K> }),
      credentials,

      snapshot: () => structuredClone(each((n, e) => (DEVICES[n].emulator.snapshot as (e: any) => unknown)(e))) as DeviceSnapshot,
      sideEffects: () => each((_, e) => e.log.sideEffects()) as Record<DeviceName, readonly LoggedRequest[]>,
      clearLogs: () => void each((_, e) => e.log.clear()),
      close: async () => void (await closeAll()),
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

export interface StackConfigEntry {
  readonly key: string;
  readonly value: string;
  readonly secret: boolean;
}

/** Which devices get their under-privileged user: `{ weakOpnsense: true }`. */
export type WeakOptions = { readonly [K in DeviceName as `weak${Capitalize<K>}`]?: boolean };

/**
 * Stack config that points the provider at the emulators (`opnsense:url`, `opnsense:apiKey`, …):
 * per device its URL, CA and the privileged user's settings, or the under-privileged user's with `weak<Device>`.
 */
export function stackConfig(d: Devices, opts: WeakOptions = {}): StackConfigEntry[] {
  return deviceList().flatMap((device) => {
    const weak = (opts as Record<string, boolean | undefined>)[`weak${device.name[0]!.toUpperCase()}${device.name.slice(1)}`] === true;
    const users = seededUsers(device, d.credentials);
    return seededStackConfig(device, d[device.name as DeviceName], weak ? users.weak : users.full);
  });
}

/** The same settings as environment variables (`OPNSENSE_URL`, `FORTIGATE_TOKEN`, …). */
export function deviceEnv(d: Devices, opts: WeakOptions = {}): Record<string, string> {
  return asEnvironment(stackConfig(d, opts));
}

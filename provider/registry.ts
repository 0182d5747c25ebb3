/**
 * The device registry: the one list of devices and their resources. Per device: its settings and
 * names (device-settings.ts, the data half), its resources (class, provider object, sample inputs), and
 * its emulator (start function, the seeded-credential shape, a seeded start, a state snapshot, the
 * `emulate` demo). Derived from it: the package exports (checked by test/devices.test.ts), the stack
 * config `configureFromStack` reads, environment names, `doctor` and `emulate` flags and help, the
 * engine fixture, the bench and the cross-device test tables (hostile input, secrets).
 * Adding a device: docs/adding-a-device.md (`scripts/new-device.ts` writes the entry).
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { DEVICE_SETTINGS, settingEnvName, type DeviceName, type DeviceSettings, type NamedDeviceSettings, type ResourceNames } from "./device-settings";
import type { EmulatorServer, EmulatorServerOptions } from "../emulators/kit";
import type { GrantProvider } from "./core/grant-lifecycle";
import { FortigateFeedEntry, fortigateFeedEntryProvider } from "./devices/fortigate/feed-resource";
import { FortigateAddress, fortigateAddressProvider } from "./devices/fortigate/resource";
import { FortimanagerFeedEntry, fortimanagerFeedEntryProvider } from "./devices/fortimanager/feed-resource";
import { startFortigateEmulator, type FortigateEmulator } from "../emulators/fortigate/emulator";
import { FortimanagerTrustedHost, fortimanagerTrustedHostProvider } from "./devices/fortimanager/resource";
import { startFortimanagerEmulator, type FortimanagerEmulator } from "../emulators/fortimanager/emulator";
import { DEFAULT_ADMINS } from "../emulators/fortimanager/backend";
import { OpnsenseAliasEntry, opnsenseAliasEntryProvider } from "./devices/opnsense/resource";
import { startOpnsenseEmulator, type OpnsenseEmulator } from "../emulators/opnsense/emulator";
import type { PreflightStep } from "./core/preflight-steps";
import { ALIAS_ENTRY_PREFLIGHT } from "./devices/opnsense/preflight";
import { ADDRESS_PREFLIGHT } from "./devices/fortigate/preflight";
import { FORTIGATE_FEED_PREFLIGHT } from "./devices/fortigate/feed-preflight";
import { TRUSTED_HOST_PREFLIGHT } from "./devices/fortimanager/preflight";
import { FORTIMANAGER_FEED_PREFLIGHT } from "./devices/fortimanager/feed-preflight";
// new-device: imports above this line (scripts/new-device.ts)

/** Credentials or settings of one seeded user, by setting key (`{ apiKey, apiSecret }`). */
export type SeededUser = Readonly<Record<string, string>>;
/** The two users every seeded emulator has: every privilege a grant needs, and too few (preview fails with a permission code). */
export interface SeededUsers<T = SeededUser> {
  readonly full: T;
  readonly weak: T;
}

/** Where a seeded emulator listens. */
export interface EmulatorTarget {
  readonly url: string;
  readonly caCert: string;
}

/** One grant resource of a device. */
export interface GrantResourceEntry {
  readonly names: ResourceNames;
  readonly resourceClass: abstract new (...args: never[]) => unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each resource has its own inputs; callers pass plain records
  readonly provider: GrantProvider<any, any>;
  /** Name-like inputs (the hostile-input table sends hostile names to each). */
  readonly nameFields: readonly string[];
  /**
   * The resource's declared preflight steps, in the order `check` runs them (provider/core/preflight-steps.ts):
   * `doctor` prints them and marks the failed one from `failedStep(e)`. Typed by no context, so that
   * every device's steps fit one registry. @default none (`doctor` shows one "permission preflight" line)
   */
  readonly preflight?: readonly PreflightStep<never>[];
  /** Valid `check` inputs against a seeded emulator, with `creds` inline (none: settings from config or the environment). */
  sampleInputs(target: EmulatorTarget, creds: SeededUser | undefined): Record<string, unknown>;
}

/** What `firewall-grants emulate` starts for a device and prints. */
export interface DemoEmulator<E extends EmulatorServer = EmulatorServer, Info = unknown> {
  readonly server: E;
  /** The device's part of `--json` / emulators.json. */
  readonly info: Info & { readonly url: string };
  /** Environment for `env.sh` (the device's `<DEVICE>_CA_CERT` is added by `emulate`). */
  readonly env: Readonly<Record<string, string>>;
  /** Lines of the human-readable summary. */
  readonly summary: readonly string[];
}

export interface DeviceEmulatorEntry<E extends EmulatorServer = EmulatorServer, Snapshot = unknown, Info = unknown> {
  /** The public start function (exported from `pulumi-firewall-grants/emulator`). */
  readonly start: (opts?: never) => Promise<E>;
  /**
   * The seeded-credential shape: per secret setting key, the field name of the fixtures' flat
   * credentials (scripts/engine-fixture.ts `Credentials`), for each seeded user.
   */
  readonly credentials: SeededUsers<Readonly<Record<string, string>>>;
  /** Non-secret settings the seeded users need (e.g. the FortiManager API administrator's id). @default none */
  readonly userSettings?: SeededUsers;
  /** Starts the emulator with the two users (credentials by setting key) and the targets `sampleInputs` name. */
  seeded(opts: EmulatorServerOptions, users: SeededUsers): Promise<E>;
  /** Everything a grant can change, as plain JSON (compare before/after a run). */
  snapshot(e: E): Snapshot;
  /** `firewall-grants emulate`: demo users with random credentials (files go to `dir`). */
  demo(opts: EmulatorServerOptions, dir: string, random: (bytes?: number) => string): Promise<DemoEmulator<E, Info>>;
}

export interface DeviceEntry<E extends EmulatorServer = EmulatorServer, Snapshot = unknown, Info = unknown> {
  readonly settings: DeviceSettings;
  readonly resources: readonly GrantResourceEntry[];
  readonly emulator: DeviceEmulatorEntry<E, Snapshot, Info>;
}

/** A registry entry with its name: what the derived surfaces iterate (tests add a toy device). */
export interface NamedDeviceEntry extends DeviceEntry {
  readonly name: string;
  readonly settings: NamedDeviceSettings;
}

const sorted = (xs: Iterable<string>) => [...xs].sort();
const OPN_FULL_PRIVILEGES = ["page-diagnostics-tables", "page-firewall-aliases", "page-firewall-alias-edit"];
const fgtCreds = (c: SeededUser | undefined) => (c ? { credentials: { token: c.token } } : {});

const opnsense = {
  settings: DEVICE_SETTINGS.opnsense,
  resources: [
    {
      names: DEVICE_SETTINGS.opnsense.resources[0],
      resourceClass: OpnsenseAliasEntry,
      provider: opnsenseAliasEntryProvider,
      nameFields: ["alias"],
      preflight: ALIAS_ENTRY_PREFLIGHT,
      sampleInputs: (t, c) => ({
        connection: { url: t.url, caCert: t.caCert },
        ...(c && { credentials: { apiKey: c.apiKey, apiSecret: c.apiSecret } }),
        alias: "jit_admins",
        address: "203.0.113.7",
        method: "table",
      }),
    },
  ],
  emulator: {
    start: startOpnsenseEmulator,
    credentials: {
      full: { apiKey: "opnsenseKey", apiSecret: "opnsenseSecret" },
      weak: { apiKey: "opnsenseWeakKey", apiSecret: "opnsenseWeakSecret" },
    } as const,
    seeded: (opts, u) =>
      startOpnsenseEmulator({
        ...opts,
        users: [
          { name: "grants", key: u.full.apiKey!, secret: u.full.apiSecret!, privileges: OPN_FULL_PRIVILEGES, disabled: false },
          { name: "auditor", key: u.weak.apiKey!, secret: u.weak.apiSecret!, privileges: ["page-firewall-aliases"], disabled: false },
        ],
      }),
    snapshot: (e) =>
      [...e.backend.aliases.values()]
        .filter((a) => !a.builtin)
        .map((a) => ({ alias: a.name, content: sorted(a.content), table: sorted(e.backend.tableContent(a.name)) }))
        .sort((a, b) => a.alias.localeCompare(b.alias)),
    async demo(opts, dir, random) {
      const users = {
        full: { name: "grants", key: random(), secret: random(24), privileges: OPN_FULL_PRIVILEGES, disabled: false },
        underPrivileged: { name: "grants-readonly", key: random(), secret: random(24), privileges: ["page-firewall-aliases"], disabled: false },
      };
      const server = await startOpnsenseEmulator({ ...opts, users: Object.values(users) });
      const keyFile = (name: string, u: { key: string; secret: string }) => {
        const file = path.join(dir, `opnsense-${name}.key`);
        writeFileSync(file, `key=${u.key}\nsecret=${u.secret}\n`, { mode: 0o600 });
        return file;
      };
      const info = {
        url: server.url,
        aliases: ["jit_admins", "jit_nets", "jit_runtime"],
        users: {
          full: { ...users.full, keyFile: keyFile("full", users.full) },
          underPrivileged: { ...users.underPrivileged, keyFile: keyFile("under-privileged", users.underPrivileged) },
        },
      };
      return {
        server,
        info,
        env: { OPNSENSE_URL: server.url, OPNSENSE_API_KEY_FILE: info.users.full.keyFile },
        summary: [
          `OPNsense      ${info.url}   aliases: ${info.aliases.join(", ")}`,
          `  full key           ${info.users.full.keyFile}   (${info.users.full.privileges.join(", ")})`,
          `  under-privileged   ${info.users.underPrivileged.keyFile}   (${info.users.underPrivileged.privileges.join(", ")}: preview fails with OPN001)`,
        ],
      };
    },
  },
} satisfies DeviceEntry<OpnsenseEmulator>;

const fortigate = {
  settings: DEVICE_SETTINGS.fortigate,
  resources: [
    {
      names: DEVICE_SETTINGS.fortigate.resources[0],
      resourceClass: FortigateAddress,
      provider: fortigateAddressProvider,
      nameFields: ["name", "group"],
      preflight: ADDRESS_PREFLIGHT,
      sampleInputs: (t, c) => ({
        connection: { url: t.url, caCert: t.caCert },
        ...fgtCreds(c),
        name: "grant-sample",
        address: "203.0.113.8",
        group: "jit-admins",
      }),
    },
    {
      names: DEVICE_SETTINGS.fortigate.resources[1],
      resourceClass: FortigateFeedEntry,
      provider: fortigateFeedEntryProvider,
      nameFields: ["feed"],
      preflight: FORTIGATE_FEED_PREFLIGHT,
      sampleInputs: (t, c) => ({ connection: { url: t.url, caCert: t.caCert }, ...fgtCreds(c), feed: "jit-allow", address: "203.0.113.10" }),
    },
  ],
  emulator: {
    start: startFortigateEmulator,
    credentials: { full: { token: "fortigateToken" }, weak: { token: "fortigateReadOnlyToken" } } as const,
    seeded: (opts, u) =>
      startFortigateEmulator({
        ...opts,
        users: [
          { name: "grants-api", token: u.full.token!, fwgrp: "read-write", sysgrp: "custom", sysgrpPermission: { cfg: "read-write" }, vdoms: ["root"] },
          // Firewall read, System none: a read-only key whose feed preview fails (202002) as on a device.
          { name: "audit-api", token: u.weak.token!, fwgrp: "read", sysgrp: "none", vdoms: ["root"] },
        ],
        groups: [{ name: "jit-admins" }, { name: "jit-admins6", family: "ipv6" }],
      }),
    snapshot: (e) => ({
      addresses: sorted(e.backend.addresses("root", "ipv4").map((a) => `${a.name}=${a.value}`)),
      addresses6: sorted(e.backend.addresses("root", "ipv6").map((a) => `${a.name}=${a.value}`)),
      groups: e.backend.groups("root", "ipv4").map((g) => ({ name: g.name, members: sorted(g.members) })),
      groups6: e.backend.groups("root", "ipv6").map((g) => ({ name: g.name, members: sorted(g.members) })),
      feeds: e.backend.feeds.all().map((f) => ({ scope: f.scope, name: f.name, entries: sorted([...f.entries.values()].map((x) => x.entry)) })),
    }),
    async demo(opts, _dir, random) {
      const users = {
        readWrite: {
          name: "grants-api",
          token: random(15),
          fwgrp: "read-write" as const,
          sysgrp: "custom" as const,
          sysgrpPermission: { cfg: "read-write" as const },
          vdoms: ["root"],
        },
        readOnly: { name: "grants-readonly", token: random(15), fwgrp: "read" as const, sysgrp: "none" as const, vdoms: ["root"] },
      };
      // Every example's targets (examples/*/index.ts): groups jit-admins and jit-admins6; the push feed
      // jit-allow is the emulator's own seed (FortiOS 7.2.1+).
      const server = await startFortigateEmulator({
        ...opts,
        users: Object.values(users),
        groups: [{ name: "jit-admins" }, { name: "jit-admins6", family: "ipv6" }],
      });
      const info = {
        url: server.url,
        vdom: "root",
        groups: ["jit-admins", "jit-admins6"],
        feeds: ["jit-allow"],
        users: {
          readWrite: { name: users.readWrite.name, token: users.readWrite.token, access: "Firewall read-write" },
          readOnly: { name: users.readOnly.name, token: users.readOnly.token, access: "Firewall read" },
        },
      };
      return {
        server,
        info,
        env: { FORTIGATE_URL: server.url, FORTIGATE_TOKEN: users.readWrite.token, FORTIGATE_VDOM: "root" },
        summary: [
          `FortiGate     ${info.url}   VDOM ${info.vdom}, groups: ${info.groups.join(", ")}, push feed: ${info.feeds.join(", ")}`,
          `  read-write token   ${info.users.readWrite.token}`,
          `  read-only token    ${info.users.readOnly.token}   (preview fails with 202002)`,
        ],
      };
    },
  },
} satisfies DeviceEntry<FortigateEmulator>;

const fortimanager = {
  settings: DEVICE_SETTINGS.fortimanager,
  resources: [
    {
      names: DEVICE_SETTINGS.fortimanager.resources[0],
      resourceClass: FortimanagerTrustedHost,
      provider: fortimanagerTrustedHostProvider,
      nameFields: ["adminUser"],
      preflight: TRUSTED_HOST_PREFLIGHT,
      sampleInputs: (t, c) => ({
        connection: { url: t.url, caCert: t.caCert, ...(c?.username && { username: c.username }) },
        ...(c && { credentials: { token: c.token } }),
        adminUser: "alice",
        address: "203.0.113.9",
      }),
    },
    {
      names: DEVICE_SETTINGS.fortimanager.resources[1],
      resourceClass: FortimanagerFeedEntry,
      provider: fortimanagerFeedEntryProvider,
      nameFields: ["feed", "vdom"],
      preflight: FORTIMANAGER_FEED_PREFLIGHT,
      sampleInputs: (t, c) => ({
        connection: { url: t.url, caCert: t.caCert, ...(c?.username && { username: c.username }) },
        ...(c && { credentials: { token: c.token } }),
        devices: ["fgt-hq", "fgt-br1"],
        feed: "jit-allow",
        address: "203.0.113.11",
      }),
    },
  ],
  emulator: {
    start: startFortimanagerEmulator,
    credentials: { full: { token: "fortimanagerToken" }, weak: { token: "fortimanagerWeakToken" } } as const,
    userSettings: { full: { username: "grants-api" }, weak: { username: "audit-api" } },
    seeded: (opts, u) =>
      startFortimanagerEmulator({
        ...opts,
        admins: [
          ...DEFAULT_ADMINS.filter((a) => a.userType !== "api"),
          { userid: "grants-api", userType: "api", apiKey: u.full.token!, profileid: "Super_User" },
          { userid: "audit-api", userType: "api", apiKey: u.weak.token!, profileid: "custom_admins" },
        ],
      }),
    snapshot: (e) => ({
      admins: [...e.backend.admins.values()].map((a) => ({ userid: a.userid, slots: a.slots })).sort((a, b) => a.userid.localeCompare(b.userid)),
      // The managed FortiGates' feeds (Passive+ grants through the manager's proxy).
      devices: [...e.backend.devices.devices.values()].map((d) => ({
        name: d.name,
        feeds: d.backend.feeds.all().map((f) => ({ scope: f.scope, name: f.name, entries: sorted([...f.entries.values()].map((x) => x.entry)) })),
      })),
    }),
    async demo(opts, _dir, random) {
      const token = random(16);
      const password = random(12);
      const server = await startFortimanagerEmulator({
        ...opts,
        admins: [
          { userid: "grants-api", userType: "api", apiKey: token, profileid: "Super_User" },
          { userid: "grants", password, profileid: "Super_User" },
          // The administrators the examples grant to (examples/fortimanager, multi-device, sets).
          { userid: "alice", password: random(12), profileid: "Restricted_User" },
          { userid: "bob", password: random(12), profileid: "Restricted_User" },
        ],
      });
      // Managed FortiGates with the push feed jit-allow are the emulator's own seed (DEFAULT_DEVICES: fgt-hq, fgt-br1).
      const info = {
        url: server.url,
        admins: ["alice", "bob"],
        devices: [...server.backend.devices.devices.keys()],
        users: { superUserToken: { userid: "grants-api", token, profile: "Super_User" }, login: { username: "grants", password, profile: "Super_User" } },
      };
      return {
        server,
        info,
        env: { FORTIMANAGER_URL: server.url, FORTIMANAGER_TOKEN: token, FORTIMANAGER_USERNAME: "grants-api" },
        summary: [
          `FortiManager  ${info.url}   admins: ${info.admins.join(", ")}; managed: ${info.devices.join(", ")} (push feed jit-allow)`,
          `  Super_User token   ${token}   (API admin grants-api)`,
          `  login              grants / ${password}   (Super_User)`,
        ],
      };
    },
  },
} satisfies DeviceEntry<FortimanagerEmulator>;

// new-device: definitions above this line (scripts/new-device.ts)

/**
 * Every device, by settings namespace. Registration step 2 of docs/adding-a-device.md; the type
 * refuses a device of device-settings.ts that has no entry here, and an entry that is not there.
 */
export const DEVICES = {
  opnsense,
  fortigate,
  fortimanager,
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

/**
 * FortiManager's code half, registered in provider/registry.ts: its resources (class, provider object,
 * name fields, preflight steps, sample inputs) and its emulator (start, seeded users, snapshot, the
 * `emulate` demo). The data half is ./settings.ts.
 */
import type { DeviceEntry } from "../../device-entry";
import { FortimanagerFeedEntry, fortimanagerFeedEntryProvider } from "./feed-resource";
import { FortimanagerTrustedHost, fortimanagerTrustedHostProvider } from "./resource";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator, type FortimanagerEmulator } from "../../../emulators/fortimanager/emulator";
import { DEFAULT_ADMINS } from "../../../emulators/fortimanager/backend";
import { TRUSTED_HOST_PREFLIGHT } from "./preflight";
import { FORTIMANAGER_FEED_PREFLIGHT } from "./feed-preflight";
import { fortimanagerTrustedHostSetProvider } from "./set-resource";
import { fortimanagerFeedSetProvider } from "./feed-set";
import { closeFortimanagerSessions } from "./session";
import { FORTIMANAGER_SETTINGS } from "./settings";

const sorted = (xs: Iterable<string>) => [...xs].sort();

/** The benchmark's grants use trusted-host slots 2..10 of one administrator after the other. */
const SLOTS_PER_ADMIN = 9;
const benchAdmin = (k: number) => `grantee${String(k).padStart(3, "0")}`;

export const FORTIMANAGER_DEVICE = {
  settings: FORTIMANAGER_SETTINGS,
  resources: [
    {
      names: FORTIMANAGER_SETTINGS.resources[0],
      resourceClass: FortimanagerTrustedHost,
      provider: fortimanagerTrustedHostProvider,
      setProvider: fortimanagerTrustedHostSetProvider,
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
      names: FORTIMANAGER_SETTINGS.resources[1],
      resourceClass: FortimanagerFeedEntry,
      provider: fortimanagerFeedEntryProvider,
      setProvider: fortimanagerFeedSetProvider,
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
  bench: [
    {
      mode: `token, ${SLOTS_PER_ADMIN}/admin`,
      provider: fortimanagerTrustedHostProvider,
      targets: (n) => Math.ceil(n / SLOTS_PER_ADMIN),
      start: async (addresses, latency) => {
        const admins = Math.ceil(addresses.length / SLOTS_PER_ADMIN);
        const seeds = [
          ...DEFAULT_ADMINS,
          ...Array.from({ length: admins }, (_, k) => ({ userid: benchAdmin(k), password: `pw-${k}`, profileid: "Restricted_User" })),
        ];
        const emu = await startFortimanagerEmulator({ latencyMs: latency.latencyMs, admins: seeds });
        // The key's administrator named: the emulator, like the least helpful device, does not say whose key it is.
        const connection = { url: emu.url, caCert: emu.caCert, username: "apiadmin" };
        const credentials = { token: DEFAULT_CREDENTIALS.apiKey };
        return {
          emu,
          // Grants fill one administrator after the other, as a team's grants would.
          inputs: addresses.map((address, i) => ({ connection, credentials, adminUser: benchAdmin(Math.floor(i / SLOTS_PER_ADMIN)), address })),
          state: () => Array.from({ length: admins }, (_, k) => JSON.stringify(emu.backend.admins.get(benchAdmin(k)))),
          release: () => closeFortimanagerSessions(),
          close: () => emu.close(),
        };
      },
    },
  ],
} satisfies DeviceEntry<FortimanagerEmulator>;

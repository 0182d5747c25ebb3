/**
 * FortiGate's code half, registered in provider/registry.ts: its resources (class, provider object,
 * name fields, preflight steps, sample inputs) and its emulator (start, seeded users, snapshot, the
 * `emulate` demo). The data half is ./settings.ts.
 */
import type { DeviceEntry, SeededUser } from "../../device-entry";
import { FortigateFeedEntry, fortigateFeedEntryProvider } from "./feed-resource";
import { FortigateAddress, fortigateAddressProvider } from "./resource";
import { startFortigateEmulator, type FortigateEmulator } from "../../../emulators/fortigate/emulator";
import { ADDRESS_PREFLIGHT } from "./preflight";
import { FORTIGATE_FEED_PREFLIGHT } from "./feed-preflight";
import { fortigateAddressSetProvider } from "./set-resource";
import { fortigateFeedSetProvider } from "./feed-set";
import { FORTIGATE_SETTINGS } from "./settings";

const sorted = (xs: Iterable<string>) => [...xs].sort();
const fgtCreds = (c: SeededUser | undefined) => (c ? { credentials: { token: c.token } } : {});

export const FORTIGATE_DEVICE = {
  settings: FORTIGATE_SETTINGS,
  resources: [
    {
      names: FORTIGATE_SETTINGS.resources[0],
      resourceClass: FortigateAddress,
      provider: fortigateAddressProvider,
      setProvider: fortigateAddressSetProvider,
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
      names: FORTIGATE_SETTINGS.resources[1],
      resourceClass: FortigateFeedEntry,
      provider: fortigateFeedEntryProvider,
      setProvider: fortigateFeedSetProvider,
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
  bench: [false, true].map((withGroup) => ({
    mode: withGroup ? "group" : "address",
    provider: fortigateAddressProvider,
    targets: () => 1,
    start: async (addresses, latency) => {
      const emu = await startFortigateEmulator({ latencyMs: latency.latencyMs, groups: [{ name: "jit-admins" }] });
      const connection = { url: emu.url, caCert: emu.caCert };
      const credentials = { token: emu.token };
      return {
        emu,
        inputs: addresses.map((address, i) => ({ connection, credentials, name: `grant-${i}`, address, ...(withGroup && { group: "jit-admins" }) })),
        state: () => ({ addresses: emu.backend.addresses("root", "ipv4").length, members: emu.backend.groupMembers("root", "jit-admins") }),
        close: () => emu.close(),
      };
    },
  })),
} satisfies DeviceEntry<FortigateEmulator>;

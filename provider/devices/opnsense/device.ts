/**
 * OPNsense's code half, registered in provider/registry.ts: its resources (class, provider object,
 * name fields, preflight steps, sample inputs) and its emulator (start, seeded users, snapshot, the
 * `emulate` demo). The data half is ./settings.ts.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import type { DeviceEntry } from "../../device-entry";
import { OpnsenseAliasEntry, opnsenseAliasEntryProvider } from "./resource";
import { OPNSENSE_EMULATOR_ADMIN, startOpnsenseEmulator, type OpnsenseEmulator } from "../../../emulators/opnsense/emulator";
import { ALIAS_ENTRY_PREFLIGHT } from "./preflight";
import { opnsenseAliasSetProvider } from "./set-resource";
import { OPNSENSE_SETTINGS } from "./settings";

const sorted = (xs: Iterable<string>) => [...xs].sort();
const OPN_FULL_PRIVILEGES = ["page-diagnostics-tables", "page-firewall-aliases", "page-firewall-alias-edit"];

export const OPNSENSE_DEVICE = {
  settings: OPNSENSE_SETTINGS,
  resources: [
    {
      names: OPNSENSE_SETTINGS.resources[0],
      resourceClass: OpnsenseAliasEntry,
      provider: opnsenseAliasEntryProvider,
      setProvider: opnsenseAliasSetProvider,
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
  bench: (["table", "config"] as const).map((method) => ({
    mode: method,
    provider: opnsenseAliasEntryProvider,
    targets: () => 1,
    // Config mode batches grants into one reload: also measured with every grant at once.
    allAtOnce: method === "config",
    start: async (addresses, latency) => {
      const emu = await startOpnsenseEmulator({ latencyMs: latency.latencyMs, reconfigureLatencyMs: latency.reconfigureLatencyMs });
      const connection = { url: emu.url, caCert: emu.caCert };
      const credentials = { apiKey: OPNSENSE_EMULATOR_ADMIN.key, apiSecret: OPNSENSE_EMULATOR_ADMIN.secret };
      return {
        emu,
        inputs: addresses.map((address) => ({ connection, credentials, alias: "jit_admins", address, method })),
        reconfigures: () => emu.backend.reconfigureCount,
        state: () => ({ config: emu.backend.configContent("jit_admins"), table: emu.backend.tableContent("jit_admins") }),
        close: () => emu.close(),
      };
    },
  })),
} satisfies DeviceEntry<OpnsenseEmulator>;

/**
 * Toy Firewall's code half, registered in provider/registry.ts: its resources (class, provider object,
 * name fields, preflight steps, sample inputs) and its emulator (start, seeded users, snapshot, the
 * `emulate` demo). The data half is ./settings.ts.
 */
import type { DeviceEntry } from "../../device-entry";
import { ToyfwListEntry, toyfwListEntryProvider } from "./resource";
import { startToyfwEmulator, type ToyfwEmulator } from "../../../emulators/toyfw/emulator";
import { TOYFW_LIST_ENTRY_PREFLIGHT } from "./preflight";
import { TOYFW_SETTINGS } from "./settings";

export const TOYFW_DEVICE = {
  settings: TOYFW_SETTINGS,
  resources: [
    {
      names: TOYFW_SETTINGS.resources[0],
      resourceClass: ToyfwListEntry,
      provider: toyfwListEntryProvider,
      nameFields: ["list"],
      preflight: TOYFW_LIST_ENTRY_PREFLIGHT,
      sampleInputs: (t, c) => ({
        connection: { url: t.url, caCert: t.caCert },
        ...(c && { credentials: { token: c.token } }),
        list: "jit",
        address: "203.0.113.12",
      }),
    },
  ],
  emulator: {
    start: startToyfwEmulator,
    credentials: { full: { token: "toyfwToken" }, weak: { token: "toyfwWeakToken" } } as const,
    seeded: (opts, u) =>
      startToyfwEmulator({
        ...opts,
        users: [
          { name: "grants", token: u.full.token!, privileges: ["read", "write"] },
          { name: "auditor", token: u.weak.token!, privileges: [] },
        ],
      }),
    snapshot: (e) => [...e.backend.lists].map(([list, entries]) => ({ list, entries: [...entries].sort() })),
    async demo(opts, _dir, random) {
      const token = random(16);
      const server = await startToyfwEmulator({ ...opts, users: [{ name: "grants", token, privileges: ["read", "write"] }] });
      return {
        server,
        info: { url: server.url, lists: ["jit"], token },
        env: { TOYFW_URL: server.url, TOYFW_TOKEN: token },
        summary: ["Toy Firewall " + server.url + "   list: jit", "  token " + token],
      };
    },
  },
} satisfies DeviceEntry<ToyfwEmulator>;

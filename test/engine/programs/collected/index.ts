/**
 * N people on three devices (issue 22 engine test): an OPNsense alias (env COLLECTED_METHOD, default config), a
 * FortiGate group and a push feed on a FortiGate managed by FortiManager. Env COLLECTED_MODE=per-entry: one
 * `Grant` per person (per-entry children); collected: one `Grants` (one set per target). Connections come from
 * the environment (OPNSENSE_URL, …). Env COLLECTED_EXPIRES_AT: the first person's `expiresAt`.
 */
import * as grants from "pulumi-firewall-grants";

const n = Number(process.env.COLLECTED_N ?? "10");
const method = process.env.COLLECTED_METHOD === "table" ? "table" : "config";
const people = Array.from({ length: n }, (_, i) => ({
  who: `p${i}`,
  addresses: [`10.20.${Math.floor(i / 250)}.${(i % 250) + 1}`],
  ticket: `CHG-${i}`,
  // Env COLLECTED_EXPIRES_AT: when the first person's access ends.
  ...(i === 0 && process.env.COLLECTED_EXPIRES_AT ? { expiresAt: process.env.COLLECTED_EXPIRES_AT } : {}),
}));
const targets = {
  opnsense: [{ alias: "jit_admins", method }],
  fortigate: [{ group: "jit-admins" }],
  fortimanagerFeeds: [{ devices: ["fgt-hq"], feed: "jit-allow" }],
} as const;

export const granted =
  process.env.COLLECTED_MODE === "collected"
    ? new grants.Grants("team", { people, ...targets }).granted.apply((g) => g.length)
    : people.map((p) => new grants.Grant(p.who, { ...p, ...targets })).length;

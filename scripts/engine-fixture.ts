/**
 * The three device emulators, started in-process for runs of the real Pulumi CLI (the quick-start
 * and test/engine): users with good and under-privileged credentials, a snapshot of everything a
 * grant can touch (to prove `destroy` leaves the devices as they were), and the stack config that
 * points the provider at them.
 */
import { randomBytes } from "node:crypto";
import {
  startFortigateEmulator,
  startFortimanagerEmulator,
  startOpnsenseEmulator,
  type FortigateEmulator,
  type FortimanagerEmulator,
  type LoggedRequest,
  type OpnsenseEmulator,
} from "../provider/emulators";
import { DEFAULT_ADMINS } from "../provider/fortimanager/emulator-backend";

export interface Credentials {
  /** OPNsense key/secret with "Diagnostics: PF Table IP addresses" and "Firewall: Alias: Edit". */
  readonly opnsenseKey: string;
  readonly opnsenseSecret: string;
  /** OPNsense key/secret with only "Firewall: Aliases" (read): preview fails with OPN001. */
  readonly opnsenseWeakKey: string;
  readonly opnsenseWeakSecret: string;
  /** FortiGate api-user with Firewall read-write in root. */
  readonly fortigateToken: string;
  /** FortiGate api-user with Firewall read only: preview fails with 202002. */
  readonly fortigateReadOnlyToken: string;
  /** FortiManager API administrator, Super_User with rpc-permit read-write. */
  readonly fortimanagerToken: string;
  /** FortiManager API administrator with a custom (not super-user) profile: preview fails with 202002. */
  readonly fortimanagerWeakToken: string;
}

/**
 * Recognisable, per-run credentials (so a secret scan cannot be fooled by a constant that happens
 * to be elsewhere): every value starts with `prefix` and ends in random hex.
 */
export function makeCredentials(prefix = "fwgsecret"): Credentials {
  const r = () => randomBytes(8).toString("hex");
  return {
    opnsenseKey: `${prefix}opnkey${r()}`,
    opnsenseSecret: `${prefix}opnsecret${r()}`,
    opnsenseWeakKey: `${prefix}opnweakkey${r()}`,
    opnsenseWeakSecret: `${prefix}opnweaksecret${r()}`,
    fortigateToken: `${prefix}fgt${r()}`,
    fortigateReadOnlyToken: `${prefix}fgtro${r()}`,
    fortimanagerToken: `${prefix}fmg${r()}`,
    fortimanagerWeakToken: `${prefix}fmgweak${r()}`,
  };
}

export interface Devices {
  readonly opnsense: OpnsenseEmulator;
  readonly fortigate: FortigateEmulator;
  readonly fortimanager: FortimanagerEmulator;
  readonly credentials: Credentials;
  /** Everything a grant could change, as plain JSON (compare before/after). */
  snapshot(): DeviceSnapshot;
  /** Requests with a side effect since the logs were last cleared, per device. */
  sideEffects(): Record<"opnsense" | "fortigate" | "fortimanager", readonly LoggedRequest[]>;
  clearLogs(): void;
  close(): Promise<void>;
}

export interface DeviceSnapshot {
  readonly opnsense: { alias: string; content: string[]; table: string[] }[];
  readonly fortigate: { addresses: string[]; addresses6: string[]; groups: { name: string; members: string[] }[]; groups6: { name: string; members: string[] }[] };
  readonly fortimanager: { userid: string; slots: Record<string, unknown> }[];
}

/** Starts the three emulators (test CA, random ports) with the users of `credentials`. */
export async function startDevices(credentials: Credentials = makeCredentials()): Promise<Devices> {
  const started: { close(): Promise<void> }[] = [];
  try {
    const opnsense = await startOpnsenseEmulator({
      users: [
        { name: "grants", key: credentials.opnsenseKey, secret: credentials.opnsenseSecret, privileges: ["page-diagnostics-tables", "page-firewall-aliases", "page-firewall-alias-edit"], disabled: false },
        { name: "auditor", key: credentials.opnsenseWeakKey, secret: credentials.opnsenseWeakSecret, privileges: ["page-firewall-aliases"], disabled: false },
      ],
    });
    started.push(opnsense);
    const fortigate = await startFortigateEmulator({
      users: [
        { name: "grants-api", token: credentials.fortigateToken, fwgrp: "read-write", vdoms: ["root"] },
        { name: "audit-api", token: credentials.fortigateReadOnlyToken, fwgrp: "read", vdoms: ["root"] },
      ],
      groups: [{ name: "jit-admins" }, { name: "jit-admins6", family: "ipv6" }],
    });
    started.push(fortigate);
    const fortimanager = await startFortimanagerEmulator({
      admins: [
        ...DEFAULT_ADMINS.filter((a) => a.userType !== "api"),
        { userid: "grants-api", userType: "api", apiKey: credentials.fortimanagerToken, profileid: "Super_User" },
        { userid: "audit-api", userType: "api", apiKey: credentials.fortimanagerWeakToken, profileid: "custom_admins" },
      ],
    });
    started.push(fortimanager);
    const devices: Devices = {
      opnsense,
      fortigate,
      fortimanager,
      credentials,
      snapshot: () => snapshot(opnsense, fortigate, fortimanager),
      sideEffects: () => ({ opnsense: opnsense.log.sideEffects(), fortigate: fortigate.log.sideEffects(), fortimanager: fortimanager.log.sideEffects() }),
      clearLogs: () => {
        opnsense.log.clear();
        fortigate.log.clear();
        fortimanager.log.clear();
      },
      close: async () => {
        await Promise.allSettled(started.map((s) => s.close()));
      },
    };
    return devices;
  } catch (e) {
    await Promise.allSettled(started.map((s) => s.close()));
    throw e;
  }
}

function snapshot(opn: OpnsenseEmulator, fgt: FortigateEmulator, fmg: FortimanagerEmulator): DeviceSnapshot {
  const sorted = (xs: Iterable<string>) => [...xs].sort();
  return structuredClone({
    opnsense: [...opn.backend.aliases.values()]
      .filter((a) => !a.builtin)
      .map((a) => ({ alias: a.name, content: sorted(a.content), table: sorted(opn.backend.tableContent(a.name)) }))
      .sort((a, b) => a.alias.localeCompare(b.alias)),
    fortigate: {
      addresses: sorted(fgt.backend.addresses("root", "ipv4").map((a) => `${a.name}=${a.value}`)),
      addresses6: sorted(fgt.backend.addresses("root", "ipv6").map((a) => `${a.name}=${a.value}`)),
      groups: fgt.backend.groups("root", "ipv4").map((g) => ({ name: g.name, members: sorted(g.members) })),
      groups6: fgt.backend.groups("root", "ipv6").map((g) => ({ name: g.name, members: sorted(g.members) })),
    },
    fortimanager: [...fmg.backend.admins.values()].map((a) => ({ userid: a.userid, slots: a.slots })).sort((a, b) => a.userid.localeCompare(b.userid)),
  });
}

export interface StackConfigEntry {
  readonly key: string;
  readonly value: string;
  readonly secret: boolean;
}

/**
 * Stack config that points the provider at the emulators (`opnsense:url`, `opnsense:apiKey`, …).
 * `weakOpnsense` uses the OPNsense key that lacks the grant privileges.
 */
export function stackConfig(d: Devices, opts: { weakOpnsense?: boolean; weakFortigate?: boolean; weakFortimanager?: boolean } = {}): StackConfigEntry[] {
  const c = d.credentials;
  return [
    { key: "opnsense:url", value: d.opnsense.url, secret: false },
    { key: "opnsense:apiKey", value: opts.weakOpnsense ? c.opnsenseWeakKey : c.opnsenseKey, secret: true },
    { key: "opnsense:apiSecret", value: opts.weakOpnsense ? c.opnsenseWeakSecret : c.opnsenseSecret, secret: true },
    { key: "opnsense:caCert", value: d.opnsense.caCert, secret: false },
    { key: "fortigate:url", value: d.fortigate.url, secret: false },
    { key: "fortigate:token", value: opts.weakFortigate ? c.fortigateReadOnlyToken : c.fortigateToken, secret: true },
    { key: "fortigate:caCert", value: d.fortigate.caCert, secret: false },
    { key: "fortimanager:url", value: d.fortimanager.url, secret: false },
    { key: "fortimanager:token", value: opts.weakFortimanager ? c.fortimanagerWeakToken : c.fortimanagerToken, secret: true },
    { key: "fortimanager:username", value: opts.weakFortimanager ? "audit-api" : "grants-api", secret: false },
    { key: "fortimanager:caCert", value: d.fortimanager.caCert, secret: false },
  ];
}

/** The same settings as environment variables (`OPNSENSE_URL`, `FORTIGATE_TOKEN`, …). */
export function deviceEnv(d: Devices, opts: Parameters<typeof stackConfig>[1] = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of stackConfig(d, opts)) {
    const [ns, key] = e.key.split(":") as [string, string];
    env[`${ns}_${key.replace(/([A-Z])/g, "_$1")}`.toUpperCase()] = e.value;
  }
  return env;
}

/**
 * `firewall-grants emulate`: the three device emulators for a user's own CI, seeded with demo users
 * of chosen privileges and demo objects, until SIGINT/SIGTERM. Credentials are random per start
 * (they are the emulators' own, printed on purpose); the test CA, OPNsense key files, `env.sh` and
 * `emulators.json` are written to one directory. `env.sh` is written last, so its existence means
 * the emulators are listening.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { testCaCert, type EmulatorServer } from "../provider/emulator-kit";
import { startFortigateEmulator } from "../provider/fortigate/emulator";
import { startFortimanagerEmulator } from "../provider/fortimanager/emulator";
import { startOpnsenseEmulator } from "../provider/opnsense/emulator";

export interface EmulateOptions {
  readonly host: string;
  readonly opnsensePort: number;
  readonly fortigatePort: number;
  readonly fortimanagerPort: number;
  /** Where the CA, key files, env.sh and emulators.json go. @default a new temporary directory */
  readonly outDir: string | undefined;
  readonly json: boolean;
}

/** What `--json` prints and `emulators.json` holds. */
export interface EmulateInfo {
  readonly caCertFile: string;
  readonly envFile: string;
  readonly opnsense: {
    readonly url: string;
    readonly aliases: readonly string[];
    readonly users: Record<"full" | "underPrivileged", { key: string; secret: string; keyFile: string; privileges: string[] }>;
  };
  readonly fortigate: {
    readonly url: string;
    readonly vdom: string;
    readonly groups: readonly string[];
    readonly users: Record<"readWrite" | "readOnly", { name: string; token: string; access: string }>;
  };
  readonly fortimanager: {
    readonly url: string;
    readonly admins: readonly string[];
    readonly users: { superUserToken: { userid: string; token: string; profile: string }; login: { username: string; password: string; profile: string } };
  };
  readonly env: Record<string, string>;
}

const secret = (bytes = 16) => randomBytes(bytes).toString("hex");
const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/** Starts the three emulators; `close()` stops them. */
export async function startDemoEmulators(opts: EmulateOptions): Promise<{ info: EmulateInfo; close: () => Promise<void> }> {
  const dir = opts.outDir ? path.resolve(opts.outDir) : mkdtempSync(path.join(tmpdir(), "firewall-grants-emulate-"));
  mkdirSync(dir, { recursive: true });
  const servers: EmulatorServer[] = [];
  const close = async () => {
    await Promise.all(servers.map((s) => s.close()));
  };
  const base = { host: opts.host, tls: "test-ca" as const };

  const opnUsers = {
    full: { name: "grants", key: secret(), secret: secret(24), privileges: ["page-diagnostics-tables", "page-firewall-aliases", "page-firewall-alias-edit"], disabled: false },
    underPrivileged: { name: "grants-readonly", key: secret(), secret: secret(24), privileges: ["page-firewall-aliases"], disabled: false },
  };
  const fgtUsers = {
    readWrite: { name: "grants-api", token: secret(15), fwgrp: "read-write" as const, vdoms: ["root"] },
    readOnly: { name: "grants-readonly", token: secret(15), fwgrp: "read" as const, vdoms: ["root"] },
  };
  const fmgToken = secret(16);
  const fmgPassword = secret(12);
  try {
    const opn = await startOpnsenseEmulator({ ...base, port: opts.opnsensePort, users: Object.values(opnUsers) });
    servers.push(opn);
    const fgt = await startFortigateEmulator({ ...base, port: opts.fortigatePort, users: Object.values(fgtUsers), groups: [{ name: "jit-admins" }] });
    servers.push(fgt);
    const fmg = await startFortimanagerEmulator({
      ...base,
      port: opts.fortimanagerPort,
      admins: [
        { userid: "grants-api", userType: "api", apiKey: fmgToken, profileid: "Super_User" },
        { userid: "grants", password: fmgPassword, profileid: "Super_User" },
        { userid: "alice", password: secret(12), profileid: "Restricted_User" },
      ],
    });
    servers.push(fmg);

    const caCertFile = path.join(dir, "ca.pem");
    writeFileSync(caCertFile, testCaCert());
    const keyFile = (name: string, u: { key: string; secret: string }) => {
      const file = path.join(dir, `opnsense-${name}.key`);
      writeFileSync(file, `key=${u.key}\nsecret=${u.secret}\n`, { mode: 0o600 });
      return file;
    };
    const fullKeyFile = keyFile("full", opnUsers.full);
    const underKeyFile = keyFile("under-privileged", opnUsers.underPrivileged);
    const envFile = path.join(dir, "env.sh");
    const env: Record<string, string> = {
      OPNSENSE_URL: opn.url,
      OPNSENSE_API_KEY_FILE: fullKeyFile,
      FORTIGATE_URL: fgt.url,
      FORTIGATE_TOKEN: fgtUsers.readWrite.token,
      FORTIGATE_VDOM: "root",
      FORTIMANAGER_URL: fmg.url,
      FORTIMANAGER_TOKEN: fmgToken,
      FORTIMANAGER_USERNAME: "grants-api",
      FIREWALL_GRANTS_CA_CERT_FILE: caCertFile,
    };
    const info: EmulateInfo = {
      caCertFile,
      envFile,
      opnsense: {
        url: opn.url,
        aliases: ["jit_admins", "jit_nets", "jit_runtime"],
        users: { full: { ...opnUsers.full, keyFile: fullKeyFile }, underPrivileged: { ...opnUsers.underPrivileged, keyFile: underKeyFile } },
      },
      fortigate: {
        url: fgt.url,
        vdom: "root",
        groups: ["jit-admins"],
        users: { readWrite: { name: fgtUsers.readWrite.name, token: fgtUsers.readWrite.token, access: "Firewall read-write" }, readOnly: { name: fgtUsers.readOnly.name, token: fgtUsers.readOnly.token, access: "Firewall read" } },
      },
      fortimanager: {
        url: fmg.url,
        admins: ["alice"],
        users: { superUserToken: { userid: "grants-api", token: fmgToken, profile: "Super_User" }, login: { username: "grants", password: fmgPassword, profile: "Super_User" } },
      },
      env,
    };
    writeFileSync(path.join(dir, "emulators.json"), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    writeFileSync(`${envFile}.tmp`, `${exportLines(info).join("\n")}\n`, { mode: 0o600 });
    renameSync(`${envFile}.tmp`, envFile);
    return { info, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** `export` lines for a POSIX shell; the library reads `<DEVICE>_CA_CERT` as PEM content, so they load the file. */
export function exportLines(info: EmulateInfo): string[] {
  return [
    ...Object.entries(info.env).map(([k, v]) => `export ${k}=${quote(v)}`),
    ...["OPNSENSE", "FORTIGATE", "FORTIMANAGER"].map((d) => `export ${d}_CA_CERT="$(cat ${quote(info.caCertFile)})"`),
  ];
}

/** The human-readable summary `emulate` prints without `--json`. */
export function describe(info: EmulateInfo): string {
  const o = info.opnsense;
  const g = info.fortigate;
  const m = info.fortimanager;
  return [
    "firewall-grants emulators are running (Ctrl-C or SIGTERM stops them)",
    `  test CA            ${info.caCertFile}`,
    "",
    `OPNsense      ${o.url}   aliases: ${o.aliases.join(", ")}`,
    `  full key           ${o.users.full.keyFile}   (${o.users.full.privileges.join(", ")})`,
    `  under-privileged   ${o.users.underPrivileged.keyFile}   (${o.users.underPrivileged.privileges.join(", ")}: preview fails with OPN001)`,
    `FortiGate     ${g.url}   VDOM ${g.vdom}, group: ${g.groups.join(", ")}`,
    `  read-write token   ${g.users.readWrite.token}`,
    `  read-only token    ${g.users.readOnly.token}   (preview fails with 202002)`,
    `FortiManager  ${m.url}   admin: ${m.admins.join(", ")}`,
    `  Super_User token   ${m.users.superUserToken.token}   (API admin ${m.users.superUserToken.userid})`,
    `  login              ${m.users.login.username} / ${m.users.login.password}   (Super_User)`,
    "",
    `# For your shell or CI step:  source ${info.envFile}`,
    ...exportLines(info),
  ].join("\n");
}

/** Runs until SIGINT/SIGTERM, then closes the servers; resolves to the exit code. */
export async function runEmulate(opts: EmulateOptions, out: (line: string) => void): Promise<number> {
  const { info, close } = await startDemoEmulators(opts);
  out(opts.json ? JSON.stringify(info) : describe(info));
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  await close();
  if (!opts.json) out(`stopped (${signal})`);
  return 0;
}

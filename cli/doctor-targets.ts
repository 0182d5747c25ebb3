/**
 * What `firewall-grants doctor` checks: devices from flags, a JSON config file and the environment
 * (flags > config file > environment). Secrets are never taken from a flag or the config file (a
 * flag lands in shell history and `ps`, a config file in git): they come from the environment the
 * library already reads (`OPNSENSE_API_KEY`, `FORTIGATE_TOKEN`, …) or from key/token files.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { z } from "zod";

export type Device = "opnsense" | "fortigate" | "fortimanager";

/** One device to check; `check` inputs are built from it (see doctor.ts). */
export interface OpnsenseTarget {
  readonly device: "opnsense";
  readonly url: string | undefined;
  readonly apiKeyFile: string | undefined;
  readonly alias: string | undefined;
  readonly method: "table" | "config";
  readonly caCert: string | undefined;
  readonly insecure: boolean | undefined;
  readonly timeoutMs: number | undefined;
}
export interface FortigateTarget {
  readonly device: "fortigate";
  readonly url: string | undefined;
  readonly vdom: string | undefined;
  readonly group: string | undefined;
  readonly token: string | undefined;
  readonly caCert: string | undefined;
  readonly insecure: boolean | undefined;
  readonly timeoutMs: number | undefined;
}
export interface FortimanagerTarget {
  readonly device: "fortimanager";
  readonly url: string | undefined;
  readonly adminUser: string | undefined;
  readonly username: string | undefined;
  readonly adom: string | undefined;
  readonly token: string | undefined;
  readonly password: string | undefined;
  readonly caCert: string | undefined;
  readonly insecure: boolean | undefined;
  readonly timeoutMs: number | undefined;
}
export type Target = OpnsenseTarget | FortigateTarget | FortimanagerTarget;

/** A usage problem (exit code 2); its message never holds a secret. */
export class UsageError extends Error {}

const SECRET_KEYS = ["apiKey", "apiSecret", "token", "password", "secret", "key"];
const common = { caCertFile: z.string().min(1).optional(), insecure: z.boolean().optional(), timeoutMs: z.number().int().positive().optional() };
const OpnsenseEntrySchema = z.object({ url: z.string().optional(), apiKeyFile: z.string().min(1).optional(), alias: z.string().optional(), method: z.enum(["table", "config"]).optional(), ...common }).strict();
const FortigateEntrySchema = z.object({ url: z.string().optional(), vdom: z.string().optional(), group: z.string().optional(), tokenFile: z.string().min(1).optional(), ...common }).strict();
const FortimanagerEntrySchema = z
  .object({ url: z.string().optional(), adminUser: z.string().optional(), username: z.string().optional(), adom: z.string().optional(), tokenFile: z.string().min(1).optional(), passwordFile: z.string().min(1).optional(), ...common })
  .strict();
const oneOrMany = <T extends z.ZodType>(s: T) => z.union([s, z.array(s)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.infer<T>[]);

/** The `--config` file: one entry or a list per device; file paths are relative to the file. */
export const DoctorConfigSchema = z
  .object({
    opnsense: oneOrMany(OpnsenseEntrySchema).optional(),
    fortigate: oneOrMany(FortigateEntrySchema).optional(),
    fortimanager: oneOrMany(FortimanagerEntrySchema).optional(),
    caCertFile: z.string().min(1).optional(),
    insecure: z.boolean().optional(),
    address: z.string().optional(),
  })
  .strict();
export type DoctorConfig = z.infer<typeof DoctorConfigSchema>;

/** Parsed `doctor` flags (names as in `--help`). */
export type DoctorFlags = Partial<Record<string, string | boolean | undefined>>;

export interface DoctorPlan {
  readonly targets: readonly Target[];
  /** Address used only to validate and to pick IPv4/IPv6 objects; nothing is written. */
  readonly address: string;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${file} (${(e as { code?: string }).code ?? "error"})`);
  }
}
const firstLine = (file: string, what: string) => readText(file, what).split(/\r?\n/)[0]!.trim();

export function loadConfig(file: string): { config: DoctorConfig; dir: string } {
  let json: unknown;
  try {
    json = JSON.parse(readText(file, "config file"));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`config file ${file} is not valid JSON`);
  }
  const parsed = DoctorConfigSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const where = i.path.map(String).join(".");
      const key = "keys" in i && Array.isArray(i.keys) ? (i.keys as string[]) : [];
      if (key.some((k) => SECRET_KEYS.includes(k))) return `${where || "(top level)"}: secrets are not read from the config file; use the environment or a key/token file (${key.join(", ")})`;
      return `${where || "(top level)"}: ${i.message}`;
    });
    throw new UsageError(`config file ${file}:\n  ${lines.join("\n  ")}`);
  }
  return { config: parsed.data, dir: path.dirname(path.resolve(file)) };
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const env = (name: string): string | undefined => str(process.env[name]);
const int = (v: unknown, flag: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer`);
  return n;
};

/**
 * The devices to check. A device is checked when it has a URL from a flag, the config file or its
 * `<DEVICE>_URL` variable; credentials and anything not given stay undefined so that `check`
 * resolves them from the environment, exactly as in a Pulumi program.
 */
export function planDoctor(flags: DoctorFlags, configFile: { config: DoctorConfig; dir: string } | undefined): DoctorPlan {
  const cfg = configFile?.config ?? {};
  const rel = (p: string | undefined) => (p === undefined ? undefined : configFile ? path.resolve(configFile.dir, p) : p);
  const caFile = str(flags["ca-cert"]) ?? rel(cfg.caCertFile) ?? env("FIREWALL_GRANTS_CA_CERT_FILE");
  const globalCa = caFile ? readText(caFile, "CA file") : undefined;
  const insecure = flags.insecure === true ? true : cfg.insecure;
  const timeoutMs = int(flags["timeout-ms"], "--timeout-ms");
  const caOf = (file: string | undefined) => (file ? readText(rel(file)!, "CA file") : globalCa);
  const targets: Target[] = [];

  const opn = cfg.opnsense ?? [{}];
  opn.forEach((e, i) => {
    const f = i === 0 ? flags : {};
    const url = str(f["opnsense-url"]) ?? e.url ?? (i === 0 ? env("OPNSENSE_URL") : undefined);
    if (!url) return;
    const method = str(f["opnsense-method"]) ?? e.method ?? "table";
    if (method !== "table" && method !== "config") throw new UsageError(`--opnsense-method must be "table" or "config"`);
    targets.push({ device: "opnsense", url, apiKeyFile: str(f["opnsense-key-file"]) ?? rel(e.apiKeyFile), alias: str(f["opnsense-alias"]) ?? e.alias, method, caCert: caOf(e.caCertFile), insecure: insecure ?? e.insecure, timeoutMs: timeoutMs ?? e.timeoutMs });
  });

  (cfg.fortigate ?? [{}]).forEach((e, i) => {
    const f = i === 0 ? flags : {};
    const url = str(f["fortigate-url"]) ?? e.url ?? (i === 0 ? env("FORTIGATE_URL") : undefined);
    if (!url) return;
    const tokenFile = str(f["fortigate-token-file"]) ?? rel(e.tokenFile);
    targets.push({ device: "fortigate", url, vdom: str(f["fortigate-vdom"]) ?? e.vdom, group: str(f["fortigate-group"]) ?? e.group, token: tokenFile ? firstLine(tokenFile, "token file") : undefined, caCert: caOf(e.caCertFile), insecure: insecure ?? e.insecure, timeoutMs: timeoutMs ?? e.timeoutMs });
  });

  (cfg.fortimanager ?? [{}]).forEach((e, i) => {
    const f = i === 0 ? flags : {};
    const url = str(f["fortimanager-url"]) ?? e.url ?? (i === 0 ? env("FORTIMANAGER_URL") : undefined);
    if (!url) return;
    const tokenFile = str(f["fortimanager-token-file"]) ?? rel(e.tokenFile);
    const passwordFile = str(f["fortimanager-password-file"]) ?? rel(e.passwordFile);
    targets.push({
      device: "fortimanager",
      url,
      adminUser: str(f["fortimanager-admin"]) ?? e.adminUser,
      username: str(f["fortimanager-username"]) ?? e.username,
      adom: str(f["fortimanager-adom"]) ?? e.adom,
      token: tokenFile ? firstLine(tokenFile, "token file") : undefined,
      password: passwordFile ? firstLine(passwordFile, "password file") : undefined,
      caCert: caOf(e.caCertFile),
      insecure: insecure ?? e.insecure,
      timeoutMs: timeoutMs ?? e.timeoutMs,
    });
  });

  if (targets.length === 0) {
    throw new UsageError("nothing to check: give a device URL (--opnsense-url, --fortigate-url, --fortimanager-url), a --config file, or OPNSENSE_URL / FORTIGATE_URL / FORTIMANAGER_URL");
  }
  return { targets, address: str(flags.address) ?? cfg.address ?? "192.0.2.1" };
}

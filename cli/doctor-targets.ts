/**
 * What `firewall-grants doctor` checks: devices from flags, a JSON config file and the environment
 * (flags > config file > environment). The flags, config-file keys and inputs come from each device's
 * `doctor` options in the device registry (provider/device-settings.ts). Secrets are never taken from a
 * flag or the config file (a flag lands in shell history and `ps`, a config file in git): they come
 * from the environment the library already reads (`OPNSENSE_API_KEY`, `FORTIGATE_TOKEN`, …) or from
 * key/token files.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { deviceSettingsList, settingEnvName, type DoctorOption, type NamedDeviceSettings } from "../provider/device-settings";
import { inputIssueMessage } from "../provider/core/dynamic-kit";

/** One device to check; `check` inputs are built from it (see doctor.ts). */
export interface Target {
  readonly device: string;
  readonly url: string | undefined;
  /** Option values by `field` (a `secretFile` option's value is the secret read from the file). */
  readonly values: Readonly<Record<string, string | undefined>>;
  readonly caCert: string | undefined;
  readonly insecure: boolean | undefined;
  readonly timeoutMs: number | undefined;
}

/** A usage problem (exit code 2); its message never holds a secret. */
export class UsageError extends Error {}

const SECRET_KEYS = ["apiKey", "apiSecret", "token", "password", "secret", "key"];
const common = { caCertFile: z.string().min(1).optional(), insecure: z.boolean().optional(), timeoutMs: z.number().int().positive().optional() };
const oneOrMany = <T extends z.ZodType>(s: T) => z.union([s, z.array(s)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.infer<T>[]);

/** The flag of a device option: `--opnsense-alias`. */
export const flagOf = (device: string, o: Pick<DoctorOption, "flag">) => `${device}-${o.flag}`;

const entrySchema = (d: NamedDeviceSettings) =>
  z
    .object({
      url: z.string().optional(),
      ...Object.fromEntries(
        d.doctor.options.map((o) => [
          o.field,
          o.choices
            ? z.enum(o.choices as [string, ...string[]]).optional()
            : o.kind === "list"
              ? z
                  .union([
                    z.string().min(1),
                    z
                      .array(z.string().min(1))
                      .min(1)
                      .transform((v) => v.join(",")),
                  ])
                  .optional()
              : z.string().min(1).optional(),
        ]),
      ),
      ...common,
    })
    .strict();

/** The `--config` file: one entry or a list per device; file paths are relative to the file. */
export function doctorConfigSchema(devices: readonly NamedDeviceSettings[] = deviceSettingsList()) {
  return z
    .object({
      ...Object.fromEntries(devices.map((d) => [d.name, oneOrMany(entrySchema(d)).optional()])),
      caCertFile: z.string().min(1).optional(),
      insecure: z.boolean().optional(),
      address: z.string().optional(),
    })
    .strict();
}
type ConfigEntry = { url?: string; caCertFile?: string; insecure?: boolean; timeoutMs?: number } & Record<string, unknown>;
export type DoctorConfig = { caCertFile?: string; insecure?: boolean; address?: string } & Record<string, unknown>;

/** Parsed `doctor` flags (names as in `--help`). */
export type DoctorFlags = Partial<Record<string, string | boolean | undefined>>;

export interface DoctorPlan {
  readonly targets: readonly Target[];
  /** Address used only to validate and to pick IPv4/IPv6 objects; nothing is written. */
  readonly address: string;
  /** Checks given directly (`doctor --stack`: from a stack's state); instead of `targets`. */
  readonly jobs?: readonly CheckJob[];
  /** Lines printed before the checks (where settings came from; never a value of a secret). */
  readonly notes?: readonly string[];
}

/** One `check` to run: a resource of a device with its inputs (from flags and files, or from a stack's state). */
export interface CheckJob {
  readonly device: string;
  /** Resource class name (device registry). */
  readonly resource: string;
  /** The class the heading names when it differs (a set checked as its per-entry resource). */
  readonly shownAs?: string;
  readonly url: string | undefined;
  readonly inputs: Record<string, unknown>;
  /** Why the check cannot run (a missing option): reported as a failure without a request. */
  readonly problem?: string;
}

/** The file's text; `showPath: false` for a secret's file, whose "path" may be the secret given by mistake. */
function readText(file: string, what: string, showPath = true): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code ?? "error";
    throw new UsageError(
      showPath ? `cannot read ${what} ${file} (${code})` : `cannot read ${what} (${code}; the path is not shown, in case it is the secret itself)`,
    );
  }
}
/** The first line of a secret's file (a token, a password); `given` says where its path came from. */
const secretLine = (file: string, given: string) => readText(file, `the file given by ${given}`, false).split(/\r?\n/)[0]!.trim();

export function loadConfig(file: string, devices: readonly NamedDeviceSettings[] = deviceSettingsList()): { config: DoctorConfig; dir: string } {
  let json: unknown;
  try {
    json = JSON.parse(readText(file, "config file"));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`config file ${file} is not valid JSON`);
  }
  // The input error map: a rule per issue, never zod's bare "Invalid input" (an entry is one object or a list, a union).
  const parsed = doctorConfigSchema(devices).safeParse(json, { error: inputIssueMessage });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const where = i.path.map(String).join(".");
      const key = "keys" in i && Array.isArray(i.keys) ? (i.keys as string[]) : [];
      if (key.some((k) => SECRET_KEYS.includes(k)))
        return `${where || "(top level)"}: secrets are not read from the config file; use the environment or a key/token file (${key.join(", ")})`;
      return `${where || "(top level)"}: ${i.message}`;
    });
    throw new UsageError(`config file ${file}:\n  ${lines.join("\n  ")}`);
  }
  return { config: parsed.data as DoctorConfig, dir: path.dirname(path.resolve(file)) };
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
export function planDoctor(
  flags: DoctorFlags,
  configFile: { config: DoctorConfig; dir: string } | undefined,
  devices: readonly NamedDeviceSettings[] = deviceSettingsList(),
): DoctorPlan {
  const cfg = configFile?.config ?? {};
  const rel = (p: string | undefined) => (p === undefined ? undefined : configFile ? path.resolve(configFile.dir, p) : p);
  const caFile = str(flags["ca-cert"]) ?? rel(cfg.caCertFile) ?? env("FIREWALL_GRANTS_CA_CERT_FILE");
  const globalCa = caFile ? readText(caFile, "CA file") : undefined;
  const insecure = flags.insecure === true ? true : cfg.insecure;
  const timeoutMs = int(flags["timeout-ms"], "--timeout-ms");
  const caOf = (file: string | undefined) => (file ? readText(rel(file)!, "CA file") : globalCa);
  const targets: Target[] = [];

  for (const d of devices) {
    const entries = (cfg[d.name] as ConfigEntry[] | undefined) ?? [{}];
    entries.forEach((e, i) => {
      const f = i === 0 ? flags : {};
      const url = str(f[`${d.name}-url`]) ?? e.url ?? (i === 0 ? env(settingEnvName(d.name, "url")) : undefined);
      if (!url) return;
      const values: Record<string, string | undefined> = {};
      for (const o of d.doctor.options) {
        const flagged = str(f[flagOf(d.name, o)]);
        const given = flagged ?? (o.kind === "string" || o.kind === "list" ? str(e[o.field]) : rel(str(e[o.field])));
        const value = given ?? o.default;
        if (value !== undefined && o.choices && !o.choices.includes(value))
          throw new UsageError(`--${flagOf(d.name, o)} must be ${o.choices.map((c) => `"${c}"`).join(" or ")}`);
        const source = flagged !== undefined ? `--${flagOf(d.name, o)}` : `${d.name}.${o.field} in the config file`;
        values[o.field] = o.kind === "secretFile" && value !== undefined ? secretLine(value, source) : value;
      }
      targets.push({ device: d.name, url, values, caCert: caOf(e.caCertFile), insecure: insecure ?? e.insecure, timeoutMs: timeoutMs ?? e.timeoutMs });
    });
  }

  if (targets.length === 0) {
    const urlFlags = devices.map((d) => `--${d.name}-url`).join(", ");
    const urlEnv = devices.map((d) => settingEnvName(d.name, "url")).join(" / ");
    throw new UsageError(`nothing to check: give a device URL (${urlFlags}), a --config file, or ${urlEnv}`);
  }
  return { targets, address: str(flags.address) ?? cfg.address ?? "192.0.2.1" };
}

/** Whether an `input` option belongs to `resource` (class name; default the device's first resource). */
export function optionFor(d: NamedDeviceSettings, o: DoctorOption, resource: string): boolean {
  if (o.into !== "input") return true;
  return (o.resources ?? [d.resources[0]?.className]).includes(resource);
}

/** The resources of a device `doctor` checks for a target: the first always, another when one of its own options is given. */
export function resourcesToCheck(d: NamedDeviceSettings, t: Target): string[] {
  const first = d.resources[0]?.className;
  return d.resources
    .map((r) => r.className)
    .filter((c) => c === first || d.doctor.options.some((o) => o.into === "input" && o.resources?.includes(c) && t.values[o.field] !== undefined));
}

/** The option of `resource` that is required and missing for `t`, if any. */
export function missingOption(d: NamedDeviceSettings, t: Target, resource: string): DoctorOption | undefined {
  return d.doctor.options.find((o) => o.required !== undefined && optionFor(d, o, resource) && t.values[o.field] === undefined);
}

/**
 * The `check` inputs of a target for one of the device's resources (default its first): each option
 * of that resource where its declaration puts it (a `list` as an array), plus the device's fixed
 * inputs for its first resource.
 */
export function doctorInputs(d: NamedDeviceSettings, t: Target, address: string, resource: string = d.resources[0]?.className ?? ""): Record<string, unknown> {
  const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const value = (o: DoctorOption) => {
    const v = t.values[o.field];
    return o.kind === "list" && v !== undefined
      ? v
          .split(",")
          .map((x) => x.trim())
          .filter((x) => x !== "")
      : v;
  };
  const place = (into: DoctorOption["into"]) =>
    defined(Object.fromEntries(d.doctor.options.filter((o) => o.into === into && optionFor(d, o, resource)).map((o) => [o.input ?? o.field, value(o)])));
  const credentials = place("credentials");
  return defined({
    connection: defined({ url: t.url, ...place("connection"), caCert: t.caCert, insecure: t.insecure, timeoutMs: t.timeoutMs }),
    credentials: Object.keys(credentials).length > 0 ? credentials : undefined,
    ...(resource === d.resources[0]?.className ? d.doctor.fixed : undefined),
    ...place("input"),
    address,
  });
}

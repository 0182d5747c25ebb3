#!/usr/bin/env node
/**
 * The `firewall-grants` command: `doctor` (the preview permission preflight, run on its own) and
 * `emulate` (the device emulators for a user's CI). Arguments are parsed with node:util parseArgs.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { deviceSettingsList, environmentNames, settingKeys, type NamedDeviceSettings } from "../provider/device-settings";
import { Redactor } from "../provider/core/redaction";
import { flagOf, loadConfig, planDoctor, UsageError, type DoctorFlags, type DoctorPlan } from "./doctor-targets";
import { helpTexts, usage } from "./help";
// doctor and emulate are loaded on use: doctor pulls in @pulumi/pulumi, which takes seconds to load.

type Options = NonNullable<ParseArgsConfig["options"]>;

/** `doctor` flags: `--<device>-url` and each device's doctor options (device registry), then the common ones. */
export function doctorOptions(devices: readonly NamedDeviceSettings[] = deviceSettingsList()): Options {
  return {
    config: { type: "string" },
    stack: { type: "string" },
    ...Object.fromEntries(
      devices.flatMap((d) => [[`${d.name}-url`, { type: "string" }], ...d.doctor.options.map((o) => [flagOf(d.name, o), { type: "string" }])]),
    ),
    address: { type: "string" },
    "ca-cert": { type: "string" },
    insecure: { type: "boolean" },
    "timeout-ms": { type: "string" },
    help: { type: "boolean", short: "h" },
  };
}

/** `emulate` flags: `--<device>-port` per registered device. */
export function emulateOptions(devices: readonly NamedDeviceSettings[] = deviceSettingsList()): Options {
  return {
    host: { type: "string", default: "127.0.0.1" },
    ...Object.fromEntries(devices.map((d) => [`${d.name}-port`, { type: "string", default: "0" }])),
    "out-dir": { type: "string" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  };
}

const kebab = (key: string) => key.replace(/([A-Z])/g, "-$1").toLowerCase();
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Flags that would carry a secret on the command line (each device's secret settings, and the generic names): refused with a pointer to the safe way. */
export function secretFlag(devices: readonly NamedDeviceSettings[] = deviceSettingsList()): RegExp {
  const names = devices.flatMap((d) =>
    d.settings.filter((s) => s.secret).flatMap((s) => [`${d.name}-${kebab(s.key)}`, `${d.name}-${kebab(s.key).replace(/^api-/, "")}`]),
  );
  return new RegExp(`^--(${[...new Set(names)].map(escape).join("|")}|token|password|secret|api-key|api-secret)(=|$)`);
}

/**
 * Every secret this process knows — the environment's, the secret files `doctor` read, the stack
 * config `doctor --stack` loaded — is removed from everything the command prints, by the library's one
 * redaction (provider/core/redaction.ts): a setting given in the wrong place, or a device message echoing
 * it, is never shown.
 */
const redactor = new Redactor();
const write = (line: string) => process.stdout.write(`${redactor.redact(line)}\n`);
const writeErr = (line: string) => process.stderr.write(`${redactor.redact(line)}\n`);

/** The secrets of the environment, of a flag plan's secret files and of a stack's config, for {@link redactor}. */
function knownSecrets(plan?: DoctorPlan, config?: Readonly<Record<string, string>>, devices: readonly NamedDeviceSettings[] = deviceSettingsList()): string[] {
  const env = environmentNames(devices)
    .filter((e) => e.secret)
    .map((e) => process.env[e.name] ?? "");
  const files = (plan?.targets ?? []).flatMap((t) =>
    (devices.find((d) => d.name === t.device)?.doctor.options ?? []).filter((o) => o.kind === "secretFile").map((o) => t.values[o.field] ?? ""),
  );
  const stack = devices.flatMap((d) =>
    settingKeys(d)
      .filter((k) => k.secret)
      .map((k) => config?.[`${d.name}:${k.key}`] ?? ""),
  );
  return [...env, ...files, ...stack];
}

/**
 * parseArgs, with refusals that never show an argument's text: a stray argument or an unknown option
 * may be a secret pasted in the wrong place, so it is named by its position only.
 */
function parseCommand(command: string, args: readonly string[], options: Options) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL" && code !== "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw e;
    const { tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });
    const bad = tokens.find((t) => t.kind === "positional" || (t.kind === "option" && !(t.name in options)));
    // Numbered as the user counts them: the command is argument 1.
    const where = bad ? `argument ${bad.index + 2}` : "an argument";
    const what = code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? "is an unknown option" : `is not an option (${command} takes no positional arguments)`;
    throw new UsageError(`${where} ${what}; it is not shown, since it may be a secret`);
  }
}

function port(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} must be a port number (0 picks a free one)`);
  return n;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const HELP = helpTexts();
  const USAGE = usage();
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    const topic = command === "help" ? rest[0] : undefined;
    if (topic !== undefined && !(topic in HELP)) {
      writeErr(`unknown help topic (argument 2, not shown: it may be a secret)\n\n${USAGE}`);
      return 2;
    }
    write(topic ? HELP[topic as keyof typeof HELP] : USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === "--version" || command === "-v") {
    write((require("../../package.json") as { version: string }).version);
    return 0;
  }
  for (const s of knownSecrets()) redactor.add(s);
  try {
    const refused = rest.find((a) => secretFlag().test(a));
    if (refused !== undefined) {
      const secrets = environmentNames()
        .filter((e) => e.secret)
        .map((e) => e.name);
      throw new UsageError(
        `${refused.split("=")[0]}: secrets are never taken from flags (shell history, ps); use the environment (${secrets.join(", ")}) or a key/token file`,
      );
    }
    if (command === "doctor") {
      const { values } = parseCommand(command, rest, doctorOptions());
      if (values.help) return (write(HELP.doctor), 0);
      let plan;
      if (typeof values.stack === "string") {
        if (Object.entries(values).some(([k, v]) => v !== undefined && !["stack", "address", "help"].includes(k)))
          throw new UsageError("--stack takes the targets, URLs and settings from the stack; give no other option than --address");
        const { stackPlan } = await import("./doctor-stack");
        const { processState } = await import("../provider/core/process-state");
        plan = stackPlan(values.stack, typeof values.address === "string" ? values.address : "192.0.2.1", (config) => {
          for (const s of knownSecrets(undefined, config)) redactor.add(s);
          processState().config = config;
        });
      } else {
        const config = typeof values.config === "string" ? loadConfig(values.config) : undefined;
        plan = planDoctor(values as DoctorFlags, config);
        for (const s of knownSecrets(plan)) redactor.add(s);
      }
      const { runDoctor } = await import("./doctor");
      return await runDoctor(plan, write);
    }
    if (command === "emulate") {
      const { values } = parseCommand(command, rest, emulateOptions());
      if (values.help) return (write(HELP.emulate), 0);
      const options = {
        host: String(values.host),
        ports: Object.fromEntries(deviceSettingsList().map((d) => [d.name, port(String(values[`${d.name}-port`]), `--${d.name}-port`)])),
        outDir: typeof values["out-dir"] === "string" ? values["out-dir"] : undefined,
        json: values.json === true,
      };
      const { runEmulate } = await import("./emulate");
      return await runEmulate(options, write);
    }
    throw new UsageError(`unknown command (argument 1, not shown: it may be a secret); the commands are doctor and emulate`);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (e instanceof UsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"))) {
      writeErr(`firewall-grants: ${(e as Error).message}\nRun "firewall-grants --help" for usage.`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      writeErr(`firewall-grants: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    },
  );
}

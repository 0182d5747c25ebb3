#!/usr/bin/env node
/**
 * The `firewall-grants` command: `doctor` (the preview permission preflight, run on its own) and
 * `emulate` (the device emulators for a user's CI). Arguments are parsed with node:util parseArgs.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { loadConfig, planDoctor, UsageError } from "./doctor-targets";
import { HELP, USAGE } from "./help";
// doctor and emulate are loaded on use: doctor pulls in @pulumi/pulumi, which takes seconds to load.

const DOCTOR_OPTIONS = {
  config: { type: "string" },
  "opnsense-url": { type: "string" },
  "opnsense-key-file": { type: "string" },
  "opnsense-alias": { type: "string" },
  "opnsense-method": { type: "string" },
  "fortigate-url": { type: "string" },
  "fortigate-token-file": { type: "string" },
  "fortigate-vdom": { type: "string" },
  "fortigate-group": { type: "string" },
  "fortimanager-url": { type: "string" },
  "fortimanager-admin": { type: "string" },
  "fortimanager-username": { type: "string" },
  "fortimanager-adom": { type: "string" },
  "fortimanager-token-file": { type: "string" },
  "fortimanager-password-file": { type: "string" },
  address: { type: "string" },
  "ca-cert": { type: "string" },
  insecure: { type: "boolean" },
  "timeout-ms": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

const EMULATE_OPTIONS = {
  host: { type: "string", default: "127.0.0.1" },
  "opnsense-port": { type: "string", default: "0" },
  "fortigate-port": { type: "string", default: "0" },
  "fortimanager-port": { type: "string", default: "0" },
  "out-dir": { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

/** Flags that would carry a secret on the command line: refused with a pointer to the safe way. */
const SECRET_FLAG = /^--(opnsense-(api-)?(key|secret)|fortigate-token|fortimanager-(token|password)|token|password|secret|api-key|api-secret)(=|$)/;

const write = (line: string) => process.stdout.write(`${line}\n`);
const writeErr = (line: string) => process.stderr.write(`${line}\n`);

function port(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} must be a port number (0 picks a free one)`);
  return n;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    const topic = command === "help" ? rest[0] : undefined;
    if (topic !== undefined && !(topic in HELP)) {
      writeErr(`unknown command "${topic}"\n\n${USAGE}`);
      return 2;
    }
    write(topic ? HELP[topic as keyof typeof HELP] : USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === "--version" || command === "-v") {
    write((require("../../package.json") as { version: string }).version);
    return 0;
  }
  try {
    const secretFlag = rest.find((a) => SECRET_FLAG.test(a));
    if (secretFlag !== undefined) {
      throw new UsageError(`${secretFlag.split("=")[0]}: secrets are never taken from flags (shell history, ps); use the environment (OPNSENSE_API_KEY/OPNSENSE_API_SECRET, FORTIGATE_TOKEN, FORTIMANAGER_TOKEN/FORTIMANAGER_PASSWORD) or a key/token file`);
    }
    if (command === "doctor") {
      const { values } = parseArgs({ args: [...rest], options: DOCTOR_OPTIONS, strict: true, allowPositionals: false });
      if (values.help) return (write(HELP.doctor), 0);
      const config = values.config ? loadConfig(values.config) : undefined;
      const plan = planDoctor(values, config);
      const { runDoctor } = await import("./doctor");
      return await runDoctor(plan, write);
    }
    if (command === "emulate") {
      const { values } = parseArgs({ args: [...rest], options: EMULATE_OPTIONS, strict: true, allowPositionals: false });
      if (values.help) return (write(HELP.emulate), 0);
      const options = {
        host: values.host,
        opnsensePort: port(values["opnsense-port"], "--opnsense-port"),
        fortigatePort: port(values["fortigate-port"], "--fortigate-port"),
        fortimanagerPort: port(values["fortimanager-port"], "--fortimanager-port"),
        outDir: values["out-dir"],
        json: values.json,
      };
      const { runEmulate } = await import("./emulate");
      return await runEmulate(options, write);
    }
    throw new UsageError(`unknown command "${command}"`);
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

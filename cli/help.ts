/**
 * Usage texts of `firewall-grants` (README.md, "The firewall-grants command", has the longer version).
 * Device flags and variables come from the device registry (provider/device-settings.ts).
 */
import { deviceSettingsList, displayNames, environmentNames, settingEnvName, type NamedDeviceSettings } from "../provider/device-settings";
import { flagOf } from "./doctor-targets";

export function usage(devices: readonly NamedDeviceSettings[] = deviceSettingsList()): string {
  return `Usage: firewall-grants <command> [options]

Commands:
  doctor     Run the permission preflight that \`pulumi preview\` runs, against your devices,
             and print one line per check with the diagnosis of each failure.
  emulate    Start the ${displayNames(devices)} emulators (for your CI) and print
             their URLs, credentials and CA file.
  help <command>   Show the options of a command.

Exit codes: 0 success, 1 a check failed, 2 usage error.`;
}

const line = (flag: string, help: string) => `  ${flag.padEnd(33)}${help}`;

function doctor(devices: readonly NamedDeviceSettings[]): string {
  const secrets = environmentNames(devices)
    .filter((e) => e.secret || e.key.endsWith("File"))
    .map((e) => e.name);
  const plain = devices.flatMap((d) => [
    settingEnvName(d.name, "url"),
    ...d.settings.filter((s) => !s.secret && !s.key.endsWith("File")).map((s) => settingEnvName(d.name, s.key)),
  ]);
  const deviceLines = devices.flatMap((d) => [
    line(`--${d.name}-url <url>`, "https://host[:port]"),
    ...d.doctor.options.map((o) => line(`--${flagOf(d.name, o)} ${o.arg}`, o.help)),
  ]);
  return `Usage: firewall-grants doctor [options]

Runs each device's provider \`check\`: the same validation and side-effect-free permission
preflight (authentication, read of the target, write privilege) that \`pulumi preview\` runs.
Nothing on the device is changed. Exit code 0 when every check passed, 1 otherwise.

Secrets are NEVER taken from flags or the config file. Give them in the environment
(${secrets.join(", ")}) or in files (below).
URLs and other settings fall back to ${plain.join(", ")}.
A device is checked when it has a URL (flag, config file or environment).

Options:
${line("--stack <name>", "check every target the stack's state names, with the settings")}
${line("", "and credentials it would use (its config via `pulumi config")}
${line("", "--show-secrets`, then the environment); needs `pulumi` on PATH")}
${line("--config <file>", `JSON file: {${devices.map((d) => `"${d.name}": {...} | [...]`).join(", ")}}`)}
${deviceLines.join("\n")}
${line("--address <ip>", "address to validate and pick IPv4/IPv6 with (default 192.0.2.1)")}
${line("--ca-cert <file>", "PEM CA to trust (also FIREWALL_GRANTS_CA_CERT_FILE)")}
${line("--insecure", "skip TLS verification (lab only)")}
${line("--timeout-ms <n>", "per-request timeout (default 15000)")}

Each resource's declared preflight steps are printed with ✔ (passed), ✘ (failed, with the
diagnosis) or · (not run); <DEVICE>_PREFLIGHT=read skips the write steps, as \`check\` does.

Examples:
  firewall-grants doctor --stack prod          # in the Pulumi project's directory
  OPNSENSE_API_KEY_FILE=~/fw1.key firewall-grants doctor --opnsense-url https://fw1.example.net \\
    --opnsense-alias jit_admins --fortigate-url https://fgt.example.net --fortigate-group jit-admins`;
}

function emulate(devices: readonly NamedDeviceSettings[]): string {
  return `Usage: firewall-grants emulate [options]

Starts HTTPS emulators of ${displayNames(devices)}, seeded with demo users
(OPNsense full and under-privileged keys, FortiGate read-write and read-only tokens,
FortiManager Super_User API key and login user) and objects (alias jit_admins, group
jit-admins, administrator alice). Credentials are random per start. Writes ca.pem, the
OPNsense key files, emulators.json and env.sh (written last: it means "ready") to --out-dir.
Runs until SIGINT/SIGTERM, then exits 0.

Options:
${line("--host <addr>", "listen address (default 127.0.0.1)")}
${devices.map((d) => line(`--${d.name}-port <n>`, "default 0 (a free port)")).join("\n")}
${line("--out-dir <dir>", "where files go (default a new temporary directory)")}
${line("--json", "print one JSON line (URLs, credentials, CA file, env) instead of text")}

Example (CI):
  firewall-grants emulate --out-dir .emu &
  until [ -f .emu/env.sh ]; do sleep 0.2; done; . .emu/env.sh
  firewall-grants doctor --opnsense-alias jit_admins --fortigate-group jit-admins --fortimanager-admin alice`;
}

/** `help <command>` texts. */
export function helpTexts(devices: readonly NamedDeviceSettings[] = deviceSettingsList()): { readonly doctor: string; readonly emulate: string } {
  return { doctor: doctor(devices), emulate: emulate(devices) };
}

/** Usage texts of `firewall-grants` (README.md, "The firewall-grants command", has the longer version). */

export const USAGE = `Usage: firewall-grants <command> [options]

Commands:
  doctor     Run the permission preflight that \`pulumi preview\` runs, against your devices,
             and print one line per check with the diagnosis of each failure.
  emulate    Start the OPNsense, FortiGate and FortiManager emulators (for your CI) and print
             their URLs, credentials and CA file.
  help <command>   Show the options of a command.

Exit codes: 0 success, 1 a check failed, 2 usage error.`;

const DOCTOR = `Usage: firewall-grants doctor [options]

Runs each device's provider \`check\`: the same validation and side-effect-free permission
preflight (authentication, read of the target, write privilege) that \`pulumi preview\` runs.
Nothing on the device is changed. Exit code 0 when every check passed, 1 otherwise.

Secrets are NEVER taken from flags or the config file. Give them in the environment
(OPNSENSE_API_KEY + OPNSENSE_API_SECRET or OPNSENSE_API_KEY_FILE, FORTIGATE_TOKEN,
FORTIMANAGER_TOKEN or FORTIMANAGER_USERNAME + FORTIMANAGER_PASSWORD) or in files (below).
URLs and other settings fall back to OPNSENSE_URL, FORTIGATE_URL, FORTIGATE_VDOM, FORTIMANAGER_URL, …
A device is checked when it has a URL (flag, config file or environment).

Options:
  --config <file>                  JSON file: {"opnsense": {...} | [...], "fortigate": ..., "fortimanager": ...}
  --opnsense-url <url>             https://host[:port]
  --opnsense-key-file <file>       the API key file OPNsense downloads (key=..., secret=...)
  --opnsense-alias <name>          alias to grant into (required for OPNsense)
  --opnsense-method <table|config> privilege checked: table (default) or config
  --fortigate-url <url>
  --fortigate-token-file <file>    file whose first line is the REST API token
  --fortigate-vdom <name>          default root
  --fortigate-group <name>         address group the grants join (checks it exists)
  --fortimanager-url <url>
  --fortimanager-admin <userid>    administrator whose trusted hosts change (required)
  --fortimanager-username <id>     login user, or the API administrator's id with a token
  --fortimanager-token-file <file> file whose first line is the API key
  --fortimanager-password-file <file>
  --fortimanager-adom <name>
  --address <ip>                   address to validate and pick IPv4/IPv6 with (default 192.0.2.1)
  --ca-cert <file>                 PEM CA to trust (also FIREWALL_GRANTS_CA_CERT_FILE)
  --insecure                       skip TLS verification (lab only)
  --timeout-ms <n>                 per-request timeout (default 15000)

Example:
  OPNSENSE_API_KEY_FILE=~/fw1.key firewall-grants doctor --opnsense-url https://fw1.example.net \\
    --opnsense-alias jit_admins --fortigate-url https://fgt.example.net --fortigate-group jit-admins`;

const EMULATE = `Usage: firewall-grants emulate [options]

Starts HTTPS emulators of OPNsense, FortiGate and FortiManager, seeded with demo users
(OPNsense full and under-privileged keys, FortiGate read-write and read-only tokens,
FortiManager Super_User API key and login user) and objects (alias jit_admins, group
jit-admins, administrator alice). Credentials are random per start. Writes ca.pem, the
OPNsense key files, emulators.json and env.sh (written last: it means "ready") to --out-dir.
Runs until SIGINT/SIGTERM, then exits 0.

Options:
  --host <addr>               listen address (default 127.0.0.1)
  --opnsense-port <n>         default 0 (a free port); also --fortigate-port, --fortimanager-port
  --out-dir <dir>             where files go (default a new temporary directory)
  --json                      print one JSON line (URLs, credentials, CA file, env) instead of text

Example (CI):
  firewall-grants emulate --out-dir .emu &
  until [ -f .emu/env.sh ]; do sleep 0.2; done; . .emu/env.sh
  firewall-grants doctor --opnsense-alias jit_admins --fortigate-group jit-admins --fortimanager-admin alice`;

export const HELP = { doctor: DOCTOR, emulate: EMULATE } as const;

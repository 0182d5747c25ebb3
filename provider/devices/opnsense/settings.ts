/**
 * OPNsense's data half: the settings the provider reads, the resources it publishes and the `doctor`
 * options. Data only (no code import), so that the CLI's flag parser reads it without loading
 * `@pulumi/pulumi`; provider/device-settings.ts lists it, ./device.ts is the code half.
 */
import type { DeviceSettings } from "../../core/device-data";

export const OPNSENSE_SETTINGS = {
  displayName: "OPNsense",
  settings: [{ key: "apiKey", secret: true }, { key: "apiSecret", secret: true }, { key: "apiKeyFile" }],
  resources: [{ className: "OpnsenseAliasEntry", providerExport: "opnsenseAliasEntryProvider", module: "opnsense", type: "AliasEntry" }],
  sets: [
    { className: "OpnsenseAliasSet", providerExport: "opnsenseAliasSetProvider", module: "opnsense", type: "AliasSet", checkedAs: "OpnsenseAliasEntry" },
    { className: "OpnsenseAliasGuard", providerExport: "opnsenseAliasSetProvider", module: "opnsense", type: "AliasGuard", checkedAs: "OpnsenseAliasEntry" },
  ],
  policyTargets: [{ key: "opnsenseAliases", what: "alias", inputs: ["alias"], resources: ["OpnsenseAliasEntry", "OpnsenseAliasSet"] }],
  doctor: {
    options: [
      {
        flag: "key-file",
        field: "apiKeyFile",
        kind: "path",
        into: "connection",
        arg: "<file>",
        help: "the API key file OPNsense downloads (key=..., secret=...)",
      },
      { flag: "alias", field: "alias", kind: "string", into: "input", arg: "<name>", help: "alias to grant into (required for OPNsense)", required: "alias" },
      {
        flag: "method",
        field: "method",
        kind: "string",
        into: "input",
        arg: "<table|config>",
        help: "privilege checked: table (default) or config",
        choices: ["table", "config"],
        default: "table",
      },
    ],
  },
} as const satisfies DeviceSettings;

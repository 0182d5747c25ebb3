/**
 * Toy Firewall's data half: the settings the provider reads, the resources it publishes and the `doctor`
 * options. Data only (no code import), so that the CLI's flag parser reads it without loading
 * `@pulumi/pulumi`; provider/device-settings.ts lists it, ./device.ts is the code half.
 */
import type { DeviceSettings } from "../../core/device-data";

export const TOYFW_SETTINGS = {
  displayName: "Toy Firewall",
  settings: [{ key: "token", secret: true }],
  resources: [{ className: "ToyfwListEntry", providerExport: "toyfwListEntryProvider", module: "toyfw", type: "ListEntry" }],
  // The policy pack's allowed-targets rule: `targets: { toyfwLists: ["jit*"] }` restricts the lists a program may grant into.
  policyTargets: [{ key: "toyfwLists", what: "list", inputs: ["list"], resources: ["ToyfwListEntry"] }],
  doctor: {
    options: [
      {
        flag: "token-file",
        field: "tokenFile",
        kind: "secretFile",
        into: "credentials",
        input: "token",
        arg: "<file>",
        help: "file whose first line is the API token",
      },
      { flag: "list", field: "list", kind: "string", into: "input", arg: "<name>", help: "list to grant into (required for Toy Firewall)", required: "list" },
    ],
  },
} as const satisfies DeviceSettings;

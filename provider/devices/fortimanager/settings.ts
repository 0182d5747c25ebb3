/**
 * FortiManager's data half: the settings the provider reads, the resources it publishes and the `doctor`
 * options. Data only (no code import), so that the CLI's flag parser reads it without loading
 * `@pulumi/pulumi`; provider/device-settings.ts lists it, ./device.ts is the code half.
 */
import type { DeviceSettings } from "../../core/device-data";

export const FORTIMANAGER_SETTINGS = {
  displayName: "FortiManager",
  settings: [{ key: "token", secret: true }, { key: "username" }, { key: "password", secret: true }, { key: "adom" }],
  resources: [
    { className: "FortimanagerTrustedHost", providerExport: "fortimanagerTrustedHostProvider", module: "fortimanager", type: "TrustedHost" },
    { className: "FortimanagerFeedEntry", providerExport: "fortimanagerFeedEntryProvider", module: "fortimanager", type: "FeedEntry" },
  ],
  sets: [
    {
      className: "FortimanagerTrustedHostSet",
      providerExport: "fortimanagerTrustedHostSetProvider",
      module: "fortimanager",
      type: "TrustedHostSet",
      checkedAs: "FortimanagerTrustedHost",
    },
    {
      className: "FortimanagerTrustedHostGuard",
      providerExport: "fortimanagerTrustedHostSetProvider",
      module: "fortimanager",
      type: "TrustedHostGuard",
      checkedAs: "FortimanagerTrustedHost",
    },
    {
      className: "FortimanagerFeedSet",
      providerExport: "fortimanagerFeedSetProvider",
      module: "fortimanager",
      type: "FeedSet",
      checkedAs: "FortimanagerFeedEntry",
    },
  ],
  policyTargets: [
    { key: "fortimanagerAdmins", what: "administrator", inputs: ["adminUser"], resources: ["FortimanagerTrustedHost", "FortimanagerTrustedHostSet"] },
    { key: "feeds", what: "feed", inputs: ["feed"], resources: ["FortimanagerFeedEntry", "FortimanagerFeedSet"] },
  ],
  doctor: {
    options: [
      {
        flag: "admin",
        field: "adminUser",
        kind: "string",
        into: "input",
        arg: "<userid>",
        help: "administrator whose trusted hosts change (required)",
        required: "administrator",
      },
      {
        flag: "username",
        field: "username",
        kind: "string",
        into: "connection",
        arg: "<id>",
        help: "login user, or the API administrator's id with a token",
      },
      {
        flag: "token-file",
        field: "tokenFile",
        kind: "secretFile",
        into: "credentials",
        input: "token",
        arg: "<file>",
        help: "file whose first line is the API key",
      },
      {
        flag: "password-file",
        field: "passwordFile",
        kind: "secretFile",
        into: "credentials",
        input: "password",
        arg: "<file>",
        help: "file whose first line is the login password",
      },
      { flag: "adom", field: "adom", kind: "string", into: "connection", arg: "<name>", help: "ADOM named in diagnoses" },
      {
        flag: "feed",
        field: "feed",
        kind: "string",
        into: "input",
        arg: "<name>",
        help: "push threat feed of FortimanagerFeedEntry grants (with --fortimanager-devices)",
        required: "feed",
        resources: ["FortimanagerFeedEntry"],
      },
      {
        flag: "devices",
        field: "devices",
        kind: "list",
        into: "input",
        arg: "<a,b>",
        help: "managed FortiGates that hold the feed",
        required: "device list",
        resources: ["FortimanagerFeedEntry"],
      },
    ],
  },
} as const satisfies DeviceSettings;

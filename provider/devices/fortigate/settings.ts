/**
 * FortiGate's data half: the settings the provider reads, the resources it publishes and the `doctor`
 * options. Data only (no code import), so that the CLI's flag parser reads it without loading
 * `@pulumi/pulumi`; provider/device-settings.ts lists it, ./device.ts is the code half.
 */
import type { DeviceSettings } from "../../core/device-data";

export const FORTIGATE_SETTINGS = {
  displayName: "FortiGate",
  settings: [{ key: "token", secret: true }, { key: "vdom" }],
  resources: [
    { className: "FortigateAddress", providerExport: "fortigateAddressProvider", module: "fortigate", type: "Address" },
    { className: "FortigateFeedEntry", providerExport: "fortigateFeedEntryProvider", module: "fortigate", type: "FeedEntry" },
  ],
  sets: [
    {
      className: "FortigateAddressSet",
      providerExport: "fortigateAddressSetProvider",
      module: "fortigate",
      type: "AddressSet",
      checkedAs: "FortigateAddress",
    },
    {
      className: "FortigateGroupGuard",
      providerExport: "fortigateAddressSetProvider",
      module: "fortigate",
      type: "GroupGuard",
      checkedAs: "FortigateAddress",
    },
    { className: "FortigateFeedSet", providerExport: "fortigateFeedSetProvider", module: "fortigate", type: "FeedSet", checkedAs: "FortigateFeedEntry" },
  ],
  policyTargets: [
    // An address object outside any group grants nothing by itself: the group (and IPv6 group) is the target.
    { key: "fortigateGroups", what: "address group", inputs: ["group", "group6"], resources: ["FortigateAddress", "FortigateAddressSet"] },
    { key: "feeds", what: "feed", inputs: ["feed"], resources: ["FortigateFeedEntry", "FortigateFeedSet"] },
  ],
  doctor: {
    options: [
      {
        flag: "token-file",
        field: "tokenFile",
        kind: "secretFile",
        into: "credentials",
        input: "token",
        arg: "<file>",
        help: "file whose first line is the REST API token",
      },
      { flag: "vdom", field: "vdom", kind: "string", into: "connection", arg: "<name>", help: "default root" },
      { flag: "group", field: "group", kind: "string", into: "input", arg: "<name>", help: "address group the grants join (checks it exists)" },
      {
        flag: "feed",
        field: "feed",
        kind: "string",
        into: "input",
        arg: "<name>",
        help: "push threat feed of FortigateFeedEntry grants (checks it)",
        required: "feed",
        resources: ["FortigateFeedEntry"],
      },
    ],
    fixed: { name: "grants-doctor" },
  },
} as const satisfies DeviceSettings;

/**
 * pulumi-firewall-grants: Pulumi resources that declare network-access grants on OPNsense,
 * FortiGate and FortiManager. This module is the public surface: what a Pulumi program uses — the
 * resources, their argument and output types, the provider objects (tests, benchmarks and the CLI drive
 * them directly) and the diagnosis types and guards. Internals (transport, process state, zod schemas,
 * clients) are not exported; the emulators have their own entry point, `pulumi-firewall-grants/emulator`.
 */
export {
  FirewallGrantsError,
  GrantError,
  TransportError,
  DeviceError,
  isFirewallGrantsError,
  isGrantError,
  isTransportError,
  isDeviceError,
  type TransportErrorKind,
  type DeviceErrorKind,
} from "./core/errors";
export { CATALOGUE, DIAGNOSIS_CODES, formatDiagnosis, type DiagnosisCode, type DeviceFamily } from "./core/diagnosis";
export { parseAddress, type GrantAddress, type AddressRules } from "./core/address";
import { watchEngineInProviderHost } from "./core/dynamic-kit";
// The device registry's data half hands the core every device's stack-config keys (configureFromStack).
import "./device-settings";
export { configureFromStack, UNKNOWN, type GrantAddressArgs } from "./core/dynamic-kit";
export type { BaseConnection } from "./core/connection-kit";
export type { DevicePin, PreflightMode } from "./core/grant-lifecycle";

// OPNsense
export {
  OpnsenseAliasEntry,
  opnsenseAliasEntryProvider,
  type OpnsenseConnection,
  type OpnsenseAliasEntryArgs,
  type AliasEntryInputs,
  type AliasEntryOutputs,
} from "./devices/opnsense/resource";
export {
  OpnsenseAliasSet,
  OpnsenseAliasGuard,
  opnsenseAliasSetProvider,
  type OpnsenseAliasSetArgs,
  type OpnsenseAliasGuardArgs,
  type AliasSetInputs,
  type AliasSetOutputs,
} from "./devices/opnsense/set-resource";
export type { GrantMethod } from "./devices/opnsense/names";
// FortiGate
export {
  FortigateAddress,
  fortigateAddressProvider,
  type FortigateConnection,
  type FortigateAddressArgs,
  type FortigateAddressInputs,
  type FortigateAddressState,
} from "./devices/fortigate/resource";
export {
  FortigateFeedEntry,
  fortigateFeedEntryProvider,
  type FortigateFeedEntryArgs,
  type FortigateFeedEntryInputs,
  type FortigateFeedEntryState,
} from "./devices/fortigate/feed-resource";
export {
  FortigateAddressSet,
  FortigateGroupGuard,
  fortigateAddressSetProvider,
  type FortigateAddressSetArgs,
  type FortigateGroupGuardArgs,
  type AddressSetInputs,
  type AddressSetOutputs,
} from "./devices/fortigate/set-resource";
export {
  FortigateFeedSet,
  fortigateFeedSetProvider,
  type FortigateFeedSetArgs,
  type FortigateFeedSetInputs,
  type FortigateFeedSetOutputs,
} from "./devices/fortigate/feed-set";
// FortiManager
export {
  FortimanagerTrustedHost,
  fortimanagerTrustedHostProvider,
  type FortimanagerConnection,
  type FortimanagerTrustedHostArgs,
  type TrustedHostInputs,
  type TrustedHostOutputs,
} from "./devices/fortimanager/resource";
export {
  FortimanagerFeedEntry,
  fortimanagerFeedEntryProvider,
  type FortimanagerFeedConnection,
  type FortimanagerFeedEntryArgs,
  type FortimanagerFeedEntryInputs,
  type FortimanagerFeedEntryState,
} from "./devices/fortimanager/feed-resource";
export {
  FortimanagerTrustedHostSet,
  FortimanagerTrustedHostGuard,
  fortimanagerTrustedHostSetProvider,
  type FortimanagerTrustedHostSetArgs,
  type FortimanagerTrustedHostGuardArgs,
  type TrustedHostSetInputs,
  type TrustedHostSetOutputs,
} from "./devices/fortimanager/set-resource";
export {
  FortimanagerFeedSet,
  fortimanagerFeedSetProvider,
  type FortimanagerFeedSetArgs,
  type FortimanagerFeedSetInputs,
  type FortimanagerFeedSetOutputs,
} from "./devices/fortimanager/feed-set";
// One person, many devices
export {
  Grant,
  type GrantArgs,
  type GrantChild,
  type GrantOpnsenseTarget,
  type GrantFortigateTarget,
  type GrantFortimanagerTarget,
  type GrantFortigateFeedTarget,
  type GrantFortimanagerFeedTarget,
} from "./grant-component";
// Many people, one set per target
export { Grants, type GrantsArgs, type GrantsPerson, type GrantsTargets, type GrantsSet } from "./grants-component";
// new-device: exports above this line (scripts/new-device.ts)

// Loaded by the engine's dynamic-provider host: a killed CLI must not leave this process writing (issue 18 item 4).
watchEngineInProviderHost();

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
} from "./errors";
export { CATALOGUE, DIAGNOSIS_CODES, formatDiagnosis, type DiagnosisCode, type DeviceFamily } from "./diagnosis";
export { parseAddress, type GrantAddress, type AddressRules } from "./address";
import { watchEngineInProviderHost } from "./dynamic-kit";
export { configureFromStack, UNKNOWN, type GrantAddressArgs } from "./dynamic-kit";
export type { BaseConnection } from "./connection-kit";
export type { DevicePin, PreflightMode } from "./grant-lifecycle";

// OPNsense
export {
  OpnsenseAliasEntry,
  opnsenseAliasEntryProvider,
  type OpnsenseConnection,
  type OpnsenseAliasEntryArgs,
  type AliasEntryInputs,
  type AliasEntryOutputs,
} from "./opnsense/resource";
export {
  OpnsenseAliasSet,
  OpnsenseAliasGuard,
  opnsenseAliasSetProvider,
  type OpnsenseAliasSetArgs,
  type OpnsenseAliasGuardArgs,
  type AliasSetInputs,
  type AliasSetOutputs,
} from "./opnsense/set-resource";
export type { GrantMethod } from "./opnsense/preflight";
// FortiGate
export {
  FortigateAddress,
  fortigateAddressProvider,
  type FortigateConnection,
  type FortigateAddressArgs,
  type FortigateAddressInputs,
  type FortigateAddressState,
} from "./fortigate/resource";
export {
  FortigateFeedEntry,
  fortigateFeedEntryProvider,
  type FortigateFeedEntryArgs,
  type FortigateFeedEntryInputs,
  type FortigateFeedEntryState,
} from "./fortigate/feed-resource";
export {
  FortigateAddressSet,
  FortigateGroupGuard,
  fortigateAddressSetProvider,
  type FortigateAddressSetArgs,
  type FortigateGroupGuardArgs,
  type AddressSetInputs,
  type AddressSetOutputs,
} from "./fortigate/set-resource";
export {
  FortigateFeedSet,
  fortigateFeedSetProvider,
  type FortigateFeedSetArgs,
  type FortigateFeedSetInputs,
  type FortigateFeedSetOutputs,
} from "./fortigate/feed-set";
// FortiManager
export {
  FortimanagerTrustedHost,
  fortimanagerTrustedHostProvider,
  type FortimanagerConnection,
  type FortimanagerTrustedHostArgs,
  type TrustedHostInputs,
  type TrustedHostOutputs,
} from "./fortimanager/resource";
export {
  FortimanagerFeedEntry,
  fortimanagerFeedEntryProvider,
  type FortimanagerFeedConnection,
  type FortimanagerFeedEntryArgs,
  type FortimanagerFeedEntryInputs,
  type FortimanagerFeedEntryState,
} from "./fortimanager/feed-resource";
export {
  FortimanagerTrustedHostSet,
  FortimanagerTrustedHostGuard,
  fortimanagerTrustedHostSetProvider,
  type FortimanagerTrustedHostSetArgs,
  type FortimanagerTrustedHostGuardArgs,
  type TrustedHostSetInputs,
  type TrustedHostSetOutputs,
} from "./fortimanager/set-resource";
export {
  FortimanagerFeedSet,
  fortimanagerFeedSetProvider,
  type FortimanagerFeedSetArgs,
  type FortimanagerFeedSetInputs,
  type FortimanagerFeedSetOutputs,
} from "./fortimanager/feed-set";
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
// new-device: exports above this line (scripts/new-device.ts)

// Loaded by the engine's dynamic-provider host: a killed CLI must not leave this process writing (issue 18 item 4).
watchEngineInProviderHost();

/**
 * pulumi-firewall-grants: Pulumi resources that declare network-access grants on OPNsense,
 * FortiGate and FortiManager. This module is the public surface.
 */
export * from "./errors";
export { diagnose, formatDiagnosis, toGrantError, classifyTransport, CATALOGUE, DIAGNOSIS_CODES, type DiagnosisCode, type DeviceFamily } from "./diagnosis";
export { parseAddress, sameAddress, type GrantAddress, type AddressRules } from "./address";
export { Transport, applyVerified, devicePath, closeAllAgents, type TransportOptions } from "./transport";
export { configureFromStack, UNKNOWN, type GrantAddressArgs } from "./dynamic-kit";
export type { BaseConnection } from "./connection-kit";
export { resetProcessState } from "./process-state";
export * from "./opnsense/resource";
export * from "./fortigate/resource";
export * from "./fortimanager/resource";
export * from "./fortigate/feed-resource";
export * from "./fortimanager/feed-resource";
export * from "./opnsense/set-resource";
export * from "./fortigate/set-resource";
export * from "./fortimanager/set-resource";
export * from "./grant-component";
export * from "./emulators";

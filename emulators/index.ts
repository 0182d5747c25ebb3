/**
 * The device emulators, a public entry point of their own (`pulumi-firewall-grants/emulator`):
 * HTTPS doubles of the OPNsense, FortiGate and FortiManager APIs for tests and users' CI.
 */
export { testCaCert, type EmulatorServer, type FaultRule, type LoggedRequest, FaultPlan, RequestLog } from "./kit";
export * from "./opnsense/emulator";
export * from "./fortigate/emulator";
export * from "./fortimanager/emulator";
// new-device: emulators above this line (scripts/new-device.ts)

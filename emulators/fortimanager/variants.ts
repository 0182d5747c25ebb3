/**
 * The FortiManager emulator's variants: options that play a device answer no public source settles
 * (docs/variants.md says which "Not verified" item each covers and why its default was chosen). The
 * managed FortiGates take the FortiGate emulator's feed variants per device (`devices[].feedSettings`).
 */
import type { EmulatorVariant } from "../kit";
import { DEFAULT_PROXY_SETTINGS } from "./devices";
import { OPTION_DEFAULTS } from "./seed";

export const VARIANTS: readonly EmulatorVariant[] = [
  { option: "sysSessionForApiKeys", values: ["answer", "no-permission", "invalid-url"], default: "no-permission" },
  { option: "missingAdminCode", values: ["-3", "-2"], default: "-2" },
  { option: "nonSuperAdminEditCode", values: ["-11", "-60804"], default: "-11" },
  { option: "enforceTrustedHosts", values: ["false", "true"], default: "false" },
  { option: "proxy.offlineDevice", values: ["status", "missing"], default: "status" },
  { option: "proxy.unknownDevice", values: ["status", "missing", "call"], default: "status" },
  { option: "proxy.outOfScope", values: ["call", "device"], default: "call" },
  { option: "proxy.readWithRpcRead", values: ["no-permission", "allowed"], default: "no-permission" },
  { option: "proxy.timeoutBefore701", values: ["refuse", "ignore"], default: "refuse" },
];

/** What a default-started FortiManager emulator plays for each variant (the constants the code reads). */
export function playedDefaults(): Record<string, string> {
  const played: Record<string, unknown> = { ...OPTION_DEFAULTS };
  for (const [k, v] of Object.entries(DEFAULT_PROXY_SETTINGS)) played[`proxy.${k}`] = v;
  return Object.fromEntries(Object.entries(played).map(([k, v]) => [k, String(v)]));
}

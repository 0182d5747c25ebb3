/**
 * The OPNsense emulator's variants (docs/variants.md). Most OPNsense answers are settled by the opnsense/core
 * sources per release and played through `version`; what remains open is timing.
 */
import type { EmulatorVariant } from "../kit";
import { DEFAULT_RECONFIGURE_LATENCY_MS } from "./types";

export const VARIANTS: readonly EmulatorVariant[] = [{ option: "reconfigureLatencyMs", values: ["0", "2000"], default: "0" }];

/** What a default-started OPNsense emulator plays for each variant. */
export function playedDefaults(): Record<string, string> {
  return { reconfigureLatencyMs: String(DEFAULT_RECONFIGURE_LATENCY_MS) };
}

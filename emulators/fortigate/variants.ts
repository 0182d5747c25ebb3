/**
 * The FortiGate emulator's variants: options that play a device answer no public source settles
 * (docs/variants.md says which "Not verified" item each covers and why its default was chosen).
 */
import type { EmulatorVariant } from "../kit";
import { FortigateBackend } from "./backend";

export const VARIANTS: readonly EmulatorVariant[] = [
  { option: "feedSettings.entryListWindow", values: ["none", "100", "1000"], default: "100" },
  { option: "feedSettings.entryListCountZero", values: ["window", "all"], default: "window" },
  { option: "feedSettings.pushVisibleAfterMs", values: ["0", "1500", "2000", "5000"], default: "2000" },
  { option: "feedSettings.unknownFeed", values: ["refuse", "accept"], default: "refuse" },
  { option: "feedSettings.nonPushFeed", values: ["refuse", "accept"], default: "refuse" },
  { option: "feedSettings.invalidEntry", values: ["store", "refuse"], default: "store" },
  { option: "feedSettings.pushDenied", values: ["json-403", "html-403"], default: "json-403" },
  { option: "feedSettings.globalFeedPush", values: ["refuse", "visible"], default: "refuse" },
  { option: "feedSettings.commands", values: ["in-order", "atomic"], default: "in-order" },
  { option: "feedSettings.matching", values: ["text", "value"], default: "text" },
  { option: "feedSettings.pushFeedStatus", values: ["disable", "error", "success", "unavailable"], default: "unavailable" },
  { option: "feedSettings.overflowEntries", values: ["listed", "dropped"], default: "listed" },
  { option: "feedSettings.clearOnFeedChange", values: ["true", "false"], default: "true" },
  { option: "feedSettings.repeatedAdd", values: ["accept", "refuse"], default: "accept" },
  { option: "repeatedMemberPost", values: ["duplicate", "ok"], default: "duplicate" },
  { option: "lockoutCountsMissingCredentials", values: ["false", "true"], default: "false" },
  { option: "lockoutThreshold", values: ["3", "1"], default: "3" },
];

/** What a default-started FortiGate emulator actually plays for each variant (read from the backend, not restated). */
export function playedDefaults(): Record<string, string> {
  const b = new FortigateBackend();
  const played: Record<string, unknown> = {
    repeatedMemberPost: b.repeatedMemberPost,
    lockoutCountsMissingCredentials: b.lockoutCountsMissingCredentials,
    lockoutThreshold: b.lockoutThreshold,
  };
  for (const [k, v] of Object.entries(b.feeds.settings)) played[`feedSettings.${k}`] = v;
  return Object.fromEntries(Object.entries(played).map(([k, v]) => [k, String(v)]));
}

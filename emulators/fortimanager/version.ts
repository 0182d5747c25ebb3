/**
 * FortiManager firmware versions the emulator models, and what changes between them. Every gate
 * cites its source; docs/reference/fortimanager.md names the sources (JPF-001 is
 * jpforcioli/github_howto_jsonrpc_api `001_fmg_json_api_introduction.rst`, JPF-OPS its
 * `017_fmg_operations.rst`, ANS-ADMINUSER the Ansible collection's `fmgr_system_admin_user.py`).
 */

/** A resolved firmware version. */
export interface FmgVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** `data.Version` of `/sys/status`, e.g. "v7.0.1-build4661 210831 (GA)". */
  readonly label: string;
  readonly build: string;
}

/**
 * What `"7.0.x"`-style versions resolve to: a late patch of each line that the sources name
 * (ANS-ADMINUSER v_range ends at 7.2.11, 7.4.7–7.4.8 and 7.6.4; 7.0.13 is past 7.0.3, where
 * `adom-access` and `th-from-profile` arrived).
 */
const LINE_DEFAULTS: Readonly<Record<string, string>> = { "7.0": "7.0.13", "7.2": "7.2.11", "7.4": "7.4.7", "7.6": "7.6.4" };

/**
 * Builds seen in public samples (JPF-CLOUD, JPF-OPS, the alternative-API page); other versions get
 * a synthetic build number, since no source lists them and no client reads more than `vM.m.p`.
 */
const KNOWN_BUILDS: Readonly<Record<string, string>> = {
  "6.4.0": "build1954 200206 (Interim)",
  "7.0.1": "build4661 210831 (GA)",
  "7.2.2": "build1317 230107 (Interim)",
  "7.4.5": "build2588 240827 (GA)",
};

/** The version the emulator reports when none is given: a current 7.6 patch. */
export const DEFAULT_FMG_VERSION = "7.6.4";

/**
 * Accepts "7.4.5", "7.6.x", "v7.4.5" or a full `/sys/status` Version string
 * ("v7.0.1-build4661 210831 (GA)"). Throws on anything else, so a typo does not silently emulate the default.
 */
export function resolveVersion(raw: string | undefined): FmgVersion {
  const text = (raw ?? DEFAULT_FMG_VERSION).trim();
  const line = /^v?(\d+)\.(\d+)\.[xX*]$/.exec(text);
  const expanded = line ? LINE_DEFAULTS[`${line[1]}.${line[2]}`] : text;
  if (expanded === undefined)
    throw new Error(`FortiManager emulator: no default patch for version line "${text}" (known: ${Object.keys(LINE_DEFAULTS).join(", ")})`);
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-(build\d+.*))?$/.exec(expanded);
  if (!m) throw new Error(`FortiManager emulator: version "${text}" is not "M.m.p", "M.m.x" or "vM.m.p-buildNNNN YYMMDD (GA)"`);
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const key = `${major}.${minor}.${patch}`;
  const build = m[4] ?? KNOWN_BUILDS[key] ?? `build${String(1000 + major * 300 + minor * 40 + patch).padStart(4, "0")} 250101 (GA)`;
  return { major, minor, patch, build, label: `v${key}-${build}` };
}

/** True when `v` is at least `want` ("7.2.2"). */
export function atLeast(v: FmgVersion, want: string): boolean {
  const [a = 0, b = 0, c = 0] = want.split(".").map(Number);
  return v.major !== a ? v.major > a : v.minor !== b ? v.minor > b : v.patch >= c;
}

/** Inclusive lower bound, exclusive upper bound. */
function within(v: FmgVersion, from: string, below: string): boolean {
  return atLeast(v, from) && !atLeast(v, below);
}

/** API keys (`user_type api`, Bearer header) arrived in 7.2.2 (JPF-001 "Token-based authentication", FMG722-NF). */
export function acceptsBearer(v: FmgVersion): boolean {
  return atLeast(v, "7.2.2");
}

/**
 * `?access_token=` beside the header from 7.2.2; "Starting with FortiManager 7.4.7/7.6.2, you can no
 * [longer] pass the API key using the access_token query string (#1084776)" (JPF-001); a 7.6.3 user
 * saw -11 for a query-only token (ANS-I107). So: 7.2.2–7.4.6 and 7.6.0–7.6.1.
 */
export function acceptsAccessTokenQuery(v: FmgVersion): boolean {
  return within(v, "7.2.2", "7.4.7") || within(v, "7.6.0", "7.6.2");
}

/** Admin fields that exist only from (or until) some version (ANS-ADMINUSER `v_range`). */
export function adminFieldExists(v: FmgVersion, field: string): boolean {
  switch (field) {
    case "adom-access":
    case "th-from-profile":
    case "th6-from-profile":
      return atLeast(v, "7.0.3");
    case "cors-allow-origin":
      return atLeast(v, "7.2.2");
    case "fortiai":
      return atLeast(v, "7.6.0");
    case "hidden":
      return !atLeast(v, "7.6.4");
    case "old-password":
      return (v.major === 7 && v.minor === 2 && v.patch === 11) || within(v, "7.4.7", "7.4.9") || atLeast(v, "7.6.3");
    default:
      return true;
  }
}

/** Profile-level `rpc-permit` (paired with the user's `from-profile`) exists from 7.0.3 (ANS-ADMINPROFILE). */
export function profileRpcPermitExists(v: FmgVersion): boolean {
  return atLeast(v, "7.0.3");
}

/**
 * `data` of `get /sys/status` and `get /cli/global/system/status`: the same keys on both (JPF-OPS
 * 6.4.0 sample of the cli url, JPF-CLOUD 7.0.1 and the alternative-API 7.2.2 samples of `/sys/status`).
 */
export function statusRecord(v: FmgVersion, adomsEnabled: boolean): Record<string, unknown> {
  const build = /^build(\d+)/.exec(v.build)?.[1] ?? "0000";
  return {
    "Admin Domain Configuration": adomsEnabled ? "Enabled" : "Disabled",
    "BIOS version": "04000002",
    "Branch Point": build,
    Build: build,
    "Current Time": new Date().toUTCString(),
    "Daylight Time Saving": "Yes",
    "FIPS Mode": "Disabled",
    "HA Mode": "Stand Alone",
    Hostname: "fmg-emulator",
    "License Status": "Valid",
    Major: v.major,
    "Max Number of Admin Domains": 10000,
    "Max Number of Device Groups": 10000,
    Minor: v.minor,
    "Offline Mode": "Disabled",
    Patch: v.patch,
    "Platform Full Name": "FortiManager-VM64-KVM",
    "Platform Type": "FMG-VM64-KVM",
    "Release Version Information": ` ${/\(.*\)$/.exec(v.build)?.[0] ?? "(GA)"}`,
    "Serial Number": "FMG-VMTM00000000",
    "Time Zone": "(GMT+0:00) Greenwich Mean Time, Dublin, Lisbon, London.",
    Version: v.label,
    "x86-64 Applications": "Yes",
  };
}

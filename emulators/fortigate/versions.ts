/**
 * FortiOS versions the FortiGate emulator models, and what changes with them. Each switch below names
 * the version where the device changed and the source (docs/reference/fortigate.md, "Behaviours to
 * model (verified from sources)"); where a source covers only part of a range the choice is said.
 */

/** A FortiOS firmware as the REST envelope reports it (`version: "v7.6.4"`, `build: 3596`). */
export interface FortiosVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** "7.6.4" */
  readonly text: string;
  readonly build: number;
}

/**
 * Builds of releases seen in public captures: v6.2.3 build1066 (R7 payloads), v6.4.14 build2093 and
 * v7.0.12 build0523 / v7.2.6 build1575 / v7.4.1 build2463 (an upgrade path log), v7.2.8 build1639,
 * v7.4.3 build2573 / v7.4.4 build2662 / v7.4.8 build2795 / v7.6.0 build3401 / v7.6.1 build3457 /
 * v7.6.2 build3462 / v7.6.4 build3596 (IBM Cloud vFSA version list), v7.4.5 build2702 (a status capture).
 * Any other version gets a synthetic build (see {@link parseFortiosVersion}).
 */
const KNOWN_BUILDS: Readonly<Record<string, number>> = {
  "6.2.3": 1066,
  "6.4.14": 2093,
  "7.0.12": 523,
  "7.2.6": 1575,
  "7.2.8": 1639,
  "7.4.1": 2463,
  "7.4.3": 2573,
  "7.4.4": 2662,
  "7.4.5": 2702,
  "7.4.8": 2795,
  "7.6.0": 3401,
  "7.6.1": 3457,
  "7.6.2": 3462,
  "7.6.4": 3596,
};

/** The default: the newest release in {@link KNOWN_BUILDS}. */
export const DEFAULT_FORTIOS_VERSION = "7.6.4";

/**
 * Parses "7.4.4", "v7.4.4", "7.6" or "7.6.x" (a train: its newest known patch, else .0). Throws on
 * anything else, so a typo in a test's option fails loudly instead of emulating some other firmware.
 */
export function parseFortiosVersion(raw: string = DEFAULT_FORTIOS_VERSION): FortiosVersion {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+|x))?$/i.exec(raw.trim());
  if (!m) throw new Error(`FortiGate emulator: version "${raw}" is not a FortiOS version such as "7.4.4" or "7.6.x"`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  let patch: number;
  if (m[3] === undefined || m[3].toLowerCase() === "x") {
    const known = Object.keys(KNOWN_BUILDS)
      .filter((k) => k.startsWith(`${major}.${minor}.`))
      .map((k) => Number(k.split(".")[2]));
    patch = known.length ? Math.max(...known) : 0;
  } else patch = Number(m[3]);
  const text = `${major}.${minor}.${patch}`;
  // Synthetic builds keep the envelope's shape (an integer, rising with the version); they are not real.
  return { major, minor, patch, text, build: KNOWN_BUILDS[text] ?? major * 1000 + minor * 100 + patch };
}

const at = (v: FortiosVersion, major: number, minor: number, patch = 0) =>
  v.major !== major ? v.major > major : v.minor !== minor ? v.minor > minor : v.patch >= patch;

/** What the modelled firmware does; every flag cites its source. */
export interface FortiosFeatures {
  /** Groups may be empty from 7.2.0; before, the last member cannot go and a group cannot be created empty [PFGT-T, BATFISH]. */
  readonly emptyGroups: boolean;
  /**
   * `?access_token=` accepted with no setting before 7.4.5; from 7.4.5 `rest-api-key-url-query`
   * exists and is disabled by default (→ 401) [P-URLQ, FAPI#80, AN#359].
   */
  readonly urlQuerySetting: boolean;
  /**
   * Undocumented `GET /cmdb/system/status`: answered up to 7.2.x, a JSON 404 by 7.4.4/7.4.5 [FAPI#80,
   * VG#31]. 7.4.0–7.4.3 are in no source; modelled as gone (fortiosapi PR #81: "deprecated in 7.4").
   */
  readonly cmdbSystemStatus: boolean;
  /** Object name limit: 63 on 6.0 [CLI60], 79 on 6.4.14 [SW-CMDB]; 6.2 is in neither, modelled as 63. */
  readonly nameMax: number;
  /** Collection envelope has `size, matched_count, next_idx, limit_reached` from 7.2 [ADM-API 7.2.9]; absent on 6.2.3 [R7]. 7.0: no source, modelled absent. */
  readonly collectionMeta: boolean;
  /** `fabric-object` on addresses and groups: in the 6.4 CLI reference and after, not in 6.2's [CLI-REF]. */
  readonly fabricObject: boolean;
}

export function fortiosFeatures(v: FortiosVersion): FortiosFeatures {
  return {
    emptyGroups: at(v, 7, 2),
    urlQuerySetting: at(v, 7, 4, 5),
    cmdbSystemStatus: !at(v, 7, 4),
    nameMax: at(v, 6, 4) ? 79 : 63,
    collectionMeta: at(v, 7, 2),
    fabricObject: at(v, 6, 4),
  };
}

/**
 * Which OPNsense release the emulator plays, and what that changes. Each trait names the first
 * release tag of opnsense/core that contains the behaviour (read with `git show <tag>:<path>`;
 * docs/reference/opnsense.md §0 version table). Releases before 24.7 are not modelled: 24.7 replaced
 * Phalcon with OPNsense's own router, which is what answers 404 before authentication.
 */

/** Release points the emulator distinguishes (any `X.Y[.Z]` from 24.7 on is accepted). */
export const OPNSENSE_MODELLED_VERSIONS = ["24.7", "25.1", "25.7", "26.1", "26.1.3", "26.1.5", "26.1.9", "26.1.11", "26.7", "26.7.1", "26.7.2"] as const;

/** The newest release modelled; what the emulator plays unless told otherwise. */
export const DEFAULT_OPNSENSE_VERSION = "26.7.2";

function parse(v: string): number[] {
  const m = /^(\d{2})\.(\d{1,2})(?:\.(\d{1,3}))?(?:[._-].*)?$/.exec(v.trim());
  if (!m) throw new Error(`OPNsense emulator: version "${v}" is not of the form 26.7 or 26.7.1`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

function cmp(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/** What differs between releases, derived once from the version string. */
export interface OpnsenseVersionTraits {
  readonly version: string;
  /** Auth/Base.php `authenticate`: a failed login takes ~2 s in total (4cb1f6d57d, 25.1). */
  readonly failedLoginPadMs: number;
  /** AUC `listAction` → ACB `searchRecordsetBase` default `rowCount` 9999 (25.7); before: own code, all rows (-1). */
  readonly utilListDefaultRows: number;
  /** UIModelGrid rows carry raw values plus `%field` descriptions (25.7); before: descriptions. */
  readonly searchRowsRaw: boolean;
  /** ACF `validateHost`: `ip-<not an ip>` is refused as a range (25.7); before it could pass as a domain. */
  readonly hostRangeStrict: boolean;
  /** Alias.xml gains `path_expression`, `password`, `username`, `authtype` (Basic, Bearer) (25.1). */
  readonly aliasUrlAuthFields: boolean;
  /** Alias.xml gains `expire` (IntegerField 60..999999999) (25.7). */
  readonly aliasExpire: boolean;
  /** Alias.xml `authtype` gains `Header`, checked by Alias.php `performValidation` (26.1). */
  readonly aliasHeaderAuth: boolean;
  /** BaseListField says "Option [%s] not in list." filled with the failing item (47bc962ade, 26.1); before "Option not in list.". */
  readonly optionMessageNamesValue: boolean;
  /** AMM `toggleBase` takes comma lists and reads an unset `changed` for an unknown uuid (26.1.3). */
  readonly toggleList: boolean;
  /** AC `updateAction` (`alias/update/<geoip|bogons>`) exists, AUC `updateBogonsAction` is gone (26.1.5). */
  readonly aliasUpdateAction: boolean;
  /** AC `delItemAction` checks each uuid of a comma list for use, and names the alias in the message (26.1.9). */
  readonly delItemList: boolean;
  /** AC `getItemAction` answers an unknown uuid with a partial object instead of a PHP warning → 500 (26.1.11). */
  readonly getItemUnknownPartial: boolean;
  /** ACB `throwReadOnly` titles its UserException "General access" (26.1.11); AMM `save` before: empty title. */
  readonly readOnlyTitle: string;
  /** AUC add/delete/flush call `throwReadOnly()` after the config lock (26.7.1, GHSA-vw8q-pqq7-2q7v). */
  readonly utilReadOnlyCheck: boolean;
  /** api.php `error_output` HTML-escapes the JSON text (`htmlspecialchars`, ENT_NOQUOTES) (26.7.1). */
  readonly escapeErrors: boolean;
  /** api.php `error_output` adds `errorLevel` from `UserBaseException::getLevel()` (26.7.2). */
  readonly errorLevel: boolean;
}

/** Traits of `version`; throws for a malformed version or one older than 24.7. */
export function versionTraits(version: string = DEFAULT_OPNSENSE_VERSION): OpnsenseVersionTraits {
  const v = parse(version);
  if (cmp(v, [24, 7, 0]) < 0) throw new Error(`OPNsense emulator: version ${version} is older than 24.7, the oldest modelled`);
  const from = (min: string) => cmp(v, parse(min)) >= 0;
  return {
    version,
    failedLoginPadMs: from("25.1") ? 2000 : 0,
    utilListDefaultRows: from("25.7") ? 9999 : -1,
    searchRowsRaw: from("25.7"),
    hostRangeStrict: from("25.7"),
    aliasUrlAuthFields: from("25.1"),
    aliasExpire: from("25.7"),
    aliasHeaderAuth: from("26.1"),
    optionMessageNamesValue: from("26.1"),
    toggleList: from("26.1.3"),
    aliasUpdateAction: from("26.1.5"),
    delItemList: from("26.1.9"),
    getItemUnknownPartial: from("26.1.11"),
    readOnlyTitle: from("26.1.11") ? "General access" : "",
    utilReadOnlyCheck: from("26.7.1"),
    escapeErrors: from("26.7.1"),
    errorLevel: from("26.7.2"),
  };
}

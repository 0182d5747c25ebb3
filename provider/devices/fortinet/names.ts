/**
 * The rule for FortiOS address-object and address-group names, checked at `check` before any request.
 * FortiOS allows up to 79 characters for `firewall address` / `addrgrp` names (SW-CMDB 6.4.14
 * `name` size 79). Names travel as a URL path segment (`…/address/{name}`), where a literal `/`
 * breaks the URL (TF#1, AN#8, VG#20); every segment is percent-encoded anyway, but names that would
 * surprise a path or a shell are refused outright so that no encoding edge case is ever reached:
 * `/` and `\`, `..`, `%`, `?`, `#`, quotes, control and invisible formatting characters (the rule of
 * every device's names, text-rules.ts), and leading or trailing whitespace. The limit counts UTF-8 bytes.
 */
import { byteLengthProblem, hiddenCharacterProblem } from "../../core/text-rules";
import { segmentNameProblem } from "../../core/transport";

export const MAX_NAME_LENGTH = 79;

/** `undefined` when `name` is acceptable, else the rule it breaks. */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return "must not be empty";
  const long = byteLengthProblem(name, MAX_NAME_LENGTH, "FortiOS");
  if (long) return long;
  if (name !== name.trim()) return "must not start or end with whitespace";
  const hidden = hiddenCharacterProblem(name);
  if (hidden) return hidden;
  if (name.includes("..")) return "must not contain '..'";
  const segment = segmentNameProblem(name);
  if (segment) return segment;
  const bad = /[/\\%?#"'`]/.exec(name);
  if (bad) return `must not contain ${JSON.stringify(bad[0])}: the name is part of the device URL path`;
  return undefined;
}

/**
 * The rule for the object name this library creates: {@link nameProblem} plus no whitespace at all.
 * FortiOS accepts spaces, but a grant's own name never needs one (issue 6 hostile input); existing
 * group names keep {@link nameProblem}, since admins do name groups with spaces.
 */
export function objectNameProblem(name: string): string | undefined {
  return nameProblem(name) ?? (/\s/.test(name) ? "must not contain whitespace (spaces, tabs): the grant's object name is one token" : undefined);
}

/**
 * The rule for a VDOM name: FortiOS VDOM names are 1–31 letters, digits, `-` and `_` (`config vdom` /
 * `edit <name>`); a VDOM travels in the query string (`?vdom=`) and, through FortiManager, inside the
 * proxied resource path, so nothing else is let through.
 */
export function vdomProblem(name: string): string | undefined {
  return /^[A-Za-z0-9_-]{1,31}$/.test(name) ? undefined : "must be 1-31 letters, digits, '-' or '_' (a FortiOS VDOM name)";
}

/**
 * The rules every name and free-text field of every device shares (issue 18), checked at `check`:
 * - No control characters (Unicode Cc: NUL, newline, tab, DEL, the C1 range) and no invisible format
 *   characters (Cf: the bidi overrides and isolates U+202A–202E and U+2066–2069, the zero-width
 *   U+200B–200F, the BOM U+FEFF, the soft hyphen …). On the device they hide or reorder what an
 *   administrator reads in the GUI and CLI — a name that displays as another, a comment that reads
 *   backwards — and FortiOS's handling of them is unverified (docs/reference/fortigate.md, "Not verified").
 * - Length limits that FortiOS and FortiManager state count UTF-8 bytes, not characters (the references'
 *   "robust client: count UTF-8 bytes"): 255 letters of a script that takes two or three bytes each
 *   are refused by the device long after `check` passed.
 */
import { z } from "zod";

const HIDDEN = /[\p{Cc}\p{Cf}]/u;
const NAMED: Readonly<Record<number, string>> = { 0x00: "NUL", 0x09: "tab", 0x0a: "newline", 0x0d: "carriage return", 0x7f: "DEL" };

const codePoint = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;

/** `undefined` when `text` holds no control or invisible format character, else the rule naming the first one. */
export function hiddenCharacterProblem(text: string): string | undefined {
  const m = HIDDEN.exec(text);
  if (!m) return undefined;
  const cp = m[0].codePointAt(0)!;
  const what = NAMED[cp] ? `${NAMED[cp]} (${codePoint(cp)})` : codePoint(cp);
  return `must not contain control or invisible formatting characters (newline, tab, NUL, bidi overrides, zero-width characters); found ${what} at character ${[...text.slice(0, m.index)].length + 1}`;
}

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** `undefined` when `text` fits in `max` UTF-8 bytes, else the rule (with the byte count when it differs from the character count). */
export function byteLengthProblem(text: string, max: number, whose: string): string | undefined {
  const bytes = utf8Length(text);
  if (bytes <= max) return undefined;
  const chars = [...text].length;
  return `must be at most ${max} bytes in UTF-8 (${whose} counts bytes), got ${bytes}${chars !== bytes ? ` (${chars} characters)` : ""}`;
}

/** {@link hiddenCharacterProblem}, then {@link byteLengthProblem}: the rule of a device's free-text field (a comment, a description). */
export function deviceTextProblem(text: string, maxBytes: number, whose: string): string | undefined {
  return hiddenCharacterProblem(text) ?? byteLengthProblem(text, maxBytes, whose);
}

/** A zod string field under {@link deviceTextProblem}. */
export function deviceTextField(maxBytes: number, whose: string) {
  return z.string().superRefine((v, ctx) => {
    const p = deviceTextProblem(v, maxBytes, whose);
    if (p) ctx.addIssue({ code: "custom", message: p });
  });
}

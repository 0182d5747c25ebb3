/**
 * The one redaction of the library: every error text, device-answer excerpt and CLI error line passes
 * through a {@link Redactor} (the transport's `redact`, `excerpt` and parsed answers, the `doctor` and
 * `emulate` commands' output). A device, a proxy or a debug page that echoes a request shows a
 * credential in the form that request carried it, or in the form its own page renders it, not only as
 * typed (issue 18: a FortiManager password holding `"` came back JSON-escaped, 6 of 6 times). So each
 * secret is removed in every form it can take there:
 * - as is, and JSON- or backslash-escaped, once or nested (`p\"w`, `p\\\"w`, `p\u0022w`);
 * - URL- or form-encoded, in either hex case (`p%22w`, `a+b` for a space);
 * - HTML-escaped (`p&quot;w`, `&#34;`, `&#x22;`);
 * - base64, alone or inside a longer encoded text such as a Basic `key:secret` header: at each of the
 *   three byte offsets, the characters whose bits come only from the secret are removed.
 * A character may take a different one of these forms than its neighbours (a JSON body inside a form
 * field), so the forms are matched per character, not as whole alternatives.
 */

/** Shorter values are not redacted: they would erase common words and numbers from every message. */
export const MIN_SECRET_LENGTH = 4;
export const REDACTED = "[redacted]";

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A hex digit of either case: `%2f` and `%2F` are the same byte. */
const hexOf = (n: number, width: number) =>
  n
    .toString(16)
    .padStart(width, "0")
    .split("")
    .map((d) => (/[a-f]/.test(d) ? `[${d}${d.toUpperCase()}]` : d))
    .join("");
const NAMED_ENTITIES: Readonly<Record<string, string>> = { '"': "quot", "&": "amp", "<": "lt", ">": "gt", "'": "(?:apos|#39)" };

const SHORT_ESCAPES: Readonly<Record<string, string>> = { "\n": "n", "\r": "r", "\t": "t", "\b": "b", "\f": "f" };
/** A backslash as an escape puts it: itself, or percent-encoded when the escaped text was then URL-encoded. */
const BACKSLASH = "(?:\\\\|%(?:25)*5[cC])";

/** Every form one character of a secret can take in an echo, as a regular expression. */
function characterForms(ch: string): string {
  const cp = ch.codePointAt(0)!;
  const units = ch.length === 2 ? [ch.charCodeAt(0), ch.charCodeAt(1)] : [cp];
  const forms = [
    ch === "\\" ? `${BACKSLASH}+` : escapeRegExp(ch),
    units.map((u) => `${BACKSLASH}+u${hexOf(u, 4)}`).join(""),
    [...Buffer.from(ch, "utf8")].map((b) => `%(?:25)*${hexOf(b, 2)}`).join(""),
    `&#0*${cp};`,
    `&#[xX]0*${hexOf(cp, 1)};`,
  ];
  if (ch === " ") forms.push("\\+");
  if (SHORT_ESCAPES[ch] !== undefined) forms.push(`${BACKSLASH}+${SHORT_ESCAPES[ch]}`);
  if (NAMED_ENTITIES[ch] !== undefined) forms.push(`&${NAMED_ENTITIES[ch]};`);
  // JSON and shell escaping put backslashes before punctuation, as many as the nesting is deep.
  const escapable = cp < 0x80 && ch !== "\\" && /[^A-Za-z0-9\s]/.test(ch);
  return `(?:${escapable ? `${BACKSLASH}*` : ""}(?:${forms.join("|")}))`;
}

/** The forms of a whole secret that a base64 echo may encode (a header as sent, a JSON or form body). */
const encodedWhole = (secret: string) => [
  secret,
  JSON.stringify(secret).slice(1, -1),
  encodeURIComponent(secret),
  new URLSearchParams({ v: secret }).toString().slice(2),
];

/** The base64 characters that depend on `secret` alone, at each byte offset, in both alphabets. */
function base64Cores(secret: string): string[] {
  const cores = new Set<string>();
  for (const form of encodedWhole(secret)) {
    const bytes = Buffer.from(form, "utf8");
    for (let offset = 0; offset < 3; offset++) {
      const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString("base64");
      const core = encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
      if (core.length >= MIN_SECRET_LENGTH) {
        cores.add(core);
        cores.add(core.replace(/\+/g, "-").replace(/\//g, "_"));
      }
    }
  }
  return [...cores];
}

/** One secret's forms as alternatives of a regular expression. */
export function secretPattern(secret: string): string {
  return [[...secret].map(characterForms).join(""), ...base64Cores(secret).map(escapeRegExp)].join("|");
}

/** Removes a set of secrets, in every form {@link secretPattern} knows, from any text. */
export class Redactor {
  private readonly secrets: string[] = [];
  private pattern: RegExp | undefined;

  constructor(secrets: Iterable<string | undefined> = []) {
    for (const s of secrets) this.add(s);
  }

  /** Adds a value to redact from now on (a secret read later, a login session id); short or empty values are ignored. */
  add(secret: string | undefined): void {
    if (secret === undefined || secret.length < MIN_SECRET_LENGTH || this.secrets.includes(secret)) return;
    this.secrets.push(secret);
    // Longest first: a secret that contains another is removed whole, not with a piece left over.
    const sorted = [...this.secrets].sort((a, b) => b.length - a.length);
    this.pattern = new RegExp(sorted.map(secretPattern).join("|"), "g");
  }

  get size(): number {
    return this.secrets.length;
  }

  redact(text: string): string {
    return this.pattern === undefined ? text : text.replace(this.pattern, REDACTED);
  }
}

/** {@link Redactor.redact} for a one-off list of secrets. */
export function redactSecrets(text: string, secrets: Iterable<string | undefined>): string {
  return new Redactor(secrets).redact(text);
}

/**
 * The one redaction of the library: every error text, device-answer excerpt and CLI error line passes
 * through a {@link Redactor} (the transport's `redact`, `excerpt` and parsed answers, the `doctor` and
 * `emulate` commands' output). A device, a proxy or a debug page that echoes a request shows a
 * credential in the form that request carried it, or in the form its own page renders it, not only as
 * typed (issue 18: a FortiManager password holding `"` came back JSON-escaped, 6 of 6 times). So each
 * secret is removed in every form it takes there:
 * - as is; JSON-escaped as JavaScript, Python (`\u00e9`) and PHP (`\/`) write it, once or nested;
 * - URL- or form-encoded, in either hex case, and URL-encoded twice;
 * - HTML-escaped (`&quot;`, `&#34;`, `&#039;`);
 * - one encoding inside another (a JSON body echoed in a form field or an HTML page);
 * - base64, alone or inside a longer encoded text such as a Basic `key:secret` header or a whole echoed
 *   body: at each of the three byte offsets, the characters whose bits come only from the secret.
 * The forms are literal strings, matched without regular expressions: a device answer's every string
 * passes through here, and a compiled pattern per login session cost tens of milliseconds (enough to
 * make FortiManager's fresh-read guard read again).
 */

/** Shorter values are not redacted: they would erase common words and numbers from every message. */
export const MIN_SECRET_LENGTH = 4;
export const REDACTED = "[redacted]";

type Encoder = (s: string) => string;
const hexLower = (s: string) => s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
const json: Encoder = (s) => JSON.stringify(s).slice(1, -1);
const jsonAscii: Encoder = (s) => json(s).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
const jsonPhp: Encoder = (s) => jsonAscii(s).replace(/\//g, "\\/");
const uri: Encoder = encodeURIComponent;
const form: Encoder = (s) => new URLSearchParams({ v: s }).toString().slice(2);
const HTML: Readonly<Record<string, readonly [string, string, string]>> = {
  "&": ["&amp;", "&#38;", "&#038;"],
  '"': ["&quot;", "&#34;", "&#034;"],
  "'": ["&#39;", "&#39;", "&#039;"],
  "<": ["&lt;", "&#60;", "&#060;"],
  ">": ["&gt;", "&#62;", "&#062;"],
};
const html =
  (variant: 0 | 1 | 2): Encoder =>
  (s) =>
    s.replace(/[&"'<>]/g, (c) => HTML[c]![variant]);

/** How a value is written into a JSON body, a URL, a form or a page. */
const ENCODERS: readonly Encoder[] = [
  json,
  jsonAscii,
  (s) => jsonAscii(s).replace(/\\u[0-9a-f]{4}/g, (m) => `\\u${m.slice(2).toUpperCase()}`),
  jsonPhp,
  uri,
  (s) => hexLower(uri(s)),
  form,
  (s) => hexLower(form(s)),
  html(0),
  html(1),
  html(2),
];

/** Every literal form of `secret` in an echo: itself, one encoding, one encoding of a JSON form, and deeper JSON nesting. */
export function echoForms(secret: string): string[] {
  const forms = new Set([secret]);
  for (const e of ENCODERS) forms.add(e(secret));
  for (const inner of [json, jsonPhp, uri]) for (const outer of ENCODERS) forms.add(outer(inner(secret)));
  forms.add(json(json(json(secret))));
  for (const f of [secret, json(secret), uri(secret), form(secret)]) for (const core of base64Cores(f)) forms.add(core);
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH);
}

/** The base64 characters that depend on `text` alone, at each of the three byte offsets, in both alphabets. */
function base64Cores(text: string): string[] {
  const bytes = Buffer.from(text, "utf8");
  const cores: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString("base64");
    const core = encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
    cores.push(core, core.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return cores;
}

/** One secret's forms, and what every non-base64 form contains (so that most texts are passed over at once). */
interface Entry {
  readonly secret: string;
  /** The secret's longest run of letters and digits, which no JSON, URL, form or HTML encoding changes. */
  readonly anchor: string | undefined;
  /** Forms that hold the anchor, longest first. */
  readonly anchored: readonly string[];
  /** The other forms (base64, a secret without a long plain run), longest first. */
  readonly other: readonly string[];
}

const byLength = (a: string, b: string) => b.length - a.length;

/** Removes a set of secrets, in every form {@link echoForms} knows, from any text. */
export class Redactor {
  private readonly entries: Entry[] = [];

  constructor(secrets: Iterable<string | undefined> = []) {
    for (const s of secrets) this.add(s);
  }

  /** Adds a value to redact from now on (a secret read later, a login session id); short or empty values are ignored. */
  add(secret: string | undefined): void {
    if (secret === undefined || secret.length < MIN_SECRET_LENGTH || this.entries.some((e) => e.secret === secret)) return;
    const anchor = (secret.match(/[A-Za-z0-9]+/g) ?? []).sort(byLength)[0];
    const forms = echoForms(secret).sort(byLength);
    const useful = anchor !== undefined && anchor.length >= MIN_SECRET_LENGTH ? anchor : undefined;
    this.entries.push({
      secret,
      anchor: useful,
      anchored: useful === undefined ? [] : forms.filter((f) => f.includes(useful)),
      other: useful === undefined ? forms : forms.filter((f) => !f.includes(useful)),
    });
    // A secret that contains another is removed first, whole.
    this.entries.sort((a, b) => byLength(a.secret, b.secret));
  }

  get size(): number {
    return this.entries.length;
  }

  /** True when `text` holds any form of any secret: exactly when {@link redact} would remove something. */
  finds(text: string): boolean {
    for (const e of this.entries) {
      if (e.anchor !== undefined && text.includes(e.anchor) && e.anchored.some((f) => text.includes(f))) return true;
      if (e.other.some((f) => text.includes(f))) return true;
    }
    return false;
  }

  redact(text: string): string {
    let out = text;
    for (const e of this.entries) {
      // Longest forms first (they are sorted within each list, and an anchored form is never inside a base64 one).
      if (e.anchor !== undefined && out.includes(e.anchor)) for (const f of e.anchored) if (out.includes(f)) out = out.split(f).join(REDACTED);
      for (const f of e.other) if (out.includes(f)) out = out.split(f).join(REDACTED);
    }
    return out;
  }
}

/** {@link Redactor.redact} for a one-off list of secrets. */
export function redactSecrets(text: string, secrets: Iterable<string | undefined>): string {
  return new Redactor(secrets).redact(text);
}

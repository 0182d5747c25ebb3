/**
 * Issue 18 item 8/10: the one redaction removes a secret in every form an echo shows it in — JSON- and
 * backslash-escaped (nested too), URL- and form-encoded, HTML-escaped, base64 alone or inside a Basic
 * `key:secret` — and leaves other text alone.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { REDACTED, Redactor, redactSecrets } from "../provider/core/redaction";
import { Transport } from "../provider/core/transport";

const SECRET = `pa"ss\\w0rd/+= &<>'é-x`;
const json = (s: string) => JSON.stringify(s).slice(1, -1);
const form = (s: string) => new URLSearchParams({ v: s }).toString().slice(2);
const html = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/'/g, "&#39;");
const php = (s: string) =>
  json(s)
    .replace(/\//g, "\\/")
    .replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
const b64 = (s: string) => Buffer.from(s).toString("base64");

/** A base64 text of `before + inner + after`, and the part of it that encodes `inner` alone (what must go). */
function b64Around(before: string, inner: string, after = ""): readonly [string, string] {
  const encoded = b64(before + inner + after);
  const [b, i] = [Buffer.byteLength(before), Buffer.byteLength(inner)];
  return [encoded, encoded.slice(Math.ceil((8 * b) / 6), Math.floor((8 * (b + i)) / 6))];
}

// [what, the form as echoed, the part of it that must not survive (default: all of it)]
const FORMS: readonly (readonly [string, string, string?])[] = [
  ["as typed", SECRET],
  ["JSON-escaped", json(SECRET)],
  ["JSON-escaped twice (a request echoed inside a JSON string)", json(json(SECRET))],
  ["JSON-escaped three times", json(json(json(SECRET)))],
  ["PHP json_encode (escaped slashes, \\u for non-ASCII)", php(SECRET)],
  ["Python json.dumps (\\u for non-ASCII)", JSON.stringify(SECRET).slice(1, -1).replace("\u00e9", "\\u00e9")],
  ["encodeURIComponent", encodeURIComponent(SECRET)],
  ["encodeURIComponent, lower-case hex", encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
  ["form encoding (+ for space)", form(SECRET)],
  ["URL-encoded twice", encodeURIComponent(encodeURIComponent(SECRET))],
  ["HTML-escaped", html(SECRET)],
  ["HTML numeric entities", SECRET.replace(/[&"'<>]/g, (c) => `&#${c.charCodeAt(0)};`)],
  ["JSON-escaped inside a form field", form(json(SECRET))],
  ["base64", b64(SECRET)],
  ["base64url", Buffer.from(SECRET).toString("base64url")],
  ["Basic key:secret", ...b64Around("some-api-key:", SECRET)],
  ["Basic k:secret", ...b64Around("k:", SECRET)],
  ["Basic kk:secret", ...b64Around("kk:", SECRET)],
  ["base64 of a whole echoed JSON body", ...b64Around('{"user":"admin","passwd":"', json(SECRET), '"}')],
  ["base64 of a whole echoed form body", ...b64Around("user=admin&passwd=", form(SECRET), "&x=1")],
];

describe("redaction", () => {
  // Every row has three values: with fewer, jest would take the test's third parameter for `done`.
  it.each(FORMS.map(([what, form, part]) => [what, form, part ?? form] as const))("removes the secret %s", (_what, form, secretPart) => {
    const text = `before <${form}> after`;
    const out = redactSecrets(text, [SECRET]);
    expect(out).toContain(REDACTED);
    // `finds` (the transport's test for passing a device answer through uncopied) sees every form redact removes.
    expect(new Redactor([SECRET]).finds(text)).toBe(true);
    expect(out.startsWith("before <")).toBe(true);
    expect(out.endsWith("> after")).toBe(true);
    // No run of 6 characters of the form survives (base64 keeps at most a character of partial bits at each end).
    const kept = out
      .replace(/^before </, "")
      .replace(/> after$/, "")
      .replace(REDACTED, "\u0000");
    for (let i = 0; i + 6 <= secretPart.length; i++) expect(kept).not.toContain(secretPart.slice(i, i + 6));
  });

  it("leaves other text alone, and ignores values shorter than 4 characters", () => {
    const r = new Redactor(["abc", "", undefined, "s3cret"]);
    expect(r.size).toBe(1);
    expect(r.redact("abc s3cre s3cret% 100%")).toBe(`abc s3cre ${REDACTED}% 100%`);
    expect(r.redact("nothing here")).toBe("nothing here");
    expect(r.finds("nothing here abc s3cre")).toBe(false);
    expect(r.finds("x s3cret")).toBe(true);
  });

  it("removes a secret that contains another whole", () => {
    expect(redactSecrets("x longsecret-extended y", ["longsecret", "longsecret-extended"])).toBe(`x ${REDACTED} y`);
  });

  it("the transport's redact, excerpt and parsed answers use it (a secret added after a login too)", () => {
    const t = new Transport({ baseUrl: "https://fmg.example.net", secrets: [SECRET] });
    t.addSecret("session-id-1234");
    const echo = `{"params":[{"data":{"passwd":"${json(SECRET)}"}}],"session":"session-id-1234"}`;
    expect(t.excerpt(echo)).not.toMatch(/w0rd|session-id/);
    expect(t.redact(`Authorization: Basic ${b64(`admin:${SECRET}`)}`)).not.toContain(b64(`admin:${SECRET}`).slice(8, 20));
  });
});

describe("parsed answers: a large answer passes uncopied only when no string in it can hold a secret (issue 22)", () => {
  const PLAIN = "plain-secret-1234";
  const t = new Transport({ baseUrl: "https://fw.example.net", secrets: [SECRET, PLAIN] });
  const req = { method: "GET", path: "/api/x", idempotent: true } as const;
  const answer = (text: string) => ({ status: 200, headers: {}, text });
  const any = { safeParse: (v: unknown) => ({ success: true, data: v }) } as never;
  const parsed = (text: string) => JSON.stringify(t.parse(req, answer(text), any));

  it("a secret as sent, in a value or a key, without any JSON escape in the answer", () => {
    const out = parsed(`{"content":{"10.0.0.1":{"selected":1},"${PLAIN}":{"value":"x ${PLAIN} y","selected":0}}}`);
    expect(out).not.toContain(PLAIN);
    expect(out).toContain(REDACTED);
    expect(out).toContain("10.0.0.1");
  });

  it("a secret spelt with JSON escapes of plain letters (no literal form of it is in the answer's text)", () => {
    const escaped = [...PLAIN].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
    const text = `{"status_msg":"denied for ${escaped}","rows":[{"ip":"10.0.0.1"}]}`;
    expect(text).not.toContain(PLAIN);
    const out = parsed(text);
    expect(out).not.toContain(PLAIN);
    expect(out).toContain(REDACTED);
  });

  it("a secret holding `/`, sent as PHP writes it (`\\/`), and secrets beside an escaped backslash", () => {
    const slashed = "key/with/slash-99";
    const u = new Transport({ baseUrl: "https://fw.example.net", secrets: [slashed, PLAIN] });
    const sent = slashed.replaceAll("/", "\\/");
    const out = JSON.stringify(u.parse(req, answer(`{"a":"10.0.0.0\\/24","b":"x ${sent} y"}`), any));
    expect(out).not.toContain(slashed);
    expect(out).toContain("10.0.0.0/24");
    // `\\/` is an escaped backslash then a slash: the text keeps a backslash, so every string is redacted one by one.
    const both = JSON.stringify(u.parse(req, answer(`{"a":"c:\\\\/d","b":"${PLAIN}"}`), any));
    expect(both).not.toContain(PLAIN);
  });

  it("an answer with no secret and no escape is the parsed answer itself, unchanged", () => {
    const content = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`10.0.${i >> 8}.${i & 255}`, { value: "v", selected: 1 }]));
    const text = JSON.stringify({ alias: { name: "a", content } });
    expect(parsed(text)).toBe(text);
    const networks = JSON.stringify({ content: { "10.0.0.0/24": { selected: 1 } } });
    expect(parsed(networks.replaceAll("/", "\\/"))).toBe(networks);
  });
});

describe("README", () => {
  it("warns that -v=9 logs hold secret stack config too, not only inline secrets (issue 18 item 8)", () => {
    const readme = readFileSync(path.join(__dirname, "..", "README.md"), "utf8").replace(/\s+/g, " ");
    const caution = /Caution: the engine's own debug logging[^]*?key\/token files/.exec(readme)?.[0] ?? "";
    expect(caution).toMatch(/secret stack config/);
    expect(caution).toMatch(/without `--logtostderr`/);
  });
});

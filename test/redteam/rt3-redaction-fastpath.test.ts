/**
 * Red team rt3 (issue 22 fast path): the transport passes a device answer through uncopied when its text has no
 * JSON escape but `\/` and `Redactor.finds` sees no form of any secret. Differential check: for secrets with `/`,
 * `\`, `"`, non-ASCII, digits only, and for each form redaction knows, placed in a value, an object key, a
 * number-like string, split over PHP's `\/`, in an answer sprinkled with `\/` networks, the parsed answer must equal
 * the answer copied with every string redacted — and hold no form of the secret. Answers that are not JSON (an HTML
 * page from a proxy with 200, a UTF-8 BOM) must fail without the secret in the message.
 */
import { echoForms, Redactor } from "../../provider/core/redaction";
import { Transport } from "../../provider/core/transport";

const SECRETS = ["s3cr/et-KEY-0042", "back\\slash-99x", 'q"uote\u00e9-77', "12345678901", "ZZapikey:zzSECRETzz"];
const req = { method: "GET", path: "/api/firewall/alias/get_item/u", idempotent: true } as const;
const any = { safeParse: (v: unknown) => ({ success: true, data: v }) } as never;
const answer = (text: string) => ({ status: 200, headers: {}, text });

/** The reference: every string (keys too) of the parsed answer redacted one by one. */
function reference(r: Redactor, v: unknown): unknown {
  if (typeof v === "string") return r.redact(v);
  if (Array.isArray(v)) return v.map((x) => reference(r, x));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [r.redact(k), reference(r, x)]));
  return v;
}

/** A form as it stands inside a JSON string, written the way PHP writes it (every `/` as `\/`) or plainly. */
const inJson = (s: string, php: boolean) => {
  const j = JSON.stringify(s).slice(1, -1);
  return php ? j.replaceAll("/", "\\/") : j;
};

const cases: [string, string, string][] = [];
for (const secret of SECRETS) {
  const forms = [...echoForms(secret), Buffer.from(`admin:${secret}`).toString("base64")];
  for (const form of forms)
    for (const php of [false, true]) {
      const f = inJson(form, php);
      const nets = php ? '"10.0.0.0\\/24":{"selected":1}' : '"10.0.0.0/24":{"selected":1}';
      cases.push([secret, `value php=${php} ${form}`, `{"alias":{"content":{${nets},"x":{"selected":0,"value":"echo ${f} end"}}}}`]);
      cases.push([secret, `key php=${php} ${form}`, `{"alias":{"content":{${nets},"${f}":{"selected":1}}}}`]);
      cases.push([secret, `number-like php=${php} ${form}`, `{"rows":[{"ip":"${f}"}],"total":"${f}"}`]);
    }
}

describe("rt3: the uncopied answer equals the redacted copy, whatever form of a secret it holds", () => {
  it.each(cases)("secret %j, %s", (secret, _what, text) => {
    const t = new Transport({ baseUrl: "https://fw.example.net", secrets: [secret, "other-session-id-1234"] });
    const r = new Redactor([secret, "other-session-id-1234"]);
    const got = t.parse(req, answer(text), any);
    expect(JSON.stringify(got)).toBe(JSON.stringify(reference(r, JSON.parse(text))));
    // No string of the parsed answer holds a form redaction knows.
    expect(r.finds(JSON.stringify(got).replaceAll("\\\\", "\\"))).toBe(false);
  });

  it.each([
    ["an HTML page answered with 200 by a proxy", (s: string) => `<html><body>denied for key ${s} &amp; ${encodeURIComponent(s)}</body></html>`],
    ["a UTF-8 BOM before JSON", (s: string) => `\ufeff{"status_msg":"bad key ${s}"}`],
    ["JSON cut short", (s: string) => `{"status_msg":"bad key ${s}`],
  ])("%s: fails as not JSON, the secret in no form in the error", (_what, body) => {
    for (const secret of SECRETS) {
      const t = new Transport({ baseUrl: "https://fw.example.net", secrets: [secret] });
      let err: unknown;
      try {
        t.parse(req, answer(body(secret)), any);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Error);
      const all = `${(err as Error).message} ${JSON.stringify(err)} ${String((err as { cause?: unknown }).cause)}`;
      expect(new Redactor([secret]).finds(all)).toBe(false);
    }
  });
});

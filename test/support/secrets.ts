/**
 * Secret scanning shared by the secrets suite (test/secrets.test.ts) and the end-to-end suites
 * (test/engine/*): find secret values — whole, base64-encoded, or as fragments — in any text, and
 * gather every string a thrown error can turn into.
 */
import { inspect } from "node:util";

/** The forms an echo shows a secret in: as is, base64, JSON-escaped, URL- and form-encoded, HTML-escaped. */
export function echoedForms(v: string): string[] {
  const html = v.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return [
    ...new Set([
      v,
      Buffer.from(v).toString("base64"),
      JSON.stringify(v).slice(1, -1),
      encodeURIComponent(v),
      new URLSearchParams({ v }).toString().slice(2),
      html,
    ]),
  ];
}

/** Every secret value found in `text` (in any of its {@link echoedForms}), by name. */
export function leakedSecrets(text: string, secrets: Record<string, string>): string[] {
  return Object.entries(secrets)
    .filter(([, v]) => v.length >= 8 && echoedForms(v).some((f) => text.includes(f)))
    .map(([k]) => k);
}

/**
 * Like {@link leakedSecrets}, but also any `window`-character piece of a secret or of its base64
 * form (a parser's error message quotes ~10 characters of the text it failed on).
 */
export function leakedFragments(text: string, secrets: Record<string, string>, window = 10): string[] {
  const found = new Set(leakedSecrets(text, secrets));
  const { forms, pieces } = secretPieces(secrets, window);
  // Every piece of text that is also a piece of a secret, found in one pass over the text: a whole
  // run's output is megabytes, and a substring search of it per piece took most of the secrets suite.
  const present = new Set<string>();
  for (let i = 0; i + window <= text.length; i++) {
    const piece = text.slice(i, i + window);
    if (pieces.has(piece)) present.add(piece);
  }
  for (const [name, fs] of forms) {
    if (found.has(name)) continue;
    for (const form of fs) {
      const i = Array.from({ length: Math.max(0, form.length - window + 1) }, (_, j) => j).find((j) => present.has(form.slice(j, j + window)));
      if (i !== undefined) found.add(`${name} (fragment ${JSON.stringify(form.slice(i, i + window))})`);
    }
  }
  return [...found];
}

/** The forms and pieces of the last secrets scanned: a suite scans thousands of texts for the same secrets. */
let lastPieces: { key: string; forms: [string, string[]][]; pieces: Set<string> } | undefined;
function secretPieces(secrets: Record<string, string>, window: number): { forms: [string, string[]][]; pieces: Set<string> } {
  const key = JSON.stringify([window, Object.entries(secrets)]);
  if (lastPieces === undefined || lastPieces.key !== key) {
    const forms = Object.entries(secrets).map(([name, v]): [string, string[]] => [name, [v, Buffer.from(v).toString("base64")]]);
    const pieces = new Set(
      forms.flatMap(([, fs]) => fs.flatMap((f) => Array.from({ length: Math.max(0, f.length - window + 1) }, (_, i) => f.slice(i, i + window)))),
    );
    lastPieces = { key, forms, pieces };
  }
  return lastPieces;
}

/** Everything a caller, a logger or the Pulumi engine can make of a thrown value. */
export function errorTexts(e: unknown): string[] {
  const err = e as { message?: unknown; stack?: unknown } | undefined;
  let json: string;
  try {
    json = JSON.stringify(e) ?? "";
  } catch (x) {
    json = `(JSON.stringify threw ${String(x)})`;
  }
  return [String(err?.message ?? ""), String(e), String(err?.stack ?? ""), json, inspect(e, { depth: 10, showHidden: true })];
}

/** Records everything written to process.stdout and process.stderr until `restore()`; `passThrough: false` keeps it off the terminal. */
export function captureOutput(opts: { passThrough?: boolean } = {}): { text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const spy = (stream: NodeJS.WriteStream) => {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
      if (opts.passThrough === false) return true;
      return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    return () => {
      stream.write = original as typeof stream.write;
    };
  };
  const undo = [spy(process.stdout), spy(process.stderr)];
  return { text: () => chunks.join(""), restore: () => undo.forEach((u) => u()) };
}

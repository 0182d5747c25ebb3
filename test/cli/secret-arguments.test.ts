/**
 * Issue 18 item 10: the CLI never echoes an argument that may be a secret — a stray argument, an unknown
 * option, a command or help topic, a secret given instead of a secret file's path — and everything it
 * prints passes through the library's redaction, so a secret of the environment given as a target name,
 * or a device error page reflecting the token base64- or URL-encoded, is never shown. Runs `main` in
 * process (the command's behaviour without a build).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { loadConfig } from "../../cli/doctor-targets";
import { main } from "../../cli/main";
import { startFortigateEmulator, type FortigateEmulator } from "../../emulators/fortigate/emulator";
import { resetProcessState } from "../../provider/core/process-state";
import { captureOutput } from "../support/secrets";

const SECRET = `S3cret${randomBytes(12).toString("hex")}`;
const TOKEN = `tok${randomBytes(12).toString("hex")}`;
const saved = { ...process.env };

async function cli(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; text: string }> {
  resetProcessState();
  Object.assign(process.env, env);
  const out = captureOutput({ passThrough: false });
  try {
    const code = await main(args);
    return { code, text: out.text() };
  } finally {
    out.restore();
    process.env = { ...saved };
  }
}

/** The secret, a piece of it, or a piece of its base64 at any of the three byte offsets (inside `key:secret`). */
function shows(text: string, secret: string): boolean {
  const base64 = [0, 1, 2].map((o) =>
    Buffer.concat([Buffer.alloc(o), Buffer.from(secret)])
      .toString("base64")
      .slice(4, 16),
  );
  return [secret, encodeURIComponent(secret), secret.slice(2, 14), ...base64].some((f) => text.includes(f));
}

let fgt: FortigateEmulator;
beforeAll(async () => {
  for (const k of Object.keys(process.env)) if (/^(OPNSENSE|FORTIGATE|FORTIMANAGER)_/.test(k)) delete process.env[k];
  fgt = await startFortigateEmulator({ users: [{ name: "api", token: TOKEN, fwgrp: "read-write" }], groups: [{ name: "jit-admins" }], lockoutThreshold: 100 });
});
afterAll(async () => {
  process.env = saved;
  await fgt.close();
});

describe("the CLI never shows an argument that may be a secret", () => {
  it.each([
    ["a stray argument to doctor", ["doctor", "--fortigate-url", "https://127.0.0.1:1", SECRET], /argument 4 is not an option/],
    ["an unknown option", ["doctor", `--${SECRET}`], /argument 2 is an unknown option/],
    ["an unknown option with a value", ["doctor", `--x=${SECRET}`], /argument 2 is an unknown option/],
    ["a stray argument to emulate", ["emulate", SECRET], /argument 2 is not an option/],
    ["an unknown command", [SECRET], /unknown command \(argument 1/],
    ["an unknown help topic", ["help", SECRET], /unknown help topic/],
    [
      "a secret given instead of a token file",
      ["doctor", "--fortigate-url", "https://127.0.0.1:1", "--fortigate-token-file", SECRET],
      /--fortigate-token-file \(ENOENT/,
    ],
    [
      "a secret given instead of a password file",
      ["doctor", "--fortimanager-url", "https://127.0.0.1:1", "--fortimanager-password-file", SECRET],
      /--fortimanager-password-file/,
    ],
  ])("%s: a usage error naming where, not what", async (_what, args, where) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.text).toMatch(where);
    expect(shows(r.text, SECRET)).toBe(false);
  });

  it("a secret of the environment given as a target name is redacted from the report", async () => {
    const r = await cli(["doctor", "--fortigate-url", fgt.url, "--insecure", "--fortigate-group", SECRET], { FORTIGATE_TOKEN: SECRET });
    expect(r.code).toBe(1);
    expect(r.text).toContain("[redacted]");
    expect(shows(r.text, SECRET)).toBe(false);
  });

  it.each([
    ["base64", (t: string) => Buffer.from(`api:${t}`).toString("base64")],
    ["URL-encoded", (t: string) => encodeURIComponent(`Bearer ${t}`)],
    ["JSON-escaped", (t: string) => JSON.stringify(JSON.stringify({ authorization: `Bearer ${t}` }))],
  ])("a device error page reflecting the token %s is shown redacted", async (_what, encode) => {
    fgt.faults.add({ kind: "reply", reply: () => ({ status: 500, text: `<html><pre>credentials: ${encode(TOKEN)}</pre></html>`, contentType: "text/html" }) });
    try {
      const r = await cli(["doctor", "--fortigate-url", fgt.url, "--insecure", "--fortigate-group", "jit-admins"], { FORTIGATE_TOKEN: TOKEN });
      expect(r.code).toBe(1);
      expect(r.text).toContain("credentials: ");
      expect(shows(r.text, TOKEN)).toBe(false);
    } finally {
      fgt.faults.clear();
    }
  });
});

describe('the doctor config file\'s refusals name the field and the rule (issue 18: never a bare "Invalid input")', () => {
  it.each([
    ["a URL that is a number", { fortigate: { url: 5 } }, /fortigate: url: must be a string, not a number/],
    ["an entry that is a number", { fortigate: 5 }, /fortigate: must be an object or a list, not a number/],
    ["a list entry with a misspelt field", { fortigate: [{ url: "https://fw", gruop: "x" }] }, /"gruop"/],
    ["a method outside its choices", { opnsense: { url: "https://fw", method: "fast" } }, /must be one of "table", "config"/],
    ["insecure given as text", { insecure: "yes" }, /insecure: must be true or false, not a string/],
  ])("%s", (_what, config, rule) => {
    const dir = mkdtempSync(path.join(tmpdir(), "fwg-doctor-config-"));
    try {
      const file = path.join(dir, "doctor.json");
      writeFileSync(file, JSON.stringify(config));
      let message = "";
      try {
        loadConfig(file);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(rule);
      expect(message).not.toMatch(/Invalid input|Invalid option|Unrecognized key/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

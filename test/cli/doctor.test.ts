/**
 * `firewall-grants doctor` run as a command against the three emulators: the same preflight as
 * `check`, one line per step, the diagnosis of each failure, the exit code, and never a secret.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { testCaCert } from "../../provider/emulator-kit";
import { startFortigateEmulator, type FortigateEmulator } from "../../provider/fortigate/emulator";
import { startFortimanagerEmulator, type FortimanagerEmulator } from "../../provider/fortimanager/emulator";
import { startOpnsenseEmulator, type OpnsenseEmulator } from "../../provider/opnsense/emulator";
import { ensureBuilt, run, type RunResult } from "./helpers";

const SECRET = "Doctor-s3cr3t-never-printed";
const S = {
  opnFullKey: `opnkey-full-${SECRET}`,
  opnFullSecret: `opnsecret-full-${SECRET}`,
  opnLowKey: `opnkey-low-${SECRET}`,
  opnLowSecret: `opnsecret-low-${SECRET}`,
  fgtToken: `fgt${SECRET}rw`.replace(/-/g, ""),
  fgtBad: `fgtbad${SECRET}`.replace(/-/g, ""),
  fmgToken: `fmg${SECRET}api`.replace(/-/g, ""),
  fmgCustomToken: `fmgcustom${SECRET}`.replace(/-/g, ""),
  fmgReadToken: `fmgread${SECRET}`.replace(/-/g, ""),
  fmgPassword: `pw-${SECRET}`,
};

let opn: OpnsenseEmulator;
let fgt: FortigateEmulator;
let fmg: FortimanagerEmulator;
let dir: string;
const outputs: RunResult[] = [];
const files: Record<string, string> = {};

async function doctor(args: readonly string[], env: Record<string, string> = {}): Promise<RunResult> {
  const r = await run(["doctor", "--ca-cert", files.ca!, ...args], env);
  outputs.push(r);
  return r;
}
const lines = (r: RunResult) => r.stdout.split("\n");
const allFlags = () => ["--opnsense-url", opn.url, "--opnsense-key-file", files.opnFull!, "--opnsense-alias", "jit_admins", "--fortigate-url", fgt.url, "--fortigate-group", "jit-admins", "--fortimanager-url", fmg.url, "--fortimanager-admin", "alice"];

beforeAll(async () => {
  ensureBuilt();
  opn = await startOpnsenseEmulator({
    users: [
      { name: "grants", key: S.opnFullKey, secret: S.opnFullSecret, privileges: ["page-diagnostics-tables", "page-firewall-aliases", "page-firewall-alias-edit"], disabled: false },
      { name: "low", key: S.opnLowKey, secret: S.opnLowSecret, privileges: ["page-firewall-aliases"], disabled: false },
    ],
  });
  fgt = await startFortigateEmulator({ users: [{ name: "grants-api", token: S.fgtToken, fwgrp: "read-write" }], groups: [{ name: "jit-admins" }], lockoutThreshold: 100 });
  fmg = await startFortimanagerEmulator({
    admins: [
      { userid: "grants-api", userType: "api", apiKey: S.fmgToken, profileid: "Super_User" },
      { userid: "customapi", userType: "api", apiKey: S.fmgCustomToken, profileid: "custom_admins" },
      { userid: "readapi", userType: "api", apiKey: S.fmgReadToken, profileid: "Super_User", rpcPermit: "read" },
      { userid: "grants", password: S.fmgPassword, profileid: "Super_User" },
      { userid: "alice", password: "alice-pw", profileid: "Restricted_User" },
    ],
  });
  dir = mkdtempSync(path.join(tmpdir(), "doctor-test-"));
  const file = (name: string, text: string) => {
    files[name] = path.join(dir, name);
    writeFileSync(files[name]!, text);
  };
  file("ca", testCaCert());
  file("opnFull", `key=${S.opnFullKey}\nsecret=${S.opnFullSecret}\n`);
  file("opnLow", `key=${S.opnLowKey}\nsecret=${S.opnLowSecret}\n`);
  file("fgtToken", `${S.fgtToken}\n`);
  file("fmgPassword", `${S.fmgPassword}\n`);
});

afterAll(async () => {
  await Promise.all([opn?.close(), fgt?.close(), fmg?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
  // No secret in any output of any run, whether it passed or failed.
  for (const r of outputs) for (const v of Object.values(S)) {
    expect(r.stdout).not.toContain(v);
    expect(r.stderr).not.toContain(v);
  }
  expect(outputs.map((r) => r.stdout + r.stderr).join("\n")).not.toContain(SECRET);
});

it("passes every step on all three devices with privileged credentials and exits 0", async () => {
  const r = await doctor(allFlags(), { FORTIGATE_TOKEN: S.fgtToken, FORTIMANAGER_TOKEN: S.fmgToken });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const host = (u: string) => new URL(u).host;
  expect(lines(r)).toEqual(
    expect.arrayContaining([
      `✔ opnsense ${host(opn.url)} authentication`,
      "✔ alias jit_admins exists (host)",
      '✔ write privilege "Diagnostics: PF Table IP addresses" (method table)',
      `✔ fortigate ${host(fgt.url)} authentication (VDOM root)`,
      "✔ group jit-admins exists",
      "✔ write privilege (Firewall > Address read-write)",
      `✔ fortimanager ${host(fmg.url)} authentication`,
      "✔ admin alice exists and is readable",
      "✔ all 9 checks passed",
    ]),
  );
  expect(r.stdout).not.toContain("✘");
  // The preflight is side-effect free: the devices saw no request that changed anything.
  for (const emu of [opn, fgt, fmg]) expect(emu.log.entries().filter((e) => e.sideEffect)).toEqual([]);
});

it("fails with OPN001 naming the missing privilege for an under-privileged OPNsense key, exit 1", async () => {
  const r = await doctor(["--opnsense-url", opn.url, "--opnsense-key-file", files.opnLow!, "--opnsense-alias", "jit_admins"]);
  expect(r.code).toBe(1);
  expect(r.stdout).toContain(`✔ opnsense ${new URL(opn.url).host} authentication`);
  expect(r.stdout).toContain("✔ alias jit_admins exists (host)");
  expect(r.stdout).toMatch(/^✘ write privilege "Diagnostics: PF Table IP addresses" \(method table\) — OPN001 /m);
  expect(r.stdout).toContain('Missing privilege: "Diagnostics: PF Table IP addresses"');
  expect(r.stdout).toMatch(/Cause: .+\n\s+Fix:\n\s+1\. /);
  expect(r.stdout).toContain("✘ 1 failed, 2 passed");
});

it("checks the config-mode privilege when --opnsense-method config is given", async () => {
  const r = await doctor(["--opnsense-url", opn.url, "--opnsense-alias", "jit_admins", "--opnsense-method", "config"], { OPNSENSE_API_KEY: S.opnLowKey, OPNSENSE_API_SECRET: S.opnLowSecret });
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/^✘ write privilege "Firewall: Alias: Edit" \(method config\) — OPN001 /m);
});

it("reports a rejected FortiGate token as 202001 and does not run the later steps", async () => {
  const r = await doctor(["--fortigate-url", fgt.url, "--fortigate-group", "jit-admins"], { FORTIGATE_TOKEN: S.fgtBad });
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/^✘ fortigate \S+ authentication \(VDOM root\) — 202001 /m);
  expect(r.stdout).toContain("· group jit-admins exists — not run");
  expect(r.stdout).toContain("· write privilege (Firewall > Address read-write) — not run");
  expect(r.stdout).not.toMatch(/^✔/m);
});

it("names the FortiManager step that failed: missing admin (202051), admin not readable, no right to edit (202002)", async () => {
  const missing = await doctor(["--fortimanager-url", fmg.url, "--fortimanager-admin", "mallory"], { FORTIMANAGER_TOKEN: S.fmgToken });
  expect(missing.code).toBe(1);
  expect(missing.stdout).toMatch(/^✘ admin mallory exists and is readable — 202051 /m);
  const custom = await doctor(["--fortimanager-url", fmg.url, "--fortimanager-admin", "alice", "--fortimanager-username", "customapi"], { FORTIMANAGER_TOKEN: S.fmgCustomToken });
  expect(custom.code).toBe(1);
  expect(custom.stdout).toMatch(/^✘ admin alice exists and is readable — 202002 /m);
  expect(custom.stdout).toContain("· right to edit administrators");
  const readOnly = await doctor(["--fortimanager-url", fmg.url, "--fortimanager-admin", "alice", "--fortimanager-username", "readapi"], { FORTIMANAGER_TOKEN: S.fmgReadToken });
  expect(readOnly.code).toBe(1);
  expect(readOnly.stdout).toContain("✔ admin alice exists and is readable");
  expect(readOnly.stdout).toMatch(/^✘ right to edit administrators .* — 202002 /m);
  expect(readOnly.stdout).toContain("rpc-permit read");
});

it("reads devices and file paths from a --config file; a session login takes its password from a file", async () => {
  const config = path.join(dir, "grants-doctor.json");
  writeFileSync(
    config,
    JSON.stringify({
      opnsense: [
        { url: opn.url, apiKeyFile: "opnFull", alias: "jit_admins" },
        { url: opn.url, apiKeyFile: "opnFull", alias: "no_such_alias" },
      ],
      fortigate: { url: fgt.url, tokenFile: "fgtToken" },
      fortimanager: { url: fmg.url, adminUser: "alice", username: "grants", passwordFile: "fmgPassword" },
    }),
  );
  const r = await doctor(["--config", config]);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/^✘ alias no_such_alias exists — OPN100 /m);
  expect(r.stdout).toContain("✔ address table readable");
  expect(r.stdout).toContain("✔ right to edit administrators (super-user profile, rpc-permit read-write)");
  expect(r.stdout).toContain("✘ 1 failed, 10 passed, 1 not run");
});

it("refuses secrets in flags and in the config file without echoing them (exit 2)", async () => {
  const flag = await doctor(["--fortigate-url", fgt.url, `--fortigate-token=${S.fgtToken}`]);
  expect(flag.code).toBe(2);
  expect(flag.stderr).toContain("secrets are never taken from flags");
  const config = path.join(dir, "with-secret.json");
  writeFileSync(config, JSON.stringify({ fortigate: { url: fgt.url, token: S.fgtToken } }));
  const file = await doctor(["--config", config]);
  expect(file.code).toBe(2);
  expect(file.stderr).toContain("secrets are not read from the config file");
});

it("exits 2 with a usage hint when no device is given", async () => {
  const r = await doctor([]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("nothing to check");
});

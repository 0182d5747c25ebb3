/**
 * `firewall-grants doctor` run as a command against the three emulators: the same preflight as
 * `check`, one line per declared step (device registry `preflight`), the diagnosis of each failure on
 * the step it came from, the exit code, and never a secret.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { testCaCert } from "../../emulators/kit";
import { startFortigateEmulator, type FortigateEmulator } from "../../emulators/fortigate/emulator";
import { startFortimanagerEmulator, type FortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { startOpnsenseEmulator, type OpnsenseEmulator } from "../../emulators/opnsense/emulator";
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
const allFlags = () => [
  "--opnsense-url",
  opn.url,
  "--opnsense-key-file",
  files.opnFull!,
  "--opnsense-alias",
  "jit_admins",
  "--fortigate-url",
  fgt.url,
  "--fortigate-group",
  "jit-admins",
  "--fortimanager-url",
  fmg.url,
  "--fortimanager-admin",
  "alice",
];

beforeAll(async () => {
  ensureBuilt();
  opn = await startOpnsenseEmulator({
    users: [
      {
        name: "grants",
        key: S.opnFullKey,
        secret: S.opnFullSecret,
        privileges: ["page-diagnostics-tables", "page-firewall-aliases", "page-firewall-alias-edit"],
        disabled: false,
      },
      { name: "low", key: S.opnLowKey, secret: S.opnLowSecret, privileges: ["page-firewall-aliases"], disabled: false },
    ],
  });
  fgt = await startFortigateEmulator({
    users: [{ name: "grants-api", token: S.fgtToken, fwgrp: "read-write", sysgrp: "custom", sysgrpPermission: { cfg: "read-write" } }],
    groups: [{ name: "jit-admins" }],
    lockoutThreshold: 100,
  });
  fmg = await startFortimanagerEmulator({
    sysSessionForApiKeys: "answer",
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
  for (const r of outputs)
    for (const v of Object.values(S)) {
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
      `opnsense ${host(opn.url)} · OpnsenseAliasEntry alias jit_admins, method table`,
      `fortigate ${host(fgt.url)} · FortigateAddress group jit-admins`,
      `fortimanager ${host(fmg.url)} · FortimanagerTrustedHost adminUser alice`,
      "✔ all 10 checks passed",
    ]),
  );
  // Each resource's declared steps, in order, from the registry (table mode: write-config does not apply).
  const ids = (device: string) => {
    const block = r.stdout.split("\n\n").find((b) => b.startsWith(device))!;
    return block
      .split("\n")
      .slice(1)
      .map((l) => l.replace(/^ {2}✔ (\S+) — .*$/, "$1"));
  };
  expect(ids("opnsense")).toEqual(["auth", "alias", "write-table"]);
  expect(ids("fortigate")).toEqual(["auth", "target", "write"]);
  expect(ids("fortimanager")).toEqual(["auth", "caller", "rights", "target"]);
  expect(r.stdout).not.toContain("✘");
  // The preflight is side-effect free: the devices saw no request that changed anything.
  for (const emu of [opn, fgt, fmg]) expect(emu.log.entries().filter((e) => e.sideEffect)).toEqual([]);
});

it("fails with OPN001 naming the missing privilege for an under-privileged OPNsense key, exit 1", async () => {
  const r = await doctor(["--opnsense-url", opn.url, "--opnsense-key-file", files.opnLow!, "--opnsense-alias", "jit_admins"]);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/^ {2}✔ auth — /m);
  expect(r.stdout).toMatch(/^ {2}✔ alias — /m);
  expect(r.stdout).toMatch(/^ {2}✘ write-table — .* — OPN001 /m);
  expect(r.stdout).toContain('Missing privilege: "Diagnostics: PF Table IP addresses"');
  expect(r.stdout).toMatch(/Cause: .+\n\s+Fix:\n\s+1\. /);
  expect(r.stdout).toContain("✘ 1 failed, 2 passed");
});

it("checks the config-mode privilege when --opnsense-method config is given", async () => {
  const r = await doctor(["--opnsense-url", opn.url, "--opnsense-alias", "jit_admins", "--opnsense-method", "config"], {
    OPNSENSE_API_KEY: S.opnLowKey,
    OPNSENSE_API_SECRET: S.opnLowSecret,
  });
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/^ {2}✘ write-config — .* — OPN001 /m);
  expect(r.stdout).toContain('Missing privilege: "Firewall: Alias: Edit"');
  expect(r.stdout).not.toContain("write-table");
});

it("reports a rejected FortiGate token as 202001 and does not run the later steps", async () => {
  const r = await doctor(["--fortigate-url", fgt.url, "--fortigate-group", "jit-admins"], { FORTIGATE_TOKEN: S.fgtBad });
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/^ {2}✘ auth — .* — 202001 /m);
  expect(r.stdout).toMatch(/^ {2}· target — .* — not run \(an earlier step failed\)$/m);
  expect(r.stdout).toMatch(/^ {2}· write — .* — not run \(an earlier step failed\)$/m);
  expect(r.stdout).not.toMatch(/✔/);
});

it("names the FortiManager step that failed: missing admin (202051), admin not readable, no right to edit (202002)", async () => {
  const missing = await doctor(["--fortimanager-url", fmg.url, "--fortimanager-admin", "mallory"], { FORTIMANAGER_TOKEN: S.fmgToken });
  expect(missing.code).toBe(1);
  // Missing admin: the credentials and rights pass, the target step fails.
  expect(missing.stdout).toMatch(/^ {2}✔ auth — .*\n {2}✔ caller — .*\n {2}✔ rights — .*\n {2}✘ target — .* — 202051 /m);
  // Admin not readable: a drift-check (preflight read) key of a custom profile may not read administrators.
  const unreadable = await doctor(["--fortimanager-url", fmg.url, "--fortimanager-admin", "alice", "--fortimanager-username", "customapi"], {
    FORTIMANAGER_TOKEN: S.fmgCustomToken,
    FORTIMANAGER_PREFLIGHT: "read",
  });
  expect(unreadable.code).toBe(1);
  expect(unreadable.stdout).toMatch(/^ {2}✔ auth — /m);
  expect(unreadable.stdout).toMatch(/^ {2}· caller — .* — not run \(preflight read\)$/m);
  expect(unreadable.stdout).toMatch(/^ {2}· rights — .* — not run \(preflight read\)$/m);
  expect(unreadable.stdout).toMatch(/^ {2}✘ target — .* — 202002 /m);
  // No right to edit: a custom (not super-user) profile, and a Super_User with rpc-permit read: the rights step fails, the target is not read.
  const custom = await doctor(["--fortimanager-url", fmg.url, "--fortimanager-admin", "alice", "--fortimanager-username", "customapi"], {
    FORTIMANAGER_TOKEN: S.fmgCustomToken,
  });
  expect(custom.code).toBe(1);
  expect(custom.stdout).toMatch(/^ {2}✔ caller — /m);
  expect(custom.stdout).toMatch(/^ {2}✘ rights — .* — 202002 /m);
  expect(custom.stdout).toMatch(/^ {2}· target — .* — not run \(an earlier step failed\)$/m);
  const readOnly = await doctor(["--fortimanager-url", fmg.url, "--fortimanager-admin", "alice", "--fortimanager-username", "readapi"], {
    FORTIMANAGER_TOKEN: S.fmgReadToken,
  });
  expect(readOnly.code).toBe(1);
  expect(readOnly.stdout).toMatch(/^ {2}✘ rights — .* — 202002 /m);
  expect(readOnly.stdout).toContain("rpc-permit read");
  expect(readOnly.stdout).toMatch(/^ {2}· target — .* — not run/m);
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
  expect(r.stdout).toMatch(/· OpnsenseAliasEntry alias no_such_alias, method table\n {2}✔ auth — .*\n {2}✘ alias — .* — OPN100 /);
  expect(r.stdout).toMatch(/· FortigateAddress\n {2}✔ auth — .*\n {2}✔ target — /);
  expect(r.stdout).toMatch(/· FortimanagerTrustedHost adminUser alice\n {2}✔ auth — .*\n {2}✔ caller — .*\n {2}✔ rights — .*\n {2}✔ target — /);
  expect(r.stdout).toContain("✘ 1 failed, 11 passed, 1 not run");
});

it("checks a feed grant's steps when its options are given: FortiGate feed, FortiManager feed on managed devices", async () => {
  const r = await doctor(
    [
      "--fortigate-url",
      fgt.url,
      "--fortigate-group",
      "jit-admins",
      "--fortigate-feed",
      "jit-allow",
      "--fortimanager-url",
      fmg.url,
      "--fortimanager-admin",
      "alice",
      "--fortimanager-feed",
      "jit-allow",
      "--fortimanager-devices",
      "fgt-hq,fgt-br1",
    ],
    {
      FORTIGATE_TOKEN: S.fgtToken,
      FORTIMANAGER_TOKEN: S.fmgToken,
    },
  );
  expect(r.stdout).toMatch(/· FortigateFeedEntry feed jit-allow\n {2}✔ auth — .*\n {2}✔ feed — .*\n {2}✔ entries — /);
  expect(r.stdout).toMatch(
    /· FortimanagerFeedEntry feed jit-allow, devices fgt-hq,fgt-br1\n {2}✔ auth — .*\n {2}✔ rights — .*\n {2}✔ devices — .*\n {2}✔ feed — /,
  );
  expect(r.code).toBe(0);
  const missing = await doctor(["--fortigate-url", fgt.url, "--fortigate-feed", "no-such-feed"], { FORTIGATE_TOKEN: S.fgtToken });
  expect(missing.code).toBe(1);
  expect(missing.stdout).toMatch(/^ {2}✘ feed — .* — 202102 /m);
  const noDevices = await doctor(["--fortimanager-url", fmg.url, "--fortimanager-admin", "alice", "--fortimanager-feed", "jit-allow"], {
    FORTIMANAGER_TOKEN: S.fmgToken,
  });
  expect(noDevices.stdout).toContain('no device list given (--fortimanager-devices, or "devices" in the config file)');
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

/**
 * `firewall-grants doctor --stack <name>` against the three emulators, with a fake `pulumi` on PATH
 * that prints a canned `pulumi stack export` and `pulumi config --json --show-secrets` (the real CLI
 * is not needed): every target the state names is checked (inputs, pinned device), with the
 * credentials of the stack's config or else the environment, and no secret is ever printed.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { testCaCert } from "../../emulators/kit";
import { startFortigateEmulator, type FortigateEmulator } from "../../emulators/fortigate/emulator";
import { startFortimanagerEmulator, type FortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { startOpnsenseEmulator, type OpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { ensureBuilt, run, type RunResult } from "./helpers";

const SECRET = "Stack-s3cr3t-never-printed";
const S = {
  opnKey: `opnkey-${SECRET}`,
  opnSecret: `opnsecret-${SECRET}`,
  fgtToken: `fgt${SECRET}`.replace(/-/g, ""),
  fgtReadToken: `fgtread${SECRET}`.replace(/-/g, ""),
  fmgToken: `fmg${SECRET}`.replace(/-/g, ""),
};
const CIPHERTEXT = `v1:${SECRET}-in-state`;

let opn: OpnsenseEmulator;
let fgt: FortigateEmulator;
let fmg: FortimanagerEmulator;
let dir: string;
const outputs: RunResult[] = [];

const secretValue = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: CIPHERTEXT };
const dyn = (type: string, name: string, inputs: Record<string, unknown>) => ({
  urn: `urn:pulumi:prod::grants::pulumi-nodejs:dynamic:Resource::${name}`,
  custom: true,
  type: `pulumi-nodejs:dynamic/${type}`,
  inputs: { __provider: "exports.handler = ...", ...inputs },
  outputs: { ...inputs },
});

function exportOf(only?: unknown[]): unknown {
  const doc = {
    version: 3,
    deployment: {
      manifest: { time: "2025-01-01T00:00:00Z" },
      resources: [
        { urn: "urn:pulumi:prod::grants::pulumi:pulumi:Stack::grants-prod", custom: false, type: "pulumi:pulumi:Stack" },
        // Settings from config: only the pinned device in state.
        dyn("opnsense:AliasEntry", "admin-alice", { alias: "jit_admins", address: "203.0.113.7", method: "table", device: { url: opn.url } }),
        dyn("opnsense:AliasEntry", "admin-bob", { alias: "jit_admins", address: "203.0.113.8", method: "table", device: { url: opn.url } }),
        dyn("opnsense:AliasEntry", "vendor-vpn", { alias: "jit_nets", address: "198.51.100.0/24", method: "config", device: { url: opn.url } }),
        // An inline connection, an inline token the engine encrypted (never used: credentials come from config or the environment).
        dyn("fortigate:Address", "alice-v6", {
          name: "grant-alice-v6",
          address: "2001:db8::7",
          group: "jit-admins6",
          connection: { url: fgt.url, vdom: "root" },
          credentials: secretValue,
          device: { url: fgt.url, scope: "vdom root" },
        }),
        // The VDOM from stack config or the environment: only the pin names it, as the provider writes it ("vdom root").
        dyn("fortigate:FeedEntry", "bob-lab", { feed: "jit-allow", address: "198.51.100.23", device: { url: fgt.url, scope: "vdom root" } }),
        dyn("fortimanager:TrustedHost", "alice-laptop", { adminUser: "alice", address: "203.0.113.7", device: { url: fmg.url } }),
        dyn("fortimanager:FeedEntry", "alice-branches", {
          feed: "jit-allow",
          devices: ["fgt-hq", "fgt-br1"],
          address: "203.0.113.7",
          device: { url: fmg.url, scope: "adom root" },
        }),
      ],
    },
  };
  if (only) doc.deployment.resources = [doc.deployment.resources[0]!, ...(only as typeof doc.deployment.resources)];
  return doc;
}

/** Sets, guards and feed sets as the providers store them (pinned scope "vdom root" / "adom root"). */
function setResources(): unknown[] {
  return [
    dyn("opnsense:AliasSet", "opn-set", {
      alias: "jit_nets",
      method: "config",
      addresses: ["198.51.100.1", { address: "198.51.100.128/25" }],
      device: { url: opn.url },
    }),
    dyn("opnsense:AliasGuard", "opn-guard", { alias: "jit_admins", method: "table", guard: true, addresses: ["203.0.113.7"], device: { url: opn.url } }),
    dyn("fortigate:AddressSet", "fgt-set", {
      group: "jit-admins",
      group6: "jit-admins6",
      namePrefix: "grant-",
      addresses: ["203.0.113.8", "2001:db8::8"],
      device: { url: fgt.url, scope: "vdom root" },
    }),
    dyn("fortigate:GroupGuard", "fgt-guard", {
      group: "jit-ops",
      guard: true,
      addresses: [{ address: "203.0.113.9", name: "grant-203.0.113.9" }],
      device: { url: fgt.url, scope: "vdom root" },
    }),
    dyn("fortigate:FeedSet", "fgt-feed-set", { feed: "jit-allow", addresses: ["198.51.100.24"], device: { url: fgt.url, scope: "vdom root" } }),
    dyn("fortimanager:TrustedHostSet", "fmg-set", {
      adminUser: "alice",
      addresses: [{ address: "203.0.113.7", description: "laptop" }],
      device: { url: fmg.url },
    }),
    dyn("fortimanager:TrustedHostGuard", "fmg-guard", { adminUser: "bob", guard: true, addresses: [], device: { url: fmg.url } }),
    dyn("fortimanager:FeedSet", "fmg-feed-set", {
      feed: "jit-allow",
      devices: ["fgt-hq"],
      addresses: ["203.0.113.7"],
      device: { url: fmg.url, scope: "adom root" },
    }),
  ];
}

function configOf(fgtToken: string): unknown {
  const ca = testCaCert();
  const v = (value: string, secret = false) => ({ value, secret });
  return {
    "grants:owner": v("ops"),
    "opnsense:apiKey": v(S.opnKey, true),
    "opnsense:apiSecret": v(S.opnSecret, true),
    "opnsense:caCert": v(ca),
    "fortigate:token": v(fgtToken, true),
    "fortigate:caCert": v(ca),
    "fortimanager:token": v(S.fmgToken, true),
    "fortimanager:caCert": v(ca),
  };
}

/** A `pulumi` that answers `stack export` and `config --json` from files, and records its arguments. */
function fakePulumi(config: unknown | undefined, only?: unknown[]): string {
  writeFileSync(path.join(dir, "export.json"), JSON.stringify(exportOf(only)));
  rmSync(path.join(dir, "config.json"), { force: true });
  if (config !== undefined) writeFileSync(path.join(dir, "config.json"), JSON.stringify(config));
  const bin = path.join(dir, "bin");
  const script = path.join(bin, "pulumi");
  writeFileSync(
    script,
    `#!/bin/sh
echo "$*" >> '${dir}/calls.log'
case "$1 $2" in
  "stack export") cat '${dir}/export.json' ;;
  "config --json") if [ -f '${dir}/config.json' ]; then cat '${dir}/config.json'; else echo "error: getting secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE" >&2; exit 255; fi ;;
  *) echo "fake pulumi: unexpected $*" >&2; exit 2 ;;
esac
`,
  );
  chmodSync(script, 0o755);
  return `${bin}:${process.env.PATH ?? ""}`;
}

async function doctor(args: readonly string[], env: Record<string, string>): Promise<RunResult> {
  const r = await run(["doctor", ...args], env);
  outputs.push(r);
  return r;
}

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(path.join(tmpdir(), "doctor-stack-test-"));
  require("node:fs").mkdirSync(path.join(dir, "bin"));
  opn = await startOpnsenseEmulator({
    users: [
      {
        name: "grants",
        key: S.opnKey,
        secret: S.opnSecret,
        privileges: ["page-diagnostics-tables", "page-firewall-aliases", "page-firewall-alias-edit"],
        disabled: false,
      },
    ],
  });
  fgt = await startFortigateEmulator({
    users: [
      { name: "grants-api", token: S.fgtToken, fwgrp: "read-write", sysgrp: "custom", sysgrpPermission: { cfg: "read-write" } },
      { name: "audit-api", token: S.fgtReadToken, fwgrp: "read", sysgrp: "none" },
    ],
    groups: [{ name: "jit-admins" }, { name: "jit-admins6", family: "ipv6" }, { name: "jit-ops" }],
    lockoutThreshold: 100,
  });
  fmg = await startFortimanagerEmulator({
    sysSessionForApiKeys: "answer",
    admins: [
      { userid: "grants-api", userType: "api", apiKey: S.fmgToken, profileid: "Super_User" },
      { userid: "alice", password: "alice-pw", profileid: "Restricted_User" },
      { userid: "bob", password: "bob-pw", profileid: "Restricted_User" },
    ],
  });
});

afterAll(async () => {
  await Promise.all([opn?.close(), fgt?.close(), fmg?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
  for (const r of outputs)
    for (const v of [...Object.values(S), CIPHERTEXT]) {
      expect(r.stdout).not.toContain(v);
      expect(r.stderr).not.toContain(v);
    }
  expect(outputs.map((r) => r.stdout + r.stderr).join("\n")).not.toContain(SECRET);
});

it("checks every target the state names, with the credentials of the stack's config, and exits 0", async () => {
  const PATH = fakePulumi(configOf(S.fgtToken));
  const r = await doctor(["--stack", "prod"], { PATH });
  // Only what preview could not prove may reach stderr (feed push rights), never a secret or an error.
  expect(r.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("warning: preview could not prove every right: "))).toEqual([]);
  const host = (u: string) => new URL(u).host;
  const headings = r.stdout.split("\n").filter((l) => / · /.test(l));
  expect(headings).toEqual([
    `opnsense ${host(opn.url)} · OpnsenseAliasEntry alias jit_admins, method table`,
    `opnsense ${host(opn.url)} · OpnsenseAliasEntry alias jit_nets, method config`,
    `fortigate ${host(fgt.url)} · FortigateAddress group jit-admins6`,
    `fortigate ${host(fgt.url)} · FortigateFeedEntry feed jit-allow`,
    `fortimanager ${host(fmg.url)} · FortimanagerTrustedHost adminUser alice`,
    `fortimanager ${host(fmg.url)} · FortimanagerFeedEntry feed jit-allow, devices fgt-hq,fgt-br1`,
  ]);
  // Where the settings came from: key names, never values.
  expect(r.stdout).toMatch(
    /^stack prod: 6 targets from its state; settings from its config \(fortigate:caCert, fortigate:token, fortimanager:caCert, fortimanager:token, opnsense:apiKey, opnsense:apiSecret, opnsense:caCert\), then the environment$/m,
  );
  expect(r.stdout).toMatch(/✔ all \d+ checks passed$/m);
  expect(r.code).toBe(0);
  expect(readFileSync(path.join(dir, "calls.log"), "utf8")).toContain("stack export --stack prod");
  expect(readFileSync(path.join(dir, "calls.log"), "utf8")).toContain("config --json --show-secrets --stack prod");
  // The IPv6 grant was checked against the addrgrp6 (its own address picks the family).
  expect(fgt.log.entries().some((e) => e.path.includes("/firewall/addrgrp6/jit-admins6"))).toBe(true);
});

it("a stack of only sets, guards and feed sets: each is checked on its pinned device and scope (vdom root, adom root), exit 0", async () => {
  const PATH = fakePulumi(configOf(S.fgtToken), setResources());
  fgt.log.clear();
  const r = await doctor(["--stack", "prod"], { PATH });
  // Only what preview could not prove may reach stderr (feed push rights), never a secret or an error.
  expect(r.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("warning: preview could not prove every right: "))).toEqual([]);
  const host = (u: string) => new URL(u).host;
  const headings = r.stdout.split("\n").filter((l) => / · /.test(l));
  expect(headings).toEqual([
    `opnsense ${host(opn.url)} · OpnsenseAliasSet alias jit_nets, method config`,
    `opnsense ${host(opn.url)} · OpnsenseAliasGuard alias jit_admins, method table`,
    `fortigate ${host(fgt.url)} · FortigateAddressSet group jit-admins`,
    `fortigate ${host(fgt.url)} · FortigateAddressSet group jit-admins6`,
    `fortigate ${host(fgt.url)} · FortigateGroupGuard group jit-ops`,
    `fortigate ${host(fgt.url)} · FortigateFeedSet feed jit-allow`,
    `fortimanager ${host(fmg.url)} · FortimanagerTrustedHostSet adminUser alice`,
    `fortimanager ${host(fmg.url)} · FortimanagerTrustedHostGuard adminUser bob`,
    `fortimanager ${host(fmg.url)} · FortimanagerFeedSet feed jit-allow, devices fgt-hq`,
  ]);
  expect(r.stdout).toMatch(/^stack prod: 9 targets from its state;/m);
  expect(r.stdout).toMatch(/✔ all \d+ checks passed$/m);
  expect(r.code).toBe(0);
  // The set's IPv6 entries were checked against its group6, an addrgrp6.
  expect(fgt.log.entries().some((e) => e.path.includes("/firewall/addrgrp6/jit-admins6"))).toBe(true);
});

it("a stack whose credentials may not write: the failed step is named with its diagnosis, exit 1", async () => {
  const PATH = fakePulumi(configOf(S.fgtReadToken));
  const r = await doctor(["--stack", "prod"], { PATH });
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/· FortigateAddress group jit-admins6\n {2}✔ auth — .*\n {2}✔ target — .*\n {2}✘ write — .* — 202002 /);
  expect(r.stdout).toMatch(/· FortigateFeedEntry feed jit-allow\n {2}✔ auth — .*\n {2}✘ feed — .* — 202002 /);
});

it("without a readable stack config (no passphrase), settings come from the environment, and the note says so", async () => {
  const PATH = fakePulumi(undefined);
  const ca = path.join(dir, "ca.pem");
  writeFileSync(ca, testCaCert());
  const r = await doctor(["--stack", "prod"], {
    PATH,
    FIREWALL_GRANTS_CA_CERT_FILE: ca,
    OPNSENSE_API_KEY: S.opnKey,
    OPNSENSE_API_SECRET: S.opnSecret,
    FORTIGATE_TOKEN: S.fgtToken,
    FORTIMANAGER_TOKEN: S.fmgToken,
    OPNSENSE_CA_CERT: testCaCert(),
    FORTIGATE_CA_CERT: testCaCert(),
    FORTIMANAGER_CA_CERT: testCaCert(),
  });
  expect(r.stdout).toMatch(
    /^stack prod: 6 targets from its state; its config could not be read \(pulumi config --json: error: getting secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE\), so settings come from the environment$/m,
  );
  expect(r.stdout).toMatch(/✔ all \d+ checks passed$/m);
  expect(r.code).toBe(0);
});

it("--stack takes no device option; an unknown stack is a usage error (exit 2)", async () => {
  const PATH = fakePulumi(undefined);
  const mixed = await doctor(["--stack", "prod", "--opnsense-alias", "x"], { PATH });
  expect(mixed.code).toBe(2);
  expect(mixed.stderr).toContain("--stack takes the targets");
  writeFileSync(path.join(dir, "bin", "pulumi"), `#!/bin/sh\necho "error: no stack named 'nope' found" >&2\nexit 255\n`);
  const unknown = await doctor(["--stack", "nope"], { PATH });
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain("pulumi stack export: error: no stack named 'nope' found");
});

/**
 * `firewall-grants emulate` as users run it in CI: parseable JSON, reachable URLs over TLS verified
 * with the written CA, credentials that work (doctor passes with env.sh), and a clean stop on SIGTERM.
 * Also the `--help` texts.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Agent, request } from "undici";
import type { EmulateInfo } from "../../cli/emulate";
import { cleanEnv, ensureBuilt, MAIN, run } from "./helpers";

let child: ChildProcess;
let info: EmulateInfo;
let dir: string;
let agent: Agent;
let stderr = "";
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(path.join(tmpdir(), "emulate-test-"));
  // A previous run's files in the reused --out-dir: its env.sh ("ready") and a key file it listed.
  writeFileSync(path.join(dir, "env.sh"), "export STALE_RUN=1\n");
  writeFileSync(path.join(dir, "old-device.key"), "key=old\n");
  writeFileSync(path.join(dir, ".emulate-files"), JSON.stringify(["old-device.key", "env.sh", "../outside"]));
  writeFileSync(path.join(dir, "notes.txt"), "not ours\n");
  child = spawn(process.execPath, [MAIN, "emulate", "--json", "--out-dir", dir], { env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const firstLine = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.on("exit", () => reject(new Error(`emulate exited early: ${stderr}`)));
  });
  info = JSON.parse(firstLine) as EmulateInfo;
  agent = new Agent({ connect: { ca: readFileSync(info.caCertFile, "utf8") } });
});

afterAll(async () => {
  await agent?.close();
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("prints JSON with URLs, credentials and the CA file, and writes env.sh and emulators.json", () => {
  expect(info.caCertFile).toBe(path.join(dir, "ca.pem"));
  expect(readFileSync(info.caCertFile, "utf8")).toContain("BEGIN CERTIFICATE");
  for (const u of [info.opnsense.url, info.fortigate.url, info.fortimanager.url]) expect(u).toMatch(/^https:\/\/localhost:\d+$/);
  expect(info.opnsense.users.full.privileges).toContain("page-diagnostics-tables");
  expect(info.opnsense.users.underPrivileged.privileges).not.toContain("page-diagnostics-tables");
  expect(readFileSync(info.opnsense.users.full.keyFile, "utf8")).toBe(`key=${info.opnsense.users.full.key}\nsecret=${info.opnsense.users.full.secret}\n`);
  expect(info.fortigate.users.readWrite.token).not.toBe(info.fortigate.users.readOnly.token);
  expect(info.fortimanager.users.login.username).toBe("grants");
  expect(JSON.parse(readFileSync(path.join(dir, "emulators.json"), "utf8"))).toEqual(info);
  const env = readFileSync(info.envFile, "utf8");
  expect(env).toContain(`export OPNSENSE_URL='${info.opnsense.url}'`);
  expect(env).toContain(`export FORTIGATE_TOKEN='${info.fortigate.users.readWrite.token}'`);
  expect(env).toContain(`export FORTIMANAGER_CA_CERT="$(cat '${info.caCertFile}')"`);
});

it("a reused --out-dir keeps nothing of the previous run (env.sh, its listed files) and nothing of others is removed", () => {
  expect(readFileSync(info.envFile, "utf8")).not.toContain("STALE_RUN");
  expect(existsSync(path.join(dir, "old-device.key"))).toBe(false);
  expect(readFileSync(path.join(dir, "notes.txt"), "utf8")).toBe("not ours\n");
  const listed = JSON.parse(readFileSync(path.join(dir, ".emulate-files"), "utf8")) as string[];
  expect(listed).toEqual(expect.arrayContaining(["env.sh", "emulators.json", "ca.pem", path.basename(info.opnsense.users.full.keyFile)]));
  expect(listed).not.toContain("notes.txt");
});

it("seeds every target the examples name (multi-device, passive-plus, sets, opnsense, fortigate, fortimanager): doctor passes on each", async () => {
  const config = path.join(dir, "examples-targets.json");
  writeFileSync(
    config,
    JSON.stringify({
      opnsense: [{ alias: "jit_admins" }, { alias: "jit_nets", method: "config" }].map((e) => ({ url: info.opnsense.url, ...e })),
      fortigate: [{ group: "jit-admins", feed: "jit-allow" }].map((e) => ({ url: info.fortigate.url, ...e })),
      fortimanager: [{ adminUser: "alice", feed: "jit-allow", devices: ["fgt-hq", "fgt-br1"] }, { adminUser: "bob" }].map((e) => ({
        url: info.fortimanager.url,
        ...e,
      })),
    }),
  );
  const env = Object.fromEntries(Object.entries(info.env));
  const v4 = await run(["doctor", "--config", config], env);
  expect(v4.stdout).toMatch(/✔ all \d+ checks passed/);
  expect(v4.code).toBe(0);
  for (const heading of [
    "OpnsenseAliasEntry alias jit_nets, method config",
    "FortigateFeedEntry feed jit-allow",
    "FortimanagerFeedEntry feed jit-allow, devices fgt-hq,fgt-br1",
    "FortimanagerTrustedHost adminUser bob",
  ])
    expect(v4.stdout).toContain(heading);
  // IPv6 grants (alice-v6, multi-device) go to the addrgrp6 jit-admins6.
  const v6 = await run(["doctor", "--fortigate-group", "jit-admins6", "--address", "2001:db8::7"], {
    FORTIGATE_URL: env.FORTIGATE_URL!,
    FORTIGATE_TOKEN: env.FORTIGATE_TOKEN!,
    FIREWALL_GRANTS_CA_CERT_FILE: info.caCertFile,
  });
  expect(v6.stdout).toContain("✔ all 3 checks passed");
});

it("the read-only FortiGate token has no System access: a feed preview fails with 202002", async () => {
  const r = await run(["doctor", "--fortigate-feed", "jit-allow"], {
    FORTIGATE_URL: info.fortigate.url,
    FORTIGATE_TOKEN: info.fortigate.users.readOnly.token,
    FIREWALL_GRANTS_CA_CERT_FILE: info.caCertFile,
  });
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/· FortigateFeedEntry feed jit-allow\n {2}✔ auth — .*\n {2}✘ feed — .* — 202002 /);
});

it("serves each device over TLS verified with the written CA, with the printed credentials", async () => {
  const full = info.opnsense.users.full;
  const opn = await request(`${info.opnsense.url}/api/firewall/alias/get_alias_u_u_i_d/jit_admins`, {
    headers: { authorization: `Basic ${Buffer.from(`${full.key}:${full.secret}`).toString("base64")}` },
    dispatcher: agent,
  });
  expect(opn.statusCode).toBe(200);
  expect(await opn.body.json()).toHaveProperty("uuid");

  const fgt = await request(`${info.fortigate.url}/api/v2/cmdb/firewall/addrgrp/jit-admins?vdom=root`, {
    headers: { authorization: `Bearer ${info.fortigate.users.readOnly.token}` },
    dispatcher: agent,
  });
  expect(fgt.statusCode).toBe(200);
  await fgt.body.dump();

  const fmg = await request(`${info.fortimanager.url}/jsonrpc`, {
    method: "POST",
    headers: { authorization: `Bearer ${info.fortimanager.users.superUserToken.token}`, "content-type": "application/json" },
    body: JSON.stringify({ id: 1, method: "get", params: [{ url: "/cli/global/system/admin/user/alice" }] }),
    dispatcher: agent,
  });
  expect(fmg.statusCode).toBe(200);
  const body = (await fmg.body.json()) as { result: { status: { code: number } }[] };
  expect(body.result[0]!.status.code).toBe(0);
});

it("gives doctor what it needs: with env.sh sourced, all checks pass; the under-privileged key fails with OPN001", async () => {
  const env = Object.fromEntries(Object.entries(info.env));
  const ok = await run(["doctor", "--opnsense-alias", "jit_admins", "--fortigate-group", "jit-admins", "--fortimanager-admin", "alice"], env);
  expect(ok.stdout).toContain("✔ all 10 checks passed");
  expect(ok.code).toBe(0);
  const low = await run(["doctor", "--opnsense-alias", "jit_admins", "--opnsense-key-file", info.opnsense.users.underPrivileged.keyFile], {
    ...env,
    FORTIGATE_TOKEN: info.fortigate.users.readOnly.token,
  });
  expect(low.code).toBe(1);
  expect(low.stdout).toMatch(/— OPN001 /);
  expect(low.stdout).toMatch(/· FortigateAddress\n {2}✔ auth — .*\n {2}✔ target — .*\n {2}✘ write — .* — 202002 /);
});

it("stops on SIGTERM and exits 0", async () => {
  child.kill("SIGTERM");
  expect(await exited).toEqual({ code: 0, signal: null });
  expect(stderr).toBe("");
  expect(existsSync(info.envFile)).toBe(true);
});

describe("help", () => {
  it("--help lists the commands and exits 0", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/doctor/);
    expect(r.stdout).toMatch(/emulate/);
  });
  it("help doctor says secrets never come from flags", async () => {
    const r = await run(["help", "doctor"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Secrets are NEVER taken from flags");
    expect(r.stdout).toContain("--opnsense-key-file");
  });
  it("an unknown command or option is a usage error (exit 2)", async () => {
    expect((await run(["frobnicate"])).code).toBe(2);
    const r = await run(["emulate", "--nope"]);
    expect(r.code).toBe(2);
    // Named by position, never by its text: a mistyped argument may be a secret (issue 18).
    expect(r.stderr).toContain("argument 2 is an unknown option");
    expect(r.stderr).not.toContain("--nope");
  });
});

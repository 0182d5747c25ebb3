/**
 * Issue 6, Secrets, at library level (the engine suites scan state, backend files, config and CLI
 * output: test/engine/*). Every credential gets a recognisable value; every failure path each device
 * can produce is driven through the provider objects — 401 with a wrong secret that contains the
 * right one, 403, timeouts, TLS, refused, DNS, 5xx and schema errors whose bodies ECHO the request's
 * credentials, device-shaped refusals whose messages echo them — plus successful create/read/delete.
 * Credentials holding `" \ / + = & < '` and non-ASCII letters (issue 18) make every echo encode them.
 * Then every string the run produced is scanned for each secret in each echoed form (as is, base64,
 * JSON-escaped, URL/form-encoded, HTML-escaped), and any 10-character piece of it or its base64: each error's message, String(), stack, JSON and util.inspect (cause chains and own
 * properties), CheckFailures, results, stdout/stderr (with FIREWALL_GRANTS_DEBUG=1), the emulators'
 * request logs (no credential in a URL); and no file may be written.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import type { EmulatorReply, EmulatorRequest, EmulatorServer, FaultRule } from "../emulators/kit";
import { fortigateAddressProvider, fortimanagerTrustedHostProvider, opnsenseAliasEntryProvider } from "../provider/index";
import { startOpnsenseEmulator, type OpnsenseEmulator } from "../emulators/opnsense/emulator";
import { startFortigateEmulator, type FortigateEmulator } from "../emulators/fortigate/emulator";
import { startFortimanagerEmulator, type FortimanagerEmulator } from "../emulators/fortimanager/emulator";
import { closeFortimanagerSessions } from "../provider/devices/fortimanager/session";
import { deviceList, grantResources, seededUsers, type NamedDeviceEntry, type SeededUsers } from "../provider/registry";
import { resetProcessState } from "../provider/core/process-state";
import { closeAllAgents } from "../provider/core/transport";
import { captureOutput, errorTexts, leakedFragments } from "./support/secrets";

/** Recognisable: a marker and random hex, so that any 10-character piece is unique to its secret. */
const mark = (what: string) => `${what}${randomBytes(12).toString("hex")}`;
const S = {
  opnKey: mark("OPNKEY"),
  opnSecret: mark("OPNSEC"),
  opnFileKey: mark("OPNFKEY"),
  opnFileSecret: mark("OPNFSEC"),
  opnEnvKey: mark("OPNEKEY"),
  opnEnvSecret: mark("OPNESEC"),
  opnNoPrivKey: mark("OPNNKEY"),
  opnNoPrivSecret: mark("OPNNSEC"),
  fgtToken: mark("FGTTOK"),
  fgtReadToken: mark("FGTRTOK"),
  fgtEnvToken: mark("FGTETOK"),
  fmgToken: mark("FMGTOK"),
  fmgCustomToken: mark("FMGCTOK"),
  fmgPassword: mark("FMGPW"),
  fmgNoRpcPassword: mark("FMGNPW"),
  // Issue 18: characters that JSON, URL, form and HTML encodings change; an echo shows them encoded.
  fmgQuotedPassword: `${mark("FMGQPW")}"\\${randomBytes(8).toString("hex")}/+ &<'\u00e9${randomBytes(8).toString("hex")}`,
  opnPlusKey: `${mark("OPNPKEY")}+/${randomBytes(8).toString("hex")}=`,
  opnPlusSecret: `${mark("OPNPSEC")}+/"${randomBytes(8).toString("hex")}==`,
};
/**
 * Every registered device (provider/registry.ts) also gets a seeded emulator whose two users hold
 * marked secrets, so a new device is in this suite without an edit here (the "every registered device" test).
 */
const REGISTERED = deviceList().map((device) => {
  const names = [...Object.values(device.emulator.credentials.full), ...Object.values(device.emulator.credentials.weak)];
  const values = Object.fromEntries(names.map((n) => [n, mark(`REG${n.toUpperCase()}`)]));
  return { device, values, users: seededUsers(device, values) };
});
const registered: { device: NamedDeviceEntry; values: Record<string, string>; users: SeededUsers; emu: EmulatorServer; untrusted: EmulatorServer }[] = [];
/** A wrong secret that contains the right one (a typo at the end), so a 401 path is also scanned for it. */
const wrong = (s: string) => `${s}-WRONG`;
/** Every secret, plus the OPNsense Basic credentials whose base64 travels in the header. */
const SECRETS: Record<string, string> = {
  ...S,
  opnBasic: `${S.opnKey}:${S.opnSecret}`,
  opnFileBasic: `${S.opnFileKey}:${S.opnFileSecret}`,
  opnEnvBasic: `${S.opnEnvKey}:${S.opnEnvSecret}`,
  opnNoPrivBasic: `${S.opnNoPrivKey}:${S.opnNoPrivSecret}`,
  opnWrongBasic: `${S.opnKey}:${wrong(S.opnSecret)}`,
  opnPlusBasic: `${S.opnPlusKey}:${S.opnPlusSecret}`,
  ...Object.fromEntries(REGISTERED.flatMap((r) => Object.entries(r.values).map(([n, v]) => [`registered ${r.device.name} ${n}`, v]))),
};
/** FortiManager login session ids, filled as the emulator backends hand them out. */
const sessionIds = new Set<string>();

/** Every string a case produced, with the case it came from. */
const collected: { where: string; text: string }[] = [];
const outcomes: Record<string, Record<string, string>> = Object.fromEntries(deviceList().map((d) => [d.name, {}]));
let output: ReturnType<typeof captureOutput>;
const fsWrites: string[] = [];
const fsReads: string[] = [];
let sandbox: string;
/** The fs module object every library module requires (the ES namespace import is a frozen copy). */

const nodeFs = require("node:fs") as Record<string, unknown> & { promises: Record<string, unknown> };
const unpatch: (() => void)[] = [];
/** Records calls of `target[api]` for which `writes(args)` holds. */
function patch(target: Record<string, unknown>, label: string, api: string, writes: (a: unknown[]) => boolean): void {
  const original = target[api] as (...a: unknown[]) => unknown;
  target[api] = function (this: unknown, ...a: unknown[]) {
    if (writes(a)) fsWrites.push(`${label}(${String(a[0])})`);
    return original.apply(this, a);
  };
  unpatch.push(() => (target[api] = original));
}
let keyDir: string;
const savedEnv = { ...process.env };

let opn: OpnsenseEmulator;
let opnUntrusted: OpnsenseEmulator;
let fgt: FortigateEmulator;
let fgtUntrusted: FortigateEmulator;
let fmg: FortimanagerEmulator;
let fmgUntrusted: FortimanagerEmulator;
const REFUSED_URL = "https://127.0.0.1:1";
const DNS_URL = "https://fw.secrets-test.invalid";

// ---- Replies that reflect the request (a debug page, a proxy that dumps what it got).
function dump(req: EmulatorRequest): string {
  const headers = Object.entries(req.headers)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join("\n");
  return `${req.method} ${req.rawPath}${req.rawQuery ? `?${req.rawQuery}` : ""}\n${headers}\n\n${req.body}`;
}
/** The bare credential first (no scheme word), then the body: what a parser error would quote. */
const rawCredentials = (req: EmulatorRequest) => `${String(req.headers.authorization ?? "").replace(/^\S+ /, "")} ${req.body}`;
const echo = {
  html:
    (status: number) =>
    (req: EmulatorRequest): EmulatorReply => ({
      status,
      text: `<html><body><h1>Error ${status}</h1><pre>${dump(req)}</pre></body></html>`,
      contentType: "text/html",
    }),
  json:
    (status: number) =>
    (req: EmulatorRequest): EmulatorReply => ({ status, json: { error: "internal", request: dump(req), headers: req.headers, body: req.body } }),
  raw:
    (status: number) =>
    (req: EmulatorRequest): EmulatorReply => ({ status, text: rawCredentials(req) }),
  /** JSON of the right family of shape but with the echoed values in the wrong places. */
  wrongShape:
    (status: number) =>
    (req: EmulatorRequest): EmulatorReply => ({
      status,
      json: { results: dump(req), result: { status: rawCredentials(req) }, alias: rawCredentials(req), rows: rawCredentials(req) },
    }),
};
/**
 * A 502/503 says Retry-After: 1 ms, a header the transport honours, so each of its five retries (every
 * echo is scanned) waits 1 ms instead of the default backoff of up to 2 s: what this suite asserts is
 * what the answers leak, not how long the provider waits between them.
 */
const reply = (match: string | undefined, fn: (req: EmulatorRequest) => EmulatorReply): FaultRule => ({
  ...(match !== undefined && { match }),
  kind: "reply",
  reply: (req) => {
    const r = fn(req);
    return r.status === 502 || r.status === 503 ? { ...r, headers: { ...r.headers, "retry-after": "0.001" } } : r;
  },
});

/** Every way a body can echo credentials, at a given status, for a given route. */
function echoFaults(match: string | undefined): [string, FaultRule][] {
  return [
    ["500 html echo", reply(match, echo.html(500))],
    ["500 json echo", reply(match, echo.json(500))],
    ["500 raw echo", reply(match, echo.raw(500))],
    ["502 html echo (retried)", reply(match, echo.html(502))],
    ["503 json echo (retried)", reply(match, echo.json(503))],
    ["400 json echo", reply(match, echo.json(400))],
    ["404 raw echo", reply(match, echo.raw(404))],
    ["200 raw echo (not JSON)", reply(match, echo.raw(200))],
    ["200 json echo (wrong shape)", reply(match, echo.wrongShape(200))],
  ];
}

// ---- Running a case and keeping everything it produced.
class NoFailure extends Error {}

/** Each case starts from the devices' initial state, no faults, and no cached preflight or session. */
function fresh(): void {
  resetProcessState();
  for (const e of [opn, fgt, fmg, ...registered.map((r) => r.emu)]) e.faults.clear();
  opn.backend.reset();
  fmg.backend.reset();
  fgt.backend.reset();
  fgt.backend.createGroup("root", "ipv4", "jit-admins", []);
}

/**
 * Runs one failure case and keeps what it produced. `allowSuccess`: a reply the client rightly does
 * not read (e.g. a 200 to a member POST) may let the operation succeed; its result is scanned anyway.
 */
async function expectFailure(device: keyof typeof outcomes, label: string, fn: () => Promise<unknown>, allowSuccess = false): Promise<void> {
  fresh();
  const where = `${device}: ${label}`;
  try {
    const r = (await fn()) as { failures?: unknown[] } | undefined;
    // A result's inline credentials are stored by the engine as a secret: scanned without them.
    const outs = (r as { outs?: Record<string, unknown> } | undefined)?.outs;
    collected.push({ where, text: JSON.stringify(outs ? { ...r, outs: { ...outs, credentials: undefined } } : r) ?? "" });
    if (!r?.failures?.length) {
      if (allowSuccess) return void (outcomes[device]![label] = "ok");
      throw new NoFailure(`${device} "${label}" did not fail`);
    }
    outcomes[device]![label] = "CheckFailure";
  } catch (e) {
    if (e instanceof NoFailure) throw e;
    collected.push(...errorTexts(e).map((text) => ({ where, text })));
    outcomes[device]![label] = String((e as { code?: unknown }).code ?? (e as Error).name);
  } finally {
    for (const e of [opn, fgt, fmg, ...registered.map((r) => r.emu)]) e.faults.clear();
  }
}

/** check → create → read → delete, keeping every result; outputs are scanned except the inline credentials the engine stores as a secret. */
async function lifecycle(
  device: keyof typeof outcomes,
  label: string,
  provider: NamedDeviceEntry["resources"][number]["provider"],
  inputs: Record<string, unknown>,
) {
  fresh();
  const p = provider as unknown as Record<string, (...a: unknown[]) => Promise<Record<string, unknown>>>;
  const checked = await p.check!({}, inputs);
  expect(checked.failures).toBeUndefined();
  const checkedInputs = checked.inputs as Record<string, unknown>;
  const created = await p.create!(checkedInputs);
  const outs = created.outs as Record<string, unknown>;
  const read = await p.read!(created.id, outs);
  expect(read.id).toBe(created.id);
  await p.delete!(created.id, outs);
  const strip = (o: Record<string, unknown>) => JSON.stringify({ ...o, credentials: undefined });
  const where = `${device}: ${label}`;
  collected.push(
    ...[strip(checkedInputs), String(created.id), strip(outs), strip((read.props as Record<string, unknown>) ?? {})].map((text) => ({ where, text })),
  );
  outcomes[device]![label] = "ok";
}

// ---- Inputs per device.
const opnInputs = (
  url: string,
  creds: { apiKey: string; apiSecret: string } | undefined,
  conn: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) => ({
  connection: { url, caCert: opn.caCert, ...conn },
  ...(creds && { credentials: creds }),
  alias: "jit_admins",
  address: "203.0.113.7",
  method: "table",
  ...extra,
});
const opnAdmin = { apiKey: S.opnKey, apiSecret: S.opnSecret };
const fgtInputs = (url: string, token: string | undefined, conn: Record<string, unknown> = {}) => ({
  connection: { url, caCert: fgt.caCert, ...conn },
  ...(token !== undefined && { credentials: { token } }),
  name: "grant-secrets",
  address: "203.0.113.8",
  group: "jit-admins",
});
const fmgToken = (url: string, token: string, conn: Record<string, unknown> = {}) => ({
  connection: { url, caCert: fmg.caCert, ...conn },
  credentials: { token },
  adminUser: "alice",
  address: "203.0.113.9",
});
const fmgSession = (url: string, username: string, password: string, conn: Record<string, unknown> = {}) => ({
  connection: { url, caCert: fmg.caCert, username, ...conn },
  credentials: { password },
  adminUser: "alice",
  address: "203.0.113.9",
});

beforeAll(async () => {
  sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "fwg-secrets-home-"));
  keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "fwg-secrets-keys-"));
  fs.writeFileSync(path.join(keyDir, "apikey.txt"), `key=${S.opnFileKey}\nsecret=${S.opnFileSecret}\n`);
  fs.writeFileSync(path.join(keyDir, "wrong.txt"), `key=${S.opnFileKey}\nsecret=${wrong(S.opnFileSecret)}\n`);

  const opnUsers = [
    { name: "root", key: S.opnKey, secret: S.opnSecret, privileges: ["page-all"], disabled: false },
    { name: "filekey", key: S.opnFileKey, secret: S.opnFileSecret, privileges: ["page-all"], disabled: false },
    { name: "envkey", key: S.opnEnvKey, secret: S.opnEnvSecret, privileges: ["page-all"], disabled: false },
    { name: "nopriv", key: S.opnNoPrivKey, secret: S.opnNoPrivSecret, privileges: [], disabled: false },
    { name: "pluskey", key: S.opnPlusKey, secret: S.opnPlusSecret, privileges: ["page-all"], disabled: false },
  ];
  const fgtOpts = {
    users: [
      {
        name: "api",
        token: S.fgtToken,
        fwgrp: "read-write" as const,
        sysgrp: "custom" as const,
        sysgrpPermission: { cfg: "read-write" as const },
        vdoms: ["root"],
      },
      { name: "ro", token: S.fgtReadToken, fwgrp: "read" as const, sysgrp: "read" as const, vdoms: ["root"] },
      {
        name: "env",
        token: S.fgtEnvToken,
        fwgrp: "read-write" as const,
        sysgrp: "custom" as const,
        sysgrpPermission: { cfg: "read-write" as const },
        vdoms: ["root"],
      },
    ],
    lockoutThreshold: 1_000_000,
    groups: [{ name: "jit-admins" }],
  };
  const fmgOpts = {
    sysSessionForApiKeys: "answer" as const,
    admins: [
      { userid: "leakadmin", password: S.fmgPassword, profileid: "Super_User" },
      { userid: "leakapi", userType: "api" as const, apiKey: S.fmgToken, profileid: "Super_User" },
      { userid: "leakcustomapi", userType: "api" as const, apiKey: S.fmgCustomToken, profileid: "custom_admins" },
      { userid: "leaknorpc", password: S.fmgNoRpcPassword, profileid: "Super_User", rpcPermit: "none" as const },
      { userid: "leakquoted", password: S.fmgQuotedPassword, profileid: "Super_User" },
      { userid: "alice", password: "alice-pw", profileid: "Restricted_User" },
    ],
  };
  [opn, opnUntrusted, fgt, fgtUntrusted, fmg, fmgUntrusted] = await Promise.all([
    startOpnsenseEmulator({ users: opnUsers }),
    startOpnsenseEmulator({ users: opnUsers, tls: "untrusted" }),
    startFortigateEmulator(fgtOpts),
    startFortigateEmulator({ ...fgtOpts, tls: "untrusted" }),
    startFortimanagerEmulator(fmgOpts),
    startFortimanagerEmulator({ ...fmgOpts, tls: "untrusted" }),
  ]);
  for (const r of REGISTERED) {
    const emu = await r.device.emulator.seeded({}, r.users);
    const untrusted = await r.device.emulator.seeded({ tls: "untrusted" }, r.users);
    registered.push({ ...r, emu, untrusted });
  }
  for (const e of [fmg, fmgUntrusted]) {
    const login = e.backend.login.bind(e.backend);
    e.backend.login = (user, passwd) => {
      const r = login(user, passwd);
      if (r.sid) sessionIds.add(r.sid);
      return r;
    };
  }

  // From here on, everything the library does is recorded.
  process.env.HOME = sandbox;
  process.env.TMPDIR = sandbox;
  process.env.FIREWALL_GRANTS_DEBUG = "1";
  const writeApis = [
    "writeFile",
    "writeFileSync",
    "appendFile",
    "appendFileSync",
    "createWriteStream",
    "mkdir",
    "mkdirSync",
    "mkdtemp",
    "mkdtempSync",
    "rename",
    "renameSync",
    "copyFile",
    "copyFileSync",
    "symlink",
    "symlinkSync",
    "truncate",
    "truncateSync",
  ];
  for (const api of writeApis) patch(nodeFs, `fs.${api}`, api, () => true);
  const writing = (flags: unknown) => flags !== undefined && flags !== "r" && flags !== 0;
  for (const api of ["open", "openSync"]) patch(nodeFs, `fs.${api}`, api, (a) => writing(a[1]));
  for (const api of ["writeFile", "appendFile", "mkdir", "rename", "copyFile"]) patch(nodeFs.promises, `fs.promises.${api}`, api, () => true);
  patch(nodeFs.promises, "fs.promises.open", "open", (a) => writing(a[1]));
  const readFileSync = nodeFs.readFileSync as (...a: unknown[]) => unknown;
  unpatch.push(() => (nodeFs.readFileSync = readFileSync));
  nodeFs.readFileSync = (...a: unknown[]) => {
    fsReads.push(String(a[0]));
    return readFileSync(...a);
  };
  output = captureOutput({ passThrough: false });
});

afterAll(async () => {
  output?.restore();
  for (const u of unpatch.splice(0)) u();
  process.env = savedEnv;
  await closeFortimanagerSessions();
  await closeAllAgents();
  await Promise.all([opn, opnUntrusted, fgt, fgtUntrusted, fmg, fmgUntrusted, ...registered.flatMap((r) => [r.emu, r.untrusted])].map((e) => e?.close()));
  for (const d of [sandbox, keyDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

describe("secrets: every failure path of every device, then a scan of everything produced", () => {
  test("OPNsense: inline, key-file and environment credentials", async () => {
    const P = opnsenseAliasEntryProvider as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const check = (i: Record<string, unknown>) => P.check!({}, i);
    const create = (i: Record<string, unknown>) => P.create!(i);
    const keyFile = path.join(keyDir, "apikey.txt");

    await lifecycle("opnsense", "success (inline)", opnsenseAliasEntryProvider, opnInputs(opn.url, opnAdmin));
    await lifecycle("opnsense", "success (config mode, inline)", opnsenseAliasEntryProvider, opnInputs(opn.url, opnAdmin, {}, { method: "config" }));
    await lifecycle("opnsense", "success (key file)", opnsenseAliasEntryProvider, opnInputs(opn.url, undefined, { apiKeyFile: keyFile }));
    process.env.OPNSENSE_API_KEY = S.opnEnvKey;
    process.env.OPNSENSE_API_SECRET = S.opnEnvSecret;
    try {
      await lifecycle("opnsense", "success (environment)", opnsenseAliasEntryProvider, opnInputs(opn.url, undefined));
      await expectFailure("opnsense", "500 json echo (environment)", async () => {
        opn.faults.add(reply(undefined, echo.json(500)));
        return check(opnInputs(opn.url, undefined));
      });
    } finally {
      delete process.env.OPNSENSE_API_KEY;
      delete process.env.OPNSENSE_API_SECRET;
    }
    expect(fsReads).toContain(keyFile); // the spies see the library's own fs calls

    await expectFailure("opnsense", "401 wrong secret (inline)", () => check(opnInputs(opn.url, { apiKey: S.opnKey, apiSecret: wrong(S.opnSecret) })));
    await expectFailure("opnsense", "401 wrong secret (create)", () => create(opnInputs(opn.url, { apiKey: S.opnKey, apiSecret: wrong(S.opnSecret) })));
    await expectFailure("opnsense", "401 wrong secret (key file)", () => check(opnInputs(opn.url, undefined, { apiKeyFile: path.join(keyDir, "wrong.txt") })));
    await expectFailure("opnsense", "403 no privilege (check)", () => check(opnInputs(opn.url, { apiKey: S.opnNoPrivKey, apiSecret: S.opnNoPrivSecret })));
    await expectFailure("opnsense", "403 no privilege (create)", () => create(opnInputs(opn.url, { apiKey: S.opnNoPrivKey, apiSecret: S.opnNoPrivSecret })));
    await expectFailure("opnsense", "timeout (hang)", async () => {
      opn.faults.add({ kind: "hang" });
      return check(opnInputs(opn.url, opnAdmin, { timeoutMs: 150 }));
    });
    await expectFailure("opnsense", "TLS untrusted", () => check(opnInputs(opnUntrusted.url, opnAdmin)));
    await expectFailure("opnsense", "refused", () => check(opnInputs(REFUSED_URL, opnAdmin)));
    await expectFailure("opnsense", "DNS .invalid", () => check(opnInputs(DNS_URL, opnAdmin)));
    await expectFailure("opnsense", "reset", async () => {
      opn.faults.add({ kind: "reset", match: "alias_util/add" });
      return create(opnInputs(opn.url, opnAdmin));
    });
    for (const [name, rule] of echoFaults(undefined))
      await expectFailure("opnsense", `${name} (check)`, async () => (opn.faults.add(rule), check(opnInputs(opn.url, opnAdmin))));
    for (const [name, rule] of echoFaults("alias_util/add"))
      await expectFailure("opnsense", `${name} (alias_util/add)`, async () => (opn.faults.add(rule), create(opnInputs(opn.url, opnAdmin))));
    for (const [name, rule] of echoFaults("set_item"))
      await expectFailure("opnsense", `${name} (set_item)`, async () => (opn.faults.add(rule), create(opnInputs(opn.url, opnAdmin, {}, { method: "config" }))));
    // A key and secret with + / = " (encoded differently by every echo): the Basic header and the form/JSON echoes.
    const plus = { apiKey: S.opnPlusKey, apiSecret: S.opnPlusSecret };
    await lifecycle("opnsense", "success (key with + / =)", opnsenseAliasEntryProvider, opnInputs(opn.url, plus));
    await expectFailure("opnsense", "401 wrong secret (key with + / =)", () => check(opnInputs(opn.url, { ...plus, apiSecret: wrong(S.opnPlusSecret) })));
    for (const [name, rule] of echoFaults(undefined))
      await expectFailure("opnsense", `${name} (check, key with + / =)`, async () => (opn.faults.add(rule), check(opnInputs(opn.url, plus))));
    // Device-shaped refusals whose messages echo the request.
    await expectFailure(
      "opnsense",
      "401 json echo",
      async () => (opn.faults.add(reply(undefined, (r) => ({ status: 401, json: { status: 401, message: dump(r) } }))), check(opnInputs(opn.url, opnAdmin))),
    );
    await expectFailure(
      "opnsense",
      "403 json echo",
      async () => (opn.faults.add(reply(undefined, (r) => ({ status: 403, json: { status: 403, message: dump(r) } }))), check(opnInputs(opn.url, opnAdmin))),
    );
    await expectFailure(
      "opnsense",
      "500 UserException echo",
      async () => (
        opn.faults.add(reply("alias_util/add", (r) => ({ status: 500, json: { errorTitle: rawCredentials(r), errorMessage: dump(r) } }))),
        create(opnInputs(opn.url, opnAdmin))
      ),
    );
    await expectFailure(
      "opnsense",
      "alias_util/add status_msg echo",
      async () => (
        opn.faults.add(reply("alias_util/add", (r) => ({ status: 200, json: { status: "failed", status_msg: dump(r) } }))),
        create(opnInputs(opn.url, opnAdmin))
      ),
    );
    await expectFailure(
      "opnsense",
      "set_item validations echo",
      async () => (
        opn.faults.add(reply("set_item", (r) => ({ status: 200, json: { result: "failed", validations: { "alias.content": dump(r) } } }))),
        create(opnInputs(opn.url, opnAdmin, {}, { method: "config" }))
      ),
    );
    await expectFailure(
      "opnsense",
      "reconfigure status echo",
      async () => (
        opn.faults.add(reply("POST /api/firewall/alias/reconfigure", (r) => ({ status: 200, json: { status: rawCredentials(r) } }))),
        create(opnInputs(opn.url, opnAdmin, {}, { method: "config" }))
      ),
    );
    await expectFailure(
      "opnsense",
      "reconfigure 500 echo",
      async () => (
        opn.faults.add(reply("POST /api/firewall/alias/reconfigure", (r) => ({ status: 500, json: { errorMessage: dump(r) } }))),
        create(opnInputs(opn.url, opnAdmin, {}, { method: "config" }))
      ),
    );
    await expectFailure(
      "opnsense",
      "menu 200 wrong shape echo",
      async () => (opn.faults.add(reply("menu/search", (r) => ({ status: 200, json: { Url: rawCredentials(r) } }))), check(opnInputs(opn.url, opnAdmin))),
    );
  });

  test("FortiGate: inline and environment token", async () => {
    const P = fortigateAddressProvider as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const check = (i: Record<string, unknown>) => P.check!({}, i);
    const create = (i: Record<string, unknown>) => P.create!(i);
    const del = (i: Record<string, unknown>) =>
      P.delete!("root/grant-secrets", {
        ...i,
        cidr: "203.0.113.8/32",
        family: "ipv4",
        vdom: "root",
        comment: "",
        adopted: false,
        membershipAdded: true,
        objectPath: "/api/v2/cmdb/firewall/address/grant-secrets",
      });

    await lifecycle("fortigate", "success (inline)", fortigateAddressProvider, fgtInputs(fgt.url, S.fgtToken));
    process.env.FORTIGATE_TOKEN = S.fgtEnvToken;
    try {
      await lifecycle("fortigate", "success (environment)", fortigateAddressProvider, fgtInputs(fgt.url, undefined));
      await expectFailure(
        "fortigate",
        "500 json echo (environment)",
        async () => (fgt.faults.add(reply(undefined, echo.json(500))), check(fgtInputs(fgt.url, undefined))),
      );
    } finally {
      delete process.env.FORTIGATE_TOKEN;
    }
    await expectFailure("fortigate", "401 wrong token (check)", () => check(fgtInputs(fgt.url, wrong(S.fgtToken))));
    await expectFailure("fortigate", "401 wrong token (create)", () => create(fgtInputs(fgt.url, wrong(S.fgtToken))));
    await expectFailure("fortigate", "401 wrong token (delete)", () => del(fgtInputs(fgt.url, wrong(S.fgtToken))));
    await expectFailure("fortigate", "403 read-only profile (check)", () => check(fgtInputs(fgt.url, S.fgtReadToken)));
    await expectFailure("fortigate", "403 read-only profile (create)", () => create(fgtInputs(fgt.url, S.fgtReadToken)));
    await expectFailure("fortigate", "403 VDOM", () => check(fgtInputs(fgt.url, S.fgtToken, { vdom: "other" })));
    await expectFailure("fortigate", "429 lockout html", async () => (fgt.faults.add({ kind: "status", status: 429 }), check(fgtInputs(fgt.url, S.fgtToken))));
    await expectFailure(
      "fortigate",
      "timeout (hang)",
      async () => (fgt.faults.add({ kind: "hang" }), check(fgtInputs(fgt.url, S.fgtToken, { timeoutMs: 150 }))),
    );
    await expectFailure(
      "fortigate",
      "timeout on create POST (hang)",
      async () => (fgt.faults.add({ kind: "hang", match: "POST /api/v2/cmdb/firewall/address" }), create(fgtInputs(fgt.url, S.fgtToken, { timeoutMs: 150 }))),
    );
    await expectFailure("fortigate", "TLS untrusted", () => check(fgtInputs(fgtUntrusted.url, S.fgtToken)));
    await expectFailure("fortigate", "refused", () => check(fgtInputs(REFUSED_URL, S.fgtToken)));
    await expectFailure("fortigate", "DNS .invalid", () => check(fgtInputs(DNS_URL, S.fgtToken)));
    for (const [name, rule] of echoFaults(undefined))
      await expectFailure("fortigate", `${name} (check)`, async () => (fgt.faults.add(rule), check(fgtInputs(fgt.url, S.fgtToken))));
    for (const [name, rule] of echoFaults("POST /api/v2/cmdb/firewall/address"))
      await expectFailure("fortigate", `${name} (create POST)`, async () => (fgt.faults.add(rule), create(fgtInputs(fgt.url, S.fgtToken))));
    for (const [name, rule] of echoFaults("/member"))
      await expectFailure("fortigate", `${name} (member)`, async () => (fgt.faults.add(rule), create(fgtInputs(fgt.url, S.fgtToken))), name.startsWith("200"));
    await expectFailure(
      "fortigate",
      "500 cli_error echo",
      async () => (
        fgt.faults.add(
          reply("POST /api/v2/cmdb/firewall/address", (r) => ({ status: 500, json: { status: "error", http_status: 500, error: -651, cli_error: dump(r) } })),
        ),
        create(fgtInputs(fgt.url, S.fgtToken))
      ),
    );
    await expectFailure("fortigate", "401 html echo", async () => (fgt.faults.add(reply(undefined, echo.html(401))), check(fgtInputs(fgt.url, S.fgtToken))));
    await expectFailure("fortigate", "403 json echo", async () => (fgt.faults.add(reply(undefined, echo.json(403))), check(fgtInputs(fgt.url, S.fgtToken))));
    // A genuine FortiOS refusal: the full CMDB envelope of this DELETE (client.ts `answer` trusts nothing less), echoing the request in cli_error.
    const fortiosRefusal = (r: EmulatorRequest): EmulatorReply => ({
      status: 500,
      json: {
        http_method: "DELETE",
        revision: "1",
        vdom: "root",
        path: "firewall",
        name: "address",
        mkey: "grant-secrets",
        status: "error",
        http_status: 500,
        error: -23,
        cli_error: dump(r),
        serial: "FGVM02TM24000001",
        version: "v7.4.4",
        build: 2662,
      },
    });
    await expectFailure(
      "fortigate",
      "delete 500 -23 echo",
      async () => (
        fgt.faults.add(reply("DELETE /api/v2/cmdb/firewall/address/", fortiosRefusal)),
        del({ ...fgtInputs(fgt.url, S.fgtToken), group: undefined })
      ),
    );
    expect(outcomes.fortigate!["delete 500 -23 echo"]).toBe("202063");
  });

  test("FortiManager: API token, and username/password sessions", async () => {
    const P = fortimanagerTrustedHostProvider as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const check = (i: Record<string, unknown>) => P.check!({}, i);
    const create = (i: Record<string, unknown>) => P.create!(i);
    const tok = (o: Record<string, unknown> = {}) => fmgToken(fmg.url, S.fmgToken, o);
    const ses = (o: Record<string, unknown> = {}) => fmgSession(fmg.url, "leakadmin", S.fmgPassword, o);
    const quoted = (o: Record<string, unknown> = {}) => fmgSession(fmg.url, "leakquoted", S.fmgQuotedPassword, o);
    const statusEcho =
      (code: number) =>
      (r: EmulatorRequest): EmulatorReply => {
        const body = JSON.parse(r.body || "{}") as { id?: unknown; params?: { url?: string }[] };
        return { status: 200, json: { id: body.id, result: [{ status: { code, message: dump(r) }, url: body.params?.[0]?.url ?? "" }] } };
      };

    await lifecycle("fortimanager", "success (token)", fortimanagerTrustedHostProvider, tok());
    await lifecycle("fortimanager", "success (session)", fortimanagerTrustedHostProvider, ses());
    await lifecycle("fortimanager", "success (session, password with quotes and backslashes)", fortimanagerTrustedHostProvider, quoted());
    await expectFailure("fortimanager", "-22 wrong password with quotes and backslashes", () =>
      check(fmgSession(fmg.url, "leakquoted", wrong(S.fmgQuotedPassword))),
    );
    process.env.FORTIMANAGER_USERNAME = "leakadmin";
    process.env.FORTIMANAGER_PASSWORD = S.fmgPassword;
    try {
      const { credentials: _c, ...noCreds } = ses({ username: undefined });
      await lifecycle("fortimanager", "success (session, environment)", fortimanagerTrustedHostProvider, {
        ...noCreds,
        connection: { url: fmg.url, caCert: fmg.caCert },
      });
    } finally {
      delete process.env.FORTIMANAGER_USERNAME;
      delete process.env.FORTIMANAGER_PASSWORD;
    }
    expect(sessionIds.size).toBeGreaterThan(0);

    await expectFailure("fortimanager", "-11 wrong token (check)", () => check(fmgToken(fmg.url, wrong(S.fmgToken))));
    await expectFailure("fortimanager", "-11 wrong token (create)", () => create(fmgToken(fmg.url, wrong(S.fmgToken))));
    await expectFailure("fortimanager", "-22 wrong password (check)", () => check(fmgSession(fmg.url, "leakadmin", wrong(S.fmgPassword))));
    await expectFailure("fortimanager", "-22 wrong password (create)", () => create(fmgSession(fmg.url, "leakadmin", wrong(S.fmgPassword))));
    await expectFailure("fortimanager", "-11 login rpc-permit none", () => check(fmgSession(fmg.url, "leaknorpc", S.fmgNoRpcPassword)));
    await expectFailure("fortimanager", "permission: custom profile token (check)", () =>
      check(fmgToken(fmg.url, S.fmgCustomToken, { username: "leakcustomapi" })),
    );
    await expectFailure("fortimanager", "permission: custom profile token (create)", () => create(fmgToken(fmg.url, S.fmgCustomToken)));
    await expectFailure("fortimanager", "session expired mid-run, then -11 echo", async () => {
      fmg.faults.add(reply("/jsonrpc", statusEcho(-11)));
      return create(ses());
    });
    for (const [label, inputs] of [
      ["token", tok],
      ["session", ses],
      ["session, password with quotes and backslashes", quoted],
    ] as const) {
      await expectFailure("fortimanager", `timeout (hang, ${label})`, async () => (fmg.faults.add({ kind: "hang" }), check(inputs({ timeoutMs: 150 }))));
      await expectFailure("fortimanager", `TLS untrusted (${label})`, () =>
        check({ ...inputs(), connection: { ...(inputs().connection as object), url: fmgUntrusted.url } }),
      );
      await expectFailure("fortimanager", `refused (${label})`, () =>
        check({ ...inputs(), connection: { ...(inputs().connection as object), url: REFUSED_URL } }),
      );
      await expectFailure("fortimanager", `DNS .invalid (${label})`, () =>
        check({ ...inputs(), connection: { ...(inputs().connection as object), url: DNS_URL } }),
      );
      await expectFailure("fortimanager", `reset (${label})`, async () => (fmg.faults.add({ kind: "reset" }), check(inputs())));
      for (const [name, rule] of echoFaults(undefined))
        await expectFailure("fortimanager", `${name} (${label}, first call)`, async () => (fmg.faults.add(rule), check(inputs())));
      for (const code of [-22, -11, -3, -6, -9998, -20055, -60804]) {
        await expectFailure(
          "fortimanager",
          `status ${code} message echo (${label}, first call)`,
          async () => (fmg.faults.add(reply("/jsonrpc", statusEcho(code))), check(inputs())),
        );
      }
      // Past login/reads: the update that writes the slot answers with an echo.
      for (const [name, rule] of echoFaults(undefined)) {
        await expectFailure("fortimanager", `${name} (${label}, update)`, async () => {
          fmg.faults.sequence("/jsonrpc", label.startsWith("session") ? ["ok", "ok"] : ["ok"]).add(rule);
          return create(inputs());
        });
      }
      await expectFailure("fortimanager", `status -9998 message echo (${label}, update)`, async () => {
        fmg.faults.sequence("/jsonrpc", label.startsWith("session") ? ["ok", "ok"] : ["ok"]).add(reply("/jsonrpc", statusEcho(-9998)));
        return create(inputs());
      });
    }
  });

  test("every registered device has its seeded emulators here", () => {
    expect(registered.map((r) => r.device.name)).toEqual(deviceList().map((d) => d.name));
  });

  // One test per resource, named by its class, so `-t <Class>` runs a new device's row (test/scaffold.test.ts).
  test.each(grantResources().map((g) => [g.resource.names.className, g] as const))(
    "%s (registry): inline lifecycle, wrong and under-privileged credentials, TLS, refused, DNS, echoing bodies",
    async (_className, { device, resource }) => {
      const r = registered.find((x) => x.device.name === device.name)!;
      const P = resource.provider as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      const inputs = (target: { url: string; caCert: string }, creds = r.users.full) => resource.sampleInputs(target, creds);
      const wrongCreds = Object.fromEntries(Object.entries(r.users.full).map(([k, v]) => [k, Object.values(r.values).includes(v) ? wrong(v) : v]));
      const label = (what: string) => `${resource.names.className}: ${what} (registry)`;
      await lifecycle(device.name, label("success (inline)"), resource.provider, inputs(r.emu));
      await expectFailure(device.name, label("wrong credentials"), () => P.check!({}, inputs(r.emu, wrongCreds)));
      await expectFailure(device.name, label("under-privileged credentials"), () => P.check!({}, inputs(r.emu, r.users.weak)));
      await expectFailure(device.name, label("TLS untrusted"), () => P.check!({}, inputs(r.untrusted)));
      await expectFailure(device.name, label("refused"), () => P.check!({}, inputs({ url: REFUSED_URL, caCert: r.emu.caCert })));
      await expectFailure(device.name, label("DNS .invalid"), () => P.check!({}, inputs({ url: DNS_URL, caCert: r.emu.caCert })));
      for (const [name, rule] of echoFaults(undefined))
        await expectFailure(device.name, label(`${name} (check)`), async () => (r.emu.faults.add(rule), P.check!({}, inputs(r.emu))));
    },
  );

  test("nothing produced holds a secret, a session id, or a piece of one", () => {
    const secrets: Record<string, string> = { ...SECRETS };
    [...sessionIds].forEach((sid, i) => (secrets[`fortimanagerSession${i}`] = sid));
    const logs = [opn, opnUntrusted, fgt, fgtUntrusted, fmg, fmgUntrusted, ...registered.flatMap((r) => [r.emu, r.untrusted])].map((e: EmulatorServer) =>
      e.log.entries(),
    );
    const out = output.text();
    // The debug lines were on (so the transport's request logging was scanned too).
    expect(out).toContain("[firewall-grants] ");
    const scanned = [...collected, { where: "stdout/stderr", text: out }, { where: "emulator request logs", text: JSON.stringify(logs) }];
    const leaks: Record<string, string[]> = {};
    for (const { where, text } of scanned) {
      const found = leakedFragments(text, secrets);
      if (found.length > 0) leaks[where] = [...new Set([...(leaks[where] ?? []), ...found])];
    }
    expect(leaks).toEqual({});
    // No credential-like parameter in any URL.
    // By parameter name: FortiOS's own `mkey` (the object's key, e.g. a feed name) is not a credential.
    const credentialParam = (name: string) => name !== "mkey" && /token|key|secret|pass|session|auth/i.test(name);
    const queries = logs
      .flat()
      .map((e) => e.query)
      .filter((q) => [...new URLSearchParams(q).keys()].some(credentialParam));
    expect(queries).toEqual([]);
    // No file written, in the sandbox HOME/TMPDIR or anywhere through fs.
    expect(fs.readdirSync(sandbox)).toEqual([]);
    expect(fsWrites).toEqual([]);
    const counts = Object.fromEntries(Object.entries(outcomes).map(([d, o]) => [d, Object.keys(o).length]));
    output.restore();
    process.stdout.write(
      `secrets suite: ${JSON.stringify(counts)} cases, ${collected.length} error/result strings (${collected.reduce((n, c) => n + c.text.length, 0)} chars), ${out.length} chars of output, ${logs.flat().length} logged requests, ${Object.keys(secrets).length} secrets incl. ${sessionIds.size} session ids\n`,
    );
    process.stdout.write(`${JSON.stringify(outcomes, null, 1)}\n`);
  });
});

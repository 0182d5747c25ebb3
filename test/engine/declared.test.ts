/**
 * Issue 9 with the real Pulumi CLI, one program driven by data (test/engine/programs/declared):
 * - the device is pinned: its URL changed through stack config, then through the environment →
 *   preview shows a replace, `up` moves the grants and empties the old device (a change of route to
 *   the same device is no change);
 * - in-place updates (description/comment) together with a credential rotation succeed twice in a
 *   row, then preview shows no changes;
 * - two grants of one address: deleting one keeps the address, deleting the other removes it;
 * - http:// and user-info URLs are refused at preview, inline, in stack config and in the
 *   environment, naming where the URL came from, with no request reaching any device.
 * Concurrency, faults, kills and misbehaving servers are in declared-*.test.ts.
 */
import { isDeepStrictEqual } from "node:util";
import { deviceEnv, makeCredentials, startDevices, type DeviceSnapshot, type Devices } from "../../scripts/engine-fixture";
import { startFortigateEmulator, startFortimanagerEmulator, startOpnsenseEmulator, type EmulatorServer } from "../../emulators/index";
import { DeclaredStack, fmgSlots, ok, opnAlias, type GrantSpec } from "./declared-helpers";
import { describeWithCli } from "./helpers";

jest.setTimeout(300_000);

/** Device env without the URLs (they come from stack config or per-run env in these tests). */
const withoutUrls = (env: Record<string, string>) => Object.fromEntries(Object.entries(env).filter(([k]) => !k.endsWith("_URL")));
const urlsOf = (d: Devices) => ({ opnsense: d.opnsense.url, fortigate: d.fortigate.url, fortimanager: d.fortimanager.url });
const replaceLine = (type: string, name: string) => new RegExp(`[-+]{2}\\s+pulumi-nodejs:dynamic/${type} ${name}\\s+replace`);

/** Where each grant of {@link moving} is, per device set. */
function where(d: Devices) {
  const fgt = d.fortigate.backend;
  return {
    opnTable: opnAlias(d.opnsense, "jit_admins").table.includes("203.0.113.50"),
    opnConfig: opnAlias(d.opnsense, "jit_nets").content.includes("198.51.100.64/26"),
    fgtObject: fgt.addresses("root", "ipv4").some((a) => a.name === "grant-moving"),
    fgtMember: fgt.groupMembers("root", "jit-admins", "ipv4").includes("grant-moving"),
    fmgSlot: fmgSlots(d.fortimanager, "alice").includes("203.0.113.50/32"),
  };
}
const everywhere = { opnTable: true, opnConfig: true, fgtObject: true, fgtMember: true, fmgSlot: true };
const nowhere = { opnTable: false, opnConfig: false, fgtObject: false, fgtMember: false, fmgSlot: false };

const moving: GrantSpec[] = [
  { kind: "opnsense", name: "opn-t", alias: "jit_admins", address: "203.0.113.50" },
  { kind: "opnsense", name: "opn-c", alias: "jit_nets", address: "198.51.100.64/26", method: "config" },
  { kind: "fortigate", name: "fgt", object: "grant-moving", address: "203.0.113.50", group: "jit-admins" },
  { kind: "fortimanager", name: "fmg", adminUser: "alice", address: "203.0.113.50" },
];

describeWithCli("engine (issue 9): pinned device, in-place updates, shared addresses, refused URLs", () => {
  let one: Devices;
  let two: Devices;
  let before1: DeviceSnapshot;
  let before2: DeviceSnapshot;
  const stacks: DeclaredStack[] = [];
  const stack = async (env: Record<string, string>) => {
    const s = await DeclaredStack.create(env);
    stacks.push(s);
    return s;
  };

  beforeAll(async () => {
    const credentials = makeCredentials("fwgdeclared");
    // Two complete device sets with the same users: "the firewall moved", credentials unchanged.
    [one, two] = await Promise.all([startDevices(credentials), startDevices(credentials)]);
    before1 = one.snapshot();
    before2 = two.snapshot();
  });
  /** Undoes the rotation test's user changes (old OPNsense key back, second FortiManager admin gone), whatever its outcome. */
  let restoreOldKey = () => undefined as void;
  afterEach(() => {
    restoreOldKey();
    one.fortimanager.backend.admins.delete("grants-api2");
  });
  afterAll(async () => {
    for (const s of stacks) await s.dispose();
    await Promise.all([one?.close(), two?.close()]);
  });

  test("device URL changed through stack config, then through the environment: replace, grants move, the old device is emptied", async () => {
    const s = await stack(withoutUrls(deviceEnv(one)));
    s.grants = moving;
    const configUrls = (d: Devices) => ({ "opnsense:url": d.opnsense.url, "fortigate:url": d.fortigate.url, "fortimanager:url": d.fortimanager.url });

    s.writePlainConfig(configUrls(one));
    expect(ok(await s.run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect({ one: where(one), two: where(two) }).toEqual({ one: everywhere, two: nowhere });
    const cleanAfterUp = await s.run(["preview", "--diff", "--expect-no-changes"]);

    // 1. Through stack config.
    s.writePlainConfig(configUrls(two));
    one.clearLogs();
    two.clearLogs();
    const preview = await s.run(["preview"]);
    expect(ok(preview)).toEqual({ code: 0, tail: "" });
    const replaced = {
      opnT: replaceLine("opnsense:AliasEntry", "opn-t"),
      opnC: replaceLine("opnsense:AliasEntry", "opn-c"),
      fgt: replaceLine("fortigate:Address", "fgt"),
      fmg: replaceLine("fortimanager:TrustedHost", "fmg"),
    };
    const shown = (out: string) => Object.fromEntries(Object.entries(replaced).map(([k, re]) => [k, re.test(out)]));
    expect({
      replaceShown: shown(preview.output),
      sideEffects: [one.sideEffects(), two.sideEffects()].flatMap((d) => Object.values(d).flat()).map((e) => e.route),
    }).toEqual({
      replaceShown: { opnT: true, opnC: true, fgt: true, fmg: true },
      sideEffects: [],
    });
    expect(ok(await s.run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect({ one: where(one), two: where(two) }).toEqual({ one: nowhere, two: everywhere });
    expect(one.snapshot()).toEqual(before1);

    // 2. The same device through the environment instead of config: not a change.
    s.writePlainConfig({});
    const envUrl = (d: Devices) => ({ OPNSENSE_URL: d.opnsense.url, FORTIGATE_URL: d.fortigate.url, FORTIMANAGER_URL: d.fortimanager.url });
    const sameDevice = await s.run(["preview", "--diff", "--expect-no-changes"], envUrl(two));

    // 3. Through the environment.
    const preview2 = await s.run(["preview"], envUrl(one));
    expect(ok(preview2)).toEqual({ code: 0, tail: "" });
    expect(shown(preview2.output)).toEqual({ opnT: true, opnC: true, fgt: true, fmg: true });
    expect(ok(await s.run(["up", "--yes"], envUrl(one)))).toEqual({ code: 0, tail: "" });
    expect({ one: where(one), two: where(two) }).toEqual({ one: everywhere, two: nowhere });
    expect(two.snapshot()).toEqual(before2);

    expect(ok(await s.run(["destroy", "--yes"], envUrl(one)))).toEqual({ code: 0, tail: "" });
    expect({ one: isDeepStrictEqual(one.snapshot(), before1), two: isDeepStrictEqual(two.snapshot(), before2) }).toEqual({ one: true, two: true });
    // Asserted last (read-only previews), so that a failure here does not hide the moves above.
    expect({ noChangesRightAfterUp: ok(cleanAfterUp), sameDeviceThroughEnv: ok(sameDevice) }).toEqual({
      noChangesRightAfterUp: { code: 0, tail: "" },
      sameDeviceThroughEnv: { code: 0, tail: "" },
    });
  });

  test("description/comment change with rotated inline credentials: up succeeds twice, then no changes; the new credentials are used", async () => {
    const c = one.credentials;
    const s = await stack(deviceEnv(one));
    const grantsWith = (text: string): GrantSpec[] => [
      { kind: "opnsense", name: "opn-t", alias: "jit_admins", address: "203.0.113.60", description: text, inline: true },
      { kind: "opnsense", name: "opn-c", alias: "jit_nets", address: "198.51.100.128/26", method: "config", description: text, inline: true },
      { kind: "fortigate", name: "fgt", object: "grant-rotate", address: "203.0.113.60", group: "jit-admins", comment: text, inline: true },
      { kind: "fortimanager", name: "fmg", adminUser: "alice", address: "203.0.113.60", inline: true },
    ];
    // Inline credentials from plain config (requireSecret marks them secret; this file is a temp file).
    const inline = (k: { opnKey: string; opnSecret: string; fgt: string; fmg: string }) =>
      s.writePlainConfig({
        "declared:opnsenseApiKey": k.opnKey,
        "declared:opnsenseApiSecret": k.opnSecret,
        "declared:fortigateToken": k.fgt,
        "declared:fortimanagerToken": k.fmg,
      });
    inline({ opnKey: c.opnsenseKey, opnSecret: c.opnsenseSecret, fgt: c.fortigateToken, fmg: c.fortimanagerToken });
    s.grants = grantsWith("v1");
    expect(ok(await s.run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });

    // A second key/token per device with the same rights.
    const k2 = { opnKey: "fwgdeclaredopnkey2", opnSecret: "fwgdeclaredopnsecret2", fgt: "fwgdeclaredfgttoken2", fmg: "fwgdeclaredfmgtoken2aaaaaaaaaaaa" };
    one.opnsense.backend.putUser({
      name: "grants2",
      key: k2.opnKey,
      secret: k2.opnSecret,
      privileges: ["page-diagnostics-tables", "page-firewall-aliases", "page-firewall-alias-edit"],
      disabled: false,
    });
    one.fortigate.backend.addUser({
      name: "grants-api2",
      token: k2.fgt,
      fwgrp: "read-write",
      sysgrp: "custom",
      sysgrpPermission: { cfg: "read-write" },
      vdoms: ["root"],
    });
    one.fortimanager.backend.seedAdmin({ userid: "grants-api2", userType: "api", apiKey: k2.fmg, profileid: "Super_User" });
    inline(k2);
    s.grants = grantsWith("v2");
    const env2 = { FORTIMANAGER_USERNAME: "grants-api2" };
    one.clearLogs();
    expect(ok(await s.run(["up", "--yes"], env2))).toEqual({ code: 0, tail: "" });
    expect(one.fortigate.backend.getAddress("root", "ipv4", "grant-rotate")?.comment).toBe("v2");

    // The old OPNsense key is withdrawn: everything from now on must use the new one.
    one.opnsense.backend.putUser({ name: "grants", key: c.opnsenseKey, secret: c.opnsenseSecret, privileges: [], disabled: true });
    restoreOldKey = () =>
      one.opnsense.backend.putUser({
        name: "grants",
        key: c.opnsenseKey,
        secret: c.opnsenseSecret,
        privileges: ["page-diagnostics-tables", "page-firewall-aliases", "page-firewall-alias-edit"],
        disabled: false,
      });
    expect(ok(await s.run(["up", "--yes"], env2))).toEqual({ code: 0, tail: "" });
    expect(ok(await s.run(["preview", "--expect-no-changes"], env2))).toEqual({ code: 0, tail: "" });
    expect(ok(await s.run(["preview", "--refresh", "--expect-no-changes"], env2))).toEqual({ code: 0, tail: "" });
    const users = (e: EmulatorServer) =>
      [
        ...new Set(
          e.log
            .entries()
            .map((x) => x.user)
            .filter((u) => u !== undefined),
        ),
      ].sort();
    expect({ opnsense: users(one.opnsense), fortigate: users(one.fortigate), fortimanager: users(one.fortimanager) }).toEqual({
      opnsense: ["grants2"],
      fortigate: ["grants-api2"],
      fortimanager: ["grants-api2"],
    });

    expect(ok(await s.run(["destroy", "--yes"], env2))).toEqual({ code: 0, tail: "" });
    const after = one.snapshot();
    expect({ ...after, fortimanager: { ...after.fortimanager, admins: after.fortimanager.admins.filter((a) => a.userid !== "grants-api2") } }).toEqual(before1);
  });

  test("two grants of one address: deleting one keeps the address, deleting the other removes it", async () => {
    const s = await stack(deviceEnv(one));
    const pair = (n: 1 | 2): GrantSpec[] => [
      { kind: "opnsense", name: `opn-t${n}`, alias: "jit_admins", address: "203.0.113.70" },
      { kind: "opnsense", name: `opn-c${n}`, alias: "jit_nets", address: "198.51.100.192/26", method: "config" },
      { kind: "fortimanager", name: `fmg${n}`, adminUser: "alice", address: "203.0.113.70" },
    ];
    const state = () => ({
      opnTable: opnAlias(one.opnsense, "jit_admins").table.filter((a) => a === "203.0.113.70").length,
      opnContent: opnAlias(one.opnsense, "jit_admins").content.filter((a) => a === "203.0.113.70").length,
      opnConfig: opnAlias(one.opnsense, "jit_nets").content.filter((a) => a === "198.51.100.192/26").length,
      opnConfigLive: opnAlias(one.opnsense, "jit_nets").table.filter((a) => a === "198.51.100.192/26").length,
      fmg: fmgSlots(one.fortimanager, "alice").filter((a) => a === "203.0.113.70/32").length,
    });
    s.grants = [...pair(1), ...pair(2)];
    expect(ok(await s.run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    const once = { opnTable: 1, opnContent: 1, opnConfig: 1, opnConfigLive: 1, fmg: 1 };
    expect(state()).toEqual(once);

    s.grants = pair(2);
    expect(ok(await s.run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect({ afterDeletingOne: state() }).toEqual({ afterDeletingOne: once });
    expect(ok(await s.run(["preview", "--refresh", "--expect-no-changes"]))).toEqual({ code: 0, tail: "" });

    s.grants = [];
    expect(ok(await s.run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect({ afterDeletingBoth: state() }).toEqual({ afterDeletingBoth: { opnTable: 0, opnContent: 0, opnConfig: 0, opnConfigLive: 0, fmg: 0 } });
    expect(one.snapshot()).toEqual(before1);
  });

  describe("http:// and user-info URLs are refused at preview, naming where the URL came from; no request reaches a device", () => {
    let plain: EmulatorServer[] = [];
    let s: DeclaredStack;
    const PASSWORD = "fwgUserInfoPw0123";
    beforeAll(async () => {
      // Plain-HTTP doubles: a request sent over http:// would be logged here.
      plain = await Promise.all([
        startOpnsenseEmulator({ tls: "plain" }),
        startFortigateEmulator({ tls: "plain" }),
        startFortimanagerEmulator({ tls: "plain" }),
      ]);
      s = await stack(withoutUrls(deviceEnv(one)));
    });
    afterAll(async () => {
      await Promise.all(plain.map((p) => p.close()));
    });
    const http = (i: number) => plain[i]!.url.replace(/^https?:/, "http:");
    const userinfo = (url: string) => url.replace("https://", `https://grants:${PASSWORD}@`);
    const base: Record<string, GrantSpec> = {
      opnsense: { kind: "opnsense", name: "g", alias: "jit_admins", address: "203.0.113.80" },
      fortigate: { kind: "fortigate", name: "g", object: "grant-refused", address: "203.0.113.80" },
      fortimanager: { kind: "fortimanager", name: "g", adminUser: "alice", address: "203.0.113.80" },
    };
    const index = { opnsense: 0, fortigate: 1, fortimanager: 2 } as const;
    type Dev = keyof typeof index;
    // Each device refuses both kinds; the three routes (inline, stack config, environment) all appear.
    const cases: [Dev, "http" | "userinfo", "inline" | "config" | "env"][] = [
      ["opnsense", "http", "inline"],
      ["opnsense", "userinfo", "config"],
      ["fortigate", "userinfo", "inline"],
      ["fortigate", "http", "env"],
      ["fortimanager", "http", "config"],
      ["fortimanager", "userinfo", "inline"],
    ];
    test.each(cases)("%s, %s URL, %s", async (dev, kind, route) => {
      const url = kind === "http" ? http(index[dev]) : userinfo(urlsOf(one)[dev]);
      const field = route === "inline" ? "connection\\.url" : route === "config" ? `stack config ${dev}:url` : `environment ${dev.toUpperCase()}_URL`;
      s.grants = [route === "inline" ? { ...base[dev]!, url } : base[dev]!];
      s.writePlainConfig(route === "config" ? { [`${dev}:url`]: url } : {});
      one.clearLogs();
      for (const p of plain) p.log.clear();
      const r = await s.run(["preview"], route === "env" ? { [`${dev.toUpperCase()}_URL`]: url } : {});
      const rule = kind === "http" ? "http://[^\\n]*(refused|clear)" : "user info";
      const requests = [one.opnsense, one.fortigate, one.fortimanager, ...plain].flatMap((e) => e.log.entries().map((x) => `${x.method} ${x.path}`));
      const namesField = new RegExp(`${field}: [^\\n]*${rule}`).test(r.output);
      expect({
        failed: r.code !== 0,
        namesField,
        passwordShown: r.output.includes(PASSWORD),
        requests,
        ...(!namesField && { output: r.output.slice(-2500) }),
      }).toEqual({
        failed: true,
        namesField: true,
        passwordShown: false,
        requests: [],
      });
    });
  });
});

/**
 * Red team (issue 17 upgrade): a stack written by the code of dc0c975 (old type tokens, old serialised
 * provider shim, which loads the package by name or, in a checkout, by the ABSOLUTE path of
 * dist/provider/index.js that was current then) must preview clean, refresh and destroy with the new build.
 * The old code is built from git into a temp directory (git archive + tsc, ~40 s).
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { deviceEnv, startDevices, noSideEffects, type DeviceSnapshot, type Devices } from "../../scripts/engine-fixture";
import { PulumiWorkspace } from "../../scripts/pulumi-workspace";
import { describeWithCli, ROOT } from "./helpers";

jest.setTimeout(400_000);

const OLD = "dc0c975";

/** node_modules of `dir`: every package of the repo's node_modules linked, except the library itself. */
function linkDeps(dir: string, self?: string): void {
  const nm = path.join(dir, "node_modules");
  mkdirSync(nm, { recursive: true });
  for (const e of readdirSync(path.join(ROOT, "node_modules"))) {
    if (e === "pulumi-firewall-grants" || e === ".bin") continue;
    symlinkSync(path.join(ROOT, "node_modules", e), path.join(nm, e));
  }
  if (self) symlinkSync(self, path.join(nm, "pulumi-firewall-grants"));
}

const PROGRAM = (from: string) => `
import * as pulumi from "@pulumi/pulumi";
import * as g from ${JSON.stringify(from)};
// One of every class (and the Grant component), on targets that do not overlap.
const r_opn_host = new g.OpnsenseAliasEntry("opn-host", { alias: "jit_admins", address: "203.0.113.7" });
const r_opn_net = new g.OpnsenseAliasEntry("opn-net", { alias: "jit_nets", address: "198.51.100.0/24", method: "config", description: "vendor VPN" });
const r_opn_set = new g.OpnsenseAliasSet("opn-set", { alias: "jit_admins", addresses: [{ address: "203.0.113.8", description: "x" }] });
const r_fgt_host = new g.FortigateAddress("fgt-host", { group: "jit-admins", name: "grant-up", address: "203.0.113.7", comment: "c" });
const r_fgt_set = new g.FortigateAddressSet("fgt-set", { group: "jit-admins6", addresses: ["2001:db8::8"] });
const r_fgt_feed = new g.FortigateFeedEntry("fgt-feed", { feed: "jit-allow", address: "203.0.113.7" });
const r_fgt_feed_set = new g.FortigateFeedSet("fgt-feed-set", { feed: "jit-allow", addresses: ["203.0.113.9", "198.51.100.64/26"] });
const r_fmg_host = new g.FortimanagerTrustedHost("fmg-host", { adminUser: "alice", address: "203.0.113.7" });
const r_fmg_guard = new g.FortimanagerTrustedHostGuard("fmg-guard", { adminUser: "alice", grants: [r_fmg_host] });
const r_fmg_set = new g.FortimanagerTrustedHostSet("fmg-set", { adminUser: "bob", addresses: ["203.0.113.10"] });
const r_fmg_feed = new g.FortimanagerFeedEntry("fmg-feed", { devices: ["fgt-hq", "fgt-br1"], feed: "jit-allow", address: "203.0.113.7" });
const r_fmg_feed_set = new g.FortimanagerFeedSet("fmg-feed-set", { devices: ["fgt-hq"], feed: "jit-allow", addresses: ["203.0.113.11"] });
const r_carol = new g.Grant("carol", { who: "carol", ticket: "CHG-1", addresses: ["203.0.113.30"], opnsense: [{ alias: "jit_nets" }], fortimanager: [{ adminUser: "bob" }] });
// Every output property the program sees on each resource (what define-resource registers must equal the old props).
const outputsOf = (r: object) =>
  pulumi.all(Object.fromEntries(Object.entries(r).filter(([k, v]) => !k.startsWith("__") && pulumi.Output.isInstance(v)).map(([k, v]) => [k, v])));
export const props = pulumi.all({ "opn-host": outputsOf(r_opn_host), "opn-net": outputsOf(r_opn_net), "opn-set": outputsOf(r_opn_set), "fgt-host": outputsOf(r_fgt_host), "fgt-set": outputsOf(r_fgt_set), "fgt-feed": outputsOf(r_fgt_feed), "fgt-feed-set": outputsOf(r_fgt_feed_set), "fmg-host": outputsOf(r_fmg_host), "fmg-guard": outputsOf(r_fmg_guard), "fmg-set": outputsOf(r_fmg_set), "fmg-feed": outputsOf(r_fmg_feed), "fmg-feed-set": outputsOf(r_fmg_feed_set) });
export const carolChildren = r_carol.children.map((c) => ({ kind: c.kind, target: c.target, address: c.address }));
`;

describeWithCli("red team: a stack written by the old code (dc0c975) keeps working with the new build", () => {
  let devices: Devices;
  let before: DeviceSnapshot;
  let tmp: string;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), "rt-upgrade-"));
    const co = path.join(tmp, "checkout");
    mkdirSync(co);
    execFileSync("bash", ["-c", `git -C ${JSON.stringify(ROOT)} archive ${OLD} | tar -x -C ${JSON.stringify(co)}`]);
    linkDeps(co, co);
    execFileSync(path.join(ROOT, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"], { cwd: co, stdio: "pipe" });
    devices = await startDevices();
    before = devices.snapshot();
  });
  afterAll(async () => {
    await devices?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** Writes a program in `<tmp>/<name>` importing `from`; `self` links node_modules/pulumi-firewall-grants. */
  function program(name: string, from: string, self?: string): string {
    const dir = path.join(tmp, name);
    mkdirSync(dir);
    writeFileSync(path.join(dir, "Pulumi.yaml"), `name: rt-upgrade-${name}\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n`);
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: `rt-${name}`, private: true, main: "index.ts" }));
    writeFileSync(path.join(dir, "index.ts"), PROGRAM(from));
    linkDeps(dir, self);
    return dir;
  }

  async function lifecycle(dir: string, upgrade: () => void): Promise<Record<string, unknown>> {
    const ws = await PulumiWorkspace.create({ projectDir: dir, env: { PULUMI_NODEJS_TRANSPILE_ONLY: "true", ...deviceEnv(devices) }, timeoutMs: 150_000 });
    try {
      const up = await ws.run(["up", "--yes"]);
      if (up.code !== 0) throw new Error(`old up failed: ${up.output.slice(-2000)}`);
      // The state holds the OLD shim: its fallback is the checkout's dist/provider/index.js, absolute.
      expect(ws.stateText()).toContain(JSON.stringify(path.join(tmp, "checkout", "dist", "provider", "index.js")).slice(1, -1));
      const oldOutputs = await ws.outputs();
      // The comparison below means something only if the program sees the outputs (e.g. OPNsense aliasUuid, FortiManager slot).
      expect(Object.keys((oldOutputs.props as Record<string, object>)["opn-host"]!)).toContain("aliasUuid");
      expect(Object.keys((oldOutputs.props as Record<string, object>)["fmg-host"]!)).toContain("slot");
      upgrade();
      devices.clearLogs();
      const preview = await ws.run(["preview", "--expect-no-changes", "--diff"]);
      const previewSideEffects = devices.sideEffects();
      const refresh = await ws.run(["refresh", "--yes", "--expect-no-changes"]);
      const up2 = await ws.run(["up", "--yes", "--expect-no-changes"]);
      const newOutputs = await ws.outputs();
      const destroy = await ws.run(["destroy", "--yes"]);
      const after = devices.snapshot();
      return {
        preview: preview.code === 0 ? 0 : preview.output.slice(-3000),
        previewSideEffects: isDeepStrictEqual(previewSideEffects, noSideEffects()) ? "none" : previewSideEffects,
        refresh: refresh.code === 0 ? 0 : refresh.output.slice(-3000),
        up: up2.code === 0 ? 0 : up2.output.slice(-3000),
        outputs: isDeepStrictEqual(oldOutputs, newOutputs) ? "same" : { oldOutputs, newOutputs },
        destroy: destroy.code === 0 ? 0 : destroy.output.slice(-3000),
        devices: isDeepStrictEqual(after, before) ? "as before" : after,
      };
    } finally {
      await ws.dispose();
    }
  }

  const expected = { preview: 0, previewSideEffects: "none", refresh: 0, up: 0, outputs: "same", destroy: 0, devices: "as before" };

  test("installed by name: old state, then the package upgraded in node_modules", async () => {
    const dir = program("byname", "pulumi-firewall-grants", path.join(tmp, "checkout"));
    const r = await lifecycle(dir, () => {
      rmSync(path.join(dir, "node_modules", "pulumi-firewall-grants"));
      symlinkSync(ROOT, path.join(dir, "node_modules", "pulumi-firewall-grants"));
    });
    expect(r).toEqual(expected);
  });

  test("from a checkout (absolute fallback path in state): old state, then the checkout rebuilt with the new code", async () => {
    const co = path.join(tmp, "checkout");
    const dir = program("prog-checkout", path.join(co, "dist", "provider"));
    const r = await lifecycle(dir, () => {
      // `git pull && npm run build` in the same checkout: tsc writes the new dist over the old one.
      cpSync(path.join(ROOT, "dist"), path.join(co, "dist"), { recursive: true });
    });
    expect(r).toEqual(expected);
  });
});

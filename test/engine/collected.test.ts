/**
 * Issue 22 with the real Pulumi CLI (program test/engine/programs/collected): N people on three devices (an
 * OPNsense alias in config mode, a FortiGate group, a FortiManager-managed push feed), first as one `Grant` each
 * (per-entry children), then switched to one `Grants` (one set per target) in one `up`. Sampled while the switch
 * runs, every device holds every address at every moment (the sets are created before the children are deleted,
 * and the children's deletes leave what a set declares). Then `destroy` leaves the devices as they were. One
 * person's `expiresAt` passing is drift (exit 7, `expiredEntries`) and `up` removes that person's entries only.
 * Env COLLECTED_N (default 20) sets N; with COLLECTED_REPORT=1 it prints requests, wall time and state bytes of
 * each step (the figures of BENCHMARKS.md; no assertion is timed).
 */
import * as path from "node:path";
import { deviceEnv, startDevices, type Devices } from "../../scripts/engine-fixture";
import { PulumiWorkspace, type RunResult } from "../../scripts/pulumi-workspace";
import { describeWithCli } from "./helpers";

jest.setTimeout(1_200_000);

const PROGRAM = path.join(__dirname, "programs", "collected");
const N = Number(process.env.COLLECTED_N ?? "20");
const ok = (r: RunResult) => ({ code: r.code, tail: r.code === 0 ? "" : r.output.slice(-4000) });
const ADDRESSES = Array.from({ length: N }, (_, i) => `10.20.${Math.floor(i / 250)}.${(i % 250) + 1}`).sort();

describeWithCli("engine: many people as one set per target (Grants), switched from per-entry grants without a gap", () => {
  let devices: Devices;
  let ws: PulumiWorkspace;
  const report: string[] = [];

  /** What each device holds of the people's addresses (OPNsense: the live pf table and the configured content). */
  const held = () => {
    const s = devices.snapshot();
    const alias = s.opnsense.find((a) => a.alias === "jit_admins")!;
    const mine = (xs: readonly string[]) =>
      xs
        .map((x) => x.replace(/\/32$/, "").replace(/^grant-/, ""))
        .filter((x) => x.startsWith("10.20."))
        .sort();
    const feed = s.fortimanager.devices.find((d) => d.name === "fgt-hq")!.feeds.find((f) => f.name === "jit-allow")!.entries;
    return {
      opnsenseTable: mine(alias.table),
      opnsenseContent: mine(alias.content),
      fortigate: mine(s.fortigate.groups.find((g) => g.name === "jit-admins")!.members),
      fortimanagerFeed: mine(feed),
    };
  };
  const all = { opnsenseTable: ADDRESSES, opnsenseContent: ADDRESSES, fortigate: ADDRESSES, fortimanagerFeed: ADDRESSES };
  const none = { opnsenseTable: [], opnsenseContent: [], fortigate: [], fortimanagerFeed: [] };
  const requests = () =>
    ["opnsense", "fortigate", "fortimanager"].reduce((n, d) => n + (devices as unknown as Record<string, { log: { count(): number } }>)[d]!.log.count(), 0);

  /** Runs one command, measuring device requests, wall time and the state it leaves. */
  async function step(label: string, args: string[], mode: string, env: Record<string, string> = {}): Promise<RunResult> {
    devices.clearLogs();
    const t0 = Date.now();
    const r = await ws.run(args, { env: { COLLECTED_N: String(N), COLLECTED_MODE: mode, COLLECTED_EXPIRES_AT: "", FIREWALL_GRANTS_TEST_NOW: "", ...env } });
    const ms = Date.now() - t0;
    const state = (() => {
      try {
        return Buffer.byteLength(ws.stateText(), "utf8");
      } catch {
        return 0;
      }
    })();
    report.push(`| ${label} | ${N} | ${requests()} | ${(ms / 1000).toFixed(1)} | ${state} |`);
    return r;
  }

  beforeAll(async () => {
    devices = await startDevices();
    ws = await PulumiWorkspace.create({ projectDir: PROGRAM, env: { PULUMI_NODEJS_TRANSPILE_ONLY: "true", ...deviceEnv(devices) }, timeoutMs: 1_100_000 });
  });
  afterAll(async () => {
    if (process.env.COLLECTED_REPORT === "1")
      process.stdout.write(`\n| step | people (x3 targets) | device requests | wall s | state bytes |\n|---|---|---|---|---|\n${report.join("\n")}\n`);
    await ws?.dispose();
    await devices?.close();
  });

  test("per-entry up, switch to Grants with every address held throughout, a clean drift check, destroy; then Grants from scratch", async () => {
    expect(held()).toEqual(none);
    expect(ok(await step("per-entry up", ["up", "--yes"], "per-entry"))).toEqual({ code: 0, tail: "" });
    expect(held()).toEqual(all);

    // The switch, sampled every 25 ms: no address may be absent from any device at any sample.
    const gaps: string[] = [];
    let samples = 0;
    const timer = setInterval(() => {
      samples++;
      const h = held();
      for (const [k, v] of Object.entries(h)) if (v.length !== ADDRESSES.length) gaps.push(`${k}: ${ADDRESSES.filter((a) => !v.includes(a)).join(", ")}`);
    }, 25);
    const r = await step("switch per-entry -> Grants", ["up", "--yes"], "collected").finally(() => clearInterval(timer));
    expect(ok(r)).toEqual({ code: 0, tail: "" });
    expect(samples).toBeGreaterThan(0);
    expect([...new Set(gaps)]).toEqual([]);
    expect(held()).toEqual(all);
    // Only the sets are left in state: one per target.
    const types = (JSON.parse(ws.stateText()).checkpoint.latest.resources as { type: string }[])
      .map((x) => x.type)
      .filter((t) => t.startsWith("pulumi-nodejs:dynamic/"));
    expect(types.sort()).toEqual([
      "pulumi-nodejs:dynamic/fortigate:AddressSet",
      "pulumi-nodejs:dynamic/fortimanager:FeedSet",
      "pulumi-nodejs:dynamic/opnsense:AliasSet",
    ]);

    expect(ok(await step("Grants drift check", ["preview", "--refresh", "--expect-no-changes"], "collected"))).toEqual({ code: 0, tail: "" });
    expect(ok(await step("Grants destroy", ["destroy", "--yes"], "collected"))).toEqual({ code: 0, tail: "" });
    expect(held()).toEqual(none);

    expect(ok(await step("Grants up (from scratch)", ["up", "--yes"], "collected"))).toEqual({ code: 0, tail: "" });
    expect(held()).toEqual(all);
    expect(ok(await step("Grants destroy", ["destroy", "--yes"], "collected"))).toEqual({ code: 0, tail: "" });
    expect(held()).toEqual(none);
  });

  test("one person's expiresAt passes: the drift check exits 7 naming the entry, `up` removes it from every device and no other, then clean", async () => {
    // The provider's test clock (honoured because the CLI inherits this jest worker's JEST_WORKER_ID).
    const at = { COLLECTED_EXPIRES_AT: "2030-01-01T12:00:00Z", FIREWALL_GRANTS_TEST_NOW: "2030-01-01T11:00:00Z" };
    const later = { ...at, FIREWALL_GRANTS_TEST_NOW: "2030-01-01T13:00:00Z" };
    expect(ok(await step("Grants up, p0 expiring", ["up", "--yes"], "collected", at))).toEqual({ code: 0, tail: "" });
    expect(held()).toEqual(all);
    const drift = await step("drift check after p0's time", ["preview", "--refresh", "--expect-no-changes", "--diff"], "collected", later);
    expect(drift.code).not.toBe(0);
    expect(drift.output).toMatch(/expiredEntries/);
    expect(drift.output).toContain(`"10.20.0.1"`);
    expect(ok(await step("up after p0's time", ["up", "--yes"], "collected", later))).toEqual({ code: 0, tail: "" });
    const rest = ADDRESSES.filter((a) => a !== "10.20.0.1");
    expect(held()).toEqual({ opnsenseTable: rest, opnsenseContent: rest, fortigate: rest, fortimanagerFeed: rest });
    expect(ok(await step("drift check, clean", ["preview", "--refresh", "--expect-no-changes"], "collected", later))).toEqual({ code: 0, tail: "" });
    expect(ok(await step("Grants destroy", ["destroy", "--yes"], "collected", later))).toEqual({ code: 0, tail: "" });
    expect(held()).toEqual(none);
  });
});

/**
 * Issue 9, "concurrent writers across processes never lose or resurrect a grant silently", with the
 * real Pulumi CLI: two stacks (separate backends, separate `pulumi up` processes started together) on
 * one OPNsense alias (method config, method table, and one of each) and on one FortiManager
 * administrator's trusted-host slots. Stack A revokes part of what it had while adding more; stack B
 * only adds. After both finish the device must hold exactly the union of what the two programs
 * declare; then both stacks are destroyed at once and the device must be back to its snapshot.
 * An `up` may fail loudly instead (a device that offers no safe way): it is then run again, and the
 * union must hold after that. Each trial's figures are printed for the note.
 * DECLARED_TRIALS (default 1, ~30 s per trial per case here) sets the trials per case.
 */
import { deviceEnv, startDevices, type DeviceSnapshot, type Devices } from "../../scripts/engine-fixture";
import type { RunResult } from "../../scripts/pulumi-workspace";
import { addrs, DeclaredStack, fmgSlots, opnAlias, type GrantSpec } from "./declared-helpers";
import { describeWithCli } from "./helpers";

jest.setTimeout(600_000);

/** Trials per case (each ~30 s on a loaded 2-core machine). */
const TRIALS = Math.max(1, Number(process.env.DECLARED_TRIALS ?? 1));
const B_OPN = { key: "fwgdeclaredstackbkey", secret: "fwgdeclaredstackbsecret" };
const B_FMG = "fwgdeclaredstackbfmgtoken0123456";

/** Addresses on the device: `held` = counts as granted; `seen` = present anywhere (config or live). */
interface Present {
  held: string[];
  seen: string[];
}

interface TrialFigures {
  case: string;
  trial: number;
  codes: { a: number; b: number };
  /** Whether the two processes' requests to the device interleaved (request-log order, by user). */
  interleaved: boolean;
  /** Declared by A or B but not on the device after the concurrent `up`s. */
  lost: string[];
  /** On the device after the concurrent `up`s but declared by neither (e.g. A's revoked addresses back). */
  resurrected: string[];
  /** Lost or resurrected while both `up`s reported success. */
  silent: boolean;
  /** After re-running a failed `up` (only when one failed). */
  afterRetry?: { lost: string[]; resurrected: string[]; codes: number[] };
  destroyCodes: { a: number; b: number };
  /** Left on the device after both destroys. */
  orphaned: string[];
  seconds: number;
}

describeWithCli("engine (issue 9): two stacks at once on one OPNsense alias and one FortiManager admin", () => {
  let devices: Devices;
  let before: DeviceSnapshot;
  let a: DeclaredStack;
  let b: DeclaredStack;
  const figures: TrialFigures[] = [];

  beforeAll(async () => {
    devices = await startDevices();
    // Stack B has its own OPNsense key and FortiManager API admin (same rights), so the request log
    // tells the two processes apart and shows whether their requests really interleaved.
    devices.opnsense.backend.putUser({
      name: "grants-b",
      key: B_OPN.key,
      secret: B_OPN.secret,
      privileges: ["page-diagnostics-tables", "page-firewall-aliases", "page-firewall-alias-edit"],
      disabled: false,
    });
    devices.fortimanager.backend.seedAdmin({ userid: "grants-b", userType: "api", apiKey: B_FMG, profileid: "Super_User" });
    before = devices.snapshot();
    const envB = {
      ...deviceEnv(devices),
      OPNSENSE_API_KEY: B_OPN.key,
      OPNSENSE_API_SECRET: B_OPN.secret,
      FORTIMANAGER_TOKEN: B_FMG,
      FORTIMANAGER_USERNAME: "grants-b",
    };
    [a, b] = await Promise.all([DeclaredStack.create(deviceEnv(devices)), DeclaredStack.create(envB)]);
    // A little latency per request widens every read-modify-write window, as a real device does.
    devices.opnsense.latencyMs = 25;
    devices.fortimanager.latencyMs = 25;
  });
  afterAll(async () => {
    console.log(`declared-concurrency figures (${TRIALS} trial(s) per case):\n${figures.map((f) => JSON.stringify(f)).join("\n")}`);
    await Promise.all([a?.dispose(), b?.dispose()]);
    await devices?.close();
  });

  /**
   * One trial: A declares `a0`, `up`; then at once A declares `a1` (drops part of a0) and B declares
   * `b1`; then both destroy at once. `present()` reads the addresses on the device, in the form
   * `key()` gives a spec's address: `held` (counts as granted) and `seen` (anywhere on the device).
   */
  async function trial(
    label: string,
    n: number,
    a0: GrantSpec[],
    a1: GrantSpec[],
    b1: GrantSpec[],
    present: () => Present,
    key: (g: GrantSpec) => string,
  ): Promise<TrialFigures> {
    const started = Date.now();
    const baseline = present().seen;
    const tally = (expected: string[]) => {
      const p = present();
      return { lost: expected.filter((x) => !p.held.includes(x)).sort(), extra: p.seen.filter((x) => !expected.includes(x) && !baseline.includes(x)).sort() };
    };
    a.grants = a0;
    const first = await a.run(["up", "--yes"]);
    if (first.code !== 0) throw new Error(`${label} trial ${n}: the first up of stack A failed (exit ${first.code}):\n${first.output.slice(-3000)}`);
    a.grants = a1;
    b.grants = b1;
    devices.clearLogs();
    const [ra, rb] = await Promise.all([a.run(["up", "--yes"]), b.run(["up", "--yes"])]);
    const log = [...devices.opnsense.log.entries(), ...devices.fortimanager.log.entries()].filter((e) => e.user !== undefined);
    const seqs = (bUser: boolean) => log.filter((e) => (e.user === "grants-b") === bUser).map((e) => e.seq);
    const [sa, sb] = [seqs(false), seqs(true)];
    const interleaved = sa.length > 0 && sb.length > 0 && Math.max(Math.min(...sa), Math.min(...sb)) < Math.min(Math.max(...sa), Math.max(...sb));
    const expected = [...a1, ...b1].map(key);
    const round = tally(expected);
    const f: TrialFigures = {
      case: label,
      trial: n,
      codes: { a: ra.code, b: rb.code },
      interleaved,
      lost: round.lost,
      resurrected: round.extra,
      silent: ra.code === 0 && rb.code === 0 && round.lost.length + round.extra.length > 0,
      destroyCodes: { a: -1, b: -1 },
      orphaned: [],
      seconds: 0,
    };
    if (ra.code !== 0 || rb.code !== 0) {
      const again: RunResult[] = [];
      if (ra.code !== 0) again.push(await a.run(["up", "--yes"]));
      if (rb.code !== 0) again.push(await b.run(["up", "--yes"]));
      const t = tally(expected);
      f.afterRetry = { lost: t.lost, resurrected: t.extra, codes: again.map((r) => r.code) };
    }
    const [da, db] = await Promise.all([a.run(["destroy", "--yes"]), b.run(["destroy", "--yes"])]);
    f.destroyCodes = { a: da.code, b: db.code };
    f.orphaned = tally([]).extra;
    f.seconds = Math.round((Date.now() - started) / 1000);
    figures.push(f);
    console.log(`declared-concurrency ${label} trial ${n}: ${JSON.stringify(f)}`);
    if (ra.code !== 0 || rb.code !== 0)
      console.log(`${label} trial ${n}: concurrent up outputs (tails):\nA: ${ra.output.slice(-1500)}\nB: ${rb.output.slice(-1500)}`);
    return f;
  }

  /** What must hold for every trial: no silent loss, the union after (at most) one retry, nothing orphaned. */
  const verdict = (f: TrialFigures) => ({
    silentLossOrResurrection: f.silent ? { lost: f.lost, resurrected: f.resurrected } : false,
    unionHeld: f.afterRetry
      ? f.afterRetry.lost.length + f.afterRetry.resurrected.length === 0 && f.afterRetry.codes.every((c) => c === 0)
      : f.lost.length + f.resurrected.length === 0,
    destroyCodes: f.destroyCodes,
    orphaned: f.orphaned,
  });
  const good = { silentLossOrResurrection: false, unionHeld: true, destroyCodes: { a: 0, b: 0 }, orphaned: [] };

  // OPNsense, one host alias: a grant is held when it is both configured and live (one only half
  // there counts as lost); one in either place but declared by neither counts as resurrected.
  const opnPresent = (): Present => {
    const { content, table } = opnAlias(devices.opnsense, "jit_admins");
    return { held: content.filter((x) => table.includes(x)), seen: [...new Set([...content, ...table])] };
  };
  const opnCase = (methodA: "table" | "config", methodB: "table" | "config") => async () => {
    const out: TrialFigures[] = [];
    for (let n = 1; n <= TRIALS; n++) {
      const base = 10 + n * 20;
      const g =
        (stack: string, method: "table" | "config") =>
        (address: string, i: number): GrantSpec => ({ kind: "opnsense", name: `${stack}${i}-${address}`, alias: "jit_admins", address, method });
      const a0 = addrs(base, 4).map(g("a", methodA));
      const a1 = [...a0.slice(0, 2), ...addrs(base + 4, 3).map(g("a", methodA))];
      const b1 = addrs(base + 10, 5).map(g("b", methodB));
      out.push(await trial(`opnsense ${methodA}+${methodB}`, n, a0, a1, b1, opnPresent, (s) => s.address));
    }
    expect(out.map(verdict)).toEqual(out.map(() => good));
    expect(devices.snapshot()).toEqual(before);
  };

  test("OPNsense, both stacks method config", opnCase("config", "config"));
  test("OPNsense, both stacks method table", opnCase("table", "table"));
  test("OPNsense, stack A method config, stack B method table", opnCase("config", "table"));

  test("FortiManager, both stacks on the trusted-host slots of one administrator", async () => {
    const out: TrialFigures[] = [];
    for (let n = 1; n <= TRIALS; n++) {
      const base = 100 + n * 20;
      const g =
        (stack: string) =>
        (address: string, i: number): GrantSpec => ({ kind: "fortimanager", name: `${stack}${i}-${address}`, adminUser: "alice", address });
      // 3 + (1 + 2) + 3 stay within the 9 writable slots even while A adds before it revokes.
      const a0 = addrs(base, 3).map(g("a"));
      const a1 = [a0[0]!, ...addrs(base + 3, 2).map(g("a"))];
      const b1 = addrs(base + 10, 3).map(g("b"));
      out.push(
        await trial(
          "fortimanager slots",
          n,
          a0,
          a1,
          b1,
          () => ({ held: fmgSlots(devices.fortimanager, "alice"), seen: fmgSlots(devices.fortimanager, "alice") }),
          (s) => `${s.address}/32`,
        ),
      );
    }
    expect(out.map(verdict)).toEqual(out.map(() => good));
    expect(devices.snapshot()).toEqual(before);
  });
});

/**
 * Config mode across REAL separate processes (issue 9 items 1 and 2): two child node processes — two
 * CI jobs, two stacks — each grant 10 different addresses on one alias with `method: "config"`, while
 * one of them revokes an address an earlier run granted. set_item replaces the whole alias content and
 * the in-process batcher cannot see the other process, so without protection one process's write
 * drops the other's grants and brings the revoked address back (measured before the fix: see the
 * numbers printed per trial). The device content is asserted exactly after every trial: 0 lost, 0
 * resurrected, and every operation a child reported as successful holds on the device.
 *
 * The children load the BUILT package (dist/, built by `npm test`); OPN_XPROC_DIST points them at
 * another build (used to measure the code before the change). They run the shipped timing. Floor
 * experiments (BENCHMARKS.md, round 3): OPN_XPROC_TIMING (JSON, e.g. `{"settleMs":0}`), OPN_XPROC_RELOAD_MS
 * (reconfigure time, default 150) and OPN_XPROC_WRITE_MS (a set_item that takes this long to land).
 *
 * The second case makes one child a slow reader (issue 22, red team rt-config-slow-read): every get_item
 * answer reaches it 420 ms after the device served it — the worst case for a read→write window, the
 * content being as old as the whole round trip — so its reads come after window (a) (400 ms), and window
 * (b) of alias-batcher.ts ("Proof") gives a path that slow no more: it fails OPN002, loudly, and the
 * other child, which measures fast reads, loses nothing. OPN_XPROC_SLOW_TIMING (JSON) gives the slow child its own timing, to show the case
 * can fail: `OPN_XPROC_SLOW_TIMING='{"windowMs":2500}' OPN_XPROC_SLOW_READ_MS=1500` (the slow child's
 * window grown to fit its own 1.5 s reads, the fast child's settle unchanged) lost 10 of 10 grants
 * silently in each of 3 trials (measured 2026-12-07); the shipped timing lost 0 (the slow child failed OPN002).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { useEmulator } from "../support/emulator";
import { twoProcessTrials, XPROC_DIST as DIST, XPROC_TIMING as TIMING } from "../support/opnsense-two-process";
import { USERS } from "./helpers";

const TRIALS = Number(process.env.OPN_XPROC_TRIALS ?? 3);

// Request and reload times of the order of a real firewall (PHP per request, a filter reload), so the
// two processes' batches overlap as they do on a device.
const emu = useEmulator(() =>
  startOpnsenseEmulator({ users: Object.values(USERS), reconfigureLatencyMs: Number(process.env.OPN_XPROC_RELOAD_MS ?? 150), latencyMs: 30 }),
);
const trials = (label: string, extraA: Record<string, unknown>, extraB: Record<string, unknown>, loud?: RegExp) =>
  twoProcessTrials(emu, TRIALS, label, extraA, extraB, loud);

describe("config mode: two separate processes on one alias", () => {
  // The contract tier builds dist/ first; a missing build is a failure, not a skip that hides a moved path.
  beforeAll(() => {
    if (!existsSync(join(DIST, "provider", "devices", "opnsense", "resource.js"))) throw new Error(`no built provider under ${DIST}: run \`npm run build\``);
  });
  afterEach(() => emu.faults.clear());

  it(`loses no grant and resurrects no revoked address (${TRIALS} trials)`, async () => {
    // OPN_XPROC_WRITE_MS: a set_item that takes this long to land (floor experiments: the settle must outlast it).
    if (process.env.OPN_XPROC_WRITE_MS) emu.faults.add({ match: "alias/set_item", kind: "latency", ms: Number(process.env.OPN_XPROC_WRITE_MS) });
    await trials("", {}, {});
  }, 120_000);

  it(`one writer reads slowly (answers 420 ms late), the other fast: nothing lost; the slow one fails OPN002 or writes in time (${TRIALS} trials)`, async () => {
    // The slow child's writes are the stale-looking ones (a 450 ms read): it is the fast child's grants they could drop.
    const slowTiming = process.env.OPN_XPROC_SLOW_TIMING ? (JSON.parse(process.env.OPN_XPROC_SLOW_TIMING) as Record<string, number>) : TIMING;
    // A quick reload: until its first set_item is answered, the slow child judges its write's transit from the
    // reconfigure it measured (a 150 ms reload would leave window (b) no wider than (a) and fail it OPN002, loudly).
    const reload = emu.backend.reconfigureLatencyMs;
    emu.backend.reconfigureLatencyMs = 0;
    try {
      await trials(", child 1 reading slowly", { slowReadMs: Number(process.env.OPN_XPROC_SLOW_READ_MS ?? 420), timing: slowTiming }, {}, /OPN002/);
    } finally {
      emu.backend.reconfigureLatencyMs = reload;
    }
  }, 180_000);
});

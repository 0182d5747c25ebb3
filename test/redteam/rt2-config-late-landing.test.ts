/**
 * Red team (rt2, window (b) of alias-batcher.ts). A slow reader once wrote up to 700 ms after its read started, its
 * write's transit judged from a fast reload: with its reads 600 ms late and its set_item landing 600 ms after it was
 * sent, its first write, based on a read older than the other child's writes, landed after that child's verifying
 * reads, and the other child reported 3 grants created that the device no longer held (3 of 3 trials, 2026-12-07).
 * Fixed: the write allowance is twice the slowest answer on the path, reads included, so such a reader fails OPN002
 * (loudly) instead. The control: the same late set_item from a process that reads fast loses nothing.
 * The two-process machinery is test/support/opnsense-two-process.ts.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { useEmulator } from "../support/emulator";
import { twoProcessTrials, XPROC_DIST as DIST } from "../support/opnsense-two-process";
import { USERS } from "../opnsense/helpers";

const TRIALS = Number(process.env.OPN_XPROC_TRIALS ?? 2);

// Request and reload times of the order of a real firewall (PHP per request, a filter reload), so the
// two processes' batches overlap as they do on a device.
const emu = useEmulator(() =>
  startOpnsenseEmulator({ users: Object.values(USERS), reconfigureLatencyMs: Number(process.env.OPN_XPROC_RELOAD_MS ?? 150), latencyMs: 30 }),
);
// Loud failures are allowed here (the slow child may fail OPN002): a success that is untrue is not.
const trials = (label: string, extraA: Record<string, unknown>, extraB: Record<string, unknown>) => twoProcessTrials(emu, TRIALS, label, extraA, extraB, /./);

// Batches that do not wait for more ops (batching is no part of the proof: every batch is verified the same way), so
// that the two processes' writes interleave as they do when grants reach them one by one.
const EACH = { batchQuietMs: 0, batchMaxMs: 0 };

describe("config mode, two processes: a slow reader whose set_item lands late", () => {
  beforeAll(() => {
    if (!existsSync(join(DIST, "provider", "devices", "opnsense", "resource.js"))) throw new Error(`no built provider under ${DIST}: run \`npm run build\``);
  });
  it(`the fast writer's reported grants all hold (${TRIALS} trials)`, async () => {
    const reload = emu.backend.reconfigureLatencyMs;
    emu.backend.reconfigureLatencyMs = 0;
    try {
      await trials(
        ", child 1 reads 600 ms late and its set_item lands 600 ms late",
        { slowReadMs: 600, slowWriteMs: 600, timing: EACH },
        { timing: EACH, staggerMs: 120 },
      );
    } finally {
      emu.backend.reconfigureLatencyMs = reload;
    }
  }, 180_000);

  it(`control: the same late-landing set_item from a process that reads fast loses nothing (window (a)) (${TRIALS} trials)`, async () => {
    const reload = emu.backend.reconfigureLatencyMs;
    emu.backend.reconfigureLatencyMs = 0;
    try {
      await trials(", child 1's set_item lands 600 ms late, reads fast", { slowWriteMs: 600, timing: EACH }, { timing: EACH, staggerMs: 120 });
    } finally {
      emu.backend.reconfigureLatencyMs = reload;
    }
  }, 180_000);
});

/**
 * Red team (item 4, alias-batcher.ts): config mode never writes on a read older than its window (400 ms + 0.02 ms per
 * line, or the settle floor less twice the slowest answer on the path), and fails OPN002 after 4 such reads. A
 * firewall whose get_item always takes longer cannot be granted in config mode, even with no other writer: that is
 * the price of the cross-process rule. A first fix let a slow reader write anyway (its write's transit judged from a
 * fast reload); red team rt2 (rt2-config-late-landing) then showed its late-landing writes dropping a fast peer's
 * verified grants, 3 trials of 3. A process cannot tell "alone" from "a peer on another path", so the slow reader
 * fails loudly, with the window, the measured read times and the fix (method "table": alias_util changes need no read).
 * A set_item applied but whose answer is lost is decided by a fresh read.
 */
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { isGrantError } from "../../provider/core/errors";
import { resetProcessState } from "../../provider/core/process-state";
import { CONFIG_MODE_TIMING, configSettleMs, configWindowMs, readWriteWindowMs, writeAllowanceMs } from "../../provider/devices/opnsense/alias-batcher";
import { opnsenseAliasEntryProvider } from "../../provider/devices/opnsense/resource";
import { useEmulator } from "../support/emulator";
import { connFor, USERS } from "../opnsense/helpers";

jest.setTimeout(60_000);
const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));
const p = opnsenseAliasEntryProvider as unknown as {
  check(olds: object, news: object): Promise<{ inputs?: unknown }>;
  create(inputs: never): Promise<{ outs: Record<string, unknown> }>;
};
afterEach(() => {
  emu.faults.clear();
  resetProcessState();
});

// One writer, every get_item answered in 500 ms: loud, nothing written (never a write on a read that old).
it("a config-mode grant on a firewall whose get_item takes 500 ms fails OPN002 naming table mode, and writes nothing", async () => {
  const c = await p.check(
    {},
    { __provider: "x", ...connFor(emu.url, emu.caCert, "admin"), alias: "jit_admins", method: "config", address: "203.0.113.61", grantName: "slow" },
  );
  emu.faults.add({ match: "get_item", kind: "latency", ms: 500 });
  const r = await p.create(c.inputs as never).then(
    () => "created",
    (e: unknown) => (isGrantError(e) ? `${e.code} ${e.message}` : String(e)),
  );
  expect(r).toMatch(/^OPN002 /);
  expect(r).toContain('method "table"');
  expect(emu.log.count("alias/set_item")).toBe(0);
  expect(emu.backend.configContent("jit_admins")).not.toContain("203.0.113.61");
});

it("control: the same grant with a fast get_item is created", async () => {
  const c = await p.check(
    {},
    { __provider: "x", ...connFor(emu.url, emu.caCert, "admin"), alias: "jit_admins", method: "config", address: "203.0.113.62", grantName: "fast" },
  );
  await p.create(c.inputs as never);
  expect(emu.backend.configContent("jit_admins")).toContain("203.0.113.62");
});

it("a set_item applied whose answer is lost is not written twice: the grant is created, one line in the content", async () => {
  const c = await p.check(
    {},
    { __provider: "x", ...connFor(emu.url, emu.caCert, "admin"), alias: "jit_admins", method: "config", address: "203.0.113.63", grantName: "lost" },
  );
  emu.faults.add({ match: "set_item", kind: "reset", phase: "after", times: 1 });
  await p.create(c.inputs as never);
  expect({
    copies: emu.backend.configContent("jit_admins").filter((l) => l.startsWith("203.0.113.63")).length,
    faulted: emu.log.entries().filter((e) => e.fault !== undefined).length,
  }).toEqual({ copies: 1, faulted: 1 });
});

/**
 * The inequality the cross-process rule rests on (alias-batcher.ts "Proof"): a write of B based on a read that started
 * before A's write was answered lands before A's verifying read when window_B + transit_B ≤ settle_A. For window (b)
 * it must hold for EVERY pair of measured write times and content sizes (nothing about A is assumed, and B's read
 * latency does not enter: a slower read only leaves B less of the window), with transit_B within B's own allowance.
 * For window (a) it holds under the settle's standing premise: similar content size, B's write within A's allowance +
 * 50 ms. Two real processes, one reading slowly, run it in test/opnsense/cross-process.test.ts.
 */
describe("the read→write window is covered by any peer's settle", () => {
  const writes = [0, 1, 10, 30, 50, 80, 120, 200, 350, 600, 1_000, 3_000];
  const sizes = [0, 1, 100, 5_000, 20_000, 50_000, 200_000];
  it("window (b): for every own and peer write time and content size, window + own allowance ≤ the peer's settle", () => {
    const uncovered: string[] = [];
    for (const wB of writes)
      for (const wA of writes)
        for (const lB of sizes)
          for (const lA of sizes) {
            const windowB = readWriteWindowMs(lB, wB);
            if (windowB === configWindowMs(lB)) continue; // window (a): the premise case below
            if (windowB + writeAllowanceMs(wB) > configSettleMs(lA, wA)) uncovered.push(`B ${wB} ms/${lB} lines vs A ${wA} ms/${lA} lines`);
          }
    expect(uncovered).toEqual([]);
  });
  it("window (a): covered when both contents are the same size and B's write lands within A's allowance + 50 ms", () => {
    const uncovered: string[] = [];
    for (const wB of writes)
      for (const wA of writes)
        for (const l of sizes) {
          const transitB = Math.min(writeAllowanceMs(wB), writeAllowanceMs(wA) + 50);
          if (readWriteWindowMs(l, wB) + transitB > configSettleMs(l, wA)) uncovered.push(`B ${wB} ms vs A ${wA} ms, ${l} lines`);
        }
    expect(uncovered).toEqual([]);
  });
  it("a slow path gains no window: the allowance is twice the slowest answer on the path, reads included", () => {
    // Every answer fast: (b) only covers our own processing of a large alias.
    expect(readWriteWindowMs(0, 0)).toBe(CONFIG_MODE_TIMING.settleMs - 2 * CONFIG_MODE_TIMING.writeFloorMs);
    // A path answering in 250 ms or more (a read that slow was just measured) leaves only window (a).
    expect(readWriteWindowMs(0, 250)).toBe(configWindowMs(0));
    expect(readWriteWindowMs(0, 500)).toBe(configWindowMs(0));
    expect(readWriteWindowMs(0, 500)).toBeLessThan(500);
  });
});

/**
 * Issue 22: what one direct feed grant costs its FortiGate over one default `pulumi up` (a preview pass, then the
 * update pass in another provider process of the same CLI run), request by request, under the two push-visibility
 * variants the bench measures: a device that shows a push at once, and the emulator's default (2 s after its answer).
 * Counts are behaviour (what is read and written, and why), not timing.
 */
import { randomUUID } from "node:crypto";
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { resetProcessState, setRunScopeForTests } from "../../provider/core/process-state";
import { FEED_VISIBILITY, learnPace, newFeedPace, nextReadAtMs } from "../../provider/devices/fortinet/feed-batcher";
import { fortigateFeedEntryProvider as provider, type FortigateFeedEntryInputs } from "../../provider/devices/fortigate/feed-resource";
import { useEmulator } from "../support/emulator";

const start = () => startFortigateEmulator({ feeds: [{ name: "jit-allow", entries: ["198.51.100.1"] }] });
const emu = useEmulator(start);
// A second FortiGate, for what one device's wait teaches the next one's in the same provider process.
const emu2 = useEmulator(start);
type Emu = typeof emu;
const args = (e: Emu = emu) => ({ connection: { url: e.url, caCert: e.caCert }, credentials: { token: e.token }, feed: "jit-allow", address: "203.0.113.7" });

const FEED = "GET /api/v2/cmdb/system/external-resource/jit-allow";
const STATUS = "GET entry-list status_only";
const PAGE = (start: number) => `GET entry-list start=${start}`;
const PUSH = "POST /api/v2/monitor/system/external-resource/dynamic";
const requests = (d: Emu = emu) =>
  d.log.entries().map((e) => {
    if (!e.path.endsWith("/entry-list")) return `${e.method} ${e.path}`;
    const q = new URLSearchParams(e.query);
    return q.get("status_only") === "true" ? STATUS : PAGE(Number(q.get("start")));
  });

/**
 * One default `up` of one new grant per device: preview's checks, then the update pass's checks and creates (one
 * device after the other) in a fresh process of the same CLI run.
 */
async function up(devices: readonly Emu[] = [emu]): Promise<{ preview: string[]; update: string[] }[]> {
  setRunScopeForTests(`cli-${randomUUID()}`);
  try {
    for (const d of devices) expect((await provider.check({}, args(d))).failures ?? []).toEqual([]);
    const preview = devices.map((d) => requests(d));
    devices.forEach((d) => d.log.clear());
    resetProcessState();
    for (const d of devices) await provider.create((await provider.check({}, args(d))).inputs as FortigateFeedEntryInputs);
    return devices.map((d, i) => ({ preview: preview[i]!, update: requests(d) }));
  } finally {
    setRunScopeForTests(undefined);
  }
}

const saved = { ...FEED_VISIBILITY };
afterEach(() => Object.assign(FEED_VISIBILITY, saved));

describe("one direct feed grant on one FortiGate over one default `up` (shipped wait schedule)", () => {
  // Preview proves the feed (token, firmware, push feed, enabled: the CMDB object) and that its entry list can be
  // read (another access group); the update pass reuses that proof. The list before the push (one page and the
  // empty page that proves its end) decides adoption and what a failed add may take back; the push; the list after
  // it, to its proven end, is what proves the add (the push's answer is unpublished; overflow is read on every page).
  const preview = [FEED, STATUS];
  const before = [PAGE(0), PAGE(1)];
  const after = [PAGE(0), PAGE(2)];

  it("a device that shows the push at once: 7 requests (2 preview + 5 in the update pass)", async () => {
    Object.assign(emu.backend.feeds.settings, { pushVisibleAfterMs: 0 });
    const [r] = await up();
    expect(r!.preview).toEqual(preview);
    expect(r!.update).toEqual([...before, PUSH, ...after]);
    expect(r!.preview.length + r!.update.length).toBe(7);
  });

  it("a device that shows it 2 s after answering (the emulator's default): 9 requests, one more whole list read", async () => {
    Object.assign(emu.backend.feeds.settings, { pushVisibleAfterMs: 2000 });
    const [r] = await up();
    expect(r!.preview).toEqual(preview);
    // The read right after the push still shows the list without it (one page and its end); the next read, when the
    // documented propagation (1-2 s) has passed, shows it.
    expect(r!.update).toEqual([...before, PUSH, PAGE(0), PAGE(1), ...after]);
    expect(r!.preview.length + r!.update.length).toBe(9);
  });

  it("at 2 s, a FortiGate served after another one showed its push 2 s late is read back once: 9, then 7", async () => {
    for (const d of [emu, emu2]) Object.assign(d.backend.feeds.settings, { pushVisibleAfterMs: 2000 });
    const [first, second] = await up([emu, emu2]);
    expect(first!.update).toEqual([...before, PUSH, PAGE(0), PAGE(1), ...after]);
    expect(second!.preview).toEqual(preview);
    expect(second!.update).toEqual([...before, PUSH, ...after]);
  });
});

describe("the visibility wait's read schedule", () => {
  it("reads at once, then when the documented propagation has passed, then at doubling delays", () => {
    Object.assign(FEED_VISIBILITY, { pollMs: 500, expectMs: 2000 });
    const at = [0];
    while (at.length < 5) at.push(nextReadAtMs(at[at.length - 1]!));
    expect(at).toEqual([0, 2000, 4000, 8000, 16000]);
    // A learnt delay past the expectation keeps at least `pollMs` between reads.
    expect(nextReadAtMs(2100)).toBe(4200);
    expect(nextReadAtMs(100)).toBe(2000);
  });

  it("learns when a feed shows pushes: a 2 s device settles on one read at 2 s; an instant one hinted at 2 s comes down to reading at once", () => {
    Object.assign(FEED_VISIBILITY, { pollMs: 500, expectMs: 2000 });
    const slow = newFeedPace();
    const firsts: number[] = [];
    // A wait on a device that shows a push 2 s after answering: reads at `first`, then on the schedule, until >= 2000.
    const wait = (pace: typeof slow, showsAt: number) => {
      const first = pace.shownAfterMs ?? 0;
      firsts.push(first);
      let at = first;
      while (at < showsAt) at = nextReadAtMs(at);
      learnPace(pace, first, at, at === first);
    };
    for (let i = 0; i < 6; i++) wait(slow, 2000);
    // Once at once (missed), then at 2 s; a try at 1 s misses once; from then on, always at 2 s.
    expect(firsts).toEqual([0, 2000, 1000, 2000, 2000, 2000]);
    const fast = { ...newFeedPace(), shownAfterMs: 2000 };
    firsts.length = 0;
    for (let i = 0; i < 5; i++) wait(fast, 0);
    expect(firsts).toEqual([2000, 1000, 500, 0, 0]);
  });
});

/**
 * Issue 22: what one direct feed grant costs its FortiGate over one default `pulumi up` (a preview pass, then the
 * update pass in another provider process of the same CLI run), request by request, under the two push-visibility
 * variants the bench measures: a device that shows a push at once, and the emulator's default (2 s after its answer).
 * Counts are behaviour (what is read and written, and why), not timing.
 */
import { randomUUID } from "node:crypto";
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { resetProcessState, setRunScopeForTests } from "../../provider/core/process-state";
import { FEED_VISIBILITY, nextReadAtMs } from "../../provider/devices/fortinet/feed-batcher";
import { fortigateFeedEntryProvider as provider, type FortigateFeedEntryInputs } from "../../provider/devices/fortigate/feed-resource";
import { useEmulator } from "../support/emulator";

const emu = useEmulator(() => startFortigateEmulator({ feeds: [{ name: "jit-allow", entries: ["198.51.100.1"] }] }));
const args = () => ({ connection: { url: emu.url, caCert: emu.caCert }, credentials: { token: emu.token }, feed: "jit-allow", address: "203.0.113.7" });

const FEED = "GET /api/v2/cmdb/system/external-resource/jit-allow";
const STATUS = "GET entry-list status_only";
const PAGE = (start: number) => `GET entry-list start=${start}`;
const PUSH = "POST /api/v2/monitor/system/external-resource/dynamic";
const requests = () =>
  emu.log.entries().map((e) => {
    if (!e.path.endsWith("/entry-list")) return `${e.method} ${e.path}`;
    const q = new URLSearchParams(e.query);
    return q.get("status_only") === "true" ? STATUS : PAGE(Number(q.get("start")));
  });

/** One default `up` of one new grant: preview's check, then the update pass's check and create in a fresh process. */
async function up(): Promise<{ preview: string[]; update: string[] }> {
  setRunScopeForTests(`cli-${randomUUID()}`);
  try {
    const r = await provider.check({}, args());
    expect(r.failures ?? []).toEqual([]);
    const preview = requests();
    emu.log.clear();
    resetProcessState();
    const again = await provider.check({}, args());
    await provider.create(again.inputs as FortigateFeedEntryInputs);
    return { preview, update: requests() };
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
    const r = await up();
    expect(r.preview).toEqual(preview);
    expect(r.update).toEqual([...before, PUSH, ...after]);
    expect(r.preview.length + r.update.length).toBe(7);
  });

  it("a device that shows it 2 s after answering (the emulator's default): 9 requests, one more whole list read", async () => {
    Object.assign(emu.backend.feeds.settings, { pushVisibleAfterMs: 2000 });
    const r = await up();
    expect(r.preview).toEqual(preview);
    // The read right after the push still shows the list without it (one page and its end); the next read, when the
    // documented propagation (1-2 s) has passed, shows it.
    expect(r.update).toEqual([...before, PUSH, PAGE(0), PAGE(1), ...after]);
    expect(r.preview.length + r.update.length).toBe(9);
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
});

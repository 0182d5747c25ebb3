/**
 * Issue 19: feed verdicts must not rest on an unpublished device behaviour. Under every entry-list window the
 * emulator models ("none", 100, 1,000, `count=0` meaning all) and every push-visibility delay, a feed grant's
 * create, refresh and delete are either true or fail loudly — never a success while the address stays (a remove
 * of an entry outside the first window used to read "absent", send nothing and succeed).
 */
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { FEED_VISIBILITY } from "../../provider/devices/fortinet/feed-batcher";
import {
  fortigateFeedEntryProvider as provider,
  type FortigateFeedEntryInputs,
  type FortigateFeedEntryState,
} from "../../provider/devices/fortigate/feed-resource";
import { grantErrorCode as code, useEmulator } from "../support/emulator";

const RW = "feed-rw-token-0123456789";
const FW_ONLY = "fw-only-token-0123456789";
const emu = useEmulator(() =>
  startFortigateEmulator({
    users: [
      { name: "feeds", token: RW, fwgrp: "read", sysgrp: "custom", sysgrpPermission: { cfg: "read-write" }, vdoms: ["root"] },
      // No sysgrp given: "none", as a new custom profile has it (it used to follow fwgrp, so a Firewall-only token pushed feeds).
      { name: "firewall-only", token: FW_ONLY, fwgrp: "read-write", vdoms: ["root"] },
    ],
  }),
);
const FILL = Array.from({ length: 1500 }, (_, i) => `10.${Math.floor(i / 250)}.${i % 250}.1`);
const held = () => new Set([...(emu.backend.feeds.find("root", "jit-allow", false)?.entries.values() ?? [])].map((e) => e.entry));

async function checked(address: string): Promise<FortigateFeedEntryInputs> {
  const r = await provider.check({}, { connection: { url: emu.url, caCert: emu.caCert }, credentials: { token: RW }, feed: "jit-allow", address });
  expect(r.failures ?? []).toEqual([]);
  return r.inputs as FortigateFeedEntryInputs;
}
const settings = (s: Record<string, unknown>) => Object.assign(emu.backend.feeds.settings, s);

describe.each([
  ["no window", { entryListWindow: "none" }],
  ["window 100", { entryListWindow: 100 }],
  ["window 1000", { entryListWindow: 1000 }],
  ["window 1000, count=0 is all", { entryListWindow: 1000, entryListCountZero: "all" }],
])("entry list %s", (_what, variant) => {
  beforeEach(() => {
    settings(variant);
    emu.backend.feeds.addEntries("root", "jit-allow", FILL);
  });

  it("an entry past the first window is found: create adopts it, refresh keeps it, delete removes it", async () => {
    const far = FILL[1200]!;
    const { id, outs } = await provider.create(await checked(far));
    expect((outs as FortigateFeedEntryState).adopted).toBe(true);
    expect((await provider.read(id, outs)).props).toMatchObject({ address: far });
    await provider.delete(id, outs);
    expect(held().has(far)).toBe(false);
    expect(held().size).toBe(FILL.length - 1);
  });

  it("a new entry is appended, confirmed, and revoked", async () => {
    const { id, outs } = await provider.create(await checked("203.0.113.77"));
    expect(held().has("203.0.113.77")).toBe(true);
    emu.backend.feeds.removeEntries("root", "jit-allow", ["203.0.113.77"]);
    expect(await provider.read(id, outs)).toEqual({});
    emu.backend.feeds.addEntries("root", "jit-allow", ["203.0.113.77"]);
    await provider.delete(id, outs);
    expect(held().has("203.0.113.77")).toBe(false);
  });
});

describe("push visibility delay", () => {
  const saved = { ...FEED_VISIBILITY };
  afterEach(() => Object.assign(FEED_VISIBILITY, saved));

  it.each([0, 1500])("a push that shows after %i ms is waited for: create and delete succeed and are true", async (ms) => {
    settings({ pushVisibleAfterMs: ms });
    const { id, outs } = await provider.create(await checked("203.0.113.7"));
    expect(held().has("203.0.113.7")).toBe(true);
    await provider.delete(id, outs);
    expect(held().has("203.0.113.7")).toBe(false);
  });

  it("a push that does not show within the wait fails with 202103, never a success", async () => {
    FEED_VISIBILITY.waitMs = 1000;
    settings({ pushVisibleAfterMs: 4000 });
    expect(await code(provider.create(await checked("203.0.113.8")))).toBe("202103");
  });

  it("a remove that does not show within the wait fails the delete, never a success", async () => {
    const { id, outs } = await provider.create(await checked("203.0.113.9"));
    FEED_VISIBILITY.waitMs = 1000;
    settings({ pushVisibleAfterMs: 4000 });
    const e = await provider.delete(id, outs).catch((x: unknown) => x as Error);
    expect(e).toBeInstanceOf(Error);
    expect(held().has("203.0.113.9")).toBe(true);
  });
});

describe("least privilege on the FortiGate emulator (issue 19 item 4)", () => {
  it("a Firewall-only token cannot read or push feeds: preview fails with 202002 naming System > Configuration", async () => {
    const r = provider.check(
      {},
      { connection: { url: emu.url, caCert: emu.caCert }, credentials: { token: FW_ONLY }, feed: "jit-allow", address: "203.0.113.5" },
    );
    const e = await r.catch((x: unknown) => x as Error);
    expect(await code(Promise.reject(e))).toBe("202002");
    expect(String(e)).toContain("System > Configuration");
    expect(emu.log.sideEffects()).toHaveLength(0);
  });
});

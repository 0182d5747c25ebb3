/**
 * Red team (issue 19 items 1-2): feed verdicts that report success while the firewall still allows, or later
 * allows, the address. Each test states what the promise requires; a failing test is a finding.
 */
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { FEED_VISIBILITY } from "../../provider/devices/fortinet/feed-batcher";
import { FortigateFeedClient } from "../../provider/devices/fortigate/feed-client";
import { fortigateFeedEntryProvider as provider, type FortigateFeedEntryInputs } from "../../provider/devices/fortigate/feed-resource";
import { useEmulator } from "../support/emulator";

const RW = "feed-rw-token-0123456789";
const emu = useEmulator(() =>
  startFortigateEmulator({
    users: [{ name: "feeds", token: RW, fwgrp: "read", sysgrp: "custom", sysgrpPermission: { cfg: "read-write" }, vdoms: ["root"] }],
  }),
);
const FILL = Array.from({ length: 1500 }, (_, i) => `10.${Math.floor(i / 250)}.${i % 250}.1`);
const held = () => new Set([...(emu.backend.feeds.find("root", "jit-allow", false)?.entries.values() ?? [])].map((e) => e.entry));
const settings = (s: Record<string, unknown>) => Object.assign(emu.backend.feeds.settings, s);

async function checked(address: string): Promise<FortigateFeedEntryInputs> {
  const r = await provider.check({}, { connection: { url: emu.url, caCert: emu.caCert }, credentials: { token: RW }, feed: "jit-allow", address });
  expect(r.failures ?? []).toEqual([]);
  return r.inputs as FortigateFeedEntryInputs;
}

const saved = { ...FEED_VISIBILITY };
afterEach(() => {
  Object.assign(FEED_VISIBILITY, saved);
  jest.restoreAllMocks();
});

describe("red team: feed entry list paging", () => {
  it.each([
    [1000, 1000],
    [100, 100],
  ])("window %s: an entry removed by hand between two pages of the delete's read does not make the delete succeed while the address stays", async (w, at) => {
    settings({ entryListWindow: w });
    emu.backend.feeds.addEntries("root", "jit-allow", FILL);
    const target = FILL[at]!; // first entry of the second page
    const { id, outs } = await provider.create(await checked(target));
    const real = FortigateFeedClient.prototype.entryList;
    let armed = true;
    jest.spyOn(FortigateFeedClient.prototype, "entryList").mockImplementation(async function (this: FortigateFeedClient, feed, page) {
      const r = await real.call(this, feed, page);
      // Another admin (or process) removes an unrelated entry while we page: our address moves to index 999.
      if (armed && page !== "status-only" && page.start === 0 && r.entries.length === w) {
        armed = false;
        emu.backend.feeds.removeEntries("root", "jit-allow", [FILL[3]!]);
      }
      return r;
    });
    const err = await provider.delete(id, outs).then(
      () => undefined,
      (e: unknown) => e,
    );
    // The promise: the delete succeeds only when the address is gone.
    if (err === undefined) expect(held().has(target)).toBe(false);
  });
});

describe("red team: refresh during a hand edit", () => {
  it("an entry removed by hand between two pages of a refresh's read: refresh does not report the grant gone while the address stays", async () => {
    settings({ entryListWindow: 1000 });
    emu.backend.feeds.addEntries("root", "jit-allow", FILL);
    const target = FILL[1000]!;
    const { id, outs } = await provider.create(await checked(target));
    const real = FortigateFeedClient.prototype.entryList;
    let armed = true;
    jest.spyOn(FortigateFeedClient.prototype, "entryList").mockImplementation(async function (this: FortigateFeedClient, feed, page) {
      const r = await real.call(this, feed, page);
      if (armed && page !== "status-only" && page.start === 0 && r.entries.length === 1000) {
        armed = false;
        emu.backend.feeds.removeEntries("root", "jit-allow", [FILL[3]!]);
      }
      return r;
    });
    const r = await provider.read(id, outs);
    // `{}` drops the grant from state: the address would then stay allowed with nothing to revoke it.
    expect(held().has(target)).toBe(true);
    expect(r).not.toEqual({});
  });
});

describe("red team: a device that ignores `count` and windows above the page size", () => {
  it("window 2000, count ignored, 3000 entries: deleting an entry at index 2500 removes it or fails", async () => {
    settings({ entryListWindow: 2000 });
    const many = Array.from({ length: 3000 }, (_, i) => `10.${Math.floor(i / 250)}.${i % 250}.1`);
    emu.backend.feeds.addEntries("root", "jit-allow", many);
    const target = many[2500]!;
    const { id, outs } = await provider.create(await checked(target));
    const real = FortigateFeedClient.prototype.entryList;
    // The device answers `start` but not `count`: every page is its window of 2000 (fortigate-feeds.md: the window is unpublished).
    jest.spyOn(FortigateFeedClient.prototype, "entryList").mockImplementation(async function (this: FortigateFeedClient, feed, page) {
      return real.call(this, feed, page === "status-only" ? page : { start: page.start, count: 2000 });
    });
    const err = await provider.delete(id, outs).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (err === undefined) expect(held().has(target)).toBe(false);
  });
});

describe("red team: push visibility longer than the wait", () => {
  it("a create that fails because its add did not show in time leaves nothing allowed once the device applies the push", async () => {
    FEED_VISIBILITY.waitMs = 500;
    FEED_VISIBILITY.pollMs = 100;
    settings({ pushVisibleAfterMs: 1500 });
    const err = await provider.create(await checked("203.0.113.8")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    process.stdout.write(`create failed with: ${(err as Error).message.split("\n").slice(0, 3).join(" | ")}\n`);
    await new Promise((r) => setTimeout(r, 2000));
    // No state was recorded (the create failed), so nothing may be left allowing the address.
    expect(held().has("203.0.113.8")).toBe(false);
  });
});

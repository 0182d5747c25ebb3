/**
 * Red team (item 6, feed-identity.ts): the serial identity that keeps one FortiGate's feed entry when a direct grant
 * and a FortiManager grant of the same box both declare it is wired into the per-entry feed grants only
 * (FortigateFeedEntry, FortimanagerFeedEntry). The feed SETS (FortigateFeedSet, FortimanagerFeedSet) neither declare
 * their addresses there nor consult it when they remove one. Moving a team from a direct set to managed grants (or
 * back) in one `up` — the engine creates the new grant (adopting the listed entry), then deletes the old — revokes
 * the address the new grant holds. Setup as feed-direct-and-managed.test.ts (one box: fgt-hq is fgt.url).
 */
import type { FortigateEmulator } from "../../emulators/fortigate/emulator";
import { DEFAULT_CREDENTIALS, type FortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { resetProcessState } from "../../provider/core/process-state";
import { fortigateFeedSetProvider } from "../../provider/devices/fortigate/feed-set";
import { fortigateFeedEntryProvider } from "../../provider/devices/fortigate/feed-resource";
import { fortimanagerFeedEntryProvider } from "../../provider/devices/fortimanager/feed-resource";
import { closeOneBoxFeeds, startOneBoxFeeds } from "../support/one-box-feeds";
import { fortimanagerFeedSetProvider } from "../../provider/devices/fortimanager/feed-set";

jest.setTimeout(60_000);

const FEED = "jit-allow";
const ADDRESS = "203.0.113.71";

let fgt: FortigateEmulator;
let fmg: FortimanagerEmulator;
beforeAll(async () => void ({ fgt, fmg } = await startOneBoxFeeds(FEED)));
afterAll(() => closeOneBoxFeeds({ fgt, fmg }));

const held = () => [...(fgt.backend.feeds.find("root", FEED, false)?.entries.values() ?? [])].some((e) => e.entry === ADDRESS);
const fgtConn = () => ({ __provider: "x", connection: { url: fgt.url, caCert: fgt.caCert }, credentials: { token: fgt.token }, feed: FEED });
const fmgConn = () => ({
  __provider: "x",
  connection: { url: fmg.url, caCert: fmg.caCert },
  credentials: { token: DEFAULT_CREDENTIALS.apiKey },
  devices: ["fgt-hq"],
  feed: FEED,
});

// Was HIGH, fixed (feed sets remove through feed-identity.ts too): a direct FortigateFeedSet deleted after a
// FortimanagerFeedEntry of the same FortiGate adopted its address. Fix: FortigateFeedSet/FortimanagerFeedSet declare
// each listed address with declareFeedEntry in check and keep (keptByOtherKind) what a grant of the other kind
// declares on the same serial before pushing a remove.
it("replacing a direct FortigateFeedSet by a FortimanagerFeedEntry of the same FortiGate keeps the address allowed", async () => {
  const c = await fortigateFeedSetProvider.check({}, { ...fgtConn(), addresses: [ADDRESS], grantName: "team-direct" } as never);
  const set = await fortigateFeedSetProvider.create(c.inputs as never);
  expect(held()).toBe(true);
  resetProcessState();
  const m = await fortimanagerFeedEntryProvider.check({}, { ...fmgConn(), address: ADDRESS, grantName: "alice-managed" });
  await fortimanagerFeedEntryProvider.create(m.inputs as never);
  await fortigateFeedSetProvider.delete(set.id, set.outs as never);
  expect(held()).toBe(true);
});

// Was HIGH, fixed, the other way round: a FortimanagerFeedSet deleted after a direct FortigateFeedEntry adopted its address.
it("replacing a FortimanagerFeedSet by a direct FortigateFeedEntry of the same FortiGate keeps the address allowed", async () => {
  resetProcessState();
  const c = await fortimanagerFeedSetProvider.check({}, { ...fmgConn(), addresses: [ADDRESS], grantName: "team-managed" } as never);
  const set = await fortimanagerFeedSetProvider.create(c.inputs as never);
  expect(held()).toBe(true);
  resetProcessState();
  const d = await fortigateFeedEntryProvider.check({}, { ...fgtConn(), address: ADDRESS, grantName: "alice-direct" });
  await fortigateFeedEntryProvider.create(d.inputs as never);
  await fortimanagerFeedSetProvider.delete(set.id, set.outs as never);
  expect(held()).toBe(true);
});

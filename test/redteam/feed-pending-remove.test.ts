/**
 * Red team (issue 19, push visibility, default variant): a FortiGate applies a feed push seconds after answering it
 * (emulator default `pushVisibleAfterMs: 2000`). Another stack (or CI job) has just revoked 203.0.113.7 from the
 * feed: its remove is accepted, not yet visible. This stack now creates a grant of the same address. The entry list
 * still shows the address, so the add is judged "already there" (adopted), nothing is pushed, and create succeeds;
 * two seconds later the other stack's remove lands and the address is gone, while this stack's state says granted.
 * A create that reports success must leave the device holding the grant.
 */
import { startFortigateEmulator, type FortigateEmulator } from "../../emulators/fortigate/emulator";
import { resetProcessState } from "../../provider/core/process-state";
import { closeAllAgents } from "../../provider/core/transport";
import { fortigateFeedEntryProvider } from "../../provider/devices/fortigate/feed-resource";
import { fortigateFeedSetProvider } from "../../provider/devices/fortigate/feed-set";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { fortimanagerFeedEntryProvider } from "../../provider/devices/fortimanager/feed-resource";
import { closeFortimanagerSessions } from "../../provider/devices/fortimanager/session";

jest.setTimeout(60_000);

const FEED = "jit-allow";
const ADDRESS = "203.0.113.7";

let emu: FortigateEmulator;
beforeEach(async () => {
  // The default variant: a push shows in the entry list 2 s after its answer.
  emu = await startFortigateEmulator({ vdoms: ["root"], feeds: [{ name: FEED, entries: [ADDRESS] }] });
});
afterEach(async () => {
  await emu.close();
  await closeAllAgents();
  resetProcessState();
});

const held = () => [...(emu.backend.feeds.find("root", FEED, false)?.entries.values() ?? [])].some((e) => e.entry === ADDRESS);
/** What the other stack's delete did: a remove push the device answered and will apply after the visibility delay. */
const otherStackRemoves = () => emu.backend.feeds.applyLater(() => void emu.backend.feeds.removeEntries("root", FEED, [ADDRESS]));
const conn = () => ({ __provider: "x", connection: { url: emu.url, caCert: emu.caCert }, credentials: { token: emu.token }, feed: FEED });

// Fixed (issue 19): an add is pushed even when listed; the device applies it after the pending remove.
it("FortigateFeedEntry: a create that reports success while another stack's remove is pending leaves the device holding the address", async () => {
  const checked = await fortigateFeedEntryProvider.check({}, { ...conn(), address: ADDRESS, grantName: "alice" });
  otherStackRemoves();
  await fortigateFeedEntryProvider.create(checked.inputs as never);
  await new Promise((r) => setTimeout(r, 2500));
  expect(held()).toBe(true);
});

it("FortigateFeedSet: the same for a set's member", async () => {
  const checked = await fortigateFeedSetProvider.check({}, { ...conn(), addresses: [ADDRESS], grantName: "team" });
  otherStackRemoves();
  await fortigateFeedSetProvider.create(checked.inputs as never);
  await new Promise((r) => setTimeout(r, 2500));
  expect(held()).toBe(true);
});

it("FortimanagerFeedEntry: the same through FortiManager (the shared feed batcher)", async () => {
  const fmg = await startFortimanagerEmulator({ devices: [{ name: "fgt-hq", adom: "root", feeds: [{ name: FEED, entries: [ADDRESS] }] }] });
  try {
    const feeds = fmg.backend.devices.devices.get("fgt-hq")!.backend.feeds;
    const checked = await fortimanagerFeedEntryProvider.check(
      {},
      {
        __provider: "x",
        connection: { url: fmg.url, caCert: fmg.caCert },
        credentials: { token: DEFAULT_CREDENTIALS.apiKey },
        devices: ["fgt-hq"],
        feed: FEED,
        address: ADDRESS,
        grantName: "alice",
      },
    );
    feeds.applyLater(() => void feeds.removeEntries("root", FEED, [ADDRESS]));
    await fortimanagerFeedEntryProvider.create(checked.inputs as never);
    await new Promise((r) => setTimeout(r, 2500));
    expect([...(feeds.find("root", FEED, false)?.entries.values() ?? [])].some((e) => e.entry === ADDRESS)).toBe(true);
  } finally {
    await closeFortimanagerSessions();
    await fmg.close();
  }
});

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

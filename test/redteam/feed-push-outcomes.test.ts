/**
 * Red team (issue 19): a push's outcome on a device that shows pushes seconds after answering them (the emulator's
 * default, 2 s). What a create reports must be what the device holds once every push has landed:
 * - a push answered 500 although the device applied it is waited for, and the create succeeds when it shows;
 * - a push answered 500 that never shows is taken back (a remove sent after it), so nothing lands later with no state;
 * - a failed create never takes back an entry listed before it that is still listed (someone else's);
 * - a delete pushes its remove even when the list does not show the entry yet (our own add may still be landing).
 */
import { startFortigateEmulator, type FortigateEmulator } from "../../emulators/fortigate/emulator";
import { resetProcessState } from "../../provider/core/process-state";
import { closeAllAgents } from "../../provider/core/transport";
import { fortigateFeedEntryProvider as provider } from "../../provider/devices/fortigate/feed-resource";
import { FEED_VISIBILITY } from "../../provider/devices/fortinet/feed-batcher";

jest.setTimeout(60_000);

const FEED = "jit-allow";
const ADDRESS = "203.0.113.7";
const PUSH = "POST /api/v2/monitor/system/external-resource/dynamic";

let emu: FortigateEmulator;
const savedVisibility = { ...FEED_VISIBILITY };
afterEach(async () => {
  Object.assign(FEED_VISIBILITY, savedVisibility);
  await emu.close();
  await closeAllAgents();
  resetProcessState();
});
const start = async (entries: string[] = []) => {
  emu = await startFortigateEmulator({ vdoms: ["root"], feeds: [{ name: FEED, entries }] });
};

const held = () => [...(emu.backend.feeds.find("root", FEED, false)?.entries.values() ?? [])].some((e) => e.entry === ADDRESS);
const settle = () => new Promise((r) => setTimeout(r, 2_500));
const checked = async () =>
  (
    await provider.check(
      {},
      {
        __provider: "x",
        connection: { url: emu.url, caCert: emu.caCert },
        credentials: { token: emu.token },
        feed: FEED,
        address: ADDRESS,
        grantName: "alice",
      },
    )
  ).inputs as never;
/** The next push answers 500; when `applied`, the device applies it first (as a device failing after the write would). */
const push500 = (applied: boolean) =>
  emu.faults.add({
    match: PUSH,
    times: 1,
    kind: "reply",
    reply: () => {
      if (applied) emu.backend.feeds.applyLater(() => void emu.backend.feeds.addEntries("root", FEED, [ADDRESS]));
      return { status: 500, json: { http_method: "POST", status: "error", http_status: 500, vdom: "root" } };
    },
  });

it("a push answered 500 that the device applied: create waits for it and succeeds", async () => {
  await start();
  const ins = await checked();
  push500(true);
  const { outs } = await provider.create(ins);
  expect(outs).toMatchObject({ adopted: false });
  await settle();
  expect(held()).toBe(true);
});

it("a push answered 500 that never shows: create fails and takes it back; nothing lands afterwards", async () => {
  await start();
  const ins = await checked();
  // Applied, but only after the bounded wait (1 s here, against the device's 2 s).
  Object.assign(FEED_VISIBILITY, { waitMs: 1_000 });
  push500(true);
  await expect(provider.create(ins)).rejects.toThrow(/202100/);
  await settle();
  expect(held()).toBe(false);
});

it("a failed create never takes back an entry listed before it", async () => {
  await start([ADDRESS]);
  const ins = await checked();
  push500(false);
  await expect(provider.create(ins)).rejects.toThrow();
  await settle();
  expect(held()).toBe(true);
  expect(emu.log.entries().filter((e) => e.method === "POST")).toHaveLength(1);
});

it("a delete pushes its remove even when the entry is not listed yet (an add of ours still landing)", async () => {
  await start();
  const ins = await checked();
  const { id, outs } = await provider.create(ins);
  // Gone by hand, then put back by a push not yet shown (e.g. this grant's own earlier add).
  emu.backend.feeds.removeEntries("root", FEED, [ADDRESS]);
  emu.backend.feeds.applyLater(() => void emu.backend.feeds.addEntries("root", FEED, [ADDRESS]));
  await provider.delete(id, outs);
  await settle();
  expect(held()).toBe(false);
});

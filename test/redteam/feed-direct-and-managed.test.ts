/**
 * Red team (overlaps between resource kinds): one FortiGate's push feed, reached directly (`FortigateFeedEntry`,
 * the FortiGate's URL) and through its FortiManager (`FortimanagerFeedEntry`, devices: [that FortiGate]). A team
 * moving its grants under FortiManager replaces the direct grant by the managed one in one `up`: the engine creates
 * the new grant (the address is listed: adopted) and then deletes the old one. The two keys of the shared-address
 * rule differ (FortiGate URL vs FortiManager URL + device); the device identity both sides can read is the FortiGate's
 * serial (FortiOS `monitor/system/status` `serial`, FortiManager inventory `sn`): the direct delete keeps the entry when
 * a managed grant of the program declares it on the FortiGate of the same serial (feed-identity.ts), removes it on
 * another FortiGate, and fails (202100) rather than guess when the serial cannot be learnt.
 */
import type { FortigateEmulator } from "../../emulators/fortigate/emulator";
import { DEFAULT_CREDENTIALS, type FortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { resetProcessState } from "../../provider/core/process-state";
import { fortigateFeedEntryProvider } from "../../provider/devices/fortigate/feed-resource";
import { fortimanagerFeedEntryProvider } from "../../provider/devices/fortimanager/feed-resource";
import { closeOneBoxFeeds, startOneBoxFeeds } from "../support/one-box-feeds";

jest.setTimeout(60_000);

const FEED = "jit-allow";
const ADDRESS = "203.0.113.7";

let fgt: FortigateEmulator;
let fmg: FortimanagerEmulator;
beforeAll(async () => void ({ fgt, fmg } = await startOneBoxFeeds(FEED)));
afterAll(() => closeOneBoxFeeds({ fgt, fmg }));

const held = () => [...(fgt.backend.feeds.find("root", FEED, false)?.entries.values() ?? [])].some((e) => e.entry === ADDRESS);

const directGrant = async () => {
  const direct = await fortigateFeedEntryProvider.check(
    {},
    { __provider: "x", connection: { url: fgt.url, caCert: fgt.caCert }, credentials: { token: fgt.token }, feed: FEED, address: ADDRESS, grantName: "direct" },
  );
  return fortigateFeedEntryProvider.create(direct.inputs as never);
};
/** A new `up` whose program declares only the managed grant on `devices` (check registers it; the engine creates it). */
const managedGrant = async (devices: string[], url = fmg.url) => {
  resetProcessState();
  const managed = await fortimanagerFeedEntryProvider.check(
    {},
    {
      __provider: "x",
      connection: { url, caCert: fmg.caCert },
      credentials: { token: DEFAULT_CREDENTIALS.apiKey },
      devices,
      feed: FEED,
      address: ADDRESS,
      grantName: "managed",
    },
  );
  return managed.inputs;
};

it("replacing a direct FortigateFeedEntry by a FortimanagerFeedEntry of the same FortiGate keeps the address allowed", async () => {
  const created = await directGrant();
  expect(held()).toBe(true);
  const managed = await managedGrant(["fgt-hq"]);
  await fortimanagerFeedEntryProvider.create(managed as never);
  await fortigateFeedEntryProvider.delete(created.id, created.outs as never);
  expect(held()).toBe(true);
  // And back: the managed grant's delete keeps what a direct grant of the program declares on the same FortiGate.
  resetProcessState();
  const again = await directGrant();
  const outs = (await fortimanagerFeedEntryProvider.create(managed as never)).outs;
  resetProcessState();
  await fortigateFeedEntryProvider.check({}, { ...again.outs, __provider: "x", credentials: { token: fgt.token } } as never);
  await fortimanagerFeedEntryProvider.delete("x", { ...outs, grantName: "managed" } as never);
  expect(held()).toBe(true);
  // Declared by no one: the direct delete revokes it.
  resetProcessState();
  await fortigateFeedEntryProvider.delete(again.id, again.outs as never);
  expect(held()).toBe(false);
});

it("a managed grant of another FortiGate (another serial) does not keep the direct grant's entry", async () => {
  const created = await directGrant();
  await managedGrant(["fgt-br1"]);
  await fortigateFeedEntryProvider.delete(created.id, created.outs as never);
  expect(held()).toBe(false);
});

it("when the manager cannot say which FortiGate its device is, the direct delete fails (202100) and the entry stays", async () => {
  const created = await directGrant();
  // The managed grant points at a manager that does not answer: its devices' serials cannot be learnt.
  await managedGrant(["fgt-hq"], "https://127.0.0.1:1").catch(() => undefined);
  await expect(fortigateFeedEntryProvider.delete(created.id, created.outs as never)).rejects.toThrow(/202100[\s\S]*not removed: grant "managed"/);
  expect(held()).toBe(true);
  resetProcessState();
  await fortigateFeedEntryProvider.delete(created.id, created.outs as never);
  expect(held()).toBe(false);
});

/**
 * Red team (issue 19 item 2, FortiManager): a FortimanagerFeedEntry create whose proxied push shows on one device
 * after the visibility wait fails, takes back only what the read-back showed, and the push lands later with no state.
 */
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { FEED_VISIBILITY } from "../../provider/devices/fortinet/feed-batcher";
import { fortimanagerFeedEntryProvider as provider, type FortimanagerFeedEntryInputs } from "../../provider/devices/fortimanager/feed-resource";
import { useEmulator } from "../support/emulator";

const DEVICES = ["fgt-1", "fgt-2"];
const emu = useEmulator(() =>
  startFortimanagerEmulator({
    devices: DEVICES.map((name) => ({ name, feeds: [{ name: "jit-allow" }] })),
    profiles: [{ profileid: "Super_User", superUser: true, systemSetting: "read-write" }],
    admins: [{ userid: "apiadmin", userType: "api", apiKey: DEFAULT_CREDENTIALS.apiKey, profileid: "Super_User" }],
  }),
);
const dev = (name: string) => emu.backend.devices.devices.get(name)!;
const entries = (name: string) => [...(dev(name).backend.feeds.find("root", "jit-allow", false)?.entries.values() ?? [])].map((e) => e.entry).sort();
const saved = { ...FEED_VISIBILITY };
afterEach(() => Object.assign(FEED_VISIBILITY, saved));

it("a create failing because fgt-2 shows the push late leaves the address on no device once fgt-2 applies it", async () => {
  FEED_VISIBILITY.waitMs = 500;
  FEED_VISIBILITY.pollMs = 100;
  const r = await provider.check(
    {},
    {
      connection: { url: emu.url, caCert: emu.caCert },
      credentials: { token: DEFAULT_CREDENTIALS.apiKey },
      devices: DEVICES,
      feed: "jit-allow",
      address: "203.0.113.7",
    },
  );
  expect(r.failures ?? []).toEqual([]);
  Object.assign(dev("fgt-2").backend.feeds.settings, { pushVisibleAfterMs: 1500 });
  const out = await provider.create(r.inputs as FortimanagerFeedEntryInputs).then(
    () => "created",
    (e: unknown) => String(e).split("\n")[0],
  );
  expect(out).not.toBe("created");
  await new Promise((res) => setTimeout(res, 2000));
  expect({ fgt1: entries("fgt-1"), fgt2: entries("fgt-2") }).toEqual({ fgt1: [], fgt2: [] });
});

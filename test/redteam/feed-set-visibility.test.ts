/**
 * Red team (issue 19 item 2): a FortigateFeedSet create whose push shows after the visibility wait fails; its
 * take-back reads "absent" and removes nothing, and the push lands later with no state: the address stays allowed.
 */
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { FEED_VISIBILITY } from "../../provider/devices/fortinet/feed-batcher";
import { fortigateFeedSetProvider as fgt } from "../../provider/devices/fortigate/feed-set";
import { useEmulator } from "../support/emulator";

const emu = useEmulator(() => startFortigateEmulator({}));
const entries = () => [...(emu.backend.feeds.find("root", "jit-allow", false)?.entries.values() ?? [])].map((e) => e.entry).sort();
const saved = { ...FEED_VISIBILITY };
afterEach(() => Object.assign(FEED_VISIBILITY, saved));

it("a failed FortigateFeedSet create (push shown after the wait) leaves nothing allowed once the device applies it", async () => {
  FEED_VISIBILITY.waitMs = 500;
  FEED_VISIBILITY.pollMs = 100;
  Object.assign(emu.backend.feeds.settings, { pushVisibleAfterMs: 1500 });
  const r = await fgt.check({}, {
    connection: { url: emu.url, caCert: emu.caCert },
    credentials: { token: emu.token },
    feed: "jit-allow",
    addresses: ["203.0.113.10", "203.0.113.11"],
    grantName: "fs",
  } as never);
  expect(r.failures ?? []).toEqual([]);
  const out = await fgt.create(r.inputs as never).then(
    () => "created",
    (e: unknown) => String(e).split("\n")[0],
  );
  expect(out).not.toBe("created");
  await new Promise((res) => setTimeout(res, 2000));
  expect(entries()).toEqual([]);
});

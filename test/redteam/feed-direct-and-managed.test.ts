/**
 * Red team (overlaps between resource kinds): one FortiGate's push feed, reached directly (`FortigateFeedEntry`,
 * the FortiGate's URL) and through its FortiManager (`FortimanagerFeedEntry`, devices: [that FortiGate]). A team
 * moving its grants under FortiManager replaces the direct grant by the managed one in one `up`: the engine creates
 * the new grant (the address is listed: adopted) and then deletes the old one. The two keys of the shared-address
 * rule differ (FortiGate URL vs FortiManager URL + device), so the delete removes the address the program still
 * declares through FortiManager. After the up the managed grant's state says granted; the FortiGate does not allow it.
 */
import { startFortigateEmulator, type FortigateEmulator } from "../../emulators/fortigate/emulator";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator, type FortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { resetProcessState } from "../../provider/core/process-state";
import { closeAllAgents } from "../../provider/core/transport";
import { fortigateFeedEntryProvider } from "../../provider/devices/fortigate/feed-resource";
import { fortimanagerFeedEntryProvider } from "../../provider/devices/fortimanager/feed-resource";
import { closeFortimanagerSessions } from "../../provider/devices/fortimanager/session";

jest.setTimeout(60_000);

const FEED = "jit-allow";
const ADDRESS = "203.0.113.7";

let fgt: FortigateEmulator;
let fmg: FortimanagerEmulator;
beforeAll(async () => {
  fmg = await startFortimanagerEmulator({
    devices: [{ name: "fgt-hq", adom: "root", feeds: [{ name: FEED }], feedSettings: { pushVisibleAfterMs: 0 } }],
  } as never);
  fgt = await startFortigateEmulator({ vdoms: ["root"], feeds: [{ name: FEED }], feedSettings: { pushVisibleAfterMs: 0 } } as never);
  // One box: FortiManager's managed "fgt-hq" is the FortiGate reachable at fgt.url (its management user added).
  const managed = fmg.backend.devices.devices.get("fgt-hq")! as { backend: unknown; mgmtToken: string };
  const r = await fetch(`${fgt.url}/__emulator/users`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "fmg-mgmt", token: managed.mgmtToken, fwgrp: "read-write", sysgrp: "read-write", vdoms: ["root"] }),
    dispatcher: new (require("undici").Agent)({ connect: { ca: fgt.caCert } }),
  } as never);
  expect(r.status).toBeLessThan(300);
  managed.backend = fgt.backend;
});
afterAll(async () => {
  await fgt?.close();
  await fmg?.close();
  await closeFortimanagerSessions();
  await closeAllAgents();
  resetProcessState();
});

const held = () => [...(fgt.backend.feeds.find("root", FEED, false)?.entries.values() ?? [])].some((e) => e.entry === ADDRESS);

// BUG (red team): the direct and the managed grant of one FortiGate feed entry do not share a key.
it.failing("replacing a direct FortigateFeedEntry by a FortimanagerFeedEntry of the same FortiGate keeps the address allowed", async () => {
  // Run 1: the direct grant.
  const direct = await fortigateFeedEntryProvider.check(
    {},
    { __provider: "x", connection: { url: fgt.url, caCert: fgt.caCert }, credentials: { token: fgt.token }, feed: FEED, address: ADDRESS, grantName: "direct" },
  );
  const created = await fortigateFeedEntryProvider.create(direct.inputs as never);
  expect(held()).toBe(true);

  // Run 2 (a new `up`): the program declares only the managed grant; the engine creates it, then deletes the direct one.
  resetProcessState();
  const managed = await fortimanagerFeedEntryProvider.check(
    {},
    {
      __provider: "x",
      connection: { url: fmg.url, caCert: fmg.caCert },
      credentials: { token: DEFAULT_CREDENTIALS.apiKey },
      devices: ["fgt-hq"],
      feed: FEED,
      address: ADDRESS,
      grantName: "managed",
    },
  );
  await fortimanagerFeedEntryProvider.create(managed.inputs as never);
  await fortigateFeedEntryProvider.delete(created.id, created.outs as never);
  expect(held()).toBe(true);
});

/**
 * Issue 19 leftover: a FortiGate that refuses an `add` of an entry its feed already lists (emulator variant
 * `feedSettings.repeatedAdd: "refuse"`; no source shows either answer). The client pushes an add even for a listed
 * entry: only its own push, answered after any other writer's, makes the outcome its own (feed-batcher.ts). Under
 * the refusal, adopting a listed entry — directly, through FortiManager, or by a feed set — must fail loudly with a
 * diagnosis and leave the entry listed (it is someone else's until proven ours); never a success, never a revoke.
 * An entry not yet listed is granted as on any device.
 */
import type { FortigateEmulator } from "../../emulators/fortigate/emulator";
import { DEFAULT_CREDENTIALS, type FortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { isGrantError } from "../../provider/core/errors";
import { resetProcessState } from "../../provider/core/process-state";
import { fortigateFeedEntryProvider } from "../../provider/devices/fortigate/feed-resource";
import { fortigateFeedSetProvider } from "../../provider/devices/fortigate/feed-set";
import { fortimanagerFeedEntryProvider } from "../../provider/devices/fortimanager/feed-resource";
import { fortimanagerFeedSetProvider } from "../../provider/devices/fortimanager/feed-set";
import { closeOneBoxFeeds, startOneBoxFeeds } from "../support/one-box-feeds";

jest.setTimeout(60_000);

const FEED = "jit-allow";
const LISTED = "203.0.113.121";

let fgt: FortigateEmulator;
let fmg: FortimanagerEmulator;
beforeAll(async () => {
  ({ fgt, fmg } = await startOneBoxFeeds(FEED));
  fgt.backend.feeds.settings.repeatedAdd = "refuse";
  fgt.backend.feeds.addEntries("root", FEED, [LISTED]);
});
afterAll(() => closeOneBoxFeeds({ fgt, fmg }));
beforeEach(() => resetProcessState());

const listed = (a: string) => [...(fgt.backend.feeds.find("root", FEED, false)?.entries.values() ?? [])].some((e) => e.entry === a);
const fgtConn = () => ({ __provider: "x", connection: { url: fgt.url, caCert: fgt.caCert }, credentials: { token: fgt.token }, feed: FEED });
const fmgConn = () => ({
  __provider: "x",
  connection: { url: fmg.url, caCert: fmg.caCert },
  credentials: { token: DEFAULT_CREDENTIALS.apiKey },
  devices: ["fgt-hq"],
  feed: FEED,
});
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => "succeeded",
    (e: unknown) => (isGrantError(e) ? `diagnosed ${e.code}` : `not a GrantError: ${String(e)}`),
  );

it("the variant refuses a repeated add and nothing else", async () => {
  const r = await fetch(`${fgt.url}/api/v2/monitor/system/external-resource/dynamic?vdom=root`, {
    method: "POST",
    headers: { authorization: `Bearer ${fgt.token}`, "content-type": "application/json" },
    body: JSON.stringify({ commands: [{ name: FEED, command: "add", entries: [LISTED] }] }),
    dispatcher: new (require("undici").Agent)({ connect: { ca: fgt.caCert } }),
  } as never);
  expect(r.status).toBe(500);
  const d = await fortigateFeedEntryProvider.check({}, { ...fgtConn(), address: "203.0.113.122", grantName: "new-direct" });
  const made = await fortigateFeedEntryProvider.create(d.inputs as never);
  expect(listed("203.0.113.122")).toBe(true);
  await fortigateFeedEntryProvider.delete(made.id, made.outs as never);
  expect(listed("203.0.113.122")).toBe(false);
});

it.each([
  ["FortigateFeedEntry", () => fortigateFeedEntryProvider.check({}, { ...fgtConn(), address: LISTED, grantName: "g" }), fortigateFeedEntryProvider],
  ["FortimanagerFeedEntry", () => fortimanagerFeedEntryProvider.check({}, { ...fmgConn(), address: LISTED, grantName: "g" }), fortimanagerFeedEntryProvider],
  ["FortigateFeedSet", () => fortigateFeedSetProvider.check({}, { ...fgtConn(), addresses: [LISTED], grantName: "s" } as never), fortigateFeedSetProvider],
  [
    "FortimanagerFeedSet",
    () => fortimanagerFeedSetProvider.check({}, { ...fmgConn(), addresses: [LISTED], grantName: "s" } as never),
    fortimanagerFeedSetProvider,
  ],
] as const)("%s adopting a listed entry fails with a diagnosis and leaves it listed", async (_kind, check, provider) => {
  const c = await check();
  expect(await outcome((provider as { create(i: never): Promise<unknown> }).create(c.inputs as never))).toMatch(/^diagnosed 2021\d\d$/);
  expect(listed(LISTED)).toBe(true);
});

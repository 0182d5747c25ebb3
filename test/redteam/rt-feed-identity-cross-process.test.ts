/**
 * Red team (issue 19 leftovers): the serial identity across the provider processes of one run. The plugin runs one
 * process per provider instance and shares declarations between them (process-state.ts `shareDeclarationsAcross`),
 * but only as a digest and a grant name: a process cannot learn which FortiGate another process's grant reaches. A
 * grant of the other kind declared there for the same VDOM, feed and address keeps the entry, and the delete fails
 * with a diagnosis naming it (never a revoke on a guess); declarations of this process still go by serial.
 * "Another process" is played by a declarations file under the run directory named by a live pid (this test's parent).
 */
import { appendFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { FortigateEmulator } from "../../emulators/fortigate/emulator";
import { DEFAULT_CREDENTIALS, type FortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { isGrantError } from "../../provider/core/errors";
import { processState, resetProcessState, shareDeclarationsAcross } from "../../provider/core/process-state";
import { fortigateFeedEntryProvider } from "../../provider/devices/fortigate/feed-resource";
import { fortigateFeedSetProvider } from "../../provider/devices/fortigate/feed-set";
import { fortimanagerFeedEntryProvider } from "../../provider/devices/fortimanager/feed-resource";
import { fortimanagerFeedSetProvider } from "../../provider/devices/fortimanager/feed-set";
import { identityKey, sharedSetLine, type FeedGrantKind } from "../../provider/devices/fortinet/feed-identity";
import { closeOneBoxFeeds, startOneBoxFeeds } from "../support/one-box-feeds";

jest.setTimeout(60_000);

const FEED = "jit-allow";

let fgt: FortigateEmulator;
let fmg: FortimanagerEmulator;
let other: string;
beforeAll(async () => {
  ({ fgt, fmg } = await startOneBoxFeeds(FEED));
  shareDeclarationsAcross(`rt-feed-identity-${process.pid}-${Date.now()}`);
  other = join(processState().declarations.runDir!, `${process.ppid}.decl`);
});
afterAll(async () => {
  // The run directory is this test's own (named by its pid): it goes with it.
  rmSync(processState().declarations.runDir!, { recursive: true, force: true });
  await closeOneBoxFeeds({ fgt, fmg });
});
beforeEach(() => resetProcessState());

/** Another provider process of this run declares `cidr` through a grant of `kind` named `name`. */
const declaredElsewhere = (kind: FeedGrantKind, cidr: string, name: string) =>
  appendFileSync(other, `${JSON.stringify([identityKey(kind, "root", FEED, cidr), name])}\n`);

/** Another provider process of this run has a feed set of `kind` named `name` listing `cidrs` (one line for the set). */
const setElsewhere = (kind: FeedGrantKind, cidrs: string[], name: string) =>
  appendFileSync(other, `${JSON.stringify(sharedSetLine(kind, "root", FEED, name, cidrs))}\n`);

const listed = (a: string) => [...(fgt.backend.feeds.find("root", FEED, false)?.entries.values() ?? [])].some((e) => e.entry === a);
const fgtConn = () => ({ __provider: "x", connection: { url: fgt.url, caCert: fgt.caCert }, credentials: { token: fgt.token }, feed: FEED });
const fmgConn = () => ({
  __provider: "x",
  connection: { url: fmg.url, caCert: fmg.caCert },
  credentials: { token: DEFAULT_CREDENTIALS.apiKey },
  devices: ["fgt-hq"],
  feed: FEED,
});
const failure = (p: Promise<unknown>) =>
  p.then(
    () => "succeeded",
    (e: unknown) => (isGrantError(e) ? `${e.code}: ${e.message}` : `not a GrantError: ${String(e)}`),
  );

it("a FortimanagerFeedEntry's delete keeps an entry a direct grant of another provider process declares, and fails naming it", async () => {
  const a = "203.0.113.101";
  const m = await fortimanagerFeedEntryProvider.check({}, { ...fmgConn(), address: a, grantName: "alice-managed" });
  const made = await fortimanagerFeedEntryProvider.create(m.inputs as never);
  declaredElsewhere("direct", `${a}/32`, "alice-direct");
  const said = await failure(fortimanagerFeedEntryProvider.delete(made.id, made.outs as never));
  expect(said).toMatch(/^202100: /);
  expect(said).toContain("alice-direct");
  expect(said).toContain("another provider process");
  expect(listed(a)).toBe(true);
});

it("a direct FortigateFeedSet's delete keeps what a managed grant of another provider process declares, removes the rest, and fails naming it", async () => {
  const [a, b] = ["203.0.113.102", "203.0.113.103"];
  const c = await fortigateFeedSetProvider.check({}, { ...fgtConn(), addresses: [a, b], grantName: "team-direct" } as never);
  const set = await fortigateFeedSetProvider.create(c.inputs as never);
  declaredElsewhere("managed", `${a}/32`, "bob-managed");
  const said = await failure(fortigateFeedSetProvider.delete(set.id, set.outs as never));
  expect(said).toMatch(/^202100: /);
  expect(said).toContain("bob-managed");
  expect([listed(a), listed(b)]).toEqual([true, false]);
});

it("a FortimanagerFeedSet's update dropping an address a direct grant of another provider process declares keeps it and fails", async () => {
  const [a, b] = ["203.0.113.104", "203.0.113.105"];
  const c = await fortimanagerFeedSetProvider.check({}, { ...fmgConn(), addresses: [a, b], grantName: "team-managed" } as never);
  const set = await fortimanagerFeedSetProvider.create(c.inputs as never);
  declaredElsewhere("direct", `${a}/32`, "carol-direct");
  const n = await fortimanagerFeedSetProvider.check(set.outs as never, { ...fmgConn(), addresses: [b], grantName: "team-managed" } as never);
  const said = await failure(fortimanagerFeedSetProvider.update(set.id, set.outs as never, n.inputs as never));
  expect(said).toMatch(/^202100: /);
  expect(said).toContain("carol-direct");
  expect([listed(a), listed(b)]).toEqual([true, true]);
});

it("a direct FortigateFeedEntry's delete keeps an entry a FortimanagerFeedSet of another provider process lists, and fails naming it", async () => {
  const a = "203.0.113.108";
  const d = await fortigateFeedEntryProvider.check({}, { ...fgtConn(), address: a, grantName: "frank-direct" });
  const made = await fortigateFeedEntryProvider.create(d.inputs as never);
  setElsewhere("managed", ["192.0.2.1/32", `${a}/32`, "192.0.2.2/32"], "team-elsewhere (FortimanagerFeedSet)");
  const said = await failure(fortigateFeedEntryProvider.delete(made.id, made.outs as never));
  expect(said).toMatch(/^202100: /);
  expect(said).toContain("team-elsewhere");
  expect(listed(a)).toBe(true);
});

it("a set of another provider process that does not list the address keeps nothing", async () => {
  const a = "203.0.113.109";
  setElsewhere("managed", ["192.0.2.3/32"], "other-list (FortimanagerFeedSet)");
  const d = await fortigateFeedEntryProvider.check({}, { ...fgtConn(), address: a, grantName: "gina-direct" });
  const made = await fortigateFeedEntryProvider.create(d.inputs as never);
  await fortigateFeedEntryProvider.delete(made.id, made.outs as never);
  expect(listed(a)).toBe(false);
});

it("declarations of this process still go by serial: a direct grant deleted here after one of its own kind elsewhere is removed", async () => {
  const a = "203.0.113.106";
  // Same kind in another process: the per-entry rule of that kind (sharedKeys) applies, not the serial identity.
  declaredElsewhere("managed", "203.0.113.199/32", "unrelated");
  const m = await fortimanagerFeedEntryProvider.check({}, { ...fmgConn(), address: a, grantName: "dave-managed" });
  const made = await fortimanagerFeedEntryProvider.create(m.inputs as never);
  await fortimanagerFeedEntryProvider.delete(made.id, made.outs as never);
  const d = await fortigateFeedEntryProvider.check({}, { ...fgtConn(), address: a, grantName: "dave-direct" });
  const direct = await fortigateFeedEntryProvider.create(d.inputs as never);
  await fortigateFeedEntryProvider.delete(direct.id, direct.outs as never);
  expect(listed(a)).toBe(false);
});

it("a set of this process and a grant of the other kind of this process are compared by serial, not failed", async () => {
  const a = "203.0.113.107";
  const c = await fortigateFeedSetProvider.check({}, { ...fgtConn(), addresses: [a], grantName: "erin-direct-set" } as never);
  await fortigateFeedSetProvider.create(c.inputs as never);
  const m = await fortimanagerFeedEntryProvider.check({}, { ...fmgConn(), address: a, grantName: "erin-managed" });
  const made = await fortimanagerFeedEntryProvider.create(m.inputs as never);
  await fortimanagerFeedEntryProvider.delete(made.id, made.outs as never);
  expect(listed(a)).toBe(true);
});

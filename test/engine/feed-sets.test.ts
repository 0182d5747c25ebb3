/**
 * Issue 18 item 3 with the real Pulumi CLI (program test/engine/programs/feed-sets): a FortimanagerFeedSet
 * on fgt-br1 and fgt-hq shares 203.0.113.9 with a FortimanagerFeedEntry on fgt-hq. Taking the set out of
 * the program revokes the address on fgt-br1 (no grant names it there) and keeps it on fgt-hq; `destroy`
 * then leaves both feeds as they were. It used to stay on fgt-br1 with no state, and the drift check was clean.
 */
import * as path from "node:path";
import { deviceEnv, startDevices, type Devices } from "../../scripts/engine-fixture";
import { PulumiWorkspace, type RunResult } from "../../scripts/pulumi-workspace";
import { describeWithCli } from "./helpers";

jest.setTimeout(300_000);

const PROGRAM = path.join(__dirname, "programs", "feed-sets");
const ok = (r: RunResult) => ({ code: r.code, tail: r.code === 0 ? "" : r.output.slice(-4000) });

describeWithCli("engine: FortimanagerFeedSet shares an address per device", () => {
  let devices: Devices;
  let ws: PulumiWorkspace;
  const entries = (device: string) =>
    [...(devices.fortimanager.backend.devices.devices.get(device)!.backend.feeds.find("root", "jit-allow", false)?.entries.values() ?? [])]
      .map((e) => e.entry)
      .sort();

  beforeAll(async () => {
    devices = await startDevices();
    ws = await PulumiWorkspace.create({ projectDir: PROGRAM, env: { PULUMI_NODEJS_TRANSPILE_ONLY: "true", ...deviceEnv(devices) }, timeoutMs: 200_000 });
  });
  afterAll(async () => {
    await ws?.dispose();
    await devices?.close();
  });

  test("the set's delete revokes the shared address where no grant names it; destroy leaves nothing", async () => {
    const before = { br1: entries("fgt-br1"), hq: entries("fgt-hq") };
    expect(ok(await ws.run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(entries("fgt-br1")).toEqual([...before.br1, "203.0.113.10", "203.0.113.9"].sort());
    expect(entries("fgt-hq")).toEqual([...before.hq, "203.0.113.10", "203.0.113.9"].sort());

    expect(ok(await ws.run(["up", "--yes"], { env: { FEED_SET: "0" } }))).toEqual({ code: 0, tail: "" });
    expect(entries("fgt-br1")).toEqual(before.br1);
    expect(entries("fgt-hq")).toEqual([...before.hq, "203.0.113.9"].sort());

    expect(ok(await ws.run(["destroy", "--yes"], { env: { FEED_SET: "0" } }))).toEqual({ code: 0, tail: "" });
    expect(entries("fgt-br1")).toEqual(before.br1);
    expect(entries("fgt-hq")).toEqual(before.hq);
  });
});

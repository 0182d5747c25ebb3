/**
 * Red team (0001d8f, window (b) of alias-batcher.ts): the fix for a firewall whose get_item takes 500 ms (rt-config-
 * slow-read) holds only while the filter reload is quick. Before its first set_item a process judges its write's
 * transit from its slowest reconfigure, and a real reconfigure (a pf reload: hundreds of ms to seconds) leaves window (b)
 * no wider than (a) (800 − 2 × 300 = 200 ms < 400 ms). With every read slow no set_item is ever sent, so no faster
 * estimate is ever learnt: the lone writer fails OPN002 on every run, however often it is retried. MEDIUM.
 * Fix (not small, left failing): a first-write estimate a long reload does not inflate (a POST on the same path that
 * changes nothing — never a set_item of the content read, itself a stale write), or, failing that, OPN002 saying that
 * such a firewall needs table mode.
 */
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { isGrantError } from "../../provider/core/errors";
import { resetProcessState } from "../../provider/core/process-state";
import { opnsenseAliasEntryProvider } from "../../provider/devices/opnsense/resource";
import { useEmulator } from "../support/emulator";
import { connFor, USERS } from "../opnsense/helpers";

jest.setTimeout(60_000);
const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));
const p = opnsenseAliasEntryProvider as unknown as {
  check(olds: object, news: object): Promise<{ inputs?: unknown }>;
  create(inputs: never): Promise<{ outs: Record<string, unknown> }>;
};
afterEach(() => {
  emu.faults.clear();
  emu.backend.reconfigureLatencyMs = 0;
  resetProcessState();
});

async function grant(address: string): Promise<string> {
  const c = await p.check({}, { __provider: "x", ...connFor(emu.url, emu.caCert, "admin"), alias: "jit_admins", method: "config", address, grantName: "slow" });
  return p.create(c.inputs as never).then(
    () => "created",
    (e: unknown) => (isGrantError(e) ? e.code : String(e)),
  );
}

it.failing("a lone config-mode grant, get_item 500 ms and a 300 ms filter reload, is created", async () => {
  emu.backend.reconfigureLatencyMs = 300;
  emu.faults.add({ match: "get_item", kind: "latency", ms: 500 });
  expect(await grant("203.0.113.71")).toBe("created");
});

it("control: the same grant with a quick reload is created (the case rt-config-slow-read covers)", async () => {
  emu.faults.add({ match: "get_item", kind: "latency", ms: 500 });
  expect(await grant("203.0.113.72")).toBe("created");
});

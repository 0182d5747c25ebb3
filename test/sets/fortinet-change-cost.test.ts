/**
 * Issue 22: a one-address change of a `FortigateAddressSet` and a `FortimanagerTrustedHostSet` over a default
 * `pulumi up` — preview in one provider process, update in another of the same CLI run — in device requests
 * (no times). The preflight the preview passed is not repeated by the update's `check` within that run
 * (process-state `cachedPreflight`); outside one run, every process probes.
 */
import { randomUUID } from "node:crypto";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { resetProcessState, setRunScopeForTests } from "../../provider/core/process-state";
import { fortigateAddressSetProvider as fgt } from "../../provider/devices/fortigate/set-resource";
import { fortimanagerTrustedHostSetProvider as fmg } from "../../provider/devices/fortimanager/set-resource";
import { useEmulator } from "../support/emulator";
import { fortigateSetBase, useFortigateSetEmulator } from "./helpers";

type Raw = Record<string, unknown>;
type P = typeof fgt | typeof fmg;

/** Create, then a default `up` adding one address: preview (check + diff) and, in a new process, check + diff + update. */
async function upAddingOne(p: P, base: Raw, log: { clear(): void; count(): number }) {
  const first = (await p.check({}, { ...base, addresses: ["203.0.113.7", "203.0.113.8"] } as never)).inputs!;
  const olds = (await p.create(first as never)).outs as unknown as Raw;
  const news = { ...base, addresses: ["203.0.113.7", "203.0.113.8", "203.0.113.9"] };
  resetProcessState();
  log.clear();
  const preview = await p.check(olds as never, news as never);
  expect(preview.failures ?? []).toEqual([]);
  expect((await p.diff("id", olds as never, preview.inputs as never)).changes).toBe(true);
  const previewRequests = log.count();
  resetProcessState();
  const checked = (await p.check(olds as never, news as never)).inputs!;
  await p.diff("id", olds as never, checked as never);
  await p.update("id", olds as never, checked as never);
  return { previewRequests, requests: log.count() };
}

afterEach(() => setRunScopeForTests(undefined));

describe("FortigateAddressSet", () => {
  const emu = useFortigateSetEmulator();
  it("a one-address change costs 5 requests over preview + update of one CLI run", async () => {
    setRunScopeForTests(`cli-${randomUUID()}`);
    const r = await upAddingOne(fgt, { ...fortigateSetBase(emu) }, emu.log);
    // Preview: the write probe. Update: the address table and the group (one read each), the object, then the
    // member — no read of the group before its POST: the object was just created, so no group held it
    // (client.ts `ensureMember`, `newObject`).
    expect(r).toEqual({ previewRequests: 1, requests: 5 });
    expect(emu.backend.groupMembers("root", "jit-admins", "ipv4").sort()).toEqual(["grant-203.0.113.7", "grant-203.0.113.8", "grant-203.0.113.9"]);
  });
});

describe("FortimanagerTrustedHostSet", () => {
  // The key's owner is learnt from /sys/session, as on a device that answers it (the emulator's default refuses: -11).
  const emu = useEmulator(() => startFortimanagerEmulator({ sysSessionForApiKeys: "answer" }));
  it("a one-address change costs at most 5 requests over preview + update of one CLI run", async () => {
    setRunScopeForTests(`cli-${randomUUID()}`);
    const base = { connection: { url: emu.url, caCert: emu.caCert }, credentials: { token: DEFAULT_CREDENTIALS.apiKey }, adminUser: "alice", grantName: "ms" };
    const r = await upAddingOne(fmg, base, emu.log);
    // Preview: who writes (sys/session) and that administrator's rights (its record). Update: read alice, ONE
    // update of her trusted hosts, the read-back.
    expect(r).toEqual({ previewRequests: 2, requests: 5 });
    expect(JSON.stringify(emu.backend.admins.get("alice")!.slots)).toContain("203.0.113.9");
  });
});

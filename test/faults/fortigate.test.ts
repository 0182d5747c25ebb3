/**
 * Issue 6, faults on FortiGate: 50 grants into one address group on a flaky network, created and then
 * deleted in parallel, leave exactly the declared objects and members; a lost POST answer is settled by
 * reading back; a 429 lockout stops the client at once with 202005.
 */
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { fortigateAddressProvider as provider } from "../../provider/devices/fortigate/resource";
import { isGrantError } from "../../provider/core/errors";
import { useEmulator } from "../support/emulator";
import { appliedWrites, drainStalls, FAULT_TIMEOUT_MS, flakyNetwork, inParallel, summarize } from "../support/faults";

const emu = useEmulator(() => startFortigateEmulator({}), {
  onReset: (e) => {
    e.backend.createGroup("root", "ipv4", "jit-admins", []);
    e.backend.createGroup("root", "ipv6", "jit6", []);
    // A member that is not ours: it must survive every run.
    e.backend.createAddress("root", "ipv4", { name: "pre-existing", type: "ipmask", subnet: "192.0.2.1 255.255.255.255" });
    e.backend.addMember("root", "ipv4", "jit-admins", "pre-existing");
  },
});
const N = 50;
const grants = Array.from({ length: N }, (_, i) => ({
  name: `grant-${i}`,
  address: i % 5 === 4 ? `2001:db8:7::${i + 1}` : `198.51.100.${i + 1}`,
  group: i % 5 === 4 ? "jit6" : "jit-admins",
}));
const names = (xs: readonly { name: string }[]) => xs.map((x) => x.name).sort();

const conn = (extra: Record<string, unknown> = {}) => ({
  connection: { url: emu.url, caCert: emu.caCert, timeoutMs: FAULT_TIMEOUT_MS, ...extra },
  credentials: { token: emu.backend.defaultToken },
});

describe("FortiGate on a flaky network", () => {
  it("50 parallel creates with group membership, then 50 deletes: exact objects and members", async () => {
    flakyNetwork(emu.faults, { seed: Number(process.env.FAULT_SEED ?? 71) });
    const created = await inParallel(grants, 10, async (g) => {
      const c = await provider.check({}, { ...conn(), ...g });
      expect(c.failures).toBeUndefined();
      return provider.create(c.inputs as never);
    });
    await drainStalls();
    const createLog = summarize(emu.log.entries());
    const posts = appliedWrites(emu.log, /POST \/api\/v2\/cmdb\/firewall\/address6?$|POST \/api\/v2\/cmdb\/firewall\/address6? /);
    const v4 = grants.filter((g) => g.group === "jit-admins");
    const v6 = grants.filter((g) => g.group === "jit6");
    expect(names(emu.backend.addresses("root", "ipv4"))).toEqual(["pre-existing", ...names(v4)].sort());
    expect(names(emu.backend.addresses("root", "ipv6"))).toEqual(names(v6));
    expect([...emu.backend.groupMembers("root", "jit-admins", "ipv4")].sort()).toEqual(["pre-existing", ...names(v4)].sort());
    expect([...emu.backend.groupMembers("root", "jit6", "ipv6")].sort()).toEqual(names(v6));
    expect(created.every((c) => c.outs.adopted === false)).toBe(true);
    // Each object created by exactly one applied POST. A POST that stalled past the client timeout is
    // either found by the read-back (then it is the only one) or lands after a re-sent POST and is
    // refused as a duplicate (-5, not applied): never two applied POSTs for one grant.
    expect(posts.length).toBe(N);

    emu.log.clear();
    await inParallel(created, 10, (c) => provider.delete(c.id, c.outs));
    await drainStalls();
    const deleteLog = summarize(emu.log.entries());
    expect(names(emu.backend.addresses("root", "ipv4"))).toEqual(["pre-existing"]);
    expect(emu.backend.addresses("root", "ipv6")).toEqual([]);
    expect(emu.backend.groupMembers("root", "jit-admins", "ipv4")).toEqual(["pre-existing"]);
    expect(emu.backend.groupMembers("root", "jit6", "ipv6")).toEqual([]);
    expect(emu.log.unhandled()).toHaveLength(0);
    console.log(
      `FortiGate, ${N} grants with group under faults: create ${createLog.requests} requests (${createLog.faulted} faulted ${JSON.stringify(createLog.byFault)}, ${posts.length} applied object POSTs), ` +
        `delete ${deleteLog.requests} requests (${deleteLog.faulted} faulted ${JSON.stringify(deleteLog.byFault)})`,
    );
  });

  it("a POST applied whose answer is lost is read back, not repeated", async () => {
    const c = await provider.check({}, { ...conn(), name: "lost-answer", address: "203.0.113.7", group: "jit-admins" });
    emu.log.clear();
    emu.faults.sequence(/^POST \/api\/v2\/cmdb\/firewall\/address$/, [{ kind: "reset", phase: "after" }]);
    const r = await provider.create(c.inputs as never);
    expect(r.outs.adopted).toBe(false);
    const posts = appliedWrites(emu.log, /^POST \/api\/v2\/cmdb\/firewall\/address POST/);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.status).toBe("reset");
    expect(emu.log.count("POST /api/v2/cmdb/firewall/address")).toBe(1);
    expect(names(emu.backend.addresses("root", "ipv4"))).toEqual(["lost-answer", "pre-existing"]);
  });
});

describe("FortiGate 429 lockout", () => {
  it("stops at the first 429 with 202005 and never hammers", async () => {
    const c = await provider.check({}, { ...conn(), name: "locked", address: "203.0.113.8" });
    emu.log.clear();
    emu.faults.add({ kind: "status", status: 429 });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => provider.create({ ...(c.inputs as object), name: `locked-${i}` } as never)));
    const codes = results.map((r) => (r.status === "rejected" && isGrantError(r.reason) ? r.reason.code : r.status));
    expect(new Set(codes)).toEqual(new Set(["202005"]));
    // One request per resource: the create's first POST; no retry, no read-back, no cleanup request.
    expect(emu.log.count()).toBe(10);
    expect(names(emu.backend.addresses("root", "ipv4"))).toEqual(["pre-existing"]);
  });

  it("a real lockout from bad tokens: the bad token is tried once, then 202005 without further requests", async () => {
    const bad = { connection: { url: emu.url, caCert: emu.caCert, timeoutMs: FAULT_TIMEOUT_MS }, credentials: { token: "wrong-token-for-lockout-0000" } };
    const errs: string[] = [];
    for (let i = 0; i < 5; i++) {
      await provider
        .create({ ...bad, name: `bad-${i}`, address: "203.0.113.9" } as never)
        .catch((e: unknown) => errs.push(isGrantError(e) ? e.code : String(e)));
    }
    expect(errs.slice(0, emu.backend.lockoutThreshold)).toEqual(Array(emu.backend.lockoutThreshold).fill("202001"));
    expect(errs.slice(emu.backend.lockoutThreshold)).toEqual(Array(5 - emu.backend.lockoutThreshold).fill("202005"));
    expect(emu.log.count()).toBe(5);
    emu.backend.clearLockouts();
  });
});

/**
 * Issue 22: what a one-address change of an `OpnsenseAliasSet` costs over a default `pulumi up` — its preview (one
 * provider process) and its update (another process of the same CLI run) — and that the cheaper path keeps every
 * proof: a right lost between the preview and the update still fails with its diagnosis, from the write's own
 * answer; a new CLI run (another `pulumi up`, or a `pulumi preview` alone) always probes; a new set always gets the
 * whole preflight. Request counts only (no times): the times live in `npm run bench`.
 */
import { randomUUID } from "node:crypto";
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { resetProcessState, setRunScopeForTests } from "../../provider/core/process-state";
import { opnsenseAliasSetProvider as provider, type AliasSetOutputs } from "../../provider/devices/opnsense/set-resource";
import { grantErrorCode, useEmulator } from "../support/emulator";
import { connFor, fastConfigTiming, USERS, type UserName } from "../opnsense/helpers";

const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));
fastConfigTiming();

const inputs = (method: "table" | "config", addresses: string[], who: UserName = "admin") =>
  ({ ...connFor(emu.url, emu.caCert, who), alias: "jit_nets", method, addresses, grantName: "set1" }) as never;

/** The set as an earlier run left it in state. */
async function existing(method: "table" | "config", who: UserName = "admin"): Promise<AliasSetOutputs> {
  const c = await provider.check({}, inputs(method, ["198.51.100.1", "198.51.100.2", "198.51.100.3"], who));
  return (await provider.create(c.inputs!)).outs;
}

/** A default `pulumi up` adding one address: preview in one provider process, then update in another of the same CLI run. */
async function upAddingOne(method: "table" | "config", olds: AliasSetOutputs, who: UserName = "admin", between?: () => void) {
  const news = inputs(method, ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"], who);
  resetProcessState();
  emu.log.clear();
  const preview = await provider.check(olds as never, news);
  expect(preview.failures ?? []).toEqual([]);
  expect((await provider.diff("id", olds, preview.inputs!)).changes).toBe(true);
  const previewRequests = emu.log.count();
  between?.();
  resetProcessState();
  const checked = await provider.check(olds as never, news);
  expect(checked.failures ?? []).toEqual([]);
  await provider.diff("id", olds, checked.inputs!);
  const outs = (await provider.update("id", olds, checked.inputs!)).outs;
  return { outs, previewRequests, requests: emu.log.count() };
}

afterEach(() => setRunScopeForTests(undefined));

describe.each(["config", "table"] as const)("a one-address change of an OpnsenseAliasSet (%s mode)", (method) => {
  it("costs at most 5 requests over preview + update of one CLI run, and the device holds the result", async () => {
    setRunScopeForTests(`cli-${randomUUID()}`);
    const olds = await existing(method);
    const r = await upAddingOne(method, olds);
    // Preview: ONE probe (the key and the right to write). Update: no preflight again, then the change — config:
    // get_item (which proves the recorded uuid), set_item, reconfigure, the verify read after the settle; table:
    // get_alias_u_u_i_d (does the recorded uuid still name the alias?), list, add, the verify list.
    expect(r.previewRequests).toBe(1);
    expect(r.requests).toBe(5);
    const held = (method === "config" ? emu.backend.configContent("jit_nets") : emu.backend.tableContent("jit_nets")).map((l) => l.replace("/32", ""));
    expect(held.sort()).toEqual(["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"]);
    expect(r.outs.aliasUuid).toBe(olds.aliasUuid);
  });

  it("a right lost between preview and update fails the update with its diagnosis, from the write's answer; nothing changes", async () => {
    setRunScopeForTests(`cli-${randomUUID()}`);
    const who: UserName = method === "config" ? "edit" : "tables";
    const olds = await existing(method, who);
    const before = method === "config" ? emu.backend.configContent("jit_nets") : emu.backend.tableContent("jit_nets");
    const user = USERS[who];
    // The preview passed with the right; then an administrator takes it away (read access stays, in config mode).
    const revoke = () => void emu.backend.users.set(user.key, { ...user, privileges: method === "config" ? ["page-firewall-aliases"] : [] });
    const messages: string[] = [];
    expect(await grantErrorCode(upAddingOne(method, olds, who, revoke), { messages })).toBe("OPN001");
    expect(messages.join("\n")).toContain(method === "config" ? "Firewall: Alias: Edit" : "Diagnostics: PF Table IP addresses");
    expect(method === "config" ? emu.backend.configContent("jit_nets") : emu.backend.tableContent("jit_nets")).toEqual(before);
  });

  it("outside one CLI run (no run scope: a separate `pulumi preview` and `pulumi up`) every process probes, and a lost right fails its check", async () => {
    setRunScopeForTests(null);
    const who: UserName = method === "config" ? "edit" : "tables";
    const olds = await existing(method, who);
    const user = USERS[who];
    const news = inputs(method, ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"], who);
    resetProcessState();
    await provider.check(olds as never, news);
    emu.backend.users.set(user.key, { ...user, privileges: method === "config" ? ["page-firewall-aliases"] : [] });
    resetProcessState();
    emu.log.clear();
    expect(await grantErrorCode(provider.check(olds as never, news))).toBe("OPN001");
    // Only the probe ran: nothing was written.
    expect(emu.log.entries().every((x) => x.method === "GET")).toBe(true);
  });

  it("a new set gets the whole preflight (alias looked up, key and right proven) at preview", async () => {
    setRunScopeForTests(`cli-${randomUUID()}`);
    resetProcessState();
    emu.log.clear();
    await provider.check({}, inputs(method, ["198.51.100.9"]));
    const paths = emu.log.entries().map((x) => String(x.path));
    expect(paths.some((p) => p.includes("get_alias_u_u_i_d"))).toBe(true);
    expect(paths.some((p) => p.includes("/core/menu/search"))).toBe(true);
  });
});

/**
 * The shared lifecycle (provider/core/grant-lifecycle.ts) as users meet it, through a real device provider
 * against its emulator: device pinning, delete revokes, shared addresses, complete outputs, URL rules.
 */
import { complete, describePin, samePin } from "../provider/core/grant-lifecycle";
import { startOpnsenseEmulator } from "../emulators/opnsense/emulator";
import { opnsenseAliasEntryProvider as provider, type AliasEntryInputs, type AliasEntryOutputs } from "../provider/devices/opnsense/resource";
import { processState, shared } from "../provider/core/process-state";
import { deviceOrigin, resolveSetting } from "../provider/core/settings";
import { setClock } from "../provider/core/time-box";
import { connFor, USERS } from "./opnsense/helpers";
import { useEmulator } from "./support/emulator";

const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));
const other = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));

/** A new program run in the same provider process: what `check` saw declared is forgotten. */
const resetRun = () => shared("grant-lifecycle.declared", () => new Map<string, Set<string>>()).clear();

const inputs = (url: string, extra: Record<string, unknown> = {}) =>
  ({ ...connFor(url, emu.caCert, "admin"), alias: "jit_admins", address: "203.0.113.7", ...extra }) as AliasEntryInputs;

async function checked(news: AliasEntryInputs, olds: AliasEntryInputs = {} as AliasEntryInputs): Promise<AliasEntryInputs> {
  const r = await provider.check!(olds, news);
  expect(r.failures ?? []).toEqual([]);
  return r.inputs!;
}

async function granted(news: AliasEntryInputs): Promise<{ id: string; outs: AliasEntryOutputs }> {
  const r = await provider.create(await checked(news));
  return { id: r.id, outs: r.outs! };
}

describe("the device is pinned in state", () => {
  it("records the effective device, also when the URL comes from stack config", async () => {
    processState().config = { "opnsense:url": emu.url };
    const { outs } = await granted({ ...inputs(emu.url), connection: { caCert: emu.caCert } } as AliasEntryInputs);
    expect(outs.device).toEqual({ url: emu.url });
  });

  it("a URL changed through stack config is a replace, and delete goes to the old device", async () => {
    processState().config = { "opnsense:url": emu.url };
    const first = { ...inputs(emu.url), connection: { caCert: emu.caCert } } as AliasEntryInputs;
    const { id, outs } = await granted(first);
    processState().config = { "opnsense:url": other.url };
    const news = await checked(first, outs);
    const d = await provider.diff!(id, outs, news);
    expect(d.replaces).toContain("device");
    // The engine creates the new grant, then deletes the old one with the OLD state.
    const created = await provider.create(news);
    expect(created.outs!.device).toEqual({ url: other.url });
    await provider.delete!(id, outs);
    expect(emu.backend.tableContent("jit_admins")).not.toContain("203.0.113.7");
    expect(other.backend.tableContent("jit_admins")).toContain("203.0.113.7");
  });

  it("a URL changed through the environment is a replace too", async () => {
    process.env.OPNSENSE_URL = emu.url;
    try {
      const first = { ...inputs(emu.url), connection: { caCert: emu.caCert } } as AliasEntryInputs;
      const { id, outs } = await granted(first);
      process.env.OPNSENSE_URL = other.url;
      const d = await provider.diff!(id, outs, await checked(first, outs));
      expect(d.replaces).toEqual(["device"]);
    } finally {
      delete process.env.OPNSENSE_URL;
    }
  });

  it("refresh reads the pinned device, not the one the settings point at now", async () => {
    const { id, outs } = await granted(inputs(emu.url));
    processState().config = { "opnsense:url": other.url };
    const r = await provider.read!(id, { ...outs, connection: { caCert: emu.caCert } });
    expect(r.id).toBe(id);
    emu.backend.removeAddress("jit_admins", "203.0.113.7");
    expect((await provider.read!(id, outs)).id).toBeUndefined();
  });

  it("a delete that fails on the pinned device names it and keeps the grant in state", async () => {
    const { id, outs } = await granted(inputs(emu.url));
    const pinned = { ...outs, device: { url: "https://127.0.0.1:1" }, connection: { ...outs.connection, url: other.url } } as AliasEntryOutputs;
    const err = await provider.delete!(id, pinned).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeDefined();
    expect(err!.message).toContain("pinned in state on https://127.0.0.1:1");
  });
});

describe("delete revokes, and two grants of one address share it", () => {
  it("deleting one of two grants of the same address keeps the address while the other is declared", async () => {
    const alice = await granted(inputs(emu.url, { grantName: "alice" }));
    const bob = await granted(inputs(emu.url, { grantName: "bob", description: "office NAT" }));
    expect(bob.outs.adopted).toBe(true);
    // A new run of the program declares only bob; alice's line was deleted.
    processState().shared.clear();
    await checked(inputs(emu.url, { grantName: "bob", description: "office NAT" }));
    await provider.delete!(alice.id, alice.outs);
    expect(emu.backend.tableContent("jit_admins")).toContain("203.0.113.7");
    // The run after that declares nobody: the last one out revokes.
    processState().shared.clear();
    await provider.delete!(bob.id, bob.outs);
    expect(emu.backend.tableContent("jit_admins")).not.toContain("203.0.113.7");
  });

  it("a grant of the same address on another alias does not keep it", async () => {
    const a = await granted(inputs(emu.url, { grantName: "a" }));
    processState().shared.clear();
    await checked(inputs(emu.url, { grantName: "b", alias: "jit_nets", address: "203.0.113.0/24" }));
    await provider.delete!(a.id, a.outs);
    expect(emu.backend.tableContent("jit_admins")).not.toContain("203.0.113.7");
  });
});

describe("in-place update", () => {
  it("returns complete outputs (no undefined anywhere) and keeps the device fields", async () => {
    const { id, outs } = await granted(inputs(emu.url));
    const news = await checked(inputs(emu.url, { description: "ticket 42" }), outs);
    const d = await provider.diff!(id, outs, news);
    expect(d).toMatchObject({ changes: true, replaces: [] });
    const u = await provider.update!(id, outs, news);
    expect(u.outs).toMatchObject({ description: "ticket 42", aliasType: outs.aliasType, cidr: "203.0.113.7/32", device: { url: emu.url } });
    expect(JSON.stringify(u.outs)).toBe(JSON.stringify(complete(u.outs)));
    const hasUndefined = (v: unknown): boolean => v === undefined || (typeof v === "object" && v !== null && Object.values(v).some(hasUndefined));
    expect(hasUndefined(u.outs)).toBe(false);
  });
});

describe("device URLs", () => {
  it.each([
    ["http://fw.example.net", "http:// sends the credentials in clear"],
    ["https://admin:pw@fw.example.net", "user info"],
    ["https://fw.example.net/api", "no path"],
    ["https://fw.example.net?x=1", "no path, query"],
    ["ftp://fw.example.net", "https://"],
  ])("refuses %s at check, naming the field and the rule", async (url, rule) => {
    const r = await provider.check!({} as AliasEntryInputs, inputs(url));
    expect(r.failures).toHaveLength(1);
    expect(r.failures![0]!.property).toBe("connection.url");
    expect(r.failures![0]!.reason).toContain(rule);
    expect(r.failures![0]!.reason).not.toContain("pw@");
  });

  it("refuses an http:// URL from stack config, naming the config key", async () => {
    processState().config = { "opnsense:url": "http://fw.example.net" };
    const r = await provider.check!({} as AliasEntryInputs, { ...inputs(emu.url), connection: { caCert: emu.caCert } } as AliasEntryInputs);
    expect(r.failures![0]!.reason).toContain("stack config opnsense:url: http://");
  });

  it("accepts http:// only with allowHttp", () => {
    expect(deviceOrigin("http://fw:8080", true)).toEqual({ ok: true, origin: "http://fw:8080" });
    expect(deviceOrigin("http://fw:8080", false).ok).toBe(false);
    expect(deviceOrigin("https://FW.example.net:443/", false)).toEqual({ ok: true, origin: "https://fw.example.net" });
  });

  it("names where a setting came from", () => {
    processState().config = { "fortigate:vdom": "dmz" };
    expect(resolveSetting("fortigate", "vdom", undefined)).toEqual({ value: "dmz", from: "stack config fortigate:vdom" });
    expect(resolveSetting("fortigate", "vdom", "root")).toEqual({ value: "root", from: "connection.vdom" });
    process.env.FORTIGATE_TIMEOUT_MS = "5000";
    try {
      expect(resolveSetting("fortigate", "timeoutMs", undefined)).toEqual({ value: "5000", from: "environment FORTIGATE_TIMEOUT_MS" });
    } finally {
      delete process.env.FORTIGATE_TIMEOUT_MS;
    }
  });

  it("compares pins by URL and scope", () => {
    expect(samePin({ url: "https://a" }, { url: "https://a", scope: "" })).toBe(true);
    expect(samePin({ url: "https://a", scope: "vdom root" }, { url: "https://a", scope: "vdom dmz" })).toBe(false);
    expect(describePin({ url: "https://a", scope: "vdom root" })).toBe("https://a (vdom root)");
  });
});

describe("time-boxed grants (expiresAt)", () => {
  const T0 = Date.parse("2026-12-01T12:00:00Z");
  afterEach(() => setClock(undefined));

  it("refuses to create a grant that has already expired, naming the field", async () => {
    setClock(() => T0);
    const r = await provider.check!({} as AliasEntryInputs, inputs(emu.url, { expiresAt: "2026-12-01T11:59:00Z" }));
    expect(r.failures).toEqual([{ property: "expiresAt", reason: expect.stringContaining("has already passed") }]);
    expect(emu.log.entries()).toHaveLength(0);
  });

  it("refuses a time without a zone", async () => {
    const r = await provider.check!({} as AliasEntryInputs, inputs(emu.url, { expiresAt: "2026-12-01T18:00:00" }));
    expect(r.failures![0]!.property).toBe("expiresAt");
  });

  it("after expiry: drift, then up revokes and keeps it in state as expired; a later preview is clean; extending restores it", async () => {
    setClock(() => T0);
    const news = inputs(emu.url, { expiresAt: "2026-12-01T13:00:00Z" });
    const { id, outs } = await granted(news);
    expect(outs.expired).toBe(false);
    expect(await provider.diff!(id, outs, await checked(news, outs))).toMatchObject({ changes: false });

    setClock(() => T0 + 2 * 3600_000);
    // The scheduled drift check: refresh still finds it, and the diff reports a change (exit 7).
    const refreshed = (await provider.read!(id, outs)).props as AliasEntryOutputs;
    const d = await provider.diff!(id, refreshed, await checked(news, refreshed));
    expect(d).toMatchObject({ changes: true, replaces: [] });
    // up: the update revokes it on the device.
    const after = (await provider.update!(id, refreshed, await checked(news, refreshed))).outs;
    expect(after.expired).toBe(true);
    expect(emu.backend.tableContent("jit_admins")).not.toContain("203.0.113.7");
    // The next check stays clean: refresh keeps it (not gone from state) and no change is planned.
    const again = await provider.read!(id, after);
    expect(again.id).toBe(id);
    expect(await provider.diff!(id, again.props as AliasEntryOutputs, await checked(news, after))).toMatchObject({ changes: false });
    // Put back by hand: drift again.
    emu.backend.insertAddress("jit_admins", "203.0.113.7");
    const handAdded = (await provider.read!(id, after)).props as AliasEntryOutputs;
    expect(handAdded.expired).toBe(false);
    expect((await provider.diff!(id, handAdded, await checked(news, handAdded))).changes).toBe(true);
    emu.backend.removeAddress("jit_admins", "203.0.113.7");

    // Extended: the grant comes back.
    const extended = inputs(emu.url, { expiresAt: "2026-12-02T12:00:00Z" });
    expect((await provider.diff!(id, after, await checked(extended, after))).changes).toBe(true);
    const restored = (await provider.update!(id, after, await checked(extended, after))).outs;
    expect(restored.expired).toBe(false);
    expect(emu.backend.tableContent("jit_admins")).toContain("203.0.113.7");
  });
});

describe("expiry is a state, not an error (issue 18 item 6)", () => {
  const T0 = Date.parse("2026-12-01T12:00:00Z");
  const LATER = T0 + 2 * 3600_000;
  afterEach(() => setClock(undefined));

  it("a grant past its time whose entry vanished before the revoking up is simply expired: refresh, up and destroy are clean", async () => {
    setClock(() => T0);
    const news = inputs(emu.url, { expiresAt: "2026-12-01T13:00:00Z", grantName: "alice" });
    const { id, outs } = await granted(news);
    emu.backend.removeAddress("jit_admins", "203.0.113.7");
    setClock(() => LATER);
    // The drift check: the grant stays in state (an id), expired; the program's check and diff are clean.
    const r = await provider.read!(id, outs);
    expect(r.id).toBe(id);
    const refreshed = r.props as AliasEntryOutputs;
    expect(refreshed.expired).toBe(true);
    const again = await checked(news, refreshed);
    expect(await provider.diff!(id, refreshed, again)).toMatchObject({ changes: false });
    // up without a refresh (state still says live): revoking a gone entry succeeds.
    expect((await provider.diff!(id, outs, again)).changes).toBe(true);
    expect((await provider.update!(id, outs, again)).outs.expired).toBe(true);
    await provider.delete!(id, refreshed);
    expect(emu.backend.tableContent("jit_admins")).not.toContain("203.0.113.7");
  });

  it("an expired grant sharing its address with a live grant of the program: the drift check is clean; removing the live one then revokes the address", async () => {
    setClock(() => T0);
    const a = inputs(emu.url, { expiresAt: "2026-12-01T13:00:00Z", grantName: "a" });
    const b = inputs(emu.url, { grantName: "b" });
    const ga = await granted(a);
    const gb = await granted(b);
    setClock(() => LATER);
    resetRun();
    // Next run: both declared; the address is on the device because b declares it, so a has nothing to revoke.
    const ca = await checked(a, ga.outs);
    await checked(b, gb.outs);
    const ra = (await provider.read!(ga.id, ga.outs)).props as AliasEntryOutputs;
    expect((await provider.diff!(ga.id, ra, ca)).changes).toBe(false);
    // A later run without b: a is due and alone, so up revokes; b's delete does not keep it for the expired a.
    resetRun();
    const ca2 = await checked(a, ra);
    expect((await provider.diff!(ga.id, ra, ca2)).changes).toBe(true);
    const ua = (await provider.update!(ga.id, ra, ca2)).outs;
    await provider.delete!(gb.id, gb.outs);
    expect(ua.expired).toBe(true);
    expect(emu.backend.tableContent("jit_admins")).not.toContain("203.0.113.7");
    expect((await provider.diff!(ga.id, (await provider.read!(ga.id, ua)).props as AliasEntryOutputs, ca2)).changes).toBe(false);
  });

  it("an expired grant declares nothing: a live grant of its address being deleted revokes the address", async () => {
    setClock(() => T0);
    const a = inputs(emu.url, { expiresAt: "2026-12-01T13:00:00Z", grantName: "a" });
    const b = inputs(emu.url, { grantName: "b" });
    const ga = await granted(a);
    const gb = await granted(b);
    setClock(() => LATER);
    resetRun();
    await checked(a, ga.outs);
    await provider.delete!(gb.id, gb.outs);
    expect(emu.backend.tableContent("jit_admins")).not.toContain("203.0.113.7");
  });
});

describe("preflight setting", () => {
  it("read: a key that may only read aliases fails the full preflight (OPN001) but passes the read one", async () => {
    const ro = { ...inputs(emu.url), ...connFor(emu.url, emu.caCert, "read"), method: "config" } as AliasEntryInputs;
    await expect(provider.check!({} as AliasEntryInputs, ro)).rejects.toMatchObject({ code: "OPN001" });
    processState().config = { "opnsense:preflight": "read" };
    await checked(ro);
    expect(emu.log.sideEffects()).toHaveLength(0);
  });

  it("off: check sends nothing to the device; a bad value names the setting", async () => {
    processState().config = { "opnsense:preflight": "off" };
    await checked(inputs(emu.url));
    expect(emu.log.entries()).toHaveLength(0);
    processState().config = { "opnsense:preflight": "sometimes" };
    const r = await provider.check!({} as AliasEntryInputs, inputs(emu.url));
    expect(r.failures![0]!.reason).toContain('stack config opnsense:preflight: must be "full", "read" or "off"');
  });
});

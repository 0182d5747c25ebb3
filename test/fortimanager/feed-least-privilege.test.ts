/**
 * Issue 19 item 4: a FortiManager Passive+ administrator with Manage Device Configurations read-write and rpc-permit
 * read-write, and no System Settings (what Knocknoc documents as sufficient), passes preview and pushes — under every
 * answer `get /sys/session` may give an API key (answers, -11, -6: unconfirmed on a device) and with a login. Preview
 * says which rights it could not read; a wrong key still fails with 202001.
 */
import { startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { fortimanagerFeedEntryProvider as provider, type FortimanagerFeedEntryInputs } from "../../provider/devices/fortimanager/feed-resource";
import { grantErrorCode as code, useEmulator } from "../support/emulator";

const KEY = "passiveplusapikey0123456789abcde";
const PASSWORD = "Passive+pw-0123";
const seed = (sysSessionForApiKeys: "answer" | "no-permission" | "invalid-url") => () =>
  startFortimanagerEmulator({
    sysSessionForApiKeys,
    devices: ["fgt-1", "fgt-2"].map((name) => ({ name, feeds: [{ name: "jit-allow" }] })),
    profiles: [
      { profileid: "passive_plus", superUser: false, systemSetting: "none", permissions: { "device-config": "read-write", "device-manager": "read" } },
    ],
    admins: [
      { userid: "pp-api", userType: "api", apiKey: KEY, profileid: "passive_plus", rpcPermit: "read-write" },
      { userid: "pp-user", password: PASSWORD, profileid: "passive_plus", rpcPermit: "read-write" },
    ],
  });

describe.each(["answer", "no-permission", "invalid-url"] as const)("/sys/session under an API key: %s", (variant) => {
  const emu = useEmulator(seed(variant));
  const entries = (d: string) =>
    [...(emu.backend.devices.devices.get(d)!.backend.feeds.find("root", "jit-allow", false)?.entries.values() ?? [])].map((e) => e.entry);
  const inputs = (credentials: Record<string, string>, extra: Record<string, unknown> = {}) => ({
    connection: { url: emu.url, caCert: emu.caCert, ...extra },
    credentials,
    devices: ["fgt-1", "fgt-2"],
    feed: "jit-allow",
    address: "203.0.113.7",
  });

  it.each([
    ["an API key", { token: KEY }, {}],
    ["a login", { password: PASSWORD }, { username: "pp-user" }],
  ])("with %s: preview passes without System Settings, says what it could not read, and the push lands", async (_what, credentials, extra) => {
    const said: string[] = [];
    const spy = jest.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => (said.push(String(s)), true));
    let r;
    try {
      r = await provider.check({}, inputs(credentials, extra));
    } finally {
      spy.mockRestore();
    }
    expect(r.failures ?? []).toEqual([]);
    expect(said.join("")).toMatch(/warning: preview could not prove every right: .*Manage Device Configurations/);
    const { id, outs } = await provider.create(r.inputs as FortimanagerFeedEntryInputs);
    expect(entries("fgt-1")).toContain("203.0.113.7");
    expect(entries("fgt-2")).toContain("203.0.113.7");
    await provider.delete(id, outs);
    expect(entries("fgt-1")).not.toContain("203.0.113.7");
  });

  it("a wrong API key fails preview with 202001", async () => {
    expect(await code(provider.check({}, inputs({ token: "wrongapikey0123456789abcdefghijk" })))).toBe("202001");
  });
});

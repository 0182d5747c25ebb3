/**
 * Red team (issue 19 item 4): a FortiManager API key whose administrator lacks the rights to push must not pass
 * preview silently. Where `/sys/session` does not answer an API key (-11 / -6, both plausible on a device), the
 * owner is unknown and the rights are not judged; preview must then say that they were not judged (rpc-permit,
 * Manage Device Configurations, ADOM access), not pass with only the generic FortiGate-side note.
 */
import { startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { fortimanagerFeedEntryProvider as provider, type FortimanagerFeedEntryInputs } from "../../provider/devices/fortimanager/feed-resource";
import { useEmulator } from "../support/emulator";

const KEY = "readonlyapikey0123456789abcdefgh";
const seed = (sysSessionForApiKeys: "no-permission" | "invalid-url") => () =>
  startFortimanagerEmulator({
    sysSessionForApiKeys,
    devices: ["fgt-1"].map((name) => ({ name, feeds: [{ name: "jit-allow" }] })),
    profiles: [{ profileid: "viewer", superUser: false, systemSetting: "none", permissions: { "device-config": "read", "device-manager": "read" } }],
    admins: [{ userid: "ro-api", userType: "api", apiKey: KEY, profileid: "viewer", rpcPermit: "read-write" }],
  });

describe.each(["no-permission", "invalid-url"] as const)("/sys/session under an API key: %s", (variant) => {
  const emu = useEmulator(seed(variant));
  it("a key whose admin has rpc-permit read-write and Manage Device Configurations read only: preview fails, or names the rights it did not judge", async () => {
    const said: string[] = [];
    const spy = jest.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => (said.push(String(s)), true));
    let r: Awaited<ReturnType<typeof provider.check>> | undefined;
    try {
      r = await provider.check(
        {},
        { connection: { url: emu.url, caCert: emu.caCert }, credentials: { token: KEY }, devices: ["fgt-1"], feed: "jit-allow", address: "203.0.113.7" },
      );
    } catch {
      r = undefined; // preview failed: held
    } finally {
      spy.mockRestore();
    }
    if (r !== undefined && (r.failures ?? []).length === 0) {
      // And the push it let through must not report success.
      const out = await provider.create(r.inputs as FortimanagerFeedEntryInputs).then(
        () => "created",
        (e: unknown) => String(e),
      );
      expect(out).not.toBe("created");
      // Passed: then the preview must say this administrator's rights were not judged (not only the FortiGate-side note).
      expect(said.join("")).toMatch(/could not read|not judged|not proven/);
    }
  });
});

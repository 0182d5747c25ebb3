/**
 * The FortiManager provider as the engine runs it: serialised into state, loaded from text in another
 * module context, then called. The text loads the BUILT package by name (dist/, built by
 * `npm run test:contract` and `npm test`).
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { providerShim } from "../../provider/core/dynamic-kit";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import type { TrustedHostInputs } from "../../provider/devices/fortimanager/resource";
import { useEmulator } from "../support/emulator";

const emu = useEmulator(() => startFortimanagerEmulator({}), {
  onReset: () => {
    delete process.env.FORTIMANAGER_URL;
    delete process.env.FORTIMANAGER_TOKEN;
  },
});

const tokenInputs = (o: Partial<TrustedHostInputs> = {}): TrustedHostInputs => ({
  connection: { url: emu.url, caCert: emu.caCert },
  credentials: { token: DEFAULT_CREDENTIALS.apiKey },
  adminUser: "alice",
  address: "203.0.113.7",
  ...o,
});
const slots = (user: string) => emu.backend.admins.get(user)!.slots;

describe("FortimanagerTrustedHost provider: serialisation round trip", () => {
  it("serialises the shim, loads it like the engine does, and grants and revokes against the emulator", async () => {
    expect(existsSync(path.join(__dirname, "..", "..", "dist", "provider", "devices", "fortimanager", "resource.js"))).toBe(true);
    const text = await pulumi.runtime.serializeFunction(() => providerShim("fortimanagerTrustedHostProvider"), { allowSecrets: true });
    const loaded = (require("require-from-string") as (code: string) => { handler: () => pulumi.dynamic.ResourceProvider })(text.text).handler();
    const r = await loaded.create(tokenInputs({ address: "198.51.100.77" }));
    expect(r.outs.slot).toBe("trusthost2");
    expect(slots("alice").trusthost2).toEqual(["198.51.100.77", "255.255.255.255"]);
    await loaded.delete!(r.id, r.outs);
    expect(slots("alice").trusthost2).toEqual(["255.255.255.255", "255.255.255.255"]);
    expect(text.text).not.toContain(DEFAULT_CREDENTIALS.apiKey);
  });
});

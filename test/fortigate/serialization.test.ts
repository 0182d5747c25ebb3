/**
 * The FortiGate provider as the engine runs it: serialised into state, loaded from text in another
 * module context, then called. The text loads the BUILT package by name (dist/, built by
 * `npm run test:contract` and `npm test`).
 */
import * as pulumi from "@pulumi/pulumi";
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { providerShim } from "../../provider/core/dynamic-kit";
import { useEmulator } from "../support/emulator";

const emu = useEmulator(() => startFortigateEmulator({ vdoms: ["root"], groups: [{ name: "jit-admins" }] }));
const conn = () => ({ connection: { url: emu.url, caCert: emu.caCert }, credentials: { token: emu.token } });
const inputs = (extra: Record<string, unknown>) => ({ ...conn(), __provider: "x", ...extra });

describe("FortigateAddress provider", () => {
  it("serialised shim round trip: load the built package and create against the emulator", async () => {
    const text = await pulumi.runtime.serializeFunction(() => providerShim("fortigateAddressProvider"), { allowSecrets: true });
    const loaded = require("require-from-string")(text.text).handler() as pulumi.dynamic.ResourceProvider;
    const ins = (await loaded.check!({}, inputs({ name: "ser", address: "192.0.2.200" }))).inputs;
    const { id, outs } = await loaded.create(ins);
    expect(emu.backend.getAddress("root", "ipv4", "ser")).toBeDefined();
    await loaded.delete!(id, outs);
    expect(emu.backend.getAddress("root", "ipv4", "ser")).toBeUndefined();
  });
});

/**
 * The provider as the engine runs it: serialised into state, loaded from text in another module
 * context, then called. The text loads the BUILT package by name, so dist/ is built first when stale.
 */
import { execSync } from "node:child_process";
import { readdirSync, statSync, existsSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { providerShim } from "../../provider/core/dynamic-kit";
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { useEmulator } from "../support/emulator";
import { connFor, SECRET, USERS } from "./helpers";

const root = path.join(__dirname, "..", "..");

function buildIfStale(): void {
  const built = path.join(root, "dist", "provider", "devices", "opnsense", "resource.js");
  const srcDir = path.join(root, "provider", "devices", "opnsense");
  const newest = Math.max(...readdirSync(srcDir).map((f) => statSync(path.join(srcDir, f)).mtimeMs));
  if (existsSync(built) && statSync(built).mtimeMs >= newest) return;
  try {
    execSync("npx tsc -p tsconfig.build.json", { cwd: root, stdio: "ignore" });
  } catch {
    // tsc emits even when another module has type errors; the require below tells if it worked.
  }
}

beforeAll(buildIfStale, 120_000);
const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));

describe("serialised provider round trip", () => {
  it("serialises the shim, loads it from text and creates, reads and deletes a grant", async () => {
    const text = await pulumi.runtime.serializeFunction(() => providerShim("opnsenseAliasEntryProvider"), { allowSecrets: true });
    expect(text.text).not.toContain(SECRET);
    const p = require("require-from-string")(text.text).handler() as pulumi.dynamic.ResourceProvider;
    const news = { ...connFor(emu.url, emu.caCert, "tablesRead"), alias: "jit_admins", address: "192.0.2.44" };
    const checked = await p.check!({}, news);
    expect(checked.failures ?? []).toEqual([]);
    const { id, outs } = await p.create(checked.inputs);
    expect(emu.backend.tableContent("jit_admins")).toEqual(["192.0.2.44"]);
    expect((await p.read!(id, outs)).id).toBe(id);
    await p.delete!(id, outs);
    expect(emu.backend.configContent("jit_admins")).toEqual([]);
  });

  it("errors from the loaded copy are still recognisable GrantErrors without the secret", async () => {
    const text = await pulumi.runtime.serializeFunction(() => providerShim("opnsenseAliasEntryProvider"), { allowSecrets: true });
    const p = require("require-from-string")(text.text).handler() as pulumi.dynamic.ResourceProvider;
    const news = { ...connFor(emu.url, emu.caCert, "read"), alias: "jit_admins", address: "192.0.2.45" };
    const { isGrantError } = await import("../../provider/core/errors");
    try {
      await p.check!({}, news);
      throw new Error("expected OPN001");
    } catch (e) {
      expect(isGrantError(e)).toBe(true);
      expect((e as { code: string }).code).toBe("OPN001");
      expect((e as Error).message).not.toContain(SECRET);
    }
  });
});

describe("OpnsenseAliasEntry resource class", () => {
  it("registers the fixed type token and stores credentials only as a secret", async () => {
    const registered: pulumi.runtime.MockResourceArgs[] = [];
    await pulumi.runtime.setMocks({
      newResource: (args) => {
        registered.push(args);
        return { id: "id-1", state: args.inputs };
      },
      call: () => ({}),
    });
    const { OpnsenseAliasEntry } = await import("../../provider/devices/opnsense/resource");
    const r = new OpnsenseAliasEntry("alice", {
      connection: { url: emu.url, apiKey: USERS.admin.key, apiSecret: pulumi.secret(USERS.admin.secret) },
      alias: "jit_admins",
      address: "203.0.113.7",
    });
    const alias = await new Promise((resolve) => r.alias.apply(resolve));
    expect(alias).toBe("jit_admins");
    const reg = registered.find((a) => a.name === "alice")!;
    expect(reg.type).toBe("pulumi-nodejs:dynamic/opnsense:AliasEntry");
    expect(reg.inputs.connection).toEqual({ url: emu.url });
    expect(reg.inputs.method).toBe("table");
    const creds = (r as unknown as { credentials: pulumi.Output<unknown> }).credentials;
    expect(await pulumi.isSecret(creds)).toBe(true);
    expect(JSON.stringify(reg.inputs.connection)).not.toContain(SECRET);
  }, 60_000);
});

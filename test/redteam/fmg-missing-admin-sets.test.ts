/**
 * Red team (issue 19 variant `missingAdminCode`, default now -2): variants-lifecycle.test.ts checks the per-entry
 * FortimanagerTrustedHost only. The set and the guard of an administrator that does not exist must fail at check
 * with 202051 naming the administrator (never pass, never a GrantError-less crash), under -2 and -3 alike; and a set
 * whose administrator was deleted after create must delete cleanly (nothing is left to revoke) without writing.
 */
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { isGrantError } from "../../provider/core/errors";
import { resetProcessState } from "../../provider/core/process-state";
import { closeAllAgents } from "../../provider/core/transport";
import { fortimanagerTrustedHostProvider } from "../../provider/devices/fortimanager/resource";
import { fortimanagerTrustedHostSetProvider } from "../../provider/devices/fortimanager/set-resource";
import { closeFortimanagerSessions } from "../../provider/devices/fortimanager/session";

jest.setTimeout(60_000);

afterAll(async () => {
  await closeFortimanagerSessions();
  await closeAllAgents();
  resetProcessState();
});

describe.each(["-2", "-3"])("missingAdminCode %s", (code) => {
  const start = () => startFortimanagerEmulator({ sysSessionForApiKeys: "answer", missingAdminCode: Number(code) as -2 | -3 });
  const inputs = (emu: { url: string; caCert: string }, adminUser: string, extra: Record<string, unknown> = {}) => ({
    __provider: "x",
    connection: { url: emu.url, caCert: emu.caCert },
    credentials: { token: DEFAULT_CREDENTIALS.apiKey },
    adminUser,
    addresses: ["203.0.113.7"],
    grantName: "s",
    ...extra,
  });

  it.each([
    ["set", {}],
    ["exclusive set", { exclusive: true }],
  ])("a %s for an administrator that does not exist fails at check with 202051", async (_what, extra) => {
    const emu = await start();
    try {
      const e = await fortimanagerTrustedHostSetProvider.check({}, inputs(emu, "ghost", extra)).then(
        (r) => r,
        (x: unknown) => x,
      );
      expect(isGrantError(e) ? e.code : e).toBe("202051");
      expect(String(e)).toContain("ghost");
    } finally {
      await emu.close();
    }
  });

  it("a per-entry trusted host whose administrator was deleted after create deletes cleanly", async () => {
    const emu = await start();
    try {
      const { addresses: _a, ...rest } = inputs(emu, "alice");
      const c = await fortimanagerTrustedHostProvider.check({}, { ...rest, address: "203.0.113.7" });
      const r = await fortimanagerTrustedHostProvider.create(c.inputs as never);
      emu.backend.admins.delete("alice");
      await expect(fortimanagerTrustedHostProvider.delete(r.id, r.outs as never)).resolves.toBeUndefined();
    } finally {
      await emu.close();
    }
  });

  // BUG (red team): the per-entry grant's delete takes a missing administrator as "gone"; the set's delete fails 202051.
  it("a set whose administrator was deleted after create deletes cleanly", async () => {
    const emu = await start();
    try {
      const c = await fortimanagerTrustedHostSetProvider.check({}, inputs(emu, "alice"));
      const r = await fortimanagerTrustedHostSetProvider.create(c.inputs as never);
      emu.backend.admins.delete("alice");
      await expect(fortimanagerTrustedHostSetProvider.delete(r.id, r.outs as never)).resolves.toBeUndefined();
    } finally {
      await emu.close();
    }
  });
});

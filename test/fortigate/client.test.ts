import { FortigateClient } from "../../provider/devices/fortigate/client";
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { mustParseAddress } from "../../provider/core/address";
import { toGrantError } from "../../provider/core/diagnosis";
import { grantError as codeOf, useEmulator } from "../support/emulator";

/** FortiOS's 404 for a missing object (R7#1027, FortiOS 6.2.3; ansible/ansible#58914, 6.0.4). */
const fortiosNotFound = (method: string, table: string, mkey: string) => ({
  http_method: method,
  revision: "e8e8705a22d1bb9d90a9ddd0d78e5070",
  status: "error",
  http_status: 404,
  vdom: "root",
  path: "firewall",
  name: table,
  mkey,
  serial: "FGVM02TM20001791",
  version: "v6.2.3",
  build: 1066,
});

const RO = "readonly-token-0123456789";
const NONE = "none-token-0123456789";
// The users added at start outlive every test: lockouts are cleared instead of a backend reset.
const emu = useEmulator(() => startFortigateEmulator({ vdoms: ["root", "dmz"], groups: [{ name: "jit-admins" }] }), {
  onStart: (e) => {
    e.backend.addUser({ name: "ro", token: RO, fwgrp: "read", sysgrp: "read", vdoms: ["root"] });
    e.backend.addUser({ name: "none", token: NONE, fwgrp: "custom", addressPermission: "none", vdoms: ["root"] });
    e.backend.addUser({ name: "far", token: "far-token-0123456789", trusthosts: ["192.0.2.0/24"] });
  },
  resetBackend: false,
  onReset: (e) => e.backend.clearLockouts(),
});
const untrusted = useEmulator(() => startFortigateEmulator({ tls: "untrusted" }));

const client = (over: Partial<ConstructorParameters<typeof FortigateClient>[0]> = {}) =>
  new FortigateClient({ url: emu.url, token: emu.token, caCert: emu.caCert, ...over });

describe("FortiGate client diagnoses", () => {
  it("202001 for a wrong token, sending exactly one request (a 401 is never retried)", async () => {
    const e = await codeOf(client({ token: "wrong-token-value-123" }).status());
    expect(e.code).toBe("202001");
    expect(e.message).toContain("trusted hosts");
    expect(emu.log.entries()).toHaveLength(1);
  });

  it("202001 when this machine is not in the API user's trusted hosts", async () => {
    const e = await codeOf(client({ token: "far-token-0123456789" }).getAddress("ipv4", "x"));
    expect(e.code).toBe("202001");
    expect(e.status).toBe(401);
    expect(emu.log.entries()).toHaveLength(1);
  });

  it("202005 once the source is locked out", async () => {
    for (let i = 0; i < 3; i++) await codeOf(client({ token: `bad-token-${i}-abcdef` }).status());
    const e = await codeOf(client().status());
    expect(e.code).toBe("202005");
  });

  it("202002 naming Firewall > Address Read/Write and the VDOM for a read-only profile", async () => {
    const e = await codeOf(client({ token: RO }).probeWrite("ipv4"));
    expect(e.code).toBe("202002");
    expect(e.message).toContain("Address Read/Write");
    expect(e.message).toContain('VDOM "root"');
  });

  it("202002 naming Address Read for a profile without address access", async () => {
    const e = await codeOf(client({ token: NONE }).probeRead("ipv4"));
    expect(e.code).toBe("202002");
    expect(e.message).toContain("Firewall > Address Read");
  });

  it("202002 naming the VDOM when it is out of the API user's scope", async () => {
    const e = await codeOf(client({ token: RO, vdom: "dmz" }).status());
    expect(e.code).toBe("202002");
    expect(e.message).toContain('VDOM "dmz"');
  });

  it("202000 for a refused connection and for a name that does not resolve", async () => {
    expect((await codeOf(client({ url: "https://127.0.0.1:1" }).status())).code).toBe("202000");
    expect((await codeOf(client({ url: "https://fortigate.invalid" }).status())).code).toBe("202000");
  });

  it("202003 for a certificate this machine does not trust", async () => {
    const e = await codeOf(new FortigateClient({ url: untrusted.url, token: untrusted.token, caCert: emu.caCert }).status());
    expect(e.code).toBe("202003");
  });

  it("202004 when the device hangs past timeoutMs", async () => {
    emu.faults.add({ match: "/monitor/system/status", kind: "hang", ms: 5000 });
    const e = await codeOf(client({ timeoutMs: 300 }).status());
    expect(e.code).toBe("202004");
  });

  it("202060 when adding to a group that does not exist", async () => {
    const c = client();
    await c.createAddress("ipv4", "g-miss", mustParseAddress("198.51.100.1"), "");
    expect((await codeOf(c.addMember("ipv4", "no-such-group", "g-miss"))).code).toBe("202060");
  });

  it("creates, reads back as a CIDR, reports an existing name as 'exists', and deletes idempotently", async () => {
    const c = client();
    expect(await c.createAddress("ipv4", "c1", mustParseAddress("198.51.100.0/24"), "x")).toBe("created");
    expect((await c.getAddress("ipv4", "c1"))?.address?.cidr).toBe("198.51.100.0/24");
    expect(await c.createAddress("ipv4", "c1", mustParseAddress("198.51.100.0/24"), "x")).toBe("exists");
    await c.deleteAddress("ipv4", "c1");
    await c.deleteAddress("ipv4", "c1");
    expect(await c.getAddress("ipv4", "c1")).toBeUndefined();
  });

  it("retries the read after a create when the device first answers its own 404 (TF#333)", async () => {
    const c = client();
    await c.createAddress("ipv4", "late", mustParseAddress("198.51.100.9"), "");
    emu.faults.add({
      match: "GET /api/v2/cmdb/firewall/address/late",
      kind: "reply",
      times: 2,
      reply: () => ({ status: 404, json: fortiosNotFound("GET", "address", "late") }),
    });
    expect((await c.getAddressAfterCreate("ipv4", "late", 5, 10))?.name).toBe("late");
  });

  it("a 404 that is not FortiOS's (a proxy's HTML page) is never read as 'no such object': 202090", async () => {
    const c = client();
    emu.faults.add({ match: "GET /api/v2/cmdb/firewall/address/ghost", kind: "status", status: 404, times: 1 });
    expect(
      (
        await codeOf(
          c.getAddress("ipv4", "ghost").catch((e: unknown) => {
            throw toGrantError(e, "fortinet", { host: c.host });
          }),
        )
      ).code,
    ).toBe("202090");
    // FortiOS's own 404 (R7#1027 shape) is "no such object".
    expect(await c.getAddress("ipv4", "ghost")).toBeUndefined();
  });

  it("a FortiOS envelope for another request (method, table or VDOM) is not taken as this request's answer", async () => {
    const c = client();
    const req = { method: "DELETE" as const, path: "/api/v2/cmdb/firewall/address/x", query: { vdom: "root" }, idempotent: true };
    const res = (json: Record<string, unknown>, status = 404) => ({ status, headers: {}, text: JSON.stringify(json) });
    expect(c.answer(req, res(fortiosNotFound("DELETE", "address", "x")))).toBeDefined();
    expect(c.answer(req, res(fortiosNotFound("GET", "address", "x")))).toBeUndefined();
    expect(c.answer(req, res(fortiosNotFound("DELETE", "addrgrp", "x")))).toBeUndefined();
    expect(c.answer(req, res({ ...fortiosNotFound("DELETE", "address", "x"), vdom: "dmz" }))).toBeUndefined();
    expect(c.answer(req, res({ ...fortiosNotFound("DELETE", "address", "x"), http_status: 200 }))).toBeUndefined();
    expect(c.answer(req, res({ ...fortiosNotFound("DELETE", "address", "x"), status: "success", http_status: 200 }, 200))).toBeDefined();
    expect(c.answer(req, { status: 200, headers: {}, text: "<html>portal</html>" })).toBeUndefined();
  });

  it("settles a create whose answer was lost by reading it back (no duplicate, no error)", async () => {
    emu.faults.add({ match: "POST /api/v2/cmdb/firewall/address", kind: "reset", phase: "after", times: 1 });
    expect(await client().createAddress("ipv4", "lost", mustParseAddress("198.51.100.10"), "")).toBe("verified");
    expect(emu.backend.addresses("root").filter((a) => a.name === "lost")).toHaveLength(1);
  });

  it("sends the token only in the Authorization header: no query string or message holds it", async () => {
    const e = await codeOf(client({ token: RO }).probeWrite("ipv4"));
    expect(e.message).not.toContain(RO);
    for (const entry of emu.log.entries()) {
      expect(entry.query).not.toContain(RO);
      expect(entry.query).not.toContain("access_token");
      expect(entry.path).not.toContain(RO);
    }
  });
});

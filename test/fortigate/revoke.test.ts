/**
 * FortiGate grant semantics against the emulator, through the client/grant functions:
 * - delete revokes (issue 9, SPEC §3): the object and the membership go whether they were created or
 *   adopted; `adopted` / `membershipAdded` are informational;
 * - membership is read before it is added (issue 10): no POST for a current member, whatever FortiOS
 *   would answer to one (the emulator's `repeatedMemberPost` "ok" and "duplicate");
 * - FortiOS before 7.2.0 cannot empty a group: removing the last member is never attempted and fails
 *   with a diagnosis saying why and what to do, with nothing removed;
 * - the write probe and what preview could not verify; the preflight cache key.
 */
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { FortigateClient } from "../../provider/devices/fortigate/client";
import { createGrant, deleteGrant, updateGrant, type FortigateAddressState } from "../../provider/devices/fortigate/grant";
import { preflight, preflightKey } from "../../provider/devices/fortigate/preflight";
import { resetProcessState } from "../../provider/core/process-state";
import { grantError as codeOf, useEmulator } from "../support/emulator";

const RO = "readonly-token-0123456789";
const ADMIN = "admin-token-0123456789abcdef";
const users = [
  {
    name: "grants-api",
    token: ADMIN,
    fwgrp: "read-write" as const,
    sysgrp: "custom" as const,
    sysgrpPermission: { cfg: "read-write" as const },
    vdoms: ["root"],
  },
  { name: "ro", token: RO, fwgrp: "read" as const, sysgrp: "read" as const, vdoms: ["root"] },
];
// Groups are seeded per test (the standard reset restores the backend's empty tables).
const emu = useEmulator(() => startFortigateEmulator({ users }), {
  onReset: (e) => {
    e.backend.createGroup("root", "ipv4", "jit-admins", []);
  },
});
// FortiOS 7.0: a group cannot be empty, so it is seeded with a member that is not a grant.
const old = useEmulator(() => startFortigateEmulator({ version: "7.0.12", users }), {
  onReset: (e) => {
    e.backend.createAddress("root", "ipv4", { name: "keep", subnet: "192.0.2.1 255.255.255.255" });
    e.backend.createGroup("root", "ipv4", "jit-admins", ["keep"]);
  },
});

const opts = (e: { url: string; caCert: string }, token = ADMIN) => ({ url: e.url, token, caCert: e.caCert });
const asState = (o: Awaited<ReturnType<typeof createGrant>>): FortigateAddressState => o;
const routes = (e: { log: { entries(): readonly { method: string; path: string }[] } }) => e.log.entries().map((x) => `${x.method} ${x.path}`);

describe("delete revokes (SPEC §3)", () => {
  it("an adopted object is deleted", async () => {
    emu.backend.createAddress("root", "ipv4", { name: "pre", subnet: "192.0.2.5 255.255.255.255" });
    const s = asState(await createGrant(opts(emu), { name: "pre", address: "192.0.2.5", comment: "" }));
    expect(s.adopted).toBe(true);
    await deleteGrant(opts(emu), s);
    expect(emu.backend.getAddress("root", "ipv4", "pre")).toBeUndefined();
    await deleteGrant(opts(emu), s); // gone is success: FortiOS's own 404
  });

  it("an adopted membership of an adopted object is removed, membership first, then the object", async () => {
    emu.backend.createAddress("root", "ipv4", { name: "pre-m", subnet: "192.0.2.6 255.255.255.255" });
    emu.backend.addMember("root", "ipv4", "jit-admins", "pre-m");
    const s = asState(await createGrant(opts(emu), { name: "pre-m", address: "192.0.2.6", comment: "", group: "jit-admins" }));
    expect(s).toMatchObject({ adopted: true, membershipAdded: false, member: true });
    emu.log.clear();
    await deleteGrant(opts(emu), s);
    expect(routes(emu)).toEqual([
      "GET /api/v2/cmdb/firewall/addrgrp/jit-admins",
      "DELETE /api/v2/cmdb/firewall/addrgrp/jit-admins/member/pre-m",
      "DELETE /api/v2/cmdb/firewall/address/pre-m",
    ]);
    expect(emu.backend.groupMembers("root", "jit-admins")).toEqual([]);
    expect(emu.backend.getAddress("root", "ipv4", "pre-m")).toBeUndefined();
  });

  it("an object still referenced elsewhere fails loudly with 202063 after its membership is gone", async () => {
    emu.backend.createGroup("root", "ipv4", "other", []);
    const s = asState(await createGrant(opts(emu), { name: "used", address: "192.0.2.7", comment: "", group: "jit-admins" }));
    emu.backend.addMember("root", "ipv4", "other", "used");
    const e = await codeOf(deleteGrant(opts(emu), s));
    expect(e.code).toBe("202063");
    expect(emu.backend.groupMembers("root", "jit-admins")).toEqual([]);
    expect(emu.backend.getAddress("root", "ipv4", "used")).toBeDefined();
  });

  it("a group deleted by hand, or a membership already gone, is success (FortiOS 404 on the group read)", async () => {
    emu.backend.createGroup("root", "ipv6", "gone6", []);
    const s = asState(await createGrant(opts(emu), { name: "g6", address: "2001:db8::6", comment: "", group: "gone6" }));
    emu.backend.removeMember("root", "ipv6", "gone6", "g6");
    emu.backend.deleteGroup("root", "ipv6", "gone6");
    await deleteGrant(opts(emu), s);
    expect(emu.backend.addresses("root", "ipv6")).toEqual([]);
  });
});

describe.each(["duplicate", "ok"] as const)("membership is read before it is added (repeated member POST answers %s)", (answer) => {
  beforeEach(() => {
    emu.backend.repeatedMemberPost = answer;
  });
  afterEach(() => {
    emu.backend.repeatedMemberPost = "duplicate";
  });

  it("a current member gets no POST and is recorded as adopted; a new one is POSTed once and recorded as added", async () => {
    emu.backend.createAddress("root", "ipv4", { name: "m-old", subnet: "192.0.2.8 255.255.255.255" });
    emu.backend.addMember("root", "ipv4", "jit-admins", "m-old");
    emu.log.clear();
    const adopted = asState(await createGrant(opts(emu), { name: "m-old", address: "192.0.2.8", comment: "", group: "jit-admins" }));
    expect(adopted.membershipAdded).toBe(false);
    expect(emu.log.count("POST /api/v2/cmdb/firewall/addrgrp/{name}/member")).toBe(0);
    const added = asState(await createGrant(opts(emu), { name: "m-new", address: "192.0.2.9", comment: "", group: "jit-admins" }));
    expect(added.membershipAdded).toBe(true);
    expect(emu.log.count("POST /api/v2/cmdb/firewall/addrgrp/{name}/member")).toBe(1);
    expect(emu.backend.groupMembers("root", "jit-admins").sort()).toEqual(["m-new", "m-old"]);
  });

  it("update restores a membership removed by hand (read, then one POST)", async () => {
    const s = asState(await createGrant(opts(emu), { name: "m-drift", address: "192.0.2.10", comment: "", group: "jit-admins" }));
    emu.backend.removeMember("root", "ipv4", "jit-admins", "m-drift");
    const changed = await updateGrant(opts(emu), { ...s, member: false }, "");
    expect(changed).toMatchObject({ member: true, membershipAdded: true });
    expect(emu.backend.groupMembers("root", "jit-admins")).toEqual(["m-drift"]);
  });
});

describe("FortiOS before 7.2.0 cannot empty an address group", () => {
  it("the last member is never removed: a clear diagnosis, nothing changed; with another member it is removed", async () => {
    const s = asState(await createGrant(opts(old), { name: "g-old", address: "198.51.100.7", comment: "", group: "jit-admins" }));
    // Not the last member: removed normally.
    await deleteGrant(opts(old), s);
    expect(old.backend.groupMembers("root", "jit-admins")).toEqual(["keep"]);
    expect(old.backend.getAddress("root", "ipv4", "g-old")).toBeUndefined();

    // "keep" taken over as a grant: it is the last member on 7.0.12.
    const last = asState(await createGrant(opts(old), { name: "keep", address: "192.0.2.1", comment: "", group: "jit-admins" }));
    old.log.clear();
    const e = await codeOf(deleteGrant(opts(old), last));
    expect(["202063", "202064"]).toContain(e.code);
    expect(e.message).toContain('the last member of address group "jit-admins"');
    expect(e.message).toContain("7.0.12");
    expect(e.message).toContain("7.2.0");
    expect(e.message).toMatch(/add another member/);
    // Never attempted: one group read, no DELETE; the group and the object are as they were.
    expect(routes(old)).toEqual(["GET /api/v2/cmdb/firewall/addrgrp/jit-admins"]);
    expect(old.backend.groupMembers("root", "jit-admins")).toEqual(["keep"]);
    expect(old.backend.getAddress("root", "ipv4", "keep")).toBeDefined();

    // The documented way out: a placeholder member, then destroy again.
    old.backend.createAddress("root", "ipv4", { name: "placeholder", subnet: "192.0.2.255 255.255.255.255" });
    old.backend.addMember("root", "ipv4", "jit-admins", "placeholder");
    await deleteGrant(opts(old), last);
    expect(old.backend.groupMembers("root", "jit-admins")).toEqual(["placeholder"]);
    expect(old.backend.getAddress("root", "ipv4", "keep")).toBeUndefined();
  });

  it("a last member left by a concurrent writer (the group read showed two) is refused by the device and diagnosed the same way", async () => {
    const s = asState(await createGrant(opts(old), { name: "racer", address: "198.51.100.9", comment: "", group: "jit-admins" }));
    old.backend.removeMember("root", "ipv4", "jit-admins", "keep"); // another process removed the other member
    // ... after this process read the group with both members in it:
    old.faults.add({
      match: "GET /api/v2/cmdb/firewall/addrgrp/jit-admins",
      kind: "reply",
      times: 1,
      reply: () => ({
        status: 200,
        json: {
          http_method: "GET",
          status: "success",
          http_status: 200,
          vdom: "root",
          path: "firewall",
          name: "addrgrp",
          mkey: "jit-admins",
          version: "v7.0.12",
          results: [{ name: "jit-admins", member: [{ name: "keep" }, { name: "racer" }] }],
        },
      }),
    });
    const e = await codeOf(deleteGrant(opts(old), s));
    expect(["202063", "202064"]).toContain(e.code);
    expect(e.message).toContain("cannot empty an address group");
    expect(e.status).toBe(500);
    expect(old.backend.groupMembers("root", "jit-admins")).toEqual(["racer"]);
  });

  it("from 7.2.0 the last member goes and the group is left empty", async () => {
    const s = asState(await createGrant(opts(emu), { name: "only", address: "198.51.100.8", comment: "", group: "jit-admins" }));
    await deleteGrant(opts(emu), s);
    expect(emu.backend.groupMembers("root", "jit-admins")).toEqual([]);
  });

  it("the client reads the firmware from the status answer and from every envelope", async () => {
    const c = new FortigateClient(opts(old));
    expect((await c.status()).version).toEqual([7, 0, 12]);
    const c2 = new FortigateClient(opts(emu));
    await c2.getGroupMembers("ipv4", "jit-admins");
    emu.log.clear();
    expect(await c2.firmwareVersion()).toEqual([7, 6, 4]);
    expect(emu.log.count()).toBe(0);
  });
});

describe("preview", () => {
  it("a read-only profile fails at the write probe where FortiOS checks permission first (403 → 202002)", async () => {
    const c = new FortigateClient(opts(emu, RO));
    const e = await codeOf(preflight(c, emu.url, RO, { family: "ipv4" }));
    expect(e.code).toBe("202002");
    expect(e.message).toContain("Firewall > Address Read/Write");
  });

  it("where FortiOS would look the object up first (404 for a read-only token), preview passes and the real write's 202002 says what preview could not verify", async () => {
    // The other order: the probe's PUT on a missing object answered with FortiOS's own 404 envelope.
    emu.faults.add({
      match: "PUT /api/v2/cmdb/firewall/address/__grants_write_probe__",
      kind: "reply",
      times: 1,
      reply: () => ({
        status: 404,
        json: {
          http_method: "PUT",
          status: "error",
          http_status: 404,
          vdom: "root",
          path: "firewall",
          name: "address",
          mkey: "__grants_write_probe__",
          serial: "FGVM02TM24000001",
          version: "v7.6.4",
          build: 3596,
        },
      }),
    });
    const c = new FortigateClient(opts(emu, RO));
    await preflight(c, emu.url, RO, { family: "ipv4" });
    const e = await codeOf(createGrant(opts(emu, RO), { name: "ro-grant", address: "203.0.113.9", comment: "" }));
    expect(e.code).toBe("202002");
    expect(e.message).toContain("Preview could not prove write access");
    expect(emu.log.sideEffects()).toHaveLength(0);
  });

  it("the verdict is cached by URL, token, CA, insecure, timeout, VDOM, family and group: a TLS failure is not reused once the CA is given", async () => {
    const noCa = new FortigateClient({ url: emu.url, token: ADMIN });
    expect((await codeOf(preflight(noCa, emu.url, ADMIN, { family: "ipv4" }))).code).toBe("202003");
    const withCa = new FortigateClient(opts(emu));
    await preflight(withCa, emu.url, ADMIN, { family: "ipv4" });
    const base = { url: emu.url, token: ADMIN, caCert: emu.caCert };
    const key = (o: Partial<typeof base> & { insecure?: boolean; timeoutMs?: number; vdom?: string }, group?: string, family: "ipv4" | "ipv6" = "ipv4") =>
      preflightKey(new FortigateClient({ ...base, ...o }), o.url ?? base.url, o.token ?? base.token, { family, group });
    const keys = [
      key({}),
      key({ caCert: undefined }),
      key({ insecure: true }),
      key({ timeoutMs: 30_000 }),
      key({ vdom: "dmz" }),
      key({ token: RO }),
      key({ url: "https://other.example:8443" }),
      key({}, "jit-admins"),
      key({}, ""),
      key({}, undefined, "ipv6"),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    for (const k of keys) expect(k).not.toContain(ADMIN);
    resetProcessState();
  });
});

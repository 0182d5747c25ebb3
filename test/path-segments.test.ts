/**
 * Issue 18 item 1: a FortiGate object named "." made `destroy` send `DELETE …/firewall/address/`, which
 * empties the whole address table. No request may carry a path segment that is empty, `.` or `..` once
 * decoded — checked once in the transport (and for the JSON-RPC url in the body) — and `check` refuses such
 * names before anything is sent.
 */
import { startEmulatorServer } from "../emulators/kit";
import { isFirewallGrantsError } from "../provider/core/errors";
import { startFortigateEmulator } from "../emulators/fortigate/emulator";
import { deleteGrant, type FortigateAddressState } from "../provider/devices/fortigate/grant";
import { nameProblem } from "../provider/devices/fortinet/names";
import { feedNameProblem } from "../provider/devices/fortinet/feed-entries";
import { rpc } from "../provider/devices/fortimanager/jsonrpc";
import { closeAllAgents, Transport, unsafePathSegment } from "../provider/core/transport";
import { useEmulator } from "./support/emulator";

const ADMIN = "admin-token-0123456789abcdef";
const fgt = useEmulator(
  () =>
    startFortigateEmulator({
      users: [{ name: "grants-api", token: ADMIN, fwgrp: "read-write", sysgrp: "custom", sysgrpPermission: { cfg: "read-write" }, vdoms: ["root"] }],
    }),
  {
    onReset: (e) => {
      e.backend.createAddress("root", "ipv4", { name: "not-ours", subnet: "192.0.2.9 255.255.255.255" });
      e.backend.createGroup("root", "ipv4", "jit-admins", ["not-ours"]);
    },
  },
);

async function refusal(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a refusal");
}

describe("unsafePathSegment", () => {
  it.each([
    ["/api/v2/cmdb/firewall/address/.", "."],
    ["/api/v2/cmdb/firewall/address/..", ".."],
    ["/api/v2/cmdb/firewall/address/%2e", "%2e"],
    ["/api/v2/cmdb/firewall/address/%2E%2e", "%2E%2e"],
    ["/api/v2/cmdb/firewall/address/", ""],
    ["/api//cmdb", ""],
    ["/cli/global/system/admin/user/.", "."],
    ["/api/v2/cmdb/firewall/address/.?vdom=root", "."],
  ])("%s has the bad segment %j", (path, bad) => {
    expect(unsafePathSegment(path)).toBe(bad);
  });

  it.each([
    "/api/v2/cmdb/firewall/address/a.b",
    "/api/v2/cmdb/firewall/address/...x",
    "/jsonrpc",
    "sys/status",
    "/api/firewall/alias_util/list/my_alias?x=/./",
  ])("%s is a path of real segments", (path) => {
    expect(unsafePathSegment(path)).toBeUndefined();
  });
});

describe("the transport never sends a path whose segment would normalise away", () => {
  const seen: string[] = [];
  let server: Awaited<ReturnType<typeof startEmulatorServer>>;
  let t: Transport;
  beforeAll(async () => {
    server = await startEmulatorServer(
      "any",
      { tls: "test-ca" },
      (req) => {
        seen.push(`${req.method} ${req.rawPath}`);
        return { status: 200, json: { ok: true } };
      },
      { reset: () => undefined },
    );
    t = new Transport({ baseUrl: server.url, caCert: server.caCert, timeoutMs: 2000 });
  });
  afterAll(async () => {
    await closeAllAgents();
    await server.close();
  });

  it.each(["/things/.", "/things/%2E", "/things/..", "/things/", "/a//b"])("DELETE %s is refused before it is sent", async (path) => {
    seen.length = 0;
    const e = await refusal(t.send({ method: "DELETE", path, idempotent: true }));
    expect(isFirewallGrantsError(e)).toBe(true);
    expect(e.name).toBe("UnsafePathError");
    expect(e.message).toMatch(/refused to send a request/);
    expect(seen).toEqual([]);
  });

  it("a JSON-RPC object url in the body is held to the same rule", async () => {
    seen.length = 0;
    const e = await refusal(rpc(t, { method: "delete", url: "/cli/global/system/admin/user/.", idempotent: false }));
    expect(e.name).toBe("UnsafePathError");
    expect(seen).toEqual([]);
  });
});

describe("a FortiGate grant state named '.' cannot empty the address table", () => {
  const state = (over: Partial<FortigateAddressState>): FortigateAddressState => ({
    name: ".",
    address: "192.0.2.1",
    cidr: "192.0.2.1/32",
    vdom: "root",
    comment: "",
    family: "ipv4",
    adopted: false,
    objectPath: "/api/v2/cmdb/firewall/address/.",
    ...over,
  });

  it("delete of the object fails loudly and sends nothing; the table keeps its objects", async () => {
    const e = await refusal(deleteGrant({ url: fgt.url, token: ADMIN, caCert: fgt.caCert }, state({})));
    expect(e.message).toMatch(/refused to send a request|"\."/);
    expect(fgt.log.entries().filter((x) => x.method === "DELETE")).toEqual([]);
    expect(fgt.backend.getAddress("root", "ipv4", "not-ours")).toBeDefined();
  });

  it("delete of a membership named '.' leaves the group's members", async () => {
    await refusal(deleteGrant({ url: fgt.url, token: ADMIN, caCert: fgt.caCert }, state({ group: "jit-admins", member: true, membershipAdded: true })));
    expect(fgt.log.entries().filter((x) => x.method === "DELETE")).toEqual([]);
    expect(fgt.backend.groupMembers("root", "jit-admins")).toEqual(["not-ours"]);
  });
});

describe("check refuses names that are one path segment equal to '.'", () => {
  it("FortiGate object, group and feed names", () => {
    expect(nameProblem(".")).toMatch(/must not be "\." or "\.\."/);
    expect(feedNameProblem(".")).toMatch(/must not be "\." or "\.\."/);
    expect(nameProblem(".a")).toBeUndefined();
  });
});

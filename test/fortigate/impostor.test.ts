/**
 * Issue 9 item 8: servers that are not a FortiGate never make a grant operation report success. Each
 * server here is a tiny local HTTPS server (the shipped test certificate) answering every request the
 * same way: a captive portal (HTML 200), a web server's 404 page, a JSON API's generic 404, and a JSON
 * 404 that imitates FortiOS but names another table. A FortiOS 404 counts as "gone" only with the
 * envelope of the request it answers (reference §3/§4a: R7#1027, ansible/ansible#58914).
 */
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { testCaCert, testdataFile } from "../../emulators/kit";
import { FortigateClient } from "../../provider/devices/fortigate/client";
import { createGrant, deleteGrant, readGrant, type FortigateAddressState } from "../../provider/devices/fortigate/grant";
import { preflight } from "../../provider/devices/fortigate/preflight";
import { resetProcessState } from "../../provider/core/process-state";
import { closeAllAgents } from "../../provider/core/transport";
import { grantError as codeOf } from "../support/emulator";

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: (method: string, path: string) => string;
}

const ANSWERS: Record<string, Answer> = {
  "captive portal (HTML 200 to everything)": {
    status: 200,
    contentType: "text/html",
    body: () => "<!DOCTYPE html><html><head><title>Guest Wi-Fi</title></head><body><form>Accept the terms</form></body></html>",
  },
  "web server (HTML 404 to everything)": { status: 404, contentType: "text/html", body: () => "<html><body><h1>404 Not Found</h1></body></html>" },
  "JSON API (generic JSON 404 to everything)": {
    status: 404,
    contentType: "application/json",
    body: () => JSON.stringify({ error: "not found", status: 404 }),
  },
  "FortiOS look-alike 404 naming another table": {
    status: 404,
    contentType: "application/json",
    body: (method) =>
      JSON.stringify({
        http_method: method,
        status: "error",
        http_status: 404,
        vdom: "root",
        path: "system",
        name: "interface",
        serial: "FGVM00",
        version: "v7.2.8",
        build: 1639,
      }),
  },
  "JSON 200 {status: success} to everything": { status: 200, contentType: "application/json", body: () => JSON.stringify({ status: "success" }) },
};

let server: Server;
let url = "";
let answer: Answer = ANSWERS["captive portal (HTML 200 to everything)"]!;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer({ key: testdataFile("server.key"), cert: testdataFile("server.crt") }, (req, res) => {
    req.resume();
    req.on("end", () => {
      seen.push(`${req.method} ${(req.url ?? "").split("?")[0]}`);
      res.writeHead(answer.status, { "content-type": answer.contentType });
      res.end(answer.body(req.method ?? "GET", req.url ?? "/"));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `https://localhost:${(server.address() as AddressInfo).port}`;
});
beforeEach(() => {
  resetProcessState();
  seen.length = 0;
});
afterAll(async () => {
  await closeAllAgents();
  await new Promise<void>((r) => server.close(() => r()));
});

const opts = () => ({ url, token: "impostor-token-0123456789", caCert: testCaCert() });
const state = (over: Partial<FortigateAddressState> = {}): FortigateAddressState => ({
  name: "grant-alice",
  address: "203.0.113.7",
  cidr: "203.0.113.7/32",
  family: "ipv4",
  vdom: "root",
  comment: "",
  adopted: false,
  objectPath: "/api/v2/cmdb/firewall/address/grant-alice",
  ...over,
});

describe.each(Object.keys(ANSWERS))("a server that is not a FortiGate: %s", (kind) => {
  beforeEach(() => {
    answer = ANSWERS[kind]!;
  });

  it("delete fails loudly (202090), with and without a group, and never reports the grant gone", async () => {
    for (const s of [state(), state({ group: "jit-admins", membershipAdded: true, member: true })]) {
      const e = await codeOf(deleteGrant(opts(), s));
      expect(e.code).toBe("202090");
      expect(e.message).not.toContain("impostor-token");
    }
  });

  it("create and read fail (202090): nothing is reported on the device", async () => {
    expect((await codeOf(createGrant(opts(), { name: "grant-alice", address: "203.0.113.7", comment: "" }))).code).toBe("202090");
    expect((await codeOf(createGrant(opts(), { name: "grant-alice", address: "203.0.113.7", comment: "", group: "jit-admins" }))).code).toBe("202090");
    expect((await codeOf(readGrant(opts(), state()))).code).toBe("202090");
  });

  it("preview fails (202090) for a grant without a group and with one", async () => {
    for (const group of [undefined, "jit-admins"]) {
      resetProcessState();
      const c = new FortigateClient(opts());
      const e = await codeOf(preflight(c, url, opts().token, { family: "ipv4", group }));
      expect(e.code).toBe("202090");
    }
  });
});

it("the requests the client sends to such a server are reads and at most one write per step (no retry storm)", async () => {
  answer = ANSWERS["web server (HTML 404 to everything)"]!;
  await codeOf(deleteGrant(opts(), state({ group: "jit-admins" })));
  // The group read before removing the membership gets a 404 that is not FortiOS's: stop there.
  expect(seen).toEqual(["GET /api/v2/cmdb/firewall/addrgrp/jit-admins"]);
  seen.length = 0;
  await codeOf(deleteGrant(opts(), state()));
  // DELETE answered by a non-FortiOS 404, then the read-back that cannot prove it gone either.
  expect(seen).toEqual(["DELETE /api/v2/cmdb/firewall/address/grant-alice", "GET /api/v2/cmdb/firewall/address/grant-alice"]);
});

it("a URL with user info is refused before any request, without repeating it", () => {
  let message = "";
  try {
    new FortigateClient({ url: "https://admin:hunter2-secret@localhost:1", token: "t-0123456789" });
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toContain("must not contain user info");
  expect(message).not.toContain("hunter2-secret");
});

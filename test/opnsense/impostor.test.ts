/**
 * Issue 9: a server that is not an OPNsense (a captive portal answering HTML 200 to everything, a web
 * server's 404 page, a JSON API answering `{"status":"ok"}` to everything) never makes a grant operation
 * report success: preview, create, refresh and delete all fail with a diagnosis, and the state is kept.
 */
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { testCaCert, testdataFile } from "../../emulators/kit";
import { isGrantError } from "../../provider/core/errors";
import { opnsenseAliasEntryProvider as provider, type AliasEntryInputs, type AliasEntryOutputs } from "../../provider/devices/opnsense/resource";
import { resetProcessState } from "../../provider/core/process-state";
import { closeAllAgents } from "../../provider/core/transport";

const ANSWERS: Record<string, { status: number; contentType: string; body: string }> = {
  "captive portal (HTML 200 to everything)": {
    status: 200,
    contentType: "text/html",
    body: "<!DOCTYPE html><html><body><form>Accept the terms</form></body></html>",
  },
  "web server (HTML 404 to everything)": { status: 404, contentType: "text/html", body: "<html><body><h1>404 Not Found</h1></body></html>" },
  'JSON API ({"status":"ok"} to everything)': { status: 200, contentType: "application/json", body: JSON.stringify({ status: "ok", result: "done" }) },
};

let server: Server;
let url = "";
let answer = ANSWERS["captive portal (HTML 200 to everything)"]!;

beforeAll(async () => {
  server = createServer({ key: testdataFile("server.key"), cert: testdataFile("server.crt") }, (req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(answer.status, { "content-type": answer.contentType });
      res.end(answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `https://localhost:${(server.address() as AddressInfo).port}`;
});
beforeEach(() => resetProcessState());
afterAll(async () => {
  await closeAllAgents();
  await new Promise<void>((r) => server.close(() => r()));
});

const inputs = (method: "table" | "config") =>
  ({
    connection: { url, caCert: testCaCert(), timeoutMs: 2000 },
    credentials: { apiKey: "k".repeat(20), apiSecret: "s".repeat(40) },
    alias: "jit_admins",
    address: "203.0.113.7",
    method,
  }) as AliasEntryInputs;
const failure = (p: Promise<unknown>) =>
  p.then(
    () => "succeeded",
    (e: unknown) => (isGrantError(e) ? e.code : `not a diagnosis: ${String(e)}`),
  );

describe.each(Object.keys(ANSWERS))("an OPNsense URL that is really a %s", (name) => {
  beforeEach(() => {
    answer = ANSWERS[name]!;
  });

  it.each(["table", "config"] as const)("method %s: preview, create, refresh and delete all fail with a diagnosis", async (method) => {
    expect(await failure(provider.check({}, inputs(method)))).toMatch(/^OPN\d{3}$/);
    expect(await failure(provider.create({ ...inputs(method), device: { url } } as AliasEntryInputs))).toMatch(/^OPN\d{3}$/);
    // A grant recorded earlier on this URL: refresh and delete must not report it gone.
    const state = {
      ...inputs(method),
      device: { url },
      cidr: "203.0.113.7/32",
      host: "localhost",
      aliasUuid: "9f5c1e7e-0000-4000-8000-000000000001",
      aliasType: "host",
      adopted: false,
    } as AliasEntryOutputs;
    expect(await failure(provider.read("id", state))).toMatch(/^OPN\d{3}$/);
    expect(await failure(provider.delete("id", state))).toMatch(/^OPN\d{3}$/);
  });
});

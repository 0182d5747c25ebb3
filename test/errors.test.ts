/**
 * errors.ts: the library's error classes and their guards. The Pulumi engine can load a second copy of
 * the library (one per serialised provider text), so the guards must recognise errors of another copy:
 * here that copy is a fresh load of the module (jest.isolateModules: its own module instances, as a
 * second copy of the package has). The built package's copy is exercised by the contract tier's
 * serialised-provider round trips.
 */
import * as src from "../provider/core/errors";

let built: typeof src;

beforeAll(() => {
  jest.isolateModules(() => {
    built = require("../provider/core/errors") as typeof src;
  });
});

function grantError(copy: typeof src, cause?: unknown): src.GrantError {
  return new copy.GrantError({
    code: "OPN001",
    message: "OPN001 the API key lacks the privilege",
    host: "fw.example.net",
    title: "Missing privilege",
    cause: "the key's group has no alias privilege",
    fix: ["grant the privilege", "or use another key"],
    operation: "POST /api/firewall/alias_util/add",
    status: 403,
    deviceMessage: "Forbidden",
    error: cause,
  });
}

const transportError = (copy: typeof src) =>
  new copy.TransportError({ kind: "reset", method: "POST", path: "/api/x", host: "fw.example.net", maybeApplied: true, detail: "socket hang up" });
const deviceError = (copy: typeof src) =>
  new copy.DeviceError({
    kind: "refused",
    operation: "add alias entry",
    host: "fw.example.net",
    status: 200,
    deviceCode: -3,
    deviceMessage: "Object does not exist",
  });

describe("the brand across two copies of the module", () => {
  it("the built copy is really a second copy (instanceof does not cross it)", () => {
    expect(built.GrantError).not.toBe(src.GrantError);
    expect(grantError(built) instanceof src.GrantError).toBe(false);
  });

  it.each([
    ["built → source guards", () => built, () => src],
    ["source → built guards", () => src, () => built],
  ])("every guard recognises errors of the other copy (%s)", (_, maker, guards) => {
    const g = guards();
    const m = maker();
    expect(g.isFirewallGrantsError(grantError(m))).toBe(true);
    expect(g.isGrantError(grantError(m))).toBe(true);
    expect(g.isTransportError(transportError(m))).toBe(true);
    expect(g.isDeviceError(deviceError(m))).toBe(true);
  });

  it("guards tell the three kinds apart, in either copy", () => {
    for (const g of [src, built]) {
      expect(g.isGrantError(transportError(built))).toBe(false);
      expect(g.isGrantError(deviceError(src))).toBe(false);
      expect(g.isTransportError(grantError(built))).toBe(false);
      expect(g.isDeviceError(transportError(src))).toBe(false);
    }
  });

  it.each([
    ["a plain Error", new Error("x")],
    ["an Error named GrantError", Object.assign(new Error("x"), { name: "GrantError", code: "OPN001" })],
    ["a look-alike object", { name: "GrantError", code: "OPN001", message: "x" }],
    ["null", null],
    ["a string", "GrantError"],
  ])("does not recognise %s", (_, e) => {
    expect(src.isFirewallGrantsError(e)).toBe(false);
    expect(src.isGrantError(e)).toBe(false);
    expect(built.isGrantError(e)).toBe(false);
  });
});

describe("TransportError", () => {
  it("names the request and host in its message and carries the fields a caller branches on", () => {
    const cause = new Error("ECONNRESET");
    const e = new src.TransportError({
      kind: "http",
      method: "GET",
      path: "/api/firewall/alias/get",
      host: "fw.example.net",
      status: 502,
      bodyExcerpt: "<html>Bad gateway</html>",
      detail: "HTTP 502",
      cause,
    });
    expect(e.message).toBe("GET /api/firewall/alias/get on fw.example.net: HTTP 502");
    expect(e).toMatchObject({
      name: "TransportError",
      kind: "http",
      method: "GET",
      path: "/api/firewall/alias/get",
      host: "fw.example.net",
      status: 502,
      bodyExcerpt: "<html>Bad gateway</html>",
    });
    expect(e.cause).toBe(cause);
    expect(e).toBeInstanceOf(src.FirewallGrantsError);
    expect(e).toBeInstanceOf(Error);
  });

  it("says a request may have been applied only when told so", () => {
    expect(new src.TransportError({ kind: "timeout", method: "POST", path: "/p", host: "h", detail: "timed out" }).maybeApplied).toBe(false);
    expect(transportError(src).maybeApplied).toBe(true);
  });
});

describe("DeviceError", () => {
  it("names the operation and host and keeps the device's own code and message", () => {
    const e = deviceError(src);
    expect(e.message).toBe("add alias entry on fw.example.net: Object does not exist");
    expect(e).toMatchObject({
      name: "DeviceError",
      kind: "refused",
      operation: "add alias entry",
      host: "fw.example.net",
      status: 200,
      deviceCode: -3,
      deviceMessage: "Object does not exist",
    });
  });

  it("leaves status and device code undefined when the device gave none", () => {
    const e = new src.DeviceError({ kind: "schema", operation: "read", host: "h", deviceMessage: "unexpected body" });
    expect(e.kind).toBe("schema");
    expect(e.status).toBeUndefined();
    expect(e.deviceCode).toBeUndefined();
  });
});

describe("GrantError", () => {
  it("carries the diagnosis (code, title, cause text, fix) and keeps the original error as cause", () => {
    const original = deviceError(src);
    const e = grantError(src, original);
    expect(e.message).toBe("OPN001 the API key lacks the privilege");
    expect(e).toMatchObject({
      name: "GrantError",
      code: "OPN001",
      host: "fw.example.net",
      title: "Missing privilege",
      cause_: "the key's group has no alias privilege",
      fix: ["grant the privilege", "or use another key"],
      operation: "POST /api/firewall/alias_util/add",
      status: 403,
      deviceMessage: "Forbidden",
    });
    expect(e.cause).toBe(original);
  });

  it("an error built by the other copy keeps its fields", () => {
    const e: unknown = grantError(built);
    expect(src.isGrantError(e)).toBe(true);
    if (src.isGrantError(e)) {
      expect(e.code).toBe("OPN001");
      expect(e.fix).toEqual(["grant the privilege", "or use another key"]);
    }
  });
});

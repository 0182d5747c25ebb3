/**
 * emulator-kit.ts: what every device emulator gets from the kit — TLS with the shipped test CA, a loud
 * 404 logged as unhandled, the fault plan, the request log and the `/__emulator/` control routes. The
 * device here is a tiny hand-written dispatch, so a failure points at the kit, not at a device model.
 */
import * as http from "node:http";
import * as https from "node:https";
import { startEmulatorServer, testCaCert, type Dispatch, type EmulatorRequest, type EmulatorServer, type LoggedRequest } from "../emulators/kit";

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly contentType: string | undefined;
}

/** One request on its own connection; rejects when the connection is dropped. */
function call(base: string, method: string, pathAndQuery: string, body?: string, ca?: string): Promise<Answer> {
  const url = `${base}${pathAndQuery}`;
  const mod = url.startsWith("https:") ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method, agent: false, ...(ca !== undefined && { ca }) }, (res) => {
      let data = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (data += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: data, contentType: res.headers["content-type"] }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

const json = (a: Answer) => JSON.parse(a.body) as unknown;

/** A toy device: a list of items, a legacy route answered the device's way but unsupported, and a crash. */
let items: string[] = [];
let resets = 0;
let seen: EmulatorRequest[] = [];
const dispatch: Dispatch = async (req) => {
  seen.push(req);
  if (req.rawPath.startsWith("/api/echo"))
    return { status: 200, json: { rawPath: req.rawPath, rawQuery: req.rawQuery, a: req.query.get("a"), body: req.body }, route: "GET /api/echo" };
  const key = `${req.method} ${req.rawPath}`;
  if (key === "GET /api/items") return { status: 200, json: { items }, route: "list items", user: "alice" };
  if (key === "POST /api/items") {
    items.push((JSON.parse(req.body) as { name: string }).name);
    return { status: 200, json: { result: "saved" }, route: "add item", sideEffect: true, user: "alice" };
  }
  if (req.rawPath.startsWith("/api/legacy")) return { status: 200, json: { status: { code: -6, message: "Invalid url" } }, unhandled: true, user: "bob" };
  if (key === "GET /api/crash") throw new Error("boom");
  return undefined;
};
const hooks = {
  reset: () => {
    items = [];
    resets++;
  },
  control: (req: EmulatorRequest, action: string) => (action === "items" && req.method === "GET" ? { status: 200, json: items } : undefined),
};

let emu: EmulatorServer;
let stderr: jest.SpyInstance;

beforeAll(async () => {
  emu = await startEmulatorServer("toy", { tls: "plain" }, dispatch, hooks);
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => {
  items = [];
  resets = 0;
  seen = [];
  emu.log.clear();
  emu.faults.clear();
  stderr = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
});
afterEach(() => stderr.mockRestore());

const get = (p: string) => call(emu.url, "GET", p);
const add = (name: string) => call(emu.url, "POST", "/api/items", JSON.stringify({ name }));

describe("server", () => {
  it("listens on a free port of localhost and reports its URL", () => {
    expect(emu.port).toBeGreaterThan(0);
    expect(emu.url).toBe(`http://localhost:${emu.port}`);
  });

  it("hands the device the path still percent-encoded, the raw query and the body", async () => {
    const r = await call(emu.url, "POST", "/api/echo%2F..%2Fadmin?a=%20x&b=1", "payload");
    expect(json(r)).toEqual({ rawPath: "/api/echo%2F..%2Fadmin", rawQuery: "a=%20x&b=1", a: " x", body: "payload" });
    expect(emu.log.entries()[0]).toMatchObject({ method: "POST", path: "/api/echo%2F..%2Fadmin", query: "a=%20x&b=1", status: 200 });
  });

  it("answers 500 naming the emulator when the device handler crashes", async () => {
    const r = await get("/api/crash");
    expect(r.status).toBe(500);
    expect(r.body).toContain("emulator toy crashed");
    expect(r.body).toContain("boom");
  });

  // A request whose device handler throws is answered 500 and logged as unhandled, so a suite asserting
  // its request log (or that log.unhandled() is empty) sees the crash.
  it("logs a request whose device handler crashed, as unhandled", async () => {
    expect((await get("/api/crash")).status).toBe(500);
    expect(emu.log.entries()).toEqual([expect.objectContaining({ method: "GET", path: "/api/crash", status: 500, unhandled: true })]);
  });
});

describe("TLS", () => {
  it("serves HTTPS that the shipped test CA verifies for localhost, and an untrusted certificate it does not", async () => {
    const trusted = await startEmulatorServer("toy-tls", {}, dispatch, hooks);
    const untrusted = await startEmulatorServer("toy-untrusted", { tls: "untrusted" }, dispatch, hooks);
    try {
      expect(trusted.url).toBe(`https://localhost:${trusted.port}`);
      expect(trusted.caCert).toBe(testCaCert());
      expect(trusted.caCert).toContain("BEGIN CERTIFICATE");
      const r = await call(trusted.url, "GET", "/api/items", undefined, trusted.caCert);
      expect(r.status).toBe(200);
      await expect(call(untrusted.url, "GET", "/api/items", undefined, untrusted.caCert)).rejects.toMatchObject({
        code: expect.stringMatching(/CERT|SELF_SIGNED/),
      });
    } finally {
      await trusted.close();
      await untrusted.close();
    }
  });
});

describe("unknown routes", () => {
  it("answer a loud 404 naming the route, are logged as unhandled and warned about once", async () => {
    const r = await get("/api/nope?x=1");
    expect(r.status).toBe(404);
    expect(json(r)).toEqual({ error: "toy emulator: unhandled route GET /api/nope" });
    await get("/api/nope");
    expect(emu.log.unhandled()).toHaveLength(2);
    expect(emu.log.unhandled()[0]).toMatchObject({ method: "GET", path: "/api/nope", status: 404, unhandled: true, sideEffect: false });
    const warnings = stderr.mock.calls.map((c) => String(c[0])).filter((s) => s.includes("unhandled route GET /api/nope"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("[toy emulator]");
  });

  it("a device answer marked unhandled keeps the device's body and status, and is logged unhandled with its user", async () => {
    const r = await get("/api/legacy/thing");
    expect(r.status).toBe(200);
    expect(json(r)).toEqual({ status: { code: -6, message: "Invalid url" } });
    expect(emu.log.unhandled()).toEqual([expect.objectContaining({ path: "/api/legacy/thing", status: 200, unhandled: true, user: "bob" })]);
    expect(stderr.mock.calls.map((c) => String(c[0])).join()).toContain("unhandled route GET /api/legacy/thing (answered 200)");
  });

  it("handled routes are not unhandled", async () => {
    await get("/api/items");
    await add("a");
    expect(emu.log.unhandled()).toEqual([]);
  });
});

describe("request log", () => {
  it("records route, user and side effect; sideEffects() keeps only the writes", async () => {
    await get("/api/items");
    await add("a");
    await get("/api/items");
    expect(emu.log.entries().map((e) => [e.seq, e.route, e.user, e.sideEffect])).toEqual([
      [expect.any(Number), "list items", "alice", false],
      [expect.any(Number), "add item", "alice", true],
      [expect.any(Number), "list items", "alice", false],
    ]);
    const seqs = emu.log.entries().map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(emu.log.sideEffects()).toEqual([expect.objectContaining({ method: "POST", path: "/api/items", route: "add item" })]);
  });

  it("count() matches the route name or METHOD path", async () => {
    await get("/api/items");
    await add("a");
    await add("b");
    expect(emu.log.count()).toBe(3);
    expect(emu.log.count("add item")).toBe(2);
    expect(emu.log.count("POST /api/items")).toBe(2);
    expect(emu.log.count("GET /api/items")).toBe(1);
    expect(emu.log.count("DELETE")).toBe(0);
  });
});

describe("fault plan", () => {
  it("status, once: the first matching request gets the status without reaching the device, the next goes through", async () => {
    emu.faults.add({ match: "POST /api/items", kind: "status", status: 503, times: 1 });
    const first = await add("a");
    expect(first.status).toBe(503);
    expect(first.contentType).toContain("text/html");
    expect(items).toEqual([]);
    expect((await add("b")).status).toBe(200);
    expect(items).toEqual(["b"]);
    expect(emu.log.entries().map((e) => [e.status, e.fault])).toEqual([
      [503, "status 503"],
      [200, undefined],
    ]);
  });

  it("always (no times): every matching request is faulted; others are not", async () => {
    emu.faults.add({ match: /^POST /, kind: "status", status: 502 });
    expect((await add("a")).status).toBe(502);
    expect((await add("b")).status).toBe(502);
    expect((await get("/api/items")).status).toBe(200);
    expect(items).toEqual([]);
  });

  it("times bounds a rule to exactly that many requests", async () => {
    emu.faults.add({ match: "/api/items", kind: "status", status: 429, times: 2 });
    const got: number[] = [];
    for (let i = 0; i < 4; i++) got.push((await get("/api/items")).status);
    expect(got).toEqual([429, 429, 200, 200]);
  });

  it("sequence scripts one route: ok, 503, ok", async () => {
    emu.faults.sequence("POST /api/items", ["ok", { kind: "status", status: 503 }, "ok"]);
    const got: number[] = [];
    for (const n of ["a", "b", "c", "d"]) got.push((await add(n)).status);
    expect(got).toEqual([200, 503, 200, 200]);
    expect(items).toEqual(["a", "c", "d"]);
    expect(emu.log.entries().map((e) => e.fault)).toEqual([undefined, "status 503", undefined, undefined]);
  });

  it("reset before: the connection drops and the device never sees the request", async () => {
    emu.faults.add({ match: "POST /api/items", kind: "reset", times: 1 });
    await expect(add("a")).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(items).toEqual([]);
    expect(emu.log.entries()).toEqual([expect.objectContaining({ status: "reset", fault: "reset", sideEffect: false })]);
    expect((await add("b")).status).toBe(200);
  });

  it("reset after: the device applies the request, then the answer is dropped (logged with its side effect)", async () => {
    emu.faults.add({ match: "POST /api/items", kind: "reset", phase: "after", times: 1 });
    await expect(add("a")).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(items).toEqual(["a"]);
    expect(emu.log.entries()).toEqual([expect.objectContaining({ status: "reset", route: "add item", sideEffect: true })]);
    expect(emu.log.sideEffects()).toHaveLength(1);
  });

  it("hang with ms: no answer, the socket is dropped later, the device is not called", async () => {
    emu.faults.add({ match: "GET /api/items", kind: "hang", ms: 20, times: 1 });
    await expect(get("/api/items")).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(seen).toEqual([]);
    expect(emu.log.entries()).toEqual([expect.objectContaining({ status: "hang", fault: "hang" })]);
    expect((await get("/api/items")).status).toBe(200);
  });

  it("hang without ms never answers, and close() still ends the server", async () => {
    const own = await startEmulatorServer("toy-hang", { tls: "plain" }, dispatch, hooks);
    own.faults.add({ kind: "hang" });
    const pending = call(own.url, "GET", "/api/items");
    pending.catch(() => undefined);
    while (own.log.entries().length === 0) await new Promise((r) => setImmediate(r));
    expect(own.log.entries()[0]!.status).toBe("hang");
    await own.close();
    await expect(pending).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(seen).toEqual([]);
  });

  it("latency: the device still answers and the fault is named in the log", async () => {
    emu.faults.add({ match: "GET /api/items", kind: "latency", ms: 5, times: 1 });
    expect((await get("/api/items")).status).toBe(200);
    expect(emu.log.entries()[0]!.fault).toBe("latency");
  });

  it("reply: answers what the function returns instead of calling the device", async () => {
    emu.faults.add({
      match: "/api/items",
      kind: "reply",
      reply: (req) => ({ status: 502, text: `proxy error for ${req.method}`, contentType: "text/plain" }),
      times: 1,
    });
    const r = await add("a");
    expect(r).toMatchObject({ status: 502, body: "proxy error for POST" });
    expect(items).toEqual([]);
  });

  it("the first matching rule wins", async () => {
    emu.faults.add({ match: "/api/items", kind: "status", status: 500, times: 1 }).add({ match: "/api/items", kind: "status", status: 501, times: 1 });
    expect((await get("/api/items")).status).toBe(500);
    expect((await get("/api/items")).status).toBe(501);
    expect((await get("/api/items")).status).toBe(200);
  });

  it("a probability fault repeats its pattern for the same seed", async () => {
    const run = async () => {
      emu.faults.clear();
      emu.faults.setSeed(7);
      emu.faults.add({ match: "GET /api/items", kind: "status", status: 503, probability: 0.5 });
      const got: number[] = [];
      for (let i = 0; i < 16; i++) got.push((await get("/api/items")).status);
      return got;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a).toContain(503);
    expect(a).toContain(200);
  });

  it("servers started with the same faultSeed fault the same requests", async () => {
    const pattern = async (seed: number) => {
      const own = await startEmulatorServer("toy-seed", { tls: "plain", faultSeed: seed }, dispatch, hooks);
      try {
        own.faults.add({ kind: "status", status: 503, probability: 0.5 });
        const got: number[] = [];
        for (let i = 0; i < 16; i++) got.push((await call(own.url, "GET", "/api/items")).status);
        return got;
      } finally {
        await own.close();
      }
    };
    expect(await pattern(99)).toEqual(await pattern(99));
  });
});

describe("control routes", () => {
  it("GET /__emulator/log returns the log, which never contains control requests", async () => {
    await add("a");
    await get("/api/nope");
    const r = await get("/__emulator/log");
    expect(r.status).toBe(200);
    const log = json(r) as LoggedRequest[];
    expect(log.map((e) => [e.method, e.path, e.status, e.unhandled])).toEqual([
      ["POST", "/api/items", 200, false],
      ["GET", "/api/nope", 404, true],
    ]);
    expect(emu.log.entries().some((e) => e.path.startsWith("/__emulator"))).toBe(false);
  });

  it("DELETE /__emulator/log empties the log and keeps the faults", async () => {
    emu.faults.add({ match: "POST", kind: "status", status: 503 });
    await get("/api/items");
    expect((await call(emu.url, "DELETE", "/__emulator/log")).status).toBe(200);
    expect(emu.log.entries()).toEqual([]);
    expect((await add("a")).status).toBe(503);
  });

  it("POST /__emulator/faults adds a rule from JSON, a regex included; DELETE removes them all", async () => {
    const rule = { kind: "status", status: 429, regex: "^POST /api/items$", times: 1 };
    expect((await call(emu.url, "POST", "/__emulator/faults", JSON.stringify(rule))).status).toBe(200);
    expect((await get("/api/items")).status).toBe(200);
    expect((await add("a")).status).toBe(429);
    expect((await add("b")).status).toBe(200);

    await call(emu.url, "POST", "/__emulator/faults", JSON.stringify({ kind: "status", status: 500 }));
    expect((await get("/api/items")).status).toBe(500);
    expect((await call(emu.url, "DELETE", "/__emulator/faults")).status).toBe(200);
    expect((await get("/api/items")).status).toBe(200);
  });

  it("a fault that matches every request does not block the control routes", async () => {
    emu.faults.add({ kind: "status", status: 503 });
    expect((await get("/__emulator/log")).status).toBe(200);
    expect((await call(emu.url, "DELETE", "/__emulator/faults")).status).toBe(200);
    expect((await get("/api/items")).status).toBe(200);
  });

  it("POST /__emulator/reset restores the device and clears the log and the faults", async () => {
    await add("a");
    emu.faults.add({ kind: "status", status: 503 });
    expect((await call(emu.url, "POST", "/__emulator/reset")).status).toBe(200);
    expect(resets).toBe(1);
    expect(items).toEqual([]);
    expect(emu.log.entries()).toEqual([]);
    expect((await get("/api/items")).status).toBe(200);
  });

  it("hands other actions to the device's control hook, and answers 404 for ones nobody knows", async () => {
    await add("a");
    const r = await get("/__emulator/items");
    expect(json(r)).toEqual(["a"]);
    const unknown = await call(emu.url, "POST", "/__emulator/nonsense");
    expect(unknown.status).toBe(404);
    expect(json(unknown)).toEqual({ error: "toy emulator: unknown control route POST /__emulator/nonsense" });
    expect((await call(emu.url, "GET", "/__emulator/reset")).status).toBe(404);
  });
});

import { startEmulatorServer, type EmulatorServer } from "../emulators/kit";
import { applyVerified, closeAllAgents, devicePath, Transport } from "../provider/core/transport";
import { isTransportError, type TransportError } from "../provider/core/errors";
import { z } from "zod";

/** A tiny device: GET /thing answers {"n":count}; POST /thing increments it; /secret echoes a secret. */
async function startCounter(tls: "test-ca" | "untrusted" = "test-ca"): Promise<EmulatorServer & { count: () => number }> {
  let n = 0;
  const emu = await startEmulatorServer(
    "counter",
    { tls },
    (req) => {
      if (req.rawPath === "/thing" && req.method === "GET") return { status: 200, json: { n } };
      if (req.rawPath === "/thing" && req.method === "POST") {
        n++;
        return { status: 200, json: { n }, sideEffect: true };
      }
      if (req.rawPath === "/secret") return { status: 500, json: { error: "bad token s3cr3t-T0KEN-value" } };
      if (req.rawPath === "/status") return { status: Number(req.query.get("s")), json: {} };
      return undefined;
    },
    { reset: () => (n = 0) },
  );
  return Object.assign(emu, { count: () => n });
}

async function failure(p: Promise<unknown>): Promise<TransportError> {
  try {
    await p;
  } catch (e) {
    if (isTransportError(e)) return e;
    throw e;
  }
  throw new Error("expected a TransportError");
}

describe("transport", () => {
  let emu: Awaited<ReturnType<typeof startCounter>>;
  let t: Transport;
  beforeAll(async () => {
    emu = await startCounter();
    t = new Transport({ baseUrl: emu.url, caCert: emu.caCert, timeoutMs: 400, retryDelayMs: 5, secrets: ["s3cr3t-T0KEN-value"] });
  });
  afterAll(async () => {
    await closeAllAgents();
    await emu.close();
  });
  beforeEach(() => {
    emu.faults.clear();
    emu.log.clear();
  });

  it("verifies TLS against the CA it is given and parses JSON with a schema", async () => {
    await expect(t.json({ method: "GET", path: "/thing", idempotent: true }, z.object({ n: z.number() }))).resolves.toEqual({ n: expect.any(Number) });
  });

  it("retries a safe request through reset, 503 and 502, then succeeds", async () => {
    emu.faults.sequence("GET /thing", [{ kind: "reset" }, { kind: "status", status: 503 }, { kind: "status", status: 502 }]);
    const res = await t.send({ method: "GET", path: "/thing", idempotent: true });
    expect(res.status).toBe(200);
    expect(emu.log.count("GET /thing")).toBe(4);
  });

  it("retries a safe request that timed out", async () => {
    emu.faults.add({ match: "GET /thing", kind: "hang", times: 1 });
    const res = await t.send({ method: "GET", path: "/thing", idempotent: true });
    expect(res.status).toBe(200);
    expect(emu.log.count("GET /thing")).toBe(2);
  });

  it("never repeats a write that is not idempotent", async () => {
    emu.faults.add({ match: "POST /thing", kind: "status", status: 503, times: 1 });
    const res = await t.send({ method: "POST", path: "/thing", idempotent: false });
    expect(res.status).toBe(503);
    expect(emu.log.count("POST /thing")).toBe(1);
  });

  it("sends no retry after the request's notAfter (a body valid only until then), and answers what came", async () => {
    emu.faults.add({ match: "POST /thing", kind: "status", status: 503, times: 1 });
    const res = await t.send({ method: "POST", path: "/thing", idempotent: true, notAfter: Date.now() - 1 });
    expect(res.status).toBe(503);
    expect(emu.log.count("POST /thing")).toBe(1);
    emu.faults.add({ match: "POST /thing", kind: "reset", times: 1 });
    await expect(t.send({ method: "POST", path: "/thing", idempotent: true, notAfter: Date.now() - 1 })).rejects.toMatchObject({ kind: "reset" });
    expect(emu.log.count("POST /thing")).toBe(2);
  });

  it.each([401, 403, 429])("never retries HTTP %d (repeated failures lock FortiOS clients out)", async (status) => {
    emu.faults.add({ match: "GET /thing", kind: "status", status, times: 5 });
    const res = await t.send({ method: "GET", path: "/thing", idempotent: true });
    expect(res.status).toBe(status);
    expect(emu.log.count("GET /thing")).toBe(1);
  });

  it("reports a hang as a timeout after the deadline, and a lost write as maybe applied", async () => {
    emu.faults.add({ match: "POST /thing", kind: "hang" });
    const e = await failure(t.send({ method: "POST", path: "/thing", idempotent: false }));
    expect(e.kind).toBe("timeout");
    expect(e.maybeApplied).toBe(true);
    expect(e.message).toContain("400 ms");
  });

  it("settles a write whose answer was lost by reading back instead of writing twice", async () => {
    const before = emu.count();
    emu.faults.add({ match: "POST /thing", kind: "reset", phase: "after", times: 1 });
    const result = await applyVerified(
      () => t.send({ method: "POST", path: "/thing", idempotent: false }),
      async () => (await t.json({ method: "GET", path: "/thing", idempotent: true }, z.object({ n: z.number() }))).n === before + 1,
      { retryDelayMs: 5 },
    );
    expect(result).toBe("verified");
    expect(emu.count()).toBe(before + 1);
  });

  it("classifies a refused connection, a DNS failure and an untrusted certificate", async () => {
    const closed = await startCounter();
    const port = closed.port;
    await closed.close();
    expect((await failure(new Transport({ baseUrl: `https://127.0.0.1:${port}` }).send({ method: "GET", path: "/", idempotent: true }))).kind).toBe("refused");
    expect((await failure(new Transport({ baseUrl: "https://fw.does-not-exist.invalid" }).send({ method: "GET", path: "/", idempotent: true }))).kind).toBe(
      "dns",
    );
    const untrusted = await startCounter("untrusted");
    try {
      const e = await failure(new Transport({ baseUrl: untrusted.url, caCert: untrusted.caCert }).send({ method: "GET", path: "/thing", idempotent: true }));
      expect(e.kind).toBe("tls");
      const insecure = await new Transport({ baseUrl: untrusted.url, insecure: true }).send({ method: "GET", path: "/thing", idempotent: true });
      expect(insecure.status).toBe(200);
    } finally {
      await untrusted.close();
    }
  });

  it("verifies TLS by default: without the test CA the emulator is not trusted", async () => {
    const e = await failure(new Transport({ baseUrl: emu.url }).send({ method: "GET", path: "/thing", idempotent: true }));
    expect(e.kind).toBe("tls");
  });

  it("keeps secrets out of error body excerpts", async () => {
    const res = await t.send({ method: "GET", path: "/secret", idempotent: true });
    const e = t.httpError({ method: "GET", path: "/secret", idempotent: true }, res);
    expect(e.bodyExcerpt).toContain("[redacted]");
    expect(`${e.message} ${e.bodyExcerpt}`).not.toContain("s3cr3t-T0KEN-value");
  });

  it("encodes user-supplied path segments so they cannot address another endpoint", () => {
    expect(devicePath("/api/v2/cmdb/firewall/address/", "../../monitor/x")).toBe("/api/v2/cmdb/firewall/address/..%2F..%2Fmonitor%2Fx");
    expect(devicePath("/api/firewall/alias_util/add", "a?b#c")).toBe("/api/firewall/alias_util/add/a%3Fb%23c");
  });
});

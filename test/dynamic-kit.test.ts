/**
 * dynamic-kit.ts: the glue every resource shares with Pulumi's dynamic-provider host — unknown values
 * in preview, zod issues as CheckFailures (never naming a secret field), stack config, secret outputs,
 * and the engine watch. The serialised provider shim, which runs from the built package, is in
 * test/provider-shim.test.ts (contract tier).
 */
import { z } from "zod";
import { createServer as createHttpServer } from "node:http";
import { createServer, type AddressInfo, type Socket } from "node:net";
import {
  booleanSetting,
  checkFailures,
  configureFromStack,
  ENGINE_GONE,
  hasUnknown,
  inputIssueMessage,
  RESTORE_GRACE_MS,
  setting,
  UNKNOWN,
  watchEngine,
  withSecretOutputs,
} from "../provider/core/dynamic-kit";
import { closeAllAgents, Transport } from "../provider/core/transport";
import { stackConfigKeys } from "../provider/device-settings";
import { processState, resetProcessState, restoring } from "../provider/core/process-state";
import { booleanSetting as settingsBoolean } from "../provider/core/settings";

afterEach(() => resetProcessState());

describe("hasUnknown", () => {
  it.each([
    ["the value itself", UNKNOWN],
    ["a field", { address: UNKNOWN }],
    ["an array element", ["192.0.2.1", UNKNOWN]],
    ["a nested object", { connection: { url: "https://fw", tls: { caCert: UNKNOWN } } }],
    ["an object in an array in an object", { rules: [{ port: 443 }, { port: UNKNOWN }] }],
  ])("finds an unknown in %s", (_, v) => {
    expect(hasUnknown(v)).toBe(true);
  });

  it.each([
    ["a known string", "203.0.113.7"],
    ["a string that merely contains the marker", `x${UNKNOWN}`],
    ["null", null],
    ["undefined", undefined],
    ["a number", 0],
    ["a fully known nested object", { connection: { url: "https://fw" }, tags: ["a", "b"], n: 1, ok: false }],
    ["an empty array", []],
  ])("is false for %s", (_, v) => {
    expect(hasUnknown(v)).toBe(false);
  });
});

describe("checkFailures", () => {
  const SECRET = "s3cr3t-value-never-printed";
  const schema = z.object({
    credentials: z.object({ token: z.string().min(40) }),
    connection: z.object({ url: z.string().url() }),
    rules: z.array(z.object({ port: z.number().int() })),
    address: z.string(),
  });

  function failuresFor(input: unknown, secretFields?: readonly string[]) {
    const r = schema.safeParse(input);
    if (r.success) throw new Error("expected the schema to refuse the input");
    return secretFields ? checkFailures(r.error, secretFields) : checkFailures(r.error);
  }

  it('reports a failure inside credentials with property "" and never the secret value', () => {
    const f = failuresFor({ credentials: { token: SECRET }, connection: { url: "https://fw.example.net" }, rules: [], address: "192.0.2.1" });
    expect(f).toHaveLength(1);
    expect(f[0]!.property).toBe("");
    expect(f[0]!.reason).toMatch(/^credentials\.token: /);
    expect(JSON.stringify(f)).not.toContain(SECRET);
  });

  it("keeps the dotted path, array indexes included, for fields that are not secret", () => {
    const f = failuresFor({ credentials: { token: "x".repeat(40) }, connection: { url: "not a url" }, rules: [{ port: 1 }, { port: 1.5 }], address: 7 });
    const props = f.map((x) => x.property).sort();
    expect(props).toEqual(["address", "connection.url", "rules.1.port"]);
    for (const x of f) expect(x.reason.startsWith(`${x.property}: `)).toBe(true);
  });

  it("treats the fields the caller names as secret, and only those", () => {
    const f = failuresFor({ credentials: { token: "short" }, connection: { url: "nope" }, rules: [], address: "a" }, ["connection"]);
    expect(f.find((x) => x.reason.startsWith("connection.url"))!.property).toBe("");
    expect(f.find((x) => x.reason.startsWith("credentials.token"))!.property).toBe("credentials.token");
  });

  it("gives a root-level issue an empty property and the bare message", () => {
    const r = z
      .object({ a: z.string() })
      .refine(() => false, "needs b")
      .safeParse({ a: "x" });
    if (r.success) throw new Error("expected a failure");
    const [f] = checkFailures(r.error);
    expect(f!.property).toBe("");
    expect(f!.reason).toBe("needs b");
  });

  it("names each unknown field under its own name (issue 18: not under the object holding it), and never inside a secret field", () => {
    const r = z
      .object({ a: z.string(), credentials: z.object({ token: z.string() }).strict() })
      .strict()
      .safeParse({ a: "x", extra: 1, other: 2, credentials: { token: "t", tokn: SECRET } });
    if (r.success) throw new Error("expected a failure");
    const f = checkFailures(r.error);
    expect(f.map((x) => x.property).sort()).toEqual(["", "extra", "other"]);
    expect(f.find((x) => x.property === "extra")!.reason).toMatch(/^extra: is not an input of this resource/);
    expect(f.find((x) => x.property === "")!.reason).toMatch(/^credentials\.tokn: /);
    expect(JSON.stringify(f)).not.toContain(SECRET);
  });

  it("inputIssueMessage words zod's generic issues as rules, naming the kind given but never the value", () => {
    const schema = z
      .object({
        n: z.number().int().optional(),
        b: z.boolean().optional(),
        m: z.enum(["table", "config"]).optional(),
        e: z.array(z.union([z.string(), z.object({ address: z.string() }).strict()])).optional(),
        s: z.string(),
      })
      .strict();
    const reasons = (v: unknown) => {
      const r = schema.safeParse(v, { error: inputIssueMessage });
      return r.success ? [] : checkFailures(r.error).map((f) => f.reason);
    };
    expect(reasons({ s: "x", n: 1.5 })).toEqual(["n: must be a whole number, not a fraction"]);
    expect(reasons({ s: "x", b: SECRET })).toEqual(["b: must be true or false, not a string"]);
    expect(reasons({ s: "x", m: SECRET })).toEqual(['m: must be one of "table", "config"']);
    expect(reasons({ s: "x", e: [5] })).toEqual(["e.0: must be a string or an object, not a number"]);
    expect(reasons({ s: "x", e: [{}] })).toEqual(["e.0: address: is required (a string)"]);
    expect(reasons({})).toEqual(["s: is required (a string)"]);
    for (const v of [{ s: 5 }, { s: "x", e: [{ address: 1, zz: 2 }] }]) for (const r of reasons(v)) expect(r).not.toMatch(/Invalid|Unrecognized/);
  });
});

describe("configureFromStack and setting", () => {
  const ENV = ["OPNSENSE_URL", "FORTIGATE_VDOM"];
  const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
  afterEach(() => {
    for (const k of ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  const stack = (values: Record<string, string>) => ({ config: { get: (k: string) => values[k] } });

  it("keeps every registered device key the engine hands over and drops the rest", async () => {
    const keys = stackConfigKeys();
    expect(keys).toEqual(expect.arrayContaining(["opnsense:url", "opnsense:apiSecret", "fortigate:token", "fortimanager:password"]));
    await configureFromStack(stack({ "opnsense:url": "https://opn.example.net", "fortigate:token": "tok", "opnsense:bogus": "x", "aws:region": "eu-west-1" }));
    expect(processState().config).toEqual({ "opnsense:url": "https://opn.example.net", "fortigate:token": "tok" });
  });

  it("replaces the config of an earlier configure instead of merging it", async () => {
    await configureFromStack(stack({ "opnsense:url": "https://old.example.net" }));
    await configureFromStack(stack({ "fortigate:vdom": "dmz" }));
    expect(processState().config).toEqual({ "fortigate:vdom": "dmz" });
  });

  it("copies the keys a caller lists (a device registered by a test)", async () => {
    await configureFromStack(stack({ "pfsense:url": "https://pf.example.net", "opnsense:url": "https://opn" }), ["pfsense:url"]);
    expect(processState().config).toEqual({ "pfsense:url": "https://pf.example.net" });
  });

  it("lets setting() read stack config below an inline value and above the environment", async () => {
    process.env.OPNSENSE_URL = "https://from-env.example.net";
    expect(setting("opnsense", "url", undefined)).toBe("https://from-env.example.net");
    await configureFromStack(stack({ "opnsense:url": "https://from-config.example.net" }));
    expect(setting("opnsense", "url", undefined)).toBe("https://from-config.example.net");
    expect(setting("opnsense", "url", "https://inline.example.net")).toBe("https://inline.example.net");
  });

  it("re-exports the settings module's boolean parser", () => {
    expect(booleanSetting).toBe(settingsBoolean);
    expect(booleanSetting("true")).toBe(true);
    expect(booleanSetting("false")).toBe(false);
  });
});

describe("withSecretOutputs", () => {
  it("appends to the caller's additionalSecretOutputs and keeps their other options", () => {
    const opts = { protect: true, additionalSecretOutputs: ["apiKey"] };
    expect(withSecretOutputs(opts, ["credentials"])).toEqual({ protect: true, additionalSecretOutputs: ["apiKey", "credentials"] });
    expect(opts.additionalSecretOutputs).toEqual(["apiKey"]);
  });

  it("works without options", () => {
    expect(withSecretOutputs(undefined, ["credentials"])).toEqual({ additionalSecretOutputs: ["credentials"] });
  });
});

describe("watchEngine: a killed engine stops this process's device requests (issue 18 item 4)", () => {
  /** A stand-in for the engine's gRPC port: accepts and holds connections until `kill()`. */
  async function engine(dropIdleAfterMs?: number) {
    const sockets = new Set<Socket>();
    let connections = 0;
    const server = createServer((sock) => {
      connections++;
      sockets.add(sock);
      sock.on("close", () => sockets.delete(sock));
      sock.on("error", () => undefined);
      if (dropIdleAfterMs !== undefined) setTimeout(() => sock.destroy(), dropIdleAfterMs);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    return {
      address: `127.0.0.1:${port}`,
      connections: () => connections,
      // What SIGKILL of the CLI does to its sockets: the listener and every connection close at once.
      kill: () => new Promise<void>((r) => (server.close(() => r()), sockets.forEach((x) => x.destroy()))),
    };
  }

  /** A device that counts the requests it received. */
  async function device() {
    let requests = 0;
    const server = createHttpServer((req, res) => (requests++, req.resume(), res.end("{}")));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const t = new Transport({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, maxRetries: 0 });
    return { t, requests: () => requests, close: () => new Promise<void>((r) => server.close(() => r())) };
  }

  const until = async (cond: () => boolean, ms: number) => {
    const end = Date.now() + ms;
    while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return cond();
  };

  afterEach(() => closeAllAgents());

  it("after the engine's port closes, the flag is set within 1 s, the process exits, and no request reaches the device", async () => {
    const e = await engine();
    const d = await device();
    let exitedAt: number | undefined;
    const w = watchEngine({ address: e.address, exit: () => (exitedAt = Date.now()) });
    try {
      expect(await until(() => e.connections() > 0, 2000)).toBe(true);
      await d.t.send({ method: "POST", path: "/api/write", body: {}, idempotent: false });
      expect(d.requests()).toBe(1);

      const killedAt = Date.now();
      await e.kill();
      expect(await until(() => exitedAt !== undefined, 1000)).toBe(true);
      expect(processState().engineGone).toBe(ENGINE_GONE);
      for (const method of ["POST", "PUT", "DELETE", "GET"] as const) {
        await expect(d.t.send({ method, path: "/api/write", idempotent: method === "GET" })).rejects.toThrow(/not sent, the Pulumi engine .* is gone/);
      }
      expect({ requestsAfterKill: d.requests() - 1, exitedWithin1s: exitedAt! - killedAt < 1000 }).toEqual({ requestsAfterKill: 0, exitedWithin1s: true });
    } finally {
      w.stop();
      await d.close();
    }
  });

  it("a take-back under way when the engine goes (a set change cut short) still reaches the device, and the process exits after it", async () => {
    const e = await engine();
    const d = await device();
    let exitedAt: number | undefined;
    const w = watchEngine({ address: e.address, exit: () => (exitedAt = Date.now()) });
    try {
      expect(await until(() => e.connections() > 0, 2000)).toBe(true);
      let restoredAt: number | undefined;
      const takeBack = restoring(async () => {
        await until(() => processState().engineGone !== undefined, 2000);
        await d.t.send({ method: "DELETE", path: "/api/added", idempotent: false });
        restoredAt = Date.now();
      });
      await e.kill();
      await takeBack;
      expect(await until(() => exitedAt !== undefined, RESTORE_GRACE_MS)).toBe(true);
      await expect(d.t.send({ method: "POST", path: "/api/write", body: {}, idempotent: false })).rejects.toThrow(/not sent/);
      expect({ requests: d.requests(), exitAfterTakeBack: exitedAt! >= restoredAt! }).toEqual({ requests: 1, exitAfterTakeBack: true });
    } finally {
      w.stop();
      await d.close();
    }
  });

  it("a live engine that drops the idle connection is not taken for a dead one", async () => {
    const e = await engine(30);
    let exited = false;
    const w = watchEngine({ address: e.address, exit: () => (exited = true), retryMs: 20 });
    try {
      expect(await until(() => e.connections() >= 3, 3000)).toBe(true);
      expect({ exited, engineGone: processState().engineGone }).toEqual({ exited: false, engineGone: undefined });
    } finally {
      w.stop();
      await e.kill();
    }
  });
});

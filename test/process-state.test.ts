/**
 * process-state.ts: state every copy of the library shares inside one provider process — credential
 * fingerprints, the probe cache, per-key queues and shared objects. The second copy is a fresh load of
 * the module (jest.isolateModules: its own module instances, as a second copy of the package has).
 */
import { GrantError } from "../provider/core/errors";
import * as src from "../provider/core/process-state";
import { cachedProbe, fingerprint, processState, resetProcessState, runQueued, shared } from "../provider/core/process-state";

/** A promise settled from outside, so that order is asserted without timers. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued promise callback run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

const diagnosed = () => new GrantError({ code: "OPN001", message: "OPN001 no privilege", host: "fw", title: "t", cause: "c", fix: ["f"] });

afterEach(() => resetProcessState());

describe("fingerprint", () => {
  it("is a fixed-length hex digest that does not contain its input", () => {
    const secret = "api-secret-0123456789abcdef";
    const f = fingerprint("https://fw.example.net", "key", secret);
    expect(f).toMatch(/^[0-9a-f]{24}$/);
    expect(f).not.toContain(secret);
    expect(fingerprint("x".repeat(10_000))).toMatch(/^[0-9a-f]{24}$/);
  });

  it("is stable for the same parts", () => {
    expect(fingerprint("a", "bc")).toBe(fingerprint("a", "bc"));
  });

  it("tells the part boundary apart", () => {
    expect(fingerprint("a", "bc")).not.toBe(fingerprint("ab", "c"));
    expect(fingerprint("abc")).not.toBe(fingerprint("a", "bc"));
    expect(fingerprint("a", "b")).not.toBe(fingerprint("b", "a"));
  });

  it("differs when any one part differs (another secret is another cache key)", () => {
    expect(fingerprint("https://fw", "key", "secret-1")).not.toBe(fingerprint("https://fw", "key", "secret-2"));
  });
});

describe("cachedProbe", () => {
  it("runs the probe once for concurrent callers of one key", async () => {
    const gate = deferred();
    const probe = jest.fn(() => gate.promise);
    const a = cachedProbe("k", probe);
    const b = cachedProbe("k", probe);
    gate.resolve();
    await Promise.all([a, b]);
    expect(probe).toHaveBeenCalledTimes(1);
  });

  it("keeps a success for later callers", async () => {
    const probe = jest.fn(async () => undefined);
    await cachedProbe("k", probe);
    await cachedProbe("k", probe);
    expect(probe).toHaveBeenCalledTimes(1);
  });

  it("keeps a diagnosed failure (GrantError): later callers get it without probing again", async () => {
    const err = diagnosed();
    const probe = jest.fn(async () => {
      throw err;
    });
    await expect(cachedProbe("k", probe)).rejects.toBe(err);
    await settle();
    await expect(cachedProbe("k", probe)).rejects.toBe(err);
    expect(probe).toHaveBeenCalledTimes(1);
  });

  it("forgets an undiagnosed failure: the next caller probes again", async () => {
    const probe = jest.fn<Promise<void>, []>().mockRejectedValueOnce(new TypeError("fetch failed")).mockResolvedValueOnce(undefined);
    await expect(cachedProbe("k", probe)).rejects.toThrow("fetch failed");
    await settle();
    await expect(cachedProbe("k", probe)).resolves.toBeUndefined();
    expect(probe).toHaveBeenCalledTimes(2);
  });

  it("keeps keys apart", async () => {
    const probe = jest.fn(async () => undefined);
    await cachedProbe("device-a", probe);
    await cachedProbe("device-b", probe);
    expect(probe).toHaveBeenCalledTimes(2);
  });
});

describe("runQueued", () => {
  it("runs calls of one key one after another, in call order", async () => {
    const events: string[] = [];
    const first = deferred();
    const p1 = runQueued("alias", async () => {
      events.push("1 start");
      await first.promise;
      events.push("1 end");
      return 1;
    });
    const p2 = runQueued("alias", async () => {
      events.push("2 start");
      return 2;
    });
    const p3 = runQueued("alias", async () => {
      events.push("3 start");
      return 3;
    });
    await settle();
    expect(events).toEqual(["1 start"]);
    first.resolve();
    expect(await Promise.all([p1, p2, p3])).toEqual([1, 2, 3]);
    expect(events).toEqual(["1 start", "1 end", "2 start", "3 start"]);
  });

  it("goes on after a failed call, and gives the failure only to its own caller", async () => {
    const failing = runQueued("alias", async () => {
      throw new Error("device said no");
    });
    const next = runQueued("alias", async () => "ran");
    await expect(failing).rejects.toThrow("device said no");
    await expect(next).resolves.toBe("ran");
  });

  it("does not make one key wait for another", async () => {
    const blockA = deferred();
    const a = runQueued("alias-a", () => blockA.promise.then(() => "a"));
    const b = runQueued("alias-b", async () => "b");
    await expect(b).resolves.toBe("b");
    blockA.resolve();
    await expect(a).resolves.toBe("a");
  });
});

describe("shared", () => {
  it("returns the same object on every call and creates it once", () => {
    const create = jest.fn(() => ({ sessions: new Map() }));
    const a = shared("fortimanager.sessions", create);
    const b = shared("fortimanager.sessions", create);
    expect(b).toBe(a);
    expect(create).toHaveBeenCalledTimes(1);
  });

  it("keeps keys apart", () => {
    expect(shared("one", () => ({}))).not.toBe(shared("two", () => ({})));
  });
});

describe("resetProcessState", () => {
  it("forgets probes, shared objects and stack config", async () => {
    const probe = jest.fn(async () => undefined);
    await cachedProbe("k", probe);
    const before = shared("s", () => ({}));
    processState().config = { "opnsense:url": "https://fw" };

    resetProcessState();

    await cachedProbe("k", probe);
    expect(probe).toHaveBeenCalledTimes(2);
    expect(shared("s", () => ({}))).not.toBe(before);
    expect(processState().config).toEqual({});
  });
});

describe("a second copy of the library in the same process", () => {
  let built: typeof src;
  beforeAll(() => {
    jest.isolateModules(() => {
      built = require("../provider/core/process-state") as typeof src;
    });
  });

  it("is really another copy", () => {
    expect(built.processState).not.toBe(processState);
  });

  it("sees the same state: shared objects, probes, config and fingerprints", async () => {
    const obj = shared("batcher", () => ({ id: 1 }));
    expect(built.shared("batcher", () => ({ id: 2 }))).toBe(obj);

    const probe = jest.fn(async () => undefined);
    await cachedProbe("k", probe);
    await built.cachedProbe("k", probe);
    expect(probe).toHaveBeenCalledTimes(1);

    processState().config = { "fortigate:vdom": "dmz" };
    expect(built.processState().config).toEqual({ "fortigate:vdom": "dmz" });

    expect(built.fingerprint("a", "bc")).toBe(fingerprint("a", "bc"));
  });

  it("queues behind calls made through the other copy", async () => {
    const events: string[] = [];
    const gate = deferred();
    const p1 = runQueued("alias", async () => {
      await gate.promise;
      events.push("source");
    });
    const p2 = built.runQueued("alias", async () => {
      events.push("built");
    });
    await settle();
    expect(events).toEqual([]);
    gate.resolve();
    await Promise.all([p1, p2]);
    expect(events).toEqual(["source", "built"]);
  });
});

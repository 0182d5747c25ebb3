/**
 * read-coalescer.ts: callers reading the same device object share one request, but a read never hides
 * a write this process made (notBefore), settled reads serve only the same purpose, and failures are
 * never reused. Reads here are deferred promises, so order is asserted without timers; windowMs is 0
 * except where the window itself is the subject.
 */
import { coalescedRead, DEFAULT_MAX_AGE_MS, lastWrite, noteWrite, now, readsSent, recordedWrite, trackedOperation } from "../provider/core/read-coalescer";
import { resetProcessState } from "../provider/core/process-state";

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A device read whose answers the test hands out one by one. */
function device<T>() {
  const pending: { resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  const read = jest.fn(() => {
    const d = deferred<T>();
    pending.push(d);
    return d.promise;
  });
  return { read, pending };
}

/** Lets queued callbacks (and zero-window reads) start. */
const settle = () => new Promise<void>((r) => setImmediate(r));

const NOW0 = { windowMs: 0 } as const;

beforeEach(() => resetProcessState());
afterAll(() => resetProcessState());

describe("concurrent reads", () => {
  it("share one request and all get its answer", async () => {
    const d = device<string[]>();
    const reads = [coalescedRead("fw/alias", d.read, NOW0), coalescedRead("fw/alias", d.read, NOW0), coalescedRead("fw/alias", d.read, NOW0)];
    await settle();
    expect(d.read).toHaveBeenCalledTimes(1);
    d.pending[0]!.resolve(["192.0.2.1"]);
    expect(await Promise.all(reads)).toEqual([["192.0.2.1"], ["192.0.2.1"], ["192.0.2.1"]]);
    expect(readsSent("fw/alias")).toBe(1);
  });

  it("join a read already in flight", async () => {
    const d = device<number>();
    const first = coalescedRead("k", d.read, NOW0);
    await settle();
    expect(d.read).toHaveBeenCalledTimes(1);
    const second = coalescedRead("k", d.read, NOW0);
    d.pending[0]!.resolve(7);
    expect(await second).toBe(7);
    expect(await first).toBe(7);
    expect(d.read).toHaveBeenCalledTimes(1);
  });

  it("share an in-flight read across purposes", async () => {
    const d = device<number>();
    const refresh = coalescedRead("k", d.read, { ...NOW0, purpose: "refresh" });
    await settle();
    const verify = coalescedRead("k", d.read, { ...NOW0, purpose: "verify" });
    d.pending[0]!.resolve(1);
    expect(await Promise.all([refresh, verify])).toEqual([1, 1]);
    expect(d.read).toHaveBeenCalledTimes(1);
  });

  it("within the window: callers who ask before the read starts join it", async () => {
    const d = device<number>();
    const a = coalescedRead("k", d.read, { windowMs: 5 });
    const b = coalescedRead("k", d.read, { windowMs: 5 });
    expect(d.read).not.toHaveBeenCalled();
    while (d.pending.length === 0) await settle();
    d.pending[0]!.resolve(3);
    expect(await Promise.all([a, b])).toEqual([3, 3]);
    expect(readsSent("k")).toBe(1);
  });

  it("keep keys apart", async () => {
    const d = device<string>();
    const a = coalescedRead("fw/alias-a", d.read, NOW0);
    const b = coalescedRead("fw/alias-b", d.read, NOW0);
    await settle();
    expect(d.read).toHaveBeenCalledTimes(2);
    d.pending[0]!.resolve("a");
    d.pending[1]!.resolve("b");
    expect(await Promise.all([a, b])).toEqual(["a", "b"]);
  });
});

describe("settled reads", () => {
  it("are not reused by default (maxAgeMs 0): a later caller sees the device as it is now", async () => {
    expect(DEFAULT_MAX_AGE_MS).toBe(0);
    let value = "before";
    const read = jest.fn(async () => value);
    expect(await coalescedRead("k", read, NOW0)).toBe("before");
    value = "edited by hand";
    expect(await coalescedRead("k", read, NOW0)).toBe("edited by hand");
    expect(readsSent("k")).toBe(2);
  });

  it("are reused by a caller of the same purpose that opts into an age", async () => {
    const read = jest.fn(async () => "v");
    const opts = { ...NOW0, purpose: "refresh", maxAgeMs: 60_000 };
    await coalescedRead("k", read, opts);
    await coalescedRead("k", read, opts);
    expect(read).toHaveBeenCalledTimes(1);
  });

  it("are never reused by another purpose, whatever the age allowed", async () => {
    const read = jest.fn(async () => "v");
    await coalescedRead("k", read, { ...NOW0, purpose: "refresh", maxAgeMs: 60_000 });
    await coalescedRead("k", read, { ...NOW0, purpose: "verify", maxAgeMs: 60_000 });
    await coalescedRead("k", read, { ...NOW0, maxAgeMs: 60_000 });
    expect(read).toHaveBeenCalledTimes(3);
  });
});

describe("notBefore (a read never hides this process's write)", () => {
  it("a caller whose write was answered after an in-flight read started gets a fresh read", async () => {
    const d = device<string>();
    const stale = coalescedRead("fw/alias", d.read, NOW0);
    await settle();
    expect(d.read).toHaveBeenCalledTimes(1);

    await recordedWrite("fw/alias", "192.0.2.9", async () => "added");
    const verify = coalescedRead("fw/alias", d.read, { ...NOW0, notBefore: lastWrite("fw/alias", "192.0.2.9") });
    await settle();
    expect(d.read).toHaveBeenCalledTimes(2);

    d.pending[0]!.resolve("without 192.0.2.9");
    d.pending[1]!.resolve("with 192.0.2.9");
    expect(await stale).toBe("without 192.0.2.9");
    expect(await verify).toBe("with 192.0.2.9");
  });

  it("a settled read from before the write is not reused even with a long maxAge", async () => {
    const read = jest.fn(async () => "x");
    const opts = { ...NOW0, purpose: "refresh", maxAgeMs: 60_000 };
    await coalescedRead("k", read, opts);
    const t = noteWrite("k", "item");
    await coalescedRead("k", read, { ...opts, notBefore: t });
    expect(read).toHaveBeenCalledTimes(2);
  });

  it("callers without a write of their own still share the in-flight read", async () => {
    const d = device<string>();
    const a = coalescedRead("k", d.read, NOW0);
    await settle();
    noteWrite("k", "someone else's item");
    const b = coalescedRead("k", d.read, { ...NOW0, notBefore: lastWrite("k", "my item") });
    d.pending[0]!.resolve("v");
    expect(await Promise.all([a, b])).toEqual(["v", "v"]);
    expect(d.read).toHaveBeenCalledTimes(1);
  });
});

describe("failures", () => {
  it("reach every caller waiting on the read, and the next caller reads again", async () => {
    const d = device<string>();
    const a = coalescedRead("k", d.read, NOW0);
    const b = coalescedRead("k", d.read, NOW0);
    await settle();
    d.pending[0]!.reject(new Error("503 from device"));
    await expect(a).rejects.toThrow("503 from device");
    await expect(b).rejects.toThrow("503 from device");

    const c = coalescedRead("k", d.read, { ...NOW0, maxAgeMs: 60_000 });
    await settle();
    expect(d.read).toHaveBeenCalledTimes(2);
    d.pending[1]!.resolve("ok");
    expect(await c).toBe("ok");
  });
});

describe("write records", () => {
  it("lastWrite is 0 until a write is noted, per key and item", () => {
    expect(lastWrite("k", "a")).toBe(0);
    const t = noteWrite("k", "a");
    expect(t).toBeGreaterThan(0);
    expect(lastWrite("k", "a")).toBe(t);
    expect(lastWrite("k", "b")).toBe(0);
    expect(lastWrite("other", "a")).toBe(0);
  });

  it("recordedWrite returns the write's answer and records it", async () => {
    await expect(recordedWrite("k", "a", async () => "saved")).resolves.toBe("saved");
    expect(lastWrite("k", "a")).toBeGreaterThan(0);
  });

  it("recordedWrite records a failed write too (it may have been applied) and rethrows", async () => {
    await expect(
      recordedWrite("k", "a", async () => {
        throw new Error("socket hang up");
      }),
    ).rejects.toThrow("socket hang up");
    expect(lastWrite("k", "a")).toBeGreaterThan(0);
  });

  it("resetProcessState forgets writes and read counts", async () => {
    noteWrite("k", "a");
    await coalescedRead("k", async () => 1, NOW0);
    resetProcessState();
    expect(lastWrite("k", "a")).toBe(0);
    expect(readsSent("k")).toBe(0);
  });
});

describe("burst reads (the reads that confirm writes)", () => {
  it("start as soon as every operation in flight waits for them, and still never serve a read from before a caller's write", async () => {
    const d = device<number>();
    // A long window and delay: only the "everyone waits" rule can start the read while this test runs.
    const burst = { windowMs: 60_000, burst: { maxDelayMs: 120_000 } } as const;
    const gate = deferred<void>();
    const ops = [0, 1, 2].map((k) =>
      trackedOperation(async () => {
        await gate.promise;
        noteWrite("w", `x${k}`);
        return coalescedRead("b", d.read, { ...burst, notBefore: lastWrite("w", `x${k}`) });
      }),
    );
    await settle();
    gate.resolve();
    await settle();
    await settle();
    expect(d.read).toHaveBeenCalledTimes(1);
    d.pending[0]!.resolve(5);
    expect(await Promise.all(ops)).toEqual([5, 5, 5]);
    expect(readsSent("b")).toBe(1);
  });

  it("a lone caller with no pace known waits only the fixed window", async () => {
    const d = device<number>();
    const r = coalescedRead("lone", d.read, { windowMs: 0, burst: {} });
    await new Promise((res) => setTimeout(res, 5));
    expect(d.read).toHaveBeenCalledTimes(1);
    d.pending[0]!.resolve(1);
    expect(await r).toBe(1);
  });

  it("startAt: a read is never sent before it, even when every operation waits; a caller joining with a later one holds it longer and shares it", async () => {
    let sentAt = -1;
    const d = device<number>();
    const read = () => {
      sentAt = now();
      return d.read();
    };
    const floor1 = now() + 30;
    const floor2 = now() + 80;
    const ops = [
      // An arrival of a burst (a long window: only "everyone waits" could start it early)...
      trackedOperation(() => coalescedRead("held", read, { windowMs: 60_000, burst: { maxDelayMs: 120_000 } })),
      // ...and two steps of operations already counted (a confirmation after a settle): they raise the floor.
      trackedOperation(() => coalescedRead("held", read, { windowMs: 0, startAt: floor1 })),
      trackedOperation(() => coalescedRead("held", read, { windowMs: 0, startAt: floor2 })),
    ];
    await settle();
    await settle();
    expect(d.read).not.toHaveBeenCalled();
    while (d.read.mock.calls.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(sentAt).toBeGreaterThanOrEqual(floor2);
    d.pending[0]!.resolve(7);
    expect(await Promise.all(ops)).toEqual([7, 7, 7]);
    expect(readsSent("held")).toBe(1);
  });
});

/**
 * time-box.ts: `expiresAt` validation, the injectable clock and when a grant is due.
 */
import { alreadyExpired, expiresAtField, isDue, nowMs, setClock } from "../provider/core/time-box";
import { resetProcessState } from "../provider/core/process-state";

const ENV = "FIREWALL_GRANTS_TEST_NOW";
const saved = Object.fromEntries(["FIREWALL_GRANTS_TEST_NOW", "FIREWALL_GRANTS_NOW", "JEST_WORKER_ID", "NODE_ENV"].map((k) => [k, process.env[k]]));

afterEach(() => {
  setClock(undefined);
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  resetProcessState();
  jest.restoreAllMocks();
});

describe("expiresAtField", () => {
  it.each([
    "2026-12-01T18:00:00Z",
    "2026-12-01T18:00Z",
    "2026-12-01T18:00:00.5Z",
    "2026-12-01T18:00:00.123456789Z",
    "2026-12-01T19:00:00+01:00",
    "2026-12-01T12:30:00-05:30",
  ])("accepts %s", (v) => {
    expect(expiresAtField.safeParse(v).success).toBe(true);
  });

  it("is optional", () => {
    expect(expiresAtField.safeParse(undefined).success).toBe(true);
  });

  it.each([
    ["a local time (no zone)", "2026-12-01T18:00:00"],
    ["a date only", "2026-12-01"],
    ["a space instead of T", "2026-12-01 18:00:00Z"],
    ["an offset without a colon", "2026-12-01T18:00:00+0100"],
    ["a lower-case z", "2026-12-01T18:00:00z"],
    ["garbage", "next tuesday"],
    ["an empty string", ""],
    ["epoch milliseconds", "1796148000000"],
  ])("refuses %s, naming the expected form", (_, v) => {
    const r = expiresAtField.safeParse(v);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message).join()).toContain("ISO 8601 time with a zone");
  });

  it.each([
    ["hour 25", "2026-12-01T25:00:00Z"],
    ["minute 60", "2026-12-01T18:60:00Z"],
    ["month 13", "2026-13-01T18:00:00Z"],
    ["an offset of 25 hours", "2026-12-01T18:00:00+25:00"],
  ])("refuses a well-formed but impossible time (%s)", (_, v) => {
    const r = expiresAtField.safeParse(v);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message).join()).toContain("is not a valid date");
  });

  // Date.parse rolls a day past the month's end over into the next month (V8): 30 February would
  // expire on 2 March, so the rule checks the written day exists.
  it.each([
    ["30 February", "2026-02-30T18:00:00Z"],
    ["31 April", "2026-04-31T18:00:00Z"],
  ])("refuses a day the month does not have (%s)", (_, v) => {
    expect(expiresAtField.safeParse(v).success).toBe(false);
  });

  it("refuses a non-string", () => {
    expect(expiresAtField.safeParse(1796148000000).success).toBe(false);
  });
});

describe("nowMs", () => {
  it("follows an injected clock first, even when the environment names a time", () => {
    process.env[ENV] = "2030-01-01T00:00:00Z";
    setClock(() => 1234);
    expect(nowMs()).toBe(1234);
  });

  it("follows FIREWALL_GRANTS_TEST_NOW in a test run when no clock is injected", () => {
    process.env[ENV] = "2030-01-01T00:00:00+01:00";
    expect(nowMs()).toBe(Date.parse("2029-12-31T23:00:00Z"));
  });

  it("restores the environment time when the injected clock is removed", () => {
    process.env[ENV] = "2030-01-01T00:00:00Z";
    setClock(() => 1);
    setClock(undefined);
    expect(nowMs()).toBe(Date.parse("2030-01-01T00:00:00Z"));
  });

  it.each([
    ["unset", undefined],
    ["empty", ""],
    ["not a time", "soon"],
  ])("uses the system clock when FIREWALL_GRANTS_TEST_NOW is %s", (_, v) => {
    if (v === undefined) delete process.env[ENV];
    else process.env[ENV] = v;
    const before = Date.now();
    const t = nowMs();
    const after = Date.now();
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(after);
  });
});

describe("the test clock outside a test run", () => {
  /** A real run: no jest worker, no NODE_ENV=test. */
  const realRun = () => {
    delete process.env.JEST_WORKER_ID;
    process.env.NODE_ENV = "production";
  };
  const stderr = () => jest.spyOn(process.stderr, "write").mockImplementation(() => true);

  it.each([
    ["FIREWALL_GRANTS_TEST_NOW", "FIREWALL_GRANTS_TEST_NOW"],
    ["the old name FIREWALL_GRANTS_NOW", "FIREWALL_GRANTS_NOW"],
  ])("%s is ignored (the system clock decides expiry) and said loudly once", (_, name) => {
    realRun();
    process.env[name] = "2000-01-01T00:00:00Z";
    const err = stderr();
    const before = Date.now();
    expect(nowMs()).toBeGreaterThanOrEqual(before);
    // A grant that expired yesterday is due, whatever the variable says.
    expect(isDue(new Date(before - 86_400_000).toISOString())).toBe(true);
    const said = err.mock.calls.map((c) => String(c[0]));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(new RegExp(`^warning: ${name} is set and IGNORED: expiry uses the system clock`));
  });

  it("the old name is not honoured in a test run either", () => {
    delete process.env[ENV];
    process.env.FIREWALL_GRANTS_NOW = "2000-01-01T00:00:00Z";
    stderr();
    expect(nowMs()).toBeGreaterThan(Date.parse("2020-01-01T00:00:00Z"));
  });

  it("NODE_ENV=test alone is a test run", () => {
    delete process.env.JEST_WORKER_ID;
    process.env.NODE_ENV = "test";
    process.env[ENV] = "2030-01-01T00:00:00Z";
    expect(nowMs()).toBe(Date.parse("2030-01-01T00:00:00Z"));
  });
});

describe("isDue", () => {
  const NOW = Date.parse("2026-12-01T18:00:00Z");
  beforeEach(() => setClock(() => NOW));

  it.each([
    ["exactly now", "2026-12-01T18:00:00Z", true],
    ["the same instant written with an offset", "2026-12-01T19:00:00+01:00", true],
    ["one millisecond ago", "2026-12-01T17:59:59.999Z", true],
    ["a year ago", "2025-12-01T18:00:00Z", true],
    ["one millisecond ahead", "2026-12-01T18:00:00.001Z", false],
    ["an hour ahead, written with an offset", "2026-12-01T14:00:00-05:00", false],
  ])("%s → %s", (_, at, due) => {
    expect(isDue(at)).toBe(due);
  });

  it.each([
    ["no expiry", undefined],
    ["null", null],
    ["a number", NOW - 1],
    ["an unparsable string", "yesterday"],
  ])("is never due with %s", (_, at) => {
    expect(isDue(at)).toBe(false);
  });

  it("follows the clock as it moves", () => {
    let t = NOW - 1;
    setClock(() => t);
    expect(isDue("2026-12-01T18:00:00Z")).toBe(false);
    t = NOW;
    expect(isDue("2026-12-01T18:00:00Z")).toBe(true);
  });
});

describe("alreadyExpired", () => {
  it("names the refused time and the current time", () => {
    setClock(() => Date.parse("2026-12-01T18:00:00Z"));
    const msg = alreadyExpired("2026-11-30T00:00:00Z");
    expect(msg).toContain("2026-11-30T00:00:00Z");
    expect(msg).toContain("now 2026-12-01T18:00:00.000Z");
    expect(msg).toMatch(/^expiresAt: /);
  });
});

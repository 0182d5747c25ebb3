import { diagnose } from "../provider/core/diagnosis";
import { failedStep, renderStepTable, runSteps, type PreflightStep } from "../provider/core/preflight-steps";

type Ctx = { ran: string[]; failAt?: string; table: boolean };
const step = (id: string, kind: PreflightStep<Ctx>["kind"], applies?: (c: Ctx) => boolean): PreflightStep<Ctx> => ({
  id,
  kind,
  proves: `${id} | proof`,
  request: `GET /${id}`,
  needs: `right ${id}`,
  ...(applies && { applies }),
  run: async (c) => {
    c.ran.push(id);
    if (c.failAt === id) throw diagnose("OPN001", { host: "fw", detail: `${id} refused` });
  },
});
const STEPS = [step("auth", "auth"), step("target", "read"), step("write-table", "write", (c) => c.table), step("write-config", "write", (c) => !c.table)];

describe("declared preflight steps", () => {
  it("run in order, only those that apply, and stop at the first failure, which names its step", async () => {
    const c: Ctx = { ran: [], table: true };
    await runSteps(STEPS, c, "full");
    expect(c.ran).toEqual(["auth", "target", "write-table"]);
    const f: Ctx = { ran: [], table: false, failAt: "target" };
    const e = await runSteps(STEPS, f, "full").catch((x: unknown) => x);
    expect(f.ran).toEqual(["auth", "target"]);
    expect(failedStep(e)).toBe("target");
    expect((e as Error).message).toContain("target refused");
  });

  it("a read preflight skips the write steps (least-privilege drift checks)", async () => {
    const c: Ctx = { ran: [], table: true };
    await runSteps(STEPS, c, "read");
    expect(c.ran).toEqual(["auth", "target"]);
  });

  it("a failure that is not a diagnosis carries no step; tables escape pipes", async () => {
    expect(failedStep(new Error("x"))).toBeUndefined();
    const table = renderStepTable(STEPS as readonly PreflightStep<never>[]);
    expect(table).toContain("| auth | auth \\| proof | GET /auth | right auth | full, read |");
    expect(table).toContain("| write-config | write-config \\| proof | GET /write-config | right write-config | full |");
  });
});

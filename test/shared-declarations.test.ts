/**
 * The shared-address rule across provider processes (issue 19): the plugin runs one process per provider instance,
 * all started by one engine run; each writes what it declares to a run directory named after the engine's address
 * and reads the others' — the live ones only.
 */
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { declareShared, processState, resetProcessState, shareDeclarationsAcross, sharedDeclarers } from "../provider/core/process-state";

const DEAD_PID = 2 ** 22 + 12345; // above Linux's pid_max

describe("declarations shared by the provider processes of one engine run", () => {
  const engine = `127.0.0.1:${process.pid}${Date.now() % 10_000}`;
  beforeAll(() => shareDeclarationsAcross(engine));
  afterAll(() => {
    const dir = processState().declarations.runDir!;
    rmSync(dir, { recursive: true, force: true });
    (processState().declarations as { runDir?: string }).runDir = undefined;
    resetProcessState();
  });

  it("a live process's declaration is seen; a dead one's is not; our own is written for the others", () => {
    const dir = processState().declarations.runDir!;
    expect(dir.startsWith(tmpdir())).toBe(true);
    // The parent (jest's runner) stands for a live provider process of the same run.
    writeFileSync(join(dir, `${process.ppid}.decl`), `${JSON.stringify(["k1", "aliceByB"])}\n`);
    writeFileSync(join(dir, `${DEAD_PID}.decl`), `${JSON.stringify(["k1", "ghost"])}\n`);
    declareShared("k1", "aliceByA");
    expect([...sharedDeclarers("k1")].sort()).toEqual(["aliceByA", "aliceByB"]);
    expect([...sharedDeclarers("k2")]).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual([`${DEAD_PID}.decl`, `${process.ppid}.decl`, `${process.pid}.decl`].sort());
  });

  it("a later declaration of another process is seen at the next look", () => {
    const dir = processState().declarations.runDir!;
    writeFileSync(join(dir, `${process.ppid}.decl`), `${JSON.stringify(["k1", "aliceByB"])}\n${JSON.stringify(["k3", "bob"])}\n`);
    expect([...sharedDeclarers("k3")]).toEqual(["bob"]);
  });

  it("without a run directory (the dynamic resources: one process) only this process's declarations count", () => {
    resetProcessState();
    const d = processState().declarations as { runDir?: string };
    const saved = d.runDir;
    d.runDir = undefined;
    declareShared("k9", "solo");
    expect([...sharedDeclarers("k9")]).toEqual(["solo"]);
    expect([...sharedDeclarers("k1")]).toEqual([]);
    d.runDir = saved;
  });
});

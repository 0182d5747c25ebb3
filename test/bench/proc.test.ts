/**
 * The bench's process-tree killer (bench/proc.ts): Pulumi starts each plugin in a process group of its
 * own, so a kill of the CLI's group alone leaves provider hosts running. Here a stand-in "CLI" (bash)
 * starts one grandchild in a group of its own (as Pulumi does), one daemonised (new session, parent
 * gone) and one in its group; the killer must end them all, the one ignoring SIGTERM included. Contract tier: it starts child processes.
 */
import { readFileSync } from "node:fs";
import { processTree, spawnTracked, treeRssBytes } from "../../bench/proc";

/** Gone, or a zombie (exited, awaiting its reaper: holds nothing and runs nothing). */
function dead(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

const onLinux = process.platform === "linux" ? describe : describe.skip;

onLinux("bench process-tree killer", () => {
  it("kills the command and its grandchildren in other process groups and sessions, SIGTERM ignored included", async () => {
    // set -m: each background job gets its own process group, like a Pulumi plugin; setsid: a new session.
    // The first grandchild ignores SIGTERM, so only the SIGKILL round ends it.
    const t = spawnTracked(
      "bash",
      [
        "-c",
        `set -m
        bash -c 'trap "" TERM; echo $$; while :; do sleep 1; done' &
        setsid sh -c 'echo $$; exec sleep 301' &
        sh -c 'echo $$; exec sleep 302' &
        wait`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      let out = "";
      t.child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
      expect(await until(() => out.trim().split("\n").length >= 3, 10_000)).toBe(true);
      const grandchildren = out.trim().split("\n").map(Number);
      const root = t.child.pid!;
      const tree = processTree(root, t.tag);
      expect(tree).toEqual(expect.arrayContaining([root, ...grandchildren]));
      // Not in the root's group: a group kill alone would miss them.
      for (const pid of grandchildren) expect(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[2]).not.toBe(String(root));
      expect(treeRssBytes(root)).toBeGreaterThan(0);

      await t.kill(500);

      expect(await until(() => [root, ...grandchildren].every(dead), 5_000)).toBe(true);
      expect(processTree(root, t.tag).filter((p) => !dead(p))).toEqual([]);
    } finally {
      await t.kill(0);
    }
  });
});

/**
 * The bench's process handling: a command started in a session and process group of its own, the set
 * of processes it started (found in /proc), their summed resident memory, and a killer that leaves
 * nothing behind. Pulumi starts each plugin (language host, dynamic-provider host) in a process group of
 * its own (dynamic-kit.ts `watchEngine`), so killing the CLI's group misses them: the tree is every
 * process whose session is the command's (a detached child is a session leader, and a plugin's own
 * group stays in that session) or whose parent chain leads to it.
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly pgrp: number;
  readonly session: number;
  /** Resident pages. */
  readonly rss: number;
}

/** /proc/<pid>/stat, or undefined when the process is gone (or this is not Linux). */
function stat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: the fields after it follow the last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] = state (field 3), so field k is rest[k - 3].
  return { pid, ppid: Number(rest[1]), pgrp: Number(rest[2]), session: Number(rest[3]), rss: Number(rest[21]) };
}

function allProcesses(): ProcStat[] {
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return [];
  }
  const out: ProcStat[] = [];
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    const s = stat(Number(n));
    if (s) out.push(s);
  }
  return out;
}

/** The variable every tracked command's processes inherit: it finds a descendant that left the session and lost its parent. */
export const TREE_TAG_ENV = "FIREWALL_GRANTS_BENCH_TREE";

function hasTag(pid: number, tag: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(`${TREE_TAG_ENV}=${tag}`);
  } catch {
    return false;
  }
}

/**
 * Every live process started by the command whose pid (= session id = group id) is `root`, `root`
 * included; with `tag`, also any process carrying it in its environment (a daemonised descendant: new
 * session, parent gone).
 */
export function processTree(root: number, tag?: string): number[] {
  const procs = allProcesses();
  const inTree = new Set<number>();
  for (const p of procs)
    if (p.pid === root || p.session === root || p.pgrp === root || (tag !== undefined && p.pid !== process.pid && hasTag(p.pid, tag))) inTree.add(p.pid);
  // Descendants that left the session (setsid) are still found through their parents.
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs)
      if (!inTree.has(p.pid) && inTree.has(p.ppid)) {
        inTree.add(p.pid);
        grew = true;
      }
  }
  return [...inTree];
}

const PAGE_BYTES = 4096;

/** Summed resident memory of the tree, in bytes. */
export function treeRssBytes(root: number): number {
  let total = 0;
  for (const pid of processTree(root)) total += (stat(pid)?.rss ?? 0) * PAGE_BYTES;
  return total;
}

function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Ends the tree of `root`: SIGTERM to every process in it (the CLI then cancels and its plugins get their
 * signals), then SIGKILL to whatever is still there after `graceMs`, repeated until none is left. The
 * tree is re-read each round, so processes started during the grace are caught too.
 */
export async function killTree(root: number, graceMs = 3000, tag?: string): Promise<void> {
  const first = processTree(root, tag);
  if (first.length === 0) return;
  signalAll(first, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && processTree(root, tag).some(alive)) await new Promise((r) => setTimeout(r, 100));
  for (let round = 0; round < 20; round++) {
    const left = processTree(root, tag).filter(alive);
    if (left.length === 0) return;
    signalAll(left, "SIGKILL");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A zombie (exited, not yet reaped by its parent) holds no resources and cannot be killed. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

const live = new Map<number, string>();
let hooked = false;
let spawned = 0;

/** Kills every tree still running when this process ends (normal exit, an uncaught error, SIGINT/SIGTERM). */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // On exit only synchronous work runs: SIGKILL at once, no grace.
  process.on("exit", () => {
    for (const [root, tag] of live) signalAll(processTree(root, tag), "SIGKILL");
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
    process.once(sig, () => {
      void Promise.all([...live].map(([r, tag]) => killTree(r, 1000, tag))).finally(() => process.exit(130));
    });
}

export interface Tracked {
  readonly child: ChildProcess;
  /** The {@link TREE_TAG_ENV} value of this command's processes. */
  readonly tag: string;
  /** Kills the whole tree (SIGTERM, then SIGKILL); resolves when none of it is left. */
  kill(graceMs?: number): Promise<void>;
}

/** Spawns `command` detached (its own session and process group) and kills its tree if this process ends first. */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions): Tracked {
  hookExit();
  const tag = `${process.pid}-${++spawned}`;
  const child = spawn(command, args, { ...options, env: { ...(options.env ?? process.env), [TREE_TAG_ENV]: tag }, detached: true });
  const pid = child.pid;
  if (pid !== undefined) live.set(pid, tag);
  // The tree may outlive the CLI itself (an orphaned plugin): the entry stays until kill() has swept it.
  return {
    child,
    tag,
    kill: async (graceMs) => {
      if (pid === undefined) return;
      await killTree(pid, graceMs, tag);
      live.delete(pid);
    },
  };
}

export interface MemorySampler {
  /** Stops sampling; the largest sum seen, in bytes. */
  stop(): number;
}

/** Samples the tree's summed RSS every `everyMs` (the bench uses ~100 ms) and keeps the peak. */
export function sampleTreeMemory(root: number, everyMs = 100): MemorySampler {
  let peak = 0;
  const tick = () => (peak = Math.max(peak, treeRssBytes(root)));
  tick();
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      tick();
      return peak;
    },
  };
}

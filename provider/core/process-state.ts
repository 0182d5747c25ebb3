/**
 * State shared by every copy of this library inside one process. The Pulumi engine runs up to
 * `--parallel` operations at once in one provider process and may load the library more than once
 * (one copy per serialised provider text, docs/reference/pulumi.md §1.1, §5 item 8), so pools,
 * probe caches and per-object queues live on `globalThis`, not in module scope.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHmac, hash, randomBytes } from "node:crypto";
import {
  appendFileSync,
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

interface ProcessState {
  /** undici Agents keyed by origin + TLS settings (transport.ts). */
  readonly agents: Map<string, unknown>;
  /** Preflight outcomes keyed by device + credential hash + target (one probe set per process). */
  readonly probes: Map<string, Promise<unknown>>;
  /** Tails of the per-key serial queues (see {@link runQueued}). */
  readonly queues: Map<string, Promise<unknown>>;
  /** Device-specific shared objects (batchers, sessions), keyed by their module. */
  readonly shared: Map<string, unknown>;
  /** Stack config handed to the provider's `configure`, as `namespace:key` → value. */
  config: Record<string, string>;
  /**
   * Set when the Pulumi engine that started this provider process is gone (dynamic-kit.ts
   * `watchEngine`): the transport then sends no further request, since no state would record its effect.
   */
  engineGone?: string | undefined;
  /** Work the process finishes before it exits when the engine is gone ({@link awaitedAtExit}, {@link restoring}). */
  readonly restoring: Set<Promise<unknown>>;
  readonly restoringContext: AsyncLocalStorage<true>;
  /** The shared-address rule's declarations ({@link declareShared}). */
  readonly declarations: Declarations;
}

/**
 * Which grants the program declares, per target+address key, for the shared-address rule ("last one out turns
 * off the lights"). In-process for the dynamic resources (one provider process). The plugin runs one process per
 * provider instance (two explicit providers, or one per config), all started by one engine run: each writes what
 * it declares to a file of a run directory named after the engine's address, and reads the other processes'
 * files, so a grant of one provider keeps an address another provider's grant still declares (issue 19).
 */
interface Declarations {
  /** `<tmp>/firewall-grants-run-<digest of the engine address>`, when the run spans processes. */
  runDir?: string;
  /** Other processes' files as last read: size → parsed key → names. */
  readonly seen: Map<string, { size: number; keys: Map<string, Set<string>> }>;
}

const KEY = Symbol.for("pulumi-firewall-grants.process-state.v1");

export function processState(): ProcessState {
  const g = globalThis as unknown as Record<symbol, ProcessState | undefined>;
  let s = g[KEY];
  if (!s) {
    s = {
      agents: new Map(),
      probes: new Map(),
      queues: new Map(),
      shared: new Map(),
      config: {},
      restoring: new Set(),
      restoringContext: new AsyncLocalStorage<true>(),
      declarations: { seen: new Map() },
    };
    g[KEY] = s;
  }
  return s;
}

/** A one-way digest for cache keys, so that no credential is held as a map key. */
export function fingerprint(...parts: readonly (string | undefined)[]): string {
  // One-shot hash: a 50,000-entry set computes a key per entry several times per operation (issue 22).
  return hash("sha256", parts.map((p) => p ?? "").join("\u0000"), "hex").slice(0, 24);
}

/**
 * Runs the probe once per `key` for the life of the process; concurrent callers share it. Only a
 * success or a diagnosed failure is kept: an unexpected crash is forgotten so that the next call
 * probes again.
 */
export function cachedProbe<T = void>(key: string, probe: () => Promise<T>): Promise<T> {
  const probes = processState().probes;
  let p = probes.get(key) as Promise<T> | undefined;
  if (!p) {
    p = probe();
    probes.set(key, p);
    p.catch((e: unknown) => {
      if ((e as { name?: string })?.name !== "GrantError") probes.delete(key);
    });
  }
  return p;
}

/**
 * A preflight run at most once per key in this process ({@link cachedProbe}) and at most once per key in ONE
 * invocation of the Pulumi CLI: a default `pulumi up` runs its preview and its update in two provider
 * processes, and the update's `check` then skips a preflight the preview's passed seconds earlier (issue 22).
 * What keeps this safe:
 * - The record is scoped to the CLI process that started this provider (its pid and start time, read from
 *   /proc), so a separate `pulumi preview` never vouches for a later `pulumi up`, and a preview always probes.
 * - It names nothing: its file name is an HMAC of the key (which itself digests endpoint, credential, target,
 *   method and depth) under a random per-user salt; the file holds only a time. It lives in a 0700 directory
 *   of the user and is honoured for {@link PREFLIGHT_RECORD_TTL_MS} only.
 * - Any doubt runs the preflight: no /proc (not Linux), no CLI ancestor (a test, `doctor`, the bench), a
 *   directory or salt that is not ours or not private, an unreadable or stale record.
 * - A right lost between preview and update still fails with its diagnosis, from the write's own answer
 *   (every client turns a 403 into the privilege it names).
 */
export function cachedPreflight(key: string, probe: () => Promise<void>): Promise<void> {
  return cachedProbe(`preflight:${key}`, async () => {
    const record = runRecordPath(key);
    if (record && recordFresh(record)) return;
    await probe();
    if (record) writeRecord(record);
  });
}

/** How long a passed preflight vouches for the rest of the same CLI invocation (a prompt between preview and update may take a while). */
export const PREFLIGHT_RECORD_TTL_MS = 5 * 60_000;

/** Overrides the CLI identity (tests); `undefined` goes back to reading /proc, `null` turns the record off. */
export function setRunScopeForTests(scope: string | null | undefined): void {
  (globalThis as Record<symbol, unknown>)[RUN_SCOPE_OVERRIDE] = scope;
}
const RUN_SCOPE_OVERRIDE = Symbol.for("pulumi-firewall-grants.run-scope-override");

/** `pid:starttime` of the nearest `pulumi` ancestor process, or undefined when it cannot be told. */
function cliIdentity(): string | undefined {
  const g = globalThis as Record<symbol, unknown>;
  if (RUN_SCOPE_OVERRIDE in g && g[RUN_SCOPE_OVERRIDE] !== undefined) return (g[RUN_SCOPE_OVERRIDE] as string | null) ?? undefined;
  if (process.platform !== "linux") return undefined;
  let pid = process.ppid;
  for (let depth = 0; depth < 6 && pid > 1; depth++) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      return undefined;
    }
    // pid (comm) state ppid ... field 22 = starttime; comm may hold spaces and parentheses, so split after the last ')'.
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const rest = stat.slice(close + 2).split(" ");
    if (comm === "pulumi") return `${pid}:${rest[19] ?? ""}`;
    pid = Number(rest[1]);
    if (!Number.isInteger(pid)) return undefined;
  }
  return undefined;
}

/** The private directory of the records, or undefined when it is not ours and private. */
function recordDir(): string | undefined {
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  if (uid === undefined) return undefined;
  const dir = join(tmpdir(), `pulumi-firewall-grants-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch {
    // exists (checked below)
  }
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) return undefined;
  } catch {
    return undefined;
  }
  return dir;
}

function salt(dir: string): Buffer | undefined {
  const file = join(dir, "salt");
  try {
    writeFileSync(file, randomBytes(32), { mode: 0o600, flag: "wx" });
  } catch {
    // exists
  }
  try {
    const st = lstatSync(file);
    if (!st.isFile() || (st.mode & 0o077) !== 0 || st.size !== 32) return undefined;
    const fd = openSync(file, "r");
    try {
      const b = Buffer.alloc(32);
      return readSync(fd, b, 0, 32, 0) === 32 ? b : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

function runRecordPath(key: string): string | undefined {
  try {
    const cli = cliIdentity();
    if (!cli) return undefined;
    const dir = recordDir();
    const s = dir && salt(dir);
    if (!dir || !s) return undefined;
    return join(dir, `preflight-${createHmac("sha256", s).update(`${cli}\u0000${key}`).digest("hex")}`);
  } catch {
    return undefined;
  }
}

function recordFresh(file: string): boolean {
  try {
    const st = statSync(file);
    const age = Date.now() - st.mtimeMs;
    return st.isFile() && age >= 0 && age < PREFLIGHT_RECORD_TTL_MS;
  } catch {
    return false;
  }
}

function writeRecord(file: string): void {
  try {
    writeFileSync(file, "", { mode: 0o600 });
    const now = new Date();
    utimesSync(file, now, now);
  } catch {
    // no record: the next process probes
  }
  // Records of earlier runs are worth nothing once stale: keep the directory small.
  try {
    const dir = dirname(file);
    for (const f of readdirSync(dir)) {
      if (!f.startsWith("preflight-")) continue;
      const path = join(dir, f);
      if (!recordFresh(path)) rmSync(path, { force: true });
    }
  } catch {
    // best effort
  }
}

/** Runs `fn` after every earlier call with the same key has settled (a per-object queue). */
export function runQueued<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const queues = processState().queues;
  const prev = queues.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return run;
}

/** Gets or creates a process-wide shared object. */
export function shared<T>(key: string, create: () => T): T {
  const m = processState().shared;
  if (!m.has(key)) m.set(key, create());
  return m.get(key) as T;
}

/**
 * Runs `fn` as work that puts the target back to what the engine's state says (a failed set change
 * taking back what it added). Its requests are still sent after the engine is gone — they leave the
 * device as the kept state declares it — and the process waits for it before exiting (dynamic-kit.ts
 * `watchEngine`).
 */
export function restoring<T>(fn: () => Promise<T>): Promise<T> {
  return awaitedAtExit(() => processState().restoringContext.run(true, fn));
}

/**
 * Runs `fn` as work the process finishes before it exits once the engine is gone: a set change, which
 * then fails at its next request and takes back what it added (set-lifecycle.ts).
 */
export function awaitedAtExit<T>(fn: () => Promise<T>): Promise<T> {
  const s = processState();
  const p = fn();
  const tracked = p.then(
    () => undefined,
    () => undefined,
  );
  s.restoring.add(tracked);
  void tracked.then(() => s.restoring.delete(tracked));
  return p;
}

/** True inside {@link restoring}. */
export function isRestoring(): boolean {
  return processState().restoringContext.getStore() === true;
}

/**
 * Shares this process's declarations with the other provider processes of the engine run at `engineAddress`
 * (the plugin's first argument); the file goes when the process exits.
 */
export function shareDeclarationsAcross(engineAddress: string): void {
  const d = processState().declarations;
  if (d.runDir !== undefined) return;
  sweepRunDirs();
  const dir = join(tmpdir(), `${RUN_DIR_PREFIX}${fingerprint("engine", engineAddress)}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Another local user's directory could plant declarations that keep an entry on delete: use only our own.
  const st = statSync(dir);
  if ((typeof process.getuid === "function" && st.uid !== process.getuid()) || (st.mode & 0o077) !== 0) {
    process.stderr.write(`warning: ${dir} is not this user's private directory: grants of other provider instances of this run are not seen\n`);
    return;
  }
  d.runDir = dir;
  const own = join(dir, `${process.pid}.decl`);
  appendFileSync(own, "", { mode: 0o600 });
  process.once("exit", () => {
    rmSync(own, { force: true });
    removeIfEmpty(dir);
  });
}

const RUN_DIR_PREFIX = "firewall-grants-run-";

/** The engine stops its plugins with a kill (no exit handler runs): files of dead processes go when the next one starts. */
function sweepRunDirs(): void {
  let dirs: string[];
  try {
    dirs = readdirSync(tmpdir()).filter((f) => f.startsWith(RUN_DIR_PREFIX));
  } catch {
    return;
  }
  for (const name of dirs) {
    const dir = join(tmpdir(), name);
    try {
      for (const f of readdirSync(dir)) if (f.endsWith(".decl") && !alive(Number(f.slice(0, -".decl".length)))) rmSync(join(dir, f), { force: true });
    } catch {
      continue; // another user's, or gone
    }
    // Not one a process of a run starting now has just made (and not yet written to).
    try {
      if (Date.now() - statSync(dir).mtimeMs > 60_000) removeIfEmpty(dir);
    } catch {
      // gone
    }
  }
}

function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true, force: true });
  } catch {
    // another process removed it first
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** This process's declarations: a shared object, so that forgetting the shared objects starts a new run's program. */
const local = () => shared("grant-lifecycle.declared", () => new Map<string, Set<string>>());

/** Records that grant `name` declares `key` (a digest: no address or credential in clear) in this run. */
export function declareShared(key: string, name: string): void {
  const d = processState().declarations;
  const names = local().get(key) ?? new Set<string>();
  if (names.has(name)) return;
  local().set(key, names.add(name));
  if (d.runDir !== undefined) writeDeclaration(d.runDir, key, name);
}

function writeDeclaration(dir: string, key: string, name: string): void {
  const own = join(dir, `${process.pid}.decl`);
  try {
    appendFileSync(own, `${JSON.stringify([key, name])}\n`, { mode: 0o600 });
  } catch {
    // Swept away as empty by a process that started at the same moment: write everything declared again.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const lines = [...local()].flatMap(([k, names]) => [...names].map((n) => `${JSON.stringify([k, n])}\n`));
    appendFileSync(own, lines.join(""), { mode: 0o600 });
  }
}

/** Every grant name that declares `key` in this run, in this process and (plugin) in the run's other provider processes. */
export function sharedDeclarers(key: string): Set<string> {
  const d = processState().declarations;
  const out = new Set(local().get(key) ?? []);
  if (d.runDir === undefined) return out;
  let files: string[];
  try {
    files = readdirSync(d.runDir).filter((f) => f.endsWith(".decl") && f !== `${process.pid}.decl`);
  } catch {
    return out;
  }
  for (const f of files) {
    const path = join(d.runDir, f);
    // A process killed without its exit handler left its file: a dead process declares nothing.
    if (!alive(Number(f.slice(0, -".decl".length)))) continue;
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      continue;
    }
    let entry = d.seen.get(path);
    if (entry?.size !== size) {
      const keys = new Map<string, Set<string>>();
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch {
        continue;
      }
      for (const line of text.split("\n")) {
        if (line === "") continue;
        try {
          const [k, n] = JSON.parse(line) as [string, string];
          keys.set(k, (keys.get(k) ?? new Set<string>()).add(n));
        } catch {
          // a line being written: read again at the next call
        }
      }
      entry = { size, keys };
      d.seen.set(path, entry);
    }
    for (const n of entry.keys.get(key) ?? []) out.add(n);
  }
  return out;
}

/** Forgets probe results and shared objects (tests that change a device's users between runs). */
export function resetProcessState(): void {
  const s = processState();
  s.probes.clear();
  s.queues.clear();
  s.shared.clear();
  s.declarations.seen.clear();
  s.config = {};
  s.engineGone = undefined;
}

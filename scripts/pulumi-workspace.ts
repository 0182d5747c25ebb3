/**
 * Runs the real Pulumi CLI against a local file backend: no cloud login, no network beyond the
 * emulators. Shared by the quick-start, the engine tests and the benchmark.
 */
import { spawn, execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

/** The repository (package) root, from the sources or from dist/. */
export function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, "package.json")) || !readFileSync(path.join(dir, "package.json"), "utf8").includes('"name": "pulumi-firewall-grants"')) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error("package root not found");
    dir = up;
  }
  return dir;
}

export interface PulumiCli {
  /** Directory holding `pulumi`, `pulumi-language-nodejs` and `pulumi-resource-pulumi-nodejs`. */
  readonly binDir: string;
  readonly version: string;
}

let cli: Promise<PulumiCli> | undefined;

/**
 * Finds or builds the Pulumi CLI with scripts/pulumi-cli.sh (the first build takes minutes; later
 * calls return the cached binaries). Progress goes to stderr.
 */
export function ensurePulumiCli(): Promise<PulumiCli> {
  cli ??= (async () => {
    const script = path.join(packageRoot(), "scripts", "pulumi-cli.sh");
    const binDir = await new Promise<string>((resolve, reject) => {
      const child = spawn("bash", [script], { cwd: packageRoot(), stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.on("error", reject);
      child.on("close", (code) => {
        const last = out.trim().split("\n").pop() ?? "";
        if (code === 0 && last) resolve(last.trim());
        else reject(new Error(`scripts/pulumi-cli.sh failed (exit ${code})`));
      });
    });
    const { stdout } = await promisify(execFile)(path.join(binDir, "pulumi"), ["version"], { env: cliEnv(binDir, {}) });
    return { binDir, version: stdout.trim() };
  })();
  cli.catch(() => (cli = undefined));
  return cli;
}

function cliEnv(binDir: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "firewall-grants-local",
    PULUMI_HOME: process.env.PULUMI_HOME ?? path.join(tmpdir(), "firewall-grants-pulumi-home"),
    NO_COLOR: "1",
    ...extra,
  };
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout + stderr, interleaved as they arrived */
  readonly output: string;
  readonly durationMs: number;
  /** True when the command was killed after `timeoutMs`. */
  readonly timedOut: boolean;
}

export interface RunOptions {
  /** Extra environment for this command only. */
  readonly env?: Record<string, string>;
  /** Output callback for this command (instead of the workspace's). */
  readonly onOutput?: (chunk: string) => void;
  /** Kill the command after this long. @default the workspace's `timeoutMs` */
  readonly timeoutMs?: number;
}

export interface WorkspaceOptions {
  /** Directory with Pulumi.yaml. */
  readonly projectDir: string;
  /**
   * Stack name. The default is unique per workspace (`dev-<random>`): the CLI creates
   * `Pulumi.<stack>.yaml` in the project directory at `stack init`, so two workspaces on one project
   * (tests in parallel, the quick-start) must not share a name. The file is moved into the
   * workspace's temp directory at once and passed with `--config-file` from then on.
   */
  readonly stack?: string;
  /** Extra environment for every command (device credentials for the provider, etc.). */
  readonly env?: Record<string, string>;
  /** Called with each output chunk as it arrives (progress for the quick-start). */
  readonly onOutput?: (chunk: string) => void;
  /** Kill a command that runs longer than this. @default 180000 */
  readonly timeoutMs?: number;
}

/** Commands that take `--config-file` (stack init and stack output/rm/export do not). */
const CONFIG_FILE_COMMANDS = new Set(["config", "preview", "up", "update", "refresh", "destroy", "import", "watch"]);

/**
 * One stack in a temporary file backend with its own PULUMI_HOME and config file, all under one
 * temp directory that `dispose()` removes.
 */
export class PulumiWorkspace {
  /** Temp directory holding the backend, PULUMI_HOME and the stack config file. */
  readonly workDir: string;
  readonly backendDir: string;
  readonly pulumiHome: string;
  readonly configFile: string;
  readonly stack: string;
  private readonly env: Record<string, string>;
  private configMoved = false;

  private constructor(
    readonly cli: PulumiCli,
    private readonly opts: WorkspaceOptions,
  ) {
    this.workDir = mkdtempSync(path.join(tmpdir(), "firewall-grants-ws-"));
    this.backendDir = path.join(this.workDir, "backend");
    this.pulumiHome = path.join(this.workDir, "pulumi-home");
    mkdirSync(this.backendDir);
    mkdirSync(this.pulumiHome);
    this.stack = opts.stack ?? `dev-${randomBytes(4).toString("hex")}`;
    this.configFile = path.join(this.workDir, `Pulumi.${this.stack}.yaml`);
    this.env = { PULUMI_BACKEND_URL: `file://${this.backendDir}`, PULUMI_HOME: this.pulumiHome, ...opts.env };
  }

  /** Creates the stack (passphrase secrets provider) in a fresh temporary backend. */
  static async create(opts: WorkspaceOptions): Promise<PulumiWorkspace> {
    const ws = new PulumiWorkspace(await ensurePulumiCli(), opts);
    try {
      const r = await ws.run(["stack", "init", ws.stack, "--secrets-provider", "passphrase"]);
      if (r.code !== 0) throw new Error(`pulumi stack init failed (exit ${r.code}): ${r.output}`);
      // Move Pulumi.<stack>.yaml (encryption salt, later the config) out of the project directory.
      const inProject = path.join(opts.projectDir, `Pulumi.${ws.stack}.yaml`);
      if (existsSync(inProject)) {
        copyFileSync(inProject, ws.configFile);
        rmSync(inProject, { force: true });
      } else {
        writeFileSync(ws.configFile, "");
      }
      ws.configMoved = true;
      return ws;
    } catch (e) {
      rmSync(ws.workDir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Runs `pulumi <args>` in the project with the stack selected; never throws on a non-zero exit. */
  run(args: readonly string[], options: RunOptions | Record<string, string> = {}): Promise<RunResult> {
    const o: RunOptions =
      "env" in options || "onOutput" in options || "timeoutMs" in options ? (options as RunOptions) : { env: options as Record<string, string> };
    const flags = args[0] === "stack" && args[1] === "init" ? [] : ["--stack", this.stack];
    if (this.configMoved && CONFIG_FILE_COMMANDS.has(args[0] ?? "")) flags.push("--config-file", this.configFile);
    flags.push("--non-interactive");
    // Flags go before a `--` (after it everything is positional, e.g. a config value).
    const dashes = args.indexOf("--");
    const full = dashes < 0 ? [...args, ...flags] : [...args.slice(0, dashes), ...flags, ...args.slice(dashes)];
    const onOutput = o.onOutput ?? this.opts.onOutput;
    const timeoutMs = o.timeoutMs ?? this.opts.timeoutMs ?? 180_000;
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const child = spawn(path.join(this.cli.binDir, "pulumi"), full, {
        cwd: this.opts.projectDir,
        env: cliEnv(this.cli.binDir, { ...this.env, ...o.env }),
        stdio: ["ignore", "pipe", "pipe"],
        detached: process.platform !== "win32", // own process group, so a timeout kills the plugins too
      });
      let stdout = "";
      let stderr = "";
      let output = "";
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid !== undefined && process.platform !== "win32") process.kill(-child.pid, "SIGKILL");
          else child.kill("SIGKILL");
        } catch {
          /* already gone */
        }
      }, timeoutMs);
      child.stdout.on("data", (d: Buffer) => {
        stdout += d;
        output += d;
        onOutput?.(d.toString());
      });
      child.stderr.on("data", (d: Buffer) => {
        stderr += d;
        output += d;
        onOutput?.(d.toString());
      });
      child.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr, output, durationMs: Date.now() - started, timedOut });
      });
    });
  }

  /** `pulumi config set [--secret] key value`. */
  async setConfig(key: string, value: string, secret = false): Promise<void> {
    const r = await this.run(["config", "set", ...(secret ? ["--secret"] : ["--plaintext"]), key, "--", value], { onOutput: () => undefined });
    if (r.code !== 0) throw new Error(`pulumi config set ${key} failed (exit ${r.code})`); // no output: it could echo the value
  }

  /** Stack outputs as JSON (secrets shown: callers must not print them blindly). */
  async outputs(): Promise<Record<string, unknown>> {
    const r = await this.run(["stack", "output", "--json", "--show-secrets"], { onOutput: () => undefined });
    if (r.code !== 0) throw new Error(`pulumi stack output failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  /** Every file the backend wrote (state, history, backups), for secret scans. */
  backendFiles(): string[] {
    return walkFiles(this.backendDir);
  }

  /** Every file under the workspace: backend, PULUMI_HOME (logs, workspace settings) and the config file. */
  allFiles(): string[] {
    return walkFiles(this.workDir);
  }

  /** The stack's checkpoint (state file) text. */
  stateText(): string {
    const file = this.backendFiles().find((f) => f.endsWith(`${path.sep}${this.stack}.json`) && f.includes(`${path.sep}stacks${path.sep}`));
    if (!file) throw new Error("state file not found");
    return readFileSync(file, "utf8");
  }

  /** The stack config file (encrypted secrets, plain settings). */
  configText(): string {
    return readFileSync(this.configFile, "utf8");
  }

  /** Removes the stack and the temporary directory (backend, PULUMI_HOME, config). Never throws. */
  async dispose(): Promise<void> {
    try {
      await this.run(["stack", "rm", "--yes", "--force", "--preserve-config"], { onOutput: () => undefined, timeoutMs: 60_000 });
    } catch {
      /* the directory goes anyway */
    }
    rmSync(path.join(this.opts.projectDir, `Pulumi.${this.stack}.yaml`), { force: true });
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

function walkFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const f of readdirSync(d)) {
      const p = path.join(d, f);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

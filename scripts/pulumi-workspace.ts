/**
 * Runs the real Pulumi CLI against a local file backend: no cloud login, no network beyond the
 * emulators. Shared by the quick-start, the engine tests and the benchmark.
 */
import { spawn, execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
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
  /** stdout + stderr */
  readonly output: string;
}

export interface WorkspaceOptions {
  /** Directory with Pulumi.yaml. */
  readonly projectDir: string;
  /** @default "dev" */
  readonly stack?: string;
  /** Extra environment for every command (device credentials for the provider, etc.). */
  readonly env?: Record<string, string>;
  /** Called with each output chunk as it arrives (progress for the quick-start). */
  readonly onOutput?: (chunk: string) => void;
}

/** One stack in a temporary file backend. */
export class PulumiWorkspace {
  readonly backendDir: string;
  readonly stack: string;
  private readonly env: Record<string, string>;

  private constructor(
    readonly cli: PulumiCli,
    private readonly opts: WorkspaceOptions,
  ) {
    this.backendDir = mkdtempSync(path.join(tmpdir(), "firewall-grants-state-"));
    this.stack = opts.stack ?? "dev";
    this.env = { PULUMI_BACKEND_URL: `file://${this.backendDir}`, ...opts.env };
  }

  /** Creates the stack (passphrase secrets provider) in a fresh temporary backend. */
  static async create(opts: WorkspaceOptions): Promise<PulumiWorkspace> {
    const ws = new PulumiWorkspace(await ensurePulumiCli(), opts);
    const r = await ws.run(["stack", "init", ws.stack, "--secrets-provider", "passphrase"]);
    if (r.code !== 0) throw new Error(`pulumi stack init failed (exit ${r.code}): ${r.output}`);
    return ws;
  }

  /** Runs `pulumi <args>` in the project with the stack selected; never throws on a non-zero exit. */
  run(args: readonly string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
    const full = args[0] === "stack" && args[1] === "init" ? [...args] : [...args, "--stack", this.stack];
    return new Promise((resolve, reject) => {
      const child = spawn(path.join(this.cli.binDir, "pulumi"), [...full, "--non-interactive"], {
        cwd: this.opts.projectDir,
        env: cliEnv(this.cli.binDir, { ...this.env, ...extraEnv }),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      let output = "";
      child.stdout.on("data", (d: Buffer) => {
        stdout += d;
        output += d;
        this.opts.onOutput?.(d.toString());
      });
      child.stderr.on("data", (d: Buffer) => {
        stderr += d;
        output += d;
        this.opts.onOutput?.(d.toString());
      });
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr, output }));
    });
  }

  /** `pulumi config set [--secret] key value`. */
  async setConfig(key: string, value: string, secret = false): Promise<void> {
    const r = await this.run(["config", "set", ...(secret ? ["--secret"] : ["--plaintext"]), key, "--", value]);
    if (r.code !== 0) throw new Error(`pulumi config set ${key} failed: ${r.output}`);
  }

  /** Stack outputs as JSON. */
  async outputs(): Promise<Record<string, unknown>> {
    const r = await this.run(["stack", "output", "--json", "--show-secrets"]);
    if (r.code !== 0) throw new Error(`pulumi stack output failed: ${r.output}`);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  /** Every file the backend wrote (state, history, backups), for secret scans. */
  backendFiles(): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = path.join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else out.push(p);
      }
    };
    walk(this.backendDir);
    return out;
  }

  /** The stack's checkpoint (state file) text. */
  stateText(): string {
    const file = this.backendFiles().find((f) => f.endsWith(`${path.sep}${this.stack}.json`) && f.includes(`${path.sep}stacks${path.sep}`));
    if (!file) throw new Error("state file not found");
    return readFileSync(file, "utf8");
  }

  /** Removes the stack and the temporary backend. */
  async dispose(): Promise<void> {
    await this.run(["stack", "rm", "--yes", "--force"]);
    rmSync(this.backendDir, { recursive: true, force: true });
  }
}

/**
 * Shared by the issue-9 engine tests (test/engine/declared*.test.ts): one stack of the data-driven
 * program test/engine/programs/declared (grants passed as JSON in env DECLARED_GRANTS, so no config
 * process runs per step), plain stack config written straight into the stack's config file, a
 * `pulumi up` that can be SIGKILLed mid-run, device-state readers, and tiny misbehaving HTTPS servers
 * (captive portal, 404 to everything).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import * as path from "node:path";
import { testdataFile } from "../../emulators/kit";
import type { OpnsenseEmulator } from "../../emulators/index";
import type { FortimanagerEmulator } from "../../emulators/index";
import { PulumiWorkspace, type RunResult } from "../../scripts/pulumi-workspace";

export const DECLARED_DIR = path.join(__dirname, "programs", "declared");

/** One resource of the declared program (see its index.ts). */
export type GrantSpec =
  | { kind: "opnsense"; name: string; address: string; alias: string; method?: "table" | "config"; description?: string; url?: string; inline?: boolean }
  | { kind: "fortigate"; name: string; address: string; object: string; group?: string; comment?: string; url?: string; inline?: boolean }
  | { kind: "fortimanager"; name: string; address: string; adminUser: string; url?: string; inline?: boolean };

/** `{code, tail}` with the tail only on failure, so a failed expectation prints the CLI's output. */
export const ok = (r: RunResult) => ({ code: r.code, tail: r.code === 0 ? "" : r.output.slice(-4000) });

/** A stack of the declared program; `grants` travels in DECLARED_GRANTS with every command. */
export class DeclaredStack {
  grants: GrantSpec[] = [];
  readonly runs: RunResult[] = [];
  private constructor(
    readonly ws: PulumiWorkspace,
    private readonly baseEnv: Record<string, string>,
    private readonly projectDir: string,
  ) {}

  /** A fresh stack in its own temp backend; `env` (device settings) goes with every command. */
  static async create(env: Record<string, string>, timeoutMs = 170_000, projectDir = DECLARED_DIR): Promise<DeclaredStack> {
    const e = { PULUMI_NODEJS_TRANSPILE_ONLY: "true", ...env };
    const ws = await PulumiWorkspace.create({ projectDir, env: e, timeoutMs });
    return new DeclaredStack(ws, e, projectDir);
  }

  /** Runs `pulumi <args>` with the current grants (and `env` for this command only). */
  async run(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
    const r = await this.ws.run(args, { env: { DECLARED_GRANTS: JSON.stringify(this.grants), ...env } });
    this.runs.push(r);
    return r;
  }

  /**
   * Replaces the stack's plain config (e.g. `opnsense:url`) by writing the config file directly (one
   * CLI process per `config set` costs seconds on a loaded machine). Secrets go through `setSecret`.
   */
  writePlainConfig(values: Record<string, string>): void {
    const text = readFileSync(this.ws.configFile, "utf8");
    const salt = /^encryptionsalt:.*$/m.exec(text)?.[0];
    const secure = [...text.matchAll(/^ {2}(\S+):\n {4}secure: (\S+)$/gm)].map((m) => `  ${m[1]}:\n    secure: ${m[2]}`);
    const plain = Object.entries(values).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`);
    const lines = [...(salt ? [salt] : []), ...(plain.length + secure.length > 0 ? ["config:", ...plain, ...secure] : [])];
    writeFileSync(this.ws.configFile, `${lines.join("\n")}\n`);
  }

  /** `pulumi config set --secret` (the value never printed). */
  setSecret(key: string, value: string): Promise<void> {
    return this.ws.setConfig(key, value, true);
  }

  /**
   * Starts `pulumi <args>` in its own process group, for a test that kills it: `kill()` SIGKILLs the
   * whole group (CLI, language host, program, provider plugin), as a CI runner cancelling a job does.
   */
  spawnKillable(args: string[], extraEnv: Record<string, string> = {}): { child: ChildProcess; done: Promise<RunResult>; kill: () => void } {
    const ws = this.ws;
    const full = [...args, "--stack", ws.stack, "--config-file", ws.configFile, "--non-interactive"];
    const env = {
      ...process.env,
      PATH: `${ws.cli.binDir}${path.delimiter}${process.env.PATH ?? ""}`,
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "firewall-grants-local",
      NO_COLOR: "1",
      PULUMI_BACKEND_URL: `file://${ws.backendDir}`,
      PULUMI_HOME: ws.pulumiHome,
      ...this.baseEnv,
      DECLARED_GRANTS: JSON.stringify(this.grants),
      ...extraEnv,
    };
    const started = Date.now();
    const child = spawn(path.join(ws.cli.binDir, "pulumi"), full, { cwd: this.projectDir, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout!.on("data", (d: Buffer) => ((stdout += d), (output += d)));
    child.stderr!.on("data", (d: Buffer) => ((stderr += d), (output += d)));
    const done = new Promise<RunResult>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, signal) => {
        const r = { code: code ?? (signal ? 128 + 9 : -1), stdout, stderr, output, durationMs: Date.now() - started, timedOut: false };
        this.runs.push(r);
        resolve(r);
      });
    });
    const kill = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* already gone */
      }
    };
    return { child, done, kill };
  }

  /**
   * The provider-plugin processes this stack's commands started that are still running (the
   * `pulumi-resource-pulumi-nodejs` shell and the dynamic-provider host under it). Pulumi starts plugins
   * in their own process groups, so killing the CLI's group does not reach them; they are found by
   * the stack's own PULUMI_HOME in their environment (Linux /proc; elsewhere none are found).
   */
  pluginProcesses(): number[] {
    return pluginPids(this.ws.pulumiHome);
  }

  /** SIGKILLs whatever {@link pluginProcesses} finds (a test must not leave them running). */
  killPlugins(): number[] {
    const pids = this.pluginProcesses();
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    return pids;
  }

  async dispose(): Promise<void> {
    this.killPlugins();
    return this.ws.dispose();
  }
}

/** Processes whose command line names a provider plugin and whose environment holds `PULUMI_HOME=<home>`. */
function pluginPids(home: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, "utf8");
      if (!/dynamic-provider|pulumi-resource-/.test(cmd)) continue;
      const env = readFileSync(`/proc/${e}/environ`, "utf8").split("\0");
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      // A zombie has exited; it only waits for its parent to reap it.
      if (/\) Z /.test(stat)) continue;
      if (env.includes(`PULUMI_HOME=${home}`)) out.push(Number(e));
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return out;
}

/** What an OPNsense alias holds: its configured content and the live pf table, both sorted. */
export function opnAlias(opn: OpnsenseEmulator, alias: string): { content: string[]; table: string[] } {
  const a = [...opn.backend.aliases.values()].find((x) => x.name === alias);
  if (!a) throw new Error(`no alias ${alias} on the emulator`);
  return { content: [...a.content].sort(), table: [...opn.backend.tableContent(alias)].sort() };
}

/** The addresses in an administrator's trusted-host slots 2..10 (IPv4 `ip/len`, IPv6 as stored), sorted. */
export function fmgSlots(fmg: FortimanagerEmulator, userid: string): string[] {
  const admin = fmg.backend.admins.get(userid);
  if (!admin) throw new Error(`no admin ${userid} on the emulator`);
  const out: string[] = [];
  for (const [k, v] of Object.entries(admin.slots as Record<string, unknown>)) {
    if (/^(ipv6_)?trusthost1$/.test(k)) continue;
    if (Array.isArray(v)) {
      if (v[0] === "255.255.255.255" && v[1] === "255.255.255.255") continue;
      out.push(`${v[0]}/${maskBits(String(v[1]))}`);
    } else if (typeof v === "string" && v.toLowerCase() !== "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128") out.push(v);
  }
  return out.sort();
}

function maskBits(mask: string): number {
  return mask.split(".").reduce((n, o) => n + Number(o).toString(2).replace(/0/g, "").length, 0);
}

/** A handful of distinct test addresses: `203.0.113.<base + i>` (RFC 5737 TEST-NET-3). */
export const addrs = (base: number, n: number): string[] => Array.from({ length: n }, (_, i) => `203.0.113.${base + i}`);

export type BadKind = "captive" | "404";

export interface BadServer {
  readonly url: string;
  readonly port: number;
  /** Requests it answered, as "METHOD /path". */
  readonly seen: string[];
  close(): Promise<void>;
}

/**
 * An HTTPS server (test-CA certificate, so TLS succeeds) that answers every request the same way:
 * "captive": 200 with a login HTML page; "404": 404 with a short HTML body, for every path.
 */
export async function startBadServer(kind: BadKind, port = 0): Promise<BadServer> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer({ key: testdataFile("server.key"), cert: testdataFile("server.crt") }, (req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    req.on("end", () => {
      const body =
        kind === "captive"
          ? '<!DOCTYPE html><html><head><title>Guest Wi-Fi</title></head><body><form action="/login">Accept the terms to continue</form></body></html>'
          : "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>";
      res.writeHead(kind === "captive" ? 200 : 404, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const p = (server.address() as AddressInfo).port;
  return {
    url: `https://localhost:${p}`,
    port: p,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Polls `cond` every 50 ms until it holds or `ms` pass; returns whether it held. */
export async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

/**
 * Shared by the engine tests of the provider plugin (plugin-*.test.ts, redteam-plugin-*.test.ts): the
 * plugin's path and the Pulumi.yaml head that loads it, the YAML language host, one stack per suite in its
 * own temp project, and an OPNsense emulator whose `grants` user can grant, wired into the stack config.
 * The CLI probe and the secret scans are in ./helpers.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { startOpnsenseEmulator, type EmulatedUser, type OpnsenseEmulator } from "../../emulators";
import { ensurePulumiCli, PulumiWorkspace, type RunResult } from "../../scripts/pulumi-workspace";
import { IN_CI, ROOT } from "./helpers";

/** The built plugin (launcher + main.js); programs name it by path, so no registry is asked. */
export const PLUGIN_DIR = path.join(ROOT, "dist", "provider", "plugin", "bin");

/** `{code, tail}` with the tail only on failure, so a failed expectation prints the CLI's output. */
export const ok = (r: RunResult) => ({ code: r.code, tail: r.code === 0 ? "" : r.output.slice(-3000) });

/** The head of a Pulumi.yaml whose program loads the firewall-grants plugin from dist/. */
export function pluginProject(name: string, runtime = "yaml"): string {
  return `name: ${name}
runtime: ${runtime}
plugins:
  providers:
    - name: firewall-grants
      path: ${PLUGIN_DIR}
`;
}

/**
 * The `config:` block and the explicit `pulumi:providers:firewall-grants` resources of a YAML program, as
 * `{provider name: its URL's config key}`: the CA, key and secret come from the shared keys `caCert`,
 * `apiKey` and `apiSecret` (the last two secret). Ends inside `resources:`, for the program's own.
 */
export function explicitOpnsenseProviders(providers: Record<string, string>): string {
  const urlKeys = [...new Set(Object.values(providers))].map((k) => `  ${k}: { type: string }\n`).join("");
  const blocks = Object.entries(providers).map(
    ([name, urlKey]) => `  ${name}:
    type: pulumi:providers:firewall-grants
    properties:
      opnsenseUrl: \${${urlKey}}
      opnsenseCaCert: \${caCert}
      opnsenseApiKey: \${apiKey}
      opnsenseApiSecret: \${apiSecret}
`,
  );
  return `config:
${urlKeys}  caCert: { type: string }
  apiKey: { type: string, secret: true }
  apiSecret: { type: string, secret: true }
resources:
${blocks.join("")}`;
}

let yamlHost: string | undefined;

/**
 * The YAML language host's directory, built once from Go modules by scripts/pulumi-yaml.sh (cached
 * afterwards). Throws when it cannot be built: in CI with the script's own error.
 */
export function yamlHostDir(): string {
  if (yamlHost) return yamlHost;
  let dir: string | undefined;
  try {
    const out = execFileSync("bash", [path.join(ROOT, "scripts", "pulumi-yaml.sh")], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], timeout: 20 * 60_000 });
    dir = out.toString().trim().split("\n").pop();
  } catch (e) {
    if (IN_CI) throw e;
  }
  if (!dir) throw new Error("scripts/pulumi-yaml.sh could not build the YAML language host (needs go and a Go module proxy)");
  yamlHost = dir;
  return dir;
}

export interface StackOptions {
  /** Directories put before the CLI's on PATH: the language host. @default the YAML host ({@link yamlHostDir}) */
  readonly hostPath?: readonly string[];
  /** Extra environment for every command (device settings, PYTHONPATH). */
  readonly env?: Record<string, string>;
  /** @default 180000 */
  readonly timeoutMs?: number;
  /** Files written beside Pulumi.yaml, by name (a Python program's `__main__.py`). */
  readonly files?: Record<string, string>;
}

/**
 * One stack of one program in a fresh temp project, created with the language host and the CLI on PATH.
 * `run` keeps every result, so a suite can check all the output it produced for secrets.
 */
export class PluginStack {
  readonly outputs: RunResult[] = [];

  private constructor(
    readonly ws: PulumiWorkspace,
    readonly projectDir: string,
    /** The PATH every command runs with (for a CLI the test spawns itself). */
    readonly pathEnv: string,
  ) {}

  static async create(prefix: string, program: string, opts: StackOptions = {}): Promise<PluginStack> {
    const hostPath = opts.hostPath ?? [yamlHostDir()];
    const cli = await ensurePulumiCli();
    const projectDir = mkdtempSync(path.join(tmpdir(), prefix));
    try {
      writeFileSync(path.join(projectDir, "Pulumi.yaml"), program);
      for (const [name, text] of Object.entries(opts.files ?? {})) writeFileSync(path.join(projectDir, name), text);
      const pathEnv = [...hostPath, cli.binDir, process.env.PATH ?? ""].join(path.delimiter);
      const ws = await PulumiWorkspace.create({ projectDir, env: { PATH: pathEnv, ...opts.env }, timeoutMs: opts.timeoutMs ?? 180_000 });
      return new PluginStack(ws, projectDir, pathEnv);
    } catch (e) {
      rmSync(projectDir, { recursive: true, force: true });
      throw e;
    }
  }

  /** `pulumi <args>`, kept in {@link outputs}. */
  readonly run = async (args: string[]): Promise<RunResult> => {
    const r = await this.ws.run(args);
    this.outputs.push(r);
    return r;
  };

  /** Replaces Pulumi.yaml: the next command runs the new program. */
  writeProgram(program: string): void {
    writeFileSync(path.join(this.projectDir, "Pulumi.yaml"), program);
  }

  async dispose(): Promise<void> {
    await this.ws.dispose();
    rmSync(this.projectDir, { recursive: true, force: true });
  }
}

export interface Creds {
  readonly key: string;
  readonly secret: string;
}

/** The OPNsense API user a grant needs: the pf table page and the alias pages. */
export function grantsUser(c: Creds): EmulatedUser {
  return {
    name: "grants",
    key: c.key,
    secret: c.secret,
    privileges: ["page-diagnostics-tables", "page-firewall-aliases", "page-firewall-alias-edit"],
    disabled: false,
  };
}

/** The stack config keys that name one OPNsense box. */
export interface OpnsenseConfigKeys {
  readonly url: string;
  readonly caCert: string;
  readonly apiKey: string;
  readonly apiSecret: string;
}

/** The default provider's keys; a program with explicit providers declares its own. */
export const DEFAULT_PROVIDER_KEYS: OpnsenseConfigKeys = {
  url: "firewall-grants:opnsenseUrl",
  caCert: "firewall-grants:opnsenseCaCert",
  apiKey: "firewall-grants:opnsenseApiKey",
  apiSecret: "firewall-grants:opnsenseApiSecret",
};

/** Points the config at `box` with `creds`; the key and the secret are stored as secrets. */
export async function configureOpnsense(ws: PulumiWorkspace, box: OpnsenseEmulator, creds: Creds, keys = DEFAULT_PROVIDER_KEYS): Promise<void> {
  await ws.setConfig(keys.url, box.url);
  await ws.setConfig(keys.caCert, box.caCert);
  await ws.setConfig(keys.apiKey, creds.key, true);
  await ws.setConfig(keys.apiSecret, creds.secret, true);
}

export interface OpnsenseSuiteOptions {
  /** Prefix of the temp project directory. */
  readonly prefix: string;
  /** Pulumi.yaml as the stack is created. */
  readonly program: string;
  /** The `grants` user's key and secret; the config holds them too unless `configCreds` says otherwise. */
  readonly creds: Creds;
  /** More API users on the box. */
  readonly otherUsers?: readonly EmulatedUser[];
  /** What the config holds instead of `creds` (a weaker user's key). */
  readonly configCreds?: Creds;
  /** @default DEFAULT_PROVIDER_KEYS */
  readonly configKeys?: OpnsenseConfigKeys;
  /** Called in beforeAll once the box runs, before the stack is created (a language host built then). */
  readonly stackOptions?: () => StackOptions;
  /** Called in afterAll before the stack is disposed of (plugin processes a kill left behind). */
  readonly beforeDispose?: (stack: PluginStack) => void;
}

export interface OpnsenseSuite {
  readonly box: OpnsenseEmulator;
  readonly stack: PluginStack;
  readonly ws: PulumiWorkspace;
}

/**
 * Registers the suite's hooks and returns a stand-in usable in tests and in hooks declared after this call:
 * - beforeAll: an OPNsense emulator with the `grants` user (and `otherUsers`), the stack of `program`, its
 *   config pointed at the box;
 * - afterAll: `beforeDispose`, the stack disposed of (project directory included), the box closed.
 */
export function useOpnsensePluginSuite(o: OpnsenseSuiteOptions): OpnsenseSuite {
  let box: OpnsenseEmulator | undefined;
  let stack: PluginStack | undefined;
  beforeAll(async () => {
    box = await startOpnsenseEmulator({ port: 0, users: [grantsUser(o.creds), ...(o.otherUsers ?? [])] });
    stack = await PluginStack.create(o.prefix, o.program, o.stackOptions?.());
    await configureOpnsense(stack.ws, box, o.configCreds ?? o.creds, o.configKeys);
  });
  afterAll(async () => {
    if (stack) o.beforeDispose?.(stack);
    await stack?.dispose();
    await box?.close();
  });
  const running = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error("the plugin suite is not set up: use it in a test or in a hook declared after useOpnsensePluginSuite()");
    return x;
  };
  return {
    get box() {
      return running(box);
    },
    get stack() {
      return running(stack);
    },
    get ws() {
      return running(stack).ws;
    },
  };
}

/**
 * The two sides of bench/peer.ts: running a command (OpenTofu, the Pulumi CLI) with a kill on timeout,
 * the OpenTofu configurations of the peer's job, our Pulumi program of the same job, the emulators'
 * control calls for the hand edit, and each tool's floor (one trivial resource created).
 */
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import * as path from "node:path";
import type { EmulatorServer } from "../emulators/kit";

export const STEP_TIMEOUT_MS = 600_000;

export type Tool = "opentofu" | "pulumi";
export type Device = "opnsense" | "fortigate";

export function executable(p: string | undefined): string | undefined {
  if (!p) return "no path given";
  try {
    accessSync(p, constants.X_OK);
    return undefined;
  } catch {
    return `${p} is not an executable file`;
  }
}

export interface Ran {
  code: number;
  output: string;
  ms: number;
}

/** Runs a command in its own process group; a timeout kills the group (the providers with it). */
export function run(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      output += `\n(killed after ${STEP_TIMEOUT_MS} ms)`;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* already gone */
      }
    }, STEP_TIMEOUT_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output, ms: performance.now() - t0 });
    });
  });
}

/** One call to an emulator control route (the hand edit an administrator makes in the UI). */
export function control(emu: EmulatorServer, method: string, action: string, body: unknown): Promise<void> {
  const url = new URL(`/__emulator/${action}`, emu.url);
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const headers = { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) };
    const req = httpsRequest(url, { method, ca: emu.caCert, headers }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`${method} ${action}: ${res.statusCode} ${text}`))));
    });
    req.on("error", reject);
    req.end(text);
  });
}

/** One tool's job on one device: how to declare a list, run a step, hand-edit, and check the device. */
export interface Job {
  tool: Tool;
  device: Device;
  job: string;
  emu: EmulatorServer;
  reconfigures?: () => number;
  /** Declares these addresses (writes the file the configuration or program reads). */
  declare: (addresses: readonly string[]) => void;
  apply: () => Promise<Ran>;
  /** A plan/preview that must show no change (exit 0). */
  noChange: () => Promise<Ran>;
  /** A plan/preview after the hand edit: returns whether it saw the drift. */
  driftCheck: () => Promise<Ran & { sawDrift: boolean }>;
  destroy: () => Promise<Ran>;
  /** Takes one address out by hand. */
  handEdit: (address: string) => Promise<void>;
  /** The addresses the device holds for this job. */
  held: () => string[];
  close: () => Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// The peer: OpenTofu

const OPNSENSE_TF = `terraform {
  required_providers {
    opnsense = { source = "browningluke/opnsense" }
  }
}
provider "opnsense" {}
resource "opnsense_firewall_alias" "peer" {
  name        = "peer_hosts"
  type        = "host"
  description = "peer bench"
  content     = toset(jsondecode(file("\${path.module}/addresses.json")))
}
`;

const FORTIOS_TF = `terraform {
  required_providers {
    fortios = { source = "fortinetdev/fortios" }
  }
}
variable "host" {}
variable "token" { sensitive = true }
variable "ca" {}
provider "fortios" {
  hostname     = var.host
  token        = var.token
  cabundlefile = var.ca
  vdom         = "root"
}
resource "fortios_firewall_address" "a" {
  for_each = toset(jsondecode(file("\${path.module}/addresses.json")))
  name     = "peer-\${each.value}"
  type     = "ipmask"
  subnet   = "\${each.value} 255.255.255.255"
  # Without it, removing an address destroys the object before the group lets go of it: -23, as on a
  # FortiGate (terraform-provider-fortios #106, #186); with it, the group is updated first.
  lifecycle {
    create_before_destroy = true
  }
}
resource "fortios_firewall_addrgrp" "g" {
  name = "peer_grp"
  dynamic "member" {
    for_each = fortios_firewall_address.a
    content {
      name = member.value.name
    }
  }
}
`;

export function tofuJob(
  tofu: string,
  dir: string,
  device: Device,
  emu: EmulatorServer,
  env: Record<string, string>,
  extra: Pick<Job, "job" | "handEdit" | "held" | "reconfigures" | "close">,
): Job {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "main.tf"), device === "opnsense" ? OPNSENSE_TF : FORTIOS_TF);
  const fullEnv = { ...process.env, ...env, TF_IN_AUTOMATION: "1", TF_INPUT: "0", CHECKPOINT_DISABLE: "1" };
  const tf = (...args: string[]) => run(tofu, [...args, "-no-color", "-input=false"], dir, fullEnv);
  return {
    tool: "opentofu",
    device,
    emu,
    ...extra,
    declare: (a) => writeFileSync(path.join(dir, "addresses.json"), JSON.stringify(a)),
    apply: () => tf("apply", "-auto-approve"),
    noChange: () => tf("plan", "-detailed-exitcode"),
    driftCheck: async () => {
      const r = await tf("plan", "-detailed-exitcode");
      return { ...r, sawDrift: r.code === 2 };
    },
    destroy: () => tf("destroy", "-auto-approve"),
  };
}

// ---------------------------------------------------------------------------------------------
// Ours: the Pulumi CLI

const PROGRAM = `"use strict";
const lib = require(process.env.BENCH_LIB);
const addresses = JSON.parse(require("fs").readFileSync(process.env.BENCH_ADDRESSES_FILE, "utf8"));
if (process.env.BENCH_DEVICE === "opnsense")
  new lib.OpnsenseAliasSet("peer", { connection: { url: process.env.BENCH_URL }, alias: "jit_admins", method: "config", addresses });
else new lib.FortigateAddressSet("peer", { connection: { url: process.env.BENCH_URL }, group: "peer_grp", addresses });
`;

export function repoRoot(): string {
  return path.basename(path.dirname(__dirname)) === "dist" ? path.join(__dirname, "..", "..") : path.join(__dirname, "..");
}

export async function pulumiJob(
  device: Device,
  emu: EmulatorServer,
  env: Record<string, string>,
  extra: Pick<Job, "job" | "handEdit" | "held" | "reconfigures" | "close">,
): Promise<Job> {
  const ws = await import("../scripts/pulumi-workspace");
  const root = repoRoot();
  // Inside the repository so the program resolves @pulumi/pulumi from its node_modules.
  const projectDir = path.join(root, "bench", ".work", `peer-${device}`);
  rmSync(projectDir, { recursive: true, force: true });
  mkdirSync(projectDir, { recursive: true });
  writeFileSync(
    path.join(projectDir, "Pulumi.yaml"),
    "name: firewall-grants-peer\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n",
  );
  writeFileSync(path.join(projectDir, "index.js"), PROGRAM);
  const addressesFile = path.join(projectDir, "addresses.json");
  const lib = path.join(root, "dist", "provider", "index.js");
  if (!existsSync(lib)) throw new Error(`${lib} not built (npm run build)`);
  const w = await ws.PulumiWorkspace.create({
    projectDir,
    env: { ...env, BENCH_DEVICE: device, BENCH_LIB: lib, BENCH_ADDRESSES_FILE: addressesFile },
    timeoutMs: STEP_TIMEOUT_MS,
  });
  const pu = async (...args: string[]): Promise<Ran> => {
    const r = await w.run(args, { onOutput: () => undefined });
    return { code: r.timedOut ? -1 : r.code, output: r.output, ms: r.durationMs };
  };
  return {
    tool: "pulumi",
    device,
    emu,
    ...extra,
    close: async () => {
      await w.dispose();
      rmSync(projectDir, { recursive: true, force: true });
      await extra.close();
    },
    declare: (a) => writeFileSync(addressesFile, JSON.stringify(a)),
    // A default `up` previews first, as `tofu apply` plans first: both are counted.
    apply: () => pu("up", "--yes"),
    noChange: () => pu("preview", "--expect-no-changes"),
    driftCheck: async () => {
      const r = await pu("preview", "--refresh", "--expect-no-changes");
      return { ...r, sawDrift: r.code !== 0 && /no changes were expected|changes were expected/i.test(r.output) };
    },
    destroy: () => pu("destroy", "--yes"),
  };
}

// ---------------------------------------------------------------------------------------------
// Floors: what each tool costs to create one resource that does nothing (no device, no provider plugin
// of ours), in the same run: the fixed cost each step above carries.

/** `tofu apply` of one `terraform_data` (built in: no provider, no registry). */
export async function tofuFloor(tofu: string, dir: string, env: Record<string, string>): Promise<Ran> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "main.tf"), 'resource "terraform_data" "floor" {\n  input = "floor"\n}\n');
  return run(tofu, ["apply", "-auto-approve", "-no-color", "-input=false"], dir, { ...process.env, ...env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" });
}

const FLOOR_PROGRAM = `"use strict";
const pulumi = require("@pulumi/pulumi");
const noop = {
  async check(_olds, news) { return { inputs: news }; },
  async diff() { return { changes: false }; },
  async create(inputs) { return { id: "floor", outs: inputs }; },
  async read(id, props) { return { id, props }; },
  async delete() {},
};
new pulumi.dynamic.Resource(noop, "floor", { input: "floor" }, {});
`;

/** `pulumi up --yes` (with its preview, as the steps) of one no-op dynamic resource. */
export async function pulumiFloor(): Promise<Ran> {
  const ws = await import("../scripts/pulumi-workspace");
  const projectDir = path.join(repoRoot(), "bench", ".work", "peer-floor");
  rmSync(projectDir, { recursive: true, force: true });
  mkdirSync(projectDir, { recursive: true });
  writeFileSync(
    path.join(projectDir, "Pulumi.yaml"),
    "name: firewall-grants-peer-floor\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n",
  );
  writeFileSync(path.join(projectDir, "index.js"), FLOOR_PROGRAM);
  const w = await ws.PulumiWorkspace.create({ projectDir, timeoutMs: STEP_TIMEOUT_MS });
  try {
    const r = await w.run(["up", "--yes"], { onOutput: () => undefined });
    await w.run(["destroy", "--yes"], { onOutput: () => undefined });
    return { code: r.timedOut ? -1 : r.code, output: r.output, ms: r.durationMs };
  } finally {
    await w.dispose();
    rmSync(projectDir, { recursive: true, force: true });
  }
}

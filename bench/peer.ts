/**
 * Side by side with a peer (issue 22): OpenTofu with browningluke/terraform-provider-opnsense and
 * fortinetdev/terraform-provider-fortios, and this package through the Pulumi CLI, doing the same job
 * against the same in-process emulators (2 ms per request, 300 ms per OPNsense reconfigure, as in
 * bench/run.ts), one step after the other in one run:
 *
 *   create      200 addresses (OPNsense: one alias holding them; FortiGate: 200 address objects in one group)
 *   no-change   a plan / preview right after: must show nothing (a field the emulator dropped would show here)
 *   add-one     201 addresses
 *   remove-one  200 again (the first one gone)
 *   drift       one address taken out by hand (the emulator's control API), then `tofu plan
 *               -detailed-exitcode` must exit 2 / `pulumi preview --refresh --expect-no-changes` must fail
 *   destroy
 *
 * Requests, writes (requests that changed device state) and OPNsense reconfigures come from the
 * emulators' request logs; wall time is the whole command (CLI start to exit). Every request a peer
 * made that the emulator answered as an unknown route (404 "Endpoint not found", FortiOS's JSON 404)
 * or with 405 is listed in `gaps` (issue 19: real peers run unmodified against the emulators).
 *
 * The peers are built by scripts/peers.sh (OpenTofu from the Go module proxy, the providers from their
 * public sources) and loaded through `dev_overrides` in a `TF_CLI_CONFIG_FILE`; without a binary the
 * part that needs it is skipped with the reason in `skipped`. BENCHMARKS.md "Peer" has the recipe.
 *
 * Each tool's floor (one resource that does nothing, created, in the same run) is reported beside the
 * rows. The two sides' commands, configurations and program are in peer-jobs.ts.
 *
 * Standalone: `node dist/bench/peer.js --tofu PATH --tofu-opnsense PATH [--tofu-fortios PATH] [--no-ours]
 * [--work-dir DIR] [--out FILE]`; a step that fails fails the run (exit 1).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { startFortigateEmulator } from "../emulators/fortigate/emulator";
import { OPNSENSE_EMULATOR_ADMIN, startOpnsenseEmulator } from "../emulators/opnsense/emulator";
import { testCaCert } from "../emulators/kit";
import { control, executable, pulumiFloor, pulumiJob, run, tofuFloor, tofuJob, type Job, type Ran } from "./peer-jobs";

const LATENCY_MS = 2;
const RECONFIGURE_MS = 300;
const N = 200;

export type PeerStep = "create" | "no-change" | "add-one" | "remove-one" | "drift" | "destroy";
export const PEER_STEPS: readonly PeerStep[] = ["create", "no-change", "add-one", "remove-one", "drift", "destroy"];

export interface PeerRow {
  /** "opentofu" (the peer) or "pulumi" (this package). */
  readonly tool: "opentofu" | "pulumi";
  readonly device: "opnsense" | "fortigate";
  /** What ran: the provider and resources, e.g. "terraform-provider-opnsense opnsense_firewall_alias". */
  readonly job: string;
  readonly step: PeerStep;
  readonly requests: number;
  /** Requests that changed device state. */
  readonly writes: number;
  /** OPNsense: reconfigures in the step. */
  readonly reconfigures?: number;
  readonly wallMs: number;
  readonly exitCode: number;
  /** The step did what it must (exit code expected, drift seen, device state as declared). */
  readonly ok: boolean;
  readonly routes: Readonly<Record<string, number>>;
  readonly note?: string;
}

export interface PeerGap {
  readonly tool: string;
  readonly device: string;
  readonly request: string;
  readonly status: number | string;
  readonly count: number;
}

export interface PeerResult {
  readonly n: number;
  readonly latencyMs: number;
  readonly reconfigureMs: number;
  readonly rows: PeerRow[];
  /** Requests the emulators answered as a route they do not know (404) or a method a path does not take (405). */
  readonly gaps: PeerGap[];
  /** Parts not run, with the reason (a missing binary, the Pulumi CLI unavailable). */
  readonly skipped: string[];
  /** `tofu version` and the provider builds' VERSIONS file (scripts/peers.sh), when found. */
  readonly versions: Record<string, string>;
  /** Each tool's floor in the same run: wall ms to create one resource that does nothing (peer-jobs.ts). */
  readonly floorMs: { opentofu?: number; pulumi?: number };
}

export interface PeerOptions {
  readonly tofu: string;
  readonly opnsenseProvider?: string;
  readonly fortiosProvider?: string;
  /** Where the configurations and state go. @default a temp directory, removed at the end */
  readonly workDir?: string;
  /** Run this package's side through the Pulumi CLI too. @default true */
  readonly ours?: boolean;
  readonly log?: (line: string) => void;
}

const addressesOf = (n: number) => Array.from({ length: n }, (_, k) => `10.${77 + Math.floor(k / 62_500)}.${Math.floor(k / 250) % 250}.${(k % 250) + 1}`);
/** The address lists of the steps: 200, then one more, then the first one gone. */
const LISTS = { create: addressesOf(N), addOne: addressesOf(N + 1), removeOne: addressesOf(N + 1).slice(1) };

async function runJob(j: Job, rows: PeerRow[], gaps: PeerGap[], log: (l: string) => void): Promise<void> {
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();
  const step = async (
    name: PeerStep,
    fn: () => Promise<Ran & { sawDrift?: boolean }>,
    expect: (r: Ran) => string | undefined,
    prepare?: () => Promise<void>,
  ) => {
    let r: Ran & { sawDrift?: boolean };
    let r0 = 0;
    try {
      // The hand edit before a step is the administrator's, not the tool's: neither counted nor timed (ms is the command's).
      await prepare?.();
      j.emu.log.clear();
      r0 = j.reconfigures?.() ?? 0;
      r = await fn();
    } catch (e) {
      r = { code: -1, output: (e as Error).message, ms: 0 };
    }
    const entries = j.emu.log.entries();
    const routes: Record<string, number> = {};
    for (const e of entries) {
      // A refused request shows its status: a route answered 401/404 is a gap to look at.
      const k = `${e.route ?? `${e.method} ${e.path}`}${typeof e.status === "number" && e.status < 400 ? "" : ` → ${e.status}`}`;
      routes[k] = (routes[k] ?? 0) + 1;
      if (e.unhandled || e.status === 405 || (e.route ?? "").includes("(absent")) {
        const request = `${e.method} ${e.path}`;
        const g = gaps.find((x) => x.tool === j.tool && x.device === j.device && x.request === request);
        if (g) (g as { count: number }).count++;
        else gaps.push({ tool: j.tool, device: j.device, request, status: e.status, count: 1 });
      }
    }
    const failed = r.code === -1 ? r.output : expect(r);
    const row: PeerRow = {
      tool: j.tool,
      device: j.device,
      job: j.job,
      step: name,
      requests: entries.length,
      writes: entries.filter((e) => e.sideEffect).length,
      ...(j.reconfigures && { reconfigures: j.reconfigures() - r0 }),
      wallMs: Math.round(r.ms),
      exitCode: r.code,
      ok: failed === undefined,
      routes,
      ...(failed !== undefined && { note: `${failed}\n${r.output.slice(-1500)}` }),
    };
    rows.push(row);
    log(
      `${j.tool.padEnd(8)} ${j.device.padEnd(9)} ${name.padEnd(10)} ${row.requests} req, ${row.writes} writes${row.reconfigures === undefined ? "" : `, ${row.reconfigures} reconf`}, ${row.wallMs} ms, exit ${r.code}${row.ok ? "" : " FAILED"}`,
    );
    return r;
  };
  const holds = (want: readonly string[]) => () =>
    same(j.held(), want) ? undefined : `the device holds ${j.held().length} addresses, expected ${want.length}`;
  const exit0 = (check?: () => string | undefined) => (r: Ran) => (r.code !== 0 ? `exit ${r.code}` : check?.());
  try {
    j.declare(LISTS.create);
    await step("create", j.apply, exit0(holds(LISTS.create)));
    await step("no-change", j.noChange, exit0());
    j.declare(LISTS.addOne);
    await step("add-one", j.apply, exit0(holds(LISTS.addOne)));
    j.declare(LISTS.removeOne);
    await step("remove-one", j.apply, exit0(holds(LISTS.removeOne)));
    let drift: Ran & { sawDrift: boolean } = { code: 0, output: "", ms: 0, sawDrift: false };
    await step(
      "drift",
      async () => (drift = await j.driftCheck()),
      () => (drift.sawDrift ? undefined : `drift not reported (exit ${drift.code})`),
      () => j.handEdit(LISTS.removeOne[0]!),
    );
    await step("destroy", j.destroy, exit0(holds([])));
  } finally {
    await j.close();
  }
}

// ---------------------------------------------------------------------------------------------

async function opnsense(): Promise<{ emu: Awaited<ReturnType<typeof startOpnsenseEmulator>>; env: Record<string, string> }> {
  const emu = await startOpnsenseEmulator({ latencyMs: LATENCY_MS, reconfigureLatencyMs: RECONFIGURE_MS });
  return { emu, env: { OPNSENSE_API_KEY: OPNSENSE_EMULATOR_ADMIN.key, OPNSENSE_API_SECRET: OPNSENSE_EMULATOR_ADMIN.secret } };
}

const aliasContent = (emu: Awaited<ReturnType<typeof startOpnsenseEmulator>>, alias: string) => () => [...(emu.backend.aliases.get(alias)?.content ?? [])];

/** Runs the peer (and, unless `ours: false`, this package) through the job; see the module comment. */
export async function runPeer(opts: PeerOptions): Promise<PeerResult> {
  const log = opts.log ?? (() => undefined);
  const rows: PeerRow[] = [];
  const gaps: PeerGap[] = [];
  const skipped: string[] = [];
  const versions: Record<string, string> = {};
  const floorMs: PeerResult["floorMs"] = {};
  const result = (): PeerResult => ({ n: N, latencyMs: LATENCY_MS, reconfigureMs: RECONFIGURE_MS, rows, gaps, skipped, versions, floorMs });
  const tofuProblem = executable(opts.tofu);
  const ownDir = opts.workDir === undefined;
  const workDir = opts.workDir ?? mkdtempSync(path.join(tmpdir(), "firewall-grants-peer-"));
  mkdirSync(workDir, { recursive: true });
  try {
    const ca = path.join(workDir, "emulator-ca.pem");
    writeFileSync(ca, testCaCert());
    // dev_overrides: the providers load from the directories the binaries are in; no registry, no `tofu init`.
    const overrides: string[] = [];
    const providers = { opnsense: opts.opnsenseProvider, fortios: opts.fortiosProvider };
    for (const [name, bin] of Object.entries(providers)) {
      const problem = bin === undefined ? "no path given" : executable(bin);
      if (problem) skipped.push(`opentofu + terraform-provider-${name}: ${problem}`);
      else {
        const dir = path.join(workDir, "providers", name);
        mkdirSync(dir, { recursive: true });
        // dev_overrides names a directory holding terraform-provider-<name>: a link keeps any file name usable.
        rmSync(path.join(dir, `terraform-provider-${name}`), { force: true });
        symlinkSync(path.resolve(bin!), path.join(dir, `terraform-provider-${name}`));
        overrides.push(`    "${name === "opnsense" ? "browningluke/opnsense" : "fortinetdev/fortios"}" = "${dir}"`);
      }
    }
    const cliConfig = path.join(workDir, "tofu.rc");
    writeFileSync(cliConfig, `provider_installation {\n  dev_overrides {\n${overrides.join("\n")}\n  }\n  direct {}\n}\n`);
    if (tofuProblem) skipped.push(`opentofu: ${tofuProblem}`);
    else {
      const v = await run(opts.tofu, ["version"], workDir, { ...process.env, CHECKPOINT_DISABLE: "1" });
      versions.tofu = v.output.split("\n").find((l) => l.startsWith("OpenTofu")) ?? v.output.trim();
      const file = path.join(path.dirname(opts.tofu), "VERSIONS");
      if (existsSync(file)) versions.builds = readFileSync(file, "utf8").trim();
    }
    // Go's TLS trusts SSL_CERT_FILE alone when it is set: the emulators' test CA, verification on.
    const tofuEnv = { TF_CLI_CONFIG_FILE: cliConfig, SSL_CERT_FILE: ca };
    if (!tofuProblem) {
      const f = await tofuFloor(opts.tofu, path.join(workDir, "tofu-floor"), tofuEnv);
      if (f.code === 0) floorMs.opentofu = Math.round(f.ms);
      else skipped.push(`opentofu floor: exit ${f.code}: ${f.output.slice(-500)}`);
      log(`opentofu floor (one terraform_data): ${Math.round(f.ms)} ms, exit ${f.code}`);
    }

    if (!tofuProblem && !skipped.some((s) => s.includes("provider-opnsense"))) {
      const { emu, env } = await opnsense();
      await runJob(
        tofuJob(
          opts.tofu,
          path.join(workDir, "tofu-opnsense"),
          "opnsense",
          emu,
          { ...tofuEnv, ...env, OPNSENSE_URI: emu.url },
          {
            job: "terraform-provider-opnsense: opnsense_firewall_alias (host) of 200",
            reconfigures: () => emu.backend.reconfigureCount,
            handEdit: (a) => control(emu, "POST", "alias-content", { alias: "peer_hosts", remove: a }),
            held: aliasContent(emu, "peer_hosts"),
            close: () => emu.close(),
          },
        ),
        rows,
        gaps,
        log,
      );
    }
    if (!tofuProblem && !skipped.some((s) => s.includes("provider-fortios"))) {
      const emu = await startFortigateEmulator({ latencyMs: LATENCY_MS });
      await runJob(
        tofuJob(
          opts.tofu,
          path.join(workDir, "tofu-fortios"),
          "fortigate",
          emu,
          {
            ...tofuEnv,
            TF_VAR_host: new URL(emu.url).host,
            TF_VAR_token: emu.token,
            TF_VAR_ca: ca,
          },
          {
            job: "terraform-provider-fortios: 200 fortios_firewall_address + fortios_firewall_addrgrp",
            handEdit: (a) => control(emu, "DELETE", "members", { group: "peer_grp", name: `peer-${a}` }),
            held: () => emu.backend.groupMembers("root", "peer_grp").map((m) => m.replace(/^peer-/, "")),
            close: () => emu.close(),
          },
        ),
        rows,
        gaps,
        log,
      );
    }
    if (opts.ours !== false) {
      try {
        await (await import("../scripts/pulumi-workspace")).ensurePulumiCli();
      } catch (e) {
        skipped.push(`pulumi: CLI not available (${(e as Error).message})`);
        return result();
      }
      const f = await pulumiFloor();
      if (f.code === 0) floorMs.pulumi = Math.round(f.ms);
      else skipped.push(`pulumi floor: exit ${f.code}: ${f.output.slice(-500)}`);
      log(`pulumi floor (one no-op dynamic resource): ${Math.round(f.ms)} ms, exit ${f.code}`);
      {
        const { emu, env } = await opnsense();
        const job = await pulumiJob(
          "opnsense",
          emu,
          { ...env, BENCH_URL: emu.url, OPNSENSE_CA_CERT: emu.caCert },
          {
            job: "OpnsenseAliasSet (config mode) of 200 in alias jit_admins",
            reconfigures: () => emu.backend.reconfigureCount,
            handEdit: (a) => control(emu, "POST", "alias-content", { alias: "jit_admins", remove: a }),
            held: aliasContent(emu, "jit_admins"),
            close: () => emu.close(),
          },
        );
        await runJob(job, rows, gaps, log);
      }
      {
        const emu = await startFortigateEmulator({ latencyMs: LATENCY_MS, groups: [{ name: "peer_grp" }] });
        const job = await pulumiJob(
          "fortigate",
          emu,
          { BENCH_URL: emu.url, FORTIGATE_TOKEN: emu.token, FORTIGATE_CA_CERT: emu.caCert },
          {
            job: "FortigateAddressSet of 200 in group peer_grp",
            handEdit: (a) => control(emu, "DELETE", "members", { group: "peer_grp", name: `grant-${a}` }),
            held: () => emu.backend.groupMembers("root", "peer_grp").map((m) => m.replace(/^grant-/, "")),
            close: () => emu.close(),
          },
        );
        await runJob(job, rows, gaps, log);
      }
    }
    return result();
  } finally {
    if (ownDir) rmSync(workDir, { recursive: true, force: true });
  }
}

/** The rows side by side: one line per device × step, ours next to the peer's. */
export function formatPeerTable(r: PeerResult): string {
  const head = `| device | step | OpenTofu requests | OpenTofu writes | OpenTofu ms | Pulumi (ours) requests | ours writes | ours ms |\n|---|---|---:|---:|---:|---:|---:|---:|`;
  const lines: string[] = [];
  for (const device of ["opnsense", "fortigate"] as const) {
    for (const step of PEER_STEPS) {
      const t = r.rows.find((x) => x.tool === "opentofu" && x.device === device && x.step === step);
      const o = r.rows.find((x) => x.tool === "pulumi" && x.device === device && x.step === step);
      if (!t && !o) continue;
      const cell = (x: PeerRow | undefined) =>
        x
          ? [`${x.requests}${x.ok ? "" : " (FAILED)"}`, `${x.writes}${x.reconfigures === undefined ? "" : ` (${x.reconfigures} reconf)`}`, String(x.wallMs)]
          : ["-", "-", "-"];
      lines.push(`| ${device} | ${step} | ${[...cell(t), ...cell(o)].join(" | ")} |`);
    }
  }
  const gaps = r.gaps.length
    ? `\nRoutes the emulators did not serve: ${r.gaps.map((g) => `${g.tool}/${g.device} ${g.request} → ${g.status} ×${g.count}`).join("; ")}`
    : "\nRoutes the emulators did not serve: none";
  const skipped = r.skipped.length ? `\nSkipped: ${r.skipped.join("; ")}` : "";
  const floor = `\nFloor (one resource that does nothing, created): OpenTofu ${r.floorMs.opentofu ?? "-"} ms, Pulumi ${r.floorMs.pulumi ?? "-"} ms`;
  return `${[head, ...lines].join("\n")}${floor}${gaps}${skipped}`;
}

function argValue(argv: readonly string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const tofu = argValue(argv, "--tofu");
  if (!tofu) {
    process.stderr.write("usage: node dist/bench/peer.js --tofu PATH --tofu-opnsense PATH [--tofu-fortios PATH] [--no-ours] [--work-dir DIR] [--out FILE]\n");
    process.exit(2);
  }
  const opnsenseProvider = argValue(argv, "--tofu-opnsense");
  const fortiosProvider = argValue(argv, "--tofu-fortios");
  const workDir = argValue(argv, "--work-dir");
  const out = argValue(argv, "--out");
  runPeer({
    tofu,
    ...(opnsenseProvider && { opnsenseProvider }),
    ...(fortiosProvider && { fortiosProvider }),
    ...(workDir && { workDir }),
    ours: !argv.includes("--no-ours"),
    log: (l) => process.stderr.write(`peer: ${l}\n`),
  })
    .then((r) => {
      process.stdout.write(`${formatPeerTable(r)}\n`);
      if (out) writeFileSync(out, `${JSON.stringify(r, null, 2)}\n`);
      // A step that failed fails the run.
      if (r.rows.some((x) => !x.ok)) process.exit(1);
    })
    .catch((e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    });
}

/** The entry `npm run bench -- --tofu …` loads (bench/run.ts `PeerModule`): the peer job, its table, and whether every step held. */
export async function benchPeer(opts: {
  tofu: string;
  tofuOpnsense?: string;
  tofuFortios?: string;
  log: (line: string) => void;
}): Promise<{ markdown: string; ok: boolean; results: PeerResult }> {
  const r = await runPeer({
    tofu: opts.tofu,
    ...(opts.tofuOpnsense !== undefined && { opnsenseProvider: opts.tofuOpnsense }),
    ...(opts.tofuFortios !== undefined && { fortiosProvider: opts.tofuFortios }),
    log: opts.log,
  });
  return { markdown: formatPeerTable(r), ok: r.rows.every((row) => row.ok) && r.gaps.length === 0, results: r };
}

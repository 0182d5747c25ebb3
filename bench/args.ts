/**
 * `npm run bench` options (BENCHMARKS.md "How to run"). Pure: parsing never touches the machine, so the
 * unit tier tests it (test/bench/args.test.ts).
 */
import * as path from "node:path";

/** Rows through the Pulumi CLI, each measured next to its floor in the same run (BENCHMARKS.md "Floors"). */
export const ENGINE_ROWS = [
  "opnsense-table",
  "opnsense-config",
  "opnsense-plugin",
  "fortigate-address",
  "fortimanager-trusted-host",
  "grant",
  "set-large",
  "set-change",
  "feed-fortigates",
  "feed-fortimanager",
  "phases",
] as const;
/** `provider`: the provider objects called in-process as the engine calls them (no CLI): per-entry, feeds, sets. */
export const ALL_ROWS = ["provider", ...ENGINE_ROWS, "peer"] as const;
export type RowId = (typeof ALL_ROWS)[number];

export const PROFILES: Readonly<Record<string, readonly RowId[]>> = {
  // Every figure issue 22 asks for, through the CLI (the peer joins when its binaries are given).
  issue22: ENGINE_ROWS,
};

export interface BenchArgs {
  readonly rows: readonly RowId[];
  /** N for per-entry rows (provider and engine). */
  readonly ns: readonly number[];
  /** Sizes for the in-process set rows (`provider`). */
  readonly setNs: readonly number[];
  /** Addresses in the `set-large` set. */
  readonly largeSetN: number;
  /** Addresses already in the set that `set-change` adds one to. */
  readonly changeSetN: number;
  /** People in the `grant` row (each with one address on an OPNsense alias, a FortiGate group and a FortiManager admin). */
  readonly people: number;
  /** FortiGates in the feed rows. */
  readonly feedDevices: number;
  /** Provider operations at once for the in-process rows (the engine's default `--parallel`). */
  readonly parallel: number;
  /** `--parallel` given to the CLI's up/preview/destroy; unset = the CLI's default (what users get). */
  readonly engineParallel?: number;
  /** Kill a CLI command (its whole process tree) after this long; the row fails. */
  readonly timeoutMs: number;
  /** Also run `up --skip-preview` (labelled), after the default `up`'s figures. */
  readonly skipPreviewToo: boolean;
  /** Another checkout (built, with dist/) whose provider is measured in the same run: before/after rows. */
  readonly baseline?: string;
  /** OpenTofu peer (bench/peer.ts): binaries' paths; the peer row is skipped without them. */
  readonly tofu?: { readonly tofu: string; readonly opnsense?: string; readonly fortios?: string };
  readonly out: string;
}

export const USAGE = `npm run bench -- [options]
  --profile issue22        every issue-22 row through the CLI (N=1000 unless --n)
  --rows a,b               only these rows: ${ALL_ROWS.join(", ")}
  --n 10,100               N for per-entry rows (default 10,100,500; 1000 with --profile)
  --set-n 100,1000         set sizes of the in-process set rows (default 100,1000,10000)
  --large-set-n 50000      addresses in set-large (default 50000)
  --change-set-n 200       addresses in the set that set-change adds one to (default 200)
  --people 100             people in the grant row (default 100, 3 devices each)
  --feed-devices 100       FortiGates in the feed rows (default 100; 3 with --quick)
  --parallel P             in-process rows' parallelism (default 4 x CPUs, the engine's)
  --engine-parallel P      pass --parallel P to the CLI's up/preview/destroy (default: the CLI's own)
  --timeout S              seconds before a CLI command's process tree is killed and its row fails
                           (default 3600; N=1000 config mode needs minutes)
  --skip-preview-too       also report up --skip-preview (labelled)
  --baseline DIR           also measure the provider of another built checkout (before/after)
  --tofu PATH --tofu-opnsense PATH --tofu-fortios PATH   the OpenTofu peer (bench/peer.ts)
  --quick                  N=10, sets of 100, 3 feed devices, set-large 1000
  --no-engine | --engine-only   legacy: only the provider row | only CLI rows
  --out FILE               JSON results (default bench/results/latest.json)
`;

const list = (v: string | undefined, flag: string): number[] => {
  const out = String(v ?? "")
    .split(",")
    .filter((s) => s !== "")
    .map(Number);
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n <= 0))
    throw new Error(`${flag} takes positive integers separated by commas, got ${JSON.stringify(v)}`);
  return out;
};
const one = (v: string | undefined, flag: string): number => {
  const [n, ...more] = list(v, flag);
  if (more.length) throw new Error(`${flag} takes one positive integer`);
  return n!;
};
const value = (v: string | undefined, flag: string): string => {
  if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value`);
  return v;
};

/** Parses the options; throws a message naming the flag on bad input. `cores` = the machine's CPUs. */
export function parseBenchArgs(argv: readonly string[], cores: number, root: string): BenchArgs & { help: boolean } {
  let rows: RowId[] | undefined;
  let profile = false;
  let ns: number[] | undefined;
  let setNs: number[] | undefined;
  let largeSetN: number | undefined;
  let changeSetN = 200;
  let people = 100;
  let feedDevices: number | undefined;
  let parallel = cores * 4;
  let engineParallel: number | undefined;
  let timeoutMs = 3_600_000;
  let skipPreviewToo = false;
  let baseline: string | undefined;
  let quick = false;
  let legacy: "no-engine" | "engine-only" | undefined;
  const tofu: { tofu?: string; opnsense?: string; fortios?: string } = {};
  let out = path.join(root, "bench", "results", "latest.json");
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => argv[++i];
    switch (a) {
      case "--profile": {
        const p = value(next(), a);
        const r = PROFILES[p];
        if (!r) throw new Error(`--profile: unknown profile ${p} (known: ${Object.keys(PROFILES).join(", ")})`);
        rows = [...new Set([...(rows ?? []), ...r])];
        profile = true;
        break;
      }
      case "--rows": {
        const names = value(next(), a)
          .split(",")
          .filter((s) => s !== "");
        const bad = names.filter((n) => !(ALL_ROWS as readonly string[]).includes(n));
        if (bad.length || names.length === 0) throw new Error(`--rows: unknown row ${bad.join(", ") || "(none)"} (known: ${ALL_ROWS.join(", ")})`);
        rows = [...new Set([...(rows ?? []), ...(names as RowId[])])];
        break;
      }
      case "--n":
        ns = list(next(), a);
        break;
      case "--set-n":
        setNs = list(next(), a);
        break;
      case "--large-set-n":
        largeSetN = one(next(), a);
        break;
      case "--change-set-n":
        changeSetN = one(next(), a);
        break;
      case "--people":
        people = one(next(), a);
        break;
      case "--feed-devices":
        feedDevices = one(next(), a);
        break;
      case "--parallel":
        parallel = one(next(), a);
        break;
      case "--engine-parallel":
        engineParallel = one(next(), a);
        break;
      case "--timeout":
        timeoutMs = one(next(), a) * 1000;
        break;
      case "--skip-preview-too":
        skipPreviewToo = true;
        break;
      case "--baseline":
        baseline = path.resolve(value(next(), a));
        break;
      case "--tofu":
        tofu.tofu = path.resolve(value(next(), a));
        break;
      case "--tofu-opnsense":
        tofu.opnsense = path.resolve(value(next(), a));
        break;
      case "--tofu-fortios":
        tofu.fortios = path.resolve(value(next(), a));
        break;
      case "--quick":
        quick = true;
        break;
      case "--no-engine":
        legacy = "no-engine";
        break;
      case "--engine-only":
        legacy = "engine-only";
        break;
      case "--out":
        out = path.resolve(value(next(), a));
        break;
      case "--help":
      case "-h":
        help = true;
        break;
      default:
        throw new Error(`unknown option ${a}\n${USAGE}`);
    }
  }
  if ((tofu.opnsense || tofu.fortios) && !tofu.tofu) throw new Error("--tofu-opnsense/--tofu-fortios need --tofu PATH (the tofu binary)");
  // Without --rows/--profile: what `npm run bench` always ran (provider methods, OPNsense per-entry through the CLI).
  rows ??=
    legacy === "no-engine"
      ? ["provider"]
      : legacy === "engine-only"
        ? ["opnsense-table", "opnsense-config"]
        : ["provider", "opnsense-table", "opnsense-config"];
  if (tofu.tofu && !rows.includes("peer")) rows = [...rows, "peer"];
  return {
    rows,
    ns: ns ?? (quick ? [10] : profile ? [1000] : [10, 100, 500]),
    setNs: setNs ?? (quick ? [100] : [100, 1000, 10000]),
    largeSetN: largeSetN ?? (quick ? 1000 : 50_000),
    changeSetN,
    people: quick ? Math.min(people, 10) : people,
    feedDevices: feedDevices ?? (quick ? 3 : 100),
    parallel,
    timeoutMs,
    ...(engineParallel !== undefined && { engineParallel }),
    skipPreviewToo,
    ...(baseline !== undefined && { baseline }),
    ...(tofu.tofu !== undefined && {
      tofu: { tofu: tofu.tofu, ...(tofu.opnsense && { opnsense: tofu.opnsense }), ...(tofu.fortios && { fortios: tofu.fortios }) },
    }),
    out,
    help,
  };
}

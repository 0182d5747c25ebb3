/**
 * What a device's code half declares (provider/devices/<device>/device.ts), the shape registry.ts
 * lists. Its own module so that a device's device.ts names the shape without importing the registry.
 */
import type { EmulatorServer, EmulatorServerOptions } from "../emulators/kit";
import type { GrantProvider } from "./core/grant-lifecycle";
import type { DeviceSettings, ResourceNames } from "./core/device-data";
import type { PreflightStep } from "./core/preflight-steps";

/** Credentials or settings of one seeded user, by setting key (`{ apiKey, apiSecret }`). */
export type SeededUser = Readonly<Record<string, string>>;
/** The two users every seeded emulator has: every privilege a grant needs, and too few (preview fails with a permission code). */
export interface SeededUsers<T = SeededUser> {
  readonly full: T;
  readonly weak: T;
}

/** Where a seeded emulator listens. */
export interface EmulatorTarget {
  readonly url: string;
  readonly caCert: string;
}

/** One grant resource of a device. */
export interface GrantResourceEntry {
  readonly names: ResourceNames;
  readonly resourceClass: abstract new (...args: never[]) => unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each resource has its own inputs; callers pass plain records
  readonly provider: GrantProvider<any, any>;
  /** Name-like inputs (the hostile-input table sends hostile names to each). */
  readonly nameFields: readonly string[];
  /**
   * The resource's declared preflight steps, in the order `check` runs them (provider/core/preflight-steps.ts):
   * `doctor` prints them and marks the failed one from `failedStep(e)`. Typed by no context, so that
   * every device's steps fit one registry. @default none (`doctor` shows one "permission preflight" line)
   */
  readonly preflight?: readonly PreflightStep<never>[];
  /**
   * The set over the same target (provider/core/set-lifecycle.ts), whose `check` takes these sample
   * inputs with `addresses` for `address`: the cross-device tables send it the same hostile input. @default none
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as `provider`
  readonly setProvider?: GrantProvider<any, any>;
  /** Valid `check` inputs against a seeded emulator, with `creds` inline (none: settings from config or the environment). */
  sampleInputs(target: EmulatorTarget, creds: SeededUser | undefined): Record<string, unknown>;
}

/** What `firewall-grants emulate` starts for a device and prints. */
export interface DemoEmulator<E extends EmulatorServer = EmulatorServer, Info = unknown> {
  readonly server: E;
  /** The device's part of `--json` / emulators.json. */
  readonly info: Info & { readonly url: string };
  /** Environment for `env.sh` (the device's `<DEVICE>_CA_CERT` is added by `emulate`). */
  readonly env: Readonly<Record<string, string>>;
  /** Lines of the human-readable summary. */
  readonly summary: readonly string[];
}

export interface DeviceEmulatorEntry<E extends EmulatorServer = EmulatorServer, Snapshot = unknown, Info = unknown> {
  /** The public start function (exported from `pulumi-firewall-grants/emulator`). */
  readonly start: (opts?: never) => Promise<E>;
  /**
   * The seeded-credential shape: per secret setting key, the field name of the fixtures' flat
   * credentials (scripts/engine-fixture.ts `Credentials`), for each seeded user.
   */
  readonly credentials: SeededUsers<Readonly<Record<string, string>>>;
  /** Non-secret settings the seeded users need (e.g. the FortiManager API administrator's id). @default none */
  readonly userSettings?: SeededUsers;
  /** Starts the emulator with the two users (credentials by setting key) and the targets `sampleInputs` name. */
  seeded(opts: EmulatorServerOptions, users: SeededUsers): Promise<E>;
  /** Everything a grant can change, as plain JSON (compare before/after a run). */
  snapshot(e: E): Snapshot;
  /** `firewall-grants emulate`: demo users with random credentials (files go to `dir`). */
  demo(opts: EmulatorServerOptions, dir: string, random: (bytes?: number) => string): Promise<DemoEmulator<E, Info>>;
}

/** What a benchmark scenario starts: the emulator, one grant's inputs per address, what to compare before and after. */
export interface BenchRun {
  readonly emu: EmulatorServer;
  readonly inputs: Record<string, unknown>[];
  /** Reloads the device made (OPNsense `reconfigure`), counted per phase. */
  readonly reconfigures?: () => number;
  readonly state: () => unknown;
  /** Device work to end before the bench closes the transport (e.g. FortiManager sessions' logout). */
  readonly release?: () => Promise<void>;
  readonly close: () => Promise<void>;
}

/** A provider-method benchmark of a device: bench/run.ts times check, create, read and delete of N grants. */
export interface BenchScenario {
  /** The row's mode (`table`, `group`, `token, 9/admin`). */
  readonly mode: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as GrantResourceEntry's `provider`
  readonly provider: GrantProvider<any, any>;
  /** How many targets (aliases, administrators) N grants spread over. */
  targets(n: number): number;
  /** Also run with every grant at once (`--parallel` ≥ N): a batcher's best case. @default false */
  readonly allAtOnce?: boolean;
  start(addresses: readonly string[], latency: { readonly latencyMs: number; readonly reconfigureLatencyMs: number }): Promise<BenchRun>;
}

export interface DeviceEntry<E extends EmulatorServer = EmulatorServer, Snapshot = unknown, Info = unknown> {
  readonly settings: DeviceSettings;
  readonly resources: readonly GrantResourceEntry[];
  readonly emulator: DeviceEmulatorEntry<E, Snapshot, Info>;
  /** Provider-method benchmarks (`npm run bench`). @default none */
  readonly bench?: readonly BenchScenario[];
}

/**
 * Glue between the device resources and Pulumi's dynamic-provider host, shared by all three devices:
 * the serialisable provider shim, stack-config/environment settings, unknown-value handling and the
 * zod → CheckFailure mapping.
 */
import { connect } from "node:net";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { processState, shared } from "./process-state";
import { booleanSetting as parseBoolean, registeredStackConfigKeys, resolveSetting, type SettingsNamespace } from "./settings";

/** The string the Node SDK sends for a value that is unknown during preview (sdk/nodejs/runtime/rpc.ts). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True when `v` or anything inside it is unknown (preview of a value that depends on another resource). */
export function hasUnknown(v: unknown): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(hasUnknown);
  if (v && typeof v === "object") return Object.values(v).some(hasUnknown);
  return false;
}

/**
 * A package-root export name of a resource's provider object. A string here (the core knows no
 * device); test/devices.test.ts proves every registered name is exported by the package root.
 */
export type ProviderExportName = string;

const PACKAGE_NAME = "pulumi-firewall-grants";

/**
 * The provider that is serialised into state: a thin object that loads this library inside each
 * method and forwards the call. So a library upgrade reaches `refresh`/`destroy` of existing stacks
 * (they run the code stored in state, docs/reference/pulumi.md §2), and nothing unserialisable is
 * captured. It loads the package by name first; when the program runs from a checkout where the name
 * does not resolve, it falls back to the absolute path that was current when the program ran.
 */
export function providerShim(exportName: ProviderExportName): pulumi.dynamic.ResourceProvider {
  const packageName = PACKAGE_NAME;
  const fallbackPath = path.join(__dirname, "..", "index.js");
  const load = (): pulumi.dynamic.ResourceProvider => {
    let lib: Record<string, unknown>;
    try {
      lib = require(packageName);
    } catch (e) {
      const err = e as { code?: string; message?: string };
      if (err.code !== "MODULE_NOT_FOUND" || !String(err.message).includes(`'${packageName}'`)) throw e;
      lib = require(fallbackPath);
    }
    return lib[exportName] as pulumi.dynamic.ResourceProvider;
  };
  return {
    configure: async (req) => load().configure?.(req),
    check: (olds, news) => load().check!(olds, news),
    diff: (id, olds, news) => load().diff!(id, olds, news),
    create: (inputs) => load().create(inputs),
    read: (id, props) => load().read!(id, props),
    update: (id, olds, news) => load().update!(id, olds, news),
    delete: (id, props) => load().delete!(id, props),
  };
}

/** True inside the engine's dynamic-provider host (not when a test, the bench or `doctor` calls a provider). */
export function inProviderHost(): boolean {
  return /[\\/]cmd[\\/]dynamic-provider[\\/]/.test(require.main?.filename ?? process.argv[1] ?? "");
}

/** Why the transport refuses every request once the engine is gone (the error nobody may see, but a log might). */
export const ENGINE_GONE =
  "the Pulumi engine that started this provider process is gone (the CLI was killed), so no state would record the change; `pulumi cancel`, then `up` or `destroy`, reconciles";

/** How long a process whose engine is gone waits for a set change to take back what it added before it exits. */
export const RESTORE_GRACE_MS = 3000;

/**
 * Inside the engine's dynamic-provider host, stops device work once the engine is gone (see {@link watchEngine}).
 * Called when the library loads; anywhere else (a program, tests, the bench, `doctor`) it does nothing.
 */
export function watchEngineInProviderHost(): void {
  const address = process.argv[2];
  if (inProviderHost() && address) shared("dynamic-kit.engine-watch", () => watchEngine({ address }));
}

/**
 * Watches the engine's gRPC address (`host:port`, the host's first argument) and, once nothing listens
 * there, sets the process-wide `engineGone` flag — the transport then sends no request, except a failed set
 * change taking back what it added (process-state.ts `restoring`, at most {@link RESTORE_GRACE_MS}) — and exits.
 * Pulumi starts a plugin in a process group of its own, through a shell that runs node without `exec`
 * (`pulumi-resource-pulumi-nodejs`): a kill of the CLI's group misses the provider, and its parent, the
 * shell, stays alive, so neither the signal nor the parent pid tells. A listening socket closes with its
 * process, even one killed with SIGKILL: one idle connection to it is held (unreferenced, so it never keeps
 * the process alive); when it closes, a new connect answers "refused" once the engine is gone, within
 * milliseconds of the kill. Other failures are retried every 250 ms.
 */
export function watchEngine(opts: { address: string; exit?: () => void; retryMs?: number }): { stop(): void } {
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(opts.address);
  if (!m) return { stop: () => undefined };
  const host = m[1]!;
  const port = Number(m[2]);
  const retryMs = opts.retryMs ?? 250;
  const exit = opts.exit ?? (() => process.exit(1));
  let stopped = false;
  let current: ReturnType<typeof connect> | undefined;
  const again = (ms: number) => {
    if (!stopped) setTimeout(hold, ms).unref();
  };
  function hold(): void {
    if (stopped) return;
    const since = Date.now();
    let connected = false;
    const sock = connect({ host, port });
    current = sock;
    sock.unref();
    sock.on("connect", () => (connected = true));
    sock.on("data", () => undefined);
    sock.on("error", (e: NodeJS.ErrnoException) => {
      if (stopped || connected || e.code !== "ECONNREFUSED") return;
      stopped = true;
      const state = processState();
      state.engineGone = ENGINE_GONE;
      // A set change cut short takes back what it added first (set-lifecycle.ts), for a bounded time.
      const cap = new Promise((r) => setTimeout(r, RESTORE_GRACE_MS).unref());
      const settled = async () => {
        // A take-back starts only once the change it undoes has failed: wait until nothing is left.
        while (state.restoring.size > 0) await Promise.all([...state.restoring]);
      };
      void Promise.race([settled(), cap]).then(exit);
    });
    // A close the engine itself made (a live one drops idle connections) is followed by a new connect,
    // at once unless connections keep closing quickly.
    sock.on("close", () => again(connected && Date.now() - since > 1000 ? 0 : retryMs));
  }
  hold();
  return {
    stop: () => {
      stopped = true;
      current?.destroy();
    },
  };
}

/**
 * Stores the stack config the engine hands to `configure` (secrets arrive decrypted; never logged):
 * every `<device>:<key>` the device registry handed over when it loaded (device-settings.ts calls
 * `registerStackConfigKeys`), so a registered device's config is never dropped. `keys` is for tests
 * that register a device of their own.
 */
export async function configureFromStack(
  req: { config: { get(key: string): string | undefined } },
  keys: readonly string[] = registeredStackConfigKeys(),
): Promise<void> {
  const config: Record<string, string> = {};
  for (const k of keys) {
    const v = req.config.get(k);
    if (v !== undefined) config[k] = v;
  }
  processState().config = config;
}

/**
 * A connection setting as the user gave it inline, else from stack config (`<device>:<key>`), else
 * from the environment (`<DEVICE>_<KEY>` in upper snake case, e.g. `OPNSENSE_API_SECRET`).
 * `resolveSetting` (settings.ts) also tells where the value came from.
 */
export function setting(device: SettingsNamespace, key: string, inline: string | undefined): string | undefined {
  return resolveSetting(device, key, inline).value;
}

/** Parses `"true"`/`"false"` settings from config or the environment. */
export const booleanSetting = parseBoolean;

/** The arguments every grant resource shares: what is granted, under the rules of address.ts. */
export interface GrantAddressArgs {
  /**
   * One IPv4 or IPv6 host or CIDR; `203.0.113.7` ≡ `203.0.113.7/32`. Anything else (lists, host names,
   * zone ids, leading zeros, host bits set) is refused at `check`. Where a device splits the families,
   * IPv6 goes to its IPv6 objects (FortiGate `address6`/`addrgrp6`, FortiManager `ipv6_trusthostN`).
   */
  readonly address: pulumi.Input<string>;
  /** Allow prefixes broader than /8 (IPv4) or /32 (IPv6). @default false */
  readonly allowBroad?: pulumi.Input<boolean>;
  /** Why this access exists (a person, a ticket); kept in state, and written to the device where it has a field for it. */
  readonly description?: pulumi.Input<string>;
  /**
   * When the grant ends, as ISO 8601 with a zone (`2026-12-01T18:00:00Z`). After that time the scheduled
   * drift check (`preview --refresh --expect-no-changes`) exits 7 and the next `up` revokes the grant
   * (it stays in state as `expired: true`). A time already passed is refused when the grant is created.
   * @default no expiry
   */
  readonly expiresAt?: pulumi.Input<string>;
}

export interface CheckFailure {
  readonly property: string;
  readonly reason: string;
}

/**
 * zod issues as CheckFailures naming the field and the rule. A failure inside a secret field is
 * reported with property "" — the CLI prints the value of a named property, and it would print the
 * secret in clear (docs/reference/pulumi.md §1.4). An unknown field is reported under its own name
 * (one failure per field), not under the object that holds it.
 * @internal
 */
export function checkFailures(error: z.ZodError, secretFields: readonly string[] = ["credentials"]): CheckFailure[] {
  return error.issues.flatMap((issue) => {
    const named =
      issue.code === "unrecognized_keys"
        ? issue.keys.map((k) => ({ path: [...issue.path, k], message: "is not an input of this resource (check the spelling and the nesting)" }))
        : [{ path: issue.path, message: issue.message }];
    return named.map(({ path, message }) => {
      const dotted = path.map(String).join(".");
      const secret = secretFields.includes(String(path[0]));
      return secret ? { property: "", reason: `${dotted}: ${message}` } : { property: dotted, reason: dotted === "" ? message : `${dotted}: ${message}` };
    });
  });
}

const KINDS: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "an object",
  array: "a list",
  null: "null",
};
/** What a value is, for a message: its kind only, never its text (it may be a secret). */
function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "number" && Number.isFinite(v) && !Number.isInteger(v)) return "a fraction";
  return KINDS[typeof v] ?? typeof v;
}
const quoted = (vs: readonly unknown[]) => vs.map((v) => JSON.stringify(v)).join(", ");

/**
 * The rule of a zod issue that carries no message of its own, worded for an input (zod's defaults —
 * "Invalid input", "Invalid input: expected string, received number" — name neither the rule nor what
 * to give). Passed as the error map of every input parse (grant-lifecycle `check`); a schema's own
 * message wins over it. Never quotes the value given, which may be a secret.
 * @internal
 */
export function inputIssueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type": {
      const want = KINDS[issue.expected] ?? issue.expected;
      return issue.input === undefined ? `is required (${want})` : `must be ${want}, not ${kindOf(issue.input)}`;
    }
    case "invalid_value":
      return issue.values.length === 1 ? `must be ${quoted(issue.values)}` : `must be one of ${quoted(issue.values)}`;
    case "invalid_union": {
      // An input of the right kind for one alternative fails inside it: its own problems say what to fix.
      const inner = issue.errors.filter((errs) => errs.some((e) => e.path.length > 0 || e.code !== "invalid_type"));
      if (inner.length === 1) return inner[0]!.map((e) => (e.path.length > 0 ? `${e.path.map(String).join(".")}: ${e.message}` : e.message)).join("; ");
      const wants = issue.errors.flatMap((errs) =>
        errs.flatMap((e) => (e.code === "invalid_type" && e.path.length === 0 ? [KINDS[e.expected] ?? e.expected] : [])),
      );
      return `must be ${[...new Set(wants)].join(" or ") || "one of the accepted forms"}, not ${kindOf(issue.input)}`;
    }
    case "too_big":
      return `must ${issue.origin === "array" || issue.origin === "set" ? "have at most" : "be at most"} ${String(issue.maximum)}${issue.origin === "string" ? " characters" : issue.origin === "array" ? " entries" : ""}`;
    case "too_small":
      if (issue.origin === "string" && Number(issue.minimum) === 1) return "must not be empty";
      return `must ${issue.origin === "array" || issue.origin === "set" ? "have at least" : issue.inclusive === false ? "be more than" : "be at least"} ${String(issue.minimum)}${issue.origin === "string" ? " characters" : issue.origin === "array" ? " entries" : ""}`;
    case "invalid_format":
      return issue.format === "regex" && "pattern" in issue ? `must match ${String(issue.pattern)}` : `must be a valid ${issue.format}`;
    case "unrecognized_keys":
      return `holds ${issue.keys.length === 1 ? "a field" : "fields"} this input does not have: ${quoted(issue.keys)} (check the spelling)`;
    case "custom":
      return "is not valid for this field";
    default:
      return undefined;
  }
}

/** Resource options with `names` added to `additionalSecretOutputs`. */
export function withSecretOutputs(opts: pulumi.CustomResourceOptions | undefined, names: readonly string[]): pulumi.CustomResourceOptions {
  return { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...names] };
}

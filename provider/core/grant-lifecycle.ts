/**
 * The Pulumi lifecycle every grant resource shares (issue 9, "write the Pulumi layer once"): each
 * device fills in a {@link GrantLifecycle} — its input schema, how to reach the device, and the device
 * work — and {@link grantProvider} turns it into the dynamic provider. So these rules hold for every
 * device alike:
 * - `check`: values unknown during preview are validated with stand-ins and skip all I/O; bad input is
 *   a CheckFailure naming the field and the rule (never a secret's value); a missing or invalid setting
 *   names where it came from; then the permission preflight runs.
 * - The device is pinned: `check` records the effective device (URL origin, plus VDOM where it scopes
 *   the grant), whatever route the settings took, in the inputs as `device`. `diff` replaces when it
 *   changes; `read`, `update` and `delete` go to the pinned device, never to whatever the settings say now.
 * - Delete revokes, adopted or not; a grant whose target+address another grant of this program still
 *   declares is kept ("last one out turns off the lights": the engine deletes removed resources after
 *   the program registered — and so `check`ed — everything, docs/reference/pulumi.md §1.2).
 * - Operations on one target+address run one at a time in the process (two grants of one address).
 * - Outputs are complete: no `undefined` anywhere (the engine's protobuf encoding refuses it).
 * - Every failure leaves as a diagnosis ({@link diagnosed}); a failure on a pinned device that the
 *   settings no longer point at says so, and what to do.
 */
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { diagnosed, type DeviceFamily } from "./diagnosis";
import { checkFailures, configureFromStack, hasUnknown, inProviderHost, inputIssueMessage, UNKNOWN, type CheckFailure } from "./dynamic-kit";
import { GrantError, isGrantError } from "./errors";
import { declareShared, runQueued, shared, sharedDeclarers } from "./process-state";
import { trackedOperation } from "./read-coalescer";
import { resolveSetting, SettingProblem, type SettingsNamespace } from "./settings";
import { deviceTextField } from "./text-rules";
import { alreadyExpired, expiresAtField, isDue } from "./time-box";

/** The input fields every grant shares beside its address, validated once (spread into each device's schema). @internal */
export const grantMetaFields = {
  // Written to the device where it has a field for it (a FortiGate set entry's comment: 255 bytes).
  description: deviceTextField(255, "FortiOS")
    .optional()
    .describe("Why this access exists (a person, a ticket); kept in state, and written to the device where it has a field for it."),
  expiresAt: expiresAtField.describe(
    "When the grant ends, as ISO 8601 with a zone (`2026-12-01T18:00:00Z`); after it the drift check exits 7 and the next `up` revokes the grant.",
  ),
};

/** The device a grant is on, recorded in state (SPEC §3 "The device is pinned"). */
export interface DevicePin {
  /** Origin of the device URL, `https://host[:port]`. */
  readonly url: string;
  /** The FortiGate VDOM (or other scope) the grant lives in, where the device has one. */
  readonly scope?: string;
}

/** Fields the lifecycle adds to every resource's inputs and state. */
export interface PinnedState {
  readonly device?: DevicePin;
  /** The resource's logical name, set by the resource class: it tells two grants of one address apart. */
  readonly grantName?: string;
  /** True once `expiresAt` passed and `up` revoked the grant; it stays in state so previews stay clean. */
  readonly expired?: boolean;
}

/**
 * What a preflight could not prove (its outcome's `unverified`: a right only the write itself shows, SPEC §5), said in
 * the preview's output once per process and text — never a silent pass.
 */
function sayUnproven(outcome: unknown): void {
  const text = (outcome as { unverified?: unknown } | undefined)?.unverified;
  if (typeof text !== "string" || text === "" || process.env.FIREWALL_GRANTS_QUIET === "1") return;
  const said = shared("grant-lifecycle.unproven-said", () => new Set<string>());
  if (said.has(text)) return;
  said.add(text);
  process.stderr.write(`warning: preview could not prove every right: ${text}\n`);
}

/** How much of the preflight `check` runs: `<device>:preflight` / `<DEVICE>_PREFLIGHT`. @default "full" */
export type PreflightMode = "full" | "read" | "off";

/** What a device plugs into the shared lifecycle. `I` = checked inputs, `S` = state, `C` = a live connection. @internal */
export interface GrantLifecycle<I extends object, S extends I, C> {
  /** Settings namespace (`opnsense:url`, `OPNSENSE_URL`). */
  readonly namespace: SettingsNamespace;
  /** Diagnosis family for the last-resort diagnosis. */
  readonly family: DeviceFamily;
  /** The strict schema of the inputs (connection, credentials, grant fields). */
  readonly schema: z.ZodType<I>;
  /** Valid stand-ins for top-level fields unknown during preview, so only known fields are validated. */
  readonly placeholders: Readonly<Record<string, unknown>>;
  /** State-only fields; dropped from new inputs before parsing (the engine may hand old outputs back). */
  readonly outputOnly: readonly string[];
  /** Fields whose change replaces the grant (the pinned device always does). */
  readonly identity: readonly (keyof I & string)[];
  /** Canonical forms (e.g. the address), so a cosmetic rewrite is never a diff. */
  normalise(inputs: I): I;
  /** Equality of one identity field (default: strict equality). */
  same?(field: keyof I & string, a: unknown, b: unknown): boolean;
  /** The device these inputs point at now (URL and scope only; no credential needed). Throws SettingProblem. */
  pin(inputs: I): DevicePin;
  /** A connection to `pin` with the inputs' credentials. Throws SettingProblem. */
  connect(inputs: I, pin: DevicePin): C;
  /** `host[:port]` for messages. */
  hostOf(pin: DevicePin): string;
  /** The target+address this grant holds on the device, for the shared-address rule. */
  sharedKey(inputs: I, pin: DevicePin): string;
  /**
   * More target+address keys this resource declares (a set: one per listed address, in the same form
   * as the per-entry resource's `sharedKey`), registered by `check` beside `sharedKey` so that the
   * shared-address rule holds per address between sets and per-entry grants (issue 13). @default none
   */
  sharedKeys?(inputs: I, pin: DevicePin): readonly string[];
  /**
   * The target+address keys of what this resource still holds on the device according to `state` (after a
   * read: what the device holds), for expiry: an expired resource holding nothing, or only what another
   * resource of the program declares, is simply expired. @default `[sharedKey]` (a per-entry grant)
   */
  heldKeys?(state: S, pin: DevicePin): readonly string[];
  /**
   * Called by `check` for a resource not yet in state, after the preflight (not with preflight off): may
   * read the device and warn (on stderr, which reaches the preview) about what its first `up` will do.
   */
  previewCreate?(c: C, inputs: I, pin: DevicePin): Promise<void>;
  /**
   * The side-effect-free permission preflight (cached by the device code). `read` proves only what a
   * drift check needs (authentication and read access to the target), for least-privilege CI keys.
   */
  preflight(c: C, inputs: I, mode: Exclude<PreflightMode, "off">): Promise<unknown>;
  /** Puts the grant on the device (or adopts it); returns the id and the device-reported fields. */
  create(c: C, inputs: I): Promise<{ id: string; outs: Omit<S, keyof I> & Partial<S> }>;
  /** What the device holds now: `undefined` when the grant is gone. */
  read(c: C, state: S): Promise<Partial<S> | undefined>;
  /** In-place change of non-identity fields; returns what changed on the device. @default no device call */
  update?(c: C, olds: S, news: I): Promise<Partial<S>>;
  /** Removes the grant; success when it is already gone. */
  remove(c: C, state: S): Promise<unknown>;
  /** Whether the old grant must go before its replacement is created (same name on the device). */
  deleteBeforeReplace(replaces: readonly string[]): boolean;
  /** Extra reasons for an in-place update that input comparison cannot see (e.g. a lost membership). */
  needsUpdate?(olds: S, news: I): boolean;
}

type Raw = Record<string, unknown>;

/**
 * The same target+address on a device named by any URL (the pin's URL left out of the key) → the grants of this
 * run that declare it, by name and pinned URL, with a way to put their entry back (their `create`: adopt or write).
 * The same box under another URL (an IP for its DNS name, a second port forward) cannot be told from another box
 * by its URL, and OPNsense and a least-privilege FortiManager admin offer no identity the grant's rights can read.
 * So when a delete removes an entry that a grant created or adopted in this run (`live`: a replacement moved to a
 * new URL is created before the old one is deleted) declares through another URL, that grant's entry is put back
 * through its own URL and confirmed there (issue 19). On two boxes it is found in place (reads only).
 */
interface Elsewhere {
  readonly name: string;
  readonly url: string;
  readonly reassert: () => Promise<unknown>;
  /** The inputs its latest check gave (what a put-back writes). */
  inputs: object;
  /** Its create or update succeeded in this run, and no delete of it followed. */
  live: boolean;
}
function elsewhere(): Map<string, Map<string, Elsewhere>> {
  return shared("grant-lifecycle.elsewhere", () => new Map<string, Map<string, Elsewhere>>());
}
/** Every registration of grant `name` on `url` (one per key it declares), for marking it live or gone. */
function registrations(): Map<string, Elsewhere> {
  return shared("grant-lifecycle.elsewhere-by-grant", () => new Map<string, Elsewhere>());
}
/** One grant on one URL holding one target+address (a replacement on the same URL holds another key). */
const grantId = (name: string | undefined, url: string, key: string) => `${name ?? ""}\u0000${url}\u0000${key}`;
const markLive = (name: string | undefined, url: string, key: string, live: boolean) => {
  const e = registrations().get(grantId(name, url, key));
  if (e) e.live = live;
};
const ANY_URL = "\u0000any-url";

/** Names of the resources whose `check` ran in this process: the program ran (preview or up), not only a refresh. */
function checkedNames(): Set<string> {
  return shared("grant-lifecycle.checked", () => new Set<string>());
}

/**
 * True when the program declared the resource `name` in this process. The engine also calls `diff` to show
 * what a refresh found, before (or without) running the program; a warning about what `up` will do belongs
 * only to a diff against the program, where every other declaration is known.
 */
export function checkedInRun(name: string | undefined): boolean {
  return name !== undefined && checkedNames().has(name);
}

/**
 * True when a grant other than `name` declares `key` in this run (exported for set resources, which
 * apply the rule per address when they remove entries).
 */
export function declaredByOther(key: string, name: string | undefined): boolean {
  return otherDeclarers(key, name).length > 0;
}

/** The names of the grants other than `name` that declare `key` in this run, sorted (for messages). */
export function otherDeclarers(key: string, name: string | undefined): string[] {
  return [...sharedDeclarers(key)].filter((n) => n !== name).sort();
}

/**
 * The engine shows a provider error on its resource (the gRPC error's message); the dynamic-provider
 * host also prints `${e}: ${e.stack}` to stderr, which repeated the whole diagnosis twice more under the
 * stack, with frames into the library. So the error that leaves a provider method prints as one short
 * line there; the full diagnosis stays its message, and the original is kept as `cause`.
 */
function shownOnce(e: unknown): unknown {
  if (!isGrantError(e) || !inProviderHost()) return e;
  const line = `${e.code} ${e.title} on ${e.host} (the diagnosis is shown on the resource)`;
  Object.defineProperty(e, "stack", { value: "", configurable: true, writable: true });
  Object.defineProperty(e, "toString", { value: () => line, configurable: true, writable: true });
  return e;
}

/** The preflight setting of `ns` (stack config `<ns>:preflight`, env `<NS>_PREFLIGHT`); throws SettingProblem on a bad value. */
export function preflightMode(ns: SettingsNamespace): PreflightMode {
  const r = resolveSetting(ns, "preflight", undefined);
  if (r.value === undefined) return "full";
  if (r.value === "full" || r.value === "read" || r.value === "off") return r.value;
  throw new SettingProblem("", `${r.from}: must be "full", "read" or "off"`);
}

/** Drops `undefined` everywhere (the engine refuses it in outputs, issue 9 item 7). */
export function complete<T>(v: T): T {
  if (Array.isArray(v)) return v.map(complete) as T;
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v as Raw)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, complete(x)]),
    ) as T;
  }
  return v;
}

/** Stable JSON for comparing input values (key order ignored, undefined dropped). */
function stable(v: unknown): string {
  const norm = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(norm)
      : x && typeof x === "object"
        ? Object.fromEntries(
            Object.keys(x as Raw)
              .sort()
              .filter((k) => (x as Raw)[k] !== undefined)
              .map((k) => [k, norm((x as Raw)[k])]),
          )
        : x;
  return JSON.stringify(norm(v) ?? null);
}

const isPin = (v: unknown): v is DevicePin => typeof v === "object" && v !== null && typeof (v as Raw).url === "string";

export const samePin = (a: DevicePin | undefined, b: DevicePin | undefined): boolean => a?.url === b?.url && (a?.scope ?? "") === (b?.scope ?? "");

/** The pinned device as one line for messages: `https://fw1:8443` or `https://fgt (vdom root)`. */
export function describePin(p: DevicePin): string {
  return p.scope ? `${p.url} (${p.scope})` : p.url;
}

/** A grant resource's provider: every method present, so tests, the benchmark and `doctor` call them directly. */
export interface GrantProvider<I, S> extends pulumi.dynamic.ResourceProvider<I, S> {
  check(olds: I | Record<string, unknown>, news: I | Record<string, unknown>): Promise<pulumi.dynamic.CheckResult<I>>;
  diff(id: string, olds: S, news: I): Promise<pulumi.dynamic.DiffResult>;
  create(inputs: I): Promise<{ id: string; outs: S }>;
  read(id: string, props?: S): Promise<pulumi.dynamic.ReadResult<S>>;
  update(id: string, olds: S, news: I): Promise<{ outs: S }>;
  delete(id: string, props: S): Promise<void>;
}

/** Builds the dynamic provider of one grant resource from its {@link GrantLifecycle}. @internal */
export function grantProvider<I extends object, S extends I, C>(spec: GrantLifecycle<I, S, C>): GrantProvider<I, S & PinnedState> {
  const last = <T>(pin: DevicePin | undefined, fn: () => Promise<T>): Promise<T> =>
    diagnosed(spec.family, { host: pin ? spec.hostOf(pin) : "(no url)" }, fn).catch((e: unknown) => {
      throw shownOnce(e);
    });
  /** {@link last} for an operation on the device, counted for the burst reads that confirm writes (read-coalescer.ts). */
  const operation = <T>(pin: DevicePin | undefined, fn: () => Promise<T>): Promise<T> => trackedOperation(() => last(pin, fn));

  /** A connection to the pinned device; a missing setting is an Error naming it (no CheckFailure outside check). */
  const connectTo = (state: I & PinnedState): { c: C; pin: DevicePin } => {
    try {
      const pin = state.device ?? spec.pin(state);
      return { c: spec.connect(state, pin), pin };
    } catch (e) {
      if (e instanceof SettingProblem) throw new Error(e.message, { cause: e });
      throw e;
    }
  };

  /** Adds, to a failure on a pinned device the settings no longer point at, which device it is and what to do. */
  const onPinned = async <T>(state: I & PinnedState, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      const pinned = state.device;
      let now: DevicePin | undefined;
      try {
        now = spec.pin(state);
      } catch {
        now = undefined;
      }
      if (!pinned || samePin(pinned, now) || !isGrantError(e)) throw e;
      const fix = [
        `This grant is recorded (pinned) on ${describePin(pinned)}; the settings now point at ${now ? describePin(now) : "no device"}. It was not removed from state.`,
        `Make ${describePin(pinned)} reachable with valid credentials for this operation (e.g. restore its URL and credentials in stack config for one run), or remove the entry there by hand and then run \`pulumi state delete <urn>\`.`,
        ...e.fix,
      ];
      throw new GrantError({
        code: e.code,
        host: e.host,
        title: e.title,
        cause: e.cause_,
        fix,
        message: `${e.message}\nThe grant is pinned in state on ${describePin(pinned)} (the settings now point at ${now ? describePin(now) : "no device"}).`,
        ...(e.operation !== undefined && { operation: e.operation }),
        ...(e.status !== undefined && { status: e.status }),
        ...(e.deviceMessage !== undefined && { deviceMessage: e.deviceMessage }),
        error: e,
      });
    }
  };

  const heldKeys = (state: S & PinnedState, pin: DevicePin): readonly string[] => (spec.heldKeys ? spec.heldKeys(state, pin) : [spec.sharedKey(state, pin)]);
  const anyUrl = (pin: DevicePin): DevicePin => ({ ...pin, url: ANY_URL });

  /** The grants that declare, through another URL, what `state` holds on `pin` (their entry may be this one). */
  const declaredElsewhere = (state: S & PinnedState, pin: DevicePin): Elsewhere[] => {
    const out = new Map<string, Elsewhere>();
    for (const k of heldKeys(state, anyUrl(pin))) for (const [id, e] of elsewhere().get(k) ?? []) if (e.live && e.url !== pin.url) out.set(id, e);
    return [...out.values()];
  };

  /** After a removal on `pin`: puts back, through their own URL, the entries of grants that declare them there. */
  const reassertElsewhere = async (state: S & PinnedState, pin: DevicePin, others: readonly Elsewhere[]): Promise<void> => {
    for (const o of others) {
      // A grant whose own delete began meanwhile is not put back: its removal is the newer intent.
      if (!o.live) continue;
      try {
        await o.reassert();
      } catch (e) {
        if (!isGrantError(e)) throw e;
        throw new GrantError({
          code: e.code,
          host: e.host,
          title: e.title,
          cause: e.cause_,
          fix: [
            `${o.name} declares the same entry through ${o.url}; if that URL names the same box as ${describePin(pin)}, the removal took its access too, and putting it back failed. Run \`pulumi up\` again once ${o.url} is reachable.`,
            ...e.fix,
          ],
          message: `${e.message}\n${state.grantName ?? "The grant"} was removed on ${describePin(pin)}; ${o.name} (same target and address through ${o.url}) could not be confirmed.`,
          ...(e.operation !== undefined && { operation: e.operation }),
          ...(e.status !== undefined && { status: e.status }),
          ...(e.deviceMessage !== undefined && { deviceMessage: e.deviceMessage }),
          error: e,
        });
      }
    }
  };

  /** One operation at a time per target+address in this process (two grants of one address). */
  const queued = <T>(state: I, pin: DevicePin, fn: () => Promise<T>): Promise<T> => runQueued(`grant:${spec.sharedKey(state, pin)}`, fn);

  const provider: GrantProvider<I, S & PinnedState> = {
    configure: (req: pulumi.dynamic.ConfigureRequest) => configureFromStack(req),

    async check(olds: unknown, news: I | Record<string, unknown>) {
      const raw: Raw = { ...(news as Raw) };
      const grantName = typeof raw.grantName === "string" ? raw.grantName : undefined;
      for (const k of ["__provider", "device", "grantName", "expired", ...spec.outputOnly]) delete raw[k];
      if (grantName !== undefined) checkedNames().add(grantName);
      const unknown = Object.keys(raw).filter((k) => hasUnknown(raw[k]));
      const probe = { ...raw, ...Object.fromEntries(unknown.map((k) => [k, spec.placeholders[k] ?? raw[k]])) };
      const parsed = spec.schema.safeParse(probe, { error: inputIssueMessage });
      if (!parsed.success) return { failures: checkFailures(parsed.error) };
      const known = spec.normalise(parsed.data);
      const isNew = !olds || Object.keys(olds as Raw).length === 0;
      const expiresAt = (known as Raw).expiresAt;
      if (isNew && typeof expiresAt === "string" && isDue(expiresAt)) return { failures: [{ property: "expiresAt", reason: alreadyExpired(expiresAt) }] };
      const inputs = { ...known, ...Object.fromEntries(unknown.map((k) => [k, raw[k]])), ...(grantName !== undefined && { grantName }) } as I & {
        device?: DevicePin | string;
      };
      // The host puts `__provider` back itself (sdk/nodejs/cmd/dynamic-provider check).
      const result = () => inputs as I;
      // The device can be pinned as soon as the connection is known, even when credentials are not yet.
      if (unknown.includes("connection")) {
        inputs.device = UNKNOWN;
        return { inputs: result() };
      }
      let pin: DevicePin;
      try {
        pin = spec.pin(inputs);
      } catch (e) {
        if (e instanceof SettingProblem) return { failures: [{ property: e.property, reason: e.message } satisfies CheckFailure] };
        throw e;
      }
      inputs.device = pin;
      if (unknown.length > 0) return { inputs: result() };
      // An expired grant declares nothing: the shared-address rule must not keep an entry for it.
      if (grantName !== undefined && !isDue(expiresAt)) {
        const id = grantId(grantName, pin.url, spec.sharedKey(inputs, pin));
        // One record per grant and URL, updated by each check: a put-back computed earlier sees the latest
        // inputs and the latest liveness (a stale copy would bring back what a later update or delete removed).
        const known = registrations().get(id);
        const entry: Elsewhere = known ?? {
          name: grantName,
          url: pin.url,
          inputs,
          // In this grant's own queue, and only while it is live: a delete of it queued first wins.
          reassert: () => {
            const on = { ...entry.inputs, device: pin } as I & PinnedState;
            const { c } = connectTo(on);
            return last(pin, () => queued(on, pin, async () => (entry.live ? await spec.create(c, on) : undefined)));
          },
          live: false,
        };
        entry.inputs = inputs;
        // Already in state on this URL (its old inputs were pinned here): it holds its entry now, changed or not,
        // so a delete through another URL of the same box must put it back (red team: an unchanged survivor).
        // A grant new to this URL becomes live only when its create succeeds (a put-back must not create what
        // state may never record).
        const oldPin = (olds as Partial<PinnedState> | undefined)?.device;
        if (oldPin?.url === pin.url && oldPin.scope === pin.scope) entry.live = true;
        registrations().set(id, entry);
        for (const key of [spec.sharedKey(inputs, anyUrl(pin)), ...(spec.sharedKeys?.(inputs, anyUrl(pin)) ?? [])]) {
          elsewhere().set(key, (elsewhere().get(key) ?? new Map<string, Elsewhere>()).set(id, entry));
        }
        // Last, with the real pin: a device's sharedKeys may record what it was called with (feed-identity.ts).
        for (const key of [spec.sharedKey(inputs, pin), ...(spec.sharedKeys?.(inputs, pin) ?? [])]) declareShared(key, grantName);
      }
      let c: C;
      let mode: PreflightMode;
      try {
        mode = preflightMode(spec.namespace);
        c = spec.connect(inputs, pin);
      } catch (e) {
        if (e instanceof SettingProblem) return { failures: [{ property: e.property, reason: e.message } satisfies CheckFailure] };
        throw e;
      }
      if (mode !== "off") {
        sayUnproven(await last(pin, () => spec.preflight(c, inputs, mode)));
        // New, or replaced onto another target or device (the replacement is a create there too).
        const o = olds as Raw;
        const moved = !isNew && (spec.identity.some((k) => stable(o[k]) !== stable((inputs as Raw)[k])) || (isPin(o.device) && !samePin(o.device, pin)));
        if ((isNew || moved) && spec.previewCreate) await last(pin, () => spec.previewCreate!(c, inputs, pin));
      }
      return { inputs: result() };
    },

    async diff(_id: string, olds: S & PinnedState, news: I) {
      const o = olds as Raw;
      const n = news as Raw;
      const same = (k: keyof I & string) => !hasUnknown(n[k]) && (spec.same ? spec.same(k, o[k], n[k]) : stable(o[k]) === stable(n[k]));
      const replaces: string[] = spec.identity.filter((k) => !same(k));
      // State written before pinning existed has no device: keep it where the settings point (no replace).
      // `check` pins the new inputs; a caller that skipped it gets the pin the settings give now.
      let newPin = n.device as DevicePin | string | undefined;
      if (newPin === undefined && !hasUnknown(n.connection)) {
        try {
          newPin = spec.pin(news);
        } catch {
          newPin = undefined;
        }
      }
      if (olds.device !== undefined && (hasUnknown(newPin) || !samePin(olds.device, newPin as DevicePin | undefined))) replaces.push("device");
      const skip = new Set<string>(["__provider", "device", "grantName", "expired", ...spec.outputOnly, ...spec.identity]);
      const inPlace = Object.keys({ ...o, ...n }).some((k) => !skip.has(k) && (hasUnknown(n[k]) || stable(o[k]) !== stable(n[k])));
      // Time-box: a grant whose time passed must be revoked; an expired one whose time was extended, restored.
      // Due and holding nothing beyond what other grants of the program declare: expired already, nothing to revoke.
      const due = isDue(n.expiresAt);
      const expired =
        olds.expired === true || (due && olds.device !== undefined && heldKeys(olds, olds.device).every((k) => declaredByOther(k, olds.grantName)));
      const timeBox = due !== expired;
      const changes = replaces.length > 0 || inPlace || timeBox || (!expired && (spec.needsUpdate?.(olds, news) ?? false));
      return { changes, replaces, deleteBeforeReplace: replaces.length > 0 && spec.deleteBeforeReplace(replaces) };
    },

    async create(inputs: I) {
      const { c, pin } = connectTo(inputs);
      return operation(pin, () =>
        queued(inputs, pin, async () => {
          const expiresAt = (inputs as Raw).expiresAt;
          if (typeof expiresAt === "string" && isDue(expiresAt)) throw new Error(alreadyExpired(expiresAt));
          const r = await spec.create(c, inputs);
          markLive((inputs as PinnedState).grantName, pin.url, spec.sharedKey(inputs, pin), true);
          return { id: r.id, outs: complete({ ...inputs, ...r.outs, device: pin, expired: false } as S & PinnedState) };
        }),
      );
    },

    async read(id: string, props?: S & PinnedState) {
      if (!props) return {};
      const { c, pin } = connectTo(props);
      return operation(pin, () =>
        onPinned(props, async () => {
          const seen = await spec.read(c, props);
          // Only an expired or due grant needs it: a set's keys are one digest per entry (issue 22).
          let held: boolean | undefined;
          const holds = () => (held ??= seen !== undefined && heldKeys({ ...props, ...seen }, pin).length > 0);
          // An expired grant stays in state while the device does not hold it; put back by hand, it is
          // reported live again, so the next diff revokes it once more. A grant past its time whose entry
          // is already gone (a hand edit, a reboot before the revoking `up`) is simply expired: dropping it
          // from state would make the program's next check refuse to create an expired grant, forever.
          if (props.expired === true || (isDue((props as Raw).expiresAt) && !holds())) {
            return { id, props: complete({ ...props, ...(holds() ? seen : {}), expired: !holds(), device: pin } as S & PinnedState) };
          }
          // No id: the engine drops the grant from state on refresh, so `--expect-no-changes` fails.
          return seen === undefined ? {} : { id, props: complete({ ...props, ...seen, device: pin } as S & PinnedState) };
        }),
      );
    },

    async update(_id: string, olds: S & PinnedState, news: I) {
      const { c, pin } = connectTo({ ...news, device: olds.device } as I & PinnedState);
      return operation(pin, () =>
        onPinned(olds, async () => {
          const outputs = Object.fromEntries(spec.outputOnly.map((k) => [k, (olds as Raw)[k]]));
          const due = isDue((news as Raw).expiresAt);
          const changed = await queued(news, pin, async (): Promise<Partial<S> & { expired: boolean }> => {
            if (due) {
              // Revoked unless another grant of the program still declares it (it then stays on the device).
              if (!declaredByOther(spec.sharedKey(olds, pin), olds.grantName)) {
                const others = declaredElsewhere(olds, pin);
                await spec.remove(c, olds);
                await reassertElsewhere(olds, pin, others);
              }
              return { expired: true } as Partial<S> & { expired: boolean };
            }
            if (olds.expired === true) return { ...(await spec.create(c, news)).outs, expired: false } as Partial<S> & { expired: boolean };
            return { ...(spec.update ? await spec.update(c, olds, news) : {}), expired: false } as Partial<S> & { expired: boolean };
          });
          markLive((news as PinnedState).grantName, pin.url, spec.sharedKey(news, pin), !due);
          return { outs: complete({ ...outputs, ...news, ...changed, device: pin } as S & PinnedState) };
        }),
      );
    },

    async delete(_id: string, props: S & PinnedState) {
      const { c, pin } = connectTo(props);
      // Not live from here on: a put-back of another grant's delete must not bring this entry back (it checks).
      markLive(props.grantName, pin.url, spec.sharedKey(props, pin), false);
      // Another grant of this program still declares this address on this target: it stays.
      if (declaredByOther(spec.sharedKey(props, pin), props.grantName)) return;
      const others = declaredElsewhere(props, pin);
      await operation(pin, () => onPinned(props, () => queued(props, pin, async () => void (await spec.remove(c, props)))));
      if (others.length > 0) await operation(pin, () => reassertElsewhere(props, pin, others));
    },
  };
  return provider;
}

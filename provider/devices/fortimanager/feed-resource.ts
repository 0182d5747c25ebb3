/**
 * `FortimanagerFeedEntry`: one address in a push threat feed on every listed FortiGate, through
 * FortiManager's proxy (SPEC §4.4, issue 12; docs/reference/fortigate-feeds.md §8). One resource =
 * the address in the feed on every device of `devices`. The manager and the ADOM are the pinned device;
 * `feed`, `vdom` and `address` are the identity; `devices` changes in place (a device added gets the
 * entry, a device removed loses it). Refresh records which devices hold the entry (`heldBy`): a device
 * that lost it (a reboot, a feed reset, a hand edit) makes the next diff an update that pushes it again.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { mustParseAddress, parseAddress, type GrantAddress } from "../../core/address";
import { ruleField } from "../../core/connection-kit";
import { diagnose, hostOfUrl } from "../../core/diagnosis";
import { setting, type GrantAddressArgs } from "../../core/dynamic-kit";
import { defineGrantResource } from "../../core/define-resource";
import type { Assert, BaseConnectionInputs, GrantMetaInputs, ResourceOutputs, SameType } from "../../core/resource-declaration";
import { declaredByOther, grantMetaFields, grantProvider, type DevicePin, type PinnedState } from "../../core/grant-lifecycle";
import { fingerprint } from "../../core/process-state";
import { segmentNameProblem, SEGMENT_NAME_RULE } from "../../core/transport";
import { resolveDeviceUrl } from "../../core/settings";
import { feedOp, type TargetOutcome } from "../fortinet/feed-batcher";
import { entryNotTaken, feedNameProblem, pushFailed, withLeftBehind, type DeviceFailure, type FeedCommand, type LeftBehind } from "../fortinet/feed-entries";
import { vdomProblem } from "../fortinet/names";
import { declareFeedEntry, forgetFeedEntry, keptByOtherKind, otherKindDeclarations } from "../fortinet/feed-identity";
import { FortimanagerClient, type FortimanagerClientOptions } from "./client";
import { FortimanagerFeedClient } from "./feed-client";
import { feedPreflight } from "./feed-preflight";
import {
  FortimanagerConnectionSchema,
  FortimanagerCredentialsSchema,
  fortimanagerConnectionProps,
  resolveManagerConnection,
  type FortimanagerConnection,
} from "./resource";

export interface FortimanagerFeedConnection extends FortimanagerConnection {
  /** ADOM of the target devices (also stack config `fortimanager:adom`, env `FORTIMANAGER_ADOM`). @default "root" */
  readonly adom?: string;
}

export interface FortimanagerFeedEntryArgs extends GrantAddressArgs {
  readonly connection?: FortimanagerFeedConnection;
  /** Managed FortiGates (device names in the ADOM, case-sensitive) whose feed gets the address. At least one. */
  readonly devices: pulumi.Input<pulumi.Input<string>[]>;
  /** VDOM of the feed on each device. @default "root" */
  readonly vdom?: pulumi.Input<string>;
  /** Name of an existing IP address threat feed with update method Push API on each device. Case-sensitive. */
  readonly feed: pulumi.Input<string>;
}

/** FortiManager device names: letters, digits and `_ . -` (they travel in the proxy target `adom/<adom>/device/<name>`). @internal */
export const DeviceNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, "device names contain 1-64 letters, digits and _ . - (case-sensitive)")
  .refine((v) => !v.includes(".."), "must not contain '..'")
  .refine((v) => segmentNameProblem(v) === undefined, SEGMENT_NAME_RULE);

/** @internal */
export const FortimanagerFeedEntryInputsSchema = z
  .object({
    connection: FortimanagerConnectionSchema.optional(),
    credentials: FortimanagerCredentialsSchema.optional(),
    devices: z.array(DeviceNameSchema).min(1, "must name at least one managed FortiGate"),
    vdom: ruleField(vdomProblem).optional(),
    feed: ruleField(feedNameProblem),
    address: z.string(),
    allowBroad: z.boolean().optional(),
    ...grantMetaFields,
  })
  .strict()
  .superRefine((v, ctx) => {
    const r = parseAddress(v.address, { allowBroad: v.allowBroad === true });
    if (!r.ok) ctx.addIssue({ code: "custom", path: ["address"], message: r.rule });
  });
/** The provider's inputs, as `check` accepts them ({@link FortimanagerFeedEntryInputsSchema}). */
export interface FortimanagerFeedEntryInputs extends GrantMetaInputs {
  connection?: BaseConnectionInputs & { username?: string; adom?: string };
  credentials?: { token?: string; password?: string };
  devices: string[];
  feed: string;
  vdom?: string;
  address: string;
}
type _InputsAreTheSchema = Assert<SameType<FortimanagerFeedEntryInputs, z.infer<typeof FortimanagerFeedEntryInputsSchema>>>;

export interface FortimanagerFeedEntryState extends FortimanagerFeedEntryInputs, PinnedState {
  readonly cidr: string;
  readonly family: "ipv4" | "ipv6";
  readonly adom: string;
  /** The devices whose feed listed the address at the last create, update or refresh. */
  readonly heldBy: string[];
  /** The devices whose feed listed the address already at create (informational: delete removes it there too). */
  readonly adopted: string[];
}

type Options = FortimanagerClientOptions & { readonly adom: string };

const adomOf = (i: Pick<FortimanagerFeedEntryInputs, "connection">) => setting("fortimanager", "adom", i.connection?.adom) ?? "root";

/** The connection to the pinned manager and ADOM (the ADOM scopes the managed devices). */
function resolveConnection(i: FortimanagerFeedEntryInputs, pin: DevicePin): Options {
  return { ...resolveManagerConnection(i, pin), adom: pin.scope?.replace(/^adom /, "") ?? adomOf(i) };
}

/** Runs `fn` as one client operation (a login session is logged out when the last one ends, session.ts). */
const operation = <T>(o: Options, vdom: string, fn: (c: FortimanagerFeedClient) => Promise<T>): Promise<T> => {
  const fmg = new FortimanagerClient(o);
  return fmg.operation(() => fn(new FortimanagerFeedClient(fmg, o.adom, vdom)));
};

const vdomOf = (i: { vdom?: string | undefined }) => i.vdom ?? "root";

/** One op on the feed of `devices` (batched with the grants into the same feed, ADOM and VDOM). */
function onDevices(
  c: FortimanagerFeedClient,
  feed: string,
  kind: FeedCommand | "read",
  address: GrantAddress,
  devices: readonly string[],
  takeBack = false,
): Promise<Map<string, TargetOutcome>> {
  const key = `fortimanager.feed:${fingerprint(c.fmg.identity, c.adom, c.vdom, feed)}`;
  return feedOp(key, c.backend(feed), { kind, address, targets: devices, takeBack });
}

type Failed = Extract<TargetOutcome, { ok: false }>;

/**
 * The diagnosis for devices that failed: one shared exact diagnosis (e.g. -11 on the proxy call → 202002)
 * when every device failed with it, 202103 when the feeds did not take the entry, else 202100 naming
 * every device with its cause — completed from the inventory (offline, not managed) — and those that hold it.
 */
async function failure(
  c: FortimanagerFeedClient,
  feed: string,
  address: GrantAddress,
  command: FeedCommand | "read",
  failed: [string, Failed][],
  held: readonly string[],
): Promise<Error> {
  const errors = failed.map(([, f]) => f.failure.error);
  if (errors.every((e) => e !== undefined && e === errors[0]) && errors[0]!.code !== "202090") return errors[0]!;
  const inventory = await c.inventory().catch(() => undefined);
  const why = ([d, f]: [string, Failed]): DeviceFailure => {
    const m = inventory?.get(d);
    const state = inventory === undefined ? "" : !m ? ` (not managed in ADOM "${c.adom}")` : !m.up ? ` (connection status ${m.connStatus})` : "";
    return { device: d, reason: `${f.failure.reason}${state}` };
  };
  if (command !== "read" && failed.every(([, f]) => f.failure.notTaken)) {
    return entryNotTaken(
      c.host,
      feed,
      failed.map(([d]) => d).join(", "),
      address.canonical,
      undefined,
      failed.map(([d, f]) => `${d}: ${f.failure.reason}`).join("; "),
    );
  }
  if (command === "read") {
    const reasons = failed.map(why);
    return diagnose("202104", {
      host: c.host,
      detail: `the feed "${feed}" could not be read on ${reasons.map((r) => `${r.device}: ${r.reason}`).join("; ")}; the grant stays in state as it was`,
      vars: { device: failed.map(([d]) => d).join(", "), adom: c.adom },
    });
  }
  return pushFailed(c.host, feed, address.canonical, command, failed.map(why), held);
}

const failures = (m: Map<string, TargetOutcome>) => [...m].filter((e): e is [string, Failed] => !e[1].ok);

/**
 * Adds the entry on `devices`; on partial failure, takes back what this call added (nothing stays without
 * state) and throws. A device where taking it back fails too is named in the error with the entry it keeps.
 */
async function addOn(
  c: FortimanagerFeedClient,
  feed: string,
  address: GrantAddress,
  devices: readonly string[],
  rollback: boolean,
): Promise<Map<string, TargetOutcome>> {
  const r = await onDevices(c, feed, "add", address, devices);
  const failed = failures(r);
  if (failed.length === 0) return r;
  // Added here, or what this call may have put there (feed-batcher.ts `judge`): both are taken back; never an entry listed before it.
  const addedNow = [...r].filter(([, o]) => (o.ok && !o.wasPresent) || (!o.ok && o.failure.pushed === true)).map(([d]) => d);
  const left: LeftBehind[] = [];
  if (rollback && addedNow.length > 0) {
    const leftOn = (device: string, reason: string) => left.push({ device, entries: [address.canonical], reason });
    await onDevices(c, feed, "remove", address, addedNow, true).then(
      (back) =>
        addedNow.forEach((d) => {
          const o = back.get(d);
          if (!o?.ok) leftOn(d, o ? o.failure.reason : "no answer for this device");
        }),
      (e: unknown) => addedNow.forEach((d) => leftOn(d, firstLine(e))),
    );
  }
  const kept = (d: string) => left.some((l) => l.device === d);
  const held = [...r].filter(([d, o]) => o.ok && (!rollback || o.wasPresent || !addedNow.includes(d) || kept(d))).map(([d]) => d);
  throw withLeftBehind(await failure(c, feed, address, "add", failed, held), c.host, feed, left);
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0]!;

async function removeFrom(c: FortimanagerFeedClient, feed: string, address: GrantAddress, devices: readonly string[]): Promise<void> {
  if (devices.length === 0) return;
  const r = await onDevices(c, feed, "remove", address, devices);
  const failed = failures(r);
  if (failed.length > 0)
    throw await failure(
      c,
      feed,
      address,
      "remove",
      failed,
      [...r].filter(([, o]) => o.ok).map(([d]) => d),
    );
}

const sortedUnique = (xs: readonly string[]) => [...new Set(xs)].sort();

/** The key of one address in one feed on one managed device (the unit two grants can share). */
export const deviceKey = (pin: DevicePin, vdom: string, feed: string, cidr: string, device: string) =>
  fingerprint("fortimanager-feed-device", pin.url, pin.scope, vdom, feed, cidr, device);

/** `devices` minus those where another grant of this program still declares the address ("last one out"). */
function undeclared(pin: DevicePin, s: FortimanagerFeedEntryState, devices: readonly string[]): string[] {
  const cidr = mustParseAddress(s.cidr ?? s.address).cidr;
  return devices.filter((d) => !declaredByOther(deviceKey(pin, vdomOf(s), s.feed, cidr, d), s.grantName));
}

/**
 * Records (from `check`) that this grant declares its entry on its devices, for a `FortigateFeedEntry` delete of the
 * same FortiGate reached directly (feed-identity.ts): its serials are the inventory's `sn` of its devices, read only
 * when such a delete asks. A listed device the manager shows without a serial cannot be compared: that is an error.
 */
function declareManaged(i: FortimanagerFeedEntryInputs, pin: DevicePin): void {
  const grantName = (i as { grantName?: string }).grantName;
  if (grantName === undefined) return;
  const devices = sortedUnique(i.devices);
  declareFeedEntry(vdomOf(i), i.feed, mustParseAddress(i.address).cidr, {
    kind: "managed",
    grantName,
    where: managedWhere(pin, devices),
    serials: () => operation(resolveConnection(i, pin), vdomOf(i), (c) => managedSerials(c, devices)),
  });
}

/** Where a managed feed grant or set reaches, for messages and to match its record in feed-identity.ts. */
export const managedWhere = (pin: DevicePin, devices: readonly string[]) =>
  `FortiManager ${pin.url} (${pin.scope ?? "adom root"}) on ${sortedUnique(devices).join(", ")}`;

/** Serial → device name of the listed devices the manager manages (one not managed cannot hold an entry); a device listed without a serial throws. */
export async function managedSerials(
  c: { inventory(): Promise<ReadonlyMap<string, { readonly serial?: string | undefined }>> },
  devices: readonly string[],
): Promise<Map<string, string>> {
  const inventory = await c.inventory();
  const out = new Map<string, string>();
  for (const d of devices) {
    const m = inventory.get(d);
    if (m === undefined) continue;
    if (m.serial === undefined) throw new Error(`the manager lists device "${d}" without a serial number (sn)`);
    out.set(m.serial, d);
  }
  return out;
}

/**
 * `devices` minus those that are a FortiGate a `FortigateFeedEntry` of the program declares the entry on directly (same
 * serial, feed-identity.ts). Reads the inventory only when such a grant declares the same VDOM, feed and address; a
 * serial that cannot be learnt fails (202100 naming the devices), never a guess.
 */
async function notDeclaredDirectly(c: FortimanagerFeedClient, feed: string, address: GrantAddress, devices: readonly string[]): Promise<string[]> {
  const others = otherKindDeclarations("managed", c.vdom, feed, address.cidr);
  if (others.length === 0 || devices.length === 0) return [...devices];
  const fail = (reason: string, on: readonly string[]) =>
    pushFailed(
      c.host,
      feed,
      address.canonical,
      "remove",
      on.map((device) => ({ device, reason })),
      [],
    );
  const inventory = await c.inventory();
  const mine = new Map<string, string>();
  for (const d of devices) {
    const serial = inventory.get(d)?.serial;
    if (inventory.has(d) && serial === undefined)
      throw fail(
        `not removed: a FortigateFeedEntry declares the same entry directly, and the manager lists no serial number (sn) to tell whether it is this device`,
        [d],
      );
    if (serial !== undefined) mine.set(serial, d);
  }
  try {
    const kept = await keptByOtherKind(others, mine);
    return devices.filter((d) => !kept.has(d));
  } catch (e) {
    throw fail((e as Error).message, devices);
  }
}

/** The provider object behind {@link FortimanagerFeedEntry}; tests, the benchmark and the CLI drive it directly. */
export const fortimanagerFeedEntryProvider = grantProvider<FortimanagerFeedEntryInputs, FortimanagerFeedEntryState, Options>({
  namespace: "fortimanager",
  family: "fortinet",
  schema: FortimanagerFeedEntryInputsSchema,
  placeholders: {
    devices: ["placeholder"],
    vdom: "root",
    feed: "placeholder",
    address: "192.0.2.1",
    description: "",
    expiresAt: "2999-01-01T00:00:00Z",
    allowBroad: false,
    connection: {},
    credentials: {},
  },
  outputOnly: ["cidr", "family", "adom", "heldBy", "adopted"],
  identity: ["feed", "vdom", "address"],
  // Order and repeats of `devices` are cosmetic: never a diff.
  normalise: (i) => ({ ...i, devices: sortedUnique(i.devices), vdom: vdomOf(i), address: mustParseAddress(i.address).canonical }),
  same: (field, a, b) =>
    field === "address" && typeof a === "string" && typeof b === "string"
      ? mustParseAddress(a).cidr === mustParseAddress(b).cidr
      : (a ?? "root") === (b ?? "root"),
  // The ADOM scopes the targets: a change of manager or ADOM is another device (replace).
  pin: (i) => ({ url: resolveDeviceUrl("fortimanager", i.connection?.url, i.connection?.allowHttp), scope: `adom ${adomOf(i)}` }),
  connect: resolveConnection,
  hostOf: (pin) => hostOfUrl(pin.url),
  // Shared addresses are per device: the grant-level key names the whole device list (another grant with the
  // same devices keeps all of it); the per-device keys let a delete keep the address exactly on the devices
  // another grant of the program still declares; the device-less key is what feed sets register.
  sharedKey: (i, pin) =>
    fingerprint("fortimanager-feed-grant", pin.url, pin.scope, vdomOf(i), i.feed, mustParseAddress(i.address).cidr, sortedUnique(i.devices).join(",")),
  sharedKeys: (i, pin) => {
    declareManaged(i, pin);
    return [
      fingerprint("fortimanager-feed", pin.url, pin.scope, vdomOf(i), i.feed, mustParseAddress(i.address).cidr),
      ...sortedUnique(i.devices).map((d) => deviceKey(pin, vdomOf(i), i.feed, mustParseAddress(i.address).cidr, d)),
    ];
  },
  preflight: (o, i, mode) => operation(o, vdomOf(i), (c) => feedPreflight(c, i.feed, sortedUnique(i.devices), mode)),

  /** Adds the entry on every device at once; success only when every device's entry list shows it. */
  async create(o, i) {
    const address = mustParseAddress(i.address);
    const devices = sortedUnique(i.devices);
    const r = await operation(o, vdomOf(i), (c) => addOn(c, i.feed, address, devices, true));
    return {
      id: `${o.adom}/${vdomOf(i)}/${i.feed}/${address.canonical}`,
      outs: {
        address: address.canonical,
        cidr: address.cidr,
        family: address.family === 4 ? "ipv4" : "ipv6",
        adom: o.adom,
        vdom: vdomOf(i),
        devices,
        heldBy: devices,
        adopted: [...r].filter(([, x]) => x.ok && x.wasPresent).map(([d]) => d),
      },
    };
  },

  /** Which devices hold the entry: none → `undefined` (refresh drops the grant); some → `heldBy`, and the next diff restores the rest. */
  async read(o, s) {
    const address = mustParseAddress(s.cidr ?? s.address);
    const devices = sortedUnique(s.devices);
    return operation(o, vdomOf(s), async (c) => {
      const r = await onDevices(c, s.feed, "read", address, devices);
      const failed = failures(r);
      // A device that cannot be read never drops the grant from state.
      if (failed.length > 0) throw await failure(c, s.feed, address, "read", failed, []);
      const heldBy = [...r].filter(([, x]) => x.ok && x.present).map(([d]) => d);
      return heldBy.length === 0 ? undefined : { heldBy };
    });
  },

  /** Pushes to devices that do not hold the entry (added to `devices`, or drifted), removes it from devices taken out of `devices`. */
  async update(o, olds, news) {
    const address = mustParseAddress(news.address);
    const want = sortedUnique(news.devices);
    const held = olds.heldBy ?? olds.devices;
    const leaving = sortedUnique([...olds.devices, ...held]).filter((d) => !want.includes(d));
    const dropped = olds.device ? undeclared(olds.device, olds, leaving) : leaving;
    const missing = want.filter((d) => !held.includes(d));
    await operation(o, vdomOf(news), async (c) => {
      const [added, removed] = await Promise.allSettled([
        missing.length > 0 ? addOn(c, news.feed, address, missing, false) : undefined,
        notDeclaredDirectly(c, news.feed, address, dropped).then((ds) => removeFrom(c, news.feed, address, ds)),
      ]);
      if (added.status === "rejected") throw added.reason;
      if (removed.status === "rejected") throw removed.reason;
    });
    return { devices: want, heldBy: want };
  },

  /** Removes the entry from every device of the grant (and any that held it); gone is success; adopted or not (SPEC §3). */
  async remove(o, s) {
    const address = mustParseAddress(s.cidr ?? s.address);
    const all = sortedUnique([...s.devices, ...(s.heldBy ?? [])]);
    // Its record goes (as the direct grant's does): a long-lived process must not keep sparing an entry nobody declares.
    if (s.device) forgetFeedEntry(vdomOf(s), s.feed, address.cidr, "managed", s.grantName, managedWhere(s.device, s.devices));
    const devices = s.device ? undeclared(s.device, s, all) : all;
    await operation(o, vdomOf(s), async (c) => removeFrom(c, s.feed, address, await notDeclaredDirectly(c, s.feed, address, devices)));
  },

  deleteBeforeReplace: () => false,
  // A device of `devices` whose feed lost the entry (refresh) is restored by an in-place update.
  needsUpdate: (olds, news) => sortedUnique(news.devices).some((d) => !(olds.heldBy ?? olds.devices).includes(d)),
});

/** The one declaration of `FortimanagerFeedEntry`: its inputs are {@link FortimanagerFeedEntryInputsSchema}. */
export const fortimanagerFeedEntryDeclaration = defineGrantResource<FortimanagerFeedEntryArgs, typeof FortimanagerFeedEntryInputsSchema.shape>({
  kind: "grant",
  module: "fortimanager",
  type: "FeedEntry",
  providerExport: "fortimanagerFeedEntryProvider",
  schema: FortimanagerFeedEntryInputsSchema,
  connection: fortimanagerConnectionProps,
  identity: ["feed", "vdom", "address"],
  outputs: {
    cidr: "The address as a CIDR (`203.0.113.7/32`).",
    family: '"ipv4" or "ipv6".',
    adom: "The ADOM of the devices.",
    heldBy: "The devices whose feed listed the address at the last create, update or refresh.",
    adopted: "The devices whose feed listed the address already at create (informational: delete removes it there too).",
  },
});

/**
 * A Passive+ grant on several FortiGates through FortiManager: the address pushed into an existing IP
 * address threat feed (update method Push API) on every device of `devices`, all at once through
 * `/sys/proxy/json`. Create succeeds only when every device lists the entry; when some fail it takes the
 * entry back where it added it and fails with 202100 naming each device and why (run `up` again once
 * fixed). Delete removes it from every device, adopted or not, unless another grant still declares it.
 * @example
 * new FortimanagerFeedEntry("alice", { connection: { url, token: cfg.requireSecret("fmgToken"), adom: "root" },
 *   devices: ["fgt-hq", "fgt-br1"], feed: "jit-allow", address: "203.0.113.7" });
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface FortimanagerFeedEntry extends ResourceOutputs<FortimanagerFeedEntryState> {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class FortimanagerFeedEntry extends pulumi.dynamic.Resource {
  constructor(name: string, args: FortimanagerFeedEntryArgs, opts?: pulumi.CustomResourceOptions) {
    super(...fortimanagerFeedEntryDeclaration.register(name, args, opts));
  }
}

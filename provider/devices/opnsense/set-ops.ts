/**
 * What an `OpnsenseAliasSet` / `OpnsenseAliasGuard` does on the device (issue 13), per method, in bulk:
 *
 * config: ONE batch of the per-alias batcher (alias-batcher.ts `submitContentBatch`): one get_item, one
 * set_item, one reconfigure, then the batcher's verify read — for any number of addresses, and with the
 * batcher's cross-process verify-and-repair. An exclusive set's removals of entries it does not list are
 * a prune predicate evaluated on the content the batch read, so no read of our own comes first.
 * table: one alias_util/list (POST rowCount -1, the whole table once), one alias_util/add or /delete per
 * change (the device has no bulk call; each is atomic under the config lock), one list to verify, and —
 * when something was removed and the key may read the config — one get_item to catch config copies the
 * device's delete left (it removes one copy per call, reference §3): at most N + 3 requests, with
 * further delete rounds only for such copies. Each table-mode write is one config revision on the
 * device (reference §3); config mode costs one revision per batch.
 *
 * Every line takes part (heldEntries): one that is not a plain address is an entry named by its text, which no
 * declared address matches, so an exclusive set or a guard reports it as unexpected and removes it.
 */
import { normaliseDeviceAddress, type GrantAddress } from "../../core/address";
import { diagnose } from "../../core/diagnosis";
import { isGrantError } from "../../core/errors";
import { fingerprint } from "../../core/process-state";
import { noteWrite } from "../../core/read-coalescer";
import { pool, type HeldEntry, type ReconcileResult, type SetPlan } from "../../core/set-lifecycle";
import { aliasLineKey, submitContentBatch, withAliasLock, type ContentOp } from "./alias-batcher";
import type { OpnsenseClient } from "./client";
import type { ResolvedConnection } from "./connection";
import { MAX_DELETE_ROUNDS } from "./grant-ops";
import { addressFitProblem, type AliasInfo, type GrantMethod } from "./preflight";

export interface SetTarget {
  readonly conn: ResolvedConnection;
  readonly client: OpnsenseClient;
  readonly alias: string;
  readonly method: GrantMethod;
  readonly info: AliasInfo;
}

/** Table-mode writes sent at once (the transport pools 8 connections per origin). */
const TABLE_WRITE_CONCURRENCY = 8;

/** Same keys as grant-ops.ts, so sets and per-entry grants of one alias share the batcher, the lock and the write record. */
const batchKey = (t: SetTarget) => fingerprint("opnsense-batch", t.conn.url, t.conn.apiKey, t.alias);
function lockKey(t: SetTarget): string {
  let origin = t.conn.url;
  try {
    origin = new URL(t.conn.url).origin;
  } catch {
    // as grant-ops: resolveConnection validated it
  }
  return fingerprint("opnsense-alias-lock", origin, t.alias);
}
const writeKey = (t: SetTarget) => `opnsense.writes:${fingerprint(t.conn.url, t.alias)}`;

/**
 * Device lines → entries: a plain address by CIDR (pfctl prints hosts without /32; the config may hold `ip/32`),
 * every other line (what pf also loads: a range, a host-bit network, a wildcard mask, a mapped IPv6 address, a host
 * or nested alias name, a negation) by its own text, so an exclusive set or a guard names it and removes it.
 */
export function heldEntries(lines: readonly string[]): Map<string, HeldEntry> {
  const out = new Map<string, HeldEntry>();
  for (const l of lines) {
    const t = l.trim();
    if (t === "") continue;
    // One parse per line (aliasLineKey is this same parse): a 50,000-line alias is read in one pass.
    const a = normaliseDeviceAddress(t);
    out.set(a ? a.cidr : `line:${t}`, a ? { label: a.canonical, address: a.canonical } : { label: t, address: t });
  }
  return out;
}

/**
 * The alias's entries now: the live table (table mode) or the configured content (config mode). An exclusive set in
 * config mode also reads the live table, where the key may: an entry pf holds that no config line holds (Diagnostics:
 * Tables, `pfctl -T add`, a table-mode write) is enforced until the next reload, so it is named too — and `up`'s
 * reconfigure, which reloads the table from config, removes it.
 */
export async function currentEntries(t: SetTarget, exclusive = false): Promise<Map<string, HeldEntry>> {
  if (t.method === "config") {
    const item = await t.client.getItem(t.info.uuid);
    if (!item.found) throw gone(t);
    const config = heldEntries(item.content);
    // A line that is not a plain address loads entries the client cannot attribute to it; such a line is itself
    // unexpected to an exclusive set, and `up` removing it reloads the table anyway.
    if (!exclusive || [...config.keys()].some((k) => k.startsWith("line:"))) return config;
    let live: Map<string, HeldEntry>;
    try {
      live = heldEntries(await t.client.utilList(t.alias));
    } catch (e) {
      // A config-mode key need not read tables (OPN001): the config is then all it can judge.
      if (isGrantError(e) && e.code === "OPN001") return config;
      throw e;
    }
    for (const [k, h] of live) if (!config.has(k)) config.set(k, { ...h, label: `${h.label} (live table only)` });
    return config;
  }
  return withConfigLines(t, heldEntries(await t.client.utilList(t.alias)));
}

/**
 * Table mode: the live table, plus the config lines that are not a plain address (a range, a host name, a nested
 * alias…) where the key may read the config. pf loads such a line again at every reload, so removing what it loaded
 * from the live table alone would not hold: the line itself is the entry, named by its text and deleted as written.
 */
async function withConfigLines(t: SetTarget, table: Map<string, HeldEntry>): Promise<Map<string, HeldEntry>> {
  if (t.info.uuid === "") return table;
  const item = await t.client.getItem(t.info.uuid);
  if (!item.found) return table;
  for (const [k, h] of heldEntries(item.content)) if (k.startsWith("line:") && !table.has(k)) table.set(k, h);
  return table;
}

/** The recorded uuid names no alias (set-resource.ts then looks the alias up by name, once). */
function gone(t: SetTarget) {
  return diagnose("OPN100", {
    host: t.client.host,
    detail: `the alias "${t.alias}" (uuid ${t.info.uuid}) is gone: get_item found no alias`,
    vars: { alias: t.alias },
  });
}

/** What a table-mode add sends: the bare address, except a host into a Network(s) alias (grant-ops.ts `tableWire`). */
const tableWire = (t: SetTarget, a: GrantAddress) => (t.info.type === "network" && a.isHost ? a.cidr : a.canonical);

/** Refuses, before any write, an address the alias type cannot hold (a network into Host(s)). */
function assertFit(t: SetTarget, plan: SetPlan): void {
  for (const w of plan.want.values()) {
    const problem = addressFitProblem(t.client, t.alias, t.info, w.parsed);
    if (problem) throw problem;
  }
}

/** Applies the plan; see the module comment for the request counts. */
export async function reconcileAlias(t: SetTarget, plan: SetPlan): Promise<ReconcileResult> {
  assertFit(t, plan);
  return t.method === "config" ? reconcileConfig(t, plan) : reconcileTable(t, plan);
}

async function reconcileConfig(t: SetTarget, plan: SetPlan): Promise<ReconcileResult> {
  const ops: ContentOp[] = [...plan.want.values()].map((w) => ({ kind: "add", address: w.parsed.canonical }));
  for (const k of plan.drop) if (!plan.keep(k)) ops.push({ kind: "remove", address: normaliseDeviceAddress(k)?.canonical ?? k });
  const prune = plan.exclusive ? (cidr: string) => !plan.allow.has(cidr) && !plan.drop.has(cidr) && !plan.keep(cidr) : undefined;
  // The lines the batch read before its write, handed to `plan.onBefore` once the batch is over (a take-back needs
  // them): parsed inside the batch, 50,000 lines took most of the read→write window (issue 22).
  let read: readonly string[] | undefined;
  const onBefore = plan.onBefore && ((lines: readonly string[]) => void (read = lines));
  let r: Awaited<ReturnType<typeof submitContentBatch>>;
  try {
    r = await submitContentBatch(batchKey(t), t.client, t.info.uuid, t.alias, { ops, prune, onBefore }, lockKey(t));
  } catch (e) {
    if (read) plan.onBefore!(heldEntries(read));
    throw e;
  }
  const wk = writeKey(t);
  for (const op of ops) noteWrite(wk, normaliseDeviceAddress(op.address)?.cidr ?? op.address);
  const before = heldEntries(r.before);
  plan.onBefore?.(before);
  return { before, removedUnexpected: [...heldEntries(r.pruned).values()].map((h) => h.label) };
}

async function reconcileTable(t: SetTarget, plan: SetPlan): Promise<ReconcileResult> {
  const { client, alias } = t;
  const live = heldEntries(await client.utilList(alias));
  const before = plan.exclusive ? await withConfigLines(t, live) : live;
  plan.onBefore?.(before);
  const adds = [...plan.want.entries()].filter(([k]) => !before.has(k)).map(([, w]) => w.parsed);
  const unexpected = plan.exclusive ? [...before.keys()].filter((k) => !plan.allow.has(k) && !plan.drop.has(k) && !plan.keep(k)) : [];
  const removes = [...[...plan.drop].filter((k) => before.has(k) && !plan.keep(k)), ...unexpected];
  const wk = writeKey(t);
  const lock = lockKey(t);
  const isAdded = (a: GrantAddress) => async () => heldEntries(await client.utilList(alias)).has(a.cidr);
  await pool(
    [
      ...adds.map((a) => () => withAliasLock(lock, "shared", () => client.utilAdd(alias, tableWire(t, a), isAdded(a))).finally(() => noteWrite(wk, a.cidr))),
      ...removes.map((k) => () => withAliasLock(lock, "shared", () => client.utilDelete(alias, before.get(k)!.address!)).finally(() => noteWrite(wk, k))),
    ],
    TABLE_WRITE_CONCURRENCY,
  );
  if (adds.length > 0 || removes.length > 0) await verifyTable(t, adds, removes, before);
  return { before, removedUnexpected: unexpected.map((k) => before.get(k)!.label) };
}

/** One list (and, after removals, one get_item) shows every add present and every remove gone; config copies get more delete rounds. */
async function verifyTable(t: SetTarget, adds: readonly GrantAddress[], removes: readonly string[], before: ReadonlyMap<string, HeldEntry>): Promise<void> {
  const { client, alias } = t;
  let pending = [...removes];
  for (let round = 1; ; round++) {
    const table = heldEntries(await client.utilList(alias));
    const missing = round === 1 ? adds.filter((a) => !table.has(a.cidr)) : [];
    if (missing.length > 0) {
      throw diagnose("OPN102", {
        host: client.host,
        detail: `alias_util/add answered "done" but the live table of "${alias}" does not hold ${missing.map((a) => a.canonical).join(", ")}`,
        vars: { alias },
      });
    }
    if (pending.length === 0) return;
    const config = t.info.uuid === "" ? undefined : await client.getItem(t.info.uuid);
    // The recorded uuid names no alias any more (re-created under its name): the caller looks it up again.
    if (config?.found === false) throw gone(t);
    const copies = new Map<string, string>();
    for (const line of config?.found ? config.content : []) {
      const key = aliasLineKey(line);
      if (key !== undefined) copies.set(key, line);
    }
    pending = pending.filter((k) => table.has(k) || copies.has(k));
    if (pending.length === 0) return;
    if (round >= MAX_DELETE_ROUNDS) {
      throw diagnose("OPN103", {
        host: client.host,
        detail: `after ${MAX_DELETE_ROUNDS} alias_util/delete rounds "${alias}" still holds ${pending.map((k) => before.get(k)?.label ?? k).join(", ")}`,
        vars: { alias, address: pending[0]! },
      });
    }
    // The device tries only `ip` and `ip/32` (AUC deleteAction): send the exact stored line next.
    await pool(
      pending.map((k) => () => withAliasLock(lockKey(t), "shared", () => client.utilDelete(alias, copies.get(k) ?? before.get(k)?.address ?? k))),
      TABLE_WRITE_CONCURRENCY,
    );
  }
}

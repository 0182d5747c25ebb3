/**
 * What create/read/delete do on the device, per method (SPEC §4.1; docs/reference/opnsense.md §3).
 *
 * table: alias_util add/delete. The live table is read before `add` and the address is added only when
 * absent (a repeat of the first config line would append a duplicate — the index-0 bug); after `add`
 * the table is read back. `delete` removes one config copy per call, so it is repeated until neither
 * the table nor (when the key may read aliases) the config holds the address.
 * config: get_item/set_item + reconfigure through the per-alias batcher, which verifies every op after a
 * settle and repairs what another writer undid (alias-batcher.ts: the cross-process guarantee).
 *
 * What is written: a Host(s) alias never holds a prefix, not even /32 (opnsense/core
 * FieldTypes/AliasContentField.php `validateHost` + Firewall/Util.php `isIpAddress`, 26.7.2; reference
 * §2d), so a host grant is sent as the bare address and a network grant into a Host(s) alias is refused
 * before any request ({@link addressFitProblem}). Into a Network(s) alias a table-mode host grant is
 * sent as `ip/32` / `ip/128`, the line the device would store itself: AliasUtilController.php
 * `addAction` (26.7.2) appends the mask only when `strpos($address, ":")` is truthy, so a bare IPv6
 * starting with `:` (e.g. `::a00:1`) would be stored with `/32`.
 *
 * Table-mode writes hold the per-alias lock in shared mode (alias-batcher.ts `withAliasLock`), so they
 * never land inside a config-mode batch's read→write in this process (issue 9 item 5).
 *
 * Reads are coalesced per alias (read-coalescer.ts): concurrent grants share one alias_util/list and
 * one get_item, and a read only serves a grant when it started after that grant's own last write was
 * answered. The reads that prove writes wait for the burst of writes (a burst window: through
 * `pulumi up` creates arrive one by one as the engine saves its checkpoint), and the check before an
 * add may use a read up to {@link PRECHECK_MAX_AGE_MS} old. So N creates cost N adds plus a few shared
 * reads (about 1.1 requests per grant at engine pace), while every add is still preceded by a read that
 * cannot predate this process's last write of that address (index-0 guard) and followed by a read that
 * started after it was answered (verify); deletes still repeat until neither the table nor the config
 * holds the address.
 */
import { sameAddress, type GrantAddress } from "../../core/address";
import { diagnose } from "../../core/diagnosis";
import { fingerprint } from "../../core/process-state";
import { coalescedRead, lastWrite, now, recordedWrite, type CoalesceOptions } from "../../core/read-coalescer";
import { submitContentOp, withAliasLock } from "./alias-batcher";
import type { OpnsenseClient } from "./client";
import type { ResolvedConnection } from "./connection";
import { addressFitProblem, type AliasInfo, type GrantMethod } from "./preflight";

/** How many delete rounds before OPN103 (each removes one config copy). */
export const MAX_DELETE_ROUNDS = 5;

export interface GrantTarget {
  readonly conn: ResolvedConnection;
  readonly client: OpnsenseClient;
  readonly alias: string;
  readonly address: GrantAddress;
  readonly method: GrantMethod;
  readonly info: AliasInfo;
}

const holds = (entries: readonly string[], a: GrantAddress) => entries.some((e) => sameAddress(e, a.cidr));

function batchKey(t: GrantTarget): string {
  return fingerprint("opnsense-batch", t.conn.url, t.conn.apiKey, t.alias);
}

/** The alias on its device, whatever the credential or method: the key of the per-alias lock. */
function lockKey(t: GrantTarget): string {
  let origin = t.conn.url;
  try {
    origin = new URL(t.conn.url).origin;
  } catch {
    // keep the URL as given; resolveConnection has validated it
  }
  return fingerprint("opnsense-alias-lock", origin, t.alias);
}

/** What alias_util/add is sent: the bare address, except a host into a Network(s) alias (see above). */
function tableWire(t: GrantTarget): string {
  return t.info.type === "network" && t.address.isHost ? t.address.cidr : t.address.canonical;
}

/** Refuses, before any request, an address the alias type cannot hold (a network into Host(s)). */
function assertFits(t: GrantTarget): void {
  const problem = addressFitProblem(t.client, t.alias, t.info, t.address);
  if (problem) throw problem;
}

/** "refresh" reads (`read`) reuse only each other's settled reads; create/delete reads ("write") likewise. */
type Purpose = "write" | "refresh";

/** Coalescing keys: device + credential + alias (+ what is read). */
const tableKey = (t: GrantTarget) => `opnsense.table:${fingerprint(t.conn.url, t.conn.apiKey, t.conn.apiSecret, t.alias)}`;
const itemKey = (t: GrantTarget) => `opnsense.item:${fingerprint(t.conn.url, t.conn.apiKey, t.conn.apiSecret, t.info.uuid)}`;
/** Writes are recorded per alias + address: they decide which shared reads may serve this grant. */
const writeKey = (t: GrantTarget) => `opnsense.writes:${fingerprint(t.conn.url, t.alias)}`;

/**
 * How old a settled table read may be to serve the check before an `add` (never a read from before this
 * process's last write of the address). It only decides "absent, so add": the add is then proven by a
 * read that starts after it was answered, and "present" from such a read is read again before it is
 * adopted. What staleness could cost: another writer added the same address within this time and it is
 * the alias's FIRST config line, so the device appends it again (the index-0 bug, reference §3) — and
 * delete repeats until the config holds no copy. A key that cannot read the config could not see such a
 * copy at delete, so it never uses an older read.
 */
export const PRECHECK_MAX_AGE_MS = 2_000;

/** Reads that confirm writes (and refreshes) wait for the burst of callers (read-coalescer.ts `BurstWindow`). */
const BURST = { burst: {} } as const satisfies CoalesceOptions;

/** The live table, shared with concurrent callers; never a read older than this grant's last write (or `notBefore`). */
function tableEntries(t: GrantTarget, purpose: Purpose = "write", more: CoalesceOptions = {}): Promise<string[]> {
  const notBefore = Math.max(lastWrite(writeKey(t), t.address.cidr), more.notBefore ?? 0);
  return coalescedRead(tableKey(t), () => t.client.utilList(t.alias), { ...BURST, ...more, purpose, notBefore });
}

/** The alias item (config content), shared the same way. */
function aliasItem(t: GrantTarget, purpose: Purpose = "write") {
  return coalescedRead(itemKey(t), () => t.client.getItem(t.info.uuid), { ...BURST, purpose, notBefore: lastWrite(writeKey(t), t.address.cidr) });
}

/** Adds the grant; `adopted` is true when the device already held it (nothing was written). */
export async function addGrant(t: GrantTarget): Promise<{ adopted: boolean }> {
  const { client, alias, address } = t;
  assertFits(t);
  if (t.method === "config") {
    // Resolves only when a read after the settle shows the address; the batch reconfigures even when
    // the content already held it (a run that died before its reconfigure left it saved, not live).
    const r = await recordedWrite(writeKey(t), address.cidr, () =>
      submitContentOp(batchKey(t), client, t.info.uuid, alias, { kind: "add", address: address.canonical }, lockKey(t)),
    );
    return { adopted: r.wasPresent };
  }
  // Index-0 guard: a recent shared read may decide "absent" (see PRECHECK_MAX_AGE_MS); "present" is read again.
  const maxAgeMs = t.info.uuid === "" ? 0 : PRECHECK_MAX_AGE_MS;
  if (
    holds(await tableEntries(t, "write", { maxAgeMs }), address) &&
    (maxAgeMs === 0 || holds(await tableEntries(t, "write", { notBefore: now() }), address))
  ) {
    return { adopted: true };
  }
  await recordedWrite(writeKey(t), address.cidr, () =>
    withAliasLock(lockKey(t), "shared", () => client.utilAdd(alias, tableWire(t), async () => holds(await client.utilList(alias), address))),
  );
  if (!holds(await tableEntries(t), address)) {
    throw diagnose("OPN102", {
      host: client.host,
      detail: `alias_util/add answered "done" but the live table of "${alias}" does not hold ${address.canonical}`,
      vars: { alias },
    });
  }
  return { adopted: false };
}

/** True when the device holds the grant: the live table (table mode) or the alias content (config mode). */
export async function grantPresent(t: GrantTarget): Promise<boolean> {
  if (t.method === "config") {
    const item = await aliasItem(t, "refresh");
    return item.found && holds(item.content, t.address);
  }
  return holds(await tableEntries(t, "refresh"), t.address);
}

/** Config lines that denote the address, or `undefined` when the key may not read the config. */
async function configCopies(t: GrantTarget): Promise<string[] | undefined> {
  if (t.info.uuid === "") return undefined;
  const item = await aliasItem(t);
  return item.found ? item.content.filter((l) => sameAddress(l, t.address.cidr)) : [];
}

/**
 * Removes the grant — also when the address was on the device before the grant was created (delete
 * revokes; `adopted` is informational). Success only when a read-back shows it gone; idempotent (an
 * address already gone costs the delete call and the read-back, and succeeds). Never touches other
 * addresses.
 */
export async function removeGrant(t: GrantTarget): Promise<void> {
  const { client, alias, address } = t;
  if (t.method === "config") {
    // Verified like an add: resolves only when a read after the settle no longer shows the address.
    await recordedWrite(writeKey(t), address.cidr, () =>
      submitContentOp(batchKey(t), client, t.info.uuid, alias, { kind: "remove", address: address.canonical }, lockKey(t)),
    );
    return;
  }
  let wire = address.canonical;
  for (let round = 1; round <= MAX_DELETE_ROUNDS; round++) {
    const w = wire;
    await recordedWrite(writeKey(t), address.cidr, () => withAliasLock(lockKey(t), "shared", () => client.utilDelete(alias, w)));
    const [entries, copies] = await Promise.all([tableEntries(t), configCopies(t)]);
    const inTable = holds(entries, address);
    if (!inTable && (copies === undefined || copies.length === 0)) return;
    // The device tries only `ip` and `ip/32` (AUC deleteAction): send the exact stored line next,
    // e.g. an IPv6 host stored as `…/128` in a network alias.
    wire = copies?.[0] ?? address.canonical;
  }
  throw diagnose("OPN103", {
    host: client.host,
    detail: `after ${MAX_DELETE_ROUNDS} alias_util/delete calls "${alias}" still holds ${address.canonical}`,
    vars: { alias, address: address.canonical },
  });
}

/**
 * Alias lookup and the permission preflight run from `check` (SPEC §5; probes from
 * docs/reference/opnsense.md §6). Every request here is side-effect free: GETs only, and the write
 * probe for "Firewall: Alias: Edit" is a GET on reconfigure, which the action refuses without doing
 * anything. Results are cached for the life of the process (500 resources → one probe set).
 */
import type { GrantAddress } from "../../core/address";
import { diagnose, type DiagnosisCode } from "../../core/diagnosis";
import type { GrantError } from "../../core/errors";
import { isGrantError } from "../../core/errors";
import { runSteps, type PreflightDepth, type PreflightStep } from "../../core/preflight-steps";
import { cachedPreflight, cachedProbe, fingerprint, processState, shared } from "../../core/process-state";
import type { OpnsenseClient } from "./client";
import type { ResolvedConnection } from "./connection";

import type { GrantMethod } from "./names";

export type { GrantMethod } from "./names";

export interface AliasInfo {
  /** "" when the key may not read aliases (a "Diagnostics: PF Table IP addresses"-only key in table mode). */
  readonly uuid: string;
  /** "unknown" when it could not be read (same case). */
  readonly type: string;
}

/** Types whose content is IP addresses, per method (external: pf table only, so table mode only). */
const HOLDS_ADDRESSES: Record<GrantMethod, ReadonlySet<string>> = {
  table: new Set(["host", "network", "external", "unknown"]),
  config: new Set(["host", "network"]),
};

/**
 * Finds the alias: get_alias_u_u_i_d + get_item (needs "Firewall: Aliases" or Edit). In table mode a
 * key without it falls back to alias_util/aliases (the loaded pf table names; only address-holding
 * aliases have a table), which proves existence but not the type.
 */
async function lookupAlias(client: OpnsenseClient, alias: string, method: GrantMethod): Promise<AliasInfo> {
  let uuid: string | undefined;
  try {
    uuid = await client.getAliasUuid(alias);
  } catch (e) {
    if (!(method === "table" && isGrantError(e) && e.code === "OPN001")) throw e;
    const tables = await client.utilAliases();
    if (!tables.includes(alias)) throw notFound(client, alias, "alias_util/aliases lists no table");
    return { uuid: "", type: "unknown" };
  }
  if (uuid === undefined) throw notFound(client, alias, "get_alias_u_u_i_d returned no uuid");
  const item = await client.getItem(uuid);
  if (!item.found) throw notFound(client, alias, "get_item found no alias for its uuid");
  return { uuid, type: item.type };
}

function notFound(client: OpnsenseClient, alias: string, how: string) {
  return diagnose("OPN100", { host: client.host, detail: `no alias named "${alias}" (${how})`, vars: { alias } });
}

function assertType(client: OpnsenseClient, alias: string, method: GrantMethod, info: AliasInfo): void {
  if (!HOLDS_ADDRESSES[method].has(info.type)) {
    throw diagnose("OPN101", {
      host: client.host,
      detail: `alias "${alias}" is of type "${info.type}", which ${method} mode cannot put addresses into`,
      vars: { alias, aliasType: info.type },
    });
  }
}

const aliasLookups = () => shared("opnsense.alias-lookups", () => new Map<string, Promise<AliasInfo>>());
const lookupKey = (conn: ResolvedConnection, alias: string, method: GrantMethod) => fingerprint(conn.url, conn.apiKey, conn.apiSecret, alias, method);

/**
 * Looks the alias up by name again, replacing what {@link cachedAlias} holds: for a uuid recorded earlier
 * that names no alias any more (the alias was deleted and re-created under the same name). OPN100 when
 * no alias has the name now.
 */
export function freshAlias(conn: ResolvedConnection, client: OpnsenseClient, alias: string, method: GrantMethod): Promise<AliasInfo> {
  aliasLookups().delete(lookupKey(conn, alias, method));
  return cachedAlias(conn, client, alias, method);
}

/** The alias uuid and type, looked up once per device+key+alias+method for the process. */
export function cachedAlias(conn: ResolvedConnection, client: OpnsenseClient, alias: string, method: GrantMethod): Promise<AliasInfo> {
  const cache = aliasLookups();
  const key = lookupKey(conn, alias, method);
  let p = cache.get(key);
  if (!p) {
    p = lookupAlias(client, alias, method).then((info) => {
      assertType(client, alias, method, info);
      return info;
    });
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

/**
 * The alias as a lookup earlier in this process found it, without any request; `undefined` when no
 * lookup completed. The `doctor` command uses it to report the alias step of a preflight.
 */
export async function knownAlias(conn: ResolvedConnection, alias: string, method: GrantMethod): Promise<AliasInfo | undefined> {
  const cache = shared("opnsense.alias-lookups", () => new Map<string, Promise<AliasInfo>>());
  return cache.get(fingerprint(conn.url, conn.apiKey, conn.apiSecret, alias, method))?.catch(() => undefined);
}

/** "A network prefix for a Host(s) alias" (docs/reference/diagnosis-codes.md OPN104). */
const HOST_PREFIX_CODE: DiagnosisCode = "OPN104";

/**
 * Why the alias cannot hold `address`, or `undefined` when it can (or when the type is unknown: see
 * {@link preflight}'s `unverified`). A Host(s) alias never holds a prefix, not even `/32`: set_item
 * refuses it with a validation and alias_util/add answers HTTP 500 "Unexpected error" with nothing
 * added (opnsense/core FieldTypes/AliasContentField.php `validateHost`, Firewall/Util.php
 * `isIpAddress`/`isDomain` refuse any `/`, all tags read 22.7–26.7.2; maintainer in opnsense/core #6062).
 * A `/32` or `/128` grant is a single address and is written bare, so only wider prefixes are refused.
 */
export function addressFitProblem(client: OpnsenseClient, alias: string, info: AliasInfo, address: GrantAddress): GrantError | undefined {
  if (info.type !== "host" || address.isHost) return undefined;
  return diagnose(HOST_PREFIX_CODE, {
    host: client.host,
    detail:
      `alias "${alias}" is a Host(s) alias, which holds single addresses only and never a network, not even /32: ` +
      `the firewall refuses ${address.canonical} there. Use a Network(s) alias for ${address.canonical} (or grant single addresses)`,
    vars: { alias, aliasType: "host", address: address.canonical },
  });
}

/** What each preflight step works on. */
export interface PreflightContext {
  readonly conn: ResolvedConnection;
  readonly client: OpnsenseClient;
  readonly alias: string;
  readonly method: GrantMethod;
}

/**
 * The `OpnsenseAliasEntry` preflight, in order (docs/reference/opnsense.md §4, §6). The write probes
 * are GETs the actions refuse without doing anything; `alias_util/aliases` doubles as the alias lookup
 * for a key without "Firewall: Aliases", so the table write step is skipped when it already ran.
 */
export const ALIAS_ENTRY_PREFLIGHT: readonly PreflightStep<PreflightContext>[] = [
  {
    id: "auth",
    kind: "auth",
    proves: "the API key and secret are accepted",
    request: "GET /api/core/menu/search",
    needs: "a valid key (any privilege)",
    // Once per device and credential in the process, whatever the number of aliases.
    run: (c) => cachedProbe(`${deviceKey(c.conn)}:auth`, async () => void (await c.client.menuSearch())),
  },
  {
    id: "alias",
    kind: "read",
    proves: "the alias exists and its type can hold addresses for the method",
    request: "GET /api/firewall/alias/get_alias_u_u_i_d/{alias} + get_item/{uuid} (table mode without Firewall: Aliases: GET alias_util/aliases)",
    needs: `"Firewall: Aliases" (read); in table mode "Diagnostics: PF Table IP addresses" suffices`,
    run: async (c) => void (await cachedAlias(c.conn, c.client, c.alias, c.method)),
  },
  {
    id: "write-table",
    kind: "write",
    proves: "the key may add and delete table entries (method table)",
    request: "GET /api/firewall/alias_util/aliases",
    needs: `"Diagnostics: PF Table IP addresses"`,
    applies: (c) => c.method === "table",
    run: async (c) => {
      if ((await cachedAlias(c.conn, c.client, c.alias, c.method)).uuid !== "") await c.client.utilAliases();
    },
  },
  {
    id: "write-config",
    kind: "write",
    proves: "the key may edit and apply aliases (method config)",
    request: "GET /api/firewall/alias/reconfigure (refused without doing anything)",
    needs: `"Firewall: Alias: Edit"`,
    applies: (c) => c.method === "config",
    // A right of the key, not of the alias: once per device and credential in the process.
    run: (c) => cachedProbe(`${deviceKey(c.conn)}:edit`, async () => void (await c.client.probeEdit())),
  },
];

/** Everything of the connection that can change a probe's answer, digested (no secret is held). */
const deviceKey = (conn: ResolvedConnection) => fingerprint("opnsense-device", conn.url, conn.apiKey, conn.apiSecret, conn.caCert, String(conn.insecure));

/**
 * The preflight of an in-place change of a set already in state on this alias (issue 22): ONE request, which the
 * device refuses with 401 for a bad key and 403 without the privilege the method writes with. Config mode: the
 * edit probe ("Firewall: Alias: Edit" covers `api/firewall/alias/*`, so reading the alias too); table mode:
 * alias_util/aliases ("Diagnostics: PF Table IP addresses", the privilege of every table read and write), whose
 * answer also shows the alias's table is loaded. That the alias still exists under its recorded uuid is proven by
 * the change's own first read (set-ops.ts), which looks it up by name again or fails with OPN100. Callers use it
 * only when no listed address needs the alias type (a network in a Host(s) alias): set-resource.ts.
 */
export const ALIAS_SET_CHANGE_PREFLIGHT: readonly PreflightStep<PreflightContext>[] = [
  { ...ALIAS_ENTRY_PREFLIGHT[3]!, id: "write-config", proves: "the key is accepted and may read, edit and apply aliases (method config)" },
  {
    id: "write-table",
    kind: "write",
    proves: "the key is accepted, may read, add and delete table entries, and the alias's table is loaded (method table)",
    request: "GET /api/firewall/alias_util/aliases",
    needs: `"Diagnostics: PF Table IP addresses"`,
    applies: (c) => c.method === "table",
    run: async (c) => {
      if (!(await c.client.utilAliases()).includes(c.alias)) throw notFound(c.client, c.alias, "alias_util/aliases lists no table");
    },
  },
];

/** {@link ALIAS_SET_CHANGE_PREFLIGHT}, once per device + key + alias + method (and per CLI run, process-state `cachedPreflight`). */
export async function setChangePreflight(conn: ResolvedConnection, client: OpnsenseClient, alias: string, method: GrantMethod): Promise<void> {
  // The whole preflight already passed in this process (a `create` earlier in the run, or `doctor`): it proved more.
  const whole = processState().probes.get(`preflight:${fullKey(conn, alias, method, "full")}`);
  if (
    whole &&
    (await whole.then(
      () => true,
      () => false,
    ))
  )
    return;
  return cachedPreflight(fingerprint("opnsense-set-change", deviceKey(conn), alias, method), () =>
    runSteps(ALIAS_SET_CHANGE_PREFLIGHT, { conn, client, alias, method }, "full"),
  );
}

const fullKey = (conn: ResolvedConnection, alias: string, method: GrantMethod, mode: PreflightDepth) =>
  fingerprint("opnsense-preflight", conn.url, conn.apiKey, conn.apiSecret, conn.caCert, String(conn.insecure), alias, method, mode);

/** What a preflight could not check with this key (to be shown to the user as a warning). */
export interface PreflightReport {
  readonly unverified: readonly string[];
}

/**
 * Authentication, then the alias (read), then the privilege the method writes with; with `address`,
 * also that the alias type can hold it (a network grant into a Host(s) alias is refused here, in
 * preview, instead of failing on the device at create). The probes are cached per device + key +
 * alias + method; the address check costs no request.
 *
 * A key holding only "Diagnostics: PF Table IP addresses" cannot read the alias type: the report then
 * says what preview could not verify ({@link preflight} is the same without the report).
 */
export async function preflightReport(
  conn: ResolvedConnection,
  client: OpnsenseClient,
  alias: string,
  method: GrantMethod,
  address?: GrantAddress,
  mode: PreflightDepth = "full",
): Promise<PreflightReport> {
  const ctx: PreflightContext = { conn, client, alias, method };
  await cachedPreflight(fullKey(conn, alias, method, mode), () => runSteps(ALIAS_ENTRY_PREFLIGHT, ctx, mode));
  const info = await cachedAlias(conn, client, alias, method);
  const unverified: string[] = [];
  if (address) {
    const problem = addressFitProblem(client, alias, info, address);
    if (problem) throw problem;
  }
  if (info.type === "unknown") {
    unverified.push(
      `the type of alias "${alias}" could not be read: the API key lacks "Firewall: Aliases", so preview could not verify that the alias is a Host(s) or Network(s) alias` +
        (address && !address.isHost
          ? ` — ${address.canonical} is a network, which only a Network(s) alias accepts (a Host(s) alias refuses it at create)`
          : "") +
        `. Add "Firewall: Aliases" to the key's group to have preview check it`,
    );
  }
  return { unverified };
}

/** {@link preflightReport} for callers that only need pass/fail (the refusals are thrown). */
export async function preflight(
  conn: ResolvedConnection,
  client: OpnsenseClient,
  alias: string,
  method: GrantMethod,
  address?: GrantAddress,
  mode: PreflightDepth = "full",
): Promise<void> {
  await preflightReport(conn, client, alias, method, address, mode);
}

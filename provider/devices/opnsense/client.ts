/**
 * The OPNsense alias API, one device verb per method. Paths are lowercase snake_case as the UI sends
 * them (ACL matching is case-sensitive, docs/reference/opnsense.md §1); every answer is parsed with
 * zod at the call site; HTTP failures become diagnoses (401 → OPN000, 403 → OPN001 naming the one
 * privilege of that URL, 500 read-only → OPN201) and transport failures OPN002–OPN005.
 */
import { z } from "zod";
import { diagnose, toGrantError } from "../../core/diagnosis";
import { isTransportError } from "../../core/errors";
import { Transport, applyVerified, devicePath, type TransportRequest } from "../../core/transport";

export const PATH_MENU_SEARCH = "/api/core/menu/search";
export const PATH_ALIAS_GET_UUID = "/api/firewall/alias/get_alias_u_u_i_d";
export const PATH_ALIAS_GET_ITEM = "/api/firewall/alias/get_item";
export const PATH_ALIAS_SET_ITEM = "/api/firewall/alias/set_item";
export const PATH_ALIAS_RECONFIGURE = "/api/firewall/alias/reconfigure";
export const PATH_UTIL_ALIASES = "/api/firewall/alias_util/aliases";
export const PATH_UTIL_LIST = "/api/firewall/alias_util/list";
export const PATH_UTIL_ADD = "/api/firewall/alias_util/add";
export const PATH_UTIL_DELETE = "/api/firewall/alias_util/delete";
/** Minimum wait for a set_item answer (see {@link OpnsenseClient.setItemContent}). */
export const SET_ITEM_DEADLINE_MS = 60_000;

/** Display names of the privilege keys (core ACL.xml). */
export const PRIVILEGE = {
  tables: "Diagnostics: PF Table IP addresses",
  edit: "Firewall: Alias: Edit",
  read: "Firewall: Aliases",
} as const;

/** The one privilege that covers a URL: alias_util/* → tables; alias writes → edit; alias reads → read. */
export function privilegeFor(path: string): string {
  if (path.startsWith("/api/firewall/alias_util/")) return PRIVILEGE.tables;
  if (/^\/api\/firewall\/alias\/(search|get|list|export)/.test(path)) return PRIVILEGE.read;
  return PRIVILEGE.edit;
}

export interface OpnsenseClientOptions {
  readonly url: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly caCert?: string | undefined;
  readonly insecure?: boolean | undefined;
  readonly timeoutMs?: number | undefined;
}

/** get_item `alias` (selected-map form, §2c): type and content are `{key: {value, selected}}` maps. */
type SelectedMap = Record<string, { selected: number | boolean | string }>;
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
/**
 * Checked in place rather than parsed into a copy: the content map of a 50,000-address alias is 50,000 option objects,
 * and zod's record/object parse built a new one for each (issue 22). Same rule as a record of `{selected}` objects.
 */
const SelectedMapSchema = z.custom<SelectedMap>(
  (v) =>
    isMap(v) &&
    Object.values(v).every((o) => {
      const t = isMap(o) ? typeof o.selected : "";
      return t === "number" || t === "boolean" || t === "string";
    }),
  { message: "expected a map of options, each with a number, boolean or string `selected`" },
);
const selectedKeys = (m: SelectedMap) => {
  const out: string[] = [];
  for (const k in m) if (Object.hasOwn(m, k) && Number(m[k]!.selected) === 1) out.push(k);
  return out;
};

export const AliasItemSchema = z
  .object({
    alias: z
      .object({ name: z.string().optional(), type: SelectedMapSchema.optional(), content: SelectedMapSchema, description: z.string().optional() })
      .loose(),
  })
  .transform(({ alias }) => ({
    // 26.7+ answers an unknown uuid with {"alias":{"content":{…}}} and no name (reference §2a).
    found: alias.name !== undefined,
    name: alias.name ?? "",
    type: alias.type ? (selectedKeys(alias.type)[0] ?? "") : "",
    // Wire: {"10.0.0.1":{"value":"10.0.0.1","selected":1}, "<other alias>":{"selected":0,…}, "":{…} when empty}.
    content: selectedKeys(alias.content).filter((k) => k !== ""),
    description: alias.description ?? "",
  }));
export type AliasItem = z.infer<typeof AliasItemSchema>;

const UuidSchema = z.union([
  z.object({ uuid: z.string() }).transform((r) => r.uuid),
  z
    .array(z.unknown())
    .length(0)
    .transform(() => undefined),
]);
const StatusSchema = z.object({ status: z.string(), status_msg: z.string().optional() }).loose();
const ResultSchema = z.object({ result: z.string(), validations: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional() }).loose();
const TableListSchema = z
  .object({ total: z.union([z.number(), z.string()]).optional(), rows: z.array(z.object({ ip: z.string() }).loose()) })
  .loose()
  .transform((r) => ({ total: r.total === undefined ? undefined : Number(r.total), ips: r.rows.map((row) => row.ip) }));
/**
 * Body of an alias_util/list request that asks for every row. From 25.7 listAction goes through
 * ApiControllerBase `searchRecordsetBase`, whose page size is `getPost('rowCount', 'int', 9999)`: a GET
 * (or a POST without rowCount) gets at most 9999 rows while `total` counts all, and only POST data
 * counts (query parameters are not `$_POST`). `rowCount: -1` means "all" (`count($records)`). Up to 25.1
 * the action had its own code with the default -1 (all rows), where the same body also returns all.
 * Sources: opnsense/core Firewall/Api/AliasUtilController.php at 24.7/25.1/25.1.12 and 25.7/26.7.2;
 * Base/ApiControllerBase.php at 25.7/26.7.2.
 */
const LIST_ALL = { current: 1, rowCount: -1 } as const;
/** Pages fetched at most when a device ignores `rowCount: -1` (see {@link OpnsenseClient.utilList}). */
const MAX_LIST_PAGES = 100;
const MenuSchema = z.array(z.object({ Url: z.string().optional() }).loose());
const ErrorBodySchema = z.object({ errorMessage: z.string().optional(), errorTitle: z.string().optional(), message: z.string().optional() }).loose();

export class OpnsenseClient {
  readonly host: string;
  readonly timeoutMs: number;
  private readonly transport: Transport;

  constructor(opts: OpnsenseClientOptions) {
    const authorization = `Basic ${Buffer.from(`${opts.apiKey}:${opts.apiSecret}`).toString("base64")}`;
    this.transport = new Transport({
      baseUrl: opts.url,
      caCert: opts.caCert,
      insecure: opts.insecure,
      timeoutMs: opts.timeoutMs,
      headers: { authorization },
      secrets: [opts.apiSecret, opts.apiKey, authorization, authorization.slice(6)],
    });
    this.host = this.transport.host;
    this.timeoutMs = this.transport.timeoutMs;
  }

  /** GET core/menu/search: every authenticated user may call it, so it tests the credentials alone. */
  async menuSearch(): Promise<string[]> {
    const leaves = await this.call({ method: "GET", path: PATH_MENU_SEARCH, idempotent: true }, MenuSchema);
    return leaves.map((l) => l.Url ?? "").filter(Boolean);
  }

  /** The alias uuid, or `undefined` when no alias has that (case-sensitive) name. */
  getAliasUuid(alias: string): Promise<string | undefined> {
    return this.call({ method: "GET", path: devicePath(PATH_ALIAS_GET_UUID, alias), idempotent: true }, UuidSchema);
  }

  getItem(uuid: string): Promise<AliasItem> {
    return this.call({ method: "GET", path: devicePath(PATH_ALIAS_GET_ITEM, uuid), idempotent: true }, AliasItemSchema);
  }

  /**
   * Replaces the alias content (other fields are kept by the device). Throws OPN102 on validations.
   * Waits at least {@link SET_ITEM_DEADLINE_MS} for the answer: set_item has no version check, so a
   * request given up on at the normal timeout could still land after a newer batch and silently
   * drop its addresses (issue 6 fault suite: 40 of 50 grants lost to one 2 s stall).
   */
  async setItemContent(uuid: string, alias: string, content: readonly string[], notAfter?: number): Promise<void> {
    const req: TransportRequest = {
      method: "POST",
      path: devicePath(PATH_ALIAS_SET_ITEM, uuid),
      body: { alias: { content: content.join("\n") } },
      idempotent: true,
      timeoutMs: Math.max(this.timeoutMs, SET_ITEM_DEADLINE_MS),
      notAfter,
    };
    const r = await this.call(req, ResultSchema);
    if (r.result !== "saved") {
      const msg = r.validations ? Object.values(r.validations).flat().join(" ") : `result "${r.result}"`;
      throw diagnose("OPN102", {
        host: this.host,
        detail: `set_item on alias "${alias}" was refused`,
        operation: `POST ${PATH_ALIAS_SET_ITEM}`,
        status: 200,
        deviceMessage: msg,
        vars: { alias },
      });
    }
  }

  /** POST reconfigure: loads config content into the live tables. A failure is OPN200. */
  async reconfigure(): Promise<void> {
    const req: TransportRequest = { method: "POST", path: PATH_ALIAS_RECONFIGURE, body: {}, idempotent: true };
    const res = await this.send(req);
    if (res.status === 500) {
      const body = this.errorBody(res.text);
      throw diagnose("OPN200", {
        host: this.host,
        detail: "reconfigure (the alias reload) failed",
        operation: `POST ${PATH_ALIAS_RECONFIGURE}`,
        status: 500,
        deviceMessage: body,
      });
    }
    const r = this.accept(req, res, StatusSchema);
    if (r.status.toLowerCase() !== "ok") {
      throw diagnose("OPN200", {
        host: this.host,
        detail: "reconfigure (the alias reload) did not report ok",
        operation: `POST ${PATH_ALIAS_RECONFIGURE}`,
        status: res.status,
        deviceMessage: r.status,
      });
    }
  }

  /** Write probe for "Firewall: Alias: Edit": a GET on reconfigure is refused by the action (no effect) but passes the ACL. */
  async probeEdit(): Promise<void> {
    await this.call({ method: "GET", path: PATH_ALIAS_RECONFIGURE, idempotent: true }, StatusSchema);
  }

  /** Names of the loaded pf tables (alias_util/aliases); also the write probe for the tables privilege. */
  utilAliases(): Promise<string[]> {
    return this.call({ method: "GET", path: PATH_UTIL_ALIASES, idempotent: true }, z.array(z.string()));
  }

  /**
   * Every entry of the live pf table, as pfctl prints them: POST `{"rowCount":-1}` (see
   * {@link LIST_ALL}; a GET stops at row 9999 from 25.7). The answer's `total` is checked: should a
   * device (or a proxy) still return fewer rows, the rest is fetched page by page with the page size it
   * used, and a listing that stays short of `total` fails (OPN900) instead of reporting a grant past the
   * cut as absent.
   */
  async utilList(alias: string): Promise<string[]> {
    const path = devicePath(PATH_UTIL_LIST, alias);
    const first = await this.call({ method: "POST", path, body: LIST_ALL, idempotent: true }, TableListSchema);
    if (first.total === undefined || first.ips.length >= first.total || first.ips.length === 0) return first.ips;
    const pageSize = first.ips.length;
    const seen = new Set(first.ips);
    for (let page = 2; page <= MAX_LIST_PAGES && seen.size < first.total; page++) {
      const next = await this.call({ method: "POST", path, body: { current: page, rowCount: pageSize }, idempotent: true }, TableListSchema);
      if (next.ips.length === 0) break;
      for (const ip of next.ips) seen.add(ip);
    }
    if (seen.size < first.total) {
      throw diagnose("OPN900", {
        host: this.host,
        detail: `alias_util/list of "${alias}" returned ${seen.size} of ${first.total} rows even when asked for all of them, so presence cannot be decided`,
        operation: `POST ${PATH_UTIL_LIST}`,
        status: 200,
      });
    }
    return [...seen];
  }

  /**
   * alias_util/add. Not blindly repeatable (a repeat of the first line appends a duplicate, reference
   * §3), so an ambiguous failure is settled by reading the table back (`isApplied`).
   */
  async utilAdd(alias: string, address: string, isApplied: () => Promise<boolean>): Promise<void> {
    const req: TransportRequest = { method: "POST", path: devicePath(PATH_UTIL_ADD, alias), body: { address }, idempotent: false };
    const write = async () => {
      const res = await this.transport.send(req);
      // A 502/503/504 may or may not have been applied: applyVerified reads back before repeating.
      if (res.status === 502 || res.status === 503 || res.status === 504) throw this.transport.httpError(req, res);
      return res;
    };
    const res = await applyVerified(write, isApplied).catch((e: unknown) => {
      throw this.diagnosed(e, req);
    });
    if (res === "verified") return;
    if (res.status === 500) {
      const message = this.errorBody(res.text);
      // A 500 that is not the read-only refusal (accept() maps that to OPN201) is the model save's
      // ValidationException: AliasUtilController.php `addAction` saves host/network content through the
      // model, and a value the alias type refuses (a prefix into a Host(s) alias) throws outside any
      // UserException, which api.php renders as "Unexpected error" (26.7.2). Nothing was added; not retried.
      if (!/denied for write access|user-config-readonly/.test(message)) {
        throw diagnose("OPN102", {
          host: this.host,
          detail:
            `alias_util/add of ${address} to "${alias}" failed with HTTP 500: the alias refused the value (a Host(s) alias refuses any prefix, even /32; ` +
            `a network needs a Network(s) alias). Nothing was added`,
          operation: `POST ${PATH_UTIL_ADD}`,
          status: 500,
          deviceMessage: message,
          vars: { alias },
        });
      }
    }
    const r = this.accept(req, res, StatusSchema);
    if (r.status === "done") return;
    if (r.status_msg?.startsWith("nonexistent alias")) {
      throw diagnose("OPN100", {
        host: this.host,
        detail: `alias_util/add found no alias "${alias}"`,
        operation: `POST ${PATH_UTIL_ADD}`,
        status: 200,
        deviceMessage: r.status_msg,
        vars: { alias },
      });
    }
    throw diagnose("OPN102", {
      host: this.host,
      detail: `alias_util/add of ${address} to "${alias}" was refused`,
      operation: `POST ${PATH_UTIL_ADD}`,
      status: 200,
      deviceMessage: r.status_msg ?? r.status,
      vars: { alias },
    });
  }

  /** alias_util/delete: "done" also when nothing was there, so repeating it is safe. */
  async utilDelete(alias: string, address: string): Promise<void> {
    const r = await this.call({ method: "POST", path: devicePath(PATH_UTIL_DELETE, alias), body: { address }, idempotent: true }, StatusSchema);
    if (r.status !== "done") {
      throw diagnose("OPN103", {
        host: this.host,
        detail: `alias_util/delete of ${address} from "${alias}" was refused`,
        operation: `POST ${PATH_UTIL_DELETE}`,
        status: 200,
        deviceMessage: r.status,
        vars: { alias, address },
      });
    }
  }

  private async call<S extends z.ZodType>(req: TransportRequest, schema: S): Promise<z.infer<S>> {
    const res = await this.send(req);
    return this.accept(req, res, schema);
  }

  private async send(req: TransportRequest) {
    try {
      return await this.transport.send(req);
    } catch (e) {
      throw this.diagnosed(e, req);
    }
  }

  private accept<S extends z.ZodType>(req: TransportRequest, res: { status: number; text: string; headers: Record<string, unknown> }, schema: S): z.infer<S> {
    const operation = `${req.method} ${req.path}`;
    const base = { host: this.host, operation, status: res.status };
    if (res.status === 401) {
      return fail(diagnose("OPN000", { ...base, detail: `the API key/secret was not accepted for ${operation}`, deviceMessage: this.errorBody(res.text) }));
    }
    if (res.status === 403) {
      const privilege = privilegeFor(req.path);
      return fail(
        diagnose("OPN001", {
          ...base,
          detail: `the API key is valid but its user may not call ${req.path.split("/").slice(0, 5).join("/")} (HTTP 403). Missing privilege: "${privilege}"`,
          deviceMessage: this.errorBody(res.text),
          vars: { privilege },
        }),
      );
    }
    if (res.status === 500) {
      const message = this.errorBody(res.text);
      if (/denied for write access|user-config-readonly/.test(message)) {
        return fail(diagnose("OPN201", { ...base, detail: `the API user may not save the configuration (${operation})`, deviceMessage: message }));
      }
    }
    if (res.status !== 200) throw this.diagnosed(this.transport.httpError(req, res as never), req);
    try {
      return this.transport.parse(req, res as never, schema);
    } catch (e) {
      throw this.diagnosed(e, req);
    }
  }

  private errorBody(text: string): string {
    const parsed = ErrorBodySchema.safeParse(safeJson(text));
    const msg = parsed.success ? [parsed.data.errorTitle, parsed.data.errorMessage ?? parsed.data.message].filter(Boolean).join(": ") : "";
    return msg ? this.transport.redact(msg) : this.transport.excerpt(text, 300);
  }

  private diagnosed(e: unknown, req: TransportRequest) {
    if (isTransportError(e) && e.kind === "http" && e.status === 404) {
      return diagnose("OPN900", {
        host: this.host,
        detail: `${req.method} ${req.path} is not an endpoint of this device (HTTP 404)`,
        operation: `${req.method} ${req.path}`,
        status: 404,
        deviceMessage: e.bodyExcerpt ?? "",
      });
    }
    return toGrantError(e, "opnsense", { host: this.host, timeoutMs: this.timeoutMs });
  }
}

function fail(e: Error): never {
  throw e;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

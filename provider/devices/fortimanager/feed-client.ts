/**
 * FortiGate push feeds reached through FortiManager (docs/reference/fortigate-feeds.md §8, §9):
 * `exec /sys/proxy/json` relays one FortiOS REST call to many managed FortiGates at once, with one
 * result per device matched on `target` (their order varies, JPF-PROXY); `get /dvmdb/adom/<adom>/device`
 * is the inventory (managed in the ADOM, `conn_status` up). Built on {@link FortimanagerClient}: its
 * authenticator (API key or the process's shared login session, the -11 repeat, logout), so a feed
 * grant and a trusted-host grant of one program share one session.
 *
 * Every targeted device must have its own element whose `status.code` is 0 and whose `response` is the
 * FortiGate's success envelope; a missing element, a non-zero code, no response or `status` other than
 * "success" is a failure of that device (reference §8 "offline or unknown device": UNCONFIRMED, so
 * every unhelpful shape counts as failure).
 */
import { z } from "zod";
import { diagnose, toGrantError } from "../../core/diagnosis";
import type { GrantError } from "../../core/errors";
import { assertSafePath, isAmbiguousWriteFailure } from "../../core/transport";
import { ENTRY_PAGE, readAllEntries, type FeedBackend, type TargetPush, type TargetRead } from "../fortinet/feed-batcher";
import {
  EXTERNAL_RESOURCE_PATH,
  EntryListAnswerSchema,
  FEED_ENTRY_LIST_PATH,
  FEED_PUSH_PATH,
  FeedObjectAnswerSchema,
  entryListQuery,
  pushBody,
  type FeedCommand,
  type FeedObject,
} from "../fortinet/feed-entries";
import type { FortimanagerClient } from "./client";
import { RpcStatusSchema, type RpcCall } from "./jsonrpc";
import type { Authenticator, RpcAnswer } from "./session";

export const PROXY_URL = "/sys/proxy/json";
/** The devices of an ADOM (JPF-DEV, ANS-DVMDEV); `name`, `conn_status` and `sn` are what is used. */
export const adomDevicesUrl = (adom: string) => `/dvmdb/adom/${adom}/device`;

/** One device's element of a proxy answer: `{target, status:{code,message}, response:{<FortiOS envelope>}}`. */
const ProxyItemSchema = z.object({ target: z.string(), status: RpcStatusSchema.optional(), response: z.unknown().optional() }).passthrough();
/** The FortiOS envelope inside `response` (the fields judged; the rest passes through). */
const FortiosResponseSchema = z
  .object({ status: z.string(), http_status: z.number().optional(), error: z.number().optional(), cli_error: z.string().optional() })
  .passthrough();
type FortiosResponse = z.infer<typeof FortiosResponseSchema>;

/** A device's answer: the FortiGate's envelope, or why there is none. */
export type DeviceAnswer =
  | { readonly ok: true; readonly response: FortiosResponse; readonly raw: unknown }
  | { readonly ok: false; readonly reason: string; readonly httpStatus?: number | undefined; readonly error?: GrantError };

/** A device as the inventory shows it. */
export interface ManagedDevice {
  readonly name: string;
  readonly up: boolean;
  readonly connStatus: string;
  /** The FortiGate's serial number (`sn`, reference §9), when the manager lists one. */
  readonly serial?: string | undefined;
}
const DeviceRowSchema = z
  .object({ name: z.string(), conn_status: z.union([z.number(), z.string()]).optional(), sn: z.string().optional() })
  .passthrough()
  // conn_status: 1 / "up" up, 2 / "down" down, 0 / "UNKNOWN" unknown (reference §9, MCP CONN_STATUS).
  .transform((d): ManagedDevice => ({
    name: d.name,
    up: d.conn_status === 1 || String(d.conn_status).toLowerCase() === "up",
    connStatus: d.conn_status === undefined ? "not reported" : String(d.conn_status),
    ...(d.sn !== undefined && d.sn !== "" && { serial: d.sn }),
  }));

/** What a FortiManager admin needs for feed grants (reference §8, P-KK 202002), for 202002's fixes. */
export function managerRightsVars(who: string, adom: string, missing: "rpc" | "device-config" | "adom" | "unknown"): Record<string, string> {
  const rpc = `Set its JSON-RPC access to read-write (config system admin user / edit ${who} / set rpc-permit read-write): with rpc-permit read a proxied post answers -11, even for Super_User.`;
  const profile = `Give administrator "${who}" a profile with Device Manager > Manage Device Configurations = Read-Write (profile field device-config read-write), or the Super_User profile.`;
  const scope = `Give administrator "${who}" access to ADOM "${adom}" (System Settings > Administrators > Administrative Domain).`;
  return {
    scope: missing === "adom" ? `ADOM "${adom}" (outside the administrator's ADOM access, or missing)` : `administrator "${who}"`,
    permission:
      missing === "rpc"
        ? "JSON-RPC writes (rpc-permit read-write)"
        : missing === "device-config"
          ? 'Device Manager "Manage Device Configurations" read-write (or Super_User)'
          : missing === "adom"
            ? `access to ADOM "${adom}"`
            : "proxied calls to its FortiGates",
    fixPermission: missing === "rpc" ? rpc : missing === "adom" ? scope : profile,
    fixScope: missing === "unknown" ? `${rpc} ${scope}` : "",
  };
}

export class FortimanagerFeedClient {
  readonly host: string;
  private readonly auth: Authenticator;

  constructor(
    readonly fmg: FortimanagerClient,
    readonly adom: string,
    readonly vdom: string,
  ) {
    this.host = fmg.host;
    // FortimanagerClient's authenticator (private there; element access until it is exposed, see the report of issue 12).
    this.auth = fmg["auth"];
  }

  /** `adom/<adom>/device/<dev>` (JPF-PROXY target form). */
  target(device: string): string {
    return `adom/${this.adom}/device/${device}`;
  }

  /**
   * One `exec /sys/proxy/json` to every device in `devices`, answered per device. Reads may be
   * repeated by the transport; a write is not, and an ambiguous failure of it is thrown raw for the
   * caller to settle by reading back. -11 on the call is 202002 naming the three rights.
   */
  async proxy(action: "get" | "post", resource: string, payload: unknown, devices: readonly string[]): Promise<Map<string, DeviceAnswer>> {
    // The manager must answer before our own deadline: its per-device wait is shorter than the request's.
    const timeout = Math.max(5, Math.floor(this.fmg.timeoutMs / 1000) - 2);
    // The proxied resource and targets are paths the manager resolves in turn: the same segment rule as the transport's.
    for (const p of [resource, ...devices.map((d) => this.target(d))]) assertSafePath(p, `exec ${PROXY_URL} on ${this.host}`);
    const data = { target: devices.map((d) => this.target(d)), action, resource, ...(payload !== undefined && { payload }), timeout };
    const call: Omit<RpcCall, "session"> = { method: "exec", url: PROXY_URL, data, idempotent: action === "get" };
    let answer: RpcAnswer;
    try {
      answer = await this.auth.send(call);
    } catch (e) {
      if (action !== "get" && isAmbiguousWriteFailure(e)) throw e;
      throw toGrantError(e, "fortinet", { host: this.host, timeoutMs: this.fmg.timeoutMs });
    }
    const { code, message } = answer.result.status;
    const operation = `exec ${PROXY_URL}`;
    if (code === -11) {
      throw diagnose("202002", {
        host: this.host,
        operation,
        status: answer.httpStatus,
        deviceMessage: `${code} ${message}`,
        detail: `${operation} (${action} ${resource.split("?")[0]} on ${devices.join(", ")}) answered -11 although the credentials are valid`,
        vars: managerRightsVars(this.fmg.options.username ?? "the API administrator", this.adom, "unknown"),
      });
    }
    const out = new Map<string, DeviceAnswer>();
    if (code !== 0) {
      const error = diagnose("202090", {
        host: this.host,
        operation,
        status: answer.httpStatus,
        deviceMessage: `${code} ${message}`,
        detail: `${operation} answered ${code} "${message}"`,
      });
      for (const d of devices) out.set(d, { ok: false, reason: `the manager answered ${code} "${message}" for the whole call`, error });
      return out;
    }
    const items = z.array(z.unknown()).catch([]).parse(answer.result.data);
    for (const raw of items) {
      const item = ProxyItemSchema.safeParse(raw);
      if (!item.success) continue;
      const device = devices.find((d) => matchesTarget(item.data.target, d, this.adom));
      if (device === undefined || out.has(device)) continue;
      out.set(device, judgeItem(item.data));
    }
    for (const d of devices)
      if (!out.has(d))
        out.set(d, { ok: false, reason: "the manager's answer has no result for this device (offline, unknown to the manager, or not reached)" });
    return out;
  }

  /** The devices of the ADOM by name; -11 → 202002 naming the ADOM; a missing ADOM → 202002 too. */
  async inventory(): Promise<Map<string, ManagedDevice>> {
    const url = adomDevicesUrl(this.adom);
    let answer: RpcAnswer;
    try {
      answer = await this.auth.send({ method: "get", url, extra: { fields: ["name", "conn_status", "sn"] }, idempotent: true });
    } catch (e) {
      throw toGrantError(e, "fortinet", { host: this.host, timeoutMs: this.fmg.timeoutMs });
    }
    const { code, message } = answer.result.status;
    const base = { host: this.host, operation: `get ${url}`, status: answer.httpStatus, deviceMessage: `${code} ${message}` };
    if (code === -11 || code === -6 || code === -3) {
      throw diagnose("202002", {
        ...base,
        detail:
          code === -11
            ? `the administrator may not read the devices of ADOM "${this.adom}" (-11): the ADOM is outside its ADOM access`
            : `ADOM "${this.adom}" does not exist on the manager (${code} "${message}")`,
        vars: managerRightsVars(this.fmg.options.username ?? "the API administrator", this.adom, "adom"),
      });
    }
    if (code !== 0) throw diagnose("202090", { ...base, detail: `get ${url} answered ${code} "${message}"` });
    const rows = z
      .array(z.unknown())
      .catch([])
      .parse(answer.result.data ?? []);
    const out = new Map<string, ManagedDevice>();
    for (const r of rows) {
      const d = DeviceRowSchema.safeParse(r);
      if (d.success) out.set(d.data.name, d.data);
    }
    return out;
  }

  /** The feed object on every device (FortiOS 404 → `undefined` for that device). */
  async getFeed(
    feed: string,
    devices: readonly string[],
  ): Promise<Map<string, { ok: true; feed: FeedObject | undefined } | { ok: false; reason: string; status?: number | undefined; error?: GrantError }>> {
    const answers = await this.proxy("get", `${EXTERNAL_RESOURCE_PATH}/${encodeURIComponent(feed)}?vdom=${encodeURIComponent(this.vdom)}`, undefined, devices);
    const out = new Map<string, { ok: true; feed: FeedObject | undefined } | { ok: false; reason: string; status?: number | undefined; error?: GrantError }>();
    for (const [d, a] of answers) {
      if (a.ok) {
        const parsed = FeedObjectAnswerSchema.safeParse(a.raw);
        out.set(d, parsed.success ? { ok: true, feed: parsed.data.results[0] } : { ok: false, reason: "the FortiGate's answer has no feed object" });
      } else out.set(d, { ...a, status: a.httpStatus });
    }
    return out;
  }

  /** One page of the entry list on every target in one proxy call. */
  private async entryPage(feed: string, vdom: string, start: number, targets: readonly string[]): Promise<Map<string, TargetRead>> {
    const q = new URLSearchParams(entryListQuery(feed, { start, count: ENTRY_PAGE })).toString();
    const answers = await this.proxy("get", `${FEED_ENTRY_LIST_PATH}?${q}&${vdom}`, undefined, targets);
    const out = new Map<string, TargetRead>();
    for (const [d, a] of answers) {
      if (!a.ok) {
        out.set(d, { ok: false, failure: { reason: a.reason, error: a.error } });
        continue;
      }
      const list = EntryListAnswerSchema.safeParse(a.raw);
      out.set(d, list.success ? { ok: true, list: list.data } : { ok: false, failure: { reason: "the FortiGate's entry list has an unexpected shape" } });
    }
    return out;
  }

  /** The proxy as a batch backend: reads and pushes reach every target in one call. */
  backend(feed: string): FeedBackend {
    const vdom = `vdom=${encodeURIComponent(this.vdom)}`;
    return {
      read: (targets) => readAllEntries((start, ts) => this.entryPage(feed, vdom, start, ts), targets),
      push: async (command: FeedCommand, entries, targets) => {
        const out = new Map<string, TargetPush>();
        let answers: Map<string, DeviceAnswer>;
        try {
          answers = await this.proxy("post", `${FEED_PUSH_PATH}?${vdom}`, pushBody(feed, command, entries), targets);
        } catch (e) {
          if (isAmbiguousWriteFailure(e)) {
            for (const t of targets) out.set(t, { ok: "unknown", reason: (e as Error).message });
            return out;
          }
          throw e;
        }
        for (const [d, a] of answers) out.set(d, a.ok ? { ok: true } : { ok: false, failure: { reason: a.reason, error: a.error } });
        return out;
      },
    };
  }
}

/** A proxy `target` names a device as `<dev>`, `adom/<adom>/device/<dev>` or `device/<dev>` (leading `/` optional, JPF-PROXY). */
function matchesTarget(target: string, device: string, adom: string): boolean {
  const t = target.replace(/^\//, "");
  return t === device || t === `adom/${adom}/device/${device}` || t === `device/${device}`;
}

/** A device's element: ok only with code 0 and the FortiGate's success envelope (HTTP 200 when it says). */
function judgeItem(item: z.infer<typeof ProxyItemSchema>): DeviceAnswer {
  if (item.status && item.status.code !== 0) return { ok: false, reason: `the manager reports ${item.status.code} "${item.status.message}" for this device` };
  if (item.response === undefined || item.response === null) return { ok: false, reason: "no response from the FortiGate" };
  const r = FortiosResponseSchema.safeParse(item.response);
  if (!r.success) return { ok: false, reason: "the FortiGate's response is not a FortiOS answer" };
  const res = r.data;
  if (res.status !== "success" || (res.http_status !== undefined && res.http_status !== 200)) {
    const detail = `${res.http_status !== undefined ? `HTTP ${res.http_status}, ` : ""}FortiOS ${res.status}${res.error !== undefined ? ` ${res.error}` : ""}${res.cli_error ? `: ${res.cli_error}` : ""}`;
    return {
      ok: false,
      httpStatus: res.http_status,
      reason: `the FortiGate refused it (${detail})${res.http_status === 403 ? ": the manager's account on the FortiGate lacks the permission, or the VDOM is not in its scope" : ""}`,
    };
  }
  return { ok: true, response: res, raw: item.response };
}

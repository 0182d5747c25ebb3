/**
 * FortiManager JSON-RPC client: device verbs for administrators and their trusted hosts, and the
 * translation of JSON-RPC status codes into diagnoses (reference §3, §3a). The status code in the
 * body is the truth; -11 is ambiguous and is settled by one repeat (fresh login or backoff, see
 * session.ts) and then a `/sys/status` probe: still refused → 202001, answered → 202002.
 */
import { z } from "zod";
import { diagnose, toGrantError } from "../../core/diagnosis";
import { isDeviceError, isGrantError, type GrantError } from "../../core/errors";
import { fingerprint } from "../../core/process-state";
import { isAmbiguousWriteFailure, Transport } from "../../core/transport";
import { mkey, type RpcCall } from "./jsonrpc";
import { DEFAULT_SESSION_IDLE_MS, LOGIN_URL, SessionAuth, sharedSession, TokenAuth, type Authenticator, type RpcAnswer } from "./session";

export const STATUS_URL = "/sys/status";
/** Who am I: the caller's own `admin_user`, `login_user`, `admin_prof` (FMG 6.4.1+, JPF-OPS #0632548; reference §3b). */
export const SESSION_INFO_URL = "/sys/session";
export const ADMIN_USERS_URL = "/cli/global/system/admin/user";
export const ADMIN_PROFILES_URL = "/cli/global/system/admin/profile";

export interface FortimanagerClientOptions {
  /** `https://host[:port]`. */
  readonly url: string;
  /** API key of a `user_type api` administrator, sent as `Authorization: Bearer`. */
  readonly token?: string | undefined;
  /** Login user (session auth), or in token mode the API administrator's id, used by the preflight. */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** ADOM named in diagnoses; trusted hosts themselves are global (TF-CONFIG: admin users are hard-wired to global). */
  readonly adom?: string | undefined;
  readonly caCert?: string | undefined;
  readonly insecure?: boolean | undefined;
  /** @default 15000 */
  readonly timeoutMs?: number | undefined;
  /** Idle time before a login session used outside any `operation` is logged out. @default 1500 */
  readonly sessionIdleMs?: number | undefined;
  /**
   * Cross-process slot protection (trusted-hosts.ts): the least time between writing a trusted-host
   * slot and reading it back to confirm that no other writer took the same slot. @default 250
   */
  readonly slotSettleMs?: number | undefined;
}

/** An administrator as `get` returns it with `verbose: 1`; extra fields pass through. */
export const AdminRecordSchema = z.looseObject({
  userid: z.string(),
  profileid: z.string().optional(),
  "rpc-permit": z.string().optional(),
  user_type: z.string().optional(),
});
export type AdminRecord = z.infer<typeof AdminRecordSchema>;

export const ProfileRecordSchema = z.looseObject({
  profileid: z.string(),
  "super-user-profile": z.string().optional(),
  "rpc-permit": z.string().optional(),
});
export type ProfileRecord = z.infer<typeof ProfileRecordSchema>;

/** `get /sys/session` data (JPF-OPS); only `admin_user` is relied on. */
export const SessionInfoSchema = z.looseObject({
  admin_user: z.string().min(1),
  login_user: z.string().optional(),
  admin_prof: z.string().optional(),
});
export type SessionInfo = z.infer<typeof SessionInfoSchema>;

/** What `get /sys/session` told: the caller, or why it could not be learnt (code and message of the device). */
export type WhoAmI = { readonly known: true; readonly info: SessionInfo } | { readonly known: false; readonly reason: string };

/** Which right the preflight found missing; "unknown" when only the device's -11 is known. */
export type MissingRight = "profile" | "rpc" | "system-settings" | "owner" | "unknown";
const EDIT_ADMINS = "editing administrators' trusted hosts";
const PERMISSION_CODES = new Set([-11, -60804, -60806, -10147, -20020]);

export class FortimanagerClient {
  readonly host: string;
  /** Per-request deadline in effect. */
  readonly timeoutMs: number;
  readonly mode: "token" | "session";
  /** Fingerprint of device + credential, for caches; holds no secret. */
  readonly identity: string;
  /**
   * Fingerprint of everything that can change a preflight's verdict (issue 10): the URL origin, the
   * credential (token, or username + password), the CA, `insecure`, and in token mode the `username`
   * named as the key's administrator. Holds no secret.
   */
  readonly verdictKey: string;
  private readonly auth: Authenticator;
  private readonly transport: Transport;

  constructor(readonly options: FortimanagerClientOptions) {
    const { token, username, password } = options;
    const secrets = [token, password].filter((s): s is string => typeof s === "string" && s !== "");
    const tls = { caCert: options.caCert, insecure: options.insecure, timeoutMs: options.timeoutMs, secrets };
    if (token) {
      this.transport = new Transport({ baseUrl: options.url, ...tls, headers: { authorization: `Bearer ${token}` } });
      this.auth = new TokenAuth(this.transport);
      this.identity = fingerprint("fortimanager", this.transport.host, "token", token);
    } else if (username && password) {
      this.transport = new Transport({ baseUrl: options.url, ...tls });
      const key = fingerprint("fortimanager", this.transport.host, username, password);
      const t = this.transport;
      this.auth = sharedSession(key, () => new SessionAuth(t, username, password, options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS));
      this.identity = key;
    } else {
      // Never log in with empty credentials (TF-I95: repeated empty logins locked the runner out).
      throw new Error("FortiManager connection needs a token, or a username and password");
    }
    this.host = this.transport.host;
    this.timeoutMs = this.transport.timeoutMs;
    this.mode = this.auth.mode;
    this.verdictKey = fingerprint(
      "fortimanager.verdict",
      originOf(options.url),
      token ? "token" : "session",
      token ?? password,
      username ?? "",
      options.caCert ?? "",
      options.insecure === true ? "insecure" : "verify",
    );
  }

  /**
   * Runs one provider operation (check's preflight, create, read, delete) with this client. With a
   * login session, overlapping operations share the session and the last one to end logs it out
   * before returning (session.ts); with a token it just runs `fn`.
   */
  operation<T>(fn: (client: this) => Promise<T>): Promise<T> {
    return this.auth.operation(() => fn(this));
  }

  /** `get /sys/status`: proves the credentials. */
  async status(): Promise<Record<string, unknown>> {
    const r = await this.call({ method: "get", url: STATUS_URL, idempotent: true }, { what: "reading the system status", probe: false });
    return z.record(z.string(), z.unknown()).catch({}).parse(r.result.data);
  }

  /**
   * `get /sys/session`: which administrator this session or API key belongs to, read without any
   * side effect (reference §3b). Unknown (not thrown) when the device does not offer it: -6/-9 below
   * 6.4.1, or -11; the caller decides (fail closed in token mode without a named administrator).
   */
  async whoAmI(): Promise<WhoAmI> {
    let answer: RpcAnswer;
    try {
      answer = await this.auth.send({ method: "get", url: SESSION_INFO_URL, idempotent: true });
    } catch (e) {
      throw this.loginOrTransportError(e);
    }
    const { code, message } = answer.result.status;
    if (code !== 0) return { known: false, reason: `${SESSION_INFO_URL} answered ${code} "${message}"` };
    const parsed = SessionInfoSchema.safeParse(answer.result.data);
    return parsed.success ? { known: true, info: parsed.data } : { known: false, reason: `${SESSION_INFO_URL} answered without an admin_user` };
  }

  /** Reads one administrator; 202051 when it does not exist (-3, or -2 as some releases answer). */
  async readAdmin(userid: string, fields?: readonly string[]): Promise<AdminRecord> {
    const r = await this.call(
      { method: "get", url: `${ADMIN_USERS_URL}/${mkey(userid)}`, idempotent: true, ...(fields && { extra: { fields } }) },
      { what: `reading administrator "${userid}"`, adminUser: userid },
    );
    return this.shape(r, AdminRecordSchema, `get ${ADMIN_USERS_URL}/${userid}`);
  }

  /** Lists administrators the caller may see (only super users see them all, ADM-187819). */
  async listAdmins(filter?: readonly unknown[], fields?: readonly string[]): Promise<AdminRecord[]> {
    const extra = { ...(filter && { filter }), ...(fields && { fields }) };
    const r = await this.call({ method: "get", url: ADMIN_USERS_URL, extra, idempotent: true }, { what: "listing administrators" });
    return this.shape(r, z.array(AdminRecordSchema).catch([]), `get ${ADMIN_USERS_URL}`);
  }

  async readProfile(profileid: string): Promise<ProfileRecord> {
    const r = await this.call(
      { method: "get", url: `${ADMIN_PROFILES_URL}/${mkey(profileid)}`, idempotent: true },
      { what: `reading admin profile "${profileid}"` },
    );
    return this.shape(r, ProfileRecordSchema, `get ${ADMIN_PROFILES_URL}/${profileid}`);
  }

  /** `update` on one administrator, changing only the fields in `data` (ANS-NAPI update_object). Not repeated blindly. */
  async updateAdmin(userid: string, data: Record<string, unknown>): Promise<void> {
    await this.call(
      { method: "update", url: `${ADMIN_USERS_URL}/${mkey(userid)}`, data, idempotent: false },
      { what: `updating administrator "${userid}"`, adminUser: userid, write: true },
    );
  }

  /** A diagnosis for a permission failure found by the preflight (no device call). */
  permissionDenied(detail: string, caller: string | undefined, missing: MissingRight): GrantError {
    return diagnose("202002", { host: this.host, detail, vars: this.permissionVars(caller, EDIT_ADMINS, missing) });
  }

  private shape<S extends z.ZodType>(r: RpcAnswer, schema: S, operation: string): z.infer<S> {
    const parsed = schema.safeParse(r.result.data);
    if (parsed.success) return parsed.data;
    throw diagnose("202090", { host: this.host, detail: `${operation} answered data of an unexpected shape`, operation, status: r.httpStatus });
  }

  /**
   * Sends a call and turns any non-zero status into a diagnosis. Permission codes are settled with
   * a `/sys/status` probe (§3a): refused too → 202001, answered → 202002.
   */
  private async call(call: Omit<RpcCall, "session">, ctx: { what: string; adminUser?: string; write?: boolean; probe?: boolean }): Promise<RpcAnswer> {
    const operation = `${call.method} ${call.url}`;
    let answer: RpcAnswer;
    try {
      answer = await this.auth.send(call);
    } catch (e) {
      // An ambiguous write failure stays raw: the caller settles it with applyVerified (read back).
      if (!call.idempotent && isAmbiguousWriteFailure(e)) throw e;
      throw this.loginOrTransportError(e);
    }
    const { code, message } = answer.result.status;
    if (code === 0) return answer;
    const base = { host: this.host, operation, status: answer.httpStatus, deviceMessage: `${code} ${message}` };
    const vars = { adminUser: ctx.adminUser };
    // -2 is what Knocknoc documents for a missing admin on this url; on a `get` it cannot mean "already exists".
    if ((code === -3 || (code === -2 && call.method === "get")) && ctx.adminUser !== undefined && call.url.startsWith(ADMIN_USERS_URL)) {
      throw diagnose("202051", { ...base, detail: `${operation} answered ${code} "${message}": the administrator does not exist`, vars });
    }
    if (code === -20055) {
      throw diagnose("202062", {
        ...base,
        detail: `${operation} answered -20055: the workspace is locked by another administrator`,
        vars: { lockUser: "another administrator" },
      });
    }
    if (PERMISSION_CODES.has(code)) {
      // Reference §3a. A session whose login just succeeded (a -11 is always repeated after a fresh
      // login) is valid: -11 is authorization, never "wrong credentials". With an API key, -11 on
      // the operation and on /sys/status is either a bad key or a valid key whose profile lacks
      // System Settings; /sys/session (who am I) tells them apart when the device answers it.
      const statusOk = code === -11 && this.mode === "token" && call.url !== STATUS_URL ? await this.statusAnswers() : true;
      if (code === -11 && this.mode === "token" && (call.url === STATUS_URL || !statusOk)) {
        const who = await this.whoAmI().catch(() => ({ known: false as const, reason: "" }));
        if (!who.known) {
          throw diagnose("202001", {
            ...base,
            detail: `${operation} answered -11 even after a repeat${call.url === STATUS_URL ? "" : `, and ${STATUS_URL} is refused too`}: the API key is wrong, regenerated or deleted, or its administrator is not user_type api, or this machine is outside the administrator's trusted hosts — or the key is valid but its admin profile lacks System Settings (which also answers -11 on ${STATUS_URL}); editing trusted hosts needs the Super_User profile either way`,
          });
        }
        const owner = who.info.admin_user;
        if (call.url === STATUS_URL) {
          throw diagnose("202002", {
            ...base,
            detail: `the API key is valid (it belongs to administrator "${owner}"${who.info.admin_prof ? `, profile "${who.info.admin_prof}"` : ""}) but ${STATUS_URL} answered -11: its admin profile lacks System Settings`,
            vars: this.permissionVars(owner, "reading the system status (System Settings)", "system-settings"),
          });
        }
      }
      if (code === -11 && this.mode === "session" && call.url === STATUS_URL) {
        throw diagnose("202002", {
          ...base,
          detail: `the login of "${this.options.username}" succeeded but ${STATUS_URL} answered -11: its admin profile lacks System Settings`,
          vars: this.permissionVars(this.options.username, "reading the system status (System Settings)", "system-settings"),
        });
      }
      const permission = ctx.write ? EDIT_ADMINS : ctx.what;
      // Reads need no rpc-permit beyond read, so a refused read with a valid session is the profile.
      const missing: MissingRight = call.method === "get" ? "profile" : "unknown";
      throw diagnose("202002", {
        ...base,
        detail: `the credentials are valid but ${operation} answered ${code} "${message}"`,
        vars: this.permissionVars(this.options.username, permission, missing),
      });
    }
    if (ctx.write) throw diagnose("202050", { ...base, detail: `${operation} answered ${code} "${message}"`, vars });
    throw diagnose("202090", { ...base, detail: `${operation} answered ${code} "${message}" while ${ctx.what}` });
  }

  /** True when `/sys/status` answers 0 (the session or token itself is good). */
  private async statusAnswers(): Promise<boolean> {
    try {
      const r = await this.auth.send({ method: "get", url: STATUS_URL, idempotent: true });
      return r.result.status.code === 0;
    } catch {
      return false;
    }
  }

  /**
   * Placeholders of 202002. `missing` names the one right that is lacking when the preflight found it
   * (SPEC §5: name the missing privilege); "unknown" (a -11 on the operation) lists both candidates.
   */
  private permissionVars(caller: string | undefined, permission: string, missing: MissingRight): Record<string, string> {
    const who = caller ? `administrator "${caller}"` : "the API administrator";
    if (missing === "system-settings") {
      return {
        scope: `the admin profile of ${who}`,
        permission,
        fixPermission: `Give ${who} the Super_User profile: editing trusted hosts needs it anyway, and it includes System Settings (a custom profile lacking System Settings answers -11 on ${STATUS_URL}).`,
        fixScope: "",
      };
    }
    if (missing === "owner") {
      return {
        scope: "this API key",
        permission,
        fixPermission: `Set connection.username to the id of the API administrator that owns this key (System Settings > Administrators, type REST API), so that its rpc-permit and profile can be checked; FortiManager before 6.4.1 cannot say who owns a key.`,
        fixScope: "Or use a Super_User administrator with rpc-permit read-write.",
      };
    }
    const adom = this.options.adom ? ` ADOM "${this.options.adom}" is not involved: administrators are global settings.` : "";
    const profileFix = `Give ${who} the Super_User profile (System Settings > Administrators > Admin Profile): only a super-user profile may edit administrators and their trusted hosts; no custom profile without "super-user-profile enable" suffices.${adom}`;
    const rpcFix = `Set its JSON-RPC access to read-write: config system admin user; edit ${caller ?? "<api user>"}; set rpc-permit read-write; end.`;
    return {
      scope: missing === "rpc" ? `the rpc-permit of ${who}` : missing === "profile" ? `the admin profile of ${who}` : `the profile or rpc-permit of ${who}`,
      permission,
      fixPermission: missing === "rpc" ? rpcFix : profileFix,
      fixScope: missing === "unknown" ? rpcFix : "",
    };
  }

  /** A clear error for a `username` that does not own the API key (issue 10): never judge another administrator. */
  ownerMismatch(owner: string): GrantError {
    const named = this.options.username ?? "";
    return diagnose("202006", {
      host: this.host,
      operation: `get ${SESSION_INFO_URL}`,
      detail: `the API key belongs to administrator "${owner}", but connection.username names "${named}": the key or the username is wrong (with a token, username must be the id of the API administrator that owns the key)`,
    });
  }

  private loginOrTransportError(e: unknown): GrantError {
    if (isGrantError(e)) return e;
    if (isDeviceError(e) && e.operation === `exec ${LOGIN_URL}` && e.kind === "refused") {
      const ctx = {
        host: this.host,
        operation: e.operation,
        ...(e.status !== undefined && { status: e.status }),
        deviceMessage: `${e.deviceCode} ${e.deviceMessage}`,
      };
      if (e.deviceCode === -11) {
        return diagnose("202002", {
          ...ctx,
          detail: `the login was refused with -11: the password is right but administrator "${this.options.username}" may not use the JSON-RPC API`,
          vars: this.permissionVars(this.options.username, "any JSON-RPC access (rpc-permit none)", "rpc"),
        });
      }
      const limit = e.deviceCode === -23 ? ": the administrator holds its maximum number of sessions (login-max); old sessions must time out or be killed" : "";
      return diagnose("202001", { ...ctx, detail: `the login of "${this.options.username}" was refused with ${e.deviceCode} "${e.deviceMessage}"${limit}` });
    }
    return toGrantError(e, "fortinet", { host: this.host, timeoutMs: this.transport.timeoutMs });
  }
}

/** `https://host:port` of a URL (its path, query and any user info are not part of a device's identity). */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/**
 * The FortiOS REST API as device verbs: address objects (`firewall/address`, `address6`) and the
 * per-member child paths of address groups (`addrgrp`, `addrgrp6`). Every HTTP outcome is mapped to a
 * diagnosis here (shared/reference/fortigate.md §4a, diagnosis-codes.md): 401 → 202001 and never
 * repeated (FortiOS locks the source out after repeated failures, §1), 429 → 202005, 403 → 202002
 * naming the profile permission and the VDOM. The token travels only in `Authorization: Bearer`
 * (a token in the URL is refused by FortiOS ≥ 7.4.5, P-URLQ, and would leak into logs).
 */
import { z } from "zod";
import { diagnose, toGrantError } from "../diagnosis";
import { DeviceError } from "../errors";
import { Transport, applyVerified, devicePath, sleep, type TransportRequest, type TransportResponse } from "../transport";
import { maskToPrefix, normaliseDeviceAddress, type GrantAddress } from "../address";

export const STATUS_PATH = "/api/v2/monitor/system/status";
export const ADDRESS_PATH = "/api/v2/cmdb/firewall/address";
export const ADDRESS6_PATH = "/api/v2/cmdb/firewall/address6";
export const ADDRGRP_PATH = "/api/v2/cmdb/firewall/addrgrp";
export const ADDRGRP6_PATH = "/api/v2/cmdb/firewall/addrgrp6";
/** Child segment of a group: `…/addrgrp/{group}/member[/{name}]` (AN-GRP, AN#300). */
export const MEMBER_SEGMENT = "member";

export type Family = "ipv4" | "ipv6";
export const addressPath = (f: Family) => (f === "ipv4" ? ADDRESS_PATH : ADDRESS6_PATH);
export const groupPath = (f: Family) => (f === "ipv4" ? ADDRGRP_PATH : ADDRGRP6_PATH);

export interface FortigateClientOptions {
  readonly url: string;
  readonly token: string;
  /** @default "root" */
  readonly vdom?: string | undefined;
  readonly caCert?: string | undefined;
  readonly insecure?: boolean | undefined;
  readonly timeoutMs?: number | undefined;
}

// Schemas tolerate extra fields and are strict on the ones used (reference §3).
const EnvelopeSchema = z.object({ status: z.string(), http_status: z.number().optional(), error: z.number().optional(), cli_error: z.string().optional() });
/** Wire: `{name, subnet: "203.0.113.7 255.255.255.255"}` (IPv4) or `{name, ip6: "2001:db8::1/128"}`; normalised to a CIDR. */
const AddressObjectSchema = z
  .object({ name: z.string(), subnet: z.string().optional(), ip6: z.string().optional(), comment: z.string().optional(), uuid: z.string().optional(), type: z.string().optional() })
  .transform((o) => ({ name: o.name, comment: o.comment ?? "", uuid: o.uuid, type: o.type, address: deviceCidr(o.subnet ?? o.ip6 ?? "") }));
const OneAddressSchema = EnvelopeSchema.extend({ results: z.array(AddressObjectSchema).min(1) });
const ListSchema = EnvelopeSchema.extend({ results: z.array(z.unknown()) });
const GroupSchema = EnvelopeSchema.extend({ results: z.array(z.object({ name: z.string(), member: z.array(z.object({ name: z.string() })).optional() })).min(1) });

export type DeviceAddress = z.infer<typeof AddressObjectSchema>;

/** "ip mask" → "ip/prefix"; "addr/prefix" kept; `undefined` for anything that is not an IP/CIDR (FQDN, range). */
export function deviceCidr(raw: string): GrantAddress | undefined {
  const m = /^(\S+)\s+(\S+)$/.exec(raw.trim());
  if (m) {
    const prefix = maskToPrefix(m[2]!);
    return prefix === undefined ? undefined : normaliseDeviceAddress(`${m[1]}/${prefix}`);
  }
  return normaliseDeviceAddress(raw);
}

export type CreateOutcome = "created" | "exists";

export class FortigateClient {
  readonly vdom: string;
  readonly host: string;
  private readonly t: Transport;

  constructor(readonly opts: FortigateClientOptions) {
    this.vdom = opts.vdom ?? "root";
    this.t = new Transport({
      baseUrl: opts.url,
      caCert: opts.caCert,
      insecure: opts.insecure,
      timeoutMs: opts.timeoutMs,
      headers: { authorization: `Bearer ${opts.token}` },
      secrets: [opts.token],
    });
    this.host = this.t.host;
  }

  /** `GET /monitor/system/status?vdom=` (Access Group any, SW-MON): proves the token and the VDOM. */
  async status(): Promise<void> {
    await this.call(this.req("GET", STATUS_PATH, [], true), [200], "read");
  }

  /** A cheap read of a table (`count=1`, `format=name`): 200 with read access, 403 without. */
  async probeRead(f: Family): Promise<void> {
    await this.call(this.req("GET", addressPath(f), [], true, undefined, { format: "name", count: "1" }), [200], "read");
  }

  /**
   * The side-effect-free write probe: `PUT` with an empty body on an object that does not exist. FortiOS
   * answers 404 when the profile may write (ansible/ansible#58914 shows PUT on a missing mkey → 404) and
   * 403 when it may not (the permission gate precedes the object lookup, reference §1). An empty
   * partial update changes nothing even if such an object existed.
   */
  async probeWrite(f: Family): Promise<void> {
    await this.call(this.req("PUT", addressPath(f), ["__grants_write_probe__"], true, {}), [200, 404], "write");
  }

  /** The address object, or `undefined` when the device holds none by that name. */
  async getAddress(f: Family, name: string): Promise<DeviceAddress | undefined> {
    const req = this.req("GET", addressPath(f), [name], true);
    const res = await this.call(req, [200, 404], "read");
    return res.status === 404 ? undefined : this.t.parse(req, res, OneAddressSchema).results[0];
  }

  /**
   * The whole address table of the VDOM (`GET /cmdb/firewall/address[6]?vdom=`, a collection GET:
   * envelope + `results:[...]`, no `mkey`, reference §2a/§3), by name. A refresh reads it once for all
   * grants of the table instead of one object each. A row that does not have the shape of an address
   * object is left out, so a caller that misses a name reads that object by name
   * ({@link getAddress}), which reports what is wrong with it exactly as before.
   */
  async listAddresses(f: Family): Promise<Map<string, DeviceAddress>> {
    const req = this.req("GET", addressPath(f), [], true);
    const res = await this.call(req, [200], "read");
    const rows = new Map<string, DeviceAddress>();
    for (const row of this.t.parse(req, res, ListSchema).results) {
      const a = AddressObjectSchema.safeParse(row);
      if (a.success) rows.set(a.data.name, a.data);
    }
    return rows;
  }

  /** Reads the object right after a create, retrying briefly: FortiOS may answer 404 under load (TF#333, TF#434). */
  async getAddressAfterCreate(f: Family, name: string, attempts = 5, delayMs = 100): Promise<DeviceAddress | undefined> {
    for (let i = 0; ; i++) {
      const a = await this.getAddress(f, name);
      if (a || i >= attempts - 1) return a;
      await sleep(delayMs * 2 ** i);
    }
  }

  /**
   * Creates the address object. POST is not idempotent: an ambiguous failure is settled by reading the
   * object back ({@link applyVerified}). A name already taken (-5, or -163 for a group's name) is
   * reported as "exists" for the caller to compare.
   */
  async createAddress(f: Family, name: string, address: GrantAddress, comment: string): Promise<CreateOutcome> {
    const body = f === "ipv4" ? { name, type: "ipmask", subnet: address.cidr, comment } : { name, type: "ipprefix", ip6: address.cidr, comment };
    const req = this.req("POST", addressPath(f), [], false, body);
    const outcome = await applyVerified(
      async (): Promise<CreateOutcome> => {
        const res = await this.call(req, [200, 500], "write", true);
        if (res.status === 200) return "created";
        const env = this.t.parse(req, res, EnvelopeSchema);
        if (env.error === -5 || env.error === -163) return "exists";
        throw this.refused(req, res, env.error, env.cli_error);
      },
      async () => (await this.getAddress(f, name))?.address?.cidr === address.cidr,
    ).catch((e: unknown) => {
      throw toGrantError(e, "fortinet", { host: this.host, timeoutMs: this.t.timeoutMs });
    });
    return outcome === "verified" ? "created" : outcome;
  }

  /** Sets the comment in place (a partial PUT, PFGT#217). */
  async setComment(f: Family, name: string, comment: string): Promise<void> {
    await this.call(this.req("PUT", addressPath(f), [name], true, { comment }), [200], "write");
  }

  /** Deletes the object; one already gone is success. Still referenced (-23) is an error naming the count. */
  async deleteAddress(f: Family, name: string): Promise<void> {
    const req = this.req("DELETE", addressPath(f), [name], true);
    const res = await this.call(req, [200, 404, 500], "write");
    if (res.status === 500) {
      const env = this.t.parse(req, res, EnvelopeSchema);
      if (env.error === -23) {
        throw diagnose("202063", {
          host: this.host, operation: `${req.method} ${req.path}`, status: 500,
          detail: `the address object "${name}" is still referenced on the device, so it cannot be deleted`,
          deviceMessage: `FortiOS error -23${env.cli_error ? `: ${this.t.redact(env.cli_error)}` : ""}`,
          vars: { name },
        });
      }
      throw this.refused(req, res, env.error, env.cli_error);
    }
  }

  /** The group's member names, or `undefined` when the group does not exist. */
  async getGroupMembers(f: Family, group: string): Promise<string[] | undefined> {
    const req = this.req("GET", groupPath(f), [group], true);
    const res = await this.call(req, [200, 404], "read");
    return res.status === 404 ? undefined : (this.t.parse(req, res, GroupSchema).results[0]?.member ?? []).map((m) => m.name);
  }

  /** True when `name` is a member (child GET: 404 when the member or the group is missing). */
  async isMember(f: Family, group: string, name: string): Promise<boolean> {
    const res = await this.call(this.req("GET", groupPath(f), [group, MEMBER_SEGMENT, name], true), [200, 404], "read");
    return res.status === 200;
  }

  /**
   * Adds one member through the child path, never rewriting the member list. Returns false when it was
   * a member already (-5). A missing group is 202060. Repeating after an ambiguous failure is safe:
   * the second POST answers -5.
   */
  async addMember(f: Family, group: string, name: string): Promise<boolean> {
    const req = this.req("POST", groupPath(f), [group, MEMBER_SEGMENT], true, { name });
    const res = await this.call(req, [200, 404, 500], "write");
    if (res.status === 404) throw this.groupMissing(group, req, res);
    if (res.status === 200) return true;
    const env = this.t.parse(req, res, EnvelopeSchema);
    if (env.error === -5) return false;
    throw this.refused(req, res, env.error, env.cli_error);
  }

  /** Removes one member through the child path; already gone (404) is success. */
  async removeMember(f: Family, group: string, name: string): Promise<void> {
    await this.call(this.req("DELETE", groupPath(f), [group, MEMBER_SEGMENT, name], true), [200, 404], "write");
  }

  /** 202060 for a group that does not exist in this VDOM. */
  groupMissing(group: string, req?: TransportRequest, res?: TransportResponse): Error {
    return diagnose("202060", {
      host: this.host,
      detail: `the address group "${group}" does not exist in VDOM "${this.vdom}"`,
      ...(req && { operation: `${req.method} ${req.path}` }),
      ...(res && { status: res.status }),
      vars: { group, scope: `VDOM "${this.vdom}"` },
    });
  }

  private req(method: TransportRequest["method"], base: string, segments: readonly string[], idempotent: boolean, body?: unknown, query: Record<string, string> = {}): TransportRequest {
    return { method, path: devicePath(base, ...segments), query: { vdom: this.vdom, ...query }, idempotent, ...(body !== undefined && { body }) };
  }

  /** Sends and maps auth/permission statuses; answers any status in `ok` for the caller to interpret. */
  private async call(req: TransportRequest, ok: readonly number[], need: "read" | "write", rawTransportErrors = false): Promise<TransportResponse> {
    let res: TransportResponse;
    try {
      res = await this.t.send(req);
    } catch (e) {
      // Raw for applyVerified, which must see an ambiguous TransportError to read back.
      throw rawTransportErrors ? e : toGrantError(e, "fortinet", { host: this.host, timeoutMs: this.t.timeoutMs });
    }
    if (ok.includes(res.status)) return res;
    // A 502/503/504 to a write may or may not have been applied: raw, so applyVerified reads back
    // (issue 6 fault suite: a 502 to a create POST failed the grant instead).
    if (rawTransportErrors && (res.status === 502 || res.status === 503 || res.status === 504)) throw this.t.httpError(req, res);
    const operation = `${req.method} ${req.path}`;
    if (res.status === 401) {
      throw diagnose("202001", { host: this.host, operation, status: 401, detail: `the device rejected the API token for ${operation}; the token may be wrong, regenerated or deleted, or the API user's trusted hosts may exclude this machine's address` });
    }
    if (res.status === 429) {
      throw diagnose("202005", { host: this.host, operation, status: 429, detail: `the device refused ${operation} because this machine's address is locked out after repeated failed logins` });
    }
    if (res.status === 403) throw this.forbidden(req, need);
    throw toGrantError(this.t.httpError(req, res), "fortinet", { host: this.host });
  }

  private forbidden(req: TransportRequest, need: "read" | "write"): Error {
    const operation = `${req.method} ${req.path}`;
    const vdom = this.vdom;
    if (req.path === STATUS_PATH) {
      // monitor/system/status needs no profile permission: a 403 there is the VDOM (P-VDOM403, TF#138).
      return diagnose("202002", {
        host: this.host, operation, status: 403,
        detail: `the token is valid but may not use VDOM "${vdom}" (it is not in the REST API administrator's VDOM list, or does not exist)`,
        vars: {
          scope: "the REST API administrator's VDOM list",
          permission: `VDOM "${vdom}"`,
          fixPermission: `System > Administrators > (the REST API administrator) > Virtual Domains: add "${vdom}" (CLI: config system api-user / edit <name> / set vdom ${vdom}).`,
          fixScope: `Check that VDOM "${vdom}" exists and is spelled exactly (connection.vdom; FortiOS answers 403 for an unknown VDOM too).`,
        },
      });
    }
    const level = need === "write" ? "Read/Write" : "Read";
    return diagnose("202002", {
      host: this.host, operation, status: 403,
      detail: `the token is valid but its admin profile may not ${need} firewall addresses in VDOM "${vdom}" (${operation})`,
      vars: {
        scope: `the REST API administrator's admin profile in VDOM "${vdom}"`,
        permission: `Firewall > Address ${level}`,
        fixPermission: `System > Admin Profiles > (the API user's profile): set Firewall to ${level}, or Custom with Address ${level} (CLI: set fwgrp custom; config fwgrp-permission; set address ${need === "write" ? "read-write" : "read"}).`,
        fixScope: `Check that VDOM "${vdom}" is in the REST API administrator's Virtual Domains (System > Administrators).`,
      },
    });
  }

  private refused(req: TransportRequest, res: TransportResponse, code: number | undefined, cli: string | undefined): Error {
    const meaning = code === -23 ? "the entry is still used by other entries" : code === -651 ? "invalid value" : code === -3 ? "entry not found" : "the device refused the change";
    return new DeviceError({ kind: "refused", operation: `${req.method} ${req.path}`, host: this.host, status: res.status, ...(code !== undefined && { deviceCode: code }), deviceMessage: `FortiOS error ${code ?? "?"} (${meaning})${cli ? `: ${this.t.redact(cli)}` : ""}` });
  }
}

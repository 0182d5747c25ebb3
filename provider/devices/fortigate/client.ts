/**
 * The FortiOS REST API as device verbs: address objects (`firewall/address`, `address6`) and the
 * per-member child paths of address groups (`addrgrp`, `addrgrp6`). Every HTTP outcome is mapped to a
 * diagnosis here (docs/reference/fortigate.md §4a, diagnosis-codes.md): 401 → 202001 and never
 * repeated (FortiOS locks the source out after repeated failures, §1), 429 → 202005, 403 → 202002
 * naming the profile permission and the VDOM. The token travels only in `Authorization: Bearer`
 * (a token in the URL is refused by FortiOS ≥ 7.4.5, P-URLQ, and would leak into logs).
 */
import { z } from "zod";
import { diagnose, toGrantError } from "../../core/diagnosis";
import type { DiagnosisCode } from "../../core/diagnosis-codes";
import { DeviceError } from "../../core/errors";
import { Transport, applyVerified, devicePath, sleep, type TransportRequest, type TransportResponse } from "../../core/transport";
import { maskToPrefix, normaliseDeviceAddress, type GrantAddress } from "../../core/address";

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
/**
 * The CMDB envelope every FortiOS answer carries (reference §3: R7 6.2.3 captures, ansible/ansible#58914
 * 6.0.4, AN#292 7.2.6): `http_method`, `status` "success"/"error", `http_status` (= the HTTP status),
 * `vdom`, `path` ("firewall") and `name` (the table), `serial`/`version`/`build`; `error` and
 * `cli_error` on refusals. {@link FortigateClient.answer} checks it belongs to the request it answers.
 */
const EnvelopeSchema = z
  .object({
    http_method: z.string(),
    status: z.enum(["success", "error"]),
    http_status: z.number().optional(),
    vdom: z.string().optional(),
    path: z.string().optional(),
    name: z.string().optional(),
    error: z.number().optional(),
    cli_error: z.string().optional(),
    version: z.string().optional(),
  })
  .passthrough();
type Envelope = z.infer<typeof EnvelopeSchema>;
/** Wire: `{name, subnet: "203.0.113.7 255.255.255.255"}` (IPv4) or `{name, ip6: "2001:db8::1/128"}`; normalised to a CIDR. */
const AddressObjectSchema = z
  .object({
    name: z.string(),
    subnet: z.string().optional(),
    ip6: z.string().optional(),
    comment: z.string().optional(),
    uuid: z.string().optional(),
    type: z.string().optional(),
  })
  // FortiOS shows every field of an object whatever its type, `subnet` "0.0.0.0 0.0.0.0" on an fqdn or
  // iprange object (reference §2a defaults): only an ipmask/ipprefix object's value is its subnet.
  .transform((o) => ({
    name: o.name,
    comment: o.comment ?? "",
    uuid: o.uuid,
    type: o.type,
    address: o.type === undefined || o.type === "ipmask" || o.type === "ipprefix" ? deviceCidr(o.subnet ?? o.ip6 ?? "") : undefined,
  }));
const OneAddressSchema = EnvelopeSchema.extend({ results: z.array(AddressObjectSchema).min(1) });
const ListSchema = EnvelopeSchema.extend({ results: z.array(z.unknown()) });
const GroupRowSchema = z.object({ name: z.string(), member: z.array(z.object({ name: z.string() })).optional() });
const GroupSchema = EnvelopeSchema.extend({ results: z.array(GroupRowSchema).min(1) });
/**
 * `monitor/system/status` (SW-MON; EXP `status.jsonnet`; emulator): `status:"success"`, `serial`,
 * `version` ("v7.2.8"), `build`, and `results` an object (model, hostname). A captive portal's 200 has none.
 */
const StatusSchema = z
  .object({ status: z.literal("success"), serial: z.string(), version: z.string().regex(/^v?\d+\.\d+\.\d+/), results: z.record(z.string(), z.unknown()) })
  .passthrough();

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

/** A FortiOS firmware version, `[major, minor, patch]`, as the envelope's `version` ("v7.2.8") says. */
export type FortiosVersion = readonly [number, number, number];

/** "v7.2.8" / "7.2.8" → [7, 2, 8]; `undefined` for anything else. */
export function parseFortiosVersion(raw: unknown): FortiosVersion | undefined {
  const m = typeof raw === "string" ? /^v?(\d+)\.(\d+)\.(\d+)/.exec(raw.trim()) : null;
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** True when `v` is older than `min`. */
export function olderThan(v: FortiosVersion, min: FortiosVersion): boolean {
  for (let i = 0; i < 3; i++) if (v[i] !== min[i]) return v[i]! < min[i]!;
  return false;
}

/** From FortiOS 7.2.0 an address group may be empty; before, its last member cannot be removed [PFGT-T, BATFISH]. */
export const EMPTY_GROUPS_FROM: FortiosVersion = [7, 2, 0];

/** "This FortiOS cannot empty the group" (202064, ours). */
const EMPTY_GROUP_CODE: DiagnosisCode = "202064";

/** What the write probe learnt: `refused` never returns (202002 is thrown); `unproven` is a 404 or other FortiOS refusal of the probe. */
export type WriteProbe = "unproven";

/**
 * `created`: FortiOS answered the POST created. `verified`: the answer was lost or ambiguous and a read-back shows an
 * object of this name and value — ours, or one that was there before (it cannot be told), so it is not known to be in
 * no group. `exists`: FortiOS refused the name as taken.
 */
export type CreateOutcome = "created" | "exists" | "verified";

/** The table a CMDB firewall path addresses (`/api/v2/cmdb/firewall/addrgrp/g/member/x` → "addrgrp"). */
function tableOf(path: string): string | undefined {
  return /^\/api\/v2\/cmdb\/firewall\/([^/]+)/.exec(path)?.[1];
}

const PROBE_NOTE =
  "Preview could not prove write access: its write probe (PUT on an object that does not exist) is answered 404 both by a profile that may write " +
  "and, if FortiOS looks the object up before it checks the profile (an order FortiOS does not document), by one that may not; only a 403 there proves a missing permission.";

export class FortigateClient {
  readonly vdom: string;
  readonly host: string;
  private readonly t: Transport;
  /** The firmware, as the last FortiOS envelope or `monitor/system/status` reported it. */
  private firmware: FortiosVersion | undefined;

  constructor(readonly opts: FortigateClientOptions) {
    // Defence in depth behind settings.ts: user info in the URL would carry a secret into logs and
    // state; the message never repeats the URL.
    const u = new URL(opts.url);
    if (u.username !== "" || u.password !== "")
      throw new Error("the FortiGate URL must not contain user info (user:password@); the token goes in credentials.token");
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

  /**
   * `GET /monitor/system/status?vdom=` (Access Group any, SW-MON): proves the token and the VDOM, and
   * reports the firmware. A 200 without the status shape (a captive portal, a proxy page) is 202090.
   */
  async status(): Promise<{ version: FortiosVersion; serial: string }> {
    const req = this.req("GET", STATUS_PATH, [], true);
    const res = await this.call(req, [200], "read");
    const body = this.t.parse(req, res, StatusSchema);
    const version = parseFortiosVersion(body.version)!;
    this.firmware = version;
    return { version, serial: body.serial };
  }

  /** The firmware version: from an envelope already seen, else one `monitor/system/status` read. */
  async firmwareVersion(): Promise<FortiosVersion> {
    return this.firmware ?? (await this.status()).version;
  }

  /** A cheap read of a table (`count=1`, `format=name`): 200 with read access, 403 without. The answer must be a FortiOS list. */
  async probeRead(f: Family): Promise<void> {
    const req = this.req("GET", addressPath(f), [], true, undefined, { format: "name", count: "1" });
    this.parseAnswer(req, await this.call(req, [200], "read"), ListSchema);
  }

  /**
   * The side-effect-free write probe: `PUT {}` on an object that does not exist. A 403 proves the
   * profile may not write (202002). Any other FortiOS answer (404 above all, also 400/405/500) proves
   * nothing on its own: whether FortiOS checks the profile before it looks the object up is in no
   * source (reference §5, "Not verified"), so the probe answers "unproven" and the real write's
   * answer decides (a 403 there is 202002 saying what preview could not verify). An answer that is
   * not FortiOS's (an HTML page, a blanket 404) is 202090. An empty partial update changes nothing
   * even if such an object existed.
   */
  async probeWrite(f: Family): Promise<WriteProbe> {
    const req = this.req("PUT", addressPath(f), ["__grants_write_probe__"], true, {});
    const res = await this.call(req, [200, 400, 404, 405, 424, 500], "write");
    this.expectAnswer(req, res);
    return "unproven";
  }

  /** The address object, or `undefined` when the device answers a FortiOS 404 for it. */
  async getAddress(f: Family, name: string): Promise<DeviceAddress | undefined> {
    const req = this.req("GET", addressPath(f), [name], true);
    const res = await this.call(req, [200, 404], "read");
    if (res.status === 404) return this.expectNotFound(req, res);
    return this.parseAnswer(req, res, OneAddressSchema).results[0];
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
    for (const row of this.parseAnswer(req, res, ListSchema).results) {
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
   * reported as "exists" for the caller to compare. A 200 counts only as a FortiOS success envelope.
   */
  async createAddress(f: Family, name: string, address: GrantAddress, comment: string): Promise<CreateOutcome> {
    const body = f === "ipv4" ? { name, type: "ipmask", subnet: address.cidr, comment } : { name, type: "ipprefix", ip6: address.cidr, comment };
    const req = this.req("POST", addressPath(f), [], false, body);
    const outcome = await applyVerified(
      async (): Promise<CreateOutcome> => {
        const res = await this.call(req, [200, 500], "write", true);
        const env = this.expectAnswer(req, res);
        if (res.status === 200) return "created";
        if (env.error === -5 || env.error === -163) return "exists";
        throw this.refused(req, res, env.error, env.cli_error);
      },
      async () => (await this.getAddress(f, name))?.address?.cidr === address.cidr,
    ).catch((e: unknown) => {
      throw toGrantError(e, "fortinet", { host: this.host, timeoutMs: this.t.timeoutMs });
    });
    return outcome;
  }

  /** Sets the comment in place (a partial PUT, PFGT#217), confirmed by the FortiOS success envelope. */
  async setComment(f: Family, name: string, comment: string): Promise<void> {
    const req = this.req("PUT", addressPath(f), [name], true, { comment });
    this.expectAnswer(req, await this.call(req, [200], "write"));
  }

  /**
   * Puts the object's value back (a partial PUT of type and subnet/prefix, PFGT#217): a set's own object
   * edited by hand. In place, so that policies and groups that use the object keep using it.
   */
  async setValue(f: Family, name: string, address: GrantAddress): Promise<void> {
    const body = f === "ipv4" ? { type: "ipmask", subnet: address.cidr } : { type: "ipprefix", ip6: address.cidr };
    const req = this.req("PUT", addressPath(f), [name], true, body);
    this.expectAnswer(req, await this.call(req, [200], "write"));
  }

  /** The groups of the VDOM that hold `name` as a member (one read of the whole group table). */
  async groupsHolding(f: Family, name: string): Promise<string[]> {
    const req = this.req("GET", groupPath(f), [], true);
    const out: string[] = [];
    for (const row of this.parseAnswer(req, await this.call(req, [200], "read"), ListSchema).results) {
      const g = GroupRowSchema.safeParse(row);
      if (g.success && (g.data.member ?? []).some((m) => m.name === name)) out.push(g.data.name);
    }
    return out;
  }

  /**
   * Deletes the object. Gone is success, but only when FortiOS says so: its 404 envelope for this
   * object, or — for any answer that is not FortiOS's (an HTML page, a blanket 404) — a read-back
   * that itself gets FortiOS's 404. Still referenced (-23) is 202063.
   */
  async deleteAddress(f: Family, name: string): Promise<"deleted" | "gone"> {
    const req = this.req("DELETE", addressPath(f), [name], true);
    const res = await this.call(req, [200, 404, 500], "write");
    const env = this.answer(req, res);
    if (env && res.status === 200) return "deleted";
    if (env && res.status === 404) return "gone";
    if (env && res.status === 500) {
      if (env.error === -23) {
        throw diagnose("202063", {
          host: this.host,
          operation: `${req.method} ${req.path}`,
          status: 500,
          detail: `the address object "${name}" is still referenced on the device, so it cannot be deleted`,
          deviceMessage: `FortiOS error -23${env.cli_error ? `: ${this.t.redact(env.cli_error)}` : ""}`,
          vars: { name },
        });
      }
      throw this.refused(req, res, env.error, env.cli_error);
    }
    // Not a FortiOS answer: only a FortiOS read-back may say the object is gone.
    if ((await this.getAddress(f, name)) === undefined) return "deleted";
    throw this.unexpected(req, res, `the answer is not a FortiOS answer and the object "${name}" is still on the device`);
  }

  /** The group's member names, or `undefined` when FortiOS answers 404 for the group. */
  async getGroupMembers(f: Family, group: string): Promise<string[] | undefined> {
    const req = this.req("GET", groupPath(f), [group], true);
    const res = await this.call(req, [200, 404], "read");
    if (res.status === 404) return this.expectNotFound(req, res);
    return (this.parseAnswer(req, res, GroupSchema).results[0]?.member ?? []).map((m) => m.name);
  }

  /** True when `name` is a member (child GET: FortiOS 404 when the member or the group is missing). */
  async isMember(f: Family, group: string, name: string): Promise<boolean> {
    const req = this.req("GET", groupPath(f), [group, MEMBER_SEGMENT, name], true);
    const res = await this.call(req, [200, 404], "read");
    if (res.status === 404) return this.expectNotFound(req, res) ?? false;
    this.parseAnswer(req, res, ListSchema);
    return true;
  }

  /**
   * Makes `name` a member of the group through the child path, never rewriting the member list, and
   * says whether this call added it. What FortiOS answers to a POST of an existing member has no
   * public source (reference §2a), so the group is read first (Fortinet's Ansible collection reads the
   * child before it writes, AN-MU): a member already is left alone (`false`); otherwise one POST, whose
   * FortiOS success envelope confirms it — any other answer is settled by reading the group again.
   * A missing group is 202060.
   *
   * `newObject`: the caller's own POST created the object moments ago (FortiOS answered it created), so no
   * group can hold it yet and the read before the POST proves nothing: it is skipped. Should another writer
   * have made it a member in between, the POST's answer is settled exactly as above (a success envelope, or
   * a read of the group), so the outcome is proven either way.
   */
  async ensureMember(f: Family, group: string, name: string, newObject = false): Promise<boolean> {
    if (!newObject) {
      const before = await this.getGroupMembers(f, group);
      if (before === undefined) throw this.groupMissing(group);
      if (before.includes(name)) return false;
    }
    const req = this.req("POST", groupPath(f), [group, MEMBER_SEGMENT], false, { name });
    const isMember = async () => (await this.getGroupMembers(f, group))?.includes(name) === true;
    const res = await applyVerified(() => this.call(req, [200, 404, 500], "write", true), isMember).catch((e: unknown) => {
      throw toGrantError(e, "fortinet", { host: this.host, timeoutMs: this.t.timeoutMs });
    });
    if (res === "verified") return true;
    const env = this.answer(req, res);
    if (env && res.status === 200) return true;
    if (env && res.status === 404) throw this.groupMissing(group, req, res);
    const after = await this.getGroupMembers(f, group);
    if (after === undefined) throw this.groupMissing(group, req, res);
    if (after.includes(name)) return true;
    if (env) throw this.refused(req, res, env.error, env.cli_error);
    throw this.unexpected(req, res, `the answer is not a FortiOS answer and "${name}" is not a member of "${group}" on read-back`);
  }

  /** @deprecated the answer to a repeated member POST is unsourced: use {@link ensureMember}, which reads first. */
  async addMember(f: Family, group: string, name: string): Promise<boolean> {
    return this.ensureMember(f, group, name);
  }

  /**
   * Removes `name` from the group through the child path. The group is read first: not a member (or
   * no group) is "absent", with nothing sent. Removing the last member is refused by FortiOS before
   * 7.2.0 (reference §2a), so on such firmware it is never attempted: the diagnosis says why and what to
   * do ({@link EMPTY_GROUP_CODE}). The DELETE counts as done on FortiOS's success or 404 envelope; any
   * other answer is settled by reading the group again.
   */
  async removeMember(f: Family, group: string, name: string): Promise<"removed" | "absent"> {
    const before = await this.getGroupMembers(f, group);
    if (before === undefined || !before.includes(name)) return "absent";
    if (before.length === 1) {
      const version = await this.firmwareVersion();
      if (olderThan(version, EMPTY_GROUPS_FROM)) throw this.cannotEmpty(f, group, name, version);
    }
    const req = this.req("DELETE", groupPath(f), [group, MEMBER_SEGMENT, name], true);
    const res = await this.call(req, [200, 404, 500], "write");
    const env = this.answer(req, res);
    if (env && (res.status === 200 || res.status === 404)) return "removed";
    const after = await this.getGroupMembers(f, group);
    if (after === undefined || !after.includes(name)) return "removed";
    // The last member now (another writer may have removed the others since the first read) on a
    // firmware that cannot empty a group: the refusal is that rule, whatever code it carries (unsourced).
    if (env && after.length === 1 && (this.firmware === undefined || olderThan(this.firmware, EMPTY_GROUPS_FROM))) {
      throw this.cannotEmpty(f, group, name, this.firmware, req, res, env);
    }
    if (env) throw this.refused(req, res, env.error, env.cli_error);
    throw this.unexpected(req, res, `the answer is not a FortiOS answer and "${name}" is still a member of "${group}"`);
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

  /**
   * The FortiOS envelope answering `req`, or `undefined` when `res` is not one: JSON whose
   * `http_method` is the request's, `status` "success" exactly for HTTP 200, `http_status` equal to the
   * HTTP status (required on errors), and for CMDB firewall paths `path:"firewall"` and `name` the
   * table addressed; `vdom`, when given, the client's. This is what tells a device's 404 ("no such
   * object", R7#1027, ansible/ansible#58914) from a proxy's or a web server's.
   */
  answer(req: TransportRequest, res: TransportResponse): Envelope | undefined {
    let env: Envelope;
    try {
      env = this.t.parse(req, res, EnvelopeSchema);
    } catch {
      return undefined;
    }
    if (env.http_method.toUpperCase() !== req.method) return undefined;
    if (env.status !== (res.status === 200 ? "success" : "error")) return undefined;
    if (env.http_status !== undefined ? env.http_status !== res.status : res.status !== 200) return undefined;
    if (env.vdom !== undefined && env.vdom !== this.vdom) return undefined;
    const table = tableOf(req.path);
    if (table !== undefined && (env.path !== "firewall" || env.name !== table)) return undefined;
    const version = parseFortiosVersion(env.version);
    if (version) this.firmware = version;
    return env;
  }

  /** {@link answer}, or 202090 naming what came instead. */
  private expectAnswer(req: TransportRequest, res: TransportResponse): Envelope {
    const env = this.answer(req, res);
    if (!env)
      throw this.unexpected(req, res, "the answer is not a FortiOS answer to this request (a proxy, captive portal or another server may have answered)");
    return env;
  }

  /** `undefined` for FortiOS's own 404; 202090 for any other 404 (a web server's or a proxy's "not found" proves nothing). */
  private expectNotFound(req: TransportRequest, res: TransportResponse): undefined {
    this.expectAnswer(req, res);
    return undefined;
  }

  /** Checks the envelope, then parses `schema`. */
  private parseAnswer<S extends z.ZodType>(req: TransportRequest, res: TransportResponse, schema: S): z.infer<S> {
    this.expectAnswer(req, res);
    return this.t.parse(req, res, schema);
  }

  private unexpected(req: TransportRequest, res: TransportResponse, what: string): Error {
    return new DeviceError({
      kind: "schema",
      operation: `${req.method} ${req.path}`,
      host: this.host,
      status: res.status,
      deviceMessage: `HTTP ${res.status}: ${what}: ${this.t.excerpt(res.text, 300)}`,
    });
  }

  private cannotEmpty(
    f: Family,
    group: string,
    name: string,
    version: FortiosVersion | undefined,
    req?: TransportRequest,
    res?: TransportResponse,
    env?: Envelope,
  ): Error {
    const v = version ? version.join(".") : "this firmware";
    const table = f === "ipv4" ? "addrgrp" : "addrgrp6";
    return diagnose(EMPTY_GROUP_CODE, {
      host: this.host,
      ...(req && { operation: `${req.method} ${req.path}` }),
      ...(res && { status: res.status }),
      ...(env && { deviceMessage: `FortiOS error ${env.error ?? "?"}${env.cli_error ? `: ${this.t.redact(env.cli_error)}` : ""}` }),
      detail:
        `"${name}" is the last member of address group "${group}" (${table}, VDOM "${this.vdom}"), and FortiOS ${v} cannot empty an address group (allowed from 7.2.0). ` +
        `Nothing was removed: add another member to "${group}" (for example a placeholder address such as 192.0.2.255/32 that no traffic uses) and run the operation again, ` +
        `upgrade to FortiOS 7.2.0 or later, or keep the grant on the device (retainOnDelete, or \`pulumi state delete\`)`,
      vars: { name, group, version: v, scope: `VDOM "${this.vdom}"` },
    });
  }

  private req(
    method: TransportRequest["method"],
    base: string,
    segments: readonly string[],
    idempotent: boolean,
    body?: unknown,
    query: Record<string, string> = {},
  ): TransportRequest {
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
      throw diagnose("202001", {
        host: this.host,
        operation,
        status: 401,
        detail: `the device rejected the API token for ${operation}; the token may be wrong, regenerated or deleted, or the API user's trusted hosts may exclude this machine's address`,
      });
    }
    if (res.status === 429) {
      throw diagnose("202005", {
        host: this.host,
        operation,
        status: 429,
        detail: `the device refused ${operation} because this machine's address is locked out after repeated failed logins`,
      });
    }
    if (res.status === 403) throw this.forbidden(req, res, need);
    throw toGrantError(this.t.httpError(req, res), "fortinet", { host: this.host });
  }

  private forbidden(req: TransportRequest, res: TransportResponse, need: "read" | "write"): Error {
    const operation = `${req.method} ${req.path}`;
    const vdom = this.vdom;
    // FortiOS's 403 is a JSON envelope (AN#292, P-VDOM403); an HTML 403 may come from FortiOS too
    // (AN#384) or from a proxy: it is shown, since it proves less (reference "Not verified").
    const fromDevice = this.answer(req, res) !== undefined || (req.path === STATUS_PATH && /"http_status"\s*:\s*403/.test(res.text));
    const shown = fromDevice ? {} : { deviceMessage: `not a FortiOS JSON answer (a proxy may have refused it): ${this.t.excerpt(res.text, 300)}` };
    if (req.path === STATUS_PATH) {
      // monitor/system/status needs no profile permission: a 403 there is the VDOM (P-VDOM403, TF#138).
      return diagnose("202002", {
        host: this.host,
        operation,
        status: 403,
        ...shown,
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
    // A real write refused after preview passed: say what preview could not verify (SPEC §5).
    const probe = need === "write" && !req.path.endsWith("/__grants_write_probe__") ? ` ${PROBE_NOTE}` : "";
    return diagnose("202002", {
      host: this.host,
      operation,
      status: 403,
      ...shown,
      detail: `the token is valid but its admin profile may not ${need} firewall addresses in VDOM "${vdom}" (${operation}).${probe}`,
      vars: {
        scope: `the REST API administrator's admin profile in VDOM "${vdom}"`,
        permission: `Firewall > Address ${level}`,
        fixPermission: `System > Admin Profiles > (the API user's profile): set Firewall to ${level}, or Custom with Address ${level} (CLI: set fwgrp custom; config fwgrp-permission; set address ${need === "write" ? "read-write" : "read"}).`,
        fixScope: `Check that VDOM "${vdom}" is in the REST API administrator's Virtual Domains (System > Administrators).`,
      },
    });
  }

  private refused(req: TransportRequest, res: TransportResponse, code: number | undefined, cli: string | undefined): Error {
    const meaning =
      code === -23
        ? "the entry is still used by other entries"
        : code === -651
          ? "invalid value"
          : code === -3
            ? "entry not found"
            : "the device refused the change";
    return new DeviceError({
      kind: "refused",
      operation: `${req.method} ${req.path}`,
      host: this.host,
      status: res.status,
      ...(code !== undefined && { deviceCode: code }),
      deviceMessage: `FortiOS error ${code ?? "?"} (${meaning})${cli ? `: ${this.t.redact(cli)}` : ""}`,
    });
  }
}

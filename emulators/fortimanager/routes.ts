/**
 * The FortiManager emulator's JSON-RPC routes (one row per url and method, with the privilege it
 * needs) and the privilege gate every `params` entry passes first. Sources: docs/reference/
 * fortimanager.md §2–5 and "Behaviours to model"; each row cites its own.
 */
import type { FortimanagerBackend } from "./backend";
import { INVALID_DATA, MESSAGES, NOT_FOUND, NO_PERMISSION, OK, st, type Caller, type ParamResult, type Route, type RouteCtx } from "./rpc";
import { ADMIN_FIELD_DEFAULTS, OPTION_DEFAULTS, SLOT_COUNT, type EmulatedAdmin } from "./seed";
import { adminFieldExists } from "./version";
import { DEVICE_ROUTES } from "./proxy";
import { ENUMS, enumFromWire, ipv4SlotFromWire, ipv6SlotFromWire, pickFields, toWire, unescapeMkey } from "./wire";

const WRITE_METHODS = new Set(["set", "add", "update", "delete", "clone", "move", "replace", "unset", "exec"]);
const ADMIN = /^cli\/global\/system\/admin\/user\/(.+)$/;

// 1. Route table.
const ROUTES: readonly Route[] = [
  // Who am I (JPF-OPS, 6.4.1+): the caller's own record; `fields` is ignored (the 8.0 sample asks for
  // one field and gets all). Needs no profile right here: UNCONFIRMED, reference "Not verified".
  { methods: ["get"], url: /^sys\/session$/, privilege: "self", handle: sysSession },
  // get /sys/status (JPF-CLOUD) and /cli/global/system/status (JPF-OPS, TF-CLIENT GetDeviceVersion,
  // ANS-HTTPAPI fallback): same data; both need System Settings (ANS-I58 on /sys/status).
  { methods: ["get"], url: /^sys\/status$/, privilege: "system-read", handle: (b, c) => ({ status: OK, url: c.url, data: b.statusRecord() }) },
  { methods: ["get"], url: /^cli\/global\/system\/status$/, privilege: "system-read", handle: (b, c) => ({ status: OK, url: c.url, data: b.statusRecord() }) },
  // Workspace / ADOM mode (ANS-HTTPAPI check_mode; -11 without System Settings, ANS-I98).
  { methods: ["get"], url: /^cli\/global\/system\/global$/, privilege: "system-read", handle: globalSettings },
  // Admin list: only Super_User admins see the complete list (ADM-187819); others see themselves.
  { methods: ["get"], url: /^cli\/global\/system\/admin\/user$/, privilege: "admin-read", handle: listAdmins },
  { methods: ["add", "set"], url: /^cli\/global\/system\/admin\/user$/, privilege: "super-write", handle: createAdmin },
  // One admin: get/update/set (ANS-ADMINUSER, TF-SDK); primary key `userid`.
  { methods: ["get"], url: ADMIN, privilege: "admin-read", handle: getAdmin },
  { methods: ["update", "set"], url: ADMIN, privilege: "super-write", handle: updateAdmin },
  { methods: ["delete"], url: ADMIN, privilege: "super-write", handle: deleteAdmin },
  { methods: ["get"], url: /^cli\/global\/system\/admin\/profile(?:\/(.+))?$/, privilege: "system-read", handle: getProfile },
  // ADOM list / one ADOM, limited to the caller's scope (JPF-001: out-of-scope ADOM → -11).
  { methods: ["get"], url: /^dvmdb\/adom(?:\/([^/]+))?$/, privilege: "admin-read", handle: getAdom },
  // Managed devices and /sys/proxy/json (proxy.ts).
  ...DEVICE_ROUTES,
];

function sysSession(b: FortimanagerBackend, c: RouteCtx): ParamResult {
  if (c.caller.auth === "token" && (b.options.sysSessionForApiKeys ?? OPTION_DEFAULTS.sysSessionForApiKeys) === "no-permission")
    return { status: NO_PERMISSION, url: c.url };
  if (c.caller.auth === "token" && (b.options.sysSessionForApiKeys ?? OPTION_DEFAULTS.sysSessionForApiKeys) === "invalid-url")
    return { status: st(-6, MESSAGES[-6]!), url: c.url, unhandled: true };
  return { status: OK, url: c.url, data: b.sessionRecord(c.caller.admin, c.caller.session) };
}

function globalSettings(b: FortimanagerBackend, c: RouteCtx): ParamResult {
  const data = { "workspace-mode": "disabled", "adom-status": (b.options.adomsEnabled ?? true) ? "enable" : "disable" };
  return { status: OK, url: c.url, data: pickFields(toWire(data, c.verbose), c.param.fields) };
}

function listAdmins(b: FortimanagerBackend, c: RouteCtx): ParamResult {
  const visible = b.isSuper(c.caller.admin) ? [...b.admins.values()] : [c.caller.admin];
  let data = visible.map((a) => toWire(b.adminRecord(a), c.verbose, "admin"));
  const filter = c.param.filter;
  if (Array.isArray(filter) && filter.length === 3 && filter[1] === "==") data = data.filter((r) => r[String(filter[0])] === filter[2]);
  return { status: OK, url: c.url, data: pickFields(data, c.param.fields) };
}

function getAdmin(b: FortimanagerBackend, c: RouteCtx): ParamResult {
  const id = unescapeMkey(c.match[1] ?? "");
  if (!b.isSuper(c.caller.admin) && id !== c.caller.admin.userid) return { status: NO_PERMISSION, url: c.url };
  const a = b.admins.get(id);
  if (!a) return { status: (b.options.missingAdminCode ?? OPTION_DEFAULTS.missingAdminCode) === -2 ? st(-2, MESSAGES[-2]!) : NOT_FOUND, url: c.url };
  return { status: OK, url: c.url, data: pickFields(toWire(b.adminRecord(a), c.verbose, "admin"), c.param.fields) };
}

/**
 * Checks every field of an admin write before applying any (a refused write changes nothing):
 * known fields only, enum values by name or number, slot values in the accepted forms; anything
 * else answers -10 (TF-I29). Returns the changes to apply, or undefined.
 */
function adminChanges(b: FortimanagerBackend, a: EmulatedAdmin, data: Record<string, unknown>): ((x: EmulatedAdmin) => void)[] | undefined {
  const out: ((x: EmulatedAdmin) => void)[] = [];
  for (const [k, v] of Object.entries(data)) {
    const slot = /^(ipv6_)?trusthost(\d+)$/.exec(k);
    if (slot) {
      if (Number(slot[2]) < 1 || Number(slot[2]) > SLOT_COUNT) return undefined;
      const value = slot[1] ? ipv6SlotFromWire(v) : ipv4SlotFromWire(v);
      if (value === undefined) return undefined;
      out.push((x) => void (x.slots[k] = value));
    } else if (k === "userid") {
      if (v !== a.userid) return undefined;
    } else if (k === "password" || (k === "old-password" && adminFieldExists(b.version, k))) {
      // `password` is typed raw by Ansible (ANS-ADMINUSER): a string or a one-element list.
      const pw = Array.isArray(v) && v.length === 1 ? v[0] : v;
      if (typeof pw !== "string") return undefined;
      if (k === "password") out.push((x) => void (x.password = pw));
    } else if (k === "profileid") {
      if (typeof v !== "string" || !b.profiles.has(v)) return undefined; // unknown profile: -10 (code UNCONFIRMED)
      out.push((x) => void (x.profileid = v));
    } else if (k === "rpc-permit") {
      const p = enumFromWire(k, v);
      if (!p) return undefined;
      out.push((x) => void (x.rpcPermit = p as EmulatedAdmin["rpcPermit"]));
    } else if (k === "user_type") {
      const t = enumFromWire(k, v); // only local and api are emulated
      if (t !== "local" && t !== "api") return undefined;
      out.push((x) => void (x.userType = t));
    } else if (k === "adom-access" && adminFieldExists(b.version, k)) {
      const t = enumFromWire(k, v);
      if (t !== "all" && t !== "specify") return undefined;
      if (t === "all") out.push((x) => void (x.adoms = "all"));
    } else if (k === "adom") {
      if (!Array.isArray(v) || !v.every((e) => typeof (e as { "adom-name"?: unknown })?.["adom-name"] === "string")) return undefined;
      const names = v.map((e) => String((e as { "adom-name": string })["adom-name"]));
      out.push((x) => void (x.adoms = names.length === 0 ? "all" : names));
    } else if (k === "login-max") {
      if (!Number.isInteger(v) || (v as number) < 1) return undefined;
      out.push((x) => void (x.loginMax = v as number));
    } else if (k in ADMIN_FIELD_DEFAULTS && adminFieldExists(b.version, k)) {
      const isEnum = k in ENUMS;
      const value = isEnum ? enumFromWire(k, v) : typeof v === typeof ADMIN_FIELD_DEFAULTS[k] ? (v as string | number) : undefined;
      if (value === undefined) return undefined;
      out.push((x) => void (x.fields[k] = value));
    } else {
      return undefined;
    }
  }
  return out;
}

function createAdmin(b: FortimanagerBackend, c: RouteCtx, method: string): ParamResult {
  // `data` may be one object or a list of them (reference §2 "data object or list").
  const items = (Array.isArray(c.param.data) ? c.param.data : [c.param.data]) as Record<string, unknown>[];
  const staged: EmulatedAdmin[] = [];
  for (const data of items) {
    const userid = data?.userid;
    if (typeof userid !== "string" || userid === "") return { status: INVALID_DATA, url: c.url };
    if (method === "add" && b.admins.has(userid)) return { status: st(-2, MESSAGES[-2]!), url: c.url };
    const draft = b.draftAdmin({ userid, profileid: "Restricted_User" });
    const changes = adminChanges(b, draft, data);
    if (!changes) return { status: INVALID_DATA, url: c.url };
    for (const f of changes) f(draft);
    staged.push(draft);
  }
  for (const a of staged) b.admins.set(a.userid, a);
  return { status: OK, url: c.url, data: { userid: staged[0]?.userid }, changed: staged.length > 0 };
}

function updateAdmin(b: FortimanagerBackend, c: RouteCtx): ParamResult {
  const a = b.admins.get(unescapeMkey(c.match[1] ?? ""));
  if (!a) return { status: NOT_FOUND, url: c.url };
  if (b.updateFailure) return { status: { ...b.updateFailure }, url: c.url };
  const data = c.param.data;
  if (!data || typeof data !== "object" || Array.isArray(data)) return { status: INVALID_DATA, url: c.url };
  const changes = adminChanges(b, a, data as Record<string, unknown>);
  if (!changes) return { status: INVALID_DATA, url: c.url };
  const before = JSON.stringify(a);
  for (const f of changes) f(a);
  // The answer's `data` on a successful admin update is UNCONFIRMED (reference §2); the mkey as for objects.
  return { status: OK, url: c.url, data: { userid: a.userid }, changed: JSON.stringify(a) !== before };
}

function deleteAdmin(b: FortimanagerBackend, c: RouteCtx): ParamResult {
  const id = unescapeMkey(c.match[1] ?? "");
  return b.removeAdmin(id) ? { status: OK, url: c.url, changed: true } : { status: NOT_FOUND, url: c.url };
}

function getProfile(b: FortimanagerBackend, c: RouteCtx): ParamResult {
  const id = c.match[1];
  const wire = (p: Parameters<FortimanagerBackend["profileRecord"]>[0]) => toWire(b.profileRecord(p), c.verbose, "profile");
  if (id === undefined) return { status: OK, url: c.url, data: pickFields([...b.profiles.values()].map(wire), c.param.fields) };
  const p = b.profiles.get(unescapeMkey(id));
  return p ? { status: OK, url: c.url, data: pickFields(wire(p), c.param.fields) } : { status: NOT_FOUND, url: c.url };
}

function getAdom(b: FortimanagerBackend, c: RouteCtx): ParamResult {
  const scope = c.caller.admin.adoms;
  const inScope = (n: string) => scope === "all" || scope.includes(n);
  const name = c.match[1];
  const wire = (n: string) => toWire(b.adomRecord(n), c.verbose);
  if (name === undefined) return { status: OK, url: c.url, data: pickFields(b.adoms.filter(inScope).map(wire), c.param.fields) };
  if (!b.adoms.includes(name)) return { status: st(-6, MESSAGES[-6]!), url: c.url };
  return inScope(name) ? { status: OK, url: c.url, data: pickFields(wire(name), c.param.fields) } : { status: NO_PERMISSION, url: c.url };
}

// 3. Privilege gate, then routing, per entry of `params` (multiplexing, JPF-001).
export function runParam(b: FortimanagerBackend, caller: Caller, method: string, param: Record<string, unknown>, verbose: boolean): ParamResult {
  const rawUrl = param.url;
  const url = (typeof rawUrl === "string" ? rawUrl : "").replace(/^\//, "").replace(/\/$/, "");
  const candidates = ROUTES.filter((r) => r.url.test(url));
  // An unknown url answers -6 "Invalid url" (reference §3: bad path, JPF-PKG, ANS-I92; §3b: what
  // /sys/session gives below 6.4.1), HTTP 200 as every answer; the log marks it unhandled.
  if (candidates.length === 0) return { status: st(-6, MESSAGES[-6]!), url: rawUrl, unhandled: true };
  const route = candidates.find((r) => r.methods.includes(method));
  if (!route) return { status: st(-9, MESSAGES[-9]!), url: rawUrl };
  const fault = b.takeRpcFault(method, url, caller.auth);
  if (fault) return { status: st(fault.code, fault.message ?? MESSAGES[fault.code] ?? "Unknown error"), url: rawUrl };
  const admin = caller.admin;
  const rpc = b.effectiveRpcPermit(admin);
  // rpc-permit read: `get` works, writes answer -11 even with Super_User (JPF-001 "Permissions").
  if (rpc === "none" || (WRITE_METHODS.has(method) && rpc !== "read-write" && route.privilege !== "proxy")) return { status: NO_PERMISSION, url: rawUrl };
  // A profile without System Settings: -11 on a valid session or key (ANS-I58, ANS-I98).
  if (route.privilege === "system-read" && !b.isSuper(admin) && b.profileOf(admin).systemSetting === "none") return { status: NO_PERMISSION, url: rawUrl };
  if (route.privilege === "super-write" && !b.isSuper(admin)) {
    // PYFORTINET-ERR lists -60804/-60805; whether a device sends them or -11 is UNCONFIRMED (§10): -11 unless configured.
    if ((b.options.nonSuperAdminEditCode ?? OPTION_DEFAULTS.nonSuperAdminEditCode) === -11) return { status: NO_PERMISSION, url: rawUrl };
    const code = method === "delete" ? -60805 : -60804;
    return { status: st(code, MESSAGES[code]!), url: rawUrl };
  }
  if (route.privilege === "super-write" && b.workspaceLockedBy !== undefined) return { status: st(-20055, MESSAGES[-20055]!), url: rawUrl };
  return route.handle(b, { caller, url: rawUrl, match: url.match(route.url)!, param, verbose }, method);
}

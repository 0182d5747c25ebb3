/**
 * Routes and control routes of the FortiGate emulator's threat feeds (state and API summary:
 * feeds.ts). Paths, methods and access groups: docs/reference/fortigate-feeds.md §1–§3, §6–§7.
 */
import { randomBytes } from "node:crypto";
import type { EmulatorReply, EmulatorRequest } from "../kit";
import type { FortigateBackend } from "./backend";
import { CmdbError } from "./backend";
import { envelope, err, notAllowed, type Ctx, type Reply, type Route } from "./routes";
import { QueryError, queryRows } from "./query";
import { FeedError, entryListFilters, pushSupported, type FeedSettings, type StoredFeed } from "./feeds";

const cmdbErr = (b: FortigateBackend, c: Ctx, e: FeedError, mkey?: string): Reply =>
  err(b, c, new CmdbError(e.httpStatus, e.code, e.code !== undefined ? e.message : undefined), mkey);
function feedWrite(b: FortigateBackend, c: Ctx, mkey: string, apply: () => void): Reply {
  try {
    apply();
  } catch (e) {
    if (e instanceof FeedError) return cmdbErr(b, c, e, mkey);
    throw e;
  }
  const old = b.revision;
  b.revision = randomBytes(16).toString("hex");
  return {
    status: 200,
    json: { ...envelope(b, c), revision: b.revision, old_revision: old, revision_changed: true, mkey, status: "success", http_status: 200 },
    sideEffect: true,
  };
}

/** A feed as `GET cmdb/system/external-resource` shows it; `update-method` from 7.2.1 [AN-EXT, SW-CMDB]. */
function feedJson(b: FortigateBackend, f: StoredFeed): Record<string, unknown> {
  return {
    name: f.name,
    q_origin_key: f.name,
    uuid: f.uuid,
    status: f.status,
    type: f.type,
    ...(pushSupported(b.firmware) && { "update-method": f.updateMethod }),
    category: 0,
    comments: f.comments,
    resource: f.resource,
    "user-agent": "",
    "server-identity-check": "none",
    "refresh-rate": f.refreshRate,
    "source-ip": "0.0.0.0",
    "interface-select-method": "auto",
    interface: "",
  };
}
/** A VDOM's feeds plus the global `g-` ones, which are usable (not editable) in every VDOM [P-VDOMFEED]; listing them here is a choice. */
const visible = (b: FortigateBackend, vdom: string) => [...b.feeds.feedsOf("global"), ...b.feeds.feedsOf(vdom)];

function list(b: FortigateBackend, c: Ctx): Reply {
  try {
    const { results, meta } = queryRows(
      visible(b, c.vdom).map((f) => feedJson(b, f)),
      c.req.query,
      b.features,
    );
    return { status: 200, json: { ...envelope(b, c), results, ...meta, status: "success", http_status: 200 } };
  } catch (e) {
    if (e instanceof QueryError) return err(b, c, new CmdbError(400, undefined));
    throw e;
  }
}
function one(b: FortigateBackend, c: Ctx): Reply {
  const name = c.params[0]!;
  const f = b.feeds.find(c.vdom, name);
  if (!f) return err(b, c, new CmdbError(404, undefined), name);
  const only = new URLSearchParams();
  for (const x of c.req.query.getAll("format")) only.append("format", x);
  return {
    status: 200,
    json: { ...envelope(b, c), mkey: name, results: queryRows([feedJson(b, f)], only, b.features).results, status: "success", http_status: 200 },
  };
}
/** A global feed reached from a VDOM is not editable there [P-VDOMFEED]: 403 JSON (the device's answer is unsourced). */
const globalFromVdom = (b: FortigateBackend, c: Ctx, name: string) => !b.feeds.find(c.vdom, name, false) && b.feeds.find(c.vdom, name) !== undefined;

// ---- push endpoint (§2) ----
type Command = { name: string; command: "add" | "remove" | "snapshot"; entries: string[] };
function monitorEnvelope(b: FortigateBackend, c: Ctx, action: string): Record<string, unknown> {
  return { http_method: c.req.method, vdom: c.vdom, path: "system", name: "external-resource", action, serial: b.serial, version: b.version, build: b.build };
}
const monitorErr = (b: FortigateBackend, c: Ctx, action: string, status: number, message?: string): Reply => ({
  status,
  // `message` is this emulator's explanation; the device's error body is UNCONFIRMED (§7).
  json: { ...monitorEnvelope(b, c, action), status: "error", http_status: status, ...(message && { message }) },
});

function parseCommands(body: Record<string, unknown>): Command[] | string {
  const raw = body.commands;
  // `commands` is a required array [AN-MON]; each element `name`, `command`, `entries` [CFA, P-PUSH].
  if (!Array.isArray(raw) || raw.length === 0) return '"commands" must be a non-empty array';
  const out: Command[] = [];
  for (const c of raw as Record<string, unknown>[]) {
    if (!c || typeof c !== "object" || typeof c.name !== "string" || !["add", "remove", "snapshot"].includes(String(c.command)))
      return 'each command needs "name" and "command" add|remove|snapshot';
    if (!Array.isArray(c.entries) || !c.entries.every((e) => typeof e === "string")) return 'each command needs "entries", a list of strings';
    out.push({ name: c.name, command: c.command as Command["command"], entries: c.entries as string[] });
  }
  return out;
}

function push(b: FortigateBackend, c: Ctx): Reply {
  const s = b.feeds.settings;
  const cmds = parseCommands(c.body);
  if (typeof cmds === "string") return monitorErr(b, c, "dynamic", 400, cmds);
  // Check every command first; "atomic" refuses before applying any, "in-order" applies until the first refusal.
  const verdict = (cmd: Command): Reply | "skip" | undefined => {
    const f = b.feeds.find(c.vdom, cmd.name, s.globalFeedPush === "visible");
    if (!f) return s.unknownFeed === "refuse" ? monitorErr(b, c, "dynamic", 404, `no threat feed "${cmd.name}" in VDOM ${c.vdom}`) : "skip";
    if (f.updateMethod !== "push" && s.nonPushFeed === "refuse")
      return monitorErr(b, c, "dynamic", 400, `threat feed "${cmd.name}" is not of update method push`);
    if (cmd.command !== "remove" && s.invalidEntry === "refuse" && cmd.entries.some((e) => !b.feeds.isValid(f, e)))
      return monitorErr(b, c, "dynamic", 400, `invalid entry in "${cmd.name}"`);
    // What the device holds now (a pending push still to show is not held yet, as the list shows it).
    if (cmd.command === "add" && s.repeatedAdd === "refuse" && cmd.entries.some((e) => f.entries.has(b.feeds.key(e))))
      return monitorErr(b, c, "dynamic", 500, `an entry of "${cmd.name}" is already listed`);
    return undefined;
  };
  if (s.commands === "atomic") {
    for (const cmd of cmds) {
      const v = verdict(cmd);
      if (v && v !== "skip") return v;
    }
  }
  let changed = false;
  for (const cmd of cmds) {
    const v = verdict(cmd);
    if (v === "skip") continue;
    if (v) return { ...v, sideEffect: changed };
    const scope = b.feeds.find(c.vdom, cmd.name, false) ? c.vdom : "global";
    // The answer comes at once; the entry list may show the change later (pushVisibleAfterMs).
    b.feeds.applyLater(() => {
      if (!b.feeds.find(scope, cmd.name, false)) return;
      if (cmd.command === "add") b.feeds.addEntries(scope, cmd.name, cmd.entries);
      else if (cmd.command === "remove") b.feeds.removeEntries(scope, cmd.name, cmd.entries);
      else b.feeds.snapshot(scope, cmd.name, cmd.entries);
    });
    changed = true;
  }
  // The success body is UNCONFIRMED (§2); Ansible counts `status:"success"` / `http_status:200` [AN-MON].
  return { status: 200, json: { ...monitorEnvelope(b, c, "dynamic"), status: "success", http_status: 200 }, sideEffect: changed };
}

/** A push without System > Configuration read-write (§6, §7: 403 JSON expected by analogy; configurable). */
function pushDenied(b: FortigateBackend, c: Ctx): Reply {
  if (b.feeds.settings.pushDenied === "html-403")
    return {
      status: 403,
      json: {},
      text: "<!DOCTYPE html><html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1><p>You don't have permission to access this resource.</p></body></html>",
      contentType: "text/html",
    };
  return monitorErr(b, c, "dynamic", 403);
}

// ---- entry list (§3) ----
function entryList(b: FortigateBackend, c: Ctx): Reply {
  const mkey = c.req.query.get("mkey");
  if (!mkey) return monitorErr(b, c, "entry-list", 400, '"mkey" is required');
  const f = b.feeds.find(c.vdom, mkey);
  if (!f) return monitorErr(b, c, "entry-list", 404);
  const s = b.feeds.settings;
  const cut = b.feeds.truncated();
  const all = [...f.entries.values()];
  const shown = s.overflowEntries === "dropped" ? all.filter((e) => !cut.has(e)) : all;
  const flag = (k: string) => c.req.query.get(k) === "true" || c.req.query.get(k) === "1";
  const filters = entryListFilters(b.firmware);
  const status = f.status === "disable" ? "disable" : f.updateMethod === "push" ? s.pushFeedStatus : all.length ? "success" : "unavailable";
  const head = { status, resource_file_status: all.length ? "downloaded" : "unavailable", last_content_update_time: f.lastUpdate };
  if (flag("status_only")) return ok(b, c, head);
  const counts = { valid_count: all.filter((e) => e.valid).length, invalid_count: all.filter((e) => !e.valid).length, overflow: all.some((e) => cut.has(e)) };
  const notes = flag("include_notes") ? { notes: [] } : {};
  // `counts_only` and `entry` from 7.4.1 (entryListFilters); below, unknown parameters are ignored.
  if (filters && flag("counts_only")) return ok(b, c, { ...head, ...counts, ...notes });
  const one = filters ? c.req.query.get("entry") : null;
  const matching = shown.filter((e) => one === null || b.feeds.key(one) === b.feeds.key(e.entry));
  const page = windowOf(s, c.req.query);
  if (page === undefined) return ok(b, c, { ...head, entries: matching.map((e) => ({ entry: e.entry, valid: e.valid })), ...counts, ...notes });
  if (typeof page === "string") return monitorErr(b, c, "entry-list", 400, page);
  const entries = matching.slice(page.start, page.end).map((e) => ({ entry: e.entry, valid: e.valid }));
  // Counted "only up to the end of the requested window" (forti-api v1.3.0, fortigate-feeds.md Turn 3).
  const upTo = all.slice(0, page.end);
  const windowCounts = { ...counts, valid_count: upTo.filter((e) => e.valid).length, invalid_count: upTo.filter((e) => !e.valid).length };
  return ok(b, c, { ...head, entries, ...windowCounts, ...notes });
}

/** The `[start, end)` window an entry-list read gets under `entryListWindow`, `undefined` when the list is not windowed, or a 400 text. */
function windowOf(s: FeedSettings, q: URLSearchParams): { start: number; end: number } | undefined | string {
  const w = s.entryListWindow;
  if (w === "none") return undefined;
  const num = (k: string) => {
    const v = q.get(k);
    return v === null ? undefined : /^\d+$/.test(v) ? Number(v) : NaN;
  };
  const start = num("start") ?? 0;
  const count = num("count");
  if (Number.isNaN(start) || Number.isNaN(count)) return '"start" and "count" must be whole numbers';
  if (count === 0 && s.entryListCountZero === "all") return { start, end: Number.MAX_SAFE_INTEGER };
  return { start, end: start + (count === undefined || count === 0 || count > w ? w : count) };
}
const ok = (b: FortigateBackend, c: Ctx, results: Record<string, unknown>): Reply => ({
  status: 200,
  json: { ...monitorEnvelope(b, c, c.req.rawPath.split("/").pop() ?? ""), results, status: "success", http_status: 200 },
});

const cmdb = "^\\/api\\/v2\\/cmdb\\/system\\/external-resource";
const mon = "^\\/api\\/v2\\/monitor\\/system\\/external-resource\\/";
const r = (
  method: Route["method"],
  re: string,
  access: Route["access"],
  group: "sysgrp" | "sysgrp.cfg",
  name: string,
  handler: Route["handler"],
  extra: Partial<Route> = {},
): Route => ({ method, pattern: new RegExp(re + "$"), access, group, name, handler, ...extra });

/**
 * Feed routes. CMDB table: Access Group sysgrp [SW-CMDB]; entry-list: sysgrp.cfg [SW-MON 6.4.14]; the push endpoint's group is
 * unpublished, modelled as System > Configuration read-write (= sysgrp.cfg) per Knocknoc [P-KK 202002], and absent below 7.2.1
 * (a JSON 404 as for any unknown path) [P-PUSH, AN-EXT].
 */
export const FEED_ROUTES: readonly Route[] = [
  r("GET", `${cmdb}\\/?`, "read", "sysgrp", "GET /api/v2/cmdb/system/external-resource", list),
  r("POST", `${cmdb}\\/?`, "write", "sysgrp", "POST /api/v2/cmdb/system/external-resource", (b, c) =>
    feedWrite(b, c, String(c.body.name ?? ""), () => b.feeds.create(c.vdom, c.body)),
  ),
  r("PUT", `${cmdb}\\/?`, "write", "sysgrp", "PUT /api/v2/cmdb/system/external-resource (405)", notAllowed),
  r("GET", `${cmdb}\\/([^/]+)`, "read", "sysgrp", "GET /api/v2/cmdb/system/external-resource/{name}", one),
  r("PUT", `${cmdb}\\/([^/]+)`, "write", "sysgrp", "PUT /api/v2/cmdb/system/external-resource/{name}", (b, c) =>
    globalFromVdom(b, c, c.params[0]!)
      ? err(b, c, new CmdbError(403, undefined), c.params[0])
      : feedWrite(b, c, c.params[0]!, () => b.feeds.update(c.vdom, c.params[0]!, c.body)),
  ),
  r("DELETE", `${cmdb}\\/([^/]+)`, "write", "sysgrp", "DELETE /api/v2/cmdb/system/external-resource/{name}", (b, c) =>
    globalFromVdom(b, c, c.params[0]!)
      ? err(b, c, new CmdbError(403, undefined), c.params[0])
      : feedWrite(b, c, c.params[0]!, () => b.feeds.remove(c.vdom, c.params[0]!)),
  ),
  r("POST", `${mon}dynamic\\/?`, "write", "sysgrp.cfg", "POST /api/v2/monitor/system/external-resource/dynamic", push, {
    present: (b) => pushSupported(b.firmware),
    denied: pushDenied,
  }),
  r("GET", `${mon}entry-list\\/?`, "read", "sysgrp.cfg", "GET /api/v2/monitor/system/external-resource/entry-list", entryList),
];

const SETTING_CHOICES: Readonly<Record<keyof FeedSettings, readonly unknown[] | "number" | "boolean" | "window">> = {
  entryLimit: "number",
  unknownFeed: ["refuse", "accept"],
  nonPushFeed: ["refuse", "accept"],
  invalidEntry: ["store", "refuse"],
  pushDenied: ["json-403", "html-403"],
  globalFeedPush: ["refuse", "visible"],
  commands: ["in-order", "atomic"],
  matching: ["text", "value"],
  pushFeedStatus: ["disable", "error", "success", "unavailable"],
  overflowEntries: ["listed", "dropped"],
  clearOnFeedChange: "boolean",
  entryListWindow: "window",
  entryListCountZero: ["window", "all"],
  pushVisibleAfterMs: "number",
  repeatedAdd: ["accept", "refuse"],
};

/** Applies the feed keys of a `POST /__emulator/settings` body; returns an error text for a bad value. */
export function applyFeedSettings(b: FortigateBackend, body: Record<string, unknown>): string | undefined {
  for (const [k, choices] of Object.entries(SETTING_CHOICES) as [keyof FeedSettings, (typeof SETTING_CHOICES)[keyof FeedSettings]][]) {
    const v = body[k];
    if (v === undefined) continue;
    const fine =
      choices === "number"
        ? Number.isInteger(v) && (v as number) >= 0
        : choices === "window"
          ? v === "none" || (Number.isInteger(v) && (v as number) >= 1)
          : choices === "boolean"
            ? typeof v === "boolean"
            : choices.includes(v);
    if (!fine) return `${k} must be ${Array.isArray(choices) ? choices.join(" | ") : choices === "window" ? '"none" or a whole number >= 1' : choices}`;
  }
  for (const k of Object.keys(SETTING_CHOICES)) if (body[k] !== undefined) (b.feeds.settings as unknown as Record<string, unknown>)[k] = body[k];
  if (body.matching !== undefined) b.feeds.rekey();
  return undefined;
}

/**
 * The feed control routes (vocabulary of emulator.ts: a noun per kind of state, the HTTP method says what happens).
 * Returns undefined for any other route.
 */
export function feedControl(b: FortigateBackend, req: EmulatorRequest, action: string, body: Record<string, unknown>): EmulatorReply | undefined {
  const is = (m: string, a: string) => req.method === m && action === a;
  const vdomRaw = body.vdom ?? req.query.get("vdom");
  const vdom = String(vdomRaw ?? "root");
  const feed = String(body.feed ?? req.query.get("feed") ?? body.name ?? "");
  const done = (extra: object = {}): EmulatorReply => ({ status: 200, json: { status: "ok", ...extra } });
  const list = (l: unknown) => (Array.isArray(l) && l.every((e) => typeof e === "string") ? (l as string[]) : undefined);
  try {
    if (is("GET", "feeds")) return done({ feeds: (vdomRaw == null ? b.feeds.all() : b.feeds.feedsOf(vdom)).map((f) => b.feeds.describe(f)) });
    if (is("POST", "feeds")) {
      const f = b.feeds.create(vdom, {
        name: body.name,
        type: body.type,
        "update-method": body.updateMethod ?? body["update-method"] ?? (pushSupported(b.firmware) ? "push" : undefined),
        status: body.status,
        resource: body.resource,
        comments: body.comments,
      });
      return done({ feed: b.feeds.describe(f) });
    }
    if (is("PUT", "feeds")) {
      const patch: Record<string, unknown> = {
        type: body.type,
        "update-method": body.updateMethod ?? body["update-method"],
        status: body.status,
        resource: body.resource,
        name: body.newName,
      };
      return done({ feed: b.feeds.describe(b.feeds.update(vdom, String(body.name ?? ""), patch)) });
    }
    if (is("DELETE", "feeds")) return (b.feeds.remove(vdom, String(body.name ?? "")), done());
    if (is("GET", "entries")) {
      const f = b.feeds.find(vdom, feed);
      if (!f) return { status: 404, json: { status: "error", http_status: 404, message: `no feed "${feed}" in ${vdom}` } };
      const d = b.feeds.describe(f);
      return done({ entries: d.entries, overflow: d.overflow });
    }
    if (is("POST", "entries")) {
      const entries = list(body.entries);
      if (!entries) return { status: 400, json: { status: "error", http_status: 400, message: '"entries" must be a list of strings' } };
      return done({ feed: b.feeds.describe(b.feeds.addEntries(vdom, feed, entries)) });
    }
    if (is("DELETE", "entries")) {
      if (feed === "") return done({ cleared: b.feeds.clearAll() });
      return done({ feed: b.feeds.describe(b.feeds.removeEntries(vdom, feed, list(body.entries))) });
    }
    if (is("POST", "reboot")) return done({ cleared: b.feeds.clearAll() });
  } catch (e) {
    if (e instanceof FeedError) return { status: e.httpStatus, json: { status: "error", http_status: e.httpStatus, error: e.code, message: e.message } };
    throw e;
  }
  return undefined;
}

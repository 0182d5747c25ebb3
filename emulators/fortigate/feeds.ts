/**
 * External threat feeds of the FortiGate emulator (`config system external-resource`) with the push API
 * ("Passive+" grants): the feed objects per VDOM and global `g-` feeds, pushed entries, entry limits and
 * the answers the sources leave open as settings. Facts: docs/reference/fortigate-feeds.md (§ and
 * source keys cited per rule). Routes live in feeds-routes.ts; this file holds the state.
 *
 * **API summary** (for clients and tests):
 * - Start options (`startFortigateEmulator` / `FortigateBackend`): `feeds: [{name, vdom?, type?, updateMethod?, status?, resource?, entries?}]`
 *   (`vdom: "global"` for a `g-` feed; @default one push feed `jit-allow` in `root` from 7.2.1, none below),
 *   `feedSettings: {…}` ({@link FeedSettings}: `entryLimit`, `unknownFeed`, `nonPushFeed`, `invalidEntry`, `pushDenied`,
 *   `globalFeedPush`, `commands`, `matching`, `pushFeedStatus`, `overflowEntries`, `clearOnFeedChange`, `repeatedAdd`).
 *   Api-users get `sysgrp` / `sysgrpPermission` ({@link FeedAccessUser}, admins.ts).
 * - Device routes: `GET|POST /api/v2/cmdb/system/external-resource[?vdom=]`, `GET|PUT|DELETE …/external-resource/{name}` (sysgrp),
 *   `POST /api/v2/monitor/system/external-resource/dynamic?vdom=` `{"commands":[{"name","command":"add|remove|snapshot","entries":[…]}]}`
 *   (sysgrp.cfg read-write; JSON 404 below 7.2.1), `GET /api/v2/monitor/system/external-resource/entry-list?mkey=&vdom=`
 *   `[&status_only=true][&include_notes=true][&counts_only=true][&entry=…]` (sysgrp.cfg read; `counts_only`/`entry` from 7.4.1).
 * - Control routes (under `/__emulator/`, JSON; `vdom` defaults to "root", "global" for `g-` feeds):
 *   `GET feeds?vdom=` → `{feeds:[…]}` (every feed with entries when no vdom is given);
 *   `POST feeds` `{vdom?, name, type?, updateMethod?, status?, resource?}` creates (device rules apply);
 *   `PUT feeds` `{vdom?, name, status?, updateMethod?, type?}` changes settings; `DELETE feeds` `{vdom?, name}`;
 *   `GET entries?vdom=&feed=` → `{entries:[{entry, valid, enforced}], overflow}`;
 *   `POST entries` `{vdom?, feed, entries:[…]}` adds by hand; `DELETE entries` `{vdom?, feed?, entries?}` removes those entries, or
 *   clears the feed (no `entries`), or every feed (no `feed`);
 *   `POST reboot` clears every pushed entry of every feed (entries that do not survive a reboot, §5);
 *   `POST settings` also takes the {@link FeedSettings} keys; `GET state` lists `feeds` too.
 */
import { randomUUID } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import type { FortiosVersion } from "./versions";

/** `type` values and the release that brought each [AN-EXT, P-CLI] (§1). */
export const FEED_TYPES: readonly { readonly type: string; readonly from: readonly [number, number, number] }[] = [
  { type: "category", from: [6, 0, 0] },
  { type: "domain", from: [6, 0, 0] },
  { type: "address", from: [6, 0, 0] },
  { type: "malware", from: [6, 2, 0] },
  { type: "mac-address", from: [7, 4, 0] },
  { type: "data", from: [7, 4, 2] },
  { type: "generic-address", from: [7, 6, 1] },
];
/** Types the Push API serves: FortiGuard Category, Malware Hash, IP Address, Domain Name [P-PUSH]. */
export const PUSH_TYPES: readonly string[] = ["category", "malware", "address", "domain"];
/** Feed name limit [AN-EXT, P-CLI]. */
export const FEED_NAME_MAX = 35;

const atLeast = (v: FortiosVersion, [a, b, c]: readonly [number, number, number]) => (v.major !== a ? v.major > a : v.minor !== b ? v.minor > b : v.patch >= c);
/** Push method (`update-method push`) and the push endpoint exist from 7.2.1 [P-PUSH, AN-EXT]. */
export const pushSupported = (v: FortiosVersion): boolean => atLeast(v, [7, 2, 1]);
/** From 7.4.4 limits are device-wide per entry type (IP 300,000); before, per feed (128K entries) [P-LIMIT744, KB-LIMIT]. */
export const deviceWideLimit = (v: FortiosVersion): boolean => atLeast(v, [7, 4, 4]);
/** `counts_only` and `entry` on entry-list: in the FortiOS 7.4.1 schema (fortios Ansible collection 2.3.3, `fortios_monitor_fact.py`; fortigate-feeds.md Turn 3). */
export const entryListFilters = (v: FortiosVersion): boolean => atLeast(v, [7, 4, 1]);
export const typeExists = (v: FortiosVersion, type: string): boolean => FEED_TYPES.some((t) => t.type === type && atLeast(v, t.from));

/**
 * The answers no source shows (fortigate-feeds.md §7, "Not verified"), each a choice whose default is the
 * unhelpful one, so a client's handling of it runs in CI.
 */
export interface FeedSettings {
  /**
   * Entry limit: per feed before 7.4.4, device-wide for IP entries from 7.4.4; past it the newest entries are
   * truncated (not enforced, `overflow: true`) [P-LIMIT744, KB-LIMIT]. Set it small in tests.
   * @default 131072 (128K) before 7.4.4, 300000 from 7.4.4
   */
  entryLimit: number;
  /** Push naming a feed the VDOM does not have: "refuse" (HTTP 404 JSON, nothing applied) or "accept" (200, nothing stored). @default "refuse" */
  unknownFeed: "refuse" | "accept";
  /** Push into a feed whose `update-method` is `feed`: "refuse" (HTTP 400 JSON) or "accept" (stored). @default "refuse" */
  nonPushFeed: "refuse" | "accept";
  /** An entry that is no IP, range or subnet in an address feed: "store" (kept with `valid: false`) or "refuse" (HTTP 400 JSON). @default "store" */
  invalidEntry: "store" | "refuse";
  /** A push by a token without System > Configuration read-write: "json-403" (the CMDB/monitor envelope) or "html-403". @default "json-403" */
  pushDenied: "json-403" | "html-403";
  /** Whether a push from a VDOM may name a global `g-` feed (how a push addresses one is UNCONFIRMED, §6). @default "refuse" (an unknown feed) */
  globalFeedPush: "refuse" | "visible";
  /** Several `commands` in one body: "in-order" (applied until the first refused one, which is answered; earlier ones stay) or "atomic". @default "in-order" */
  commands: "in-order" | "atomic";
  /** How entries match: "text" (as sent: `203.0.113.7/32` ≠ `203.0.113.7`) or "value" (canonical form). @default "text" */
  matching: "text" | "value";
  /** `status` the entry list reports for an enabled push feed (UNCONFIRMED, §3). @default "unavailable" */
  pushFeedStatus: "disable" | "error" | "success" | "unavailable";
  /** Entries past the limit: "listed" (in the entry list, only `overflow` says so) or "dropped" (absent from it). @default "listed" */
  overflowEntries: "listed" | "dropped";
  /** A change of a feed's `status`, `type` or `update-method` clears its pushed entries (UNCONFIRMED, §5). @default true */
  clearOnFeedChange: boolean;
  /**
   * How the entry list answers `start`/`count` (the default window is unpublished; a 7.4.2 capture sends `count=0`, and a
   * third-party client documents the list as paged, fortigate-feeds.md Turn 3): "none" (both ignored, every entry listed)
   * or a window size W (at most W entries from `start`; no `count`, or one above W, gives W).
   * @default 100 (the least helpful plausible answer: a client that reads one unpaged window misses entries)
   */
  entryListWindow: "none" | number;
  /** What `count=0` asks for under a window: "window" (W entries) or "all" (every entry from `start`). UNCONFIRMED. @default "window" */
  entryListCountZero: "window" | "all";
  /**
   * Milliseconds before a push's change shows in the entry list (a third-party client: `last_update` "advances a few
   * seconds after the push"; Knocknoc quotes 1-2 s, fortigate-feeds.md Turn 3). The push is answered at once. The
   * default is the slowest sourced figure (2 s); the client reads back for up to FEED_VISIBILITY (5 s), so 5000 is
   * the variant that tests its bound.
   * @default 2000
   */
  pushVisibleAfterMs: number;
  /**
   * An `add` naming an entry the feed already lists: "accept" (200, nothing changes) or "refuse" (HTTP 500 JSON, nothing
   * applied). No source shows either (fortigate-feeds.md §7); the client pushes an add even for a listed entry (it
   * adopts only what its own push, answered after any other writer's, proves), so under "refuse" adopting an entry
   * fails loudly (docs/variants.md "Open").
   * @default "accept"
   */
  repeatedAdd: "accept" | "refuse";
}

export function defaultFeedSettings(v: FortiosVersion): FeedSettings {
  return {
    entryLimit: deviceWideLimit(v) ? 300_000 : 131_072,
    unknownFeed: "refuse",
    nonPushFeed: "refuse",
    invalidEntry: "store",
    pushDenied: "json-403",
    globalFeedPush: "refuse",
    commands: "in-order",
    matching: "text",
    pushFeedStatus: "unavailable",
    overflowEntries: "listed",
    clearOnFeedChange: true,
    entryListWindow: 100,
    entryListCountZero: "window",
    pushVisibleAfterMs: 2000,
    repeatedAdd: "accept",
  };
}

/** A feed as start options and control routes give it. */
export interface FeedSeed {
  readonly name: string;
  /** A VDOM, or "global" for a `g-` feed. @default "root" */
  readonly vdom?: string;
  /** @default "address" */
  readonly type?: string;
  /** @default "push" (from 7.2.1; below, only "feed" exists) */
  readonly updateMethod?: "feed" | "push";
  /** @default "enable" */
  readonly status?: "enable" | "disable";
  readonly resource?: string;
  readonly comments?: string;
  /** Entries at start (as if pushed). */
  readonly entries?: readonly string[];
}

export interface FeedEntry {
  readonly entry: string;
  readonly valid: boolean;
  /** Insertion counter: the newest entries are the ones truncated past the limit. */
  readonly seq: number;
}

export interface StoredFeed {
  name: string;
  /** VDOM name, or "global". */
  readonly scope: string;
  readonly uuid: string;
  type: string;
  updateMethod: "feed" | "push";
  status: "enable" | "disable";
  resource: string;
  refreshRate: number;
  comments: string;
  /** In insertion order, keyed by match key. */
  entries: Map<string, FeedEntry>;
  lastUpdate: number;
}

/** A refused feed operation: HTTP status, the CLI code (CMDB) and a message. */
export class FeedError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Whether `s` is an IP Address feed line: IPv4/IPv6 address, `a-b` range or CIDR subnet [P-IPFEED]. */
export function validAddressEntry(s: string): boolean {
  const t = s.trim();
  if (t === "" || t !== s) return false;
  const dash = t.split("-");
  if (dash.length === 2) {
    const [a = "", b = ""] = dash;
    if (isIPv4(a) && isIPv4(b)) return v4n(a) <= v4n(b);
    return isIPv6(a) && isIPv6(b) && canonical(a).length > 0 && canonical(b).length > 0;
  }
  const slash = t.split("/");
  if (slash.length === 2) {
    const [ip = "", len = ""] = slash;
    if (!/^\d{1,3}$/.test(len)) return false;
    return (isIPv4(ip) && Number(len) <= 32) || (isIPv6(ip) && Number(len) <= 128);
  }
  return slash.length === 1 && (isIPv4(t) || isIPv6(t));
}
const v4n = (ip: string) => ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
/** Canonical text of an entry: lower-case compressed IPv6, `/32` and `/128` dropped (used with `matching: "value"`). */
export function canonical(s: string): string {
  const one = (ip: string) => (isIPv6(ip) ? new URL(`http://[${ip}]`).hostname.slice(1, -1) : ip);
  const t = s.trim();
  if (t.includes("-")) return t.split("-").map(one).join("-");
  const [ip = "", len] = t.split("/");
  if (len === undefined) return one(ip);
  if ((isIPv4(ip) && len === "32") || (isIPv6(ip) && len === "128")) return one(ip);
  return `${one(ip)}/${Number(len)}`;
}

/** Feeds of one FortiGate: per VDOM and global, with their entries and the limit. */
export class FeedStore {
  private feeds = new Map<string, StoredFeed[]>();
  settings: FeedSettings;
  private seq = 0;
  /** Bumped by reset: a delayed push change of an earlier generation is dropped. */
  private generation = 0;

  constructor(
    private readonly firmware: FortiosVersion,
    private readonly seeds: readonly FeedSeed[] | undefined,
    private readonly initialSettings: Partial<FeedSettings> | undefined,
    private readonly vdoms: () => readonly string[],
  ) {
    this.settings = { ...defaultFeedSettings(firmware), ...initialSettings };
  }

  /** Back to the seed: the start feeds and settings, no other entries. */
  reset(): void {
    this.generation++;
    this.feeds.clear();
    this.seq = 0;
    this.settings = { ...defaultFeedSettings(this.firmware), ...this.initialSettings };
    const seeds = this.seeds ?? (pushSupported(this.firmware) && this.vdoms().includes("root") ? [{ name: "jit-allow", vdom: "root" }] : []);
    for (const s of seeds) {
      this.create(s.vdom ?? "root", {
        name: s.name,
        type: s.type,
        "update-method": s.updateMethod ?? (pushSupported(this.firmware) ? "push" : undefined),
        status: s.status,
        resource: s.resource,
        comments: s.comments,
      });
      if (s.entries?.length) this.addEntries(s.vdom ?? "root", s.name, s.entries);
    }
  }

  private list(scope: string): StoredFeed[] {
    let l = this.feeds.get(scope);
    if (!l) this.feeds.set(scope, (l = []));
    return l;
  }
  /** Feeds of a scope as configured, in their configured order. */
  feedsOf(scope: string): StoredFeed[] {
    return [...(this.feeds.get(scope) ?? [])];
  }
  /** Every feed: global first, then VDOMs in alphabetical order (the limit's counting order, §4). */
  all(): StoredFeed[] {
    const scopes = [...this.feeds.keys()].filter((s) => s !== "global").sort();
    return [...(this.feeds.get("global") ?? []), ...scopes.flatMap((s) => this.feeds.get(s) ?? [])];
  }
  /** The feed `name` as seen from `vdom`: its own, or a global `g-` feed (usable in every VDOM, P-VDOMFEED). */
  find(vdom: string, name: string, withGlobal = true): StoredFeed | undefined {
    return (
      this.feeds.get(vdom)?.find((f) => f.name === name) ??
      (withGlobal && vdom !== "global" ? this.feeds.get("global")?.find((f) => f.name === name) : undefined)
    );
  }

  /** `POST cmdb/system/external-resource` rules (§1): name ≤ 35 and unique, `g-` only in global, types by version, push by version. */
  create(scope: string, body: Record<string, unknown>): StoredFeed {
    if (scope !== "global" && !this.vdoms().includes(scope)) throw new FeedError(403, undefined, `no VDOM "${scope}"`);
    const name = body.name;
    if (typeof name !== "string" || name === "") throw new FeedError(500, -56, "Command fail. Return code -56");
    if (name.length > FEED_NAME_MAX) throw new FeedError(500, -1, "Command fail. Return code -1");
    // Global names start with `g-`, VDOM names must not [P-VDOMFEED]; the device's code for a breach is unsourced.
    if ((scope === "global") !== name.startsWith("g-")) throw new FeedError(500, -651, `node_check_object fail! for name ${name}`);
    if (this.find(scope, name, false)) throw new FeedError(500, -5, "Command fail. Return code -5");
    const feed: StoredFeed = {
      name,
      scope,
      uuid: randomUUID(),
      type: "address",
      updateMethod: "feed",
      status: "enable",
      resource: "",
      refreshRate: 5,
      comments: "",
      entries: new Map(),
      lastUpdate: 0,
    };
    this.apply(feed, body);
    this.list(scope).push(feed);
    return feed;
  }
  /** `PUT …/external-resource/{name}`: a partial update; a change of status/type/method clears pushed entries by default (§5). */
  update(scope: string, name: string, body: Record<string, unknown>): StoredFeed {
    const feed = this.find(scope, name, false);
    if (!feed) throw new FeedError(404, undefined, `no feed "${name}"`);
    const before = [feed.status, feed.type, feed.updateMethod].join();
    const draft = { ...feed };
    this.apply(draft, body);
    if (typeof body.name === "string" && body.name !== name) {
      if (body.name.length > FEED_NAME_MAX || (scope === "global") !== body.name.startsWith("g-"))
        throw new FeedError(500, -651, `node_check_object fail! for name ${body.name}`);
      if (this.find(scope, body.name)) throw new FeedError(500, -5, "Command fail. Return code -5");
      draft.name = body.name;
    }
    Object.assign(feed, draft);
    if (this.settings.clearOnFeedChange && (before !== [feed.status, feed.type, feed.updateMethod].join() || draft.name !== name)) feed.entries = new Map();
    return feed;
  }
  private apply(feed: StoredFeed, body: Record<string, unknown>): void {
    const bad = (field: string) =>
      new FeedError(
        500,
        -651,
        `node_check_object fail! for ${field} ${String(body[field])}\n\nvalue parse error before '${String(body[field])}'\nCommand fail. Return code -651`,
      );
    if (body.type !== undefined) {
      if (typeof body.type !== "string" || !typeExists(this.firmware, body.type)) throw bad("type");
      feed.type = body.type;
    }
    // `update-method` exists from 7.2.1 [AN-EXT]; below, the field is not in the schema and is ignored (a client reading the
    // feed back sees no push method). Push serves four types only [P-PUSH].
    if (body["update-method"] !== undefined && pushSupported(this.firmware)) {
      if (body["update-method"] !== "feed" && body["update-method"] !== "push") throw bad("update-method");
      feed.updateMethod = body["update-method"];
    }
    if (feed.updateMethod === "push" && !PUSH_TYPES.includes(feed.type)) throw bad("update-method");
    if (body.status !== undefined) {
      if (body.status !== "enable" && body.status !== "disable") throw bad("status");
      feed.status = body.status;
    }
    if (body.resource !== undefined) {
      if (typeof body.resource !== "string" || body.resource.length > 511) throw bad("resource");
      feed.resource = body.resource;
    }
    if (body["refresh-rate"] !== undefined) {
      const r = Number(body["refresh-rate"]);
      if (!Number.isInteger(r) || r < 1 || r > 43200) throw bad("refresh-rate");
      feed.refreshRate = r;
    }
    if (body.comments !== undefined) {
      if (typeof body.comments !== "string" || body.comments.length > 255) throw bad("comments");
      feed.comments = body.comments;
    }
  }
  remove(scope: string, name: string): void {
    const l = this.feeds.get(scope) ?? [];
    const i = l.findIndex((f) => f.name === name);
    if (i < 0) throw new FeedError(404, undefined, `no feed "${name}"`);
    l.splice(i, 1);
  }

  // ---- entries ----
  key(entry: string): string {
    return this.settings.matching === "value" && validAddressEntry(entry) ? canonical(entry) : entry;
  }
  /** Re-keys every feed's entries after a change of `matching` (entries that now match keep the older one). */
  rekey(): void {
    for (const f of this.all()) {
      const m = new Map<string, FeedEntry>();
      for (const e of f.entries.values()) if (!m.has(this.key(e.entry))) m.set(this.key(e.entry), e);
      f.entries = m;
    }
  }
  isValid(feed: StoredFeed, entry: string): boolean {
    return typeof entry === "string" && (feed.type === "address" ? validAddressEntry(entry) : entry.trim() !== "");
  }
  /** Adds entries (an entry already held stays where it was). */
  addEntries(scope: string, name: string, entries: readonly string[]): StoredFeed {
    const feed = this.mustFind(scope, name);
    for (const e of entries) {
      const k = this.key(e);
      if (!feed.entries.has(k)) feed.entries.set(k, { entry: e, valid: this.isValid(feed, e), seq: ++this.seq });
    }
    feed.lastUpdate = Math.floor(Date.now() / 1000);
    return feed;
  }
  removeEntries(scope: string, name: string, entries: readonly string[] | undefined): StoredFeed {
    const feed = this.mustFind(scope, name);
    if (entries === undefined) feed.entries = new Map();
    else for (const e of entries) feed.entries.delete(this.key(e));
    feed.lastUpdate = Math.floor(Date.now() / 1000);
    return feed;
  }
  snapshot(scope: string, name: string, entries: readonly string[]): StoredFeed {
    this.mustFind(scope, name).entries = new Map();
    return this.addEntries(scope, name, entries);
  }
  /** Runs `apply` (a push's change) now, or after `pushVisibleAfterMs`, unless the store was reset in between. */
  applyLater(apply: () => void): void {
    const delay = this.settings.pushVisibleAfterMs;
    if (delay <= 0) return apply();
    const gen = this.generation;
    setTimeout(() => {
      if (gen === this.generation) apply();
    }, delay).unref();
  }
  /** A "reboot": every pushed entry is gone (whether they survive one is UNCONFIRMED, §5). */
  clearAll(): number {
    let n = 0;
    for (const f of this.all()) {
      n += f.entries.size;
      f.entries = new Map();
    }
    return n;
  }
  private mustFind(scope: string, name: string): StoredFeed {
    const f = this.find(scope, name);
    if (!f) throw new FeedError(404, undefined, `no feed "${name}" in ${scope}`);
    return f;
  }

  /**
   * Entries past the limit (not enforced): per feed before 7.4.4; from 7.4.4 device-wide for IP entries, counted
   * global feeds first, then VDOMs alphabetically, feeds in configured order; in each the newest go [P-LIMIT744, KB-LIMIT].
   */
  truncated(): Set<FeedEntry> {
    const out = new Set<FeedEntry>();
    const limit = this.settings.entryLimit;
    if (!deviceWideLimit(this.firmware)) {
      for (const f of this.all())
        [...f.entries.values()]
          .filter((e) => e.valid)
          .sort((a, b) => a.seq - b.seq)
          .slice(limit)
          .forEach((e) => out.add(e));
      return out;
    }
    const byType = new Map<string, FeedEntry[]>();
    for (const f of this.all()) {
      const l = byType.get(f.type) ?? [];
      l.push(...[...f.entries.values()].filter((e) => e.valid));
      byType.set(f.type, l);
    }
    // Within the counting order the newest entries are dropped first: walk the list, and past the limit drop by age.
    for (const l of byType.values()) {
      if (l.length <= limit) continue;
      [...l]
        .sort((a, b) => b.seq - a.seq)
        .slice(0, l.length - limit)
        .forEach((e) => out.add(e));
    }
    return out;
  }

  /** A feed and its entries as the control routes show them. */
  describe(f: StoredFeed): Record<string, unknown> {
    const cut = this.truncated();
    const entries = [...f.entries.values()].map((e) => ({ entry: e.entry, valid: e.valid, enforced: e.valid && !cut.has(e) }));
    return {
      name: f.name,
      vdom: f.scope,
      type: f.type,
      updateMethod: f.updateMethod,
      status: f.status,
      resource: f.resource,
      entries,
      overflow: entries.some((e) => e.valid && !e.enforced),
    };
  }
}

/**
 * FortiGate push threat feeds ("Passive+", docs/reference/fortigate-feeds.md), the part that does not
 * depend on how the FortiGate is reached: the device paths, the wire shapes of the feed object and
 * the entry list, matching an address against the entries, the push body, and the diagnoses. Used by
 * the direct client (feed-client.ts) and by FortiManager's proxy (fortimanager/feed-client.ts), whose
 * per-device `response` is the FortiGate's own answer (reference §8).
 */
import { z } from "zod";
import { normaliseDeviceAddress, type GrantAddress } from "../../core/address";
import { diagnose, toGrantError } from "../../core/diagnosis";
import { GrantError } from "../../core/errors";
import { segmentNameProblem } from "../../core/transport";

/** The feed object (reference §1, SW-CMDB, AN-EXT); access group sysgrp. */
export const EXTERNAL_RESOURCE_PATH = "/api/v2/cmdb/system/external-resource";
/** The push endpoint: `commands` add / remove / snapshot (reference §2, P-PUSH, AN-MON). Grants never send `snapshot`. */
export const FEED_PUSH_PATH = "/api/v2/monitor/system/external-resource/dynamic";
/** The entry list (reference §3, SW-MON, AN-FACT); access group sysgrp.cfg. */
export const FEED_ENTRY_LIST_PATH = "/api/v2/monitor/system/external-resource/entry-list";

/** Push feeds exist from FortiOS 7.2.1 (reference §1, P-PUSH). */
export const PUSH_FEEDS_FROM = [7, 2, 1] as const;

/** The only commands a grant sends: one entry at a time is added or removed, never the whole feed replaced (`snapshot`). */
export type FeedCommand = "add" | "remove";

/** Feed names: ≤ 35 characters (reference §1, AN-EXT); no characters that would surprise a URL path or query. */
export const MAX_FEED_NAME_LENGTH = 35;

/** `undefined` when `name` can be a feed name, else the rule it breaks. */
export function feedNameProblem(name: string): string | undefined {
  if (name.length === 0) return "must not be empty";
  if (name.length > MAX_FEED_NAME_LENGTH) return `must be at most ${MAX_FEED_NAME_LENGTH} characters (FortiOS limit), got ${name.length}`;
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) return "may contain only letters, digits and _ . - (feed names are case-sensitive)";
  if (name.includes("..")) return "must not contain '..'";
  return segmentNameProblem(name);
}

/**
 * The feed object as a CMDB GET shows it. Wire: `results:[{"name":"jit-allow","type":"address",
 * "update-method":"push","status":"enable",…}]`; `update-method` is absent before 7.2.1.
 */
export const FeedObjectSchema = z
  .object({ name: z.string(), type: z.string().optional(), "update-method": z.string().optional(), status: z.string().optional() })
  .passthrough()
  .transform((o) => ({ name: o.name, type: o.type, updateMethod: o["update-method"], status: o.status }));
export type FeedObject = z.infer<typeof FeedObjectSchema>;
export const FeedObjectAnswerSchema = z.object({ results: z.array(FeedObjectSchema).min(1) }).passthrough();

/** Why `feed` cannot take grants (not an IP address feed, not push, disabled), or `undefined`. */
export function feedObjectProblem(feed: FeedObject): string | undefined {
  if (feed.type !== "address") return `it is of type "${feed.type ?? "?"}", not "address" (IP Address)`;
  if (feed.updateMethod !== "push")
    return `its update method is "${feed.updateMethod ?? "feed (no update-method field: firmware before 7.2.1)"}", not "push" (Push API)`;
  if (feed.status !== undefined && feed.status !== "enable") return `its status is "${feed.status}", not "enable"`;
  return undefined;
}

const flag = z.union([z.boolean(), z.number(), z.string()]).transform((v) => !(v === false || v === 0 || v === "false" || v === "no" || v === "disable"));
const EntrySchema = z.object({ entry: z.string(), valid: flag.optional() }).passthrough();
const EntryListResultsSchema = z
  .object({
    status: z.string().optional(),
    entries: z.array(EntrySchema).optional(),
    valid_count: z.number().optional(),
    invalid_count: z.number().optional(),
    overflow: flag.optional(),
  })
  .passthrough();

/** One entry as the feed lists it. */
export interface FeedEntry {
  readonly text: string;
  readonly valid: boolean;
}

/** The entry list of a feed, normalised. */
export interface EntryList {
  readonly entries: readonly FeedEntry[];
  readonly validCount: number | undefined;
  readonly invalidCount: number | undefined;
  readonly overflow: boolean;
}

/**
 * `GET …/entry-list?mkey=<feed>` results (SW-MON schema, CFA): an object with `entries:[{entry, valid}]`,
 * `valid_count`, `invalid_count`, `overflow`. A one-element list of that object is accepted too (the
 * 6.4.14 spec types `results` loosely; which one a 7.x device sends is UNCONFIRMED).
 */
export const EntryListAnswerSchema = z
  .object({ results: z.union([EntryListResultsSchema, z.array(EntryListResultsSchema).max(1)]) })
  .passthrough()
  .transform((a): EntryList => {
    const r = Array.isArray(a.results) ? (a.results[0] ?? {}) : a.results;
    return {
      entries: (r.entries ?? []).map((e) => ({ text: e.entry, valid: e.valid ?? true })),
      validCount: r.valid_count,
      invalidCount: r.invalid_count,
      overflow: r.overflow ?? false,
    };
  });

/** What a feed holds of one address: the entries whose value is the address (text may differ: `/32`, IPv6 forms). */
export function entriesOf(list: EntryList, address: GrantAddress): FeedEntry[] {
  return list.entries.filter((e) => e.text === address.canonical || normaliseDeviceAddress(e.text)?.cidr === address.cidr);
}

/** The push body: one command for one feed (reference "Not verified": several commands in one body have no documented order). */
export function pushBody(
  feed: string,
  command: FeedCommand,
  entries: readonly string[],
): { commands: { name: string; command: FeedCommand; entries: string[] }[] } {
  return { commands: [{ name: feed, command, entries: [...entries] }] };
}

/** `?mkey=<feed>` query of the entry list: `status_only`, or one page (`start`, `count`; feed-batcher.ts `readAllEntries`). */
export function entryListQuery(feed: string, page: { start: number; count: number } | "status-only"): Record<string, string> {
  if (page === "status-only") return { mkey: feed, status_only: "true" };
  return { mkey: feed, start: String(page.start), count: String(page.count) };
}

/** 202102: the feed is missing on `device`, or cannot take pushed IP entries. */
export function feedUnusable(host: string, feed: string, device: string, vdom: string, why: string, operation?: string): GrantError {
  return diagnose("202102", {
    host,
    detail: `the threat feed "${feed}" on ${device} (VDOM "${vdom}") cannot take grants: ${why}`,
    ...(operation !== undefined && { operation }),
    vars: { feed, device, vdom },
  });
}

/** 202103: the feed did not take the entry (absent after an accepted push, invalid, or overflow). */
export function entryNotTaken(host: string, feed: string, device: string, address: string, list: EntryList | undefined, why: string): GrantError {
  const counts = list ? ` (feed counts: valid ${list.validCount ?? "?"}, invalid ${list.invalidCount ?? "?"}${list.overflow ? ", overflow" : ""})` : "";
  return diagnose("202103", { host, detail: `${address} is not in force in feed "${feed}" on ${device}: ${why}${counts}`, vars: { feed, device, address } });
}

/** Entries a failed change pushed and could not take back, on one device, and why. */
export interface LeftBehind {
  readonly device: string;
  readonly entries: readonly string[];
  readonly reason: string;
}

/**
 * `e` with the entries a rollback could not take back named in its first line: they stay on those devices
 * with no state, so the user must hear where and which (issue 18). A new error: the batcher may hand one
 * diagnosis object to several grants, and only this one left the entries behind.
 */
export function withLeftBehind(e: unknown, host: string, feed: string, left: readonly LeftBehind[]): GrantError {
  const d = toGrantError(e, "fortinet", { host });
  if (left.length === 0) return d;
  const where = left.map((l) => `${l.entries.join(", ")} on ${l.device} (${l.reason})`).join("; ");
  const one = left.length === 1 && left[0]!.entries.length === 1;
  const note =
    `Taking back what this change added FAILED: ${where} — ${one ? "it stays" : "they stay"} in feed "${feed}" with no state, still allowed. ` +
    `Remove ${one ? "it" : "them"} by hand, or run \`pulumi up\` again once the device answers (the resource then adopts ${one ? "it" : "them"}, and its delete removes ${one ? "it" : "them"}).`;
  const [first = "", ...rest] = d.message.split("\n");
  return new GrantError({
    code: d.code,
    message: [`${first} ${note}`, ...rest].join("\n"),
    host: d.host,
    title: d.title,
    cause: d.cause_,
    fix: d.fix,
    ...(d.operation !== undefined && { operation: d.operation }),
    ...(d.status !== undefined && { status: d.status }),
    ...(d.deviceMessage !== undefined && { deviceMessage: d.deviceMessage }),
    error: d.cause,
  });
}

/** One device's failure in a push, for 202100. */
export interface DeviceFailure {
  readonly device: string;
  readonly reason: string;
}

/** 202100 naming every failed device with its cause, and the devices that hold the change. */
export function pushFailed(
  host: string,
  feed: string,
  address: string,
  command: FeedCommand,
  failed: readonly DeviceFailure[],
  held: readonly string[],
): GrantError {
  const devices = failed.map((f) => `${f.device}: ${f.reason}`).join("; ");
  const holding = held.length > 0 ? ` ${command === "add" ? "Devices that hold it" : "Devices where it is gone"}: ${held.join(", ")}.` : "";
  return diagnose("202100", {
    host,
    detail: `${command === "add" ? "adding" : "removing"} ${address} ${command === "add" ? "into" : "from"} feed "${feed}" failed on ${failed.map((f) => f.device).join(", ")}.${holding}`,
    vars: { address, feed, devices },
  });
}

/** What a push needs on the FortiGate, and what no read-only request can prove (reference §6, P-KK 202002). */
export const PUSH_PERMISSION = "System > Configuration Read/Write (sysgrp-permission cfg read-write), which the push endpoint needs";
export const PUSH_UNVERIFIED =
  "No read-only request proves write access to the push endpoint (its access group is in no published spec; Knocknoc requires System > Configuration read/write): preview checked the feed's configuration and the entry list read only.";

/** 202002 for a FortiGate 403 on a feed request, naming the permission the request needs and the VDOM. */
export function feedForbidden(host: string, vdom: string, need: "feed" | "entries" | "push", operation: string, deviceMessage?: string): GrantError {
  const permission =
    need === "feed"
      ? "System > Configuration Read (sysgrp read: cmdb system/external-resource)"
      : need === "entries"
        ? "System > Configuration Read (sysgrp.cfg read: the feed's entry list)"
        : PUSH_PERMISSION;
  const cli = need === "push" ? "read-write" : "read";
  return diagnose("202002", {
    host,
    operation,
    status: 403,
    ...(deviceMessage !== undefined && { deviceMessage }),
    detail: `the token is valid but may not ${need === "push" ? "push entries into threat feeds" : "read threat feeds"} in VDOM "${vdom}" (${operation})${need === "push" ? `. ${PUSH_UNVERIFIED}` : ""}`,
    vars: {
      scope: `the REST API administrator's admin profile in VDOM "${vdom}"`,
      permission,
      fixPermission: `System > Admin Profiles > (the API user's profile): set System to Custom with Configuration ${cli === "read-write" ? "Read/Write" : "Read"} (CLI: set sysgrp custom; config sysgrp-permission; set cfg ${cli}).`,
      fixScope: `Check that VDOM "${vdom}" is in the REST API administrator's Virtual Domains (System > Administrators).`,
    },
  });
}

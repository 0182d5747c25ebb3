/**
 * A FortiGate's push threat feeds over its REST API (docs/reference/fortigate-feeds.md §1-§3, §6, §7):
 * the feed object (CMDB), the entry list and the push endpoint (monitor). Built on
 * {@link FortigateClient}: its transport (Bearer token, redaction, retries of reads only), its mapping
 * of 401 (202001, never repeated: FortiOS locks the source out) and 429 (202005), and its check that an
 * answer is FortiOS's own envelope for this request (`answer`), so a captive portal's 200 or a blanket
 * 404 never counts. What is feed-specific here: 403 names System > Configuration (not Firewall), a 404
 * is a missing feed, and a push is judged by the entry list read back (feed-batcher.ts).
 */
import { isAmbiguousWriteFailure, type Transport, type TransportRequest, type TransportResponse } from "../../core/transport";
import { toGrantError } from "../../core/diagnosis";
import { FortigateClient, olderThan, parseFortiosVersion, type FortigateClientOptions, type FortiosVersion } from "./client";
import { ENTRY_PAGE, readAllEntries, type FeedBackend, type TargetPush, type TargetRead } from "../fortinet/feed-batcher";
import {
  EXTERNAL_RESOURCE_PATH,
  EntryListAnswerSchema,
  FEED_ENTRY_LIST_PATH,
  FEED_PUSH_PATH,
  FeedObjectAnswerSchema,
  PUSH_FEEDS_FROM,
  entryListQuery,
  feedForbidden,
  feedUnusable,
  pushBody,
  type EntryList,
  type FeedCommand,
  type FeedObject,
} from "../fortinet/feed-entries";

type Method = TransportRequest["method"];

/**
 * The FortigateClient internals a feed client reuses (its request builder with the VDOM query, its
 * send with the auth/lockout mapping, its transport). Private there; read through element access,
 * which TypeScript allows, until the lead makes them `@internal` public (see the report of issue 12).
 */
interface ClientInternals {
  req(method: Method, base: string, segments: readonly string[], idempotent: boolean, body?: unknown, query?: Record<string, string>): TransportRequest;
  call(req: TransportRequest, ok: readonly number[], need: "read" | "write", rawTransportErrors?: boolean): Promise<TransportResponse>;
  t: Transport;
}

export class FortigateFeedClient {
  readonly fgt: FortigateClient;
  readonly host: string;
  readonly vdom: string;
  private readonly inner: ClientInternals;

  constructor(opts: FortigateClientOptions) {
    this.fgt = new FortigateClient(opts);
    this.host = this.fgt.host;
    this.vdom = this.fgt.vdom;
    const c = this.fgt;
    this.inner = { req: (...a) => c["req"](...a), call: (...a) => c["call"](...a), t: c["t"] };
  }

  /** `monitor/system/status`: token and VDOM (FortigateClient.status); 202102 below FortiOS 7.2.1 (no push feeds). */
  async status(feed: string): Promise<FortiosVersion> {
    const { version } = await this.fgt.status();
    if (olderThan(version, PUSH_FEEDS_FROM as unknown as FortiosVersion)) {
      throw feedUnusable(this.host, feed, this.host, this.vdom, `FortiOS ${version.join(".")} has no push feeds (update method Push API exists from 7.2.1)`);
    }
    return version;
  }

  /** The FortiGate's serial number (`monitor/system/status`), its identity as FortiManager knows it (feed-identity.ts). */
  async serial(): Promise<string> {
    return (await this.fgt.status()).serial;
  }

  /** The feed object, or `undefined` for FortiOS's own 404 (sysgrp read; 403 → 202002). */
  async getFeed(feed: string): Promise<FeedObject | undefined> {
    const r = await this.probeFeed(feed);
    if (!r.ok) throw r.forbidden;
    return r.feed;
  }

  /**
   * The feed object in one request that also proves what `monitor/system/status` would (issue 22: one request fewer
   * per device and process): the token (401 → 202001), the firmware (the envelope's `version`, reference fortigate.md
   * envelope table; push feeds from 7.2.1, else 202102). A 403 is the VDOM outside the token's scope or the profile
   * lacking System > Configuration: only then is the status read, which answers 403 for the VDOM alone (its access
   * group is "any", SW-MON), so the VDOM's diagnosis is thrown from here and the profile's is returned for the caller.
   */
  async probeFeed(feed: string): Promise<{ ok: true; feed: FeedObject | undefined } | { ok: false; forbidden: Error }> {
    const req = this.inner.req("GET", EXTERNAL_RESOURCE_PATH, [feed], true);
    const res = await this.inner.call(req, [200, 403, 404], "read");
    if (res.status === 403) {
      await this.status(feed);
      return { ok: false, forbidden: feedForbidden(this.host, this.vdom, "feed", `GET ${req.path}`, this.fortiosMessage(req, res)) };
    }
    this.expectAnswer(req, res);
    const version = parseFortiosVersion(this.fgt.answer(req, res)?.version);
    if (version === undefined) await this.status(feed);
    else if (olderThan(version, PUSH_FEEDS_FROM as unknown as FortiosVersion))
      throw feedUnusable(this.host, feed, this.host, this.vdom, `FortiOS ${version.join(".")} has no push feeds (update method Push API exists from 7.2.1)`);
    if (res.status === 404) return { ok: true, feed: undefined };
    return { ok: true, feed: this.inner.t.parse(req, res, FeedObjectAnswerSchema).results[0] };
  }

  /**
   * One answer of the feed's entry list (sysgrp.cfg read; 403 → 202002; FortiOS 404 → 202102): a page, or the status
   * only. One page proves nothing about the rest: {@link backend} reads to a proven end (feed-batcher.ts `readAllEntries`).
   */
  async entryList(feed: string, page: { start: number; count: number } | "status-only"): Promise<EntryList> {
    const req = this.inner.req("GET", FEED_ENTRY_LIST_PATH, [], true, undefined, entryListQuery(feed, page));
    const res = await this.inner.call(req, [200, 403, 404, 500], "read");
    if (res.status === 403) throw feedForbidden(this.host, this.vdom, "entries", `GET ${req.path}`, this.fortiosMessage(req, res));
    this.expectAnswer(req, res);
    if (res.status !== 200)
      throw feedUnusable(
        this.host,
        feed,
        this.host,
        this.vdom,
        `the entry list answered HTTP ${res.status} (${this.fortiosMessage(req, res)})`,
        `GET ${req.path}`,
      );
    return this.inner.t.parse(req, res, EntryListAnswerSchema);
  }

  /**
   * One push command (`add` or `remove`, never `snapshot`). Not repeated: a timeout or reset is
   * "unknown" and the read-back decides. Success needs FortiOS's success envelope under HTTP 200
   * (Ansible's rule, AN-MON `is_successful_status`); every other answer is a refusal shown as the
   * device gave it. A 403 is 202002 naming System > Configuration and saying that preview could not
   * prove it.
   */
  async push(feed: string, command: FeedCommand, entries: readonly string[]): Promise<TargetPush> {
    const req = this.inner.req("POST", FEED_PUSH_PATH, [], false, pushBody(feed, command, entries));
    let res: TransportResponse;
    try {
      res = await this.inner.call(req, [200, 400, 403, 404, 405, 424, 500], "write", true);
    } catch (e) {
      if (isAmbiguousWriteFailure(e)) return { ok: "unknown", reason: (e as Error).message };
      const error = toGrantError(e, "fortinet", { host: this.host, timeoutMs: this.inner.t.timeoutMs });
      return { ok: false, failure: { reason: error.message.split("\n")[0]!, error } };
    }
    if (res.status === 403) {
      const error = feedForbidden(this.host, this.vdom, "push", `POST ${req.path}`, this.fortiosMessage(req, res));
      return { ok: false, failure: { reason: "refused (HTTP 403): the profile lacks System > Configuration read/write", error } };
    }
    const env = this.fgt.answer(req, res);
    if (env && res.status === 200) return { ok: true };
    if (res.status === 404 && env) {
      const error = feedUnusable(
        this.host,
        feed,
        this.host,
        this.vdom,
        "the push endpoint answered 404 (firmware before 7.2.1, or the feed is gone)",
        `POST ${req.path}`,
      );
      return { ok: false, failure: { reason: "push endpoint or feed not found (HTTP 404)", error } };
    }
    return { ok: false, failure: { reason: `refused (HTTP ${res.status}): ${this.fortiosMessage(req, res)}` } };
  }

  /** The client as a batch backend: one target, this FortiGate. */
  backend(feed: string): FeedBackend {
    const target = this.host;
    return {
      read: (targets) =>
        readAllEntries(async (start, ts) => {
          const out = new Map<string, TargetRead>();
          if (!ts.includes(target)) return out;
          try {
            out.set(target, { ok: true, list: await this.entryList(feed, { start, count: ENTRY_PAGE }) });
          } catch (e) {
            const error = toGrantError(e, "fortinet", { host: this.host, timeoutMs: this.inner.t.timeoutMs });
            out.set(target, { ok: false, failure: { reason: error.message.split("\n")[0]!, error } });
          }
          return out;
        }, targets),
      push: async (command, entries, targets) => new Map(targets.includes(target) ? [[target, await this.push(feed, command, entries)]] : []),
    };
  }

  /** 202090 unless `res` is FortiOS's own answer to `req`. */
  private expectAnswer(req: TransportRequest, res: TransportResponse): void {
    if (this.fgt.answer(req, res)) return;
    throw toGrantError(this.inner.t.httpError(req, res), "fortinet", { host: this.host });
  }

  /** What FortiOS said (its error code and CLI text), or a body excerpt when the answer is not FortiOS's. */
  private fortiosMessage(req: TransportRequest, res: TransportResponse): string {
    const env = this.fgt.answer(req, res);
    if (env) return `FortiOS ${env.status}${env.error !== undefined ? ` ${env.error}` : ""}${env.cli_error ? `: ${this.inner.t.redact(env.cli_error)}` : ""}`;
    return `not a FortiOS answer: ${this.inner.t.excerpt(res.text, 200)}`;
  }
}

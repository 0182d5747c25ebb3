/**
 * The permission preflight of a direct feed grant, run from `check` (SPEC §5; reference
 * fortigate-feeds.md §6 "Side-effect-free preflight"). Three reads, none with a side effect:
 *  1. `GET monitor/system/status?vdom=` — the token (401 → 202001) and the VDOM (403 → 202002 naming
 *     it), and the firmware (push feeds from 7.2.1, else 202102);
 *  2. `GET cmdb/system/external-resource/<feed>` — sysgrp read (403 → 202002); the feed exists (FortiOS
 *     404 → 202102), is `type address`, `update-method push`, `status enable` (else 202102 saying which);
 *  3. `GET monitor/…/entry-list?mkey=<feed>&status_only=true` — sysgrp.cfg read (403 → 202002).
 * What no read-only request proves: write access to the push endpoint (its access group is in no spec;
 * reference §6). The outcome says so, and a push refused later with 403 gets a 202002 that says preview
 * could not verify it (feed-entries.ts `PUSH_UNVERIFIED`). The "read" mode runs the same three reads:
 * all of them are what a drift check needs.
 *
 * Cached for the life of the provider process under everything that changes the answer: URL, token,
 * CA, `insecure`, timeout, VDOM, feed and mode.
 */
import { diagnosed } from "../diagnosis";
import { cachedProbe, fingerprint } from "../process-state";
import type { FortigateClientOptions } from "./client";
import type { FortigateFeedClient } from "./feed-client";
import { PUSH_UNVERIFIED, feedObjectProblem, feedUnusable } from "./feed-entries";

/** What preview proved, and what it could not. */
export interface FeedPreflightOutcome {
  readonly unverified: string;
}

export function feedPreflightKey(o: FortigateClientOptions, vdom: string, feed: string, mode: string): string {
  return `fortigate.feed:${fingerprint(o.url, o.token, o.caCert ?? "", o.insecure === true ? "insecure" : "verify", String(o.timeoutMs ?? ""), vdom, feed, mode)}`;
}

export async function feedPreflight(c: FortigateFeedClient, o: FortigateClientOptions, feed: string, mode: "full" | "read"): Promise<FeedPreflightOutcome> {
  // Diagnosed inside, so that the cache keeps the verdict (cachedProbe forgets undiagnosed failures).
  await cachedProbe(feedPreflightKey(o, c.vdom, feed, mode), () =>
    diagnosed("fortinet", { host: c.host, timeoutMs: o.timeoutMs }, async () => {
      await c.status(feed);
      const found = await c.getFeed(feed);
      if (!found) throw feedUnusable(c.host, feed, c.host, c.vdom, `no external resource of that name exists in VDOM "${c.vdom}" (names are case-sensitive)`);
      const problem = feedObjectProblem(found);
      if (problem) throw feedUnusable(c.host, feed, c.host, c.vdom, problem);
      await c.entryList(feed, true);
    }),
  );
  return { unverified: PUSH_UNVERIFIED };
}

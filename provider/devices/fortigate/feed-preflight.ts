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
import { diagnosed } from "../../core/diagnosis";
import { runSteps, type PreflightStep } from "../../core/preflight-steps";
import { cachedProbe, fingerprint } from "../../core/process-state";
import { STATUS_PATH, type FortigateClientOptions } from "./client";
import type { FortigateFeedClient } from "./feed-client";
import { EXTERNAL_RESOURCE_PATH, FEED_ENTRY_LIST_PATH, PUSH_UNVERIFIED, feedObjectProblem, feedUnusable } from "../fortinet/feed-entries";

/** What preview proved, and what it could not. */
export interface FeedPreflightOutcome {
  readonly unverified: string;
}

export interface FeedPreflightContext {
  readonly client: FortigateFeedClient;
  readonly feed: string;
}

/** The `FortigateFeedEntry` preflight, in order (fortigate-feeds.md §6). No step proves push access: {@link PUSH_UNVERIFIED}. */
export const FORTIGATE_FEED_PREFLIGHT: readonly PreflightStep<FeedPreflightContext>[] = [
  {
    id: "auth",
    kind: "auth",
    proves: "the token is accepted, the VDOM is in its scope, and FortiOS is 7.2.1 or later (push feeds)",
    request: `GET ${STATUS_PATH}?vdom=<vdom>`,
    needs: "a valid REST API token whose Virtual Domains include the VDOM (and this machine in its trusted hosts)",
    run: async ({ client, feed }) => void (await client.status(feed)),
  },
  {
    id: "feed",
    kind: "read",
    proves: "the feed exists in the VDOM and is an IP address feed with update method Push API, enabled",
    request: `GET ${EXTERNAL_RESOURCE_PATH}/<feed>?vdom=<vdom>`,
    needs: "System > Configuration Read (sysgrp read); the push itself needs Read/Write, which no read-only request proves",
    run: async ({ client, feed }) => {
      const found = await client.getFeed(feed);
      if (!found)
        throw feedUnusable(
          client.host,
          feed,
          client.host,
          client.vdom,
          `no external resource of that name exists in VDOM "${client.vdom}" (names are case-sensitive)`,
        );
      const problem = feedObjectProblem(found);
      if (problem) throw feedUnusable(client.host, feed, client.host, client.vdom, problem);
    },
  },
  {
    id: "entries",
    kind: "read",
    proves: "the feed's entry list can be read (create, refresh and delete read it back)",
    request: `GET ${FEED_ENTRY_LIST_PATH}?mkey=<feed>&status_only=true&vdom=<vdom>`,
    needs: "System > Configuration Read (sysgrp.cfg read)",
    run: async ({ client, feed }) => void (await client.entryList(feed, "status-only")),
  },
];

export function feedPreflightKey(o: FortigateClientOptions, vdom: string, feed: string, mode: string): string {
  return `fortigate.feed:${fingerprint(o.url, o.token, o.caCert ?? "", o.insecure === true ? "insecure" : "verify", String(o.timeoutMs ?? ""), vdom, feed, mode)}`;
}

export async function feedPreflight(c: FortigateFeedClient, o: FortigateClientOptions, feed: string, mode: "full" | "read"): Promise<FeedPreflightOutcome> {
  // Diagnosed inside, so that the cache keeps the verdict (cachedProbe forgets undiagnosed failures).
  await cachedProbe(feedPreflightKey(o, c.vdom, feed, mode), () =>
    diagnosed("fortinet", { host: c.host, timeoutMs: o.timeoutMs }, () => runSteps(FORTIGATE_FEED_PREFLIGHT, { client: c, feed }, mode)),
  );
  return { unverified: PUSH_UNVERIFIED };
}

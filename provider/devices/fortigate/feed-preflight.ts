/**
 * The permission preflight of a direct feed grant, run from `check` (SPEC §5; reference
 * fortigate-feeds.md §6 "Side-effect-free preflight"). Two reads, none with a side effect:
 *  1. `GET cmdb/system/external-resource/<feed>` — the token (401 → 202001), the firmware (the envelope's
 *     `version`: push feeds from 7.2.1, else 202102), sysgrp read (403 → 202002; then `monitor/system/status`
 *     tells a VDOM outside the token's scope from the missing permission); the feed exists (FortiOS 404 →
 *     202102), is `type address`, `update-method push`, `status enable` (else 202102 saying which);
 *  2. `GET monitor/…/entry-list?mkey=<feed>&status_only=true` — sysgrp.cfg read (403 → 202002).
 * What no read-only request proves: write access to the push endpoint (its access group is in no spec;
 * reference §6). The outcome says so, and a push refused later with 403 gets a 202002 that says preview
 * could not verify it (feed-entries.ts `PUSH_UNVERIFIED`). The "read" mode runs the same reads:
 * all of them are what a drift check needs.
 *
 * Cached for the life of the provider process under everything that changes the answer: URL, token,
 * CA, `insecure`, timeout, VDOM, feed and mode.
 */
import { diagnosed } from "../../core/diagnosis";
import { runSteps, type PreflightStep } from "../../core/preflight-steps";
import { cachedPreflight, fingerprint } from "../../core/process-state";
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
  /** What the first step's request found, for the second to judge (one request proves both). */
  found?: Awaited<ReturnType<FortigateFeedClient["probeFeed"]>>;
}

/** The `FortigateFeedEntry` preflight, in order (fortigate-feeds.md §6). No step proves push access: {@link PUSH_UNVERIFIED}. */
export const FORTIGATE_FEED_PREFLIGHT: readonly PreflightStep<FeedPreflightContext>[] = [
  {
    id: "auth",
    kind: "auth",
    proves: "the token is accepted, the VDOM is in its scope, and FortiOS is 7.2.1 or later (push feeds)",
    // One request for this step and the next: the feed object's envelope carries the firmware version; the status
    // is read only when it does not, or to tell a VDOM outside the token's scope from a missing permission (a 403).
    request: `GET ${EXTERNAL_RESOURCE_PATH}/<feed>?vdom=<vdom> (and GET ${STATUS_PATH}?vdom=<vdom> only on a 403 or an envelope without version)`,
    needs: "a valid REST API token whose Virtual Domains include the VDOM (and this machine in its trusted hosts)",
    run: async (ctx) => void (ctx.found = await ctx.client.probeFeed(ctx.feed)),
  },
  {
    id: "feed",
    kind: "read",
    proves: "the feed exists in the VDOM and is an IP address feed with update method Push API, enabled",
    request: `(the answer of the previous step)`,
    needs: "System > Configuration Read (sysgrp read); the push itself needs Read/Write, which no read-only request proves",
    run: async (ctx) => {
      const { client, feed } = ctx;
      const r = ctx.found ?? (await client.probeFeed(feed));
      if (!r.ok) throw r.forbidden;
      if (!r.feed)
        throw feedUnusable(
          client.host,
          feed,
          client.host,
          client.vdom,
          `no external resource of that name exists in VDOM "${client.vdom}" (names are case-sensitive)`,
        );
      const problem = feedObjectProblem(r.feed);
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
  // Diagnosed inside, so that the cache keeps the verdict (cachedProbe forgets undiagnosed failures). Once per
  // CLI run: the update pass of an `up` reuses its preview's proof (process-state `cachedPreflight`); a right lost
  // in between still fails the push with its diagnosis.
  await cachedPreflight(feedPreflightKey(o, c.vdom, feed, mode), () =>
    diagnosed("fortinet", { host: c.host, timeoutMs: o.timeoutMs }, () => runSteps(FORTIGATE_FEED_PREFLIGHT, { client: c, feed }, mode)),
  );
  return { unverified: PUSH_UNVERIFIED };
}

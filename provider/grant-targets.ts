/**
 * What `Grant` and `Grants` share: the targets a grant goes to, how a target names its device, and the
 * description every child or set entry of a grant carries.
 */
import type { FortigateConnection } from "./devices/fortigate/resource";
import type { FortimanagerFeedConnection } from "./devices/fortimanager/feed-resource";
import type { FortimanagerConnection } from "./devices/fortimanager/resource";
import type { OpnsenseConnection } from "./devices/opnsense/resource";

/** What a child (or set) of a grant is, by target kind. */
export type GrantKind = "opnsense" | "fortigate" | "fortimanager" | "fortigate-feed" | "fortimanager-feed";

export interface GrantOpnsenseTarget {
  readonly connection?: OpnsenseConnection;
  /** The alias for both families (when `alias4`/`alias6` are not given). */
  readonly alias?: string;
  /** The alias for IPv4 addresses. @default alias */
  readonly alias4?: string;
  /** The alias for IPv6 addresses. @default alias */
  readonly alias6?: string;
  /** @default "table" */
  readonly method?: "table" | "config";
}

export interface GrantFortigateTarget {
  readonly connection?: FortigateConnection;
  /** Address group of IPv4 addresses (and of IPv6 ones unless `group6` is given). */
  readonly group: string;
  /** Address group (`addrgrp6`) of IPv6 addresses. @default group */
  readonly group6?: string;
  /** Object names: prefix + address (`/` as `_`). @default "grant-" */
  readonly namePrefix?: string;
}

export interface GrantFortimanagerTarget {
  readonly connection?: FortimanagerConnection;
  readonly adminUser: string;
}

/** A FortiGate push threat feed (IPv4 and IPv6 addresses go into the same feed). */
export interface GrantFortigateFeedTarget {
  readonly connection?: FortigateConnection;
  /** Existing IP address threat feed with update method Push API, in the connection's VDOM. */
  readonly feed: string;
}

/** A push threat feed on managed FortiGates through FortiManager (IPv4 and IPv6 go into the same feed). */
export interface GrantFortimanagerFeedTarget {
  readonly connection?: FortimanagerFeedConnection;
  /** Managed FortiGates (device names in the ADOM) whose feed gets the addresses. */
  readonly devices: readonly string[];
  readonly feed: string;
  /** @default "root" */
  readonly vdom?: string;
}

/** `alice: on call (CHG-1)`: who, what for and the ticket, as every child (or set entry) of a grant carries it. @internal */
export function grantDescription(a: { readonly who: string; readonly description?: string; readonly ticket?: string }): string {
  return [`${a.who}${a.description ? `: ${a.description}` : ""}`, a.ticket ? `(${a.ticket})` : ""].filter(Boolean).join(" ");
}

/** `@fw2.example.com-8443/vdom2`: the device of a target when its connection names one in plain strings ("" when it comes from the settings). @internal */
export function deviceTag(conn: { readonly url?: unknown; readonly vdom?: unknown; readonly adom?: unknown } | undefined): string {
  let host = "";
  if (typeof conn?.url === "string") {
    try {
      host = new URL(conn.url).host.replace(/:/g, "-");
    } catch {
      host = conn.url.replace(/[^A-Za-z0-9.-]/g, "-");
    }
  }
  const scope = typeof conn?.vdom === "string" ? conn.vdom : typeof conn?.adom === "string" ? conn.adom : "";
  return host || scope ? `@${host}${scope ? `/${scope}` : ""}` : "";
}

/**
 * The FortiGate emulator's control routes under `/__emulator/` (beside the kit's `GET|DELETE log`,
 * `POST reset`, `POST|DELETE faults`); documented on `startFortigateEmulator` (emulator.ts). A noun
 * per kind of state, the HTTP method says what happens. Each route's body has a `.strict()` schema
 * (query parameters count as fields), so a body the route does not understand is a 400 naming the
 * field, never an ok for nothing done. The device's own values (subnets, feed types) are checked by
 * the backend as the device would, with the device's error.
 */
import { z } from "zod";
import { controlBody, NO_BODY, type EmulatorReply, type EmulatorRequest } from "../kit";
import { CmdbError, type AddrFamily, type FortigateApiUser, type FortigateBackend, type RepeatedMemberPost } from "./backend";
import { applyFeedSettings, feedControl } from "./feeds-routes";

const Vdom = z.string().min(1).optional();
const Scope = { vdom: Vdom, family: z.enum(["ipv4", "ipv6"]).optional() };
const Name = z.string().min(1);
/** One name or a list of them (several members at once). */
const Names = z.union([Name.transform((n) => [n]), z.array(Name).min(1)]);
const Access = z.enum(["none", "read", "read-write"]);
/** A device value the backend checks itself (as the device would: error -651 and friends). */
const Value = z.unknown().optional();
const FEED_SETTING_KEYS = [
  "entryLimit",
  "unknownFeed",
  "nonPushFeed",
  "invalidEntry",
  "pushDenied",
  "globalFeedPush",
  "commands",
  "matching",
  "pushFeedStatus",
  "overflowEntries",
  "clearOnFeedChange",
  "repeatedAdd",
] as const;
const feedFields = { type: Value, updateMethod: Value, "update-method": Value, status: Value, resource: Value, comments: Value };
const memberBody = z.object({ ...Scope, group: Name, name: Names }).strict();
const named = z.object({ ...Scope, name: Name }).strict();

/** Each route's body. */
const ROUTES = {
  "GET state": z.object({ vdom: Vdom }).strict(),
  "GET users": NO_BODY,
  "POST users": z
    .object({
      name: Name,
      token: Name,
      fwgrp: z.enum(["none", "read", "read-write", "custom"]).optional(),
      addressPermission: Access.optional(),
      sysgrp: z.enum(["none", "read", "read-write", "custom"]).optional(),
      sysgrpPermission: z.object({ admin: Access.optional(), upd: Access.optional(), cfg: Access.optional(), mnt: Access.optional() }).strict().optional(),
      vdoms: z.array(Name).optional(),
      trusthosts: z.array(Name).optional(),
    })
    .strict(),
  "POST addresses": z
    .object({
      ...Scope,
      name: Name,
      type: Value,
      comment: Value,
      subnet: Value,
      "start-ip": Value,
      "end-ip": Value,
      fqdn: Value,
      country: Value,
      wildcard: Value,
      macaddr: Value,
      ip6: Value,
    })
    .strict(),
  "DELETE addresses": named,
  "POST delete-address": named,
  "POST groups": z.object({ ...Scope, name: Name, members: z.array(Name).optional(), comment: z.string().optional() }).strict(),
  "DELETE groups": named,
  "POST members": memberBody,
  "DELETE members": memberBody,
  "POST remove-member": memberBody,
  "DELETE lockouts": NO_BODY,
  "POST settings": z
    .object({
      urlQueryToken: z.boolean().optional(),
      repeatedMemberPost: z.enum(["duplicate", "ok"]).optional(),
      ...Object.fromEntries(FEED_SETTING_KEYS.map((k) => [k, Value])),
    })
    .strict()
    .refine((b) => Object.values(b).some((v) => v !== undefined), { message: "name at least one setting" }),
  "GET feeds": z.object({ vdom: Vdom }).strict(),
  "POST feeds": z.object({ vdom: Vdom, name: Name, ...feedFields }).strict(),
  "PUT feeds": z.object({ vdom: Vdom, name: Name, newName: Name.optional(), ...feedFields }).strict(),
  "DELETE feeds": z.object({ vdom: Vdom, name: Name }).strict(),
  "GET entries": z.object({ vdom: Vdom, feed: Name.optional(), name: Name.optional() }).strict(),
  "POST entries": z.object({ vdom: Vdom, feed: Name.optional(), name: Name.optional(), entries: z.array(z.string()) }).strict(),
  "DELETE entries": z.object({ vdom: Vdom, feed: Name.optional(), name: Name.optional(), entries: z.array(z.string()).optional() }).strict(),
  "POST reboot": NO_BODY,
} as const;
type Body<K extends keyof typeof ROUTES> = z.infer<(typeof ROUTES)[K]>;

const failed = (status: number, message: string): EmulatorReply => ({ status, json: { status: "error", http_status: status, message } });

/** The control routes of one FortiGate backend (FortiManager reaches a managed device's through them). */
export function fortigateControl(b: FortigateBackend, req: EmulatorRequest, action: string): EmulatorReply | undefined {
  const key = `${req.method} ${action}`;
  if (!(key in ROUTES)) return undefined;
  const parsed = controlBody(req, action, ROUTES[key as keyof typeof ROUTES] as z.ZodType);
  if ("error" in parsed) return failed(400, parsed.error);
  const body = parsed.value as Record<string, unknown>;
  const vdom = typeof body.vdom === "string" ? body.vdom : "root";
  const fam: AddrFamily = body.family === "ipv6" ? "ipv6" : "ipv4";
  const done = (extra: object = {}): EmulatorReply => ({ status: 200, json: { status: "ok", ...extra } });
  try {
    if (key === "GET state")
      return done({
        version: b.version,
        build: b.build,
        vdoms: b.vdoms(),
        urlQueryToken: b.acceptsQueryToken,
        repeatedMemberPost: b.repeatedMemberPost,
        addresses: b.addresses(vdom, "ipv4"),
        addresses6: b.addresses(vdom, "ipv6"),
        groups: b.groups(vdom, "ipv4"),
        groups6: b.groups(vdom, "ipv6"),
        feeds: b.feeds.all().map((f) => b.feeds.describe(f)),
        feedSettings: b.feeds.settings,
      });
    const feedReply = feedControl(b, req, action, body);
    if (feedReply) return feedReply;
    if (key === "GET users") return done({ users: b.listUsers() });
    if (key === "POST users") return (b.addUser(body as Body<"POST users"> as FortigateApiUser), done());
    if (key === "POST addresses") return done(b.createAddress(vdom, fam, body));
    if (key === "DELETE addresses" || key === "POST delete-address") return done(b.deleteAddress(vdom, fam, String(body.name)));
    if (key === "POST groups") {
      const g = body as Body<"POST groups">;
      return done(b.createGroup(vdom, fam, g.name, g.members ?? [], g.comment ?? ""));
    }
    if (key === "DELETE groups") return done(b.deleteGroup(vdom, fam, String(body.name)));
    if (key === "POST members" || key === "DELETE members" || key === "POST remove-member") {
      const m = body as Body<"POST members">;
      let rev: object = {};
      for (const n of m.name) rev = key === "POST members" ? b.addMember(vdom, fam, m.group, n) : b.removeMember(vdom, fam, m.group, n);
      return done(rev);
    }
    if (key === "DELETE lockouts") return (b.clearLockouts(), done());
    if (key === "POST settings") {
      const bad = applyFeedSettings(b, body);
      if (bad) return failed(400, bad);
      if (typeof body.urlQueryToken === "boolean") b.urlQueryToken = body.urlQueryToken;
      if (body.repeatedMemberPost !== undefined) b.repeatedMemberPost = body.repeatedMemberPost as RepeatedMemberPost;
      return done({ urlQueryToken: b.acceptsQueryToken, repeatedMemberPost: b.repeatedMemberPost, feedSettings: b.feeds.settings });
    }
  } catch (e) {
    if (e instanceof CmdbError)
      return { status: e.httpStatus, json: { status: "error", http_status: e.httpStatus, error: e.code, message: e.cliError ?? e.message } };
    throw e;
  }
  return undefined;
}

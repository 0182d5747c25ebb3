/**
 * The JSON-RPC vocabulary the FortiManager emulator's route tables share (routes.ts for the system and
 * admin urls, proxy.ts for managed devices and /sys/proxy/json): a route row, what it is called with and
 * what it answers, and the status codes with their raw messages (docs/reference/fortimanager.md §3).
 * Its own module so that neither table imports the other.
 */
import type { FortimanagerBackend } from "./backend";
import type { EmulatedAdmin, EmulatedSession } from "./seed";

export type Status = { code: number; message: string };
/** `delayMs`: how long the answer waits (proxied devices that take their time, proxy.ts); never sent. */
export type ParamResult = { status: Status; url: unknown; data?: unknown; changed?: boolean; unhandled?: boolean; delayMs?: number };
export interface Caller {
  readonly admin: EmulatedAdmin;
  /** Absent for API-key callers. */
  readonly session?: EmulatedSession | undefined;
  readonly auth: "session" | "token";
}
export interface RouteCtx {
  readonly caller: Caller;
  readonly url: unknown;
  readonly match: RegExpMatchArray;
  readonly param: Record<string, unknown>;
  /** Top-level `verbose` of the request: names instead of numbers in `get` answers (JPF-001). */
  readonly verbose: boolean;
}
/** What a route needs beyond an authenticated caller with rpc-permit read or more. */
export type Privilege = "self" | "system-read" | "admin-read" | "super-write" | "proxy";
export interface Route {
  readonly methods: readonly string[];
  readonly url: RegExp;
  readonly privilege: Privilege;
  readonly handle: (b: FortimanagerBackend, ctx: RouteCtx, method: string) => ParamResult;
}

export const OK: Status = { code: 0, message: "OK" };
export const st = (code: number, message: string): Status => ({ code, message });
/** -11 covers no right, rpc-permit, bad session and bad token alike (reference §3a). */
export const NO_PERMISSION = st(-11, "No permission for the resource");
export const NOT_FOUND = st(-3, "Object does not exist");
export const INVALID_DATA = st(-10, "The data is invalid for selected url");
/** Raw messages of reference §3, for faults given by code only. */
export const MESSAGES: Readonly<Record<number, string>> = {
  [-2]: "Object already exists",
  [-3]: "Object does not exist",
  [-6]: "Invalid url",
  [-9]: "The command is invalid for selected url",
  [-10]: "The data is invalid for selected url",
  [-11]: "No permission for the resource",
  [-20055]: "Workspace is locked by other user",
  [-60804]: "Only super users can edit/create administrators",
  [-60805]: "Only super users can delete administrators",
};

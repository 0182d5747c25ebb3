/**
 * The library's error classes. Matching is done on `code`/`kind` or with {@link isFirewallGrantsError}, never
 * on `instanceof` alone: the Pulumi engine can load a second copy of this library from a serialised
 * provider, and an `instanceof` across the two copies is false (undici gives the same advice).
 */
import type { DiagnosisCode } from "./diagnosis-codes";

const BRAND = Symbol.for("pulumi-firewall-grants.error");

/** Base of every error this library throws; carries a brand that survives duplicate module copies. */
export class FirewallGrantsError extends Error {
  readonly [BRAND] = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** True for any error thrown by any copy of this library. */
export function isFirewallGrantsError(e: unknown): e is FirewallGrantsError {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

/** A request refused before it was sent, because a path segment would normalise away (empty, `.`, `..`). Nothing reached the device. */
export class UnsafePathError extends FirewallGrantsError {}

export type TransportErrorKind = "timeout" | "tls" | "refused" | "dns" | "reset" | "http";

/** A request that did not produce an acceptable HTTP answer. Holds no header, query or secret. */
export class TransportError extends FirewallGrantsError {
  readonly kind: TransportErrorKind;
  readonly method: string;
  /** Path without query string. */
  readonly path: string;
  readonly host: string;
  readonly status: number | undefined;
  /** Redacted, truncated response body (http kind only). */
  readonly bodyExcerpt: string | undefined;
  /**
   * True when a non-idempotent request may have reached the device before the failure (a reset or
   * timeout after the request was written): the caller must read back rather than repeat it.
   */
  readonly maybeApplied: boolean;
  constructor(init: {
    kind: TransportErrorKind;
    method: string;
    path: string;
    host: string;
    status?: number;
    bodyExcerpt?: string;
    maybeApplied?: boolean;
    detail: string;
    cause?: unknown;
  }) {
    super(`${init.method} ${init.path} on ${init.host}: ${init.detail}`, { cause: init.cause });
    this.kind = init.kind;
    this.method = init.method;
    this.path = init.path;
    this.host = init.host;
    this.status = init.status;
    this.bodyExcerpt = init.bodyExcerpt;
    this.maybeApplied = init.maybeApplied ?? false;
  }
}

export type DeviceErrorKind = "refused" | "schema";

/**
 * The device answered, but said no in its body (OPNsense `result: "failed"`, a FortiOS error code, a
 * FortiManager `status.code`), or answered in a shape we do not understand (`kind: "schema"`).
 */
export class DeviceError extends FirewallGrantsError {
  readonly kind: DeviceErrorKind;
  readonly operation: string;
  readonly host: string;
  readonly status: number | undefined;
  /** The device's own code (FortiOS `error`, FortiManager `status.code`), when it gave one. */
  readonly deviceCode: number | string | undefined;
  readonly deviceMessage: string;
  constructor(init: {
    kind: DeviceErrorKind;
    operation: string;
    host: string;
    status?: number;
    deviceCode?: number | string;
    deviceMessage: string;
    cause?: unknown;
  }) {
    super(`${init.operation} on ${init.host}: ${init.deviceMessage}`, { cause: init.cause });
    this.kind = init.kind;
    this.operation = init.operation;
    this.host = init.host;
    this.status = init.status;
    this.deviceCode = init.deviceCode;
    this.deviceMessage = init.deviceMessage;
  }
}

/** What the user sees: a diagnosis code, where it happened, what the device said and how to fix it. */
export class GrantError extends FirewallGrantsError {
  readonly code: DiagnosisCode;
  readonly host: string;
  readonly operation: string | undefined;
  readonly status: number | undefined;
  readonly deviceMessage: string | undefined;
  readonly title: string;
  readonly cause_: string;
  readonly fix: readonly string[];
  constructor(init: {
    code: DiagnosisCode;
    message: string;
    host: string;
    title: string;
    cause: string;
    fix: readonly string[];
    operation?: string;
    status?: number;
    deviceMessage?: string;
    error?: unknown;
  }) {
    super(init.message, { cause: init.error });
    this.code = init.code;
    this.host = init.host;
    this.title = init.title;
    this.cause_ = init.cause;
    this.fix = init.fix;
    this.operation = init.operation;
    this.status = init.status;
    this.deviceMessage = init.deviceMessage;
  }
}

/** Narrowing helpers that work across library copies. */
export function isTransportError(e: unknown): e is TransportError {
  return isFirewallGrantsError(e) && e.name === "TransportError";
}
export function isDeviceError(e: unknown): e is DeviceError {
  return isFirewallGrantsError(e) && e.name === "DeviceError";
}
export function isGrantError(e: unknown): e is GrantError {
  return isFirewallGrantsError(e) && e.name === "GrantError";
}

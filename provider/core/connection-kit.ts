/**
 * The part of a device connection that is the same on every device: how the TLS certificate is
 * verified and how long one request may take. Each device's `<Device>Connection` extends
 * {@link BaseConnection} with its URL and credentials, and spreads {@link baseConnectionFields} into
 * its connection schema (overriding a field where the device validates it differently).
 */
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { booleanSetting, setting } from "./dynamic-kit";
import { deviceOrigin, type SettingsNamespace } from "./settings";

/** Connection settings shared by all devices. Each may instead come from stack config `<device>:<key>` or env `<DEVICE>_<KEY>`. */
export interface BaseConnection {
  /** PEM of the CA to trust for the device's certificate (the CA that signed it). @default the system CAs */
  readonly caCert?: pulumi.Input<string>;
  /** Skip TLS verification (lab only). @default false */
  readonly insecure?: pulumi.Input<boolean>;
  /** Per-request timeout, in ms. @default 15000 */
  readonly timeoutMs?: pulumi.Input<number>;
  /** Accept an `http://` URL, which sends the credentials in clear (lab only). @default false */
  readonly allowHttp?: pulumi.Input<boolean>;
}

/** {@link BaseConnection} as the provider receives it: every Input resolved. */
export interface BaseConnectionValues {
  readonly caCert?: string | undefined;
  readonly insecure?: boolean | undefined;
  readonly timeoutMs?: number | undefined;
  readonly allowHttp?: boolean | undefined;
}

/** {@link BaseConnection} as the transport takes it, once inline values, stack config and environment are merged. */
export interface ResolvedBaseConnection {
  readonly caCert: string | undefined;
  readonly insecure: boolean;
  readonly timeoutMs: number | undefined;
}

/**
 * Resolves the shared settings of `device`: the inline value, else stack config `<device>:<key>`, else
 * env `<DEVICE>_<KEY>`. A timeout from config or env that is not a positive number is ignored (the
 * default applies), never passed on as NaN; an inline `insecure: false` wins over the environment.
 */
export function resolveBaseConnection(device: SettingsNamespace, inline: BaseConnectionValues | undefined): ResolvedBaseConnection {
  const fromText = (v: string | undefined) => {
    const n = Number(v);
    return v !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
  };
  return {
    caCert: setting(device, "caCert", inline?.caCert),
    insecure: inline?.insecure ?? booleanSetting(setting(device, "insecure", undefined)) ?? false,
    timeoutMs: inline?.timeoutMs ?? fromText(setting(device, "timeoutMs", undefined)),
  };
}

/** A string field checked by a rule function that answers the rule it breaks (names.ts style), as a zod field. @internal */
export const ruleField = (rule: (v: string) => string | undefined) =>
  z.string().superRefine((v, ctx) => {
    const p = rule(v);
    if (p) ctx.addIssue({ code: "custom", message: p });
  });

/** The fields of {@link BaseConnection} as `check` validates them. @internal */
export const baseConnectionFields = {
  caCert: z.string().optional(),
  insecure: z.boolean().optional(),
  timeoutMs: z.number().int().min(100).max(600_000).optional(),
  allowHttp: z.boolean().optional(),
};

/**
 * A connection `url`: `https://host[:port]` (or `http://` with `allowHttp`), optionally with a trailing
 * slash, and nothing else — no path, query, fragment, user info or whitespace, so an input can never
 * steer a request elsewhere. The scheme is checked against `allowHttp` when the device is pinned
 * (settings.ts `resolveDeviceUrl`), because `allowHttp` may come from config or the environment.
 * @internal
 */
export const hostUrlField = z
  .string()
  .superRefine((v, ctx) => {
    const r = deviceOrigin(v, true);
    if (!r.ok) ctx.addIssue({ code: "custom", message: r.rule });
  })
  .optional();

/** Shared set-up for the OPNsense tests: an emulator with one user per privilege set. */
import { Agent, request } from "undici";
import { CONFIG_MODE_TIMING } from "../../provider/devices/opnsense/alias-batcher";
import type { EmulatedUser } from "../../emulators/opnsense/emulator";

export const SECRET = "s3cr3t-Value-Never-Shown-0123456789";

const user = (name: string, privileges: string[], extra: Partial<EmulatedUser> = {}): EmulatedUser => ({
  name,
  key: `key-${name}`,
  secret: `${SECRET}-${name}`,
  privileges,
  disabled: false,
  ...extra,
});

export const USERS = {
  admin: user("admin", ["page-all"]),
  tables: user("tables", ["page-diagnostics-tables"]),
  tablesRead: user("tablesread", ["page-diagnostics-tables", "page-firewall-aliases"]),
  edit: user("edit", ["page-firewall-alias-edit"]),
  read: user("read", ["page-firewall-aliases"]),
  none: user("none", []),
  readonly: user("readonly", ["page-all", "user-config-readonly"]),
  disabled: user("disabled", ["page-all"], { disabled: true }),
} as const;

export type UserName = keyof typeof USERS;

/** Connection inputs (non-secret part) and credentials for a provider call. */
export function connFor(url: string, caCert: string, who: UserName, extra: Record<string, unknown> = {}) {
  return {
    connection: { url, caCert, ...extra },
    credentials: { apiKey: USERS[who].key, apiSecret: USERS[who].secret },
  };
}

/** A raw HTTPS request to the emulator (for the emulator's own tests). */
export async function raw(
  url: string,
  caCert: string,
  method: string,
  path: string,
  opts: { who?: UserName; body?: unknown; rawBody?: string; contentType?: string; auth?: string } = {},
): Promise<{ status: number; text: string; json: unknown }> {
  const headers: Record<string, string> = {};
  if (opts.who) headers.authorization = `Basic ${Buffer.from(`${USERS[opts.who].key}:${USERS[opts.who].secret}`).toString("base64")}`;
  if (opts.auth !== undefined) headers.authorization = opts.auth;
  let body: string | undefined;
  if (opts.body !== undefined || opts.rawBody !== undefined) {
    body = opts.rawBody ?? JSON.stringify(opts.body);
    headers["content-type"] = opts.contentType ?? "application/json";
  }
  const res = await request(`${url}${path}`, { method: method as "GET", headers, body, dispatcher: agent(caCert) });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, text, json };
}

let cached: Agent | undefined;
function agent(ca: string): Agent {
  cached ??= new Agent({ connect: { ca } });
  return cached;
}
export async function closeRawAgent(): Promise<void> {
  await cached?.close();
  cached = undefined;
}

/**
 * Config-mode verify timing for a suite against the local emulator (answers in milliseconds, so a
 * short settle still exceeds every read→write window): restores the defaults afterwards.
 */
export function fastConfigTiming(timing: Partial<typeof CONFIG_MODE_TIMING> = { windowMs: 200, settleMs: 150 }): void {
  const saved = { ...CONFIG_MODE_TIMING };
  beforeAll(() => void Object.assign(CONFIG_MODE_TIMING, timing));
  afterAll(() => void Object.assign(CONFIG_MODE_TIMING, saved));
}

/**
 * The FortiManager JSON-RPC envelope: one `POST /jsonrpc`, `params` a list, a `result` list parallel
 * to it, each entry carrying `status: {code, message}`. The body's status code is the truth; the HTTP
 * status "does not generally relate to the result of the API call" (KB221089), so an error envelope
 * is read under any HTTP status. Success is stricter (issue 9: a captive portal's HTML 200, a proxy's
 * 200 or a server answering 404 to everything is never success): the body must be JSON with exactly
 * one `result` entry per param, whose integer `status.code` is 0, that echoes our `id` and `url`
 * when it carries them (FMG echoes both, JPF-001), under HTTP 200. Anything else is a transport or
 * shape error, which the client diagnoses (202090 "answered unexpectedly", never a success).
 */
import { z } from "zod";
import { DeviceError } from "../../core/errors";
import { assertSafePath, type Transport } from "../../core/transport";

/** The only HTTP path FortiManager's JSON-RPC API uses (reference §1). */
export const JSONRPC_PATH = "/jsonrpc";

export type RpcMethod = "get" | "set" | "add" | "update" | "delete" | "exec";

export const RpcStatusSchema = z.object({ code: z.number().int(), message: z.string().catch("") });

export const RpcResultSchema = z.object({
  status: RpcStatusSchema,
  url: z.string().optional(),
  data: z.unknown().optional(),
});
export type RpcResult = z.infer<typeof RpcResultSchema>;

/**
 * Wire shape: `{"id":1,"result":[{"status":{"code":0,"message":"OK"},"url":"..."}],"session":"..."}`.
 * `session` is the login's string on a login answer and an integer session number on later answers
 * (JPF-001); we keep only the string form.
 */
export const RpcEnvelopeSchema = z.object({
  id: z.unknown().optional(),
  result: z.array(RpcResultSchema).min(1),
  session: z
    .union([z.string(), z.number()])
    .optional()
    .transform((s) => (typeof s === "string" ? s : undefined)),
});
export type RpcEnvelope = z.infer<typeof RpcEnvelopeSchema>;

export interface RpcCall {
  readonly method: RpcMethod;
  /** JSON-RPC url, e.g. `/cli/global/system/admin/user/alice`. */
  readonly url: string;
  readonly data?: unknown;
  /** Extra params beside `url` (`fields`, `filter`, …). */
  readonly extra?: Readonly<Record<string, unknown>>;
  /** Login session string; absent for API-key auth (the Bearer header is the transport's). */
  readonly session?: string | undefined;
  /** True for reads: the transport may repeat it after a reset or timeout. */
  readonly idempotent: boolean;
}

let nextId = 1;

/** One JSON-RPC request; answers the envelope whatever its status code (the caller interprets it). */
export async function rpc(transport: Transport, call: RpcCall): Promise<{ envelope: RpcEnvelope; result: RpcResult; httpStatus: number }> {
  // The object url travels in the body, where the transport's path check cannot see it; FMG resolves it like a path.
  assertSafePath(call.url, `${call.method} ${call.url.split("/").slice(0, 3).join("/")} on ${transport.host}`);
  const param: Record<string, unknown> = { url: call.url, ...call.extra };
  if (call.data !== undefined) param.data = call.data;
  const body: Record<string, unknown> = { id: nextId++, method: call.method, params: [param], verbose: 1 };
  if (call.session !== undefined) body.session = call.session;
  const req = { method: "POST" as const, path: JSONRPC_PATH, body, idempotent: call.idempotent };
  const res = await transport.send(req);
  // HTTP 5xx/4xx with no envelope is a transport matter; an error envelope under any status is the answer.
  let envelope: RpcEnvelope;
  try {
    envelope = transport.parse(req, res, RpcEnvelopeSchema);
  } catch (e) {
    if (res.status !== 200) throw transport.httpError(req, res);
    throw e;
  }
  // A login answer's session string is a credential from now on: redacted from every later error.
  if (envelope.session !== undefined) transport.addSecret(envelope.session);
  const result = envelope.result[0]!;
  const mismatch = envelopeMismatch(envelope, body.id, call.url);
  if (mismatch !== undefined) {
    throw new DeviceError({
      kind: "schema",
      operation: `POST ${JSONRPC_PATH}`,
      host: transport.host,
      status: res.status,
      deviceMessage: `not the answer to this request: ${mismatch}`,
    });
  }
  // A success claimed under a non-200 status is not taken: FMG answers 200 for every JSON-RPC call
  // (reference §10), and a 404-everything server that happens to speak JSON must not pass.
  if (result.status.code === 0 && res.status !== 200) throw transport.httpError(req, res);
  return { envelope, result, httpStatus: res.status };
}

/** Why an envelope cannot be the answer to this one-param request (undefined when it can). */
export function envelopeMismatch(envelope: RpcEnvelope, id: unknown, url: string): string | undefined {
  if (envelope.result.length !== 1) return `${envelope.result.length} result entries for 1 param`;
  if (envelope.id !== undefined && envelope.id !== null && envelope.id !== id) return "the answer's id is not the request's";
  const echoed = envelope.result[0]!.url;
  if (echoed !== undefined && normaliseUrl(echoed) !== normaliseUrl(url)) return "the answer's url is not the request's";
  return undefined;
}

/** FMG echoes the url as given; a leading `/` is optional on input (JPF-001) and `/` may come back escaped. */
function normaliseUrl(u: string): string {
  return u.replace(/^\//, "");
}

/** Escapes `/` in an object name as `\/` (reference §2: an unescaped `/` gives -3). */
export function mkey(name: string): string {
  return name.replace(/\//g, "\\/");
}

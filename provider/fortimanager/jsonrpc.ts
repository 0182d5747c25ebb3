/**
 * The FortiManager JSON-RPC envelope: one `POST /jsonrpc`, `params` a list, a `result` list parallel
 * to it, each entry carrying `status: {code, message}`. The body's status code is the truth; the HTTP
 * status "does not generally relate to the result of the API call" (KB221089), so any HTTP status
 * with a parseable envelope is accepted and anything else is a transport/shape error.
 */
import { z } from "zod";
import type { Transport } from "../transport";

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
  const param: Record<string, unknown> = { url: call.url, ...call.extra };
  if (call.data !== undefined) param.data = call.data;
  const body: Record<string, unknown> = { id: nextId++, method: call.method, params: [param], verbose: 1 };
  if (call.session !== undefined) body.session = call.session;
  const req = { method: "POST" as const, path: JSONRPC_PATH, body, idempotent: call.idempotent };
  const res = await transport.send(req);
  // HTTP 5xx/4xx with no envelope is a transport matter; an envelope under any status is the answer.
  let envelope: RpcEnvelope;
  try {
    envelope = transport.parse(req, res, RpcEnvelopeSchema);
  } catch (e) {
    if (res.status !== 200) throw transport.httpError(req, res);
    throw e;
  }
  // A login answer's session string is a credential from now on: redacted from every later error.
  if (envelope.session !== undefined) transport.addSecret(envelope.session);
  return { envelope, result: envelope.result[0]!, httpStatus: res.status };
}

/** Escapes `/` in an object name as `\/` (reference §2: an unescaped `/` gives -3). */
export function mkey(name: string): string {
  return name.replace(/\//g, "\\/");
}

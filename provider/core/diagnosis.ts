/**
 * Turns what went wrong into a user-facing {@link GrantError}: code + title + host, the cause that
 * fits this observation, then numbered fixes (SPEC §5). Messages are built only from the fields
 * named here, never from a request object, so no header, query string or secret can reach them.
 */
import { CATALOGUE, DIAGNOSIS_FAMILIES, type DeviceFamily, type DiagnosisCode, type DiagnosisFamily } from "./diagnosis-codes";
import { GrantError, isDeviceError, isGrantError, isTransportError, type TransportError } from "./errors";

export { CATALOGUE, DIAGNOSIS_CODES, DIAGNOSIS_FAMILIES, type DiagnosisCode, type DeviceFamily, type DiagnosisFamily } from "./diagnosis-codes";

export interface DiagnosisContext {
  /** Device host (never a URL with credentials). */
  readonly host: string;
  /** One sentence on what was observed, e.g. "the API key is valid but its user may not call …". */
  readonly detail: string;
  /** "METHOD /path" that failed, without query string. */
  readonly operation?: string;
  readonly status?: number;
  readonly deviceMessage?: string;
  /** Values for the catalogue's `{placeholders}`. */
  readonly vars?: Readonly<Record<string, string | number | undefined>>;
  readonly error?: unknown;
}

const DEVICE_MESSAGE_MAX = 300;

function fill(template: string, vars: DiagnosisContext["vars"]): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => {
    const v = vars?.[key];
    return v === undefined ? "(unknown)" : String(v);
  });
}

/** Builds the error for `code` in this context; its message is {@link formatDiagnosis}'s text. */
export function diagnose(code: DiagnosisCode, ctx: DiagnosisContext): GrantError {
  const entry = CATALOGUE[code];
  const cause = fill(entry.cause, ctx.vars);
  const fix = entry.fix.map((f) => fill(f, ctx.vars)).filter((f) => f.trim() !== "" && f !== "(unknown)");
  const deviceMessage = ctx.deviceMessage?.slice(0, DEVICE_MESSAGE_MAX);
  return new GrantError({
    code,
    host: ctx.host,
    title: entry.title,
    cause,
    fix,
    message: formatDiagnosis({ code, title: entry.title, host: ctx.host, detail: ctx.detail, status: ctx.status, deviceMessage, cause, fix }),
    ...(ctx.operation !== undefined && { operation: ctx.operation }),
    ...(ctx.status !== undefined && { status: ctx.status }),
    ...(deviceMessage !== undefined && { deviceMessage }),
    error: ctx.error,
  });
}

/** The SPEC §5 text: one line of code + title + host + detail, then the cause, then numbered fixes. */
export function formatDiagnosis(d: {
  code: DiagnosisCode;
  title: string;
  host: string;
  detail: string;
  status?: number | undefined;
  deviceMessage?: string | undefined;
  cause: string;
  fix: readonly string[];
}): string {
  let first = `${d.code} ${d.title} on ${d.host}: ${d.detail.replace(/\.$/, "")}`;
  if (d.status !== undefined && !first.includes(`HTTP ${d.status}`)) first += ` (HTTP ${d.status})`;
  first += ".";
  const lines = [first];
  if (d.deviceMessage) lines.push(`Device said: ${JSON.stringify(d.deviceMessage)}`);
  lines.push(`Cause: ${d.cause}`);
  lines.push("Fix:");
  d.fix.forEach((f, i) => lines.push(`  ${i + 1}. ${f}`));
  return lines.join("\n");
}

/** The families, typed so that the compiler proves each of their codes is a row of the catalogue. */
const FAMILIES: Readonly<Record<DeviceFamily, DiagnosisFamily<DiagnosisCode>>> = DIAGNOSIS_FAMILIES;

/** The code for a low-level failure (DNS, refused, TLS, timeout); HTTP statuses are the client's to map. */
export function classifyTransport(err: TransportError, family: DeviceFamily): DiagnosisCode {
  return FAMILIES[family].transport[err.kind];
}

const TRANSPORT_DETAIL: Record<TransportError["kind"], string> = {
  timeout: "no answer within the timeout",
  tls: "the TLS certificate could not be verified",
  refused: "the connection was refused",
  reset: "the connection was reset before an answer arrived",
  dns: "the host name does not resolve",
  http: "unexpected HTTP answer",
};

/**
 * The last resort for any error that a client did not already diagnose: keeps a {@link GrantError},
 * classifies a transport failure, and reports anything else as an unexpected answer.
 */
export function toGrantError(e: unknown, family: DeviceFamily, ctx: { host: string; timeoutMs?: number }): GrantError {
  if (isGrantError(e)) return e;
  const unexpected: DiagnosisCode = FAMILIES[family].unexpected;
  if (isTransportError(e)) {
    const code = classifyTransport(e, family);
    return diagnose(code, {
      host: e.host,
      detail: `${TRANSPORT_DETAIL[e.kind]} for ${e.method} ${e.path}`,
      operation: `${e.method} ${e.path}`,
      ...(e.status !== undefined && { status: e.status }),
      ...(e.bodyExcerpt !== undefined && { deviceMessage: e.bodyExcerpt }),
      vars: { timeoutMs: ctx.timeoutMs, tlsReason: tlsReasonOf(e) },
      error: e,
    });
  }
  if (isDeviceError(e)) {
    return diagnose(unexpected, {
      host: e.host,
      detail: `${e.operation} was answered with something this library does not understand`,
      operation: e.operation,
      ...(e.status !== undefined && { status: e.status }),
      deviceMessage: e.deviceMessage,
      error: e,
    });
  }
  const message = e instanceof Error ? e.message : String(e);
  return diagnose(unexpected, { host: ctx.host, detail: `unexpected failure: ${message}`, error: e });
}

/**
 * Runs `fn`; whatever it throws that is not a diagnosis yet becomes one ({@link toGrantError}). The
 * last resort around every provider method, so no device method ever reaches the engine undiagnosed.
 */
export async function diagnosed<T>(family: DeviceFamily, ctx: { host: string; timeoutMs?: number | undefined }, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toGrantError(e, family, { host: ctx.host, ...(ctx.timeoutMs !== undefined && { timeoutMs: ctx.timeoutMs }) });
  }
}

/** `host[:port]` of a connection URL, for messages: never the URL itself, which could carry user info. */
export function hostOfUrl(url: string | undefined): string {
  try {
    return url ? new URL(url).host : "(no url)";
  } catch {
    return "(invalid url)";
  }
}

function tlsReasonOf(e: TransportError): string {
  const cause = e.cause as { code?: unknown } | undefined;
  return typeof cause?.code === "string" ? cause.code : "certificate not trusted";
}

/** The README's code table, generated from the catalogue (a test keeps the README equal to it). */
export function renderCodeTable(): string {
  // Integer-like keys ("202000") enumerate before "OPN000"; list the families in their declared order, as the SPEC does.
  const order = Object.keys(FAMILIES);
  const rank = (f: DeviceFamily) => order.indexOf(f);
  const entries = Object.entries(CATALOGUE).sort(([a, x], [b, y]) => (x.family === y.family ? a.localeCompare(b) : rank(x.family) - rank(y.family)));
  const rows = entries.map(([code, e]) => {
    const cause = e.cause.replace(/\{(\w+)\}/g, "‹$1›").replace(/\|/g, "\\|");
    return `| ${code} | ${FAMILIES[e.family].displayName} | ${e.title}${"ours" in e && e.ours ? " *(ours)*" : ""} | ${cause} |`;
  });
  return ["| Code | Device | Title | Cause |", "|---|---|---|---|", ...rows].join("\n");
}

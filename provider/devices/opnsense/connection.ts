/**
 * Resolves an OPNsense connection at call time, inside the provider: inline value, else stack config
 * `opnsense:<key>`, else environment `OPNSENSE_<KEY>`; the key file (the ini OPNsense downloads:
 * `key=…`, `secret=…`) is read here, so neither its path's content nor the secret lands in state.
 */
import { readFileSync } from "node:fs";
import { parse as parseIni } from "ini";
import { resolveBaseConnection } from "../../core/connection-kit";
import { setting } from "../../core/dynamic-kit";
import { settingPlaces } from "../../core/settings";
import { OpnsenseClient } from "./client";

/** The non-secret part of a connection, as stored in inputs and state. */
export interface ConnectionInputs {
  url?: string | undefined;
  apiKeyFile?: string | undefined;
  caCert?: string | undefined;
  insecure?: boolean | undefined;
  timeoutMs?: number | undefined;
}

/** The secret part, stored as a Pulumi secret (only when given inline). */
export interface CredentialInputs {
  apiKey?: string | undefined;
  apiSecret?: string | undefined;
}

export interface ResolvedConnection {
  readonly url: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly caCert: string | undefined;
  readonly insecure: boolean;
  readonly timeoutMs: number | undefined;
}

/** What is missing, named without any value (never a secret). */
export class ConnectionProblem extends Error {
  constructor(
    readonly property: string,
    reason: string,
  ) {
    super(reason);
  }
}

export function resolveConnection(conn: ConnectionInputs | undefined, creds: CredentialInputs | undefined): ResolvedConnection {
  const url = setting("opnsense", "url", conn?.url);
  if (!url) throw new ConnectionProblem("connection.url", `required: set ${settingPlaces("opnsense", "url")}`);
  let apiKey = setting("opnsense", "apiKey", creds?.apiKey);
  let apiSecret = setting("opnsense", "apiSecret", creds?.apiSecret);
  const keyFile = setting("opnsense", "apiKeyFile", conn?.apiKeyFile);
  if ((!apiKey || !apiSecret) && keyFile) {
    let text: string;
    try {
      text = readFileSync(keyFile, "utf8");
    } catch (e) {
      throw new ConnectionProblem("connection.apiKeyFile", `cannot read the key file (${(e as { code?: string }).code ?? "error"})`);
    }
    const ini = parseIni(text) as Record<string, unknown>;
    apiKey ||= typeof ini.key === "string" ? ini.key.trim() : undefined;
    apiSecret ||= typeof ini.secret === "string" ? ini.secret.trim() : undefined;
    if (!apiKey || !apiSecret)
      throw new ConnectionProblem("connection.apiKeyFile", "the key file must hold key=… and secret=… lines (the file OPNsense downloads)");
  }
  if (!apiKey || !apiSecret) {
    throw new ConnectionProblem(
      "",
      `OPNsense credentials missing: give apiKey and apiSecret (${settingPlaces("opnsense", "apiKey", "credentials.apiKey")}; ${settingPlaces("opnsense", "apiSecret", "credentials.apiSecret")}), or a key file (${settingPlaces("opnsense", "apiKeyFile")})`,
    );
  }
  return { url, apiKey, apiSecret, ...resolveBaseConnection("opnsense", conn) };
}

export function clientFor(c: ResolvedConnection): OpnsenseClient {
  return new OpnsenseClient(c);
}

/**
 * Toy Firewall's API, one device verb per method; each path a const (STYLE.md "Naming"), so a grep
 * finds the client, the emulator route and the reference doc together. Every request goes through the
 * shared transport (provider/core/transport.ts: retries of idempotent requests, timeouts, redaction of
 * the token from every error), and every answer is parsed with zod at the call site.
 * TODO(new-device): the real paths and answers, citing the device source each fact comes from.
 */
import { z } from "zod";
import type { DeviceFamily } from "../../core/diagnosis-codes";
import { devicePath, Transport, type TransportRequest } from "../../core/transport";

/**
 * The diagnosis family (provider/core/diagnosis-codes.ts DIAGNOSIS_FAMILIES) this device's failures are
 * told in. The template borrows OPNsense's, so a transport failure reads "OPNsense request timed out".
 * TODO(new-device): a new vendor adds its own family (display name, transport codes, last-resort code)
 * and its codes to CATALOGUE in that file, and names it here.
 */
export const TOYFW_DIAGNOSIS_FAMILY: DeviceFamily = "opnsense";

export const TOYFW_STATUS_PATH = "/api/status";
export const TOYFW_LISTS_PATH = "/api/lists";

export interface ToyfwClientOptions {
  readonly url: string;
  readonly token: string;
  readonly caCert: string | undefined;
  readonly insecure: boolean;
  readonly timeoutMs: number | undefined;
}

const StatusAnswer = z.object({ status: z.string() });
const ListAnswer = z.object({ entries: z.array(z.string()) });
const OkAnswer = z.object({ status: z.literal("ok") });

export class ToyfwClient {
  private readonly transport: Transport;
  constructor(readonly opts: ToyfwClientOptions) {
    this.transport = new Transport({
      baseUrl: opts.url,
      caCert: opts.caCert,
      insecure: opts.insecure,
      timeoutMs: opts.timeoutMs,
      headers: { authorization: `Bearer ${opts.token}` },
      secrets: [opts.token],
    });
  }

  get host(): string {
    return this.transport.host;
  }

  /** Side-effect free: proves the token. */
  async status(): Promise<void> {
    await this.transport.json({ method: "GET", path: TOYFW_STATUS_PATH, idempotent: true }, StatusAnswer);
  }

  /** The list's entries; undefined when the device has no such list. */
  async listEntries(list: string): Promise<string[] | undefined> {
    const req: TransportRequest = { method: "GET", path: devicePath(TOYFW_LISTS_PATH, list), idempotent: true };
    const res = await this.transport.send(req);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw this.transport.httpError(req, res);
    return this.transport.parse(req, res, ListAnswer).entries;
  }

  /** Adding an address the list holds already is success (the emulator answers 200 either way). */
  async addEntry(list: string, address: string): Promise<void> {
    await this.transport.json({ method: "POST", path: devicePath(TOYFW_LISTS_PATH, list, "entries"), body: { address }, idempotent: true }, OkAnswer);
  }

  /** Gone is success. */
  async removeEntry(list: string, address: string): Promise<void> {
    const req: TransportRequest = { method: "DELETE", path: devicePath(TOYFW_LISTS_PATH, list, "entries", address), idempotent: true };
    const res = await this.transport.send(req);
    if (res.status === 404) return;
    if (res.status !== 200) throw this.transport.httpError(req, res);
    this.transport.parse(req, res, OkAnswer);
  }
}

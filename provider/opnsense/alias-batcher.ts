/**
 * Config-mode writes, per alias: adds and removes that arrive together (Pulumi runs up to
 * `--parallel` grants at once in one provider process) are merged into ONE get_item + set_item, and
 * each batch ends with ONE reconfigure. Batches of one alias never overlap, so no read-modify-write
 * loses another's change (set_item has no version check, shared/reference/opnsense.md §3). The
 * batchers live on `globalThis` (process-state `shared`) so every copy of the library uses the same.
 */
import { normaliseDeviceAddress } from "../address";
import { shared } from "../process-state";
import type { OpnsenseClient } from "./client";

export interface ContentOp {
  readonly kind: "add" | "remove";
  /** Canonical address as it is written into the alias content. */
  readonly address: string;
}

export interface ContentOpResult {
  /** The address was in the content before this batch applied the op. */
  readonly wasPresent: boolean;
}

interface Queued extends ContentOp {
  resolve(r: ContentOpResult): void;
  reject(e: unknown): void;
}

/** How long the first queued op waits for others before the batch runs. @default 25 */
export const BATCH_WINDOW_MS = 25;

const cidrOf = (line: string) => normaliseDeviceAddress(line)?.cidr;

class AliasBatcher {
  private pending: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Batches run so far (each one get_item, at most one set_item and one reconfigure). */
  batches = 0;

  constructor(
    private readonly client: OpnsenseClient,
    private readonly uuid: string,
    private readonly alias: string,
  ) {}

  submit(op: ContentOp): Promise<ContentOpResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ...op, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.timer || this.pending.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, BATCH_WINDOW_MS);
  }

  private async run(): Promise<void> {
    this.running = true;
    const ops = this.pending;
    this.pending = [];
    this.batches++;
    try {
      const item = await this.client.getItem(this.uuid);
      let lines = [...item.content];
      const results: ContentOpResult[] = [];
      let changed = false;
      for (const op of ops) {
        const cidr = cidrOf(op.address);
        const present = lines.some((l) => cidrOf(l) === cidr);
        results.push({ wasPresent: present });
        if (op.kind === "add" && !present) {
          lines.push(op.address);
          changed = true;
        } else if (op.kind === "remove" && present) {
          lines = lines.filter((l) => cidrOf(l) !== cidr);
          changed = true;
        }
      }
      if (changed) {
        await this.client.setItemContent(this.uuid, this.alias, lines);
        await this.client.reconfigure();
      }
      ops.forEach((op, i) => op.resolve(results[i]!));
    } catch (e) {
      for (const op of ops) op.reject(e);
    } finally {
      this.running = false;
      this.schedule();
    }
  }
}

/**
 * Applies `op` to the alias content through the process-wide batcher of (`key`, alias). `key` must
 * identify device and credential (a fingerprint), so batches never mix credentials.
 */
export function submitContentOp(key: string, client: OpnsenseClient, uuid: string, alias: string, op: ContentOp): Promise<ContentOpResult> {
  const batchers = shared("opnsense.alias-batchers", () => new Map<string, AliasBatcher>());
  let b = batchers.get(key);
  if (!b) {
    b = new AliasBatcher(client, uuid, alias);
    batchers.set(key, b);
  }
  return b.submit(op);
}

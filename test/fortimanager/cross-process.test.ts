/**
 * Issue 9 item 6: two (or three) processes granting on one FortiManager administrator at once. Each
 * child (cross-process-child.js) runs the BUILT library (dist/, built by `npm test`) as a second
 * `pulumi up` would, against one emulator. Before the slot protection of trusted-hosts.ts, 2 × 4
 * grants lost 5–8 of 80 silently and failed 21–23 more (10 trials); the final admin record must now
 * hold every address exactly once, slot 1 untouched, nothing else written.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { useEmulator } from "../support/emulator";

const DIST = path.join(__dirname, "..", "..", "dist");
const CHILD = path.join(__dirname, "cross-process-child.js");
const emu = useEmulator(() => startFortimanagerEmulator({ latencyMs: 5 }));

interface ChildResult {
  readonly address: string;
  readonly ok: boolean;
  readonly slot?: string;
  readonly lostRounds?: number;
  readonly code?: string;
}

function child(addresses: readonly string[], startAt: number, auth: "token" | "session"): Promise<ChildResult[]> {
  const cfg = {
    dist: DIST,
    url: emu.url,
    caCert: emu.caCert,
    ...(auth === "token" ? { token: DEFAULT_CREDENTIALS.apiKey } : { username: "admin", password: DEFAULT_CREDENTIALS.adminPassword }),
    adminUser: "bob",
    op: "grant",
    addresses,
    startAt,
  };
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CHILD], { env: { ...process.env, FMG_CHILD: JSON.stringify(cfg) }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("close", (code) =>
      code === 0
        ? resolve((JSON.parse(out.trim().split("\n").pop()!) as { results: ChildResult[] }).results)
        : reject(new Error(`child exited ${code}: ${err.slice(0, 500)}`)),
    );
  });
}

const totals = { trials: 0, grants: 0, lost: 0, failed: 0, lostRounds: 0, requests: 0 };

describe("FortiManager: concurrent processes on one administrator", () => {
  beforeAll(() => {
    if (!existsSync(path.join(DIST, "provider", "devices", "fortimanager", "trusted-hosts.js")))
      throw new Error("dist/ is missing: run `npm run build` (npm test does)");
  });
  afterAll(() => {
    console.log(`cross-process: ${JSON.stringify({ ...totals, requestsPerGrant: +(totals.requests / totals.grants).toFixed(2) })}`);
  });

  const shapes: readonly (readonly [procs: number, perProc: number, auth: "token" | "session"])[] = [
    [2, 4, "token"],
    [2, 4, "session"],
    [3, 3, "token"],
    [2, 4, "token"],
    [3, 3, "session"],
  ];
  it.each(shapes.map((s, i) => [i + 1, ...s] as const))(
    "trial %i: %i processes × %i grants (%s): every address once, slot 1 untouched",
    async (trial, procs, perProc, auth) => {
      const before = emu.log.count();
      const startAt = Date.now() + 700; // every child starts at the same instant
      const plan = Array.from({ length: procs }, (_, p) => Array.from({ length: perProc }, (_, i) => `198.51.${100 + p}.${10 * trial + i}`));
      const outs = await Promise.all(plan.map((addresses) => child(addresses, startAt, auth)));
      const slots = emu.backend.admins.get("bob")!.slots;
      const held = Object.entries(slots)
        .filter(([k]) => /^trusthost\d+$/.test(k))
        .map(([k, v]) => [k, (v as string[])[0]] as const);
      const results = outs.flat();
      totals.trials++;
      totals.grants += results.length;
      totals.requests += emu.log.count() - before;
      totals.failed += results.filter((r) => !r.ok).length;
      totals.lost += results.filter((r) => r.ok && !held.some(([, ip]) => ip === r.address)).length;
      totals.lostRounds += results.reduce((n, r) => n + (r.lostRounds ?? 0), 0);
      expect(results.filter((r) => !r.ok)).toEqual([]);
      expect(slots.trusthost1).toEqual(["0.0.0.0", "0.0.0.0"]);
      // every address exactly once, in the slot its grant reported; nothing else in slots 2..10
      const granted = plan.flat().sort();
      expect(
        held
          .filter(([k]) => k !== "trusthost1")
          .map(([, ip]) => ip)
          .filter((ip) => ip !== "255.255.255.255")
          .sort(),
      ).toEqual(granted);
      for (const r of results) expect(held.find(([k]) => k === r.slot)?.[1]).toBe(r.address);
      for (let n = 1; n <= 10; n++) expect(slots[`ipv6_trusthost${n}`]).toBe(n === 1 ? "::/0" : "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
    },
  );
});

/**
 * Issue 22: the cheaper in-place change of an `OpnsenseAliasSet` (one probe at preview, the alias uuid taken from
 * state, no second preflight) keeps config mode's cross-process protection. Two REAL separate processes — two CI
 * jobs, two stacks — each change their own set on ONE alias at the same moment, each adding 5 addresses and
 * removing one it listed before; set_item replaces the whole content, so without the batcher's verify-and-repair
 * one write drops the other's adds or brings its removal back. Asserted exactly per trial: both sets' lists held,
 * both removed addresses gone, every change reported successful. The children load the BUILT package (dist/).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { opnsenseAliasSetProvider as provider, type AliasSetOutputs } from "../../provider/devices/opnsense/set-resource";
import { resetProcessState } from "../../provider/core/process-state";
import { useEmulator } from "../support/emulator";
import { connFor, USERS } from "../opnsense/helpers";

const DIST = resolve(join(__dirname, "..", "..", "dist"));
const TRIALS = 2;

const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS), reconfigureLatencyMs: 150, latencyMs: 30 }));

/** The child: `check` as the update's provider process does (olds = the state), says ready, waits for go, runs the update. */
const CHILD = String.raw`
const job = JSON.parse(process.env.SET_XPROC_JOB);
const { opnsenseAliasSetProvider: p } = require(job.dist + "/provider/devices/opnsense/set-resource.js");
(async () => {
  const c = await p.check(job.olds, job.news);
  if (c.failures && c.failures.length) throw new Error(JSON.stringify(c.failures));
  process.stdout.write("ready\n");
  process.stdin.once("data", async () => {
    await new Promise((r) => setTimeout(r, Math.random() * 40));
    try {
      await p.update("id", job.olds, c.inputs);
      process.stdout.write(JSON.stringify({ ok: true }) + "\n");
    } catch (e) {
      process.stdout.write(JSON.stringify({ ok: false, error: String((e && e.message) || e).split("\n")[0] }) + "\n");
    }
    process.exit(0);
  });
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

function child(job: Record<string, unknown>) {
  const c = spawn(process.execPath, ["-e", CHILD], { env: { ...process.env, SET_XPROC_JOB: JSON.stringify(job) }, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  c.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (out.includes("ready\n")) onReady();
  });
  c.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ ok: boolean; error?: string }>((res, rej) =>
    c.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (code !== 0 || !line) rej(new Error(`child exited ${code}: ${err.slice(0, 2000)}`));
      else res(JSON.parse(line) as { ok: boolean; error?: string });
    }),
  );
  return { c, ready, done };
}

const listOf = (set: number, trial: number, from: number, n: number) => Array.from({ length: n }, (_, i) => `10.${60 + set}.${trial}.${from + i}`);

describe("OpnsenseAliasSet, config mode: two separate processes changing sets on one alias", () => {
  beforeAll(() => {
    if (!existsSync(join(DIST, "provider", "devices", "opnsense", "set-resource.js")))
      throw new Error(`no built provider under ${DIST}: run \`npm run build\``);
  });

  it(`loses no add and resurrects no removal, each change reported successful (${TRIALS} trials)`, async () => {
    for (let trial = 1; trial <= TRIALS; trial++) {
      const inputs = (set: number, addresses: string[]) =>
        ({ ...connFor(emu.url, emu.caCert, "admin"), alias: "jit_admins", method: "config", addresses, grantName: `set${set}` }) as never;
      // Both sets as an earlier run left them (created one after the other).
      const olds: AliasSetOutputs[] = [];
      for (const set of [1, 2]) {
        resetProcessState();
        const c = await provider.check({}, inputs(set, listOf(set, trial, 1, 3)));
        olds.push((await provider.create(c.inputs!)).outs);
      }
      // Each process: drop the first address, add five.
      const news = [1, 2].map((set) => [...listOf(set, trial, 2, 2), ...listOf(set, trial, 10, 5)]);
      const kids = [0, 1].map((i) => child({ dist: DIST, olds: olds[i], news: inputs(i + 1, news[i]!) }));
      try {
        await Promise.all(kids.map((k) => k.ready));
        for (const k of kids) k.c.stdin.write("go\n");
        const results = await Promise.all(kids.map((k) => k.done));
        expect(results).toEqual([{ ok: true }, { ok: true }]);
      } finally {
        for (const k of kids) if (k.c.exitCode === null) k.c.kill();
      }
      const held = new Set(emu.backend.configContent("jit_admins").map((l) => l.replace("/32", "")));
      for (const a of [...news[0]!, ...news[1]!]) expect(held.has(a) ? a : `lost ${a}`).toBe(a);
      for (const a of [listOf(1, trial, 1, 1)[0]!, listOf(2, trial, 1, 1)[0]!]) expect(held.has(a) ? `resurrected ${a}` : a).toBe(a);
    }
  });
});

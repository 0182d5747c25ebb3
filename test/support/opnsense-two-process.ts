/**
 * Config mode across REAL separate processes (issue 9; test/opnsense/cross-process.test.ts and the red team's
 * test/redteam/rt2-config-late-landing.test.ts): two child node processes — two CI jobs, two stacks — each grant 10
 * addresses on one alias with `method: "config"` while one revokes an address an earlier run granted, and every
 * trial asserts that nothing a child reported done is untrue on the device. A child job may read slowly
 * (`slowReadMs`: its get_item answers arrive that much later), write slowly (`slowWriteMs`: its set_item reaches the
 * device that much later), hand its creates over at another pace (`staggerMs`) or run other timing (`timing`).
 * The children load the BUILT package (dist/); OPN_XPROC_DIST points them at another build, OPN_XPROC_TIMING (JSON)
 * gives both the same timing (floor experiments), OPN_XPROC_DEBUG prints the request log.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import type { OpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { USERS } from "../opnsense/helpers";

export const XPROC_DIST = resolve(process.env.OPN_XPROC_DIST ?? join(__dirname, "..", "..", "dist"));
/** Timing the children run with: the shipped defaults unless OPN_XPROC_TIMING (JSON) says otherwise. */
export const XPROC_TIMING = process.env.OPN_XPROC_TIMING ? (JSON.parse(process.env.OPN_XPROC_TIMING) as Record<string, number>) : undefined;
const ALIAS = "jit_admins";

/**
 * The child: loads the provider from dist, checks its grants (preflight), says "ready", waits for
 * "go" on stdin (so both children start their grants at the same moment), then runs its creates and its
 * delete concurrently, staggered as the engine's --parallel workers hand them out, and prints one
 * JSON line with what it reported per address.
 */
const CHILD = String.raw`
const job = JSON.parse(process.env.OPN_XPROC_JOB);
if (job.slowReadMs) {
  // The device serves the read at once; its answer reaches this process slowReadMs later.
  const C = require(job.dist + "/provider/devices/opnsense/client.js").OpnsenseClient;
  const getItem = C.prototype.getItem;
  C.prototype.getItem = async function (...args) {
    const r = await getItem.apply(this, args);
    await new Promise((res) => setTimeout(res, job.slowReadMs));
    return r;
  };
}
if (job.slowWriteMs) {
  // A set_item the batcher judged sent now reaches the device slowWriteMs later (queued in a busy PHP pool, or
  // behind another writer's Config::lock): its transit, which no earlier answer of this process announced.
  const C = require(job.dist + "/provider/devices/opnsense/client.js").OpnsenseClient;
  const setItem = C.prototype.setItemContent;
  C.prototype.setItemContent = async function (...args) {
    await new Promise((res) => setTimeout(res, job.slowWriteMs));
    return setItem.apply(this, args);
  };
}
const { opnsenseAliasEntryProvider: p } = require(job.dist + "/provider/devices/opnsense/resource.js");
try {
  const t = require(job.dist + "/provider/devices/opnsense/alias-batcher.js").CONFIG_MODE_TIMING;
  if (t && job.timing) Object.assign(t, job.timing);
} catch {}
const conn = { connection: { url: job.url, caCert: job.caCert }, credentials: { apiKey: job.key, apiSecret: job.secret } };
const out = { created: {}, deleted: {} };
const msg = (e) => String((e && e.message) || e).split("\n")[0];
(async () => {
  // check (the preflight) first, as the engine registers a resource before its create.
  const checked = await Promise.all(job.grants.map(async (address) => {
    const c = await p.check({}, { ...conn, alias: job.alias, address, method: "config" });
    if (c.failures && c.failures.length) throw new Error(JSON.stringify(c.failures));
    return c.inputs;
  }));
  process.stdout.write("ready\n");
  process.stdin.once("data", () => go(checked));
})();
async function go(checked) {
  const ops = [];
  checked.forEach((inputs, i) => ops.push((async () => {
    await new Promise((r) => setTimeout(r, i * (job.staggerMs ?? 45) + Math.random() * 30));
    try {
      await p.create(inputs);
      out.created[inputs.address] = "ok";
    } catch (e) { out.created[inputs.address] = msg(e); }
  })()));
  for (const address of job.revokes) ops.push((async () => {
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    try {
      await p.delete(job.alias + "@" + address, { ...conn, alias: job.alias, address, method: "config", description: "", allowBroad: false,
        cidr: address + "/32", host: "127.0.0.1", aliasUuid: job.uuid, aliasType: "host", adopted: false });
      out.deleted[address] = "ok";
    } catch (e) { out.deleted[address] = msg(e); }
  })());
  await Promise.all(ops);
  process.stdout.write(JSON.stringify(out) + "\n");
  process.exit(0);
}
`;

interface ChildResult {
  created: Record<string, string>;
  deleted: Record<string, string>;
}

function startChild(job: Record<string, unknown>): { child: ChildProcess; ready: Promise<void>; done: Promise<ChildResult> } {
  const child = spawn(process.execPath, ["-e", CHILD], { env: { ...process.env, OPN_XPROC_JOB: JSON.stringify(job) }, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let onReady: () => void = () => undefined;
  let notReady: (e: Error) => void = () => undefined;
  const ready = new Promise<void>((r, j) => ((onReady = r), (notReady = j)));
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes("ready\n")) onReady();
  });
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<ChildResult>((res, rej) =>
    child.on("exit", (code) => {
      // A child that dies before "ready" fails the trial at once instead of holding it to the test timeout.
      notReady(new Error(`child exited ${code} before ready: ${stderr.slice(0, 2000)}`));
      const line = stdout.split("\n").find((l) => l.startsWith("{"));
      if (code !== 0 || !line) rej(new Error(`child exited ${code}: ${stderr.slice(0, 2000)}`));
      else res(JSON.parse(line) as ChildResult);
    }),
  );
  return { child, ready, done };
}

const grantsOf = (p: number, trial: number) => Array.from({ length: 10 }, (_, i) => `10.${40 + p}.${trial}.${i + 1}`);

/** Runs `trialCount` trials of the two children (extra job fields per child) and asserts nothing reported done is untrue. */
export async function twoProcessTrials(
  emu: OpnsenseEmulator,
  trialCount: number,
  label: string,
  extraA: Record<string, unknown>,
  extraB: Record<string, unknown>,
  loud?: RegExp,
): Promise<void> {
  const summary: string[] = [];
  const outcomes: {
    trial: number;
    silentLoss: string[];
    silentResurrection: boolean;
    failures: string[];
    content: string[];
    live: string[];
    wanted: string[];
  }[] = [];
  for (let trial = 1; trial <= trialCount; trial++) {
    emu.backend.reset();
    const revoked = `10.39.${trial}.1`;
    const kept = `10.39.${trial}.2`; // granted by an earlier run and still declared
    emu.backend.insertAddress(ALIAS, revoked);
    emu.backend.insertAddress(ALIAS, kept);
    const uuid = emu.backend.aliases.get(ALIAS)!.uuid;
    const base = {
      dist: XPROC_DIST,
      url: emu.url,
      caCert: emu.caCert,
      key: USERS.edit.key,
      secret: USERS.edit.secret,
      alias: ALIAS,
      uuid,
      timing: XPROC_TIMING,
    };
    const a = startChild({ ...base, grants: grantsOf(1, trial), revokes: [revoked], ...extraA });
    const b = startChild({ ...base, grants: grantsOf(2, trial), revokes: [], ...extraB });
    await Promise.all([a.ready, b.ready]);
    const t0 = Date.now();
    const s0 = emu.log.count("alias/set_item");
    a.child.stdin!.write("go\n");
    b.child.stdin!.write("go\n");
    const [ra, rb] = await Promise.all([a.done, b.done]);
    const ms = Date.now() - t0;
    if (process.env.OPN_XPROC_DEBUG)
      console.log(
        emu.log
          .entries()
          .map((e) => `${e.seq} ${e.method} ${e.path.split("/").slice(3, 5).join("/")} ${e.durationMs}`)
          .join("\n"),
      );

    const content = emu.backend.configContent(ALIAS);
    const live = emu.backend.tableContent(ALIAS);
    const wanted = [...grantsOf(1, trial), ...grantsOf(2, trial), kept];
    const lost = wanted.filter((x) => !content.includes(x));
    const lostLive = wanted.filter((x) => !live.includes(x));
    const resurrected = [content.includes(revoked), live.includes(revoked)];
    const reportedOk = [...Object.entries(ra.created), ...Object.entries(rb.created)].filter(([, v]) => v === "ok").map(([k]) => k);
    const failures = [...Object.values(ra.created), ...Object.values(rb.created), ...Object.values(ra.deleted)].filter((v) => v !== "ok");
    const silentLoss = reportedOk.filter((x) => !content.includes(x) || !live.includes(x));
    const silentResurrection = ra.deleted[revoked] === "ok" && (content.includes(revoked) || live.includes(revoked));
    summary.push(
      `trial ${trial}: lost ${lost.length} (live ${lostLive.length}), resurrected ${resurrected[0] ? 1 : 0} (live ${resurrected[1] ? 1 : 0}), ` +
        `silent: lost ${silentLoss.length} resurrected ${silentResurrection ? 1 : 0}, loud failures ${failures.length}, ` +
        `set_item ${emu.log.count("alias/set_item") - s0}, ${ms} ms`,
    );
    outcomes.push({ trial, silentLoss, silentResurrection, failures, content: [...content].sort(), live, wanted: [...wanted].sort() });
  }
  console.log(`config mode, 2 processes x 10 grants + 1 revoke${label}, dist ${XPROC_DIST}:\n  ${summary.join("\n  ")}`);
  for (const o of outcomes) {
    // Nothing reported as done may be untrue on the device, ever; and (without `loud`) nothing needs to fail.
    expect({ trial: o.trial, silentLoss: o.silentLoss, silentResurrection: o.silentResurrection, failures: o.failures.filter((f) => !loud?.test(f)) }).toEqual({
      trial: o.trial,
      silentLoss: [],
      silentResurrection: false,
      failures: [],
    });
    if (o.failures.length === 0) expect({ trial: o.trial, content: o.content, live: o.live }).toEqual({ trial: o.trial, content: o.wanted, live: o.wanted });
  }
}

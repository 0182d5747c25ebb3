/**
 * The quick-start (`npm start`): the real Pulumi CLI runs the root Pulumi.yaml
 * (examples/quickstart) against the three device emulators in a temporary local backend and walks
 * the story: a preview with an under-privileged OPNsense key fails with OPN001; `up` grants on all
 * three devices; a grant is removed by hand; `preview --refresh --expect-no-changes` catches the
 * drift (exit 7); `up --refresh` repairs it; `destroy` removes everything; a table shows what was
 * granted where. Cleans up on every path; exits non-zero if any step did not behave as expected.
 *
 *   FWG_QUICKSTART_VERBOSE=1   also print the full Pulumi output of every command
 */
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { startDevices, stackConfig, type Devices } from "./engine-fixture";
import { ensurePulumiCli, packageRoot, PulumiWorkspace, type RunResult } from "./pulumi-workspace";

const verbose = process.env.FWG_QUICKSTART_VERBOSE === "1";
const useColor = process.stdout.isTTY === true && !process.env.NO_COLOR;
const c = (code: string) => (s: string) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s);
const bold = c("1");
const dim = c("2");
const green = c("32");
const red = c("31");

const started = Date.now();
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const TOTAL = 8;
let failures = 0;

function step(n: number, title: string): void {
  console.log(`\n${bold(`[${n}/${TOTAL}]`)} ${title}`);
}
function ok(msg: string): void {
  console.log(`      ${green("✔")} ${msg}`);
}
function bad(msg: string): void {
  failures++;
  console.log(`      ${red("✘")} ${msg}`);
}
function expect(cond: boolean, good: string, wrong: string): boolean {
  if (cond) ok(good);
  else bad(wrong);
  return cond;
}
function show(lines: readonly string[]): void {
  for (const l of lines) console.log(`      ${dim("│")} ${l}`);
}
/** The Pulumi output of a failed expectation, so the reason is visible. */
function dump(r: RunResult): void {
  if (!verbose) show(r.output.trimEnd().split("\n").slice(-40));
}
function interesting(r: RunResult, re: RegExp): string[] {
  return r.output
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => re.test(l));
}

interface Row {
  device: string;
  target: string;
  address: string;
  where: string;
}

async function main(): Promise<void> {
  step(0, "Pulumi CLI");
  const t0 = Date.now();
  const cli = await ensurePulumiCli();
  ok(`pulumi ${cli.version} (${cli.binDir}) ready in ${secs(Date.now() - t0)}`);

  let devices: Devices | undefined;
  let ws: PulumiWorkspace | undefined;
  try {
    step(1, "Start the OPNsense, FortiGate and FortiManager emulators (HTTPS, test CA)");
    devices = await startDevices();
    const d = devices;
    ok(`OPNsense     ${d.opnsense.url}  (alias jit_admins, jit_nets; an API key with only "Firewall: Aliases")`);
    ok(`FortiGate    ${d.fortigate.url}  (address group jit-admins in VDOM root)`);
    ok(`FortiManager ${d.fortimanager.url}  (administrator alice; managed FortiGates fgt-hq and fgt-br1 with the push feed jit-allow)`);
    const before = d.snapshot();

    ws = await PulumiWorkspace.create({
      projectDir: packageRoot(),
      stack: `quickstart-${process.pid}`,
      env: { PULUMI_NODEJS_TRANSPILE_ONLY: "true" },
      onOutput: verbose ? (s) => process.stdout.write(dim(s)) : undefined,
      timeoutMs: 120_000,
    });
    ok(`stack ${ws.stack} in a temporary local backend (${ws.backendDir})`);
    for (const e of stackConfig(d, { weakOpnsense: true })) await ws.setConfig(e.key, e.value, e.secret);

    step(2, "pulumi preview — with the under-privileged OPNsense key");
    d.clearLogs();
    let r = await ws.run(["preview"]);
    // The engine prints each failed resource as "<type> <name>  error: <message>".
    const opn001 = interesting(r, /^\s*pulumi-nodejs:dynamic\S*\s+\S+\s+error: OPN001/).map((l) =>
      l.trim().replace(/^pulumi-nodejs:dynamic\/(\S+)\s+(\S+)\s+error:\s*/, "$2: "),
    );
    if (
      expect(
        r.code !== 0 && opn001.length > 0,
        `preview failed (exit ${r.code}) in ${secs(r.durationMs)}, before any change:`,
        `expected preview to fail with OPN001, got exit ${r.code}`,
      )
    )
      show([...new Set(opn001)]);
    else dump(r);
    const touched = Object.values(d.sideEffects()).flat();
    expect(
      touched.length === 0,
      "no request with a side effect reached any device during preview",
      `preview changed a device: ${touched.map((e) => e.route).join(", ")}`,
    );

    step(3, "pulumi up — with the right OPNsense key (pulumi config set --secret opnsense:apiKey …)");
    for (const e of stackConfig(d)) if (e.key.startsWith("opnsense:api")) await ws.setConfig(e.key, e.value, true);
    r = await ws.run(["up", "--yes"]);
    if (
      !expect(
        r.code === 0,
        `up succeeded in ${secs(r.durationMs)}: ${interesting(r, /^\s+\+ \d+ created/)
          .map((l) => l.trim())
          .join(" ")}`,
        `up failed (exit ${r.code})`,
      )
    )
      dump(r);
    const outs = (await ws.outputs()).granted as Granted | undefined;
    const rows = outs ? tableRows(outs) : [];
    expect(rows.length === 6, `${rows.length} grants in the stack outputs`, `expected 6 grants in the stack outputs, got ${rows.length}`);
    const s = d.snapshot();
    const admins = s.opnsense.find((a) => a.alias === "jit_admins");
    expect(
      !!admins?.table.includes("203.0.113.7") &&
        !!admins.table.includes("2001:db8::7") &&
        !!s.opnsense.find((a) => a.alias === "jit_nets")?.content.includes("198.51.100.0/24") &&
        !!s.fortigate.groups.find((g) => g.name === "jit-admins")?.members.includes("grant-alice") &&
        isDeepStrictEqual(s.fortimanager.admins.find((a) => a.userid === "alice")?.slots.trusthost2, ["203.0.113.7", "255.255.255.255"]) &&
        ["fgt-hq", "fgt-br1"].every(
          (n) =>
            !!s.fortimanager.devices
              .find((x) => x.name === n)
              ?.feeds.find((f) => f.name === "jit-allow")
              ?.entries.includes("203.0.113.7"),
        ),
      "the emulators hold every grant",
      "an emulator is missing a grant",
    );

    step(4, "Someone removes 203.0.113.7 from the OPNsense alias jit_admins by hand (UI + Apply)");
    d.opnsense.backend.removeAddress("jit_admins", "203.0.113.7");
    ok("removed on the device, not in Pulumi");

    step(5, "pulumi preview --refresh --expect-no-changes — the scheduled drift check");
    r = await ws.run(["preview", "--refresh", "--expect-no-changes"]);
    const drift = interesting(r, /^\s*[-+~]{1,2}\s+pulumi-nodejs:\S+\s+\S+\s+(create|update|replace|delete)\b|error: no changes were expected/);
    if (expect(r.code === 7, `exit code ${r.code} (changes found) in ${secs(r.durationMs)}:`, `expected exit code 7, got ${r.code}`))
      show(drift.map((l) => l.trim()));
    else dump(r);

    step(6, "pulumi up --refresh — puts the grant back");
    r = await ws.run(["up", "--refresh", "--yes"]);
    if (!expect(r.code === 0, `up --refresh succeeded in ${secs(r.durationMs)}`, `up --refresh failed (exit ${r.code})`)) dump(r);
    expect(
      !!d
        .snapshot()
        .opnsense.find((a) => a.alias === "jit_admins")
        ?.table.includes("203.0.113.7"),
      "203.0.113.7 is back in jit_admins",
      "203.0.113.7 was not restored",
    );
    r = await ws.run(["preview", "--refresh", "--expect-no-changes"]);
    if (!expect(r.code === 0, "a second drift check finds nothing (exit 0)", `the drift check after the repair exited ${r.code}`)) dump(r);

    step(7, "pulumi destroy — removes every grant");
    r = await ws.run(["destroy", "--yes"]);
    if (!expect(r.code === 0, `destroy succeeded in ${secs(r.durationMs)}`, `destroy failed (exit ${r.code})`)) dump(r);
    expect(isDeepStrictEqual(d.snapshot(), before), "the emulators hold exactly what they held before the run", "the devices differ from before the run");

    step(8, "What was granted where (during the run; destroy removed it again)");
    printTable(rows);
  } finally {
    const tc = Date.now();
    await ws?.dispose();
    await devices?.close();
    console.log(dim(`\ncleaned up (stack, temporary backend, emulators) in ${secs(Date.now() - tc)}`));
  }
}

interface Granted {
  opnsense: { host: string; alias: string; address: string; method: string; aliasUuid: string }[];
  fortigate: { name: string; address: string; vdom: string; group: string | null; objectPath: string; uuid: string | null };
  fortimanager: { adminUser: string; address: string; slot: string };
  passive: { feed: string; address: string; devices: string[] };
}

function tableRows(g: Granted): Row[] {
  return [
    ...g.opnsense.map((o) => ({ device: "OPNsense", target: `alias ${o.alias} (${o.method})`, address: o.address, where: `alias uuid ${o.aliasUuid}` })),
    {
      device: "FortiGate",
      target: `group ${g.fortigate.group ?? "-"} (vdom ${g.fortigate.vdom})`,
      address: g.fortigate.address,
      where: `address object ${g.fortigate.name}`,
    },
    { device: "FortiManager", target: `admin ${g.fortimanager.adminUser}`, address: g.fortimanager.address, where: `slot ${g.fortimanager.slot}` },
    {
      device: "FortiManager → FortiGates",
      target: `feed ${g.passive.feed}`,
      address: g.passive.address,
      where: `on ${g.passive.devices.join(", ")} (Passive+)`,
    },
  ];
}

function printTable(rows: readonly Row[]): void {
  const head: Row = { device: "device", target: "target", address: "address", where: "slot / uuid / object" };
  const all = [head, ...rows];
  const w = (k: keyof Row) => Math.max(...all.map((r) => r[k].length));
  const line = (r: Row) => `      ${r.device.padEnd(w("device"))}  ${r.target.padEnd(w("target"))}  ${r.address.padEnd(w("address"))}  ${r.where}`;
  console.log(bold(line(head)));
  for (const r of rows) console.log(line(r));
}

main()
  .catch((e: unknown) => {
    failures++;
    console.error(red(`\nquick-start failed: ${e instanceof Error ? e.message : String(e)}`));
  })
  .finally(() => {
    const took = secs(Date.now() - started);
    if (failures === 0) console.log(green(bold(`\nquick-start finished in ${took}: every step behaved as expected.`)));
    else console.log(red(bold(`\nquick-start finished in ${took} with ${failures} unexpected result(s).`)));
    console.log(dim(`project: ${path.join(packageRoot(), "Pulumi.yaml")} → examples/quickstart/index.ts; README.md "Quick start"`));
    process.exitCode = failures === 0 ? 0 : 1;
  });

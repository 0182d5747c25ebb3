/**
 * Issue 9, "every write is confirmed; an HTML page, a proxy's 200 or a blanket 404 is never taken as
 * success (preflight included)", with the real Pulumi CLI and FortiGate grants (one in a group, one
 * without — the preflight of a grant without a group used to pass on any 200):
 * - a stack pointed at a captive portal (HTML 200 to everything) or a server answering 404 to
 *   everything: `up` fails loudly and nothing enters state;
 * - the FortiGate of a deployed stack turns into such a server (same host and port): `destroy` fails
 *   loudly and the grants stay in state; once the FortiGate answers again, `destroy` completes.
 */
import { randomBytes } from "node:crypto";
import { startFortigateEmulator, testCaCert, type FortigateEmulator } from "../../emulators/index";
import { DeclaredStack, ok, startBadServer, type BadKind, type BadServer, type GrantSpec } from "./declared-helpers";
import { describeWithCli } from "./helpers";

jest.setTimeout(300_000);

const TOKEN = `fwgbadserver${randomBytes(8).toString("hex")}`;
const GRANTS: GrantSpec[] = [
  { kind: "fortigate", name: "in-group", object: "grant-bad-1", address: "203.0.113.30", group: "jit-admins" },
  { kind: "fortigate", name: "no-group", object: "grant-bad-2", address: "203.0.113.31" },
];

const fortigate = (port = 0) =>
  startFortigateEmulator({
    port,
    users: [{ name: "grants-api", token: TOKEN, fwgrp: "read-write", sysgrp: "custom", sysgrpPermission: { cfg: "read-write" }, vdoms: ["root"] }],
    groups: [{ name: "jit-admins" }],
  });
const env = (url: string) => ({ FORTIGATE_URL: url, FORTIGATE_TOKEN: TOKEN, FORTIGATE_CA_CERT: testCaCert() });

/** The FortiGate grants recorded in the stack's state. */
function grantsInState(s: DeclaredStack): string[] {
  let text: string;
  try {
    text = s.ws.stateText();
  } catch {
    return []; // no state file yet
  }
  const state = JSON.parse(text) as { checkpoint: { latest?: { resources?: { type: string; urn: string }[] } } };
  return (state.checkpoint.latest?.resources ?? [])
    .filter((r) => r.type === "pulumi-nodejs:dynamic/fortigate:Address")
    .map((r) => r.urn.split("::").pop()!)
    .sort();
}

describeWithCli("engine (issue 9): FortiGate behind a captive portal or a 404-everything server fails loudly", () => {
  const stacks: DeclaredStack[] = [];
  const servers: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const s of stacks) await s.dispose();
    await Promise.all(servers.map((x) => x.close()));
  });

  test.each<BadKind>(["captive", "404"])("pointed at a %s server from the start: up fails and nothing enters state", async (kind) => {
    const bad = await startBadServer(kind);
    servers.push(bad);
    const s = await DeclaredStack.create(env(bad.url));
    stacks.push(s);
    s.grants = GRANTS;
    const up = await s.run(["up", "--yes"]);
    expect({
      failed: up.code !== 0,
      namesHost: up.output.includes(`localhost:${bad.port}`),
      inState: grantsInState(s),
      ...(up.code === 0 && { output: up.output.slice(-2500) }),
    }).toEqual({
      failed: true,
      namesHost: true,
      inState: [],
    });
    expect(bad.seen.length).toBeGreaterThan(0); // it was asked (and must not have been believed)
  });

  test.each<BadKind>(["captive", "404"])(
    "the deployed FortiGate turns into a %s server: destroy fails and keeps the grants in state; destroy completes once the FortiGate answers again",
    async (kind) => {
      let fgt: FortigateEmulator | undefined = await fortigate();
      const port = fgt.port;
      const s = await DeclaredStack.create(env(fgt.url));
      stacks.push(s);
      s.grants = GRANTS;
      let bad: BadServer | undefined;
      try {
        expect(ok(await s.run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
        expect(
          fgt.backend
            .addresses("root", "ipv4")
            .map((a) => a.name)
            .sort(),
        ).toEqual(["grant-bad-1", "grant-bad-2"]);
        expect(grantsInState(s)).toEqual(["in-group", "no-group"]);

        // Same host and port, now a different server.
        await fgt.close();
        fgt = undefined;
        bad = await startBadServer(kind, port);
        const destroy = await s.run(["destroy", "--yes"]);
        expect({
          failed: destroy.code !== 0,
          namesHost: destroy.output.includes(`localhost:${port}`),
          inState: grantsInState(s),
          askedTheBadServer: bad.seen.length > 0,
          ...(destroy.code === 0 && { output: destroy.output.slice(-2500) }),
        }).toEqual({
          failed: true,
          namesHost: true,
          inState: ["in-group", "no-group"],
          askedTheBadServer: true,
        });

        // The FortiGate is back (a fresh one: the objects are gone, which a delete takes as done).
        await bad.close();
        bad = undefined;
        fgt = await fortigate(port);
        expect(ok(await s.run(["destroy", "--yes"]))).toEqual({ code: 0, tail: "" });
        expect(grantsInState(s)).toEqual([]);
      } finally {
        await bad?.close();
        await fgt?.close();
      }
    },
  );
});

/**
 * Red team (issue 21): two explicit `firewall-grants` providers that point at the SAME OPNsense box (two teams'
 * provider blocks, or a rotated key beside the old one). Each provider is its own plugin process, so the
 * "last one out turns off the lights" rule (a grant that another grant of the program still declares stays on
 * delete: grant-lifecycle.ts `declaredByOther`) must see the other provider's grants: each process writes what it
 * declares to a run directory named after the engine's address and reads the others' (process-state.ts
 * `shareDeclarationsAcross`, issue 19). Removing one of two grants of the same address must leave the address
 * allowed: the program still declares it.
 */
import { describeWithCli } from "./helpers";
import { explicitOpnsenseProviders, ok, pluginProject, useOpnsensePluginSuite } from "./plugin-helpers";

jest.setTimeout(300_000);

const FULL = { key: "fwgredteamkey01", secret: "fwgredteamsecret0123456789" };

const PROGRAM = (withTeamA: boolean) => `${pluginProject("redteam-two-providers")}${explicitOpnsenseProviders({ teamA: "url", teamB: "url" })}${
  withTeamA
    ? `  aliceByA:
    type: firewall-grants:opnsense:AliasEntry
    properties:
      alias: jit_admins
      address: 203.0.113.7
    options:
      provider: \${teamA}
`
    : ""
}  aliceByB:
    type: firewall-grants:opnsense:AliasEntry
    properties:
      alias: jit_admins
      address: 203.0.113.7
    options:
      provider: \${teamB}
`;

describeWithCli("red team: two explicit firewall-grants providers on one OPNsense box (YAML)", () => {
  const s = useOpnsensePluginSuite({
    prefix: "fwg-rt-two-providers-",
    program: PROGRAM(true),
    creds: FULL,
    configKeys: { url: "url", caCert: "caCert", apiKey: "apiKey", apiSecret: "apiSecret" },
  });

  test("removing one of two grants of the same address keeps the address: the other grant still declares it", async () => {
    const { box, ws, stack } = s;
    expect(ok(await ws.run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(box.backend.tableContent("jit_admins")).toEqual(["203.0.113.7"]);
    stack.writeProgram(PROGRAM(false));
    expect(ok(await ws.run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    // aliceByB is still declared and its state says granted: the box must still allow the address…
    expect(box.backend.tableContent("jit_admins")).toEqual(["203.0.113.7"]);
    // …and a drift check agrees.
    expect(ok(await ws.run(["preview", "--refresh", "--expect-no-changes"]))).toEqual({ code: 0, tail: "" });
  });
});

/**
 * End to end with the real Pulumi CLI and a JavaScript program that declares the plugin's resource by its type
 * token (`new pulumi.CustomResource("firewall-grants:opnsense:AliasEntry", …)`): the large-stack recipe of
 * BENCHMARKS.md ("The engine's checkpoint cost"). A dynamic resource stores its serialised provider with every
 * resource; a plugin resource stores none, so every checkpoint write of a large stack is smaller. It must keep
 * the promise as the classes do: up grants, a hand edit is drift, destroy revokes, no secret in clear.
 */
import { symlinkSync } from "node:fs";
import * as path from "node:path";
import { describeWithCli, leakedSecrets, leaksInFiles, ROOT } from "./helpers";
import { ok, pluginProject, useOpnsensePluginSuite } from "./plugin-helpers";

jest.setTimeout(600_000);

const FULL = { key: "fwgnodejsfullkey01", secret: "fwgnodejsfullsecret0123456789" };

const PROGRAM = `"use strict";
const pulumi = require("@pulumi/pulumi");
const alice = new pulumi.CustomResource("firewall-grants:opnsense:AliasEntry", "alice", {
  alias: "jit_admins",
  address: "203.0.113.9",
  description: "alice, ticket 42",
});
exports.id = alice.id;
`;

describeWithCli("engine: a JavaScript program declaring the plugin's resources by type token", () => {
  const s = useOpnsensePluginSuite({
    prefix: "fwg-plugin-nodejs-",
    program: `${pluginProject("plugin-nodejs", "nodejs")}main: index.js\n`,
    creds: FULL,
    // The nodejs language host ships beside the CLI.
    stackOptions: () => ({
      hostPath: [],
      timeoutMs: 240_000,
      files: { "index.js": PROGRAM, "package.json": '{ "name": "plugin-nodejs", "private": true }\n' },
    }),
  });
  // The program resolves @pulumi/pulumi from the repository, as an installed project would from its own.
  beforeAll(() => symlinkSync(path.join(ROOT, "node_modules"), path.join(s.stack.projectDir, "node_modules"), "dir"));
  const table = () => s.box.backend.tableContent("jit_admins").sort();

  test("up grants, the state holds no serialised provider, a hand edit is drift, destroy revokes; no secret in clear", async () => {
    const { ws, stack } = s;
    const { run, outputs } = stack;
    expect(ok(await run(["up", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(table()).toEqual(["203.0.113.9"]);
    expect(await ws.outputs()).toEqual({ id: "jit_admins@203.0.113.9" });
    const exported = await run(["stack", "export"]);
    expect(exported.code).toBe(0);
    const resources = (JSON.parse(exported.stdout) as { deployment: { resources: { type: string; inputs?: object; outputs?: object }[] } }).deployment
      .resources;
    const grant = resources.find((r) => r.type === "firewall-grants:opnsense:AliasEntry");
    expect(grant).toBeDefined();
    expect(JSON.stringify(grant)).not.toContain("__provider");
    expect(ok(await run(["preview", "--refresh", "--expect-no-changes"]))).toEqual({ code: 0, tail: "" });
    // Removed by hand from the live table: the drift check fails.
    s.box.backend.removeAddress("jit_admins", "203.0.113.9");
    expect((await run(["preview", "--refresh", "--expect-no-changes"])).code).not.toBe(0);
    expect(ok(await run(["up", "--yes", "--refresh"]))).toEqual({ code: 0, tail: "" });
    expect(table()).toEqual(["203.0.113.9"]);
    expect(ok(await run(["destroy", "--yes"]))).toEqual({ code: 0, tail: "" });
    expect(table()).toEqual([]);
    const secrets = { key: FULL.key, secret: FULL.secret };
    expect(leaksInFiles(ws.allFiles(), secrets)).toEqual({});
    for (const r of outputs) expect(leakedSecrets(r.output, secrets)).toEqual([]);
  });
});

/** The unit tier refuses what would make it slow or non-local (jest.config.js): a child process, the built package. */
import * as cp from "node:child_process";
import { execFileSync } from "child_process";

test("starting a child process fails with the tier's rule", () => {
  expect(() => execFileSync(process.execPath, ["-e", ""])).toThrow(/unit tier: child_process\.execFileSync is refused .*contract tier/);
  for (const start of [() => cp.spawn(process.execPath), () => cp.exec("true"), () => cp.fork("x.js"), () => cp.execSync("true")]) {
    expect(start).toThrow(/unit tier: child_process\.\w+ is refused/);
  }
});

test("loading the built package (by path or by its own name) fails with the tier's rule", () => {
  expect(() => require("../../dist/provider/index")).toThrow(/unit tier: this test loads the built package/);
  expect(() => require("pulumi-firewall-grants")).toThrow(/unit tier: this test loads the built package/);
});

test("loading a serialised provider's text (which requires the built package by name) fails with the tier's rule", () => {
  const load = require("require-from-string") as (code: string) => unknown;
  expect(() => load("module.exports = 1")).toThrow(/unit tier: loading a serialised provider .*contract tier/);
});

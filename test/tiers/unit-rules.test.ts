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

/** The example programs (examples/*, the quick-start, the e2e program) type-check against the library. */
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";

test("examples type-check (tsc -p examples/tsconfig.json)", async () => {
  const root = path.resolve(__dirname, "..");
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  const r = await promisify(execFile)(process.execPath, [tsc, "-p", path.join(root, "examples", "tsconfig.json")], { cwd: root }).then(
    () => ({ code: 0, out: "" }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` }),
  );
  expect(r).toEqual({ code: 0, out: "" });
}, 120_000);

/**
 * The unit tier's rule, enforced: a unit test runs in this process only. It may start emulators
 * in-process (port 0), but it never starts a child process (node, tsc, npm, the Pulumi CLI) — that is
 * what makes the tier fast and its failures local. A test that needs a child process or the built
 * package (dist/) belongs to the contract tier: list it in jest.config.js (CONTRACT).
 */
const REFUSED = ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"] as const;

function refusing(name: string): () => never {
  return () => {
    throw new Error(
      `unit tier: child_process.${name} is refused (${expect.getState().testPath ?? "this test"}). ` +
        "A test that starts a child process belongs to the contract tier: add it to CONTRACT in jest.config.js.",
    );
  };
}

// jest.mock scopes the stand-in to this test file's module registry: other tiers sharing the worker
// process keep the real module.
for (const id of ["child_process", "node:child_process"]) {
  jest.mock(id, () => {
    const real = jest.requireActual<Record<string, unknown>>("node:child_process");
    return { ...real, ...Object.fromEntries(REFUSED.map((n) => [n, refusing(n)])) };
  });
}

// A serialised provider's text loads the package by its own name through Node's require, which the
// unit resolver does not see: loading such a text is a contract test (a serialised-provider round trip).
jest.mock("require-from-string", () => () => {
  throw new Error(
    `unit tier: loading a serialised provider (require-from-string) loads the built package (${expect.getState().testPath ?? "this test"}). ` +
      "A serialised-provider round trip belongs to the contract tier: add it to CONTRACT in jest.config.js.",
  );
});

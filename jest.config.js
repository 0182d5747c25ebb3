/**
 * Four test tiers, selected with `--selectProjects` (package.json scripts); `npm test` runs them all.
 * docs/STYLE.md ("Test tiers") says what belongs where.
 *   unit      in this process only: pure functions, clients/providers/emulators started in-process on
 *             port 0. No child process, no dist/ (test/tiers/unit-setup.ts and unit-resolver.js refuse
 *             both, so a misfiled test fails with the reason). Budget: under 60 s for the tier.
 *   contract  needs a child process or the built package: CLI runs, cross-process state, serialised-provider
 *             round trips, type checks of the published types, examples and scaffold compiles; and the
 *             in-process suites that run whole tables against the emulators (variants, faults, secrets).
 *   package   the packed tarball installed into a fresh project (real Pulumi CLI).
 *   engine    the real Pulumi CLI against the emulators (test/engine, test/readme.test.ts).
 * Every test file is in exactly one tier: unit is everything not listed for another.
 * Transpile only (isolatedModules, tsconfig.jest.json): the type check is `npm run typecheck`, once.
 */
const CONTRACT = [
  "test/cli/doctor.test.ts",
  "test/cli/doctor-stack.test.ts",
  "test/cli/emulate.test.ts",
  "test/examples.test.ts",
  "test/scaffold.test.ts",
  "test/public-types.test.ts",
  "test/provider-shim.test.ts",
  "test/opnsense/cross-process.test.ts",
  "test/opnsense/serialization.test.ts",
  "test/fortimanager/cross-process.test.ts",
  "test/fortimanager/serialization.test.ts",
  "test/fortigate/serialization.test.ts",
  // In process, but whole tables and long sequences against the emulators' contract (every device answer
  // variant, every fault, every secret path, 20,000-row tables): minutes of work that would sink the unit
  // loop's budget, and what they prove is the device contract rather than one module.
  "test/secrets.test.ts",
  "test/variants-lifecycle.test.ts",
  "test/faults/*.test.ts",
  "test/redteam/*.test.ts",
  "test/opnsense/fidelity.test.ts",
  "test/fortigate/feed-variants.test.ts",
  "test/fortimanager/feed-least-privilege.test.ts",
  "test/sets/opnsense-bulk.test.ts",
  "test/sets/set-cross-process.test.ts",
  // Engine-paced bursts of 200 grants through the provider objects (about a minute).
  "test/opnsense/burst-verify.test.ts",
  // Starts processes to prove the bench leaves none behind.
  "test/bench/proc.test.ts",
];
const PACKAGE = ["test/engine/package.test.ts"];
const ENGINE = ["test/engine/**/*.test.ts", "test/readme.test.ts"];

const at = (globs) => globs.map((g) => `<rootDir>/${g}`);
const base = {
  testEnvironment: "node",
  rootDir: __dirname,
  roots: ["<rootDir>/test"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.jest.json" }] },
};

module.exports = {
  maxWorkers: 2,
  testTimeout: 60000,
  projects: [
    {
      ...base,
      displayName: "unit",
      testMatch: ["<rootDir>/test/**/*.test.ts"],
      testPathIgnorePatterns: [...CONTRACT, ...PACKAGE, ...ENGINE].map(globToRegExp),
      setupFilesAfterEnv: ["<rootDir>/test/tiers/unit-setup.ts"],
      resolver: "<rootDir>/test/tiers/unit-resolver.js",
    },
    { ...base, displayName: "contract", testMatch: at(CONTRACT) },
    { ...base, displayName: "package", testMatch: at(PACKAGE) },
    { ...base, displayName: "engine", testMatch: at(ENGINE), testPathIgnorePatterns: PACKAGE.map(globToRegExp) },
  ],
};

/** testPathIgnorePatterns takes regular expressions; the lists above are globs (`**` any folders, `*` one name). */
function globToRegExp(glob) {
  const body = glob
    .split(/(\*\*\/|\*)/)
    .map((part) => (part === "**/" ? "(?:.*/)?" : part === "*" ? "[^/]*" : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return `^<rootDir>/${body}$`;
}

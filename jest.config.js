/** Tests run the TypeScript sources through ts-jest; the serialised-provider round trips load the
 *  built package (dist/), which `npm test` builds first. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: { warnOnly: false } }] },
  testTimeout: 60000,
  maxWorkers: 2,
};

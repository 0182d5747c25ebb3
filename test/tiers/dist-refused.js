// What the unit tier's resolver (unit-resolver.js) hands out for a module of the built package.
throw new Error(
  "unit tier: this test loads the built package (dist/, or the package by its own name); unit tests run the sources. " +
    "A test of dist/ belongs to the contract tier: add it to CONTRACT in jest.config.js.",
);

// Lint rules for the library, CLI, scripts, bench and tests (run by `npm test` through `npm run lint`).
// typescript-eslint's recommended set without type information keeps the run fast on a 2-core machine;
// the compiler (strict, noUncheckedIndexedAccess) covers what type-aware rules would.
const { readdirSync } = require("node:fs");
const path = require("node:path");
const js = require("@eslint/js");
const tseslint = require("typescript-eslint");

// The layout's rules (issue 17), as import bans; test/layout.test.ts also refuses import circles.
const DEVICE_FOLDERS = readdirSync(path.join(__dirname, "provider", "devices"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
const SHARED_DEVICE_FOLDER = "fortinet";
const ban = (regex, message) => ({ regex, message });
const NO_EMULATORS = ban("^(\\.\\./)+emulators(/|$)", "only a device's device.ts and provider/registry.ts import the emulator wing (emulators/)");
const NO_REGISTRY_FROM_DEVICE = ban(
  "^\\.\\./\\.\\./(registry|device-settings|grant-component|index)$",
  "a device registers itself (device.ts, settings.ts); it never imports the registry or the package surface",
);
const restrict = (...patterns) => ({ "no-restricted-imports": ["error", { patterns }] });
/** The layout rules for a tree at `prefix` (the repository, or the template device laid over it) holding `devices`. */
const layoutRulesAt = (prefix, devices) => [
  {
    files: [`${prefix}provider/core/**/*.ts`],
    rules: restrict(
      ban("^\\.\\./(devices|registry|device-settings|grant-component|index)(/|$)", "provider/core/ knows no device: the registry hands it what it needs"),
      NO_EMULATORS,
    ),
  },
  {
    files: [`${prefix}provider/*.ts`],
    // registry.ts lists the emulators; device-entry.ts names their types (the shape a device.ts fills in).
    ignores: [`${prefix}provider/registry.ts`, `${prefix}provider/device-entry.ts`],
    rules: restrict(NO_EMULATORS),
  },
  ...devices.map((d) => ({
    files: [`${prefix}provider/devices/${d}/**/*.ts`],
    ignores: [`${prefix}provider/devices/${d}/device.ts`],
    rules: restrict(
      d === SHARED_DEVICE_FOLDER
        ? ban("^\\.\\./[^./]", `provider/devices/${SHARED_DEVICE_FOLDER}/ is shared by the Fortinet devices and imports none of them`)
        : ban(
            `^\\.\\./(?!${SHARED_DEVICE_FOLDER}/)[^./]`,
            `a device imports no other device (only provider/devices/${SHARED_DEVICE_FOLDER}/, the Fortinet feeds)`,
          ),
      NO_REGISTRY_FROM_DEVICE,
      NO_EMULATORS,
    ),
  })),
  ...devices.map((d) => ({
    files: [`${prefix}provider/devices/${d}/device.ts`],
    rules: restrict(ban(`^\\.\\./(?!${SHARED_DEVICE_FOLDER}/)[^./]`, "a device imports no other device"), NO_REGISTRY_FROM_DEVICE),
  })),
  {
    files: [`${prefix}emulators/**/*.ts`],
    rules: restrict(
      ban("^(\\.\\./)+provider(/|$)", "the emulator wing imports nothing from provider/: an independent double cannot share the client's mistakes"),
    ),
  },
];
// The template device (templates/device/, copied by scripts/new-device.ts) is held to the rules of where it lands.
const layoutRules = [...layoutRulesAt("", DEVICE_FOLDERS), ...layoutRulesAt("templates/device/", ["toyfw"])];

module.exports = tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", "bench/results/**", "bench/.work/**", "**/node_modules/**", "policy/pack/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: {
        require: "readonly",
        module: "writable",
        process: "readonly",
        console: "readonly",
        __dirname: "readonly",
        Buffer: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        URL: "readonly",
        globalThis: "readonly",
      },
    },
    rules: {
      // Unused arguments named with a leading underscore document an interface's shape.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", destructuredArrayIgnorePattern: "^_" },
      ],
      // The serialised provider shim must `require()` the package inside each method (docs/reference/pulumi.md §2).
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  ...layoutRules,
  {
    files: ["test/**/*.ts", "bench/**/*.ts", "scripts/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off", "@typescript-eslint/no-non-null-assertion": "off" },
  },
);

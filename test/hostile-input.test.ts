/**
 * Issue 6, hostile input: one table shared by every resource of every registered device
 * (provider/registry.ts). Each case is refused at `check` with a CheckFailure naming the field and
 * stating the rule, and no request reaches any device. The emulators run with real credentials, so a
 * missed validation WOULD produce a request.
 * Host bits in a CIDR are refused (never normalised): the reason names the network address.
 * Issue 18: every refusal names the field and the rule — never zod's bare "Invalid input" — for wrong
 * types, unknown fields and malformed set entries too; control, bidi-override and zero-width characters
 * are refused in every name and free-text field; FortiOS text limits count UTF-8 bytes; FortiManager's
 * unused-slot values are refused at check.
 */
import { randomBytes } from "node:crypto";
import { isGrantError } from "../provider/core/errors";
import { grantResources, seededUsers, type SeededUsers } from "../provider/registry";
import { useEmulator, type ResettableEmulator } from "./support/emulator";

type Field = "address" | "name" | "text";
interface Resource {
  readonly label: string;
  /** The resource's name-like field(s) the `name` cases go to. */
  readonly nameFields: readonly string[];
  /** Free-text fields written to or kept about the device (description, comment). */
  readonly textFields: readonly string[];
  check(field: Field, value: string, nameField?: string): Promise<{ failures?: readonly { property: string; reason: string }[] }>;
  /** `check` of the sample inputs with `patch` applied. */
  checkWith(patch: Record<string, unknown>): Promise<{ failures?: readonly { property: string; reason: string }[] }>;
  /** The resource has a set over the same target (the registry's `setProvider`). */
  readonly hasSet: boolean;
  /** `check` of the resource's set (the same target) listing `entries`. */
  checkSet(entries: unknown[]): Promise<{ failures?: readonly { property: string; reason: string }[] }>;
}

const override = (field: Field, value: string, nameField?: string): Record<string, string> =>
  field === "address" ? { address: value } : { [nameField!]: value };

/** Each per-entry resource's set over the same target (the registry's `setProvider`): its sample inputs with `addresses` for `address` (and no object name). */
const setInputs = (sample: Record<string, unknown>, entries: unknown[]) => {
  const { address: _a, name: _n, group, ...rest } = sample;
  return { ...rest, ...(group !== undefined && { group }), addresses: entries };
};

const random = () => randomBytes(12).toString("hex");
const seeded = grantResources().map(({ device, resource }) => {
  const values = Object.fromEntries(
    [...Object.values(device.emulator.credentials.full), ...Object.values(device.emulator.credentials.weak)].map((n) => [n, `hostile${random()}`]),
  );
  const users: SeededUsers = seededUsers(device, values);
  return { device, resource, users, emu: useEmulator(() => device.emulator.seeded({}, users) as Promise<ResettableEmulator>, { resetBackend: false }) };
});
const EMULATORS = seeded.map((s) => s.emu);

const RESOURCES: readonly Resource[] = seeded.map(({ resource, users, emu }) => ({
  label: resource.names.className,
  nameFields: resource.nameFields,
  hasSet: resource.setProvider !== undefined,
  textFields: resource.names.className === "FortigateAddress" ? ["description", "comment"] : ["description"],
  check: (field, value, nameField) => resource.provider.check({}, { ...resource.sampleInputs(emu, users.full), ...override(field, value, nameField) }),
  checkWith: (patch) => resource.provider.check({}, { ...resource.sampleInputs(emu, users.full), ...patch }),
  checkSet: (entries) => resource.setProvider!.check!({}, setInputs(resource.sampleInputs(emu, users.full), entries)),
}));

// [what, value, a phrase the reason must contain]
const ADDRESSES: readonly (readonly [string, string, RegExp])[] = [
  ["newline inside", "203.0.113.7\n10.0.0.1", /newline/],
  ["trailing newline", "203.0.113.7\n", /newline/],
  ["carriage return", "203.0.113.7\r", /carriage return/],
  ["comma list", "203.0.113.7,10.0.0.1", /comma/],
  ["space inside", "203.0.113.7 10.0.0.1", /space/],
  ["tab", "203.0.113.7\t", /tab/],
  ["NUL", "203.0.113.7\u0000", /NUL/],
  ["leading zero", "010.1.1.1", /leading zero/],
  ["leading zeros in last octet", "10.1.1.010", /leading zero/],
  ["hex short form", "0x7f.1", /hex|host names|dotted-decimal/],
  ["hex octets", "0x7f.0x0.0x0.0x1", /hex|host names|dotted-decimal/],
  ["short form", "127.1", /four dotted-decimal octets/],
  ["three-part form", "10.1.1", /four dotted-decimal octets/],
  ["integer form", "2130706433", /four dotted-decimal octets/],
  ["octet > 255", "256.1.1.1", /larger than 255/],
  ["IPv4-mapped IPv6", "::ffff:203.0.113.7", /IPv4-mapped|embedded/],
  ["IPv4-mapped IPv6, hex", "::ffff:cb00:7107", /IPv4-mapped/],
  ["zone id", "fe80::1%eth0", /zone id/],
  ["zone id, encoded", "fe80::1%25eth0", /zone id/],
  ["host bits /24", "10.0.0.1/24", /host bits.*10\.0\.0\.0\/24/],
  ["host bits /16", "172.16.5.4/16", /host bits.*172\.16\.0\.0\/16/],
  ["host bits IPv6", "2001:db8::1/64", /host bits.*2001:db8::\/64/],
  ["/0 IPv4", "0.0.0.0/0", /broader than \/8.*allowBroad/],
  ["/0 IPv6", "::/0", /broader than \/32.*allowBroad/],
  ["over-broad /7", "2.0.0.0/7", /broader than \/8/],
  ["over-broad IPv6 /16", "2001::/16", /broader than \/32/],
  ["prefix out of range", "10.0.0.0/33", /from 0 to 32/],
  ["prefix with leading zero", "10.0.0.0/08", /without leading zeros/],
  ["two slashes", "10.0.0.0/8/8", /at most one '\/'/],
  ["leading space", " 203.0.113.7", /space/],
  ["trailing space", "203.0.113.7 ", /space/],
  ["empty", "", /must not be empty/],
  ["very long", "1".repeat(10_000), /at most 64 characters/],
  ["Arabic-Indic digits", "\u0661\u0662\u0663.1.1.1", /U\+0661/],
  ["fullwidth digits", "\uFF11\uFF10.0.0.1", /U\+FF11/],
  ["fullwidth full stop", "10\uFF0E0.0.1", /U\+FF0E/],
  ["host name", "fw.example.net", /host names/],
  ["IPv6 two ::", "2001::db8::1", /'::' only once/],
];

const NAMES: readonly (readonly [string, string])[] = [
  ["slash", "jit/admins"],
  ["dot-dot path", "../etc"],
  ["dot-dot", "a..b"],
  ["single dot", "."], // issue 18: "…/address/." normalises to the table itself
  ["encoded slash", "a%2Fb"],
  ["double quote", 'a"b'],
  ["single quote", "a'b"],
  ["space inside", "jit admins"], // FortiGate group names may hold spaces (names.ts); the case runs for the object name only
  ["leading space", " jit"],
  ["newline", "jit\nadmins"],
  ["NUL", "jit\u0000"],
  ["empty", ""],
  ["over-length", "a".repeat(100)],
  ["backslash", "a\\b"],
  ["query", "a?b"],
  // Issue 18: invisible characters that reorder or hide what an administrator reads.
  ["bidi override", "jit\u202eadmins"],
  ["bidi isolate", "jit\u2066admins"],
  ["zero-width space", "jit\u200badmins"],
  ["zero-width joiner", "jit\u200dadmins"],
  ["byte order mark", "\ufeffjit"],
  ["C1 control", "jit\u0085admins"],
];

/** Names some devices accept but others refuse: the per-device rule decides. */
const DEVICE_ONLY_NAMES: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  OpnsenseAliasEntry: [
    ["pf reserved word", "table"],
    ["pf reserved word any", "any"],
    ["service name", "ssh"],
    ["32 characters", "a".repeat(32)],
  ],
  FortigateAddress: [
    ["80 characters", "x".repeat(80)],
    ["40 two-byte letters (80 bytes: FortiOS counts bytes)", "\u00e9".repeat(40)],
  ],
  FortimanagerTrustedHost: [
    ["65 characters", "u".repeat(65)],
    ["unicode look-alike", "\u0430lice"],
  ],
};

/** Addresses a device refuses beyond the shared rules. */
const DEVICE_ONLY_ADDRESSES: Readonly<Record<string, readonly (readonly [string, string, RegExp])[]>> = {
  // FortiManager reads these as an unused slot: a grant of them could never be read back (issue 18).
  FortimanagerTrustedHost: [
    ["IPv4 unused-slot value", "255.255.255.255", /unused trusted-host slot/],
    ["IPv4 unused-slot value as /32", "255.255.255.255/32", /unused trusted-host slot/],
    ["IPv6 unused-slot value", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", /unused trusted-host slot/],
    ["IPv6 unused-slot value, upper case /128", "FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF/128", /unused trusted-host slot/],
  ],
};

// [what, value, a phrase the reason must contain] for every free-text field (description, comment).
const TEXTS: readonly (readonly [string, string, RegExp])[] = [
  ["newline", "ticket 1\nticket 2", /newline/],
  ["carriage return", "ticket 1\r", /carriage return/],
  ["NUL", "ticket\u0000", /NUL/],
  ["tab", "a\tb", /tab/],
  ["bidi override", "alice \u202etxt.exe", /U\+202E/],
  ["bidi isolate", "alice \u2067x", /U\+2067/],
  ["zero-width space", "ali\u200bce", /U\+200B/],
  ["byte order mark", "\ufeffalice", /U\+FEFF/],
  ["256 ASCII characters", "a".repeat(256), /at most 255 bytes/],
  ["255 two-byte letters (510 bytes)", "\u00e9".repeat(255), /at most 255 bytes.*510.*255 characters/],
  ["100 three-byte letters (300 bytes)", "\u6f22".repeat(100), /at most 255 bytes/],
];

// [what, value] given to every input field: wrong types are refused naming the field and the expected kind.
const WRONG_TYPES: readonly (readonly [string, unknown, RegExp])[] = [
  ["a number", 5, /must be .*not a number|must be/],
  ["true", true, /must be/],
  ["null", null, /must be .*not null/],
  ["an object", { a: 1 }, /must be|not an input/],
  ["a list", ["x"], /must be/],
];

// Set entries that are neither an address string nor { address, description?, name? }.
const BAD_ENTRIES: readonly (readonly [string, unknown, string, RegExp])[] = [
  ["a number", 5, "addresses.0", /must be a string or an object, not a number/],
  ["null", null, "addresses.0", /must be a string or an object, not null/],
  ["an empty object", {}, "addresses.0", /address: is required/],
  ["a misspelt field", { adress: "203.0.113.7" }, "addresses.0", /"adress"/],
  ["a description with a bidi override", { address: "203.0.113.7", description: "a\u202eb" }, "addresses.0.description", /U\+202E/],
  ["a description of 200 two-byte letters", { address: "203.0.113.7", description: "\u00e9".repeat(200) }, "addresses.0.description", /at most 255 bytes/],
];

/** Refused under `field`, with a reason that names the field and states a rule (never zod's bare "Invalid input"). */
function assertRefused(r: { failures?: readonly { property: string; reason: string }[] }, field: string, rule?: RegExp): void {
  expect(r.failures?.length ?? 0).toBeGreaterThan(0);
  const f = r.failures!.find((x) => x.property === field);
  expect(f).toBeDefined();
  expect(f!.reason.startsWith(`${field}: `)).toBe(true);
  expect(f!.reason).not.toMatch(/Invalid input|Invalid option|Unrecognized key|Too (big|small)/);
  expect(f!.reason.length).toBeGreaterThan(field.length + 12);
  if (rule) expect(f!.reason).toMatch(rule);
}
function assertNoRequest(): void {
  for (const e of EMULATORS) expect(e.log.entries()).toHaveLength(0);
}

const addressCases = RESOURCES.flatMap((res) =>
  [...ADDRESSES, ...(DEVICE_ONLY_ADDRESSES[res.label] ?? [])].map(([what, value, rule]) => [res.label, what, value, rule, res] as const),
);
const textCases = RESOURCES.flatMap((res) =>
  res.textFields.flatMap((tf) => TEXTS.map(([what, value, rule]) => [res.label, tf, what, value, rule, res] as const)),
);
const BOOLEAN_FIELDS = new Set(["allowBroad", "connection.insecure"]);
const typeCases = RESOURCES.flatMap((res) =>
  [
    ...new Set([
      "address",
      ...res.nameFields,
      ...res.textFields,
      "allowBroad",
      "expiresAt",
      "connection",
      "connection.url",
      "connection.timeoutMs",
      "connection.insecure",
    ]),
  ].flatMap((field) =>
    WRONG_TYPES.filter(([what]) => !(field === "connection" && what === "an object"))
      .map(([what, value, rule]) =>
        BOOLEAN_FIELDS.has(field) && value === true ? (["a string", "yes", /must be true or false, not a string/] as const) : [what, value, rule],
      )
      .map(([what, value, rule]) => [res.label, field, what, value, rule, res] as const),
  ),
);
const entryCases = RESOURCES.filter((res) => res.hasSet).flatMap((res) =>
  BAD_ENTRIES.map(([what, value, property, rule]) => [res.label, what, value, property, rule, res] as const),
);
const nameCases = RESOURCES.flatMap((res) =>
  res.nameFields.flatMap((nf) =>
    [...NAMES, ...(DEVICE_ONLY_NAMES[res.label] ?? [])]
      .filter(([what]) => !(res.label === "FortigateAddress" && nf === "group" && what === "space inside"))
      .map(([what, value]) => [res.label, nf, what, value, res] as const),
  ),
);

describe("hostile input is refused at check, before any request", () => {
  it("has at least 40 cases per resource", () => {
    for (const res of RESOURCES) expect(ADDRESSES.length + NAMES.length + (DEVICE_ONLY_NAMES[res.label]?.length ?? 0)).toBeGreaterThanOrEqual(40);
  });

  it.each(addressCases)("%s address: %s", async (_label, _what, value, rule, res) => {
    const r = await res.check("address", value);
    assertRefused(r, "address", rule);
    assertNoRequest();
  });

  it.each(nameCases)("%s %s: %s", async (_label, nameField, _what, value, res) => {
    const r = await res.check("name", value, nameField);
    assertRefused(r, nameField);
    assertNoRequest();
  });

  it.each(textCases)("%s %s: %s", async (_label, field, _what, value, rule, res) => {
    assertRefused(await res.checkWith({ [field]: value }), field, rule);
    assertNoRequest();
  });

  it.each(typeCases)("%s %s given %s", async (_label, field, _what, value, rule, res) => {
    const [top, sub] = field.split(".") as [string, string | undefined];
    const patch = sub === undefined ? { [top]: value } : { connection: { url: "https://fw.example.net", [sub]: value } };
    assertRefused(await res.checkWith(patch), field, rule as RegExp);
    assertNoRequest();
  });

  it.each(RESOURCES.map((r) => [r.label, r] as const))("%s: an unknown field is refused under its own name", async (_label, res) => {
    assertRefused(await res.checkWith({ adress: "203.0.113.7" }), "adress", /not an input of this resource/);
    assertRefused(await res.checkWith({ connection: { url: "https://fw.example.net", timeout: 5 } }), "connection.timeout", /not an input/);
    assertNoRequest();
  });

  it.each(entryCases)("%s set, an entry that is %s", async (_label, _what, value, property, rule, res) => {
    assertRefused(await res.checkSet([value]), property, rule);
    assertNoRequest();
  });

  it("FortigateAddress set: the object-name prefix counts UTF-8 bytes (40), as the name it starts does", async () => {
    const { emu, users, resource } = seeded.find((x) => x.resource.names.className === "FortigateAddress")!;
    const check = (namePrefix: string) =>
      resource.setProvider!.check!({}, { ...setInputs(resource.sampleInputs(emu, users.full), ["203.0.113.7"]), namePrefix });
    assertRefused(await check("\u00e9".repeat(21)), "namePrefix", /at most 40 bytes.*got 42 \(21 characters\)/);
    assertRefused(await check("x".repeat(41)), "namePrefix", /at most 40 bytes/);
    assertRefused(await check("jit\u202e-"), "namePrefix", /U\+202E/);
    assertNoRequest();
  });

  it("FortimanagerTrustedHost set: an entry holding an unused-slot value is refused naming the entry", async () => {
    const res = RESOURCES.find((r) => r.label === "FortimanagerTrustedHost")!;
    assertRefused(await res.checkSet(["203.0.113.7", "255.255.255.255"]), "addresses.1", /unused trusted-host slot/);
    assertRefused(await res.checkSet([{ address: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128" }]), "addresses.0.address", /unused trusted-host slot/);
    assertNoRequest();
  });

  it.each(seeded.map((s) => [s.resource.names.className, s] as const))(
    "%s: a broad prefix passes validation only with allowBroad (then the preflight talks to the device)",
    async (_label, { resource, users, emu }) => {
      // The device may still refuse it (an OPNsense Host(s) alias holds no network: OPN104), but as a diagnosis, not a CheckFailure.
      const r = await resource.provider.check({}, { ...resource.sampleInputs(emu, users.full), address: "0.0.0.0/0", allowBroad: true }).catch((e: unknown) => {
        if (!isGrantError(e)) throw e;
        return { failures: undefined };
      });
      expect(r.failures).toBeUndefined();
      expect(emu.log.entries().length).toBeGreaterThan(0);
    },
  );
});

/**
 * The device registry (provider/registry.ts, provider/device-settings.ts) is the one list of devices:
 * every registered resource is exported, and a toy device added to the list shows up in every surface
 * derived from it — stack config keys, environment names, `doctor` flags, config file, inputs and run,
 * `emulate` flags and start, help, the refused secret flags, and the cross-device test tables.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { z } from "zod";
import { doctorOptions, emulateOptions, secretFlag } from "../cli/main";
import { helpTexts, usage } from "../cli/help";
import { doctorConfigSchema, doctorInputs, planDoctor } from "../cli/doctor-targets";
import { runDoctor } from "../cli/doctor";
import { startDemoEmulators } from "../cli/emulate";
import { deviceSettingsList, environmentNames, stackConfigKeys, type NamedDeviceSettings } from "../provider/device-settings";
import { deviceList, grantResources, seededStackConfig, seededUsers, type NamedDeviceEntry } from "../provider/registry";
import { configureFromStack } from "../provider/core/dynamic-kit";
import { startEmulatorServer, type EmulatorServer } from "../emulators/kit";
import * as emulators from "../emulators/index";
import * as pkg from "../provider/index";
import { processState, resetProcessState } from "../provider/core/process-state";
import { parseAddress } from "../provider/core/address";

// ---- A toy device: one resource whose check validates like the real ones and whose preflight asks its emulator.
const TOY_SETTINGS: NamedDeviceSettings = {
  name: "toy",
  displayName: "ToyWall",
  settings: [{ key: "token", secret: true }, { key: "zone" }],
  resources: [{ className: "ToyEntry", providerExport: "toyEntryProvider", module: "toy", type: "Entry" }],
  doctor: {
    options: [
      {
        flag: "token-file",
        field: "tokenFile",
        kind: "secretFile",
        into: "credentials",
        input: "token",
        arg: "<file>",
        help: "file whose first line is the token",
      },
      { flag: "list", field: "list", kind: "string", into: "input", arg: "<name>", help: "list to grant into", required: "list" },
    ],
  },
};
const ToyInputs = z
  .object({
    connection: z.object({ url: z.string() }).passthrough(),
    credentials: z.object({ token: z.string() }).strict().optional(),
    list: z.string().regex(/^[a-z_]{1,31}$/),
    address: z.string(),
  })
  .strict();
const toyProvider = {
  async check(_olds: unknown, news: Record<string, unknown>) {
    const p = ToyInputs.safeParse(news);
    if (!p.success) return { failures: p.error.issues.map((i) => ({ property: i.path.join("."), reason: `${i.path.join(".")}: ${i.message}` })) };
    const a = parseAddress(p.data.address, {});
    if (!a.ok) return { failures: [{ property: "address", reason: a.rule }] };
    const res = await fetch(`${p.data.connection.url}/api/status`).catch(() => undefined);
    void res;
    return { inputs: p.data };
  },
};
class ToyEntry {}
const toyEmulator = (opts: object) =>
  startEmulatorServer("toy", opts, (req) => (req.rawPath === "/api/status" ? { status: 200, json: { ok: true }, route: "GET /api/status" } : undefined), {
    reset: () => undefined,
  });
const TOY: NamedDeviceEntry = {
  name: "toy",
  settings: TOY_SETTINGS,
  resources: [
    {
      names: TOY_SETTINGS.resources[0]!,
      resourceClass: ToyEntry,
      provider: toyProvider as never,
      nameFields: ["list"],
      sampleInputs: (t, c) => ({ connection: { url: t.url }, ...(c && { credentials: { token: c.token } }), list: "jit", address: "203.0.113.7" }),
    },
  ],
  emulator: {
    start: toyEmulator as never,
    credentials: { full: { token: "toyToken" }, weak: { token: "toyWeakToken" } },
    seeded: (opts) => toyEmulator({ ...opts, tls: "plain" }),
    snapshot: () => [],
    demo: async (opts, _dir, random) => {
      const server = await toyEmulator(opts);
      const token = random();
      return { server, info: { url: server.url, token }, env: { TOY_URL: server.url, TOY_TOKEN: token }, summary: [`ToyWall       ${server.url}`] };
    },
  },
};
const SETTINGS = [...deviceSettingsList(), TOY_SETTINGS];
const DEVICES = [...deviceList(), TOY];

afterEach(() => resetProcessState());

describe("the registry lists every device once, and the package exports every registered resource", () => {
  it("has one entry per settings namespace, in the same order", () => {
    expect(deviceList().map((d) => d.name)).toEqual(deviceSettingsList().map((d) => d.name));
  });
  it.each(grantResources().map(({ resource }) => [resource.names.className, resource] as const))(
    "%s: class and provider exported from the package root; start function from ./emulator",
    (_n, r) => {
      const lib = pkg as unknown as Record<string, unknown>;
      expect(lib[r.names.className]).toBe(r.resourceClass);
      expect(lib[r.names.providerExport]).toBe(r.provider);
    },
  );
  it.each(deviceList().map((d) => [d.name, d] as const))("%s: emulator start function exported from ./emulator", (_n, d) => {
    expect(Object.values(emulators)).toContain(d.emulator.start);
  });
});

describe("a toy device added to the registry appears in every derived surface", () => {
  it("stack config: configureFromStack reads toy:url and toy:token", async () => {
    expect(stackConfigKeys(SETTINGS)).toEqual(expect.arrayContaining(["toy:url", "toy:token", "toy:zone", "toy:caCert", "opnsense:apiKey"]));
    const values: Record<string, string> = { "toy:url": "https://toy", "toy:token": "t0k", "fortigate:vdom": "root" };
    await configureFromStack({ config: { get: (k) => values[k] } }, stackConfigKeys(SETTINGS));
    expect(processState().config).toEqual(values);
  });

  it("environment names: TOY_URL, TOY_TOKEN (secret), TOY_CA_CERT", () => {
    const names = environmentNames(SETTINGS);
    expect(names).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "TOY_URL", secret: false }),
        expect.objectContaining({ name: "TOY_TOKEN", secret: true }),
        expect.objectContaining({ name: "TOY_CA_CERT" }),
      ]),
    );
  });

  it("doctor: flags, help, config file, refused secret flag, inputs", () => {
    expect(Object.keys(doctorOptions(SETTINGS))).toEqual(expect.arrayContaining(["toy-url", "toy-token-file", "toy-list", "opnsense-alias"]));
    expect(helpTexts(SETTINGS).doctor).toContain("--toy-list <name>");
    expect(helpTexts(SETTINGS).doctor).toContain("TOY_TOKEN");
    expect(usage(SETTINGS)).toContain("ToyWall");
    expect(secretFlag(SETTINGS).test("--toy-token=x")).toBe(true);
    expect(secretFlag(SETTINGS).test("--toy-token-file")).toBe(false);
    expect(doctorConfigSchema(SETTINGS).safeParse({ toy: { url: "https://toy", list: "jit" } }).success).toBe(true);
    const plan = planDoctor({ "toy-url": "https://toy.example", "toy-list": "jit" }, undefined, SETTINGS);
    expect(plan.targets.map((t) => t.device)).toEqual(["toy"]);
    expect(doctorInputs(TOY_SETTINGS, plan.targets[0]!, "192.0.2.1")).toEqual({
      connection: { url: "https://toy.example" },
      list: "jit",
      address: "192.0.2.1",
    });
  });

  it("doctor runs the toy's check against its emulator and reports it", async () => {
    const emu = await TOY.emulator.seeded({}, seededUsers(TOY, { toyToken: "a", toyWeakToken: "b" }));
    try {
      const lines: string[] = [];
      const plan = planDoctor({ "toy-url": emu.url, "toy-list": "jit" }, undefined, SETTINGS);
      expect(await runDoctor(plan, (l) => lines.push(l), DEVICES)).toBe(0);
      expect(lines).toContain(`✔ toy ${new URL(emu.url).host} permission preflight`);
      const missing = planDoctor({ "toy-url": emu.url }, undefined, SETTINGS);
      expect(await runDoctor(missing, (l) => lines.push(l), DEVICES)).toBe(1);
      expect(lines.join("\n")).toContain('no list given (--toy-list, or "list" in the config file)');
    } finally {
      await emu.close();
    }
  });

  it("emulate: --toy-port, and the toy's emulator started with its env and CA export", async () => {
    expect(Object.keys(emulateOptions(SETTINGS))).toEqual(expect.arrayContaining(["toy-port", "opnsense-port"]));
    expect(helpTexts(SETTINGS).emulate).toContain("--toy-port");
    const dir = mkdtempSync(path.join(tmpdir(), "devices-test-"));
    const { info, close } = await startDemoEmulators({ host: "127.0.0.1", ports: {}, outDir: dir, json: true }, [TOY]);
    try {
      expect((info as unknown as Record<string, { url: string }>).toy!.url).toMatch(/^https:\/\/localhost:\d+$/);
      expect(info.env.TOY_URL).toBe((info as unknown as Record<string, { url: string }>).toy!.url);
    } finally {
      await close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("engine fixture: the toy's seeded users become stack config, credentials as secrets", () => {
    const users = seededUsers(TOY, { toyToken: "full-token", toyWeakToken: "weak-token" });
    expect(seededStackConfig(TOY, { url: "https://toy", caCert: "PEM" } as EmulatorServer, users.weak)).toEqual([
      { key: "toy:url", value: "https://toy", secret: false },
      { key: "toy:token", value: "weak-token", secret: true },
      { key: "toy:caCert", value: "PEM", secret: false },
    ]);
  });

  it("cross-device tables (hostile input, secrets): the toy's resource is in them, and its check refuses a hostile address before any request", async () => {
    const rows = grantResources(DEVICES);
    expect(rows.map((r) => r.resource.names.className)).toEqual([...grantResources().map((r) => r.resource.names.className), "ToyEntry"]);
    const emu = await TOY.emulator.seeded({}, seededUsers(TOY, { toyToken: "a", toyWeakToken: "b" }));
    try {
      const toy = rows.at(-1)!.resource;
      const r = await toy.provider.check({}, { ...toy.sampleInputs(emu, { token: "a" }), address: "203.0.113.7,10.0.0.1" });
      expect(r.failures?.[0]?.property).toBe("address");
      expect(emu.log.entries()).toHaveLength(0);
    } finally {
      await emu.close();
    }
  });
});

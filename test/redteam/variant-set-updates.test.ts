/**
 * Red team (issue 19 variants): test/variants-lifecycle.test.ts drives create/read/delete only. A set is changed
 * in place by `update` (a member dropped from the program = that access revoked; one added = granted). Under each
 * variant value an update that reports success must leave the device holding exactly the declared members, and
 * the final delete must leave none of them.
 */
import { startFortigateEmulator, type FortigateEmulator } from "../../emulators/fortigate/emulator";
import * as fortigateVariants from "../../emulators/fortigate/variants";
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import * as opnsenseVariants from "../../emulators/opnsense/variants";
import { isGrantError } from "../../provider/core/errors";
import { resetProcessState } from "../../provider/core/process-state";
import { closeAllAgents } from "../../provider/core/transport";
import { fortigateFeedSetProvider } from "../../provider/devices/fortigate/feed-set";
import { fortigateAddressSetProvider } from "../../provider/devices/fortigate/set-resource";
import { opnsenseAliasSetProvider } from "../../provider/devices/opnsense/set-resource";
import { connFor, USERS } from "../opnsense/helpers";

jest.setTimeout(120_000);

interface P {
  check(olds: object, news: object): Promise<{ inputs?: unknown; failures?: readonly unknown[] }>;
  create(inputs: never): Promise<{ id: string; outs: Record<string, unknown> }>;
  update(id: string, olds: never, news: never): Promise<{ outs?: Record<string, unknown> }>;
  delete(id: string, props: never): Promise<void>;
}

const A = "203.0.113.7";
const B = "203.0.113.8";
const C = "203.0.113.9";
const FEED = "jit-allow";
const FILLER = Array.from({ length: 150 }, (_, i) => `198.18.${i >> 8}.${i & 255}`);

function optionValue(v: string): unknown {
  if (v === "true" || v === "false") return v === "true";
  return /^-?\d+$/.test(v) ? Number(v) : v;
}
function withOption(base: Record<string, unknown>, option: string, value: unknown): Record<string, unknown> {
  const [head, tail] = option.split(".", 2) as [string, string | undefined];
  if (tail === undefined) return { ...base, [head]: value };
  return { ...base, [head]: { ...((base[head] as object | undefined) ?? {}), [tail]: value } };
}

/** create [A,B] → update [A] → update [A,C] → delete; after each reported success the device must equal the declaration. */
async function walk(p: P, inputs: (addresses: string[]) => Record<string, unknown>, held: () => string[]): Promise<string[]> {
  const log: string[] = [];
  const ours = () =>
    held()
      .filter((x) => [A, B, C].includes(x))
      .sort();
  const run = async (what: string, f: () => Promise<void>, expected: string[]) => {
    try {
      await f();
      const h = ours();
      log.push(`${what}: ${JSON.stringify(h) === JSON.stringify(expected) ? "ok" : `reported success, device holds ${h.join(",") || "nothing"}`}`);
    } catch (e) {
      if (!(isGrantError(e) && /^\d{6}$/.test(e.code))) throw e;
      log.push(`${what}: GrantError ${e.code}`);
    }
  };
  let id = "";
  let outs: Record<string, unknown> = {};
  let olds: object = {};
  const step = async (addresses: string[]) => {
    const c = await p.check(olds, inputs(addresses));
    expect(c.failures ?? []).toEqual([]);
    olds = c.inputs as object;
    return c.inputs;
  };
  await run(
    "create",
    async () => {
      const r = await p.create((await step([A, B])) as never);
      id = r.id;
      outs = r.outs;
    },
    [A, B],
  );
  if (!id) return log;
  await run(
    "update drop",
    async () => {
      outs = (await p.update(id, outs as never, (await step([A])) as never)).outs ?? outs;
    },
    [A],
  );
  await run(
    "update add",
    async () => {
      outs = (await p.update(id, outs as never, (await step([A, C])) as never)).outs ?? outs;
    },
    [A, C],
  );
  await run("delete", () => p.delete(id, outs as never), []);
  return log;
}

afterAll(async () => {
  await closeAllAgents();
  resetProcessState();
});

const fgtCases = fortigateVariants.VARIANTS.filter((v) => v.option.startsWith("feedSettings.")).flatMap((v) => v.values.map((x) => [v.option, x] as const));

describe("FortigateFeedSet update in place under every feed variant", () => {
  it.concurrent.each(fgtCases)("%s = %s", async (option, value) => {
    const base = option === "feedSettings.pushVisibleAfterMs" ? {} : { feedSettings: { pushVisibleAfterMs: 0 } };
    const emu = await startFortigateEmulator(
      withOption({ vdoms: ["root"], feeds: [{ name: FEED, entries: FILLER }], ...base }, option, optionValue(value)) as never,
    );
    try {
      const log = await walk(
        fortigateFeedSetProvider as unknown as P,
        (addresses) => ({
          __provider: "x",
          connection: { url: emu.url, caCert: emu.caCert },
          credentials: { token: emu.token },
          feed: FEED,
          addresses,
          grantName: "fs",
        }),
        () => [...(emu.backend.feeds.find("root", FEED, false)?.entries.values() ?? [])].map((e) => e.entry),
      );
      expect(log.filter((l) => l.includes("reported success"))).toEqual([]);
    } finally {
      await emu.close();
    }
  });
});

describe("FortigateAddressSet update in place under the member variants", () => {
  const cases = fortigateVariants.VARIANTS.filter((v) => !v.option.startsWith("feedSettings.")).flatMap((v) => v.values.map((x) => [v.option, x] as const));
  it.concurrent.each(cases)("%s = %s", async (option, value) => {
    const emu: FortigateEmulator = await startFortigateEmulator(
      withOption({ vdoms: ["root"], groups: [{ name: "jit-admins" }] }, option, optionValue(value)) as never,
    );
    try {
      const log = await walk(
        fortigateAddressSetProvider as unknown as P,
        (addresses) => ({
          __provider: "x",
          connection: { url: emu.url, caCert: emu.caCert },
          credentials: { token: emu.token },
          group: "jit-admins",
          addresses,
          grantName: "as",
        }),
        () => emu.backend.groupMembers("root", "jit-admins").map((m) => String(emu.backend.getAddress("root", "ipv4", m)?.value ?? "").split(" ")[0]!),
      );
      expect(log.filter((l) => l.includes("reported success"))).toEqual([]);
    } finally {
      await emu.close();
    }
  });
});

describe("OpnsenseAliasSet update in place under the OPNsense variants", () => {
  const cases = opnsenseVariants.VARIANTS.flatMap((v) => v.values.flatMap((x) => (["table", "config"] as const).map((m) => [v.option, x, m] as const)));
  it.concurrent.each(cases)("%s = %s, method %s", async (option, value, method) => {
    const emu = await startOpnsenseEmulator(withOption({ users: Object.values(USERS) }, option, optionValue(value)) as never);
    try {
      const log = await walk(
        opnsenseAliasSetProvider as unknown as P,
        (addresses) => ({ __provider: "x", ...connFor(emu.url, emu.caCert, "admin"), alias: "jit_admins", addresses, method, grantName: "os" }),
        () => {
          const a = emu.backend.aliases.get("jit_admins")!;
          return method === "config" ? [...a.content] : [...(emu.backend.tables.get("jit_admins") ?? [])];
        },
      );
      expect(log.filter((l) => l.includes("reported success"))).toEqual([]);
    } finally {
      await emu.close();
    }
  });
});

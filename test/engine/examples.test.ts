/**
 * End to end with the real Pulumi CLI, the example programs as a user runs them after copying one:
 * examples/opnsense, examples/fortigate, examples/fortimanager, examples/multi-device and examples/grants-list, unchanged,
 * each in its own folder (Pulumi.yaml, package.json `main`, tsconfig.json), with only the stack
 * config its header names (`<device>:url`, secret credentials, `<device>:caCert`) pointing at the
 * emulators. `pulumi up` grants; the devices hold exactly the example's grants; `pulumi preview
 * --expect-no-changes` exits 0 and writes nothing; `pulumi destroy` leaves the devices as they were.
 * test/examples.test.ts only type-checks them.
 *
 * The examples import `pulumi-firewall-grants`, resolved through the repository's node_modules
 * self-link to dist/ (run `npm run build`). Each example gets its own emulators, so one that fails
 * cannot change what the next one starts from.
 */
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { noSideEffects, startDevices, stackConfig, type DeviceSnapshot, type Devices } from "../../scripts/engine-fixture";
import { PulumiWorkspace, type RunResult } from "../../scripts/pulumi-workspace";
import { describeWithCli, leakedSecrets, ROOT } from "./helpers";

jest.setTimeout(240_000);

const ok = (r: RunResult) => ({ code: r.code, timedOut: r.timedOut, tail: r.code === 0 ? "" : r.output.slice(-3000) });

type Device = "opnsense" | "fortigate" | "fortimanager";

interface Example {
  /** Folder under examples/. */
  readonly dir: string;
  /** Devices whose connection the example's header tells the user to configure. */
  readonly devices: readonly Device[];
  /** Further plain config the header shows. */
  readonly config?: Record<string, string>;
  /** The devices after `up`, compared with `before`. */
  readonly granted: (s: DeviceSnapshot, before: DeviceSnapshot) => void;
  /** Stack outputs after `up`. */
  readonly outputs: (o: Record<string, unknown>) => void;
}

const alias = (s: DeviceSnapshot, name: string) => s.opnsense.find((a) => a.alias === name)!;
const group = (s: DeviceSnapshot, family: "groups" | "groups6", name: string) => s.fortigate[family].find((g) => g.name === name)!.members;
const slots = (s: DeviceSnapshot, userid: string) => s.fortimanager.admins.find((a) => a.userid === userid)!.slots;
/** The values of an administrator's trusted-host slots that differ from `before`, besides slot 1. */
const newSlotValues = (s: DeviceSnapshot, before: DeviceSnapshot, userid: string) => {
  const now = slots(s, userid);
  const was = slots(before, userid);
  expect(now.trusthost1).toEqual(was.trusthost1);
  expect(now.ipv6_trusthost1).toEqual(was.ipv6_trusthost1);
  return Object.keys(now)
    .filter((k) => !isDeepStrictEqual(now[k], was[k]))
    .map((k) => now[k]);
};

const EXAMPLES: readonly Example[] = [
  {
    dir: "opnsense",
    devices: ["opnsense"],
    granted: (s) => {
      // method "table" (the default): alias_util, which adds to the pf table and the alias content.
      expect(alias(s, "jit_admins").table).toEqual(["2001:db8::7", "203.0.113.7", "203.0.113.8"]);
      expect(alias(s, "jit_admins").content).toEqual(["2001:db8::7", "203.0.113.7", "203.0.113.8"]);
      // method "config": the alias content, applied (reloaded into the pf table).
      expect(alias(s, "jit_nets").content).toEqual(["198.51.100.0/24"]);
      expect(alias(s, "jit_nets").table).toEqual(["198.51.100.0/24"]);
    },
    outputs: (o) => {
      // `${host} ${alias} ${address} (${method})`, in the program's order.
      expect(o.granted).toEqual([
        expect.stringMatching(/^\S+ jit_admins 203\.0\.113\.7 \(table\)$/),
        expect.stringMatching(/^\S+ jit_admins 2001:db8::7 \(table\)$/),
        expect.stringMatching(/^\S+ jit_admins 203\.0\.113\.8 \(table\)$/),
        expect.stringMatching(/^\S+ jit_nets 198\.51\.100\.0\/24 \(config\)$/),
      ]);
    },
  },
  {
    dir: "fortigate",
    devices: ["fortigate"],
    config: { "fortigate:vdom": "root" },
    granted: (s, before) => {
      expect(s.fortigate.addresses).toEqual([...before.fortigate.addresses, "grant-alice=203.0.113.7 255.255.255.255"].sort());
      expect(s.fortigate.addresses6).toEqual([...before.fortigate.addresses6, "grant-alice-v6=2001:db8::7/128"].sort());
      expect(group(s, "groups", "jit-admins")).toEqual(["grant-alice"]);
      expect(group(s, "groups6", "jit-admins6")).toEqual(["grant-alice-v6"]);
    },
    outputs: (o) => {
      expect(o.objects).toEqual([
        "vdom root: /api/v2/cmdb/firewall/address/grant-alice = 203.0.113.7 in jit-admins",
        "vdom root: /api/v2/cmdb/firewall/address6/grant-alice-v6 = 2001:db8::7 in jit-admins6",
      ]);
    },
  },
  {
    dir: "fortimanager",
    devices: ["fortimanager"],
    granted: (s, before) => {
      expect(newSlotValues(s, before, "alice")).toEqual(expect.arrayContaining([["203.0.113.7", "255.255.255.255"], "2001:db8::7/128"]));
      expect(newSlotValues(s, before, "alice")).toHaveLength(2);
      expect(newSlotValues(s, before, "bob")).toEqual([["198.51.100.23", "255.255.255.255"]]);
    },
    outputs: (o) => {
      expect(o.slots).toEqual([
        expect.stringMatching(/^alice: 203\.0\.113\.7 in trusthost([2-9]|10)$/),
        expect.stringMatching(/^bob: 198\.51\.100\.23 in trusthost([2-9]|10)$/),
        expect.stringMatching(/^alice: 2001:db8::7 in ipv6_trusthost([2-9]|10)$/),
      ]);
    },
  },
  {
    dir: "multi-device",
    devices: ["opnsense", "fortigate", "fortimanager"],
    granted: (s, before) => {
      expect(alias(s, "jit_admins").table).toEqual(["198.51.100.23", "2001:db8::7", "203.0.113.7"]);
      expect(alias(s, "jit_nets").table).toEqual(["192.0.2.0/28"]);
      expect(s.fortigate.addresses).toEqual(
        [
          ...before.fortigate.addresses,
          "grant-alice-0=203.0.113.7 255.255.255.255",
          "grant-bob-0=198.51.100.23 255.255.255.255",
          "grant-vendor-0=192.0.2.0 255.255.255.240",
        ].sort(),
      );
      expect(s.fortigate.addresses6).toEqual([...before.fortigate.addresses6, "grant-alice-1=2001:db8::7/128"].sort());
      expect(group(s, "groups", "jit-admins")).toEqual(["grant-alice-0", "grant-bob-0", "grant-vendor-0"]);
      expect(group(s, "groups6", "jit-admins6")).toEqual(["grant-alice-1"]);
      const alice = newSlotValues(s, before, "alice");
      expect(alice).toEqual(expect.arrayContaining([["203.0.113.7", "255.255.255.255"], "2001:db8::7/128"]));
      expect(alice).toHaveLength(2);
      expect(newSlotValues(s, before, "bob")).toEqual([["198.51.100.23", "255.255.255.255"]]);
    },
    outputs: (o) => {
      // alice ×2 and bob: OPNsense, FortiGate, FortiManager; vendor: OPNsense, FortiGate.
      expect(o.grantsApplied).toHaveLength(11);
      expect(o.grantsApplied).toEqual(expect.arrayContaining(["OPNsense jit_nets 192.0.2.0/28", "FortiGate jit-admins6 grant-alice-1"]));
    },
  },
  {
    dir: "grants-list",
    devices: ["opnsense", "fortigate", "fortimanager"],
    granted: (s, before) => {
      // One set per target: config mode, so the content and the live table.
      expect(alias(s, "jit_admins").content).toEqual(["198.51.100.23", "2001:db8::7", "203.0.113.7"]);
      expect(alias(s, "jit_admins").table).toEqual(["198.51.100.23", "2001:db8::7", "203.0.113.7"]);
      expect(alias(s, "jit_nets").content).toEqual(["192.0.2.0/28", "192.0.2.64/28"]);
      expect(group(s, "groups", "jit-admins")).toEqual(["grant-198.51.100.23", "grant-203.0.113.7"]);
      expect(group(s, "groups6", "jit-admins6")).toEqual(["grant-2001:db8::7"]);
      const alice = newSlotValues(s, before, "alice");
      expect(alice).toEqual(expect.arrayContaining([["203.0.113.7", "255.255.255.255"], "2001:db8::7/128"]));
      expect(alice).toHaveLength(2);
      expect(newSlotValues(s, before, "bob")).toEqual([["198.51.100.23", "255.255.255.255"]]);
    },
    outputs: (o) => {
      // bob and carol share 198.51.100.23: one entry per target.
      expect(o.granted).toHaveLength(6);
      expect(o.granted).toEqual(expect.arrayContaining([{ kind: "opnsense", target: "jit_admins", address: "198.51.100.23" }]));
    },
  },
];

describeWithCli("engine: the example programs run as written (up / preview --expect-no-changes / destroy)", () => {
  describe.each(EXAMPLES.map((e) => [e.dir, e] as const))("examples/%s", (_dir, example) => {
    let devices: Devices;
    let ws: PulumiWorkspace | undefined;
    let before: DeviceSnapshot;
    const outputs: RunResult[] = [];
    const run = async (args: string[]) => {
      const r = await ws!.run(args);
      outputs.push(r);
      return r;
    };

    beforeAll(async () => {
      devices = await startDevices();
      before = devices.snapshot();
      ws = await PulumiWorkspace.create({
        projectDir: path.join(ROOT, "examples", example.dir),
        env: { PULUMI_NODEJS_TRANSPILE_ONLY: "true" },
        timeoutMs: 150_000,
      });
      // Only the config the example's header names, for the devices it uses.
      for (const e of stackConfig(devices).filter((c) => example.devices.includes(c.key.split(":")[0] as Device))) await ws.setConfig(e.key, e.value, e.secret);
      for (const [key, value] of Object.entries(example.config ?? {})) await ws.setConfig(key, value);
    });
    afterAll(async () => {
      await ws?.dispose();
      await devices?.close();
    });

    test("pulumi up grants exactly the example's addresses", async () => {
      const up = await run(["up", "--yes"]);
      expect(ok(up)).toEqual({ code: 0, timedOut: false, tail: "" });
      example.granted(devices.snapshot(), before);
      example.outputs(await ws!.outputs());
    });

    test("pulumi preview --expect-no-changes exits 0 and writes nothing", async () => {
      devices.clearLogs();
      const r = await run(["preview", "--expect-no-changes"]);
      expect(ok(r)).toEqual({ code: 0, timedOut: false, tail: "" });
      expect(devices.sideEffects()).toEqual(noSideEffects());
    });

    test("pulumi destroy leaves the devices as they were; no credential in clear in state or output", async () => {
      const r = await run(["destroy", "--yes"]);
      expect(ok(r)).toEqual({ code: 0, timedOut: false, tail: "" });
      expect(isDeepStrictEqual(devices.snapshot(), before) ? "same" : devices.snapshot()).toBe("same");
      const secrets = { ...devices.credentials } as unknown as Record<string, string>;
      expect(leakedSecrets(ws!.stateText(), secrets)).toEqual([]);
      expect(leakedSecrets(outputs.map((o) => o.output).join("\n"), secrets)).toEqual([]);
    });
  });
});

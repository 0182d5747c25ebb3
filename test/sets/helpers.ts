/**
 * What the set suites share: the FortiGate emulator with groups `jit-admins`/`jit6` emptied before each test (the
 * users added at start outlive every test, so the backend is not reset), and the OPNsense set inputs and checks.
 */
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { opnsenseAliasSetProvider, type AliasSetInputs, type AliasSetOutputs } from "../../provider/devices/opnsense/set-resource";
import { useEmulator } from "../support/emulator";
import { connFor } from "../opnsense/helpers";

export type Raw = Record<string, unknown>;

/** A FortiGate with groups `jit-admins` (IPv4) and `jit6` (IPv6) in `root`; every test starts with no object, member or other group. */
export function useFortigateSetEmulator() {
  return useEmulator(() => startFortigateEmulator({ vdoms: ["root"], groups: [{ name: "jit-admins" }, { name: "jit6", family: "ipv6" }] }), {
    resetBackend: false,
    onReset: (e) => {
      for (const f of ["ipv4", "ipv6"] as const) {
        for (const g of e.backend.groups("root", f)) for (const m of [...g.members]) e.backend.removeMember("root", f, g.name, m);
        for (const g of e.backend.groups("root", f)) if (g.name !== "jit-admins" && g.name !== "jit6") e.backend.deleteGroup("root", f, g.name);
        for (const a of e.backend.addresses("root", f)) e.backend.deleteAddress("root", f, a.name);
      }
      e.backend.clearLockouts();
    },
  });
}

/** The inputs of a FortigateAddressSet on that emulator's two groups. */
export const fortigateSetBase = (emu: { url: string; caCert: string; token: string }) => ({
  connection: { url: emu.url, caCert: emu.caCert },
  credentials: { token: emu.token },
  group: "jit-admins",
  group6: "jit6",
  grantName: "fs",
});

/** OPNsense set inputs on `jit_nets` (table mode, admin key) and `check` that must pass, for one emulator. */
export function opnsenseSetKit(emu: { url: string; caCert: string; backend: { tableContent(a: string): string[]; configContent(a: string): string[] } }) {
  return {
    setInputs: (extra: Raw = {}): AliasSetInputs =>
      ({ ...connFor(emu.url, emu.caCert, "admin"), alias: "jit_nets", method: "table", addresses: [], grantName: "set1", ...extra }) as never,
    async checked(news: AliasSetInputs, olds: Raw = {}): Promise<AliasSetInputs> {
      const r = await opnsenseAliasSetProvider.check(olds, news as never);
      expect(r.failures ?? []).toEqual([]);
      return r.inputs!;
    },
    table: (alias = "jit_nets") => emu.backend.tableContent(alias).sort(),
    content: (alias = "jit_nets") => emu.backend.configContent(alias).sort(),
  };
}

/** check + create, and check + diff + update as the engine runs an in-place change, of an OpnsenseAliasSet. */
export function opnsenseSetSteps(kit: ReturnType<typeof opnsenseSetKit>) {
  const p = opnsenseAliasSetProvider;
  return {
    async create(extra: Raw): Promise<AliasSetOutputs> {
      return (await p.create(await kit.checked(kit.setInputs(extra)))).outs;
    },
    async update(olds: AliasSetOutputs, extra: Raw): Promise<{ changes: boolean; outs: AliasSetOutputs }> {
      const news = await kit.checked(kit.setInputs({ ...extra, grantName: olds.grantName }), olds as never);
      const d = await p.diff("id", olds, news);
      expect(d.replaces ?? []).toEqual([]);
      if (!d.changes) return { changes: false, outs: olds };
      return { changes: true, outs: (await p.update("id", olds, news)).outs };
    },
    async refreshed(s: AliasSetOutputs): Promise<AliasSetOutputs> {
      return (await p.read("id", s)).props as AliasSetOutputs;
    },
  };
}

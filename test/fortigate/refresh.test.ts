/**
 * Refresh reads of FortiGate grants are coalesced (grant.ts readGrant, read-coalescer.ts): grants read
 * together share one read of the address table (per VDOM and family) and one read of each group, and
 * drift is still seen per grant. Counts come from the emulator's request log.
 */
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { FortigateClient } from "../../provider/devices/fortigate/client";
import { fortigateAddressProvider as provider, type FortigateAddressState } from "../../provider/devices/fortigate/resource";
import { useEmulator } from "../support/emulator";

const emu = useEmulator(() => startFortigateEmulator({}), {
  onReset: (e) => {
    e.backend.createGroup("root", "ipv4", "jit-admins", []);
    e.backend.createGroup("root", "ipv6", "jit6", []);
  },
});
const conn = () => ({ connection: { url: emu.url, caCert: emu.caCert }, credentials: { token: emu.backend.defaultToken } });
const N = 50;
const TABLE = "GET /api/v2/cmdb/firewall/address";

interface Created {
  readonly id: string;
  readonly outs: FortigateAddressState;
}

async function createAll(names: readonly string[], address: (i: number) => string, group?: string): Promise<Created[]> {
  return Promise.all(names.map((name, i) => provider.create({ ...conn(), name, address: address(i), ...(group !== undefined && { group }) } as never)));
}
const readAll = (created: readonly Created[]) => Promise.all(created.map((c) => provider.read(c.id, c.outs)));
const routes = () => emu.log.entries().map((e) => `${e.method} ${e.path}`);

describe("FortiGate refresh reads are shared", () => {
  it(`${N} concurrent reads with a group: one table read and one group read; drift still found per grant`, async () => {
    const created = await createAll(
      Array.from({ length: N }, (_, i) => `ref-${i}`),
      (i) => `198.51.100.${i + 1}`,
      "jit-admins",
    );
    emu.log.clear();
    const seen = await readAll(created);
    const before = emu.log.count();
    expect(routes().sort()).toEqual(["GET /api/v2/cmdb/firewall/address", "GET /api/v2/cmdb/firewall/addrgrp/jit-admins"]);
    expect(before).toBeLessThanOrEqual(4);
    seen.forEach((r, i) => expect(r).toEqual({ id: created[i]!.id, props: created[i]!.outs }));

    // By hand: object ref-7 deleted (its membership first, as FortiOS requires), membership of ref-8 removed.
    emu.backend.removeMember("root", "ipv4", "jit-admins", "ref-7");
    emu.backend.deleteAddress("root", "ipv4", "ref-7");
    emu.backend.removeMember("root", "ipv4", "jit-admins", "ref-8");
    emu.log.clear();
    const drift = await readAll(created);
    expect(drift[7]).toEqual({});
    expect(drift[8]!.props).toEqual({ ...created[8]!.outs, member: false });
    drift.forEach((r, i) => {
      if (i !== 7 && i !== 8) expect(r).toEqual({ id: created[i]!.id, props: created[i]!.outs });
    });
    // The gone object is read by name once before it is reported gone.
    expect(routes().sort()).toEqual([
      "GET /api/v2/cmdb/firewall/address",
      "GET /api/v2/cmdb/firewall/address/ref-7",
      "GET /api/v2/cmdb/firewall/addrgrp/jit-admins",
    ]);
    expect(emu.log.count()).toBeLessThanOrEqual(4);
    process.stdout.write(`[fortigate refresh] ${N} concurrent reads with group: ${before} requests (drift wave: ${emu.log.count()})\n`);
  });

  it(`${N} concurrent reads without a group: one table read; IPv4 and IPv6 tables read once each`, async () => {
    const v4 = await createAll(
      Array.from({ length: N }, (_, i) => `solo-${i}`),
      (i) => `203.0.113.${i + 1}`,
    );
    emu.log.clear();
    const seen = await readAll(v4);
    expect(routes()).toEqual([TABLE]);
    seen.forEach((r, i) => expect(r).toEqual({ id: v4[i]!.id, props: v4[i]!.outs }));
    process.stdout.write(`[fortigate refresh] ${N} concurrent reads without group: ${emu.log.count()} requests\n`);

    const v6 = await createAll(["six-a", "six-b"], (i) => `2001:db8::${i + 1}`, "jit6");
    emu.log.clear();
    const both = await readAll([...v4, ...v6]);
    expect(routes().sort()).toEqual(["GET /api/v2/cmdb/firewall/address", "GET /api/v2/cmdb/firewall/address6", "GET /api/v2/cmdb/firewall/addrgrp6/jit6"]);
    expect(both.slice(N).map((r) => r.props?.member)).toEqual([true, true]);
  });

  it("the device's value and comment are reported from the table (ip-mask read back as CIDR)", async () => {
    const [a, b] = await createAll(["val-a", "val-b"], (i) => (i === 0 ? "10.9.0.0/16" : "10.9.1.1"));
    emu.backend.updateAddress("root", "ipv4", "val-b", { subnet: "10.9.2.0 255.255.255.0", comment: "by hand" });
    const [ra, rb] = await readAll([a!, b!]);
    expect(ra!.props).toEqual(a!.outs);
    expect(emu.backend.getAddress("root", "ipv4", "val-a")?.value).toBe("10.9.0.0 255.255.0.0");
    expect(rb!.props).toMatchObject({ address: "10.9.2.0/24", cidr: "10.9.2.0/24", comment: "by hand" });
  });

  it("a table answer that leaves grants out (paged) never drops them: they are read by name", async () => {
    const created = await createAll(
      Array.from({ length: 12 }, (_, i) => `page-${i}`),
      (i) => `192.0.2.${i + 1}`,
    );
    emu.faults.add({
      match: /^GET \/api\/v2\/cmdb\/firewall\/address$/,
      kind: "reply",
      times: 1,
      reply: () => ({
        status: 200,
        json: {
          http_method: "GET",
          status: "success",
          http_status: 200,
          vdom: "root",
          path: "firewall",
          name: "address",
          limit_reached: true,
          results: emu.backend
            .addresses("root")
            .slice(0, 4)
            .map((a) => ({ name: a.name, q_origin_key: a.name, uuid: a.uuid, type: "ipmask", subnet: a.value, comment: a.comment })),
        },
      }),
    });
    emu.log.clear();
    const seen = await readAll(created);
    seen.forEach((r, i) => expect(r).toEqual({ id: created[i]!.id, props: created[i]!.outs }));
    expect(emu.log.count(TABLE)).toBe(1 + 8);
    expect(emu.log.count()).toBe(9);
  });

  it("a read never joins a shared read that started before this grant's own write was answered", async () => {
    const [a, b] = await createAll(["own-a", "own-b"], (i) => `192.0.2.${100 + i}`);
    const original = FortigateClient.prototype.listAddresses;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const firstStarted = new Promise<void>((r) => (started = r));
    let calls = 0;
    const spy = jest.spyOn(FortigateClient.prototype, "listAddresses").mockImplementation(async function (this: FortigateClient, f) {
      const first = ++calls === 1;
      const rows = await original.call(this, f);
      if (first) {
        started();
        await gate; // held in flight until the other grant has written and read
      }
      return rows;
    });
    try {
      const readB = provider.read(b!.id, b!.outs);
      await firstStarted; // b's table read has been answered by the device and is still "in flight"
      const { outs } = await provider.update(a!.id, a!.outs, { ...conn(), name: "own-a", address: a!.outs.address, comment: "after" } as never);
      // Whether a read joins a shared one is decided when it is asked for (synchronously), so releasing
      // the held read right after cannot change it: a joined read would answer the rows from before the write.
      const readA = provider.read(a!.id, outs);
      release();
      expect((await readA).props?.comment).toBe("after");
      expect(calls).toBe(2);
      expect((await readB).props).toEqual(b!.outs);
    } finally {
      release();
      spy.mockRestore();
    }
  });
});

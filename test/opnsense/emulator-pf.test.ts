/**
 * The OPNsense emulator loads alias lines as pf does (opnsense/core base.py `iter_addresses`), in its own code:
 * ranges, host-bit networks, wildcard masks, mapped IPv6, negations, host names, nested aliases (issue 19).
 */
import { pfEntry, pfLoad } from "../../emulators/opnsense/pf";
import { OpnsenseBackend } from "../../emulators/opnsense/backend";

describe("pf's reading of alias lines", () => {
  it.each([
    ["203.0.113.7", ["203.0.113.7"]],
    ["203.0.113.7/32", ["203.0.113.7"]],
    ["0.0.0.1/1", ["0.0.0.0/1"]],
    ["10.1.2.3/8", ["10.0.0.0/8"]],
    ["0.0.0.0-127.255.255.255", ["0.0.0.0/1"]],
    ["10.0.0.1-10.0.0.6", ["10.0.0.1", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6"]],
    ["0.0.0.0/128.0.0.0", ["0.0.0.0", "128.0.0.0"]],
    ["172.18.161.2/0.1.2.7", ["172.18.161.0/29", "172.18.163.0/29", "172.19.161.0/29", "172.19.163.0/29"]],
    ["::ffff:1.2.3.4", ["::ffff:1.2.3.4"]],
    ["2001:DB8:0:0::1/64", ["2001:db8::/64"]],
    ["2001:db8::1-2001:db8::2", ["2001:db8::1", "2001:db8::2"]],
    ["!203.0.113.9", ["!203.0.113.9"]],
    ["fw.example.net", ["198.51.100.5"]],
    ["unknown.example.net", []],
  ])("%s loads %j", (line, want) => {
    expect(pfLoad(line, (h) => (h === "fw.example.net" ? ["198.51.100.5"] : []))).toEqual(want);
  });

  it("pfctl masks and prints entries, and refuses what is not an address", () => {
    expect(pfEntry("10.0.0.1/32")).toBe("10.0.0.1");
    expect(pfEntry("10.0.0.1/24")).toBe("10.0.0.0/24");
    expect(pfEntry("10.0.0.1/33")).toBeUndefined();
    expect(pfEntry("jit_admins")).toBeUndefined();
  });

  it("a reconfigure loads every form into the live table, nested aliases and resolved names included", async () => {
    const b = new OpnsenseBackend(
      [
        { name: "inner", type: "network", content: ["192.0.2.0/24"] },
        { name: "outer", type: "network", content: ["0.0.0.0-127.255.255.255", "0.0.0.1/1", "inner", "fw.example.net", "::ffff:1.2.3.4"] },
      ],
      [],
      0,
    );
    b.dns.set("fw.example.net", ["198.51.100.5"]);
    await b.reconfigure();
    expect(b.tableContent("outer")).toEqual(["0.0.0.0/1", "192.0.2.0/24", "198.51.100.5", "::ffff:1.2.3.4"].sort());
  });
});

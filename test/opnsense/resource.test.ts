import { UNKNOWN } from "../../provider/core/dynamic-kit";
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { opnsenseAliasEntryProvider as provider, type AliasEntryInputs, type AliasEntryOutputs } from "../../provider/devices/opnsense/resource";
import { grantErrorCode, secretFreeMessages, useEmulator } from "../support/emulator";
import { connFor, fastConfigTiming, SECRET, type UserName } from "./helpers";
import { USERS } from "./helpers";

// The emulator answers in milliseconds: a short settle still exceeds every read→write window (the real
// settle is what test/opnsense/cross-process.test.ts proves).
fastConfigTiming();

const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));
const messages = secretFreeMessages(SECRET);

const inputs = (who: UserName, extra: Record<string, unknown> = {}) =>
  ({ ...connFor(emu.url, emu.caCert, who), alias: "jit_admins", address: "203.0.113.7", ...extra }) as AliasEntryInputs;

async function checked(news: AliasEntryInputs): Promise<AliasEntryInputs> {
  const r = await provider.check!({} as AliasEntryInputs, news);
  expect(r.failures ?? []).toEqual([]);
  return r.inputs!;
}

const checkCode = (news: AliasEntryInputs) => grantErrorCode(provider.check!({} as AliasEntryInputs, news), { messages });

describe("check refuses hostile input before any request", () => {
  it.each([
    ["address", "203.0.113.7\n10.0.0.1", "newline"],
    ["address", "203.0.113.7,10.0.0.1", "comma"],
    ["address", "203.0.113.7 ", "space"],
    ["address", "203.0.113.7\t", "tab"],
    ["address", "fe80::1%eth0", "zone id"],
    ["address", "010.0.0.1", "leading zero"],
    ["address", "fw.example.net", "host name"],
    ["address", "0.0.0.0/0", "broader than /8"],
    ["address", "::/0", "broader than /32"],
    ["address", "2.0.0.0/7", "broader than /8"],
    ["address", "10.0.0.1/24", "host bits"],
    ["alias", "table", "reserved word"],
    ["alias", "any", "reserved word"],
    ["alias", "ssh", "service"],
    ["alias", "a".repeat(32), "31 characters"],
    ["alias", "__lan", "single underscore"],
    ["alias", "../alias_util/flush/sshlockout", "letters, digits"],
    ["alias", "jit admins", "letters, digits"],
    ["alias", "", "1-31"],
  ])("refuses %s %j (%s)", async (field, value, rule) => {
    const r = await provider.check!({} as AliasEntryInputs, inputs("admin", { [field]: value }));
    expect(r.failures).toHaveLength(1);
    expect(r.failures![0]!.property).toBe(field);
    expect(r.failures![0]!.reason).toContain(rule);
    expect(emu.log.entries()).toHaveLength(0);
  });

  it("accepts a broad prefix only with allowBroad, and normalises the address", async () => {
    // A network needs a Network(s) alias: a Host(s) alias refuses any prefix on the device (OPN104).
    expect((await checked(inputs("admin", { alias: "jit_nets", address: "2.0.0.0/7", allowBroad: true }))).address).toBe("2.0.0.0/7");
    expect(await checkCode(inputs("admin", { address: "198.51.100.0/24" }))).toBe("OPN104");
    expect((await checked(inputs("admin", { address: "203.0.113.7/32" }))).address).toBe("203.0.113.7");
    expect((await checked(inputs("admin", { address: "2001:DB8:0:0::1" }))).address).toBe("2001:db8::1");
  });

  it("never names the credentials field in a failure", async () => {
    const r = await provider.check!({} as AliasEntryInputs, { ...inputs("admin"), credentials: { apiKey: 5 } } as never);
    expect(r.failures!.every((f) => f.property === "" && !f.reason.includes(SECRET))).toBe(true);
  });

  it("skips validation and the preflight for values unknown during preview", async () => {
    const r = await provider.check!({} as AliasEntryInputs, inputs("admin", { address: UNKNOWN }));
    expect(r.failures ?? []).toEqual([]);
    expect(emu.log.entries()).toHaveLength(0);
  });
});

describe("preview preflight", () => {
  it.each([
    ["admin", "table", "none"],
    ["tables", "table", "none"],
    ["tablesRead", "table", "none"],
    ["edit", "config", "none"],
    ["read", "table", "OPN001"],
    ["tables", "config", "OPN001"],
    ["read", "config", "OPN001"],
    ["none", "table", "OPN001"],
    ["disabled", "table", "OPN000"],
  ] as const)("user %s, method %s → %s, with no side effect", async (who, method, code) => {
    expect(await checkCode(inputs(who, { method }))).toBe(code);
    expect(emu.log.sideEffects()).toHaveLength(0);
  });

  it("names the one missing privilege", async () => {
    await checkCode(inputs("read", { method: "table" }));
    expect(messages.at(-1)).toContain('Missing privilege: "Diagnostics: PF Table IP addresses"');
    await checkCode(inputs("tables", { method: "config" }));
    expect(messages.at(-1)).toContain('Missing privilege: "Firewall: Aliases"');
    await checkCode(inputs("read", { method: "config" }));
    expect(messages.at(-1)).toContain('Missing privilege: "Firewall: Alias: Edit"');
  });

  it("reports OPN100 for a missing alias (also for a tables-only key) and OPN101 for a port alias", async () => {
    expect(await checkCode(inputs("admin", { alias: "no_such_alias" }))).toBe("OPN100");
    expect(await checkCode(inputs("tables", { alias: "no_such_alias" }))).toBe("OPN100");
    expect(await checkCode(inputs("admin", { alias: "web_ports" }))).toBe("OPN101");
    expect(await checkCode(inputs("edit", { alias: "jit_runtime", method: "config" }))).toBe("OPN101");
  });

  it("probes once per device, key, alias and method for the process", async () => {
    for (let i = 0; i < 20; i++) await checked(inputs("admin", { address: `203.0.113.${i + 1}` }));
    console.log(
      `preflight: ${emu.log.entries().length} requests (${emu.log
        .entries()
        .map((e) => e.route)
        .join(", ")})`,
    );
    expect(emu.log.entries()).toHaveLength(4);
    expect(emu.log.sideEffects()).toHaveLength(0);
  });
});

describe.each(["table", "config"] as const)("%s mode: create, read, delete", (method) => {
  const who: UserName = method === "table" ? "tablesRead" : "edit";

  it("creates, reads and deletes a grant", async () => {
    const ins = await checked(inputs(who, { method, address: "203.0.113.7/32" }));
    emu.log.clear();
    const { id, outs } = await provider.create(ins);
    const createRequests = emu.log.entries().length;
    expect(outs).toMatchObject({ address: "203.0.113.7", cidr: "203.0.113.7/32", adopted: false, aliasType: "host", method });
    expect(emu.backend.configContent("jit_admins")).toEqual(["203.0.113.7"]);
    expect(emu.backend.tableContent("jit_admins")).toEqual(["203.0.113.7"]);
    expect((await provider.read!(id, outs!)).id).toBe(id);
    emu.log.clear();
    await provider.delete!(id, outs!);
    const deleteRequests = emu.log.entries().length;
    console.log(`${method} mode: create ${createRequests} requests, delete ${deleteRequests} requests per grant`);
    expect(emu.backend.configContent("jit_admins")).toEqual([]);
    expect(emu.backend.tableContent("jit_admins")).toEqual([]);
    await provider.delete!(id, outs!); // idempotent
  });

  it("adopts an address that is already there, and delete revokes it all the same", async () => {
    emu.backend.insertAddress("jit_admins", "203.0.113.8");
    const { id, outs } = await provider.create(await checked(inputs(who, { method, address: "203.0.113.8" })));
    expect(outs!.adopted).toBe(true);
    expect(emu.backend.configContent("jit_admins")).toEqual(["203.0.113.8"]);
    await provider.delete!(id, outs!);
    expect(emu.backend.configContent("jit_admins")).toEqual([]);
  });

  it("drops a grant removed by hand on refresh (drift)", async () => {
    const { id, outs } = await provider.create(await checked(inputs(who, { method, address: "198.51.100.0/24", alias: "jit_nets" })));
    expect(emu.backend.configContent("jit_nets")).toEqual(["198.51.100.0/24"]);
    emu.backend.removeAddress("jit_nets", "198.51.100.0/24");
    const r = await provider.read!(id, outs!);
    expect(r.id).toBeUndefined();
  });

  it("diff replaces on identity and updates the description in place", async () => {
    const olds = (await provider.create(await checked(inputs(who, { method, description: "a" })))).outs!;
    expect(await provider.diff!("x", olds, { ...olds, description: "b" })).toMatchObject({ changes: true, replaces: [] });
    expect(await provider.diff!("x", olds, { ...olds, address: "203.0.113.7/32" })).toMatchObject({ changes: false });
    expect(await provider.diff!("x", olds, { ...olds, address: "203.0.113.9" })).toMatchObject({ changes: true, replaces: ["address"] });
    expect(await provider.diff!("x", olds, { ...olds, alias: UNKNOWN })).toMatchObject({ changes: true, replaces: ["alias"] });
    expect(await provider.diff!("x", olds, { ...olds, method: method === "table" ? "config" : "table" })).toMatchObject({
      replaces: ["method"],
      deleteBeforeReplace: true,
    });
  });
});

describe("table mode details", () => {
  it("cleans up a duplicated first line on delete (index-0 bug)", async () => {
    emu.backend.aliases.get("jit_admins")!.content = ["203.0.113.7", "203.0.113.7"];
    await emu.backend.reconfigure();
    const outs = {
      ...(await checked(inputs("tablesRead"))),
      cidr: "203.0.113.7/32",
      host: "h",
      aliasUuid: emu.backend.aliases.get("jit_admins")!.uuid,
      aliasType: "host",
      adopted: false,
    } as AliasEntryOutputs;
    await provider.delete!("id", outs);
    expect(emu.backend.configContent("jit_admins")).toEqual([]);
  });

  it("removes an IPv6 host from a network alias, where the device stores it with /128", async () => {
    const { id, outs } = await provider.create(await checked(inputs("tablesRead", { alias: "jit_nets", address: "2001:db8::7" })));
    expect(emu.backend.configContent("jit_nets")).toEqual(["2001:db8::7/128"]);
    await provider.delete!(id, outs!);
    expect(emu.backend.configContent("jit_nets")).toEqual([]);
  });

  it("works with only the tables privilege (lookup through alias_util/aliases)", async () => {
    const { id, outs } = await provider.create(await checked(inputs("tables", { alias: "jit_runtime" })));
    expect(outs).toMatchObject({ aliasUuid: "", aliasType: "unknown" });
    expect(emu.backend.tableContent("jit_runtime")).toEqual(["203.0.113.7"]);
    await provider.delete!(id, outs!);
    expect(emu.backend.tableContent("jit_runtime")).toEqual([]);
  });

  it("reports OPN201 for a user with System: Deny config write", async () => {
    const ins = await checked(inputs("readonly"));
    await expect(provider.create(ins)).rejects.toMatchObject({ code: "OPN201" });
  });
});

describe("config mode details", () => {
  it("reports OPN200 when the apply fails", async () => {
    emu.backend.reconfigureError = "There were error(s) loading the rules";
    const ins = await checked(inputs("edit", { method: "config" }));
    await expect(provider.create(ins)).rejects.toMatchObject({ code: "OPN200" });
  });

  it("reads the key file OPNsense downloads", async () => {
    const fs = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "opn-")), "apikey.txt");
    fs.writeFileSync(file, `key=${USERS.edit.key}\nsecret=${USERS.edit.secret}\n`);
    const ins = await checked({
      connection: { url: emu.url, caCert: emu.caCert, apiKeyFile: file },
      alias: "jit_admins",
      address: "192.0.2.1",
      method: "config",
    } as AliasEntryInputs);
    const { outs } = await provider.create(ins);
    expect(JSON.stringify(outs)).not.toContain(SECRET);
    expect(emu.backend.configContent("jit_admins")).toEqual(["192.0.2.1"]);
  });
});

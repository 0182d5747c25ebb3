/**
 * The OPNsense emulator stores every alias field the model stores and validates it as the device does
 * (opnsense/core models/OPNsense/Firewall/Alias.xml per tag, Base/FieldTypes, Firewall/Alias.php
 * `performValidation`), and accepts the alias line forms the device accepts, in its own code (issue 19).
 */
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { contentProblems } from "../../emulators/opnsense/validate";
import { versionTraits } from "../../emulators/opnsense/version";
import { useEmulator } from "../support/emulator";
import { closeRawAgent, raw, USERS } from "./helpers";

const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));
const call = (method: string, path: string, body?: unknown) => raw(emu.url, emu.caCert, method, path, { who: "admin", ...(body ? { body } : {}) });
afterAll(closeRawAgent);

type Alias = Record<string, unknown>;
const selected = (m: unknown) =>
  Object.entries(m as Record<string, { selected: number }>)
    .filter(([, o]) => o.selected === 1)
    .map(([k]) => k)
    .join(",");

describe("OPNsense emulator: every stored alias field is stored (Alias.xml)", () => {
  const sent = {
    name: "url_feed",
    type: "urljson",
    content: "https://example.net/feed.json",
    proto: "IPv4,IPv6",
    interface: "lan",
    counters: "1",
    updatefreq: "0.5",
    path_expression: ".prefixes[].ip_prefix",
    authtype: "Bearer",
    username: "",
    password: "tok-en_1.2",
    expire: "3600",
    description: "from a peer",
  };

  it("set then get, search and export return every field as sent (26.7.2)", async () => {
    const add = await call("POST", "/api/firewall/alias/add_item", { alias: sent });
    expect(add.json).toMatchObject({ result: "saved" });
    const uuid = (add.json as { uuid: string }).uuid;
    const got = ((await call("GET", `/api/firewall/alias/get_item/${uuid}`)).json as { alias: Alias }).alias;
    const scalars = ["name", "counters", "updatefreq", "path_expression", "username", "password", "expire", "description"] as const;
    for (const k of scalars) expect([k, got[k]]).toEqual([k, sent[k]]);
    expect([selected(got.proto), selected(got.interface), selected(got.authtype), selected(got.type)]).toEqual(["IPv4,IPv6", "lan", "Bearer", "urljson"]);
    expect(got.categories).toEqual({});

    const exported = (await call("GET", `/api/firewall/alias/export?ids=${uuid}`)).json as { aliases: { alias: Record<string, Alias> } };
    expect(exported.aliases.alias[uuid]).toEqual({ enabled: "1", categories: "", ...sent });

    const rows = ((await call("POST", "/api/firewall/alias/search_item", { searchPhrase: "url_feed" })).json as { rows: Alias[] }).rows;
    expect(rows[0]).toMatchObject({ proto: "IPv4,IPv6", interface: "lan", counters: "1", updatefreq: "0.5", authtype: "Bearer", expire: "3600" });

    // A set that leaves a field out keeps it (BaseField setNodes).
    expect((await call("POST", `/api/firewall/alias/set_item/${uuid}`, { alias: { description: "renamed" } })).json).toEqual({ result: "saved" });
    const again = ((await call("GET", `/api/firewall/alias/get_item/${uuid}`)).json as { alias: Alias }).alias;
    expect([again.updatefreq, again.expire, selected(again.proto), again.description]).toEqual(["0.5", "3600", "IPv4,IPv6", "renamed"]);
  });

  it("a new alias holds the model defaults", async () => {
    const add = await call("POST", "/api/firewall/alias/add_item", { alias: { name: "plain", type: "host", content: "192.0.2.1" } });
    const uuid = (add.json as { uuid: string }).uuid;
    const exported = (await call("GET", `/api/firewall/alias/export?ids=${uuid}`)).json as { aliases: { alias: Record<string, Alias> } };
    expect(exported.aliases.alias[uuid]).toMatchObject({ proto: "", interface: "", counters: "0", updatefreq: "", authtype: "", expire: "", categories: "" });
  });

  it("refuses unknown option values and bad numbers with the device's messages, keyed by field", async () => {
    const r = await call("POST", "/api/firewall/alias/add_item", {
      alias: {
        name: "bad",
        type: "host",
        proto: "IPv4,IPv5",
        interface: "dmz",
        authtype: "Digest",
        counters: "yes",
        updatefreq: "daily",
        expire: "59",
        categories: "nope",
      },
    });
    expect(r.json).toEqual({
      result: "failed",
      validations: {
        "alias.proto": "Option [IPv5] not in list.",
        "alias.interface": "Option [] not in list.",
        "alias.authtype": "Option [] not in list.",
        "alias.counters": "Value should be a boolean (0,1).",
        "alias.updatefreq": "Days and hours should be numeric values or left empty.",
        "alias.expire": "Invalid integer value.",
        "alias.categories": "Related category not found.",
      },
    });
    const auth = await call("POST", "/api/firewall/alias/add_item", { alias: { name: "auth", type: "urltable", authtype: "Basic", username: "u" } });
    expect(auth.json).toEqual({ result: "failed", validations: { "alias.authtype": "Please provide a username and password when Basic auth is selected" } });
    const dyn = await call("POST", "/api/firewall/alias/add_item", { alias: { name: "dyn", type: "dynipv6host", content: "::1000" } });
    expect(dyn.json).toEqual({ result: "failed", validations: { "alias.interface": "IPv6 Dynamic Host require an interface to track." } });
  });

  it("before 26.1 the list message names no value, and 24.7 has no URL-auth or expire fields", async () => {
    await call("POST", "/__emulator/version", { version: "24.7" });
    try {
      const r = await call("POST", "/api/firewall/alias/add_item", { alias: { name: "old", type: "host", proto: "IPv5" } });
      expect(r.json).toEqual({ result: "failed", validations: { "alias.proto": "Option not in list." } });
      const got = ((await call("GET", "/api/firewall/alias/get_item")).json as { alias: Alias }).alias;
      expect(Object.keys(got)).not.toEqual(expect.arrayContaining(["authtype"]));
      expect(["path_expression", "authtype", "expire"].filter((k) => k in got)).toEqual([]);
      expect(["proto", "interface", "counters", "updatefreq", "categories"].filter((k) => !(k in got))).toEqual([]);
    } finally {
      await call("POST", "/__emulator/version", { version: "26.7.2" });
    }
  });
});

describe("OPNsense emulator: alias lines accepted as the device accepts them", () => {
  const traits = versionTraits();
  const isAlias = (n: string) => n === "inner";
  // AliasContentField `validateNetwork` (Util `isIpAddress`/`isSubnet`/`isWildcard`, `ip-ip`, aliases).
  it.each(["0.0.0.0-127.255.255.255", "0.0.0.1/1", "10.0.0.0/255.0.255.0", "::ffff:1.2.3.4", "::ffff:1.2.3.4/128", "inner", "!192.0.2.0/24"])(
    "a Network(s) alias takes %s",
    (line) => {
      expect(contentProblems("network", [line], isAlias, traits)).toEqual([]);
    },
  );
  // AliasContentField `validateHost`: an address, a range, `!ip`, an alias, or a host name (Util `isDomain`).
  it.each(["10.0.0.1-10.0.0.6", "::ffff:1.2.3.4", "inner", "fw.example.net", "!192.0.2.9"])("a Host(s) alias takes %s", (line) => {
    expect(contentProblems("host", [line], isAlias, traits)).toEqual([]);
  });
  it.each([
    ["host", "10.0.0.1/32", 'Entry "10.0.0.1/32" is not a valid hostname, IP address or range.'], // isIpAddress is FILTER_VALIDATE_IP: no `/`
    ["host", "10.0.0.1-junk", 'Entry "10.0.0.1-junk" is not a valid hostname, IP address or range.'], // 25.7+ broken range
    ["network", "fw.example.net", 'Entry "fw.example.net" is not a network.'], // validateNetwork has no host names
    ["network", "10.0.0.1/33", 'Entry "10.0.0.1/33" is not a network.'], // isSubnet: at most 32
    ["networkgroup", "192.0.2.1", 'Entry "192.0.2.1" is not a valid alias.'], // validateNestedAlias: names only
  ])("a %s alias refuses %s", (type, line, msg) => {
    expect(contentProblems(type, [line], isAlias, traits)).toEqual([msg]);
  });
});

import { maskToPrefix, parseAddress, prefixToMask, sameAddress } from "../provider/core/address";

describe("grant addresses are normalised so a cosmetic rewrite is never a diff", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7", "203.0.113.7/32", 4],
    ["203.0.113.7/32", "203.0.113.7", "203.0.113.7/32", 4],
    ["10.0.0.0/8", "10.0.0.0/8", "10.0.0.0/8", 4],
    ["0.0.0.0", "0.0.0.0", "0.0.0.0/32", 4],
    ["2001:DB8::1", "2001:db8::1", "2001:db8::1/128", 6],
    ["2001:0db8:0000:0000:0000:0000:0000:0001/128", "2001:db8::1", "2001:db8::1/128", 6],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", "2001:db8::1:0:0:1/128", 6],
    ["2001:db8::/32", "2001:db8::/32", "2001:db8::/32", 6],
    ["::1", "::1", "::1/128", 6],
    ["fe80::1:2", "fe80::1:2", "fe80::1:2/128", 6],
  ])("%s → %s", (raw, canonical, cidr, family) => {
    const r = parseAddress(raw);
    expect(r).toMatchObject({ ok: true, address: { canonical, cidr, family } });
  });

  it("treats a host with and without /32 as the same grant", () => {
    expect(sameAddress("203.0.113.7", "203.0.113.7/32")).toBe(true);
    expect(sameAddress("2001:db8::1", "2001:0DB8::0001/128")).toBe(true);
    expect(sameAddress("203.0.113.7", "203.0.113.8")).toBe(false);
  });
});

describe("hostile or ambiguous addresses are refused with the rule named", () => {
  it.each([
    ["empty", "", /must not be empty/],
    ["newline", "203.0.113.7\n10.0.0.0/8", /a newline/],
    ["carriage return", "203.0.113.7\r", /a carriage return/],
    ["comma list", "203.0.113.7,10.0.0.1", /a comma/],
    ["space", "203.0.113.7 10.0.0.1", /a space/],
    ["padding", " 203.0.113.7", /a space/],
    ["tab", "203.0.113.7\t", /a tab/],
    ["NUL", "203.0.113.7\u0000", /NUL/],
    ["zone id", "fe80::1%eth0", /zone id/],
    ["leading zero octet", "010.0.0.1", /leading zero/],
    ["octal-looking octet", "192.168.01.1", /leading zero/],
    ["hex form", "0x7f.0.0.1", /forbidden|contains/],
    ["short form", "127.1", /four dotted-decimal octets/],
    ["octet too large", "256.1.1.1", /larger than 255/],
    ["hostname", "fw.example.net", /host names are not accepted/],
    ["IPv4-mapped IPv6", "::ffff:1.2.3.4", /IPv4-mapped|embedded/],
    ["IPv4-mapped IPv6 in hex", "::ffff:102:304", /IPv4-mapped/],
    ["host bits set", "10.0.0.1/24", /host bits set.*10\.0\.0\.0\/24/],
    ["IPv6 host bits set", "2001:db8::1/64", /host bits set/],
    ["IPv4 /0", "0.0.0.0/0", /allowBroad/],
    ["IPv6 /0", "::/0", /allowBroad/],
    ["IPv4 broader than /8", "10.0.0.0/7", /broader than \/8/],
    ["IPv6 broader than /32", "2000::/31", /broader than \/32/],
    ["prefix too long", "10.0.0.1/33", /0 to 32/],
    ["prefix with leading zero", "10.0.0.0/08", /leading zeros/],
    ["two slashes", "10.0.0.0/8/8", /one '\/'/],
    ["double ::", "2001::db8::1", /only once/],
    ["too many IPv6 groups", "1:2:3:4:5:6:7:8:9", /eight groups/],
    ["Unicode digit", "２03.0.113.7", /U\+FF12/],
    ["Arabic-Indic digit", "٢03.0.113.7", /U\+0662/],
    ["very long", "1".repeat(65), /at most 64/],
    ["path traversal", "../10.0.0.1", /eight groups|dotted|octet|IPv4/],
    ["percent-encoded", "10.0.0.1%2F8", /zone id/],
    ["semicolon", "10.0.0.1;rm", /semicolon/],
    ["not a string", 42 as unknown as string, /must be a string/],
  ])("%s", (_name, raw, rule) => {
    const r = parseAddress(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.rule).toMatch(rule);
  });

  it("allows broad prefixes only with allowBroad", () => {
    expect(parseAddress("0.0.0.0/0", { allowBroad: true })).toMatchObject({ ok: true, address: { canonical: "0.0.0.0/0" } });
    expect(parseAddress("::/0", { allowBroad: true })).toMatchObject({ ok: true, address: { canonical: "::/0" } });
  });
});

describe("netmask conversion for devices that speak 'ip mask'", () => {
  it.each([
    [32, "255.255.255.255"],
    [24, "255.255.255.0"],
    [0, "0.0.0.0"],
    [9, "255.128.0.0"],
  ])("/%d ⇄ %s", (prefix, mask) => {
    expect(prefixToMask(prefix)).toBe(mask);
    expect(maskToPrefix(mask)).toBe(prefix);
  });
  it("rejects a non-contiguous mask", () => {
    expect(maskToPrefix("255.0.255.0")).toBeUndefined();
  });
});

describe("the canonical IPv4 host shortcut (issue 22) gives the full parse's answer", () => {
  // Every octet form around the boundaries: the shortcut takes only a host already canonical; `x/32` always takes the full parse.
  const octets = ["0", "1", "9", "10", "99", "100", "199", "200", "249", "250", "255", "256", "300", "01", "00", "010", "1000", "-1", "a"];
  const hosts = octets.flatMap((o) => [`${o}.0.0.1`, `10.${o}.0.1`, `10.0.${o}.1`, `10.0.0.${o}`]);
  it.each(hosts)("%s", (h) => {
    const direct = parseAddress(h);
    const full = parseAddress(`${h}/32`);
    expect(direct.ok).toBe(full.ok);
    if (direct.ok && full.ok) expect(direct.address).toEqual(full.address);
  });

  it.each(["1.2.3.4\n", " 1.2.3.4", "1.2.3.4 ", "1.2.3", "1.2.3.4.5", "1..3.4", "１.2.3.4"])("refuses %j as before", (h) => {
    expect(parseAddress(h).ok).toBe(false);
  });
});

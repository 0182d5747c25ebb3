import { readFileSync } from "node:fs";
import * as path from "node:path";
import { diagnose, diagnosed, hostOfUrl, toGrantError, CATALOGUE, DIAGNOSIS_CODES } from "../provider/core/diagnosis";
import { TransportError, isFirewallGrantsError } from "../provider/core/errors";
import { withGeneratedBlocks } from "../scripts/render-readme";

describe("diagnosis messages", () => {
  it("read as the SPEC shows: code + title + host, the cause, then numbered fixes naming the one privilege", () => {
    const e = diagnose("OPN001", {
      host: "fw1.example.net",
      detail: 'the API key is valid but its user may not call /api/firewall/alias_util/add. Missing privilege: "Diagnostics: PF Table IP addresses"',
      status: 403,
      vars: { privilege: "Diagnostics: PF Table IP addresses" },
    });
    const lines = e.message.split("\n");
    expect(lines[0]).toBe(
      'OPN001 OPNsense authorization failed on fw1.example.net: the API key is valid but its user may not call /api/firewall/alias_util/add. Missing privilege: "Diagnostics: PF Table IP addresses" (HTTP 403).',
    );
    expect(lines).toContain("Fix:");
    expect(e.message).toMatch(/ {2}1\. System > Access > Groups > \(the API user's group\) > Assigned privileges: add "Diagnostics: PF Table IP addresses"/);
    expect(e.code).toBe("OPN001");
    expect(isFirewallGrantsError(e)).toBe(true);
  });

  it("classifies low-level failures per device family", () => {
    const t = (kind: TransportError["kind"]) => new TransportError({ kind, method: "GET", path: "/x", host: "h", detail: kind });
    expect(toGrantError(t("timeout"), "opnsense", { host: "h", timeoutMs: 5 }).code).toBe("OPN002");
    expect(toGrantError(t("tls"), "opnsense", { host: "h" }).code).toBe("OPN003");
    expect(toGrantError(t("refused"), "opnsense", { host: "h" }).code).toBe("OPN004");
    expect(toGrantError(t("dns"), "opnsense", { host: "h" }).code).toBe("OPN005");
    expect(toGrantError(t("timeout"), "fortinet", { host: "h" }).code).toBe("202004");
    expect(toGrantError(t("tls"), "fortinet", { host: "h" }).code).toBe("202003");
    expect(toGrantError(t("dns"), "fortinet", { host: "h" }).code).toBe("202000");
  });

  it("fills every placeholder of every catalogue entry when given the context", () => {
    for (const code of DIAGNOSIS_CODES) {
      const entry = CATALOGUE[code];
      const names = [...`${entry.cause} ${entry.fix.join(" ")}`.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      const vars = Object.fromEntries(names.map((n) => [n, `<${n}>`]));
      expect(diagnose(code, { host: "h", detail: "d", vars }).message).not.toMatch(/\{\w+\}|\(unknown\)/);
    }
  });
});

describe("the last-resort diagnosis of every provider method", () => {
  it("keeps a diagnosis, classifies a transport failure, and names the host, never the URL", async () => {
    const kept = diagnose("OPN100", { host: "fw1", detail: "no alias", vars: { alias: "a" } });
    await expect(diagnosed("opnsense", { host: "x" }, () => Promise.reject(kept))).rejects.toBe(kept);
    const refused = new TransportError({ kind: "refused", method: "POST", path: "/jsonrpc", host: "fmg:8443", detail: "refused" });
    await expect(diagnosed("fortinet", { host: "fmg:8443" }, () => Promise.reject(refused))).rejects.toMatchObject({ code: "202000", host: "fmg:8443" });
    await expect(diagnosed("fortinet", { host: hostOfUrl("https://fmg.example.net:8443") }, () => Promise.reject(new Error("boom")))).rejects.toMatchObject({
      code: "202090",
      host: "fmg.example.net:8443",
    });
    expect(hostOfUrl("https://user:pw@fw1.example.net/")).toBe("fw1.example.net");
    expect(hostOfUrl(undefined)).toBe("(no url)");
    expect(hostOfUrl("not a url")).toBe("(invalid url)");
  });
});

describe("README", () => {
  it("holds the diagnosis-code table generated from the catalogue (run `npm run docs` after a change)", () => {
    const readme = readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
    expect(readme).toBe(withGeneratedBlocks(readme));
  });
});

/**
 * settings.ts: where a connection setting comes from (inline > stack config > environment), the names
 * users type for it, and the one rule every device URL must pass (issue 9), with messages that name
 * the place to fix and never echo a credential (issue 14).
 */
import { processState, resetProcessState } from "../provider/core/process-state";
import { booleanSetting, deviceOrigin, envName, resolveDeviceUrl, resolveSetting, SettingProblem, settingPlaces } from "../provider/core/settings";

const ENV = ["OPNSENSE_URL", "OPNSENSE_ALLOW_HTTP", "OPNSENSE_API_KEY_FILE", "FORTIGATE_URL", "FORTIGATE_VDOM", "FORTIMANAGER_URL", "FORTIMANAGER_ALLOW_HTTP"];
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));

beforeEach(() => {
  resetProcessState();
  for (const k of ENV) delete process.env[k];
});
afterAll(() => {
  resetProcessState();
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe("envName", () => {
  it.each([
    ["opnsense", "url", "OPNSENSE_URL"],
    ["opnsense", "apiKeyFile", "OPNSENSE_API_KEY_FILE"],
    ["opnsense", "apiSecret", "OPNSENSE_API_SECRET"],
    ["fortigate", "caCert", "FORTIGATE_CA_CERT"],
    ["fortigate", "timeoutMs", "FORTIGATE_TIMEOUT_MS"],
    ["fortimanager", "allowHttp", "FORTIMANAGER_ALLOW_HTTP"],
  ] as const)("%s %s → %s", (ns, key, name) => {
    expect(envName(ns, key)).toBe(name);
  });
});

describe("resolveSetting", () => {
  it("takes the inline value first and names it", () => {
    processState().config = { "fortigate:vdom": "from-config" };
    process.env.FORTIGATE_VDOM = "from-env";
    expect(resolveSetting("fortigate", "vdom", "inline")).toEqual({ value: "inline", from: "connection.vdom" });
  });

  it("takes stack config next and names the config key", () => {
    processState().config = { "fortigate:vdom": "from-config" };
    process.env.FORTIGATE_VDOM = "from-env";
    expect(resolveSetting("fortigate", "vdom", undefined)).toEqual({ value: "from-config", from: "stack config fortigate:vdom" });
  });

  it("takes the environment last and names the variable", () => {
    process.env.OPNSENSE_API_KEY_FILE = "/run/secrets/opnsense.txt";
    expect(resolveSetting("opnsense", "apiKeyFile", undefined)).toEqual({ value: "/run/secrets/opnsense.txt", from: "environment OPNSENSE_API_KEY_FILE" });
  });

  it("treats empty strings as unset at every level", () => {
    processState().config = { "fortigate:vdom": "" };
    process.env.FORTIGATE_VDOM = "from-env";
    expect(resolveSetting("fortigate", "vdom", "")).toEqual({ value: "from-env", from: "environment FORTIGATE_VDOM" });
    process.env.FORTIGATE_VDOM = "";
    expect(resolveSetting("fortigate", "vdom", "")).toEqual({ value: undefined, from: "connection.vdom" });
  });

  it("does not read another device's config or environment", () => {
    processState().config = { "opnsense:url": "https://opn" };
    process.env.OPNSENSE_URL = "https://opn";
    expect(resolveSetting("fortigate", "url", undefined).value).toBeUndefined();
  });

  it("uses the caller's inline name", () => {
    expect(resolveSetting("opnsense", "apiKeyFile", "/k", "apiKeyFile")).toEqual({ value: "/k", from: "apiKeyFile" });
    expect(resolveSetting("opnsense", "apiKeyFile", undefined, "apiKeyFile").from).toBe("apiKeyFile");
  });
});

describe("settingPlaces", () => {
  it("lists the inline field, the config key and the environment variable", () => {
    expect(settingPlaces("opnsense", "apiKeyFile")).toBe("connection.apiKeyFile, stack config opnsense:apiKeyFile or environment OPNSENSE_API_KEY_FILE");
  });
});

describe("booleanSetting", () => {
  it.each([
    ["true", true],
    ["1", true],
    ["false", false],
    ["0", false],
    [true, true],
    [false, false],
    [undefined, undefined],
  ] as const)("%s → %s", (v, want) => {
    expect(booleanSetting(v)).toBe(want);
  });
});

describe("deviceOrigin", () => {
  it.each([
    ["https://fw.example.net", false, "https://fw.example.net"],
    ["https://fw.example.net/", false, "https://fw.example.net"],
    ["https://fw.example.net:8443", false, "https://fw.example.net:8443"],
    ["https://fw.example.net:443", false, "https://fw.example.net"],
    ["HTTPS://FW.Example.NET", false, "https://fw.example.net"],
    ["http://lab.example.net", true, "http://lab.example.net"],
    ["http://lab.example.net:80", true, "http://lab.example.net"],
    ["http://lab.example.net:8080", true, "http://lab.example.net:8080"],
    ["https://192.0.2.1:10443", false, "https://192.0.2.1:10443"],
    ["https://[2001:db8::1]:8443", false, "https://[2001:db8::1]:8443"],
    ["https://[2001:db8::1]:443", false, "https://[2001:db8::1]"],
    ["https://[2001:DB8:0:0::1]", false, "https://[2001:db8::1]"],
  ])("%s (allowHttp %s) → %s", (raw, allowHttp, origin) => {
    expect(deviceOrigin(raw, allowHttp)).toEqual({ ok: true, origin });
  });

  const refused = (raw: string, allowHttp = false): string => {
    const r = deviceOrigin(raw, allowHttp);
    if (r.ok) throw new Error(`${raw} was accepted as ${r.origin}`);
    return r.rule;
  };

  it("refuses http:// unless allowHttp, saying why", () => {
    expect(refused("http://fw.example.net")).toMatch(/http:\/\/ sends the credentials in clear.*allowHttp/);
  });

  it.each(["ftp://fw.example.net", "file:///etc/passwd", "ws://fw.example.net"])("refuses the scheme of %s", (raw) => {
    expect(refused(raw, true)).toBe("must be an https:// URL");
  });

  it.each(["https://admin:hunter2@fw.example.net", "https://admin@fw.example.net", "https://:hunter2@fw.example.net", "http://admin:hunter2@fw.example.net"])(
    "refuses user info in %s without echoing it",
    (raw) => {
      const rule = refused(raw, true);
      expect(rule).toContain("user info");
      expect(rule).not.toContain("hunter2");
      expect(rule).not.toContain("admin");
    },
  );

  it.each([
    ["a path", "https://fw.example.net/api"],
    ["a query", "https://fw.example.net?vdom=root"],
    ["an empty query", "https://fw.example.net?"],
    ["a fragment", "https://fw.example.net#x"],
    ["an empty fragment", "https://fw.example.net#"],
    ["a path after the port", "https://fw.example.net:8443/jsonrpc"],
  ])("refuses %s", (_, raw) => {
    expect(refused(raw)).toBe("must be scheme://host[:port] with no path, query or fragment");
  });

  it.each([
    ["a leading space", " https://fw.example.net"],
    ["a trailing newline", "https://fw.example.net\n"],
    ["a trailing tab", "https://fw.example.net\t"],
    ["a newline inside the host (the URL parser would drop it)", "https://fw.exa\nmple.net"],
  ])("refuses whitespace (%s)", (_, raw) => {
    expect(refused(raw)).toBe("must not contain whitespace");
  });

  it.each(["fw.example.net", "", "https://", "https://fw.example.net:99999", "not a url"])("refuses %j as not a URL", (raw) => {
    expect(refused(raw)).toMatch(/URL|whitespace/);
  });
});

describe("resolveDeviceUrl", () => {
  const problem = (f: () => unknown): SettingProblem => {
    try {
      f();
    } catch (e) {
      if (e instanceof SettingProblem) return e;
      throw e;
    }
    throw new Error("expected a SettingProblem");
  };

  it("returns the checked origin of the inline URL", () => {
    expect(resolveDeviceUrl("opnsense", "https://fw.example.net:443/", undefined)).toBe("https://fw.example.net");
  });

  it("uses stack config, then the environment, when no inline URL is given", () => {
    process.env.FORTIGATE_URL = "https://env.example.net";
    expect(resolveDeviceUrl("fortigate", undefined, undefined)).toBe("https://env.example.net");
    processState().config = { "fortigate:url": "https://config.example.net" };
    expect(resolveDeviceUrl("fortigate", undefined, undefined)).toBe("https://config.example.net");
  });

  it("names every place to set a missing URL", () => {
    const p = problem(() => resolveDeviceUrl("fortimanager", undefined, undefined));
    expect(p.property).toBe("connection.url");
    expect(p.message).toBe("connection.url: required; set connection.url, stack config fortimanager:url or environment FORTIMANAGER_URL");
  });

  it("names the inline field for a bad inline URL", () => {
    const p = problem(() => resolveDeviceUrl("opnsense", "http://fw.example.net", undefined));
    expect(p.property).toBe("connection.url");
    expect(p.message).toMatch(/^connection\.url: http:\/\/ sends the credentials in clear/);
  });

  it("names the config key for a bad URL from stack config (and no inline property)", () => {
    processState().config = { "fortigate:url": "https://fw.example.net/api/v2" };
    const p = problem(() => resolveDeviceUrl("fortigate", undefined, undefined));
    expect(p.property).toBe("");
    expect(p.message).toMatch(/^stack config fortigate:url: must be scheme:\/\/host/);
  });

  it("names the environment variable for a bad URL from the environment", () => {
    process.env.FORTIMANAGER_URL = "http://fmg.example.net";
    const p = problem(() => resolveDeviceUrl("fortimanager", undefined, undefined));
    expect(p.property).toBe("");
    expect(p.message).toMatch(/^environment FORTIMANAGER_URL: http:\/\//);
  });

  it.each([
    ["inline", () => resolveDeviceUrl("opnsense", "https://root:Pa55-w0rd!@fw.example.net", undefined)],
    [
      "stack config",
      () => {
        processState().config = { "opnsense:url": "https://root:Pa55-w0rd!@fw.example.net" };
        return resolveDeviceUrl("opnsense", undefined, undefined);
      },
    ],
    [
      "environment",
      () => {
        process.env.OPNSENSE_URL = "https://root:Pa55-w0rd!@fw.example.net";
        return resolveDeviceUrl("opnsense", undefined, undefined);
      },
    ],
  ])("never echoes a password given in the URL (%s)", (_, f) => {
    const p = problem(f);
    expect(p.message).toContain("user info");
    expect(p.message).not.toContain("Pa55-w0rd");
    expect(JSON.stringify(p)).not.toContain("Pa55-w0rd");
  });

  it("allows http:// with allowHttp inline, from stack config or from the environment", () => {
    expect(resolveDeviceUrl("opnsense", "http://lab.example.net", true)).toBe("http://lab.example.net");
    processState().config = { "opnsense:allowHttp": "true" };
    expect(resolveDeviceUrl("opnsense", "http://lab.example.net", undefined)).toBe("http://lab.example.net");
    processState().config = {};
    process.env.OPNSENSE_ALLOW_HTTP = "1";
    expect(resolveDeviceUrl("opnsense", "http://lab.example.net", undefined)).toBe("http://lab.example.net");
  });

  it("an inline allowHttp: false wins over config and environment", () => {
    processState().config = { "opnsense:allowHttp": "true" };
    process.env.OPNSENSE_ALLOW_HTTP = "true";
    expect(() => resolveDeviceUrl("opnsense", "http://lab.example.net", false)).toThrow(SettingProblem);
  });

  it("allowHttp of one device does not open http for another", () => {
    process.env.OPNSENSE_ALLOW_HTTP = "true";
    expect(() => resolveDeviceUrl("fortimanager", "http://fmg.example.net", undefined)).toThrow(/http:\/\//);
  });
});

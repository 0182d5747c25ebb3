import { resolveBaseConnection } from "../provider/core/connection-kit";
import { processState, resetProcessState } from "../provider/core/process-state";

describe("shared connection settings (inline > stack config > environment)", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    resetProcessState();
  });

  it("takes the inline value first, then stack config, then the environment", () => {
    process.env.FORTIGATE_CA_CERT = "env-ca";
    process.env.FORTIGATE_TIMEOUT_MS = "3000";
    expect(resolveBaseConnection("fortigate", undefined)).toEqual({ caCert: "env-ca", insecure: false, timeoutMs: 3000 });
    processState().config = { "fortigate:caCert": "config-ca" };
    expect(resolveBaseConnection("fortigate", undefined).caCert).toBe("config-ca");
    expect(resolveBaseConnection("fortigate", { caCert: "inline-ca", timeoutMs: 500 })).toMatchObject({ caCert: "inline-ca", timeoutMs: 500 });
  });

  it("never hands the transport NaN: a non-numeric timeout from the environment falls back to the default", () => {
    process.env.OPNSENSE_TIMEOUT_MS = "fast";
    expect(resolveBaseConnection("opnsense", undefined).timeoutMs).toBeUndefined();
  });

  it("keeps TLS verification on unless insecure is asked for, and an inline false beats the environment", () => {
    expect(resolveBaseConnection("fortimanager", undefined).insecure).toBe(false);
    process.env.FORTIMANAGER_INSECURE = "true";
    expect(resolveBaseConnection("fortimanager", undefined).insecure).toBe(true);
    expect(resolveBaseConnection("fortimanager", { insecure: false }).insecure).toBe(false);
  });
});

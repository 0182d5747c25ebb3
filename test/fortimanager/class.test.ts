import * as pulumi from "@pulumi/pulumi";

describe("FortimanagerTrustedHost class", () => {
  it("registers pulumi-nodejs:dynamic/fortimanager:TrustedHost with token and password only in a secret 'credentials' input", async () => {
    const seen: { type: string; inputs: Record<string, unknown> }[] = [];
    await pulumi.runtime.setMocks(
      {
        newResource: (a) => {
          seen.push({ type: a.type, inputs: a.inputs });
          return { id: "alice:203.0.113.7/32", state: a.inputs };
        },
        call: (a) => a.inputs,
      },
      "proj",
      "stack",
      true,
    );
    const { FortimanagerTrustedHost } = await import("../../provider/devices/fortimanager/resource");
    const r = new FortimanagerTrustedHost("alice", {
      connection: { url: "https://fmg.example", username: "admin", password: pulumi.secret("pw-secret-123"), token: pulumi.secret("tok-secret-123") },
      adminUser: "alice",
      address: "203.0.113.7",
    });
    await new Promise<void>((resolve) => r.urn.apply(() => resolve()));
    expect(seen[0]?.type).toBe("pulumi-nodejs:dynamic/fortimanager:TrustedHost");
    expect(seen[0]?.inputs.connection).toEqual({ url: "https://fmg.example", username: "admin" });
    expect(JSON.stringify(seen[0]?.inputs.connection)).not.toMatch(/secret-123/);
    expect(seen[0]?.inputs).toHaveProperty("credentials");
  });
});

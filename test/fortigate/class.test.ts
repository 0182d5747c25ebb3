import * as pulumi from "@pulumi/pulumi";

describe("FortigateAddress class", () => {
  it("registers pulumi-nodejs:dynamic/fortigate:Address with the token only in a secret 'credentials' input", async () => {
    const seen: { type: string; inputs: Record<string, unknown> }[] = [];
    await pulumi.runtime.setMocks(
      {
        newResource: (a) => {
          seen.push({ type: a.type, inputs: a.inputs });
          return { id: "root/grant-alice", state: a.inputs };
        },
        call: (a) => a.inputs,
      },
      "proj",
      "stack",
      true,
    );
    const { FortigateAddress } = await import("../../provider/devices/fortigate/resource");
    const r = new FortigateAddress("alice", {
      connection: { url: "https://fw.example", token: pulumi.secret("tok-secret-123") },
      name: "grant-alice",
      address: "203.0.113.7",
    });
    await new Promise<void>((resolve) => r.urn.apply(() => resolve()));
    expect(seen[0]?.type).toBe("pulumi-nodejs:dynamic/fortigate:Address");
    expect(seen[0]?.inputs.connection).toEqual({ url: "https://fw.example" });
    expect(JSON.stringify(seen[0]?.inputs.connection)).not.toContain("tok-secret-123");
    expect(seen[0]?.inputs).toHaveProperty("credentials");
  });

  it("takes every connection field as a pulumi.Input (a URL from another resource's output)", async () => {
    const seen: Record<string, unknown>[] = [];
    await pulumi.runtime.setMocks({ newResource: (a) => (seen.push(a.inputs), { id: "x", state: a.inputs }), call: (a) => a.inputs }, "proj", "stack", true);
    const { FortigateAddress } = await import("../../provider/devices/fortigate/resource");
    const vmIp = pulumi.output("192.0.2.10");
    const r = new FortigateAddress("bob", {
      connection: {
        url: pulumi.interpolate`https://${vmIp}:8443`,
        vdom: pulumi.output("dmz"),
        timeoutMs: pulumi.output(5000),
        token: pulumi.output("tok-secret-456"),
      },
      name: "grant-bob",
      address: "203.0.113.8",
    });
    await new Promise<void>((resolve) => r.urn.apply(() => resolve()));
    expect(seen.at(-1)?.connection).toEqual({ url: "https://192.0.2.10:8443", vdom: "dmz", timeoutMs: 5000 });
  });
});

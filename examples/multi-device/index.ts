/**
 * One reviewed list of people and addresses, granted on every device: an OPNsense alias, a
 * FortiGate address group and the FortiManager administrator's trusted hosts. Remove a line, run
 * `pulumi up`, and the access is gone everywhere.
 *
 * Connections come from stack config (`opnsense:url`, secret `opnsense:apiKey`/`opnsense:apiSecret`,
 * `fortigate:url`, secret `fortigate:token`, `fortimanager:url`, secret `fortimanager:token`,
 * `<device>:caCert`) or the environment (OPNSENSE_URL, FORTIGATE_TOKEN, …): nothing in state.
 * A second firewall is a second connection object, e.g. `{ url: "https://fw2.example.net", apiKeyFile: "fw2.txt" }`.
 *
 * Drift check in CI: `pulumi preview --refresh --expect-no-changes` (exit 7 = edited by hand);
 * see examples/ci/drift-check.yml.
 */
import * as pulumi from "@pulumi/pulumi";
import * as grants from "pulumi-firewall-grants";

interface Person {
  /** FortiManager administrator id (case-sensitive), or none. */
  readonly fmgAdmin?: string;
  readonly addresses: readonly string[];
}

const people: Record<string, Person> = {
  alice: { fmgAdmin: "alice", addresses: ["203.0.113.7", "2001:db8::7"] },
  bob: { fmgAdmin: "bob", addresses: ["198.51.100.23"] },
  vendor: { addresses: ["192.0.2.0/28"] },
};

const granted: pulumi.Output<string>[] = [];
for (const [who, p] of Object.entries(people)) {
  p.addresses.forEach((address, i) => {
    const key = `${who}-${i}`;
    const v6 = address.includes(":");
    const opn = new grants.OpnsenseAliasEntry(`opn-${key}`, { alias: address.includes("/") ? "jit_nets" : "jit_admins", address, description: who });
    const fgt = new grants.FortigateAddress(`fgt-${key}`, { name: `grant-${key}`, address, group: v6 ? "jit-admins6" : "jit-admins", comment: who });
    granted.push(pulumi.interpolate`OPNsense ${opn.alias} ${opn.address}`, pulumi.interpolate`FortiGate ${fgt.group} ${fgt.name}`);
    if (p.fmgAdmin) {
      const fmg = new grants.FortimanagerTrustedHost(`fmg-${key}`, { adminUser: p.fmgAdmin, address });
      granted.push(pulumi.interpolate`FortiManager ${fmg.adminUser} ${fmg.slot} ${fmg.address}`);
    }
  });
}

export const grantsApplied = granted;

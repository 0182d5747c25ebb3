/**
 * The quick-start program: grants a few addresses on all three devices. No connection setting is
 * written here — urls, credentials and CA certificates come from stack config
 * (`opnsense:url`, `opnsense:apiKey`/`opnsense:apiSecret` as secrets, `fortigate:url`,
 * `fortigate:token`, `fortimanager:url`, `fortimanager:token`, `<device>:caCert`, …) or from the
 * environment (`OPNSENSE_URL`, `FORTIGATE_TOKEN`, …), read by the provider at call time, so the
 * stack's state holds no credential.
 *
 * Run it with `npm start` (scripts/quickstart.ts starts the emulators and sets the config), or
 * against your own devices with `pulumi up` after setting the config keys above.
 */
import * as pulumi from "@pulumi/pulumi";
import * as grants from "pulumi-firewall-grants";

const cfg = new pulumi.Config("quickstart");
/** The admin workstation that gets access everywhere. */
const alice = cfg.get("aliceAddress") ?? "203.0.113.7";
const aliceV6 = cfg.get("aliceAddressV6") ?? "2001:db8::7";
const vendorNet = cfg.get("vendorNet") ?? "198.51.100.0/24";

// OPNsense: entries of existing aliases referenced by pass rules.
const opnAlice = new grants.OpnsenseAliasEntry("opnsense-alice", { alias: "jit_admins", address: alice, description: "Alice, admin workstation" });
const opnAliceV6 = new grants.OpnsenseAliasEntry("opnsense-alice-v6", { alias: "jit_admins", address: aliceV6, description: "Alice, IPv6" });
const opnVendor = new grants.OpnsenseAliasEntry("opnsense-vendor-net", {
  alias: "jit_nets",
  address: vendorNet,
  method: "config", // edit the alias content + reconfigure, instead of alias_util
  description: "vendor VPN, ticket 4711",
});

// FortiGate: an address object that is a member of an existing address group.
const fgtAlice = new grants.FortigateAddress("fortigate-alice", {
  name: "grant-alice",
  address: alice,
  comment: "Alice, admin workstation",
  group: "jit-admins",
});

// FortiManager: a trusted-host slot of the administrator "alice".
const fmgAlice = new grants.FortimanagerTrustedHost("fortimanager-alice", { adminUser: "alice", address: alice, description: "Alice, admin workstation" });

// Passive+: alice in the push threat feed "jit-allow" of two FortiGates, fanned out by the FortiManager.
const feedAlice = new grants.FortimanagerFeedEntry("passive-alice", {
  devices: ["fgt-hq", "fgt-br1"],
  feed: "jit-allow",
  address: alice,
  description: "Alice, branch firewalls",
});

/** What was granted where (no credentials). */
export const granted = {
  opnsense: [opnAlice, opnAliceV6, opnVendor].map((g) =>
    pulumi
      .all([g.host, g.alias, g.address, g.method, g.aliasUuid])
      .apply(([host, alias, address, method, aliasUuid]) => ({ host, alias, address, method, aliasUuid })),
  ),
  fortigate: pulumi
    .all([fgtAlice.name, fgtAlice.address, fgtAlice.vdom, fgtAlice.group, fgtAlice.objectPath, fgtAlice.uuid])
    .apply(([name, address, vdom, group, objectPath, uuid]) => ({ name, address, vdom, group: group ?? null, objectPath, uuid: uuid ?? null })),
  fortimanager: pulumi.all([fmgAlice.adminUser, fmgAlice.address, fmgAlice.slot]).apply(([adminUser, address, slot]) => ({ adminUser, address, slot })),
  passive: pulumi.all([feedAlice.feed, feedAlice.address, feedAlice.devices]).apply(([feed, address, devices]) => ({ feed, address, devices })),
};

/**
 * Managed lists (issue 13): catch hand-added access, grant many addresses as one resource.
 *
 *   pulumi config set opnsense:url https://fw1.example.net          # and opnsense:apiKeyFile, fortigate:*, fortimanager:*
 *   pulumi up
 *
 * The drift check a CI job runs on a schedule (exit 7 = someone changed the firewall by hand):
 *
 *   pulumi preview --refresh --expect-no-changes --diff
 *
 * Say someone adds 0.0.0.0/1 to jit_nets in the web UI. The exclusive set below reports it:
 *
 *   warning: OpnsenseAliasSet vpn-ranges: the target holds 1 entry this exclusive set does not list: 0.0.0.0/1 — `pulumi up` REMOVES it
 *   ~ pulumi-nodejs:dynamic/opnsense:AliasSet: (refresh)
 *       ~ unexpected: [ + [0]: "0.0.0.0/1" ]
 *   error: no changes were expected but changes were proposed          (exit code 7)
 *
 * and `pulumi up` removes it (with a warning naming it again). The guard does the same for an alias
 * whose addresses are granted one by one: any address no grant of the program declares is drift.
 */
import * as grants from "pulumi-firewall-grants";

// 1. A set: every vendor range in one resource. Config mode applies any number of changes with ONE
//    set_item and ONE reconfigure (one config revision); `exclusive` makes anything else drift.
export const vpnRanges = new grants.OpnsenseAliasSet("vpn-ranges", {
  alias: "jit_nets",
  method: "config",
  exclusive: true,
  addresses: ["198.51.100.0/25", { address: "198.51.100.128/25", description: "branch office" }],
}).unexpected;

// Sets on the other devices: FortiGate group members (objects named grant-<address>), and a
// FortiManager administrator's trusted hosts (slots 2..10; slot 1 is never touched; one update).
new grants.FortigateAddressSet("jit-admins", { group: "jit-admins", group6: "jit-admins6", addresses: ["203.0.113.8", "2001:db8::8"] });
new grants.FortimanagerTrustedHostSet("alice-hosts", { adminUser: "alice", exclusive: true, addresses: ["203.0.113.7", "2001:db8::7"] });

// 2. The guard: grants stay one resource each (easy to add and remove in a pull request), and the
//    alias may hold nothing else.
const carol = new grants.OpnsenseAliasEntry("carol", { alias: "jit_admins", address: "203.0.113.30", description: "carol" });

// 3. The Grant component: one person, many devices. IPv4 and IPv6 go to their own alias/group.
//    alice and bob share the office NAT address: it stays until the last of them is removed.
const alice = new grants.Grant("alice", {
  who: "alice",
  addresses: ["198.51.100.77", "2001:db8::77"],
  ticket: "CHG-1234",
  opnsense: [{ alias4: "jit_admins", alias6: "jit_admins" }],
  fortigate: [{ group: "jit-admins", group6: "jit-admins6" }],
  fortimanager: [{ adminUser: "alice" }],
});
const bob = new grants.Grant("bob", { who: "bob", addresses: ["198.51.100.77"], opnsense: [{ alias: "jit_admins" }] });

const opnChildren = [alice, bob].flatMap((g) => g.children.filter((c) => c.kind === "opnsense").map((c) => c.resource as grants.OpnsenseAliasEntry));
export const guardFindings = new grants.OpnsenseAliasGuard("jit-admins-guard", { alias: "jit_admins", grants: [carol, ...opnChildren] }).unexpected;
export const granted = [alice.granted, bob.granted];

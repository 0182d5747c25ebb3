/**
 * Passive+ grants: an address pushed into an IP address threat feed whose update method is the Push API
 * (FortiOS 7.2.1+), which firewall policies reference by name. Two FortiGates managed by FortiManager get
 * alice's address in one resource; a lab FortiGate gets bob's directly.
 *
 *   # On each FortiGate, once: config system external-resource / edit jit-allow / set type address
 *   #   set update-method push / set status enable / end   (then use jit-allow as a policy source)
 *   pulumi config set fortimanager:url https://fmg.example.net
 *   pulumi config set --secret fortimanager:token '<API key>'   # rpc-permit read-write, Manage Device Configurations read-write
 *   pulumi config set fortigate:url https://fgt-lab.example.net
 *   pulumi config set --secret fortigate:token '<REST API token>'   # System > Configuration read/write
 *   pulumi preview   # 202002 names a missing right, 202102 a missing or non-push feed, 202104 a device not up
 *   pulumi up
 */
import * as pulumi from "@pulumi/pulumi";
import * as grants from "pulumi-firewall-grants";

const config = new pulumi.Config();
const devices = config.getObject<string[]>("devices") ?? ["fgt-hq", "fgt-br1"];
const feed = config.get("feed") ?? "jit-allow";

const alice = new grants.FortimanagerFeedEntry("alice-branches", {
  devices,
  feed,
  address: "203.0.113.7",
  description: "alice, on call (CHG-1234)",
});

const bob = new grants.FortigateFeedEntry("bob-lab", { feed, address: "198.51.100.23", expiresAt: config.get("bobUntil") });

export const managed = pulumi.interpolate`${alice.address} in ${alice.feed} on ${alice.heldBy.apply((d) => d.join(", "))}`;
export const direct = pulumi.interpolate`${bob.address} in ${bob.feed} (VDOM ${bob.vdom}): ${bob.entry}`;

/**
 * One address object per grant, member of an existing address group used by a policy.
 *
 *   pulumi config set fortigate:url https://fw1.example.net
 *   pulumi config set --secret fortigate:token '<REST API token>'
 *   pulumi config set fortigate:vdom root
 *   pulumi preview   # the permission check: 202001 token rejected, 202002 profile or VDOM insufficient
 *   pulumi up
 *
 * The REST API administrator needs Firewall > Address read-write in that VDOM, and this machine in
 * its trusted hosts.
 */
import * as pulumi from "@pulumi/pulumi";
import * as grants from "pulumi-firewall-grants";

const alice = new grants.FortigateAddress("alice", {
  name: "grant-alice",
  address: "203.0.113.7",
  comment: "JIT admin access, ticket 4711",
  group: "jit-admins",
});
const aliceV6 = new grants.FortigateAddress("alice-v6", {
  name: "grant-alice-v6",
  address: "2001:db8::7",
  group: "jit-admins6", // an addrgrp6
});

export const objects = [alice, aliceV6].map((a) => pulumi.interpolate`vdom ${a.vdom}: ${a.objectPath} = ${a.address} in ${a.group}`);

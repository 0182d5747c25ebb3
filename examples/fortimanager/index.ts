/**
 * A trusted-host slot (2–10; slot 1 is never touched) of a FortiManager administrator per grant.
 *
 *   pulumi config set fortimanager:url https://fmg.example.net
 *   pulumi config set --secret fortimanager:token '<API key>'   # or fortimanager:username + --secret fortimanager:password
 *   pulumi preview   # the permission check: 202002 names the missing right (Super_User, rpc-permit read-write)
 *   pulumi up
 */
import * as pulumi from "@pulumi/pulumi";
import * as grants from "pulumi-firewall-grants";

const laptops: Record<string, string> = { alice: "203.0.113.7", bob: "198.51.100.23" };

const hosts = Object.entries(laptops).map(([adminUser, address]) => new grants.FortimanagerTrustedHost(`${adminUser}-laptop`, { adminUser, address }));
const aliceV6 = new grants.FortimanagerTrustedHost("alice-laptop-v6", { adminUser: "alice", address: "2001:db8::7" });

export const slots = [...hosts, aliceV6].map((h) => pulumi.interpolate`${h.adminUser}: ${h.address} in ${h.slot}`);

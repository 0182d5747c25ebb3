/**
 * One grant set on all three devices, for the end-to-end tests. Config `e2e:credentials`:
 * - "config" (default): connections entirely from stack config / environment (nothing inline);
 * - "inline": credentials passed inline from secret config `e2e:opnsenseApiKey`, `e2e:opnsenseApiSecret`,
 *   `e2e:fortigateToken`, `e2e:fortimanagerToken` (stored by the library as Pulumi secrets); urls and
 *   CA certificates still from the environment.
 */
import * as pulumi from "@pulumi/pulumi";
import * as grants from "pulumi-firewall-grants";

const cfg = new pulumi.Config("e2e");
const inline = cfg.get("credentials") === "inline";

const opnsense: grants.OpnsenseConnection | undefined = inline
  ? { apiKey: cfg.requireSecret("opnsenseApiKey"), apiSecret: cfg.requireSecret("opnsenseApiSecret") }
  : undefined;
const fortigate: grants.FortigateConnection | undefined = inline ? { token: cfg.requireSecret("fortigateToken") } : undefined;
const fortimanager: grants.FortimanagerConnection | undefined = inline ? { token: cfg.requireSecret("fortimanagerToken"), username: "grants-api" } : undefined;

const opnHost = new grants.OpnsenseAliasEntry("opn-host", { connection: opnsense, alias: "jit_admins", address: "203.0.113.7" });
const opnV6 = new grants.OpnsenseAliasEntry("opn-v6", { connection: opnsense, alias: "jit_admins", address: "2001:db8::7/128" });
const opnNet = new grants.OpnsenseAliasEntry("opn-net", {
  connection: opnsense,
  alias: "jit_nets",
  address: "198.51.100.0/24",
  method: "config",
  description: "vendor VPN",
});
const fgt = new grants.FortigateAddress("fgt-host", {
  connection: fortigate,
  name: "grant-e2e",
  address: "203.0.113.7/32",
  group: "jit-admins",
  comment: "e2e",
});
const fgt6 = new grants.FortigateAddress("fgt-v6", { connection: fortigate, name: "grant-e2e-v6", address: "2001:db8::7", group: "jit-admins6" });
const fmg = new grants.FortimanagerTrustedHost("fmg-host", { connection: fortimanager, adminUser: "alice", address: "203.0.113.7" });
const fmg6 = new grants.FortimanagerTrustedHost("fmg-v6", { connection: fortimanager, adminUser: "alice", address: "2001:db8::7" });

export const opnsenseGrants = [opnHost, opnV6, opnNet].map((g) => ({ alias: g.alias, address: g.address, aliasUuid: g.aliasUuid }));
export const fortigateGrants = [fgt, fgt6].map((g) => ({ name: g.name, address: g.address, group: g.group }));
export const fortimanagerGrants = [fmg, fmg6].map((g) => ({ adminUser: g.adminUser, address: g.address, slot: g.slot }));

/**
 * Addresses in existing OPNsense aliases (created by an admin and used by a pass rule).
 *
 *   pulumi config set opnsense:url https://fw1.example.net
 *   pulumi config set --secret opnsense:apiKey '<key>'      # or opnsense:apiKeyFile /secure/apikey.txt
 *   pulumi config set --secret opnsense:apiSecret '<secret>'
 *   pulumi config set opnsense:caCert -- "$(cat fw1-ca.pem)"  # a private CA, if any
 *   pulumi preview   # the permission check: OPN001 names the one missing privilege
 *   pulumi up
 *
 * The API user needs "Diagnostics: PF Table IP addresses" (method "table") and/or
 * "Firewall: Alias: Edit" (method "config"). Credentials are read by the provider at call time,
 * so the state holds none.
 */
import * as pulumi from "@pulumi/pulumi";
import * as grants from "pulumi-firewall-grants";

const cfg = new pulumi.Config();
const admins: Record<string, string> = cfg.getObject<Record<string, string>>("admins") ?? {
  alice: "203.0.113.7",
  "alice-v6": "2001:db8::7",
  bob: "203.0.113.8",
};

const entries = Object.entries(admins).map(
  ([who, address]) => new grants.OpnsenseAliasEntry(`admin-${who}`, { alias: "jit_admins", address, description: `JIT admin ${who}` }),
);

// A network via the alias content (edit + apply), e.g. for a vendor's VPN range.
const vendor = new grants.OpnsenseAliasEntry("vendor-vpn", {
  alias: "jit_nets",
  address: "198.51.100.0/24",
  method: "config",
  description: "vendor VPN, ticket 4711",
});

export const granted = [...entries, vendor].map((e) => pulumi.interpolate`${e.host} ${e.alias} ${e.address} (${e.method})`);

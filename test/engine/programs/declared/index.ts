/**
 * The grants of one scenario of the issue-9 engine tests, as data: a JSON list in stack config
 * `declared:grants`, else in env `DECLARED_GRANTS` (the tests use the environment: no config process
 * per step). Each entry is one resource:
 * - `{"kind":"opnsense","name","alias","address","method"?,"description"?}`
 * - `{"kind":"fortigate","name","object","address","group"?,"comment"?}`
 * - `{"kind":"fortimanager","name","adminUser","address"}`
 * plus, on any entry, `url` (inline connection URL) and `inline: true` (credentials inline from secret
 * config `declared:opnsenseApiKey`/`declared:opnsenseApiSecret`, `declared:fortigateToken`,
 * `declared:fortimanagerToken`). Everything else (URL, credentials, CA) comes from stack config or
 * the environment, as the README recommends.
 */
import * as pulumi from "@pulumi/pulumi";
import * as grants from "pulumi-firewall-grants";

interface GrantSpec {
  kind: "opnsense" | "fortigate" | "fortimanager";
  name: string;
  address: string;
  url?: string;
  inline?: boolean;
  alias?: string;
  method?: "table" | "config";
  description?: string;
  object?: string;
  group?: string;
  comment?: string;
  adminUser?: string;
}

const cfg = new pulumi.Config("declared");
const specs = JSON.parse(cfg.get("grants") ?? process.env.DECLARED_GRANTS ?? "[]") as GrantSpec[];

const resources = specs.map((g) => {
  const url = g.url !== undefined ? { url: g.url } : {};
  switch (g.kind) {
    case "opnsense": {
      const creds = g.inline ? { apiKey: cfg.requireSecret("opnsenseApiKey"), apiSecret: cfg.requireSecret("opnsenseApiSecret") } : {};
      const r = new grants.OpnsenseAliasEntry(g.name, {
        connection: { ...url, ...creds },
        alias: g.alias!,
        address: g.address,
        method: g.method ?? "table",
        description: g.description,
      });
      return { name: g.name, address: r.address, adopted: r.adopted };
    }
    case "fortigate": {
      const creds = g.inline ? { token: cfg.requireSecret("fortigateToken") } : {};
      const r = new grants.FortigateAddress(g.name, {
        connection: { ...url, ...creds },
        name: g.object!,
        address: g.address,
        group: g.group,
        comment: g.comment,
      });
      return { name: g.name, address: r.address, adopted: r.adopted };
    }
    case "fortimanager": {
      const creds = g.inline ? { token: cfg.requireSecret("fortimanagerToken") } : {};
      const r = new grants.FortimanagerTrustedHost(g.name, { connection: { ...url, ...creds }, adminUser: g.adminUser!, address: g.address });
      return { name: g.name, address: r.address, adopted: r.adopted };
    }
    default:
      throw new Error(`declared: unknown kind in ${JSON.stringify(g)}`);
  }
});

export const declared = resources;

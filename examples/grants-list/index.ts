/**
 * A reviewed list of people, granted as ONE set resource per target instead of one resource per person,
 * target and address: `Grants` builds an `OpnsenseAliasSet` for the alias and a `FortigateAddressSet` for the
 * group pair, each entry carrying its person's description, ticket and end. For hundreds of people this is
 * one `up` of a few resources (one `set_item` + `reconfigure` in OPNsense config mode) instead of hundreds.
 *
 * - Remove a person and run `pulumi up`: their entries go, everyone else's stay.
 * - A person's `expiresAt` passes: the drift check exits 7 (`~ expiredEntries`), `up` removes their entries only.
 * - Two people behind one office NAT address: one entry, kept until the last of them is removed.
 * - Coming from one `Grant` per person: replace them with this list and run ONE `pulumi up` — the sets are
 *   created (adopting the addresses) before the per-entry grants are deleted, and those deletes leave every
 *   address a set declares, so no access drops during the switch (README "Many people: one set per target").
 *
 * Connections come from stack config (`opnsense:url`, secret `opnsense:apiKey`/`opnsense:apiSecret`,
 * `fortigate:url`, secret `fortigate:token`, `fortimanager:url`, secret `fortimanager:token`,
 * `<device>:caCert`) or the environment (OPNSENSE_URL, FORTIGATE_TOKEN, …): nothing in state.
 * Drift check in CI: `pulumi preview --refresh --expect-no-changes`; see examples/ci/drift-check.yml.
 */
import * as grants from "pulumi-firewall-grants";

interface Person extends grants.GrantsPerson {
  /** FortiManager administrator whose trusted hosts get this person's addresses, or none. */
  readonly fmgAdmin?: string;
}

// A fixed `expiresAt` is the real end of the access: never compute it at run time.
const people: readonly Person[] = [
  { who: "alice", addresses: ["203.0.113.7", "2001:db8::7"], ticket: "CHG-1234", fmgAdmin: "alice" },
  { who: "bob", addresses: ["198.51.100.23"], description: "on call", expiresAt: "2030-06-30T18:00:00Z", fmgAdmin: "bob" },
  { who: "carol", addresses: ["198.51.100.23"], description: "same office NAT as bob" },
];

// Everyone on the shared targets: one set per target.
const team = new grants.Grants("jit", {
  people,
  opnsense: [{ alias: "jit_admins", method: "config" }],
  fortigate: [{ group: "jit-admins", group6: "jit-admins6" }],
});

// A FortiManager administrator's trusted hosts are that administrator's own: one set per person with an admin.
for (const p of people) if (p.fmgAdmin !== undefined) new grants.Grant(`${p.who}-fmg`, { ...p, collect: true, fortimanager: [{ adminUser: p.fmgAdmin }] });

// The same recipe by hand, for a list that is not people: one set, each entry with its own description and end.
const vendors = [
  { address: "192.0.2.0/28", description: "vendor A support (INC-4711)", expiresAt: "2030-01-31T18:00:00Z" },
  { address: "192.0.2.64/28", description: "vendor B monitoring" },
];
new grants.OpnsenseAliasSet("vendors", { alias: "jit_nets", method: "config", addresses: vendors });

export const granted = team.granted;

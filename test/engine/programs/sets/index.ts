/**
 * Sets, a guard and Grant components on the emulators (issue 13 engine test). Connections come from
 * the environment (OPNSENSE_URL, …). Env SETS_PEOPLE: JSON list of {who, addresses} — one Grant
 * component each, fanning out to the guarded alias jit_admins and administrator bob. Env SETS_KILL: JSON
 * list of addresses — then the program is only one table-mode set of them on jit_admins (the SIGKILL test,
 * test/engine/sets-kill.test.ts).
 * The set classes are loaded from dist/ by path until the package root exports them.
 */
import * as grants from "pulumi-firewall-grants";
import { Grant } from "../../../../dist/provider/grant-component";
import { FortigateAddressSet } from "../../../../dist/provider/devices/fortigate/set-resource";
import { FortimanagerTrustedHostSet } from "../../../../dist/provider/devices/fortimanager/set-resource";
import { OpnsenseAliasGuard, OpnsenseAliasSet } from "../../../../dist/provider/devices/opnsense/set-resource";

const killList = process.env.SETS_KILL ? (JSON.parse(process.env.SETS_KILL) as string[]) : undefined;

function full() {
  const people = JSON.parse(process.env.SETS_PEOPLE ?? "[]") as { who: string; addresses: string[] }[];

  // SETS_OVERLAP=1 (issue 18): per-entry grants beside the exclusive set and outside the guard's list, and a
  // new exclusive set. The set's diff knows only grants registered before it, and registration order is not
  // program order: the set depends on the grant it shares its alias with (the guard waits for its grants anyway).
  const extras: grants.OpnsenseAliasEntry[] = [];
  if (process.env.SETS_OVERLAP === "1") {
    extras.push(new grants.OpnsenseAliasEntry("opn-nets-extra", { alias: "jit_nets", method: "config", address: "198.51.100.9" }));
    extras.push(new grants.OpnsenseAliasEntry("opn-admins-extra", { alias: "jit_admins", address: "203.0.113.40" }));
    new OpnsenseAliasSet("opn-runtime", { alias: "jit_runtime", exclusive: true, addresses: ["192.0.2.10"] });
  }

  // SETS_EXPIRES_AT (issue 18): a per-entry grant and an exclusive set that expire.
  const expiresAt = process.env.SETS_EXPIRES_AT;
  if (expiresAt) {
    new grants.OpnsenseAliasEntry("opn-expiring", { alias: "jit_runtime", address: "192.0.2.20", expiresAt });
    new FortimanagerTrustedHostSet("fmg-expiring-set", { adminUser: "readonly", exclusive: true, addresses: ["192.0.2.21"], expiresAt });
  }

  const nets = new OpnsenseAliasSet(
    "opn-set",
    {
      alias: "jit_nets",
      method: "config",
      exclusive: true,
      addresses: ["198.51.100.1", { address: "198.51.100.128/25", description: "branch" }],
    },
    { dependsOn: extras },
  );
  const fgt = new FortigateAddressSet("fgt-set", { group: "jit-admins", group6: "jit-admins6", addresses: ["203.0.113.8", "2001:db8::8"] });
  const fmg = new FortimanagerTrustedHostSet("fmg-set", { adminUser: "alice", exclusive: true, addresses: ["203.0.113.7", "2001:db8::7"] });

  const carol = new grants.OpnsenseAliasEntry("opn-carol", { alias: "jit_admins", address: "203.0.113.30" });
  const components = people.map(
    (p) =>
      new Grant(p.who, { who: p.who, addresses: p.addresses, ticket: "CHG-13", opnsense: [{ alias: "jit_admins" }], fortimanager: [{ adminUser: "bob" }] }),
  );
  const covered = [
    carol,
    ...components.flatMap((c) => c.children.filter((ch) => ch.kind === "opnsense").map((ch) => ch.resource as grants.OpnsenseAliasEntry)),
  ];
  const guard = new OpnsenseAliasGuard("opn-guard", { alias: "jit_admins", grants: covered });

  // Env SETS_FGT_TWO_GROUPS=1: one Grant over two FortiGate groups that share its object (issue 18 item 7).
  if (process.env.SETS_FGT_TWO_GROUPS === "1")
    new Grant("dana", { who: "dana", addresses: ["203.0.113.40"], fortigate: [{ group: "jit-admins" }, { group: "jit-ops" }] });

  return {
    sets: { nets: nets.addresses, fgt: fgt.addresses, fmg: fmg.addresses },
    unexpected: { nets: nets.unexpected, guard: guard.unexpected },
    granted: components.map((c) => c.granted),
  };
}

function killOnly(addresses: string[]) {
  const set = new OpnsenseAliasSet("opn-kill", { alias: "jit_admins", method: "table", addresses });
  return { sets: { kill: set.addresses }, unexpected: {}, granted: [] };
}

const out = killList ? killOnly(killList) : full();
export const sets = out.sets;
export const unexpected = out.unexpected;
export const granted = out.granted;

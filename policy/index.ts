/**
 * Policy as code for pulumi-firewall-grants: rules that a policy pack applies to every grant of a
 * stack during `pulumi preview` / `pulumi up`, before any device is touched.
 *
 * Ready-made pack (needs `@pulumi/policy` installed next to the package):
 *
 *     pulumi preview --policy-pack node_modules/pulumi-firewall-grants/policy/pack \
 *                    --policy-pack-config grants-policy.json
 *
 * Own pack: `new PolicyPack("grants", { policies: firewallGrantsPolicies({ expiry: { maxDays: 7 } }) })`.
 *
 * Resources are recognised by their type token (`pulumi-nodejs:dynamic/<device>:<Object>`, the
 * `module`/`type` the resource classes give `pulumi.dynamic.Resource`), so the rules never see other
 * dynamic resources. Unknown values (inputs that depend on other resources during preview) are skipped
 * by @pulumi/policy. This module needs no runtime dependency: `@pulumi/policy` is used for types only.
 */
import type { EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { parseAddress } from "../provider/address";

/** The type token of each grant resource, as policies (and `pulumi stack export`) see it. */
export const GRANT_TYPES = {
  OpnsenseAliasEntry: "pulumi-nodejs:dynamic/opnsense:AliasEntry",
  FortigateAddress: "pulumi-nodejs:dynamic/fortigate:Address",
  FortimanagerTrustedHost: "pulumi-nodejs:dynamic/fortimanager:TrustedHost",
} as const;

export type GrantResourceName = keyof typeof GRANT_TYPES;

/** The resource class name for a type token of this package, else undefined. */
export function grantResourceOf(type: string): GrantResourceName | undefined {
  return (Object.keys(GRANT_TYPES) as GrantResourceName[]).find((k) => GRANT_TYPES[k] === type);
}

/** Policy names, as keys of a `--policy-pack-config` file. */
export const POLICY_NAMES = {
  prefix: "firewall-grants-broadest-prefix",
  description: "firewall-grants-description",
  expiry: "firewall-grants-expiry",
  targets: "firewall-grants-allowed-targets",
  insecure: "firewall-grants-no-insecure",
} as const;

export interface PrefixRule {
  /** Broadest IPv4 prefix a grant may have (24 allows /24../32). @default 24 */
  readonly broadestIpv4Prefix?: number;
  /** Broadest IPv6 prefix a grant may have. @default 64 */
  readonly broadestIpv6Prefix?: number;
}

export interface DescriptionRule {
  /** Regular expression the description must match, e.g. `"\\b[A-Z][A-Z0-9]+-\\d+\\b"` for a ticket id. @default "\\S" (not blank) */
  readonly pattern?: string;
}

export interface ExpiryRule {
  /** Longest time from now until `expiresAt`, in days (fractions allowed: 0.5 = 12 hours). @default 30 */
  readonly maxDays?: number;
}

export interface TargetsRule {
  /** OPNsense aliases grants may go into (`*` matches any run of characters). Unset: any alias. */
  readonly opnsenseAliases?: readonly string[];
  /** FortiGate address groups grants may join. Unset: any group. */
  readonly fortigateGroups?: readonly string[];
  /** FortiManager administrators whose trusted hosts grants may extend. Unset: any administrator. */
  readonly fortimanagerAdmins?: readonly string[];
}

/** Defaults baked into the policies' config schemas; a `--policy-pack-config` file overrides them. */
export interface FirewallGrantsPolicyOptions {
  readonly enforcementLevel?: EnforcementLevel;
  readonly prefix?: PrefixRule;
  readonly description?: DescriptionRule;
  readonly expiry?: ExpiryRule;
  readonly targets?: TargetsRule;
}

/** The grant's description: `description` on every resource, FortiGate's `comment` when it has none. */
function descriptionOf(props: Record<string, unknown>): unknown {
  const d = props.description;
  return typeof d === "string" && d.trim() !== "" ? d : props.comment ?? d;
}

/** The target a grant extends and the config key that lists the allowed ones. */
function targetOf(kind: GrantResourceName, props: Record<string, unknown>): { key: keyof TargetsRule; what: string; value: unknown } | undefined {
  switch (kind) {
    case "OpnsenseAliasEntry":
      return { key: "opnsenseAliases", what: "alias", value: props.alias };
    case "FortigateAddress":
      // An address object outside any group grants nothing by itself.
      return props.group === undefined || props.group === null || props.group === "" ? undefined : { key: "fortigateGroups", what: "address group", value: props.group };
    case "FortimanagerTrustedHost":
      return { key: "fortimanagerAdmins", what: "administrator", value: props.adminUser };
  }
}

/** `*` wildcards, everything else literal; whole-string match. */
export function matchesPattern(value: string, pattern: string): boolean {
  const re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  return re.test(value);
}

/** Milliseconds since the epoch: `FIREWALL_GRANTS_NOW` (ISO 8601) when set, as the provider's clock, else now. */
function nowMs(): number {
  const t = process.env.FIREWALL_GRANTS_NOW ? Date.parse(process.env.FIREWALL_GRANTS_NOW) : NaN;
  return Number.isFinite(t) ? t : Date.now();
}

/** A validation that runs only for this package's grant resources. */
function forGrants(fn: (kind: GrantResourceName, props: Record<string, unknown>, args: ResourceValidationArgs, report: ReportViolation) => void) {
  return (args: ResourceValidationArgs, report: ReportViolation): void => {
    const kind = grantResourceOf(args.type);
    if (kind) fn(kind, args.props, args, report);
  };
}

const ENV_INSECURE: Record<GrantResourceName, string> = {
  OpnsenseAliasEntry: "OPNSENSE_INSECURE",
  FortigateAddress: "FORTIGATE_INSECURE",
  FortimanagerTrustedHost: "FORTIMANAGER_INSECURE",
};

/** The five rules, each a separate policy so each can be configured or disabled on its own. */
export function firewallGrantsPolicies(options: FirewallGrantsPolicyOptions = {}): ResourceValidationPolicy[] {
  const level = options.enforcementLevel ?? "mandatory";
  const prefix = { broadestIpv4Prefix: 24, broadestIpv6Prefix: 64, ...options.prefix };
  const description = { pattern: "\\S", ...options.description };
  const expiry = { maxDays: 30, ...options.expiry };
  const targets = options.targets ?? {};
  const list = (d: readonly string[] | undefined) => ({ type: "array" as const, items: { type: "string" as const }, ...(d && { default: [...d] }) });
  return [
    {
      name: POLICY_NAMES.prefix,
      description: "A grant may not cover more addresses than the broadest prefix allowed (a host is /32 or /128).",
      enforcementLevel: level,
      configSchema: {
        properties: {
          broadestIpv4Prefix: { type: "integer", minimum: 0, maximum: 32, default: prefix.broadestIpv4Prefix },
          broadestIpv6Prefix: { type: "integer", minimum: 0, maximum: 128, default: prefix.broadestIpv6Prefix },
        },
      },
      validateResource: forGrants((_kind, props, args, report) => {
        const cfg = args.getConfig<Required<PrefixRule>>();
        const parsed = parseAddress(props.address, { allowBroad: true });
        if (!parsed.ok) return; // the resource's own check refuses it, with the rule
        const { family, prefix: p, cidr } = parsed.address;
        const broadest = family === 4 ? cfg.broadestIpv4Prefix : cfg.broadestIpv6Prefix;
        if (p < broadest) report(`address ${cidr} is broader than /${broadest}, the broadest IPv${family} prefix allowed (policy config ${POLICY_NAMES.prefix}.broadestIpv${family}Prefix)`);
      }),
    },
    {
      name: POLICY_NAMES.description,
      description: "Every grant carries a description (FortiGate: description or comment) that says why, e.g. a ticket id.",
      enforcementLevel: level,
      configSchema: { properties: { pattern: { type: "string", default: description.pattern } } },
      validateResource: forGrants((_kind, props, args, report) => {
        const { pattern } = args.getConfig<Required<DescriptionRule>>();
        const d = descriptionOf(props);
        if (typeof d !== "string" || d.trim() === "") report("the grant has no description: set `description` to who or what it is for and the ticket that approved it");
        else if (!new RegExp(pattern).test(d)) report(`description ${JSON.stringify(d)} does not match ${JSON.stringify(pattern)} (policy config ${POLICY_NAMES.description}.pattern)`);
      }),
    },
    {
      name: POLICY_NAMES.expiry,
      description: "Every grant has an expiresAt no further away than the longest duration allowed.",
      enforcementLevel: level,
      configSchema: { properties: { maxDays: { type: "number", exclusiveMinimum: 0, default: expiry.maxDays } } },
      validateResource: forGrants((_kind, props, args, report) => {
        const { maxDays } = args.getConfig<Required<ExpiryRule>>();
        const at = props.expiresAt;
        if (at === undefined || at === null || at === "") {
          report(`the grant has no expiresAt: set it to a time at most ${maxDays} days ahead (ISO 8601 with a zone, e.g. 2026-12-01T18:00:00Z)`);
          return;
        }
        const t = typeof at === "string" ? Date.parse(at) : NaN;
        if (!Number.isFinite(t)) return; // the resource's own check refuses it
        const days = (t - nowMs()) / 86_400_000;
        if (days > maxDays) report(`expiresAt ${at} is ${Math.ceil(days)} days ahead; at most ${maxDays} days are allowed (policy config ${POLICY_NAMES.expiry}.maxDays)`);
      }),
    },
    {
      name: POLICY_NAMES.targets,
      description: "Grants go only into the aliases, address groups and administrators' trusted hosts listed in the config.",
      enforcementLevel: level,
      configSchema: {
        properties: {
          opnsenseAliases: list(targets.opnsenseAliases),
          fortigateGroups: list(targets.fortigateGroups),
          fortimanagerAdmins: list(targets.fortimanagerAdmins),
        },
      },
      validateResource: forGrants((kind, props, args, report) => {
        const target = targetOf(kind, props);
        if (!target || typeof target.value !== "string") return;
        const allowed = args.getConfig<TargetsRule>()[target.key];
        if (allowed === undefined) return; // not restricted
        if (!allowed.some((p) => matchesPattern(target.value as string, p)))
          report(`${target.what} ${JSON.stringify(target.value)} is not an allowed target; allowed: ${allowed.length ? allowed.join(", ") : "none"} (policy config ${POLICY_NAMES.targets}.${target.key})`);
      }),
    },
    {
      name: POLICY_NAMES.insecure,
      description: "No grant turns TLS verification off (connection.insecure, or <DEVICE>_INSECURE in the environment of the run).",
      enforcementLevel: level,
      validateResource: forGrants((kind, props, _args, report) => {
        const connection = props.connection as Record<string, unknown> | undefined;
        const inline = connection?.insecure;
        if (inline === true || inline === "true") report("connection.insecure is true: TLS certificates are not verified; give the device's CA in connection.caCert instead");
        else if (inline === undefined && /^(true|1)$/.test(process.env[ENV_INSECURE[kind]] ?? ""))
          report(`${ENV_INSECURE[kind]}=${process.env[ENV_INSECURE[kind]]} in the environment turns TLS verification off; give the device's CA (caCert) instead`);
      }),
    },
  ];
}

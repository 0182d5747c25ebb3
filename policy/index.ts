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
 * `module`/`type` the resource classes give `pulumi.dynamic.Resource`; {@link GRANT_TYPES}), so the
 * rules never see other dynamic resources (whose token is `pulumi-nodejs:dynamic:Resource`). Unknown values (inputs that depend on other resources during preview) are skipped
 * by @pulumi/policy. This module needs no runtime dependency: `@pulumi/policy` is used for types only.
 */
import type { EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { parseAddress } from "../provider/core/address";
import { deviceSettingsList, settingEnvName, type ResourceClassName } from "../provider/device-settings";

/** The type token of each resource of this package, as policies (and `pulumi stack export`) see it: from the device registry. */
export const GRANT_TYPES = Object.fromEntries(
  deviceSettingsList()
    .flatMap((d) => [...d.resources, ...(d.sets ?? [])])
    .map((r) => [r.className, `pulumi-nodejs:dynamic/${r.module}:${r.type}`]),
) as Readonly<Record<ResourceClassName, string>>;

/** Each registered device's policy targets (provider/devices/<device>/settings.ts `policyTargets`). */
const POLICY_TARGETS = deviceSettingsList().flatMap((d) => d.policyTargets ?? []);

/** A resource class name of this package (`OpnsenseAliasEntry`, `FortigateFeedSet`, …). */
export type GrantResourceName = ResourceClassName;

/**
 * What a resource is to the rules: a `grant` (one address), a `set` (a list of addresses, each a grant),
 * or a `guard` (removes what no grant declares; grants nothing, so only the TLS rule applies).
 */
export type GrantRole = "grant" | "set" | "guard";

export function roleOf(name: GrantResourceName): GrantRole {
  return name.endsWith("Guard") ? "guard" : name.endsWith("Set") ? "set" : "grant";
}

/** The resource class name for a type token of this package, else undefined. */
export function grantResourceOf(type: string): GrantResourceName | undefined {
  return (Object.keys(GRANT_TYPES) as GrantResourceName[]).find((k) => GRANT_TYPES[k] === type);
}

/** The type token of the `Grant` component (provider/grant-component.ts): its children share its description. */
export const GRANT_COMPONENT_TYPE = "firewall-grants:index:Grant";

/** The URN of a resource's parent when that is a `Grant` component (the last type of its qualified type). */
function grantParent(args: ResourceValidationArgs): string | undefined {
  const parent = (args.opts as { parent?: string } | undefined)?.parent;
  return parent?.split("::")[2]?.split("$").pop() === GRANT_COMPONENT_TYPE ? parent : undefined;
}

/**
 * Grants (URNs) of this run whose description the rule checked on the Grant itself, and those reported
 * through a child: the policy pack is one process for the whole preview or update, and a Grant is
 * validated before its children (it registers first).
 */
const grantsChecked = new Set<string>();
const grantsReported = new Set<string>();

const grantMessage = (d: string, pattern: string) =>
  `its children carry description ${JSON.stringify(d)}, which does not match ${JSON.stringify(pattern)} (policy config ${POLICY_NAMES.description}.pattern): set \`ticket\` (or \`description\`) on the Grant`;

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
  /** Threat feeds (FortigateFeedEntry, FortimanagerFeedEntry) grants may add to. Unset: any feed. */
  readonly feeds?: readonly string[];
  /** Another registered device's targets (its settings.ts `policyTargets` key). */
  readonly [key: string]: readonly string[] | undefined;
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
  return typeof d === "string" && d.trim() !== "" ? d : (props.comment ?? d);
}

interface Target {
  readonly key: string;
  readonly what: string;
  readonly value: unknown;
}

const present = (v: unknown) => v !== undefined && v !== null && v !== "";

/** The targets a grant or set extends, with the config key that lists the allowed ones (from the registry). */
function targetsOf(kind: GrantResourceName, props: Record<string, unknown>): Target[] {
  return POLICY_TARGETS.filter((t) => t.resources.includes(kind)).flatMap((t) =>
    t.inputs
      .map((input) => props[input])
      .filter(present)
      .map((value) => ({ key: t.key, what: t.what, value })),
  );
}

/** A grant's addresses with their own descriptions: one for a grant, each entry of a set. */
function entriesOf(role: GrantRole, props: Record<string, unknown>): { address: unknown; description: unknown; where: string }[] {
  if (role === "grant") return [{ address: props.address, description: descriptionOf(props), where: "" }];
  const list = Array.isArray(props.addresses) ? (props.addresses as unknown[]) : [];
  return list.map((e, i) => {
    const entry = e && typeof e === "object" ? (e as Record<string, unknown>) : { address: e };
    return { address: entry.address, description: present(entry.description) ? entry.description : descriptionOf(props), where: `addresses[${i}]: ` };
  });
}

/** `*` wildcards, everything else literal; whole-string match. */
export function matchesPattern(value: string, pattern: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return re.test(value);
}

/**
 * Milliseconds since the epoch, always from the system clock: the pack never trusts the provider's test clock
 * (`FIREWALL_GRANTS_TEST_NOW`), or one variable in a CI job would let a 2099 date pass the expiry rule.
 */
function nowMs(): number {
  return Date.now();
}

type Validation = (kind: GrantResourceName, role: GrantRole, props: Record<string, unknown>, args: ResourceValidationArgs, report: ReportViolation) => void;

/** A validation that runs only for this package's resources; guards only when `guards` is set. */
function forGrants(fn: Validation, guards = false) {
  return (args: ResourceValidationArgs, report: ReportViolation): void => {
    const kind = grantResourceOf(args.type);
    if (!kind) return;
    const role = roleOf(kind);
    if (role !== "guard" || guards) fn(kind, role, args.props, args, report);
  };
}

/** The description rule on one grant or set (a set's description covers the entries that have none of their own). */
function describedRule(pattern: string, role: GrantRole, props: Record<string, unknown>, report: ReportViolation): void {
  for (const { description: d, where } of entriesOf(role, props)) {
    if (typeof d !== "string" || d.trim() === "")
      report(`${where}the grant has no description: set \`description\` to who or what it is for and the ticket that approved it`);
    else if (!new RegExp(pattern).test(d))
      report(`${where}description ${JSON.stringify(d)} does not match ${JSON.stringify(pattern)} (policy config ${POLICY_NAMES.description}.pattern)`);
  }
}

/** The environment variable that turns TLS verification off for a resource's device (`OPNSENSE_INSECURE`). */
function insecureEnv(kind: GrantResourceName): string {
  const device = deviceSettingsList().find((d) => [...d.resources, ...(d.sets ?? [])].some((r) => r.className === kind));
  return settingEnvName(device?.name ?? "", "insecure");
}

/**
 * The five rules, each a separate policy so each can be configured or disabled on its own. Grants and
 * sets get all five (a set's addresses one by one); guards, which only remove, get the TLS rule.
 */
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
      validateResource: forGrants((_kind, role, props, args, report) => {
        const cfg = args.getConfig<Required<PrefixRule>>();
        for (const { address, where } of entriesOf(role, props)) {
          const parsed = parseAddress(address, { allowBroad: true });
          if (!parsed.ok) continue; // the resource's own check refuses it, with the rule
          const { family, prefix: p, cidr } = parsed.address;
          const broadest = family === 4 ? cfg.broadestIpv4Prefix : cfg.broadestIpv6Prefix;
          if (p < broadest)
            report(
              `${where}address ${cidr} is broader than /${broadest}, the broadest IPv${family} prefix allowed (policy config ${POLICY_NAMES.prefix}.broadestIpv${family}Prefix)`,
            );
        }
      }),
    },
    {
      name: POLICY_NAMES.description,
      description: "Every grant carries a description (FortiGate: description or comment) that says why, e.g. a ticket id.",
      enforcementLevel: level,
      configSchema: { properties: { pattern: { type: "string", default: description.pattern } } },
      validateResource: (args, report) => {
        const { pattern } = args.getConfig<Required<DescriptionRule>>();
        // A Grant's children all carry its description: the rule is checked, and reported, once on the Grant.
        if (args.type === GRANT_COMPONENT_TYPE) {
          const d = args.props.grantDescription;
          if (typeof d !== "string") return; // inputs not sent (Pulumi < 3.202): its first child reports instead
          grantsChecked.add(args.urn);
          if (!new RegExp(pattern).test(d)) report(grantMessage(d, pattern));
          return;
        }
        const parent = grantParent(args);
        if (parent !== undefined) {
          if (grantsChecked.has(parent)) return;
          // The Grant's inputs were not visible: its first child reports, once for the Grant.
          const d = descriptionOf(args.props);
          if (typeof d === "string" && new RegExp(pattern).test(d)) return;
          if (!grantsReported.has(parent)) report(`Grant ${parent.split("::").pop()}: ${grantMessage(typeof d === "string" ? d : "", pattern)}`);
          grantsReported.add(parent);
          return;
        }
        forGrants((_kind, role, props, _args, rep) => describedRule(pattern, role, props, rep))(args, report);
      },
    },
    {
      name: POLICY_NAMES.expiry,
      description: "Every grant has an expiresAt no further away than the longest duration allowed.",
      enforcementLevel: level,
      configSchema: { properties: { maxDays: { type: "number", exclusiveMinimum: 0, default: expiry.maxDays } } },
      validateResource: forGrants((_kind, _role, props, args, report) => {
        const { maxDays } = args.getConfig<Required<ExpiryRule>>();
        const at = props.expiresAt;
        if (at === undefined || at === null || at === "") {
          report(`the grant has no expiresAt: set it to a time at most ${maxDays} days ahead (ISO 8601 with a zone, e.g. 2026-12-01T18:00:00Z)`);
          return;
        }
        const t = typeof at === "string" ? Date.parse(at) : NaN;
        if (!Number.isFinite(t)) return; // the resource's own check refuses it
        const days = (t - nowMs()) / 86_400_000;
        if (days > maxDays)
          report(`expiresAt ${at} is ${Math.ceil(days)} days ahead; at most ${maxDays} days are allowed (policy config ${POLICY_NAMES.expiry}.maxDays)`);
      }),
    },
    {
      name: POLICY_NAMES.targets,
      description: "Grants go only into the aliases, address groups, administrators' trusted hosts and feeds listed in the config.",
      enforcementLevel: level,
      configSchema: {
        properties: Object.fromEntries([...new Set(POLICY_TARGETS.map((t) => t.key))].map((key) => [key, list(targets[key])])),
      },
      validateResource: forGrants((kind, _role, props, args, report) => {
        for (const target of targetsOf(kind, props)) {
          if (typeof target.value !== "string") continue;
          const allowed = args.getConfig<TargetsRule>()[target.key];
          if (allowed === undefined) continue; // not restricted
          if (!allowed.some((p) => matchesPattern(target.value as string, p)))
            report(
              `${target.what} ${JSON.stringify(target.value)} is not an allowed target; allowed: ${allowed.length ? allowed.join(", ") : "none"} (policy config ${POLICY_NAMES.targets}.${target.key})`,
            );
        }
      }),
    },
    {
      name: POLICY_NAMES.insecure,
      description: "No grant turns TLS verification off (connection.insecure, or <DEVICE>_INSECURE in the environment of the run).",
      enforcementLevel: level,
      validateResource: forGrants((kind, _role, props, _args, report) => {
        const connection = props.connection as Record<string, unknown> | undefined;
        const inline = connection?.insecure;
        const env = insecureEnv(kind);
        if (inline === true || inline === "true")
          report("connection.insecure is true: TLS certificates are not verified; give the device's CA in connection.caCert instead");
        else if (inline === undefined && /^(true|1)$/.test(process.env[env] ?? ""))
          report(`${env}=${process.env[env]} in the environment turns TLS verification off; give the device's CA (caCert) instead`);
      }, true),
    },
  ];
}

/**
 * `firewall-grants doctor --stack <name>`: the checks a stack would need to pass, from its state and
 * config, with the credentials that stack would use. The state (`pulumi stack export`) names every
 * grant, set, guard and feed set of this package by type token; each one's target inputs (`alias`,
 * `group`, `adminUser`, `feed`, `devices`, …: the registry's name fields and doctor options) and its
 * pinned `device` (URL, and scope such as `vdom root`) become one check. Settings come as the provider reads them: inline non-secret connection
 * fields from state, then the stack config (`pulumi config --json --show-secrets`), then the
 * environment. Secrets are taken only from the stack config or the environment (never from state,
 * where the engine keeps them encrypted) and are never printed: the notes name keys, not values.
 */
import { execFileSync } from "node:child_process";
import { deviceSettingsList, stackConfigKeys, typeToken, type NamedDeviceSettings } from "../provider/device-settings";
import { grantResources } from "../provider/registry";
import { UsageError, type CheckJob, type DoctorPlan } from "./doctor-targets";

/** What `doctor --stack` needs from a registry device (the data half, so no resource code loads). */
type Devices = readonly NamedDeviceSettings[];

/** Runs the `pulumi` on PATH in the current directory (the project's); stdout, or a UsageError naming the command. */
function pulumi(args: readonly string[]): string {
  const cmd = "pulumi";
  try {
    return execFileSync(cmd, [...args, "--non-interactive"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 256 * 1024 * 1024 });
  } catch (e) {
    const err = e as { code?: string; stderr?: string };
    const reason =
      err.code === "ENOENT"
        ? `${cmd} not found on PATH`
        : (String(err.stderr ?? "")
            .trim()
            .split("\n")
            .find((l) => l.trim() !== "") ?? "failed");
    throw new UsageError(`pulumi ${args.slice(0, 2).join(" ")}: ${reason}`);
  }
}

interface StateResource {
  readonly type?: string;
  readonly urn?: string;
  readonly inputs?: Record<string, unknown>;
  readonly outputs?: Record<string, unknown>;
  readonly delete?: boolean;
}

/** A value the engine stored as a secret (`{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", …}`). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const isSecret = (v: unknown) => typeof v === "object" && v !== null && SECRET_SIG in v;
const plain = (v: unknown): v is string | number | boolean => typeof v === "string" || typeof v === "number" || typeof v === "boolean";

/** The resources of this package in a `pulumi stack export` document. */
export function stateResources(exported: unknown): StateResource[] {
  const doc = exported as { deployment?: { resources?: StateResource[] } };
  return (doc?.deployment?.resources ?? []).filter((r) => r && typeof r.type === "string" && r.delete !== true);
}

/** The registry's name-like inputs of a resource (`alias`, `group`, `adminUser`, `feed`, …). */
function registryNameFields(className: string): readonly string[] {
  return grantResources().find((g) => g.resource.names.className === className)?.resource.nameFields ?? [];
}

/** `"vdom root"` → `["vdom", "root"]`: a pin's scope names the connection field it came from (grant-lifecycle.ts `DevicePin`). */
export function scopeField(scope: unknown): [string, string] | undefined {
  if (typeof scope !== "string") return undefined;
  const m = /^(\w+) (.+)$/.exec(scope);
  return m ? [m[1]!, m[2]!] : undefined;
}

/** A set's listed addresses (strings or `{ address }` entries), in order. */
function listed(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v
    .map((e) => (typeof e === "string" ? e : e && typeof e === "object" ? (e as { address?: unknown }).address : undefined))
    .filter((a): a is string => typeof a === "string");
}

/**
 * One check per distinct target in the state: per resource of a registered type (grant, set, guard,
 * feed set), its target inputs, its address (IPv4 or IPv6 picks the object family) and its non-secret
 * connection fields, with the pinned device's URL and scope where the connection names none. A set is
 * checked as its per-entry resource (`checkedAs`), once per address family it lists; its IPv6 entries
 * go to `<field>6` where the set names one (FortigateAddressSet `group6`).
 */
export function jobsFromState(
  exported: unknown,
  address: string,
  devices: Devices = deviceSettingsList(),
  nameFields: (className: string) => readonly string[] = registryNameFields,
): CheckJob[] {
  const byType = new Map(
    devices.flatMap((d) => [
      ...d.resources.map((r) => [typeToken(r), { d, r, as: r.className }] as const),
      ...(d.sets ?? []).filter((r) => r.checkedAs !== undefined).map((r) => [typeToken(r), { d, r, as: r.checkedAs! }] as const),
    ]),
  );
  const seen = new Set<string>();
  const jobs: CheckJob[] = [];
  for (const res of stateResources(exported)) {
    const hit = byType.get(res.type!);
    if (!hit) continue;
    const { d, as } = hit;
    const inputs = { ...(res.outputs ?? {}), ...(res.inputs ?? {}) };
    const secretKeys = new Set(d.settings.filter((s) => s.secret).map((s) => s.key));
    const conn = inputs.connection;
    const connection: Record<string, unknown> = {};
    if (conn && typeof conn === "object" && !isSecret(conn)) {
      for (const [k, v] of Object.entries(conn as Record<string, unknown>)) if (plain(v) && !secretKeys.has(k)) connection[k] = v;
    }
    const pin = (res.inputs?.device ?? res.outputs?.device) as { url?: unknown; scope?: unknown } | undefined;
    if (connection.url === undefined && typeof pin?.url === "string") connection.url = pin.url;
    const scope = scopeField(pin?.scope);
    if (scope && connection[scope[0]] === undefined && d.settings.some((s) => s.key === scope[0] && !s.secret)) connection[scope[0]] = scope[1];
    const fields = new Set([
      ...nameFields(as),
      ...d.doctor.options.filter((o) => o.into === "input" && (o.resources ?? [d.resources[0]?.className]).includes(as)).map((o) => o.input ?? o.field),
    ]);
    const isSet = as !== hit.r.className;
    const addresses = isSet ? listed(inputs.addresses) : [typeof inputs.address === "string" ? inputs.address : address];
    const byFamily = new Map<boolean, string>();
    for (const a of addresses.length > 0 ? addresses : [address]) if (!byFamily.has(a.includes(":"))) byFamily.set(a.includes(":"), a);
    for (const [v6, addr] of byFamily) {
      const target: Record<string, unknown> = {};
      for (const f of fields) {
        const v = v6 && isSet && inputs[`${f}6`] !== undefined ? inputs[`${f}6`] : inputs[f];
        if (plain(v) || (Array.isArray(v) && v.every((x) => typeof x === "string"))) target[f] = v;
      }
      const fixed = as === d.resources[0]?.className ? d.doctor.fixed : undefined;
      const job: CheckJob = {
        device: d.name,
        resource: as,
        ...(isSet && { shownAs: hit.r.className }),
        url: typeof connection.url === "string" ? connection.url : undefined,
        inputs: { connection, ...fixed, ...target, address: addr },
      };
      // One check per target: grants and sets of one alias/group/admin share the preflight (keyed without the address, except its family).
      const key = JSON.stringify([job.device, job.resource, connection, target, v6]);
      if (seen.has(key)) continue;
      seen.add(key);
      jobs.push(job);
    }
  }
  return jobs;
}

/** `pulumi config --json` → the provider's settings (`<device>:<key>` → value), and the keys it held. */
export function settingsFromConfig(json: unknown, devices: Devices = deviceSettingsList()): { config: Record<string, string>; keys: string[] } {
  const known = new Set(stackConfigKeys(devices));
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries((json ?? {}) as Record<string, { value?: unknown }>)) {
    if (known.has(k) && v && typeof v.value === "string") config[k] = v.value;
  }
  return { config, keys: Object.keys(config).sort() };
}

/**
 * The plan of `doctor --stack`: checks from the state, settings from the stack config put where the
 * provider reads them (`setConfig`, process-state's stack config), notes that name their sources.
 */
export function stackPlan(
  stack: string,
  address: string,
  setConfig: (config: Record<string, string>) => void,
  devices: Devices = deviceSettingsList(),
): DoctorPlan {
  let exported: unknown;
  try {
    exported = JSON.parse(pulumi(["stack", "export", "--stack", stack]));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`pulumi stack export --stack ${stack}: not JSON`);
  }
  const jobs = jobsFromState(exported, address, devices);
  const notes: string[] = [];
  try {
    const { config, keys } = settingsFromConfig(JSON.parse(pulumi(["config", "--json", "--show-secrets", "--stack", stack])), devices);
    setConfig(config);
    notes.push(
      `stack ${stack}: ${jobs.length} target${jobs.length === 1 ? "" : "s"} from its state; settings from its config (${keys.length > 0 ? keys.join(", ") : "none"}), then the environment`,
    );
  } catch (e) {
    notes.push(
      `stack ${stack}: ${jobs.length} target${jobs.length === 1 ? "" : "s"} from its state; its config could not be read (${(e as Error).message}), so settings come from the environment`,
    );
  }
  if (jobs.length === 0) throw new UsageError(`stack ${stack}: its state holds no grant, set or guard of this package (nothing to check)`);
  return { targets: [], address, jobs, notes };
}

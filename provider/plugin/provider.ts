/**
 * The `firewall-grants` resource provider: the engine's calls for `firewall-grants:<device>:<Type>`
 * forwarded to the provider objects the TypeScript dynamic resources use (grant-lifecycle.ts,
 * set-lifecycle.ts), so both paths share every behaviour. What this adds is only what a real provider
 * needs beyond a dynamic one: secrets arrive marked and leave marked, the logical name comes from the
 * URN (the TypeScript classes pass it as `grantName`), guards get their fixed inputs, and `read` without
 * properties (`pulumi import`) builds the inputs from the id.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as provider from "@pulumi/pulumi/provider";
import { configureFromStack } from "../core/dynamic-kit";
import { deviceSettingsList, settingKeys } from "../device-settings";
import { constructGrant, GRANT_TOKEN } from "./grant";
import { detailedDiff } from "./detailed-diff";
import { offerDetailedDiff, takeReadInputs } from "./grpc-hooks";
import { ImportIdProblem } from "./import-ids";
import { PACKAGE, pluginResources, type PluginResource } from "./resources";
import { buildSchema, configVariable, SECRET_INPUTS } from "./schema";

/** How the engine marks a secret in a Struct (sdk/nodejs/runtime/rpc.ts `specialSigKey`, `specialSecretSig`). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

type Props = Record<string, unknown>;

function isSecret(v: unknown): v is { value: unknown } {
  return typeof v === "object" && v !== null && (v as Props)[SIG_KEY] === SECRET_SIG;
}

/** The plain value, and the top-level keys that were secret (anywhere inside). */
export function unwrapSecrets(v: unknown): { value: unknown; secret: boolean } {
  if (isSecret(v)) return { value: unwrapSecrets(v.value).value, secret: true };
  if (Array.isArray(v)) {
    const items = v.map(unwrapSecrets);
    return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
  }
  if (typeof v === "object" && v !== null) {
    const entries = Object.entries(v as Props).map(([k, x]) => [k, unwrapSecrets(x)] as const);
    return { value: Object.fromEntries(entries.map(([k, x]) => [k, x.value])), secret: entries.some(([, x]) => x.secret) };
  }
  return { value: v, secret: false };
}

/** Plain properties and the names of those that held a secret. */
function plain(props: unknown): { props: Props; secrets: Set<string> } {
  const secrets = new Set<string>();
  const out: Props = {};
  for (const [k, v] of Object.entries((props ?? {}) as Props)) {
    const u = unwrapSecrets(v);
    out[k] = u.value;
    if (u.secret) secrets.add(k);
  }
  return { props: out, secrets };
}

/** `props` with the credentials, and whatever arrived secret, marked secret again. */
function marked(props: Props | undefined, secrets: ReadonlySet<string> = new Set()): Props {
  const out: Props = {};
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined) continue;
    out[k] = (SECRET_INPUTS as readonly string[]).includes(k) || secrets.has(k) ? { [SIG_KEY]: SECRET_SIG, value: v } : v;
  }
  return out;
}

/** `urn:pulumi:<stack>::<project>::<[parent$]type>::<name>` → type and name. */
export function parseUrn(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  const name = parts.slice(3).join("::");
  const type = (parts[2] ?? "").split("$").pop() ?? "";
  return { type, name };
}

/** Provider config → the stack-config keys the library reads (`firewall-grants:opnsenseUrl` → `opnsense:url`). */
export function configFromVariables(variables: ReadonlyMap<string, string>): Map<string, string> {
  const config = new Map<string, string>();
  for (const d of deviceSettingsList()) {
    for (const { key } of settingKeys(d)) {
      // The engine names a variable `<pkg>:config:<name>` (the legacy form Configure still uses), or `<pkg>:<name>`.
      const name = configVariable(d.name, key);
      const v = variables.get(`${PACKAGE}:config:${name}`) ?? variables.get(`${PACKAGE}:${name}`);
      if (v !== undefined) config.set(`${d.name}:${key}`, v);
    }
  }
  return config;
}

export async function configure(variables: ReadonlyMap<string, string>): Promise<void> {
  const config = configFromVariables(variables);
  await configureFromStack({ config: { get: (k) => config.get(k) } });
}

export class FirewallGrantsProvider implements provider.Provider {
  private readonly byToken: ReadonlyMap<string, PluginResource>;
  readonly schema: string;

  constructor(readonly version: string) {
    this.byToken = new Map(pluginResources().map((r) => [r.token, r]));
    this.schema = JSON.stringify(buildSchema(version));
  }

  private readonly inputKeysByToken = new Map<string, string[]>();

  /** The resource's input properties, as the schema lists them. */
  private inputKeys(r: PluginResource): string[] {
    let keys = this.inputKeysByToken.get(r.token);
    if (!keys) {
      const spec = (JSON.parse(this.schema) as { resources: Record<string, { inputProperties: object }> }).resources[r.token];
      keys = Object.keys(spec?.inputProperties ?? {});
      this.inputKeysByToken.set(r.token, keys);
    }
    return keys;
  }

  private resource(urn: string): { r: PluginResource; name: string } {
    const { type, name } = parseUrn(urn);
    const r = this.byToken.get(type);
    if (!r) throw new Error(`${PACKAGE} has no resource type ${type}; it has: ${[...this.byToken.keys()].join(", ")}`);
    return { r, name };
  }

  /** What the TypeScript class would send: the program's inputs, the guard's fixed inputs, the logical name. */
  private inputsOf(r: PluginResource, name: string, given: Props): Props {
    return { ...given, ...r.fixedInputs, grantName: name };
  }

  async check(urn: pulumi.URN, olds: unknown, news: unknown): Promise<provider.CheckResult> {
    const { r, name } = this.resource(urn);
    const n = plain(news);
    const result = await r.provider.check(plain(olds).props, this.inputsOf(r, name, n.props));
    if (result.failures && result.failures.length > 0) return { failures: result.failures };
    return { inputs: marked(result.inputs, n.secrets) };
  }

  async diff(id: pulumi.ID, urn: pulumi.URN, olds: unknown, news: unknown): Promise<provider.DiffResult> {
    const { r } = this.resource(urn);
    const o = plain(olds).props;
    const n = plain(news).props;
    const result = await r.provider.diff(id, o, n);
    // The SDK's server drops anything but changes/replaces: grpc-hooks.ts adds this to the answer.
    if (result.changes) offerDetailedDiff(urn, detailedDiff(this.inputKeys(r), o, n, result.replaces ?? []));
    return result;
  }

  async create(urn: pulumi.URN, inputs: unknown): Promise<provider.CreateResult> {
    const { r } = this.resource(urn);
    const i = plain(inputs);
    const result = await r.provider.create(i.props);
    return { id: result.id, outs: marked(result.outs, i.secrets) };
  }

  async read(id: pulumi.ID, urn: pulumi.URN, props?: unknown): Promise<provider.ReadResult> {
    const { r, name } = this.resource(urn);
    const p = plain(props);
    if (Object.keys(p.props).length > 0) {
      const result = await r.provider.read(id, p.props);
      // No id: gone from the device; the engine drops it from state (refresh) — `{}` would not serialise.
      return result.id ? { id: result.id, props: marked(result.props, p.secrets) } : { id: "", props: {} };
    }
    return this.adopt(id, urn, r, name);
  }

  /**
   * `pulumi import` / the `import:` option: the inputs from the request (the option) or from the id
   * (import-ids.ts), checked, then the device read; the state gets what create would have recorded, so
   * the next preview of a program declaring these inputs shows no change. Nothing is written.
   */
  private async adopt(id: string, urn: string, r: PluginResource, name: string): Promise<provider.ReadResult> {
    const given = takeReadInputs(urn);
    const spec = r.importId;
    const refused = (why: string) => new Error(`${r.token}: cannot import ${JSON.stringify(id)}: ${why}`);
    let declared: Props | undefined;
    if (given) declared = plain(given).props;
    else if (!spec) {
      throw refused(
        "this resource has no import id (docs/plugin.md says why); declare it with the `import:` resource option and its inputs, which say what to adopt",
      );
    } else {
      try {
        declared = spec.parse(id);
      } catch (e) {
        if (e instanceof ImportIdProblem) throw refused(`${e.message} (the id is ${spec.format})`);
        throw e;
      }
    }
    const readProbe = async (probe: Props): Promise<Props | undefined> => {
      const result = await r.provider.read(id, { ...this.inputsOf(r, name, probe) });
      return result.id ? result.props : undefined;
    };
    if (!given && spec?.complete) declared = await spec.complete(declared, readProbe);
    if (!declared) throw refused("the device holds no such entry");
    const checked = await r.provider.check({}, this.inputsOf(r, name, declared));
    if (checked.failures && checked.failures.length > 0) throw refused(checked.failures.map((f) => `${f.property}: ${f.reason}`).join("; "));
    const inputs = checked.inputs ?? {};
    const seen = await readProbe({ ...inputs, ...spec?.probe(inputs) });
    if (!seen) throw refused("the device holds no such entry");
    const state: Props = { ...spec?.probe(inputs), ...seen, ...(spec && { expired: false }) };
    Object.assign(state, await spec?.recorded(state));
    const why = spec?.refuse?.(state);
    if (why) throw refused(why);
    return { id, props: marked(JSON.parse(JSON.stringify(state)) as Props), inputs: marked(declared) };
  }

  /** `firewall-grants:index:Grant`, the multi-language component (grant.ts). */
  async construct(name: string, type: string, inputs: pulumi.Inputs, options: pulumi.ComponentResourceOptions): Promise<provider.ConstructResult> {
    if (type !== GRANT_TOKEN) throw new Error(`${PACKAGE} has no component ${type}; it has: ${GRANT_TOKEN}`);
    return constructGrant(name, inputs, options);
  }

  async update(id: pulumi.ID, urn: pulumi.URN, olds: unknown, news: unknown): Promise<provider.UpdateResult> {
    const { r } = this.resource(urn);
    const n = plain(news);
    const result = await r.provider.update(id, plain(olds).props, n.props);
    return { outs: marked(result.outs, n.secrets) };
  }

  async delete(id: pulumi.ID, urn: pulumi.URN, props: unknown): Promise<void> {
    const { r } = this.resource(urn);
    await r.provider.delete(id, plain(props).props);
  }
}

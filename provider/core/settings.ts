/**
 * Connection settings as the provider resolves them at call time: the inline value, else stack config
 * `<device>:<key>`, else the environment `<DEVICE>_<KEY>`. Each resolved value remembers where it came
 * from, so a message can name the exact place to fix (issue 14: "messages name where a setting came
 * from"), and the device URL is checked by one rule whatever its route (issue 9: `http://` and user
 * info are refused for every device, also when the URL comes from config or the environment).
 */
import { processState } from "./process-state";

/**
 * A device's settings namespace (`opnsense:url`, `OPNSENSE_URL`). A plain string: the core knows no
 * device; the registry (provider/device-settings.ts) names them and hands their keys over at load.
 */
export type SettingsNamespace = string;

/** Per process, not per module copy: a serialised provider may load a second copy of the library. */
const STACK_KEYS = Symbol.for("pulumi-firewall-grants.stack-config-keys");

/**
 * Registers stack-config keys (`<device>:<key>`) for `configureFromStack` to copy. The registry calls
 * it when it loads, so the core copies every registered device's config without knowing the devices.
 */
export function registerStackConfigKeys(keys: readonly string[]): void {
  const g = globalThis as { [STACK_KEYS]?: Set<string> };
  const set = (g[STACK_KEYS] ??= new Set<string>());
  for (const k of keys) set.add(k);
}

/** The keys {@link registerStackConfigKeys} registered, in registration order. */
export function registeredStackConfigKeys(): string[] {
  return [...((globalThis as { [STACK_KEYS]?: Set<string> })[STACK_KEYS] ?? [])];
}

export interface ResolvedSetting {
  readonly value: string | undefined;
  /** `connection.url`, `stack config opnsense:url` or `environment OPNSENSE_URL`; the inline name when unset. */
  readonly from: string;
}

/** `apiKeyFile` → `API_KEY_FILE`. */
export function envName(ns: SettingsNamespace, key: string): string {
  return `${ns}_${key.replace(/([A-Z])/g, "_$1")}`.toUpperCase();
}

/** Per process, as the stack-config keys: a host that reads settings from elsewhere names that place instead. */
const CONFIG_PLACE = Symbol.for("pulumi-firewall-grants.config-place");

/**
 * Names where the config value of `<ns>:<key>` is set, for messages ("stack config opnsense:url" by
 * default). The provider plugin installs one at start: there the value arrives as provider config
 * (`firewall-grants:opnsenseUrl`), and the engine never hands it the device's own namespace.
 */
export function setConfigPlace(place: ((ns: SettingsNamespace, key: string) => string) | undefined): void {
  (globalThis as { [CONFIG_PLACE]?: (ns: string, key: string) => string })[CONFIG_PLACE] = place;
}

function configPlace(ns: SettingsNamespace, key: string): string {
  const place = (globalThis as { [CONFIG_PLACE]?: (ns: string, key: string) => string })[CONFIG_PLACE];
  return place ? place(ns, key) : `stack config ${ns}:${key}`;
}

/** The value of `key` with its origin; empty strings count as unset. */
export function resolveSetting(ns: SettingsNamespace, key: string, inline: string | undefined, inlineName = `connection.${key}`): ResolvedSetting {
  if (inline !== undefined && inline !== "") return { value: inline, from: inlineName };
  const fromConfig = processState().config[`${ns}:${key}`];
  if (fromConfig !== undefined && fromConfig !== "") return { value: fromConfig, from: configPlace(ns, key) };
  const env = envName(ns, key);
  const fromEnv = process.env[env];
  if (fromEnv !== undefined && fromEnv !== "") return { value: fromEnv, from: `environment ${env}` };
  return { value: undefined, from: inlineName };
}

/** Every place a setting may be given, for "set X, Y or Z" messages. */
export function settingPlaces(ns: SettingsNamespace, key: string, inlineName = `connection.${key}`): string {
  return `${inlineName}, ${configPlace(ns, key)} or environment ${envName(ns, key)}`;
}

/** A required setting that is missing or invalid; `property` names the inline field (never a secret's value). */
export class SettingProblem extends Error {
  override readonly name = "SettingProblem";
  constructor(
    readonly property: string,
    message: string,
  ) {
    super(message);
  }
}

/** Parses `"true"`/`"1"` (and booleans) from config or the environment. */
export function booleanSetting(v: string | boolean | undefined): boolean | undefined {
  if (typeof v === "boolean" || v === undefined) return v;
  return v === "true" || v === "1";
}

/**
 * The origin (`https://host[:port]`, default port omitted) of a device URL, or the rule it breaks:
 * https only unless `allowHttp` (credentials would cross the network in clear), no user info (a
 * password in a URL lands in state and logs), no path, query or fragment (an input must never steer a
 * request to another endpoint).
 */
export function deviceOrigin(raw: string, allowHttp: boolean): { ok: true; origin: string } | { ok: false; rule: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, rule: "must be a URL such as https://fw.example.net[:port]" };
  }
  if (/\s/.test(raw)) return { ok: false, rule: "must not contain whitespace" };
  if (url.username !== "" || url.password !== "" || raw.includes("@"))
    return { ok: false, rule: "must not contain user info (user:password@); give credentials in their own settings" };
  if (url.protocol === "http:" && !allowHttp)
    return { ok: false, rule: "http:// sends the credentials in clear and is refused; use https:// (or set allowHttp: true, lab only)" };
  if (url.protocol !== "https:" && url.protocol !== "http:") return { ok: false, rule: "must be an https:// URL" };
  if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.hash !== "" || raw.includes("?") || raw.includes("#")) {
    return { ok: false, rule: "must be scheme://host[:port] with no path, query or fragment" };
  }
  return { ok: true, origin: url.origin };
}

/** The device URL of `ns`, resolved and checked: throws {@link SettingProblem} naming where it came from. */
export function resolveDeviceUrl(ns: SettingsNamespace, inlineUrl: string | undefined, inlineAllowHttp: boolean | undefined): string {
  const url = resolveSetting(ns, "url", inlineUrl);
  if (url.value === undefined) throw new SettingProblem("connection.url", `connection.url: required; set ${settingPlaces(ns, "url")}`);
  const allowHttp = inlineAllowHttp ?? booleanSetting(resolveSetting(ns, "allowHttp", undefined).value) ?? false;
  const r = deviceOrigin(url.value, allowHttp);
  if (!r.ok) throw new SettingProblem(url.from === "connection.url" ? "connection.url" : "", `${url.from}: ${r.rule}`);
  return r.origin;
}

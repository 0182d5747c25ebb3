/**
 * The OPNsense emulator's control routes under `/__emulator/` (beside the kit's `GET|DELETE log`,
 * `POST reset`, `POST|DELETE faults`); documented in the TSDoc block of emulator.ts. They change the
 * emulated device out of band, as an admin in the web UI would, and never appear in the request log.
 */
import type { EmulatorReply, EmulatorRequest, RequestLog } from "../emulator-kit";
import type { AliasSpec, EditTarget, EmulatedUser, OpnsenseBackend } from "./emulator-backend";
import { versionTraits } from "./emulator-version";

const done = (extra: Record<string, unknown> = {}): EmulatorReply => ({ status: 200, json: { status: "ok", ...extra } });
const refuse = (error: string): EmulatorReply => ({ status: 400, json: { status: "failed", error } });
const target = (w: unknown): EditTarget => (w === "config" || w === "table" ? w : "both");

/** A JSON view of one alias: config lines and the live pf table. */
function aliasView(b: OpnsenseBackend, name: string) {
  const a = b.aliases.get(name)!;
  return {
    name: a.name,
    uuid: a.uuid,
    type: a.type,
    enabled: a.enabled,
    inUse: a.inUse,
    builtin: a.builtin,
    content: [...a.content],
    table: b.tableContent(a.name),
  };
}

export function opnsenseControl(backend: OpnsenseBackend, log: RequestLog, req: EmulatorRequest, action: string): EmulatorReply | undefined {
  let body: Record<string, unknown>;
  try {
    body = (req.body ? JSON.parse(req.body) : {}) as Record<string, unknown>;
  } catch {
    return refuse("control routes take a JSON body");
  }
  const key = `${req.method} ${action}`;
  const alias = typeof body.alias === "string" ? body.alias : (req.query.get("alias") ?? undefined);
  switch (key) {
    case "GET state": {
      const names = [...backend.aliases.values()].filter((a) => !a.builtin).map((a) => a.name);
      const tables = Object.fromEntries([...backend.tables.keys()].map((k) => [k, backend.tableContent(k)]));
      return {
        status: 200,
        json: {
          version: backend.traits.version,
          aliases: names.map((n) => aliasView(backend, n)),
          tables,
          reconfigureCount: backend.reconfigureCount,
          configSaves: backend.configSaves,
          revisions: backend.revisions,
        },
      };
    }
    case "GET alias":
      if (!alias || !backend.aliases.has(alias)) return { status: 404, json: { status: "failed", error: `no alias ${String(alias)}` } };
      return { status: 200, json: aliasView(backend, alias) };
    case "GET unhandled":
      return { status: 200, json: log.unhandled() };
    case "POST users":
      backend.putUser({ disabled: false, ...(body as Omit<EmulatedUser, "disabled">) });
      return done();
    case "POST aliases":
      if (typeof body.name !== "string" || typeof body.type !== "string") return refuse("need {name, type}");
      return done({ uuid: backend.addAlias(body as unknown as AliasSpec).uuid });
    case "DELETE aliases":
      return backend.removeAlias(String(body.name ?? req.query.get("name"))) ? done() : refuse("no such user alias");
    case "POST alias-content":
      if (!alias || !backend.aliases.has(alias)) return refuse(`no alias ${String(alias)}`);
      if (typeof body.remove === "string") backend.removeAddress(alias, body.remove, target(body.where));
      if (typeof body.add === "string") backend.insertAddress(alias, body.add, target(body.where));
      return done(aliasView(backend, alias));
    case "POST seed-table": {
      if (!alias || !backend.aliases.has(alias)) return refuse(`no alias ${String(alias)}`);
      const count = Number(body.count);
      if (!Number.isInteger(count) || count < 0 || count > 1_000_000) return refuse("count must be an integer 0..1000000");
      return done(backend.seedTable(alias, count, typeof body.start === "string" ? body.start : undefined, target(body.where)));
    }
    case "POST reconfigure-error":
      backend.reconfigureError = typeof body.error === "string" ? body.error : undefined;
      return done();
    case "POST version":
      try {
        backend.traits = versionTraits(String(body.version));
      } catch (e) {
        return refuse((e as Error).message);
      }
      return done({ version: backend.traits.version });
    default:
      return undefined;
  }
}

/**
 * The OPNsense emulator's control routes under `/__emulator/` (beside the kit's `GET|DELETE log`,
 * `POST reset`, `POST|DELETE faults`); documented in the TSDoc block of emulator.ts. They change the
 * emulated device out of band, as an admin in the web UI would, and never appear in the request log.
 */
import { z } from "zod";
import { controlBody, NO_BODY, type EmulatorReply, type EmulatorRequest, type RequestLog } from "../kit";
import type { OpnsenseBackend } from "./backend";
import { ALIAS_TYPE_LABELS, type AliasType } from "./types";
import { versionTraits } from "./version";

const done = (extra: Record<string, unknown> = {}): EmulatorReply => ({ status: 200, json: { status: "ok", ...extra } });
const refuse = (error: string): EmulatorReply => ({ status: 400, json: { status: "failed", error } });

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

const AliasNameSchema = z.string().min(1);
const WhereSchema = z.enum(["both", "config", "table"]).default("both");
const AddressesSchema = z.union([
  z
    .string()
    .min(1)
    .transform((a) => [a]),
  z.array(z.string().min(1)).min(1),
]);
const ALIAS_TYPES = Object.keys(ALIAS_TYPE_LABELS) as [AliasType, ...AliasType[]];

/** Each route's body (query parameters count as fields): `.strict()`, so an unknown field is a 400, never a silent no-op. */
const ROUTES = {
  "GET state": NO_BODY,
  "GET alias": z.object({ alias: AliasNameSchema }).strict(),
  "GET unhandled": NO_BODY,
  "POST users": z
    .object({
      name: z.string().min(1),
      key: z.string().min(1),
      secret: z.string().min(1),
      privileges: z.array(z.string()),
      disabled: z.boolean().default(false),
    })
    .strict(),
  "POST aliases": z
    .object({
      name: AliasNameSchema,
      type: z.enum(ALIAS_TYPES),
      content: z.array(z.string()).optional(),
      description: z.string().optional(),
      inUse: z.boolean().optional(),
      enabled: z.boolean().optional(),
      uuid: z.string().optional(),
    })
    .strict(),
  "DELETE aliases": z.object({ name: AliasNameSchema }).strict(),
  "POST alias-content": z
    .object({ alias: AliasNameSchema, add: AddressesSchema.optional(), remove: AddressesSchema.optional(), where: WhereSchema })
    .strict()
    .refine((b) => b.add !== undefined || b.remove !== undefined, { message: 'give "add" or "remove" (an address or a list of them)', path: ["add"] }),
  "POST seed-table": z
    .object({ alias: AliasNameSchema, count: z.number().int().min(0).max(1_000_000), start: z.string().optional(), where: WhereSchema })
    .strict(),
  "POST reconfigure-error": z.object({ error: z.string().nullable() }).strict(),
  "POST version": z.object({ version: z.string().min(1) }).strict(),
} as const;
type Body<K extends keyof typeof ROUTES> = z.infer<(typeof ROUTES)[K]>;

/** What one alias holds, config and live table, to tell whether an out-of-band edit changed anything. */
const held = (b: OpnsenseBackend, alias: string) => JSON.stringify([b.aliases.get(alias)?.content, b.tableContent(alias)]);

export function opnsenseControl(backend: OpnsenseBackend, log: RequestLog, req: EmulatorRequest, action: string): EmulatorReply | undefined {
  const key = `${req.method} ${action}`;
  if (!(key in ROUTES)) return undefined;
  const parsed = controlBody(req, action, ROUTES[key as keyof typeof ROUTES] as z.ZodType);
  if ("error" in parsed) return refuse(parsed.error);
  const body = parsed.value as Record<string, unknown>;
  const known = (alias: string) => backend.aliases.has(alias);
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
    case "GET alias": {
      const { alias } = body as Body<"GET alias">;
      if (!known(alias)) return { status: 404, json: { status: "failed", error: `no alias ${alias}` } };
      return { status: 200, json: aliasView(backend, alias) };
    }
    case "GET unhandled":
      return { status: 200, json: log.unhandled() };
    case "POST users":
      backend.putUser(body as Body<"POST users">);
      return done();
    case "POST aliases":
      return done({ uuid: backend.addAlias(body as Body<"POST aliases">).uuid });
    case "DELETE aliases":
      return backend.removeAlias((body as Body<"DELETE aliases">).name) ? done() : refuse(`no user alias ${(body as Body<"DELETE aliases">).name}`);
    case "POST alias-content": {
      const b = body as Body<"POST alias-content">;
      if (!known(b.alias)) return refuse(`no alias ${b.alias}`);
      // Each address must change something: a removal of what the alias does not hold is refused, not answered ok.
      const removed: string[] = [];
      for (const address of b.remove ?? []) {
        const before = held(backend, b.alias);
        backend.removeAddress(b.alias, address, b.where);
        if (held(backend, b.alias) === before)
          return refuse(`alias ${b.alias} holds no ${address} (where: ${b.where})${removed.length > 0 ? `; removed before it: ${removed.join(", ")}` : ""}`);
        removed.push(address);
      }
      for (const address of b.add ?? []) backend.insertAddress(b.alias, address, b.where);
      return done(aliasView(backend, b.alias));
    }
    case "POST seed-table": {
      const b = body as Body<"POST seed-table">;
      if (!known(b.alias)) return refuse(`no alias ${b.alias}`);
      return done(backend.seedTable(b.alias, b.count, b.start, b.where));
    }
    case "POST reconfigure-error":
      backend.reconfigureError = (body as Body<"POST reconfigure-error">).error ?? undefined;
      return done();
    case "POST version":
      try {
        backend.traits = versionTraits((body as Body<"POST version">).version);
      } catch (e) {
        return refuse((e as Error).message);
      }
      return done({ version: backend.traits.version });
    default:
      return undefined;
  }
}

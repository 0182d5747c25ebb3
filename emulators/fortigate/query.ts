/**
 * FortiOS CMDB collection query options as the FortiGate emulator applies them to rows: `filter`,
 * `key`/`pattern`, `start`, `count`, `format`, and `action=schema` (docs/reference/fortigate.md §2a
 * "Query and path behaviour", SW-CMDB 6.4.14 query parameters, ADM-API 7.2.9).
 */
import type { FortiosFeatures } from "./versions";
import { ADDRESS6_TYPES, ADDRESS_TYPES } from "./values";

type Row = Record<string, unknown>;
/** Filter operators [SW-CMDB `filter` parameter: `==`, `!=`, `=@` contains, `!@` does not contain, `<=`, `<`, `>=`, `>`]. */
const FILTER = /^([A-Za-z0-9_.-]+)(==|!=|=@|!@|<=|>=|<|>)(.*)$/s;

export class QueryError extends Error {}

/** One `filter=` value: `,` separates alternatives (OR); repeated `filter=` parameters are ANDed [SW-CMDB, ADM-API]. */
function matches(row: Row, filter: string): boolean {
  return filter.split(",").some((alt) => {
    const m = FILTER.exec(alt);
    // A filter without an operator: no source shows the device's answer; refused as a bad request.
    if (!m) throw new QueryError(`bad filter "${alt}"`);
    const [, key, op, want] = m as unknown as [string, string, string, string];
    const raw = row[key];
    // Member lists match on any entry's name (`member=@x`).
    const have = Array.isArray(raw) ? raw.map((e) => String((e as Row)?.name ?? "")).join(" ") : raw === undefined ? "" : String(raw);
    const num = have !== "" && want !== "" && !Number.isNaN(Number(have)) && !Number.isNaN(Number(want));
    const cmp = num ? Number(have) - Number(want) : have < want ? -1 : have > want ? 1 : 0;
    switch (op) {
      case "==":
        return have === want;
      case "!=":
        return have !== want;
      case "=@":
        return have.includes(want);
      case "!@":
        return !have.includes(want);
      case "<=":
        return cmp <= 0;
      case "<":
        return cmp < 0;
      case ">=":
        return cmp >= 0;
      default:
        return cmp > 0;
    }
  });
}

const nonNegative = (q: URLSearchParams, key: string): number | undefined => {
  const v = q.get(key);
  if (v === null) return undefined;
  if (!/^\d+$/.test(v)) throw new QueryError(`bad ${key} "${v}"`);
  return Number(v);
};

/**
 * Applies the collection options to a table's rows in table order. The 7.2+ envelope fields follow
 * ADM-API (a filter for one row answers `matched_count: 1`); their paging meaning is unverified:
 * `size` = rows in the table, `matched_count` = rows the filters keep, `next_idx` = table index of the
 * last row returned, `limit_reached` = `count` cut the answer short.
 */
export function queryRows(rows: readonly Row[], q: URLSearchParams, features: FortiosFeatures): { results: Row[]; meta: Record<string, unknown> } {
  const filters = q.getAll("filter").filter((f) => f !== "");
  const key = q.get("key");
  const pattern = q.get("pattern");
  const indexed = rows
    .map((row, i) => ({ row, i }))
    .filter(({ row }) => filters.every((f) => matches(row, f)) && (key === null || pattern === null || String(row[key] ?? "") === pattern));
  const start = nonNegative(q, "start") ?? 0;
  const count = nonNegative(q, "count");
  const page = indexed.slice(start, count === undefined ? undefined : start + count);
  const fields = q
    .get("format")
    ?.split("|")
    .filter((f) => f !== "");
  const results = page.map(({ row }) => (fields?.length ? Object.fromEntries(fields.filter((f) => f in row).map((f) => [f, row[f]])) : row));
  const meta = features.collectionMeta
    ? {
        size: rows.length,
        matched_count: indexed.length,
        next_idx: page.length ? page[page.length - 1]!.i : -1,
        limit_reached: count !== undefined && indexed.length > start + count,
      }
    : {};
  return { results, meta };
}

type Child = { type: string; size?: number; category: string; help: string; options?: readonly { name: string }[]; children?: Record<string, Child> };
const leaf = (type: string, help: string, size?: number, options?: readonly string[]): Child => ({
  type,
  category: "unitary",
  help,
  ...(size !== undefined && { size }),
  ...(options && { options: options.map((name) => ({ name })) }),
});

/**
 * `action=schema`: the table's schema, not its rows — `name`, `path`, `category:"table"`, `mkey:"name"`,
 * `mkey_type`, `help`, `children` [PFGT-T "Get Address -Schema", FAPI `get_mkeyname` reads `mkey`].
 * The children listed are the fields this emulator models (the device lists every field).
 */
export function tableSchema(table: "address" | "address6" | "addrgrp" | "addrgrp6", features: FortiosFeatures): Row {
  const name = leaf("string", "Name.", features.nameMax);
  const common = { name, uuid: leaf("uuid", "Universally Unique Identifier."), comment: leaf("var-string", "Comment.", 255) };
  const member: Child = {
    type: "string",
    category: "table",
    help: "Address objects contained within the group.",
    children: { name: leaf("string", "Address name.", 79) },
  };
  const children: Record<string, Child> =
    table === "address"
      ? {
          ...common,
          type: leaf("option", "Type of address.", undefined, ADDRESS_TYPES),
          subnet: leaf("ipv4-classnet-any", "IP address and subnet mask of address."),
          "start-ip": leaf("ipv4-address-any", "First IP address (inclusive) in the range for the address."),
          "end-ip": leaf("ipv4-address-any", "Final IP address (inclusive) in the range for the address."),
          fqdn: leaf("string", "Fully Qualified Domain Name address.", 255),
          country: leaf("string", "IP addresses associated to a specific country.", 2),
          wildcard: leaf("ipv4-classnet-any", "IP address and wildcard netmask."),
        }
      : table === "address6"
        ? {
            ...common,
            type: leaf("option", "Type of IPv6 address object.", undefined, ADDRESS6_TYPES),
            ip6: leaf("ipv6-network", "IPv6 address prefix."),
            "start-ip": leaf("ipv6-address", "First IP address (inclusive) in the range for the address."),
            "end-ip": leaf("ipv6-address", "Final IP address (inclusive) in the range for the address."),
            fqdn: leaf("string", "Fully qualified domain name.", 255),
          }
        : { ...common, member };
  return {
    name: table,
    path: "firewall",
    category: "table",
    mkey: "name",
    mkey_type: "string",
    help: `Configure ${table.startsWith("address") ? "IPv" + (table.endsWith("6") ? "6" : "4") + " addresses" : "IPv" + (table.endsWith("6") ? "6" : "4") + " address groups"}.`,
    children,
  };
}

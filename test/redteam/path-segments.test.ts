/**
 * Red team (item 1): the transport's dot-segment guard against what the URL parser undici uses (WHATWG) does
 * with the path. A path the guard lets through must not resolve above the entry it names.
 */
import { unsafePathSegment } from "../../provider/core/transport";

const resolved = (path: string) => new URL(`https://fw.example${path}`).pathname;

describe("red team: dot segments the guard lets through", () => {
  it.each([
    ["%2e%2e", "/api/v2/cmdb/firewall/address/%2e%2e"],
    ["mixed %2E.", "/api/v2/cmdb/firewall/address/%2E."],
    ["a raw backslash before ..", "/api/v2/cmdb/firewall/address/x\\.."],
    ["a raw backslash then %2e%2e", "/api/v2/cmdb/firewall/address/x\\%2e%2e"],
    ["a raw backslash segment", "/api/v2/cmdb/firewall/address/\\"],
  ])("%s: refused, or it resolves to the path as sent", (_what, path) => {
    if (unsafePathSegment(path) === undefined) expect(resolved(path)).toBe(path.replace(/\\/g, "%5C"));
  });
});

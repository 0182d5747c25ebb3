/**
 * Child process of cross-process.test.ts: one "stack" granting (or revoking) addresses on one
 * FortiManager administrator with the built library (dist/), as a second `pulumi up` would.
 * Input: env FMG_CHILD = JSON {dist, url, caCert, token?, username?, password?, adminUser, op,
 * addresses, startAt, options?}. Output: one JSON line {results:[{address, ok, slot?, code?}]}.
 * Plain CommonJS so that it runs with `node` alone, on the package as shipped.
 */
"use strict";
const path = require("node:path");

async function main() {
  const cfg = JSON.parse(process.env.FMG_CHILD || "{}");
  const lib = (p) => require(path.join(cfg.dist, "provider", p));
  const { FortimanagerClient } = lib("devices/fortimanager/client.js");
  const { grantTrustedHost, revokeTrustedHost } = lib("devices/fortimanager/trusted-hosts.js");
  const { mustParseAddress } = lib("core/address.js");
  const client = new FortimanagerClient({
    url: cfg.url,
    caCert: cfg.caCert,
    ...(cfg.token ? { token: cfg.token } : { username: cfg.username, password: cfg.password }),
    ...(cfg.options || {}),
  });
  // Start together: every child waits for the same wall-clock instant.
  const wait = (cfg.startAt || 0) - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const results = await Promise.all(
    cfg.addresses.map(async (address) => {
      try {
        const a = mustParseAddress(address);
        const out = await client.operation((c) => (cfg.op === "revoke" ? revokeTrustedHost(c, cfg.adminUser, a) : grantTrustedHost(c, cfg.adminUser, a)));
        return { address, ok: true, ...(out && out.slot ? { slot: out.slot, adopted: out.adopted, lostRounds: out.lostRounds } : {}) };
      } catch (e) {
        return { address, ok: false, code: e && e.code, message: String((e && e.message) || e).slice(0, 300) };
      }
    }),
  );
  process.stdout.write(JSON.stringify({ results }) + "\n");
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(String((e && e.stack) || e) + "\n");
    process.exit(1);
  },
);

/**
 * Entry point of the `pulumi-resource-firewall-grants` provider plugin (started by the engine through
 * bin/pulumi-resource-firewall-grants, with the engine's address as argument).
 */
import * as path from "node:path";
import { main } from "@pulumi/pulumi/provider";
import { watchEngine } from "../core/dynamic-kit";
import { shareDeclarationsAcross } from "../core/process-state";
import { setConfigPlace } from "../core/settings";
import { installGrpcHooks } from "./grpc-hooks";
import { configure, FirewallGrantsProvider } from "./provider";
import { PACKAGE } from "./resources";
import { configVariable } from "./schema";

/** The package's version (package.json is two levels up from the sources, three from dist/). */
function packageVersion(): string {
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = require(path.join(__dirname, rel)) as { name?: string; version?: string };
      if (pkg.name === "pulumi-firewall-grants" && pkg.version) return pkg.version;
    } catch {
      // not this level
    }
  }
  return "0.0.0";
}

/** Settings reach the plugin as provider config: messages name that variable (`firewall-grants:opnsenseUrl`), not `opnsense:url`. */
export function nameProviderConfig(): void {
  setConfigPlace((ns, key) => `provider config ${PACKAGE}:${configVariable(ns, key)}`);
}

export function run(args: readonly string[] = process.argv.slice(2)): Promise<void> {
  installGrpcHooks(configure);
  nameProviderConfig();
  // A killed CLI must not leave this process writing to a firewall (dynamic-kit.ts `watchEngine`).
  const engine = args.find((a) => !a.startsWith("-"));
  if (engine) watchEngine({ address: engine });
  // One process per provider instance: the shared-address rule must see the other instances' grants.
  if (engine) shareDeclarationsAcross(engine);
  return main(new FirewallGrantsProvider(packageVersion()), [...args]);
}

if (require.main === module) {
  run().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}

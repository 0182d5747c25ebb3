/**
 * pulumi-firewall-grants: Pulumi resources that declare network-access grants on OPNsense,
 * FortiGate and FortiManager. This module is the public surface: what a Pulumi program uses — the
 * resources, their argument and output types, the provider objects (tests, benchmarks and the CLI drive
 * them directly) and the diagnosis types and guards. Internals (transport, process state, zod schemas,
 * clients) are not exported; the emulators have their own entry point, `pulumi-firewall-grants/emulator`.
 *
 * The device modules load on first use (issue 22, fixed cost of a run): the engine's provider host
 * requires this package for ONE provider object per resource type (dynamic-kit.ts providerShim), and a
 * program uses the devices it declares, so neither pays for zod schemas, clients and components of
 * devices it never touches. Each lazy export is written as `Object.defineProperty(exports, "X", {
 * enumerable: true, get() { return mod.X; } })`: the one getter form Node's CommonJS lexer reads, so an
 * ES-module program's `import { X } from "pulumi-firewall-grants"` keeps working. Its type comes from
 * `export declare const` (plus `export type` for a class's instances). test/lazy-load.test.ts holds all three
 * (declared, defined, lexer-visible) together and proves what one provider object's load leaves unloaded.
 */
export {
  FirewallGrantsError,
  GrantError,
  TransportError,
  DeviceError,
  isFirewallGrantsError,
  isGrantError,
  isTransportError,
  isDeviceError,
  type TransportErrorKind,
  type DeviceErrorKind,
} from "./core/errors";
export { CATALOGUE, DIAGNOSIS_CODES, formatDiagnosis, type DiagnosisCode, type DeviceFamily } from "./core/diagnosis";
export { parseAddress, type GrantAddress, type AddressRules } from "./core/address";
import { watchEngineInProviderHost } from "./core/dynamic-kit";
import { tracePhase } from "./core/phase-trace";
// The device registry's data half hands the core every device's stack-config keys (configureFromStack).
import "./device-settings";
export { configureFromStack, UNKNOWN, type GrantAddressArgs } from "./core/dynamic-kit";
export type { BaseConnection } from "./core/connection-kit";
export type { DevicePin, PreflightMode } from "./core/grant-lifecycle";

/**
 * `load()`'s module, required on first property access. A Proxy, so the getters below can read
 * `mod.X` (the lexer-visible form) without requiring the module when this file loads.
 */
function lazyModule<M extends object>(load: () => M): M {
  let mod: M | undefined;
  const loaded = (): M => {
    if (mod === undefined) {
      mod = load();
      // The bench's "provider host: node start + library load" ends here, once the served device is in.
      tracePhase("library-loaded");
    }
    return mod;
  };
  return new Proxy({} as M, { get: (_target, key) => Reflect.get(loaded(), key) });
}

// OPNsense
import type * as OpnsenseEntryModule from "./devices/opnsense/resource";
const opnsenseEntry = lazyModule(() => require("./devices/opnsense/resource") as typeof OpnsenseEntryModule);
export declare const OpnsenseAliasEntry: typeof OpnsenseEntryModule.OpnsenseAliasEntry;
export type OpnsenseAliasEntry = OpnsenseEntryModule.OpnsenseAliasEntry;
Object.defineProperty(exports, "OpnsenseAliasEntry", {
  enumerable: true,
  get() {
    return opnsenseEntry.OpnsenseAliasEntry;
  },
});
export declare const opnsenseAliasEntryProvider: typeof OpnsenseEntryModule.opnsenseAliasEntryProvider;
Object.defineProperty(exports, "opnsenseAliasEntryProvider", {
  enumerable: true,
  get() {
    return opnsenseEntry.opnsenseAliasEntryProvider;
  },
});
export type { OpnsenseConnection, OpnsenseAliasEntryArgs, AliasEntryInputs, AliasEntryOutputs } from "./devices/opnsense/resource";
import type * as OpnsenseSetModule from "./devices/opnsense/set-resource";
const opnsenseSet = lazyModule(() => require("./devices/opnsense/set-resource") as typeof OpnsenseSetModule);
export declare const OpnsenseAliasSet: typeof OpnsenseSetModule.OpnsenseAliasSet;
export type OpnsenseAliasSet = OpnsenseSetModule.OpnsenseAliasSet;
Object.defineProperty(exports, "OpnsenseAliasSet", {
  enumerable: true,
  get() {
    return opnsenseSet.OpnsenseAliasSet;
  },
});
export declare const OpnsenseAliasGuard: typeof OpnsenseSetModule.OpnsenseAliasGuard;
export type OpnsenseAliasGuard = OpnsenseSetModule.OpnsenseAliasGuard;
Object.defineProperty(exports, "OpnsenseAliasGuard", {
  enumerable: true,
  get() {
    return opnsenseSet.OpnsenseAliasGuard;
  },
});
export declare const opnsenseAliasSetProvider: typeof OpnsenseSetModule.opnsenseAliasSetProvider;
Object.defineProperty(exports, "opnsenseAliasSetProvider", {
  enumerable: true,
  get() {
    return opnsenseSet.opnsenseAliasSetProvider;
  },
});
export type { OpnsenseAliasSetArgs, OpnsenseAliasGuardArgs, AliasSetInputs, AliasSetOutputs } from "./devices/opnsense/set-resource";
export type { GrantMethod } from "./devices/opnsense/names";
// FortiGate
import type * as FortigateAddressModule from "./devices/fortigate/resource";
const fortigateAddress = lazyModule(() => require("./devices/fortigate/resource") as typeof FortigateAddressModule);
export declare const FortigateAddress: typeof FortigateAddressModule.FortigateAddress;
export type FortigateAddress = FortigateAddressModule.FortigateAddress;
Object.defineProperty(exports, "FortigateAddress", {
  enumerable: true,
  get() {
    return fortigateAddress.FortigateAddress;
  },
});
export declare const fortigateAddressProvider: typeof FortigateAddressModule.fortigateAddressProvider;
Object.defineProperty(exports, "fortigateAddressProvider", {
  enumerable: true,
  get() {
    return fortigateAddress.fortigateAddressProvider;
  },
});
export type { FortigateConnection, FortigateAddressArgs, FortigateAddressInputs, FortigateAddressState } from "./devices/fortigate/resource";
import type * as FortigateFeedModule from "./devices/fortigate/feed-resource";
const fortigateFeed = lazyModule(() => require("./devices/fortigate/feed-resource") as typeof FortigateFeedModule);
export declare const FortigateFeedEntry: typeof FortigateFeedModule.FortigateFeedEntry;
export type FortigateFeedEntry = FortigateFeedModule.FortigateFeedEntry;
Object.defineProperty(exports, "FortigateFeedEntry", {
  enumerable: true,
  get() {
    return fortigateFeed.FortigateFeedEntry;
  },
});
export declare const fortigateFeedEntryProvider: typeof FortigateFeedModule.fortigateFeedEntryProvider;
Object.defineProperty(exports, "fortigateFeedEntryProvider", {
  enumerable: true,
  get() {
    return fortigateFeed.fortigateFeedEntryProvider;
  },
});
export type { FortigateFeedEntryArgs, FortigateFeedEntryInputs, FortigateFeedEntryState } from "./devices/fortigate/feed-resource";
import type * as FortigateSetModule from "./devices/fortigate/set-resource";
const fortigateSet = lazyModule(() => require("./devices/fortigate/set-resource") as typeof FortigateSetModule);
export declare const FortigateAddressSet: typeof FortigateSetModule.FortigateAddressSet;
export type FortigateAddressSet = FortigateSetModule.FortigateAddressSet;
Object.defineProperty(exports, "FortigateAddressSet", {
  enumerable: true,
  get() {
    return fortigateSet.FortigateAddressSet;
  },
});
export declare const FortigateGroupGuard: typeof FortigateSetModule.FortigateGroupGuard;
export type FortigateGroupGuard = FortigateSetModule.FortigateGroupGuard;
Object.defineProperty(exports, "FortigateGroupGuard", {
  enumerable: true,
  get() {
    return fortigateSet.FortigateGroupGuard;
  },
});
export declare const fortigateAddressSetProvider: typeof FortigateSetModule.fortigateAddressSetProvider;
Object.defineProperty(exports, "fortigateAddressSetProvider", {
  enumerable: true,
  get() {
    return fortigateSet.fortigateAddressSetProvider;
  },
});
export type { FortigateAddressSetArgs, FortigateGroupGuardArgs, AddressSetInputs, AddressSetOutputs } from "./devices/fortigate/set-resource";
import type * as FortigateFeedSetModule from "./devices/fortigate/feed-set";
const fortigateFeedSet = lazyModule(() => require("./devices/fortigate/feed-set") as typeof FortigateFeedSetModule);
export declare const FortigateFeedSet: typeof FortigateFeedSetModule.FortigateFeedSet;
export type FortigateFeedSet = FortigateFeedSetModule.FortigateFeedSet;
Object.defineProperty(exports, "FortigateFeedSet", {
  enumerable: true,
  get() {
    return fortigateFeedSet.FortigateFeedSet;
  },
});
export declare const fortigateFeedSetProvider: typeof FortigateFeedSetModule.fortigateFeedSetProvider;
Object.defineProperty(exports, "fortigateFeedSetProvider", {
  enumerable: true,
  get() {
    return fortigateFeedSet.fortigateFeedSetProvider;
  },
});
export type { FortigateFeedSetArgs, FortigateFeedSetInputs, FortigateFeedSetOutputs } from "./devices/fortigate/feed-set";
// FortiManager
import type * as FortimanagerHostModule from "./devices/fortimanager/resource";
const fortimanagerHost = lazyModule(() => require("./devices/fortimanager/resource") as typeof FortimanagerHostModule);
export declare const FortimanagerTrustedHost: typeof FortimanagerHostModule.FortimanagerTrustedHost;
export type FortimanagerTrustedHost = FortimanagerHostModule.FortimanagerTrustedHost;
Object.defineProperty(exports, "FortimanagerTrustedHost", {
  enumerable: true,
  get() {
    return fortimanagerHost.FortimanagerTrustedHost;
  },
});
export declare const fortimanagerTrustedHostProvider: typeof FortimanagerHostModule.fortimanagerTrustedHostProvider;
Object.defineProperty(exports, "fortimanagerTrustedHostProvider", {
  enumerable: true,
  get() {
    return fortimanagerHost.fortimanagerTrustedHostProvider;
  },
});
export type { FortimanagerConnection, FortimanagerTrustedHostArgs, TrustedHostInputs, TrustedHostOutputs } from "./devices/fortimanager/resource";
import type * as FortimanagerFeedModule from "./devices/fortimanager/feed-resource";
const fortimanagerFeed = lazyModule(() => require("./devices/fortimanager/feed-resource") as typeof FortimanagerFeedModule);
export declare const FortimanagerFeedEntry: typeof FortimanagerFeedModule.FortimanagerFeedEntry;
export type FortimanagerFeedEntry = FortimanagerFeedModule.FortimanagerFeedEntry;
Object.defineProperty(exports, "FortimanagerFeedEntry", {
  enumerable: true,
  get() {
    return fortimanagerFeed.FortimanagerFeedEntry;
  },
});
export declare const fortimanagerFeedEntryProvider: typeof FortimanagerFeedModule.fortimanagerFeedEntryProvider;
Object.defineProperty(exports, "fortimanagerFeedEntryProvider", {
  enumerable: true,
  get() {
    return fortimanagerFeed.fortimanagerFeedEntryProvider;
  },
});
export type {
  FortimanagerFeedConnection,
  FortimanagerFeedEntryArgs,
  FortimanagerFeedEntryInputs,
  FortimanagerFeedEntryState,
} from "./devices/fortimanager/feed-resource";
import type * as FortimanagerSetModule from "./devices/fortimanager/set-resource";
const fortimanagerSet = lazyModule(() => require("./devices/fortimanager/set-resource") as typeof FortimanagerSetModule);
export declare const FortimanagerTrustedHostSet: typeof FortimanagerSetModule.FortimanagerTrustedHostSet;
export type FortimanagerTrustedHostSet = FortimanagerSetModule.FortimanagerTrustedHostSet;
Object.defineProperty(exports, "FortimanagerTrustedHostSet", {
  enumerable: true,
  get() {
    return fortimanagerSet.FortimanagerTrustedHostSet;
  },
});
export declare const FortimanagerTrustedHostGuard: typeof FortimanagerSetModule.FortimanagerTrustedHostGuard;
export type FortimanagerTrustedHostGuard = FortimanagerSetModule.FortimanagerTrustedHostGuard;
Object.defineProperty(exports, "FortimanagerTrustedHostGuard", {
  enumerable: true,
  get() {
    return fortimanagerSet.FortimanagerTrustedHostGuard;
  },
});
export declare const fortimanagerTrustedHostSetProvider: typeof FortimanagerSetModule.fortimanagerTrustedHostSetProvider;
Object.defineProperty(exports, "fortimanagerTrustedHostSetProvider", {
  enumerable: true,
  get() {
    return fortimanagerSet.fortimanagerTrustedHostSetProvider;
  },
});
export type {
  FortimanagerTrustedHostSetArgs,
  FortimanagerTrustedHostGuardArgs,
  TrustedHostSetInputs,
  TrustedHostSetOutputs,
} from "./devices/fortimanager/set-resource";
import type * as FortimanagerFeedSetModule from "./devices/fortimanager/feed-set";
const fortimanagerFeedSet = lazyModule(() => require("./devices/fortimanager/feed-set") as typeof FortimanagerFeedSetModule);
export declare const FortimanagerFeedSet: typeof FortimanagerFeedSetModule.FortimanagerFeedSet;
export type FortimanagerFeedSet = FortimanagerFeedSetModule.FortimanagerFeedSet;
Object.defineProperty(exports, "FortimanagerFeedSet", {
  enumerable: true,
  get() {
    return fortimanagerFeedSet.FortimanagerFeedSet;
  },
});
export declare const fortimanagerFeedSetProvider: typeof FortimanagerFeedSetModule.fortimanagerFeedSetProvider;
Object.defineProperty(exports, "fortimanagerFeedSetProvider", {
  enumerable: true,
  get() {
    return fortimanagerFeedSet.fortimanagerFeedSetProvider;
  },
});
export type { FortimanagerFeedSetArgs, FortimanagerFeedSetInputs, FortimanagerFeedSetOutputs } from "./devices/fortimanager/feed-set";
// One person, many devices
import type * as GrantComponentModule from "./grant-component";
const grantComponent = lazyModule(() => require("./grant-component") as typeof GrantComponentModule);
export declare const Grant: typeof GrantComponentModule.Grant;
export type Grant = GrantComponentModule.Grant;
Object.defineProperty(exports, "Grant", {
  enumerable: true,
  get() {
    return grantComponent.Grant;
  },
});
export type {
  GrantArgs,
  GrantChild,
  GrantOpnsenseTarget,
  GrantFortigateTarget,
  GrantFortimanagerTarget,
  GrantFortigateFeedTarget,
  GrantFortimanagerFeedTarget,
} from "./grant-component";
// Many people, one set per target
import type * as GrantsComponentModule from "./grants-component";
const grantsComponent = lazyModule(() => require("./grants-component") as typeof GrantsComponentModule);
export declare const Grants: typeof GrantsComponentModule.Grants;
export type Grants = GrantsComponentModule.Grants;
Object.defineProperty(exports, "Grants", {
  enumerable: true,
  get() {
    return grantsComponent.Grants;
  },
});
export type { GrantsArgs, GrantsPerson, GrantsTargets, GrantsSet } from "./grants-component";

// new-device: exports above this line (scripts/new-device.ts)

// Loaded by the engine's dynamic-provider host: a killed CLI must not leave this process writing (issue 18 item 4).
watchEngineInProviderHost();

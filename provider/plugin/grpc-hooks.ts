/**
 * Two gaps of `@pulumi/pulumi/provider`'s gRPC server (3.248), closed from outside without patching
 * node_modules: the service object `main()` builds is wrapped as it is added to the gRPC server.
 * - `Configure`: the server answers it without telling the provider anything, so the provider config
 *   (`firewall-grants:…` variables, decrypted) would never arrive. The wrapper hands the variables over first.
 * - `Read` on `pulumi import` / the `import:` option: the engine sends an id and no properties, and the
 *   server calls `getProperties().toJavaScript()` on the missing Struct ("Cannot read properties of
 *   undefined (reading 'toJavaScript')", pulumi/pulumi#16175). The wrapper puts an empty Struct there, and
 *   keeps the request's `inputs` (sent with the `import:` option) where the provider can find them by URN,
 *   because the server passes only the properties on.
 * - `Diff`: the server sends only changes, replaces and deleteBeforeReplace, so previews could not say
 *   which property (or which member of a set's `addresses`) changed. The provider leaves its detailed
 *   diff here by URN ({@link offerDetailedDiff}) and the wrapper adds it to the response.
 */
import * as path from "node:path";

type Callback = (err: unknown, value?: unknown) => void;
interface Call {
  request: {
    getVariablesMap?(): { forEach(fn: (value: string, key: string) => void): void };
    getProperties?(): unknown;
    setProperties?(s: unknown): void;
    getInputs?(): { toJavaScript(): Record<string, unknown> } | undefined;
    getUrn?(): string;
  };
}
interface PropertyDiffMessage {
  setKind(k: number): void;
  setInputdiff(v: boolean): void;
}
interface DiffResponseMessage {
  getDetaileddiffMap(): { set(k: string, v: PropertyDiffMessage): void };
  setHasdetaileddiff(v: boolean): void;
  setDiffsList(v: string[]): void;
}
type Handler = (call: Call, callback: Callback) => unknown;

/** The `inputs` of Read requests that came without properties, by URN (taken once by the provider). */
const readInputs = new Map<string, Record<string, unknown>>();

export function takeReadInputs(urn: string): Record<string, unknown> | undefined {
  const v = readInputs.get(urn);
  readInputs.delete(urn);
  return v;
}

/** Per property path (`addresses[1]`), what changes: PropertyDiff.Kind of the provider protocol. */
export type DiffKind = "add" | "add-replace" | "delete" | "delete-replace" | "update" | "update-replace";
export type DetailedDiff = ReadonlyMap<string, DiffKind>;

const detailedDiffs = new Map<string, DetailedDiff>();

/** The detailed diff of the Diff call on `urn` now running (taken once by the wrapper as it answers). */
export function offerDetailedDiff(urn: string, diff: DetailedDiff): void {
  detailedDiffs.set(urn, diff);
}

/** The modules `@pulumi/pulumi/provider` itself loads (the gRPC server class must be the same instance). */
function fromPulumiSdk<T>(name: string): T {
  const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
  return require(require.resolve(name, { paths: [sdkDir] })) as T;
}

let installed = false;

/** Installs the wrappers; `onConfigure` receives the provider config variables (`firewall-grants:key` → value). */
export function installGrpcHooks(onConfigure: (variables: ReadonlyMap<string, string>) => Promise<void>): void {
  if (installed) return;
  installed = true;
  const grpc = fromPulumiSdk<{ Server: { prototype: { addService(service: unknown, impl: Record<string, Handler>): void } } }>("@grpc/grpc-js");
  const { Struct } = fromPulumiSdk<{ Struct: { fromJavaScript(v: object): unknown } }>("google-protobuf/google/protobuf/struct_pb");
  const { PropertyDiff } = fromPulumiSdk<{ PropertyDiff: { new (): PropertyDiffMessage; Kind: Record<string, number> } }>("@pulumi/pulumi/proto/provider_pb");
  const KINDS: Record<DiffKind, number> = {
    add: PropertyDiff.Kind.ADD!,
    "add-replace": PropertyDiff.Kind.ADD_REPLACE!,
    delete: PropertyDiff.Kind.DELETE!,
    "delete-replace": PropertyDiff.Kind.DELETE_REPLACE!,
    update: PropertyDiff.Kind.UPDATE!,
    "update-replace": PropertyDiff.Kind.UPDATE_REPLACE!,
  };
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (service, impl) {
    if (typeof impl.read !== "function" || typeof impl.configure !== "function") return addService.call(this, service, impl);
    const read = impl.read.bind(impl);
    const diff = typeof impl.diff === "function" ? impl.diff.bind(impl) : undefined;
    const configure = impl.configure.bind(impl);
    const wrapped: Record<string, Handler> = Object.create(impl) as Record<string, Handler>;
    wrapped.configure = (call, callback) => {
      const variables = new Map<string, string>();
      call.request.getVariablesMap?.().forEach((v, k) => variables.set(k, v));
      onConfigure(variables).then(
        () => configure(call, callback),
        (e: unknown) => callback(e),
      );
    };
    wrapped.read = (call, callback) => {
      const req = call.request;
      if (!req.getProperties?.()) {
        req.setProperties?.(Struct.fromJavaScript({}));
        const inputs = req.getInputs?.()?.toJavaScript();
        if (inputs && Object.keys(inputs).length > 0 && req.getUrn) readInputs.set(req.getUrn(), inputs);
      }
      return read(call, callback);
    };
    if (diff)
      wrapped.diff = (call, callback) =>
        diff(call, (err, value) => {
          const urn = call.request.getUrn?.();
          const detailed = urn === undefined ? undefined : detailedDiffs.get(urn);
          if (urn !== undefined) detailedDiffs.delete(urn);
          if (!err && value && detailed && detailed.size > 0) {
            const resp = value as DiffResponseMessage;
            const map = resp.getDetaileddiffMap();
            for (const [path, kind] of detailed) {
              const pd = new PropertyDiff();
              pd.setKind(KINDS[kind]);
              pd.setInputdiff(true);
              map.set(path, pd);
            }
            resp.setHasdetaileddiff(true);
            resp.setDiffsList([...new Set([...detailed.keys()].map((p) => p.split(/[.[]/)[0]!))]);
          }
          callback(err, value);
        });
    return addService.call(this, service, wrapped);
  };
}

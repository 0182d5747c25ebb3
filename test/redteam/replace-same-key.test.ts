/**
 * Red team (replace): a replace keeps the resource's name, so the new and the old grant have the same `grantName`,
 * and the shared-address rule (`declaredByOther(key, grantName)`) excludes the grant's own name. Where the
 * replacement declares the same target+address, the old one's delete (run create-before-delete) would revoke what
 * the replacement just granted (OPNsense `method` table → config) or fail on an object still in use (FortiGate, the
 * same object moved to another group). These hold only because the diff asks for delete-before-replace; run in the
 * engine's order, the device ends holding the replacement.
 */
import { startFortigateEmulator, type FortigateEmulator } from "../../emulators/fortigate/emulator";
import { startOpnsenseEmulator, type OpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { resetProcessState } from "../../provider/core/process-state";
import { closeAllAgents } from "../../provider/core/transport";
import { fortigateAddressProvider } from "../../provider/devices/fortigate/resource";
import { opnsenseAliasEntryProvider } from "../../provider/devices/opnsense/resource";
import { connFor, USERS } from "../opnsense/helpers";

jest.setTimeout(60_000);

afterAll(async () => {
  await closeAllAgents();
  resetProcessState();
});

interface P {
  check(olds: object, news: object): Promise<{ inputs?: unknown }>;
  diff(id: string, olds: never, news: never): Promise<{ replaces?: string[]; deleteBeforeReplace?: boolean }>;
  create(inputs: never): Promise<{ id: string; outs: Record<string, unknown> }>;
  delete(id: string, props: never): Promise<void>;
}

/** Run 1 creates `before`; run 2 (a new process state) replaces it by `after` as the engine does: check, diff, create new, delete old. */
async function replace(p: P, before: object, after: object): Promise<{ replaces: string[]; deleteBeforeReplace: boolean; delete: string }> {
  const c1 = await p.check({}, before);
  const old = await p.create(c1.inputs as never);
  resetProcessState();
  const c2 = await p.check(old.outs, after);
  const d = await p.diff(old.id, old.outs as never, c2.inputs as never);
  const deleteOld = () =>
    p.delete(old.id, old.outs as never).then(
      () => "ok",
      (e: unknown) => String(e).split("\n")[0]!,
    );
  // The engine's order: delete first when the diff asks for it, else create the replacement first.
  let del: string;
  if (d.deleteBeforeReplace === true) {
    del = await deleteOld();
    await p.create(c2.inputs as never);
  } else {
    await p.create(c2.inputs as never);
    del = await deleteOld();
  }
  return { replaces: d.replaces ?? [], deleteBeforeReplace: d.deleteBeforeReplace === true, delete: del };
}

describe("OPNsense: method table → config on the same alias and address", () => {
  let emu: OpnsenseEmulator;
  beforeAll(async () => {
    emu = await startOpnsenseEmulator({ users: Object.values(USERS) });
  });
  afterAll(() => emu.close());

  it("after the replace the alias still holds the address (the new grant is declared)", async () => {
    const inputs = (method: string) => ({
      __provider: "x",
      ...connFor(emu.url, emu.caCert, "admin"),
      alias: "jit_admins",
      address: "203.0.113.7",
      method,
      grantName: "alice",
    });
    const r = await replace(opnsenseAliasEntryProvider as unknown as P, inputs("table"), inputs("config"));
    expect({
      ...r,
      content: emu.backend.aliases.get("jit_admins")!.content.includes("203.0.113.7"),
      table: emu.backend.tableContent("jit_admins").includes("203.0.113.7"),
    }).toEqual({ replaces: ["method"], deleteBeforeReplace: true, delete: "ok", content: true, table: true });
  });
});

describe("FortiGate: the same object name moved to another group", () => {
  let emu: FortigateEmulator;
  beforeAll(async () => {
    emu = await startFortigateEmulator({ vdoms: ["root"], groups: [{ name: "jit-admins" }, { name: "jit-ops" }] } as never);
  });
  afterAll(() => emu.close());

  it("the old grant's delete leaves the old group only; the object stays, a member of the new group", async () => {
    const inputs = (group: string) => ({
      __provider: "x",
      connection: { url: emu.url, caCert: emu.caCert },
      credentials: { token: emu.token },
      name: "grant-alice",
      address: "203.0.113.7",
      group,
      grantName: "alice",
    });
    const r = await replace(fortigateAddressProvider as unknown as P, inputs("jit-admins"), inputs("jit-ops"));
    expect({
      ...r,
      object: emu.backend.getAddress("root", "ipv4", "grant-alice")?.value,
      newGroup: emu.backend.groupMembers("root", "jit-ops"),
      oldGroup: emu.backend.groupMembers("root", "jit-admins"),
    }).toEqual({
      replaces: ["group"],
      deleteBeforeReplace: true,
      delete: "ok",
      object: "203.0.113.7 255.255.255.255",
      newGroup: ["grant-alice"],
      oldGroup: [],
    });
  });
});

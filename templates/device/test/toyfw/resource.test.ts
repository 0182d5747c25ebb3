/** ToyfwListEntry against its emulator: check passes with a privileged token, the preflight names the failed step, create/read/delete. */
import { failedStep } from "../../provider/core/preflight-steps";
import { startToyfwEmulator, type ToyfwEmulator } from "../../emulators/toyfw/emulator";
import { toyfwListEntryProvider } from "../../provider/devices/toyfw/resource";
import { resetProcessState } from "../../provider/core/process-state";

let emu: ToyfwEmulator;
const inputs = (token: string, list = "jit") => ({ connection: { url: emu.url, caCert: emu.caCert }, credentials: { token }, list, address: "203.0.113.7" });

beforeAll(async () => {
  emu = await startToyfwEmulator({
    users: [
      { name: "grants", token: "full", privileges: ["read", "write"] },
      { name: "auditor", token: "weak", privileges: [] },
    ],
  });
});
afterAll(() => emu.close());
afterEach(() => resetProcessState());

describe("ToyfwListEntry against its emulator", () => {
  it("check passes with a privileged token; create, read and delete change the list", async () => {
    const checked = await toyfwListEntryProvider.check({}, inputs("full"));
    expect(checked.failures ?? []).toEqual([]);
    const created = await toyfwListEntryProvider.create(checked.inputs!);
    expect([...emu.backend.lists.get("jit")!]).toEqual(["203.0.113.7"]);
    expect(await toyfwListEntryProvider.read(created.id, created.outs)).toMatchObject({ id: created.id });
    await toyfwListEntryProvider.delete(created.id, created.outs);
    expect([...emu.backend.lists.get("jit")!]).toEqual([]);
  });

  it("refresh reports the grant gone once someone removed it on the device", async () => {
    const checked = await toyfwListEntryProvider.check({}, inputs("full"));
    const created = await toyfwListEntryProvider.create(checked.inputs!);
    emu.backend.lists.get("jit")!.clear();
    expect((await toyfwListEntryProvider.read(created.id, created.outs)).id).toBeFalsy();
  });

  it("preview fails on the list step when the token may not read lists", async () => {
    const e = await toyfwListEntryProvider.check({}, inputs("weak")).catch((x: unknown) => x);
    expect(failedStep(e)).toBe("list");
  });
});

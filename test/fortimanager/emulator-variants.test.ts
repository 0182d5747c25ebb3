/**
 * FortiManager emulator variants added for issue 19 (docs/variants.md): the answer to a missing admin (-3 or -2,
 * fortimanager.md Turn 3) and a `/sys/proxy/json` `timeout` before 7.0.1, where the attribute does not exist yet
 * (Ansible `fmgr_sys_proxy_json.py` v_range from 7.0.1).
 */
import { Agent, request } from "undici";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator, type FortimanagerEmulator } from "../../emulators/fortimanager/emulator";

type Json = any;
const started: { emu: FortimanagerEmulator; agent: Agent }[] = [];
afterAll(async () => {
  for (const s of started) {
    await s.agent.close();
    await s.emu.close();
  }
});

async function client(opts: Parameters<typeof startFortimanagerEmulator>[0]) {
  const emu = await startFortimanagerEmulator(opts);
  const agent = new Agent({ connect: { ca: emu.caCert } });
  started.push({ emu, agent });
  const post = async (body: Record<string, unknown>): Promise<Json> =>
    (
      await request(`${emu.url}/jsonrpc`, {
        method: "POST",
        dispatcher: agent,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ id: 1, ...body }),
      })
    ).body.json();
  const login = await post({ method: "exec", params: [{ url: "sys/login/user", data: { user: "admin", passwd: DEFAULT_CREDENTIALS.adminPassword } }] });
  return (method: string, url: string, data?: unknown) => post({ method, session: login.session, params: [{ url, ...(data !== undefined && { data }) }] });
}

const LIST = "/api/v2/monitor/system/external-resource/entry-list?mkey=jit-allow&vdom=root";

describe("FortiManager emulator variants", () => {
  it("answers a missing admin with -2 by default (the less common code) and -3 under missingAdminCode -3", async () => {
    const minus3 = await client({ missingAdminCode: -3 });
    expect((await minus3("get", "/cli/global/system/admin/user/nobody")).result[0].status).toEqual({ code: -3, message: "Object does not exist" });
    const minus2 = await client({});
    expect((await minus2("get", "/cli/global/system/admin/user/nobody")).result[0].status).toEqual({ code: -2, message: "Object already exists" });
    expect((await minus2("get", "/cli/global/system/admin/user/admin")).result[0].status.code).toBe(0);
  });

  it("refuses a proxy timeout before 7.0.1 unless told to ignore it, and takes it from 7.0.1", async () => {
    const call = { target: ["group/All_FortiGate"], action: "get", resource: LIST, timeout: 30 };
    const v700 = await client({ version: "7.0.0" });
    expect((await v700("exec", "/sys/proxy/json", call)).result[0].status.code).toBe(-10);
    const { timeout: _omit, ...noTimeout } = call;
    expect((await v700("exec", "/sys/proxy/json", noTimeout)).result[0].status.code).toBe(0);
    const ignore = await client({ version: "7.0.0", proxy: { timeoutBefore701: "ignore" } });
    expect((await ignore("exec", "/sys/proxy/json", call)).result[0].status.code).toBe(0);
    const v701 = await client({ version: "7.0.1" });
    expect((await v701("exec", "/sys/proxy/json", call)).result[0].status.code).toBe(0);
  });
});

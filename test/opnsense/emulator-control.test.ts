/**
 * The OPNsense emulator's control routes refuse a body they do not understand with 400 and a message
 * naming the field; they never answer ok for nothing done. The README's "remove a grant by hand"
 * example (`"remove": ["…"]`) removes the address.
 */
import { Agent, request } from "undici";
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { useEmulator } from "../support/emulator";

let agent: Agent;
const emu = useEmulator(() => startOpnsenseEmulator({}), { onStart: (e) => void (agent = new Agent({ connect: { ca: e.caCert } })) });
afterAll(() => agent.close());

async function ctl(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await request(`${emu.url}/__emulator/${path}`, { method, dispatcher: agent, ...(body !== undefined && { body: JSON.stringify(body) }) });
  return { status: res.statusCode, json: await res.body.json() };
}
const table = async (alias: string) => (await ctl("GET", `alias?alias=${alias}`)).json.table as string[];

describe("OPNsense emulator control routes", () => {
  it("the README's remove-by-hand body (a list) removes the address from config and live table", async () => {
    await ctl("POST", "alias-content", { alias: "jit_admins", add: ["203.0.113.7", "203.0.113.8"] });
    expect(await table("jit_admins")).toEqual(["203.0.113.7", "203.0.113.8"]);
    const r = await ctl("POST", "alias-content", { alias: "jit_admins", remove: ["203.0.113.7"] });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: "ok", content: ["203.0.113.8"], table: ["203.0.113.8"] });
    // The single-address form still works.
    expect((await ctl("POST", "alias-content", { alias: "jit_admins", remove: "203.0.113.8" })).status).toBe(200);
    expect(await table("jit_admins")).toEqual([]);
  });

  it("alias-content refuses what it cannot do: an address the alias does not hold, no add/remove, a wrong type, an unknown field", async () => {
    const absent = await ctl("POST", "alias-content", { alias: "jit_admins", remove: ["203.0.113.99"] });
    expect(absent).toEqual({ status: 400, json: { status: "failed", error: "alias jit_admins holds no 203.0.113.99 (where: both)" } });
    const nothing = await ctl("POST", "alias-content", { alias: "jit_admins" });
    expect(nothing.status).toBe(400);
    expect(nothing.json.error).toMatch(/^POST \/__emulator\/alias-content: add: give "add" or "remove"/);
    const wrong = await ctl("POST", "alias-content", { alias: "jit_admins", remove: 7 });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error).toMatch(/remove: /);
    const unknown = await ctl("POST", "alias-content", { alias: "jit_admins", delete: ["203.0.113.7"] });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toContain("(delete)");
    const where = await ctl("POST", "alias-content", { alias: "jit_admins", add: "203.0.113.7", where: "live" });
    expect(where.status).toBe(400);
    expect(await table("jit_admins")).toEqual([]);
  });

  it.each([
    ["GET", "state"],
    ["GET", "alias?alias=jit_admins"],
    ["GET", "unhandled"],
    ["POST", "users"],
    ["POST", "aliases"],
    ["DELETE", "aliases"],
    ["POST", "alias-content"],
    ["POST", "seed-table"],
    ["POST", "reconfigure-error"],
    ["POST", "version"],
    ["GET", "log"],
    ["DELETE", "log"],
    ["POST", "reset"],
    ["POST", "faults"],
    ["DELETE", "faults"],
  ] as const)("%s %s refuses an unknown field with 400 naming it", async (method, path) => {
    const before = JSON.stringify((await ctl("GET", "state")).json);
    const r = await ctl(method, path, { bogus: 1 });
    expect(r.status).toBe(400);
    expect(r.json.error).toContain(`${method} /__emulator/${path.split("?")[0]}`);
    expect(r.json.error).toContain("bogus");
    expect(JSON.stringify((await ctl("GET", "state")).json)).toBe(before);
  });

  it("a body that is not a JSON object is refused", async () => {
    const res = await request(`${emu.url}/__emulator/alias-content`, { method: "POST", dispatcher: agent, body: '["jit_admins"]' });
    expect(res.statusCode).toBe(400);
    expect(((await res.body.json()) as { error: string }).error).toMatch(/must be a JSON object/);
    const res2 = await request(`${emu.url}/__emulator/alias-content`, { method: "POST", dispatcher: agent, body: "alias=jit_admins" });
    expect(res2.statusCode).toBe(400);
    await res2.body.text();
  });

  it("seed-table, reconfigure-error, version and aliases take their documented bodies", async () => {
    expect((await ctl("POST", "seed-table", { alias: "jit_runtime", count: 3, where: "table" })).json).toMatchObject({ status: "ok", count: 3 });
    expect((await ctl("POST", "seed-table", { alias: "jit_runtime", count: "3" })).status).toBe(400);
    expect((await ctl("POST", "reconfigure-error", { error: null })).status).toBe(200);
    expect((await ctl("POST", "reconfigure-error", {})).status).toBe(400);
    expect((await ctl("POST", "aliases", { name: "ci", type: "host", content: ["10.0.0.1"] })).status).toBe(200);
    expect((await ctl("POST", "aliases", { name: "ci2", type: "hosts" })).status).toBe(400);
    expect((await ctl("DELETE", "aliases", { name: "ci" })).status).toBe(200);
    expect((await ctl("DELETE", "aliases", { name: "ci" })).status).toBe(400);
    expect((await ctl("POST", "faults", { kind: "status" })).status).toBe(400);
    expect((await ctl("POST", "faults", { kind: "status", status: 503, times: 1 })).status).toBe(200);
  });
});

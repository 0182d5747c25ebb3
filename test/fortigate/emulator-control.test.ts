/**
 * The FortiGate emulator's control routes refuse a body they do not understand with 400 and a message
 * naming the field; they never answer ok for nothing done. `members` takes one name or a list.
 */
import { Agent, request } from "undici";
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { useEmulator } from "../support/emulator";

let agent: Agent;
const emu = useEmulator(() => startFortigateEmulator({}), {
  onStart: (e) => void (agent = new Agent({ connect: { ca: e.caCert } })),
  onReset: (e) => void e.backend.createGroup("root", "ipv4", "jit-admins", [], ""),
});
afterAll(() => agent.close());

async function ctl(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await request(`${emu.url}/__emulator/${path}`, { method, dispatcher: agent, ...(body !== undefined && { body: JSON.stringify(body) }) });
  return { status: res.statusCode, json: await res.body.json() };
}
const members = async () => (await ctl("GET", "state")).json.groups.find((g: any) => g.name === "jit-admins").members as string[];

describe("FortiGate emulator control routes", () => {
  it("members takes one name or a list, and removing a name the group does not hold is refused", async () => {
    for (const n of ["a1", "a2", "a3"]) expect((await ctl("POST", "addresses", { name: n, subnet: "192.0.2.1/32" })).status).toBe(200);
    expect((await ctl("POST", "members", { group: "jit-admins", name: ["a1", "a2", "a3"] })).status).toBe(200);
    expect(await members()).toEqual(["a1", "a2", "a3"]);
    expect((await ctl("DELETE", "members", { group: "jit-admins", name: ["a1", "a2"] })).status).toBe(200);
    expect((await ctl("DELETE", "members", { group: "jit-admins", name: "a3" })).status).toBe(200);
    expect(await members()).toEqual([]);
    expect((await ctl("DELETE", "members", { group: "jit-admins", name: "a3" })).status).toBe(404);
  });

  it("a misspelt field, a wrong type or a missing name is a 400 naming it, and nothing changes", async () => {
    expect((await ctl("POST", "addresses", { name: "a1", subnet: "192.0.2.1/32" })).status).toBe(200);
    const typo = await ctl("POST", "members", { group: "jit-admins", member: "a1" });
    expect(typo.status).toBe(400);
    expect(typo.json).toMatchObject({ status: "error", http_status: 400 });
    expect(typo.json.message).toMatch(/^POST \/__emulator\/members: name: .*; body: .*\(member\)$/);
    expect((await ctl("POST", "members", { group: "jit-admins", name: 1 })).status).toBe(400);
    expect((await ctl("POST", "settings", {})).json.message).toMatch(/name at least one setting/);
    expect((await ctl("POST", "settings", { repeatedMemberPost: "twice" })).status).toBe(400);
    expect((await ctl("POST", "entries", { feed: "jit-allow", entries: "198.51.100.1" })).status).toBe(400);
    expect(await members()).toEqual([]);
  });

  it.each([
    ["GET", "state"],
    ["GET", "users"],
    ["POST", "users"],
    ["POST", "addresses"],
    ["DELETE", "addresses"],
    ["POST", "delete-address"],
    ["POST", "groups"],
    ["DELETE", "groups"],
    ["POST", "members"],
    ["DELETE", "members"],
    ["POST", "remove-member"],
    ["DELETE", "lockouts"],
    ["POST", "settings"],
    ["GET", "feeds"],
    ["POST", "feeds"],
    ["PUT", "feeds"],
    ["DELETE", "feeds"],
    ["GET", "entries"],
    ["POST", "entries"],
    ["DELETE", "entries"],
    ["POST", "reboot"],
  ] as const)("%s %s refuses an unknown field with 400 naming it", async (method, path) => {
    const before = JSON.stringify((await ctl("GET", "state")).json);
    const r = await ctl(method, path, { bogus: 1 });
    expect(r.status).toBe(400);
    expect(r.json.message).toContain(`${method} /__emulator/${path}`);
    expect(r.json.message).toContain("bogus");
    expect(JSON.stringify((await ctl("GET", "state")).json)).toBe(before);
  });
});

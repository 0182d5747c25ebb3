/**
 * Red team (put-back, grant-lifecycle.ts `reassertElsewhere`): the put-back only considers grants created or updated
 * in this run (`live`). Two grants of one program naming the same box through two URLs (`localhost` and `127.0.0.1`)
 * and the same alias + address: when a later run drops one of them and leaves the other unchanged (checked, not
 * created or updated), the delete of the dropped one removes the entry the survivor still declares, and nothing puts
 * it back. `up` succeeds; the survivor's state says held, the box does not hold it.
 */
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator, type FortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { startOpnsenseEmulator, type OpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { resetProcessState } from "../../provider/core/process-state";
import { closeAllAgents } from "../../provider/core/transport";
import { fortimanagerTrustedHostProvider } from "../../provider/devices/fortimanager/resource";
import { closeFortimanagerSessions } from "../../provider/devices/fortimanager/session";
import { opnsenseAliasEntryProvider } from "../../provider/devices/opnsense/resource";
import { connFor, USERS } from "../opnsense/helpers";

jest.setTimeout(60_000);

interface P {
  check(olds: object, news: object): Promise<{ inputs?: unknown }>;
  diff(id: string, olds: never, news: never): Promise<{ changes?: boolean; replaces?: string[] }>;
  create(inputs: never): Promise<{ id: string; outs: Record<string, unknown> }>;
  delete(id: string, props: never): Promise<void>;
}
const p = opnsenseAliasEntryProvider as unknown as P;
const ADDRESS = "203.0.113.9";
const byIp = (url: string) => url.replace("//localhost:", "//127.0.0.1:");

let opn: OpnsenseEmulator;
let fmg: FortimanagerEmulator;
beforeAll(async () => {
  opn = await startOpnsenseEmulator({ users: Object.values(USERS) });
  fmg = await startFortimanagerEmulator({ sysSessionForApiKeys: "answer" });
});
afterAll(async () => {
  await closeFortimanagerSessions();
  await closeAllAgents();
  resetProcessState();
  await opn.close();
  await fmg.close();
});

const entry = (url: string, grantName: string) => ({ __provider: "x", ...connFor(url, opn.caCert, "admin"), alias: "jit_admins", address: ADDRESS, grantName });

// Was HIGH (access absent while state says held): the survivor was not `live` in run 2, so the dropped grant's delete
// through the other URL took its entry and no put-back followed. Fixed: treat every grant CHECKED in this run (declared
// by the program, not being deleted) as a put-back candidate; a put-back of an unchanged grant is an adopt (a read)
// when the URLs name two boxes.
it("OpnsenseAliasEntry: dropping one of two grants of one address under two URLs of one box leaves the survivor's entry", async () => {
  // Run 1: both grants created (the second adopts the entry the first wrote).
  const a1 = await p.check({}, entry(opn.url, "alice-dns"));
  const a = await p.create(a1.inputs as never);
  const b1 = await p.check({}, entry(byIp(opn.url), "alice-ip"));
  const b = await p.create(b1.inputs as never);
  expect(opn.backend.tableContent("jit_admins")).toContain(ADDRESS);
  // Run 2 (fresh provider process): the program keeps alice-ip unchanged, drops alice-dns.
  resetProcessState();
  const b2 = await p.check(b.outs, entry(byIp(opn.url), "alice-ip"));
  const d = await p.diff(b.id, b.outs as never, b2.inputs as never);
  expect(d.changes).toBe(false);
  await p.delete(a.id, a.outs as never);
  expect(opn.backend.tableContent("jit_admins")).toContain(ADDRESS);
});

const fmgEntry = (url: string, grantName: string) => ({
  __provider: "x",
  connection: { url, caCert: fmg.caCert },
  credentials: { token: DEFAULT_CREDENTIALS.apiKey },
  adminUser: "bob",
  address: ADDRESS,
  grantName,
});
const fmgHeld = () => Object.values(fmg.backend.admins.get("bob")!.slots).some((s) => Array.isArray(s) && s[0] === ADDRESS);

// Was HIGH, same cause on FortiManager: the administrator loses the trusted host the surviving grant declares.
it("FortimanagerTrustedHost: dropping one of two grants of one address under two URLs of one box leaves the survivor's trusted host", async () => {
  resetProcessState();
  const f = fortimanagerTrustedHostProvider as unknown as P;
  const a = await f.create((await f.check({}, fmgEntry(fmg.url, "bob-dns"))).inputs as never);
  const b = await f.create((await f.check({}, fmgEntry(byIp(fmg.url), "bob-ip"))).inputs as never);
  expect(fmgHeld()).toBe(true);
  resetProcessState();
  const b2 = await f.check(b.outs, fmgEntry(byIp(fmg.url), "bob-ip"));
  expect((await f.diff(b.id, b.outs as never, b2.inputs as never)).changes).toBe(false);
  await f.delete(a.id, a.outs as never);
  expect(fmgHeld()).toBe(true);
});

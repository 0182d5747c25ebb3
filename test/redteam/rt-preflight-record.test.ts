/**
 * Red team (item 1, process-state `cachedPreflight`): a passed preflight leaves a per-CLI-run record so the update
 * pass of the same `pulumi up` skips it. A record must never vouch for another CLI run, another credential or another
 * target, a failed preflight must leave none, and the record must name nothing (no key, secret or URL).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { resetProcessState, setRunScopeForTests } from "../../provider/core/process-state";
import { isGrantError } from "../../provider/core/errors";
import { opnsenseAliasEntryProvider } from "../../provider/devices/opnsense/resource";
import { useEmulator } from "../support/emulator";
import { connFor, USERS, type UserName } from "../opnsense/helpers";

const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));
const p = opnsenseAliasEntryProvider as unknown as { check(olds: object, news: object): Promise<{ inputs?: unknown; failures?: unknown[] }> };
const inputs = (who: UserName, alias = "jit_admins") => ({
  __provider: "x",
  ...connFor(emu.url, emu.caCert, who),
  alias,
  method: "table",
  address: "203.0.113.44",
  grantName: "g",
});
/** A `check` in a fresh provider process of CLI run `scope`: its error code, or "ok". */
async function checkIn(scope: string, who: UserName, alias?: string): Promise<string> {
  resetProcessState();
  setRunScopeForTests(scope);
  return p.check({}, inputs(who, alias)).then(
    () => "ok",
    (e: unknown) => (isGrantError(e) ? e.code : String(e)),
  );
}
const requests = () => emu.log.entries().length;

afterAll(() => {
  setRunScopeForTests(undefined);
  resetProcessState();
});

describe("red team: the per-run preflight record", () => {
  it("vouches within one CLI run only, for one credential and one alias; a failure leaves no record", async () => {
    const run = `cli-${randomUUID()}`;
    expect(await checkIn(run, "admin")).toBe("ok"); // the preview pass
    emu.log.clear();
    expect(await checkIn(run, "admin")).toBe("ok"); // the update pass: no preflight requests
    const sameRun = requests();
    emu.log.clear();
    // Another CLI run (a later `pulumi up`) probes again.
    expect(await checkIn(`cli-${randomUUID()}`, "admin")).toBe("ok");
    const otherRun = requests();
    // Another credential in the same run is not vouched for by the admin's record.
    const weaker = await checkIn(run, "read");
    // Another alias in the same run probes too (and fails on a missing one) — twice, no record of the failure.
    const missing1 = await checkIn(run, "admin", "no_such_alias");
    const missing2 = await checkIn(run, "admin", "no_such_alias");
    expect({ fewerInSameRun: sameRun < otherRun, weaker: weaker !== "ok", missing: [missing1 !== "ok", missing1 === missing2] }).toEqual({
      fewerInSameRun: true,
      weaker: true,
      missing: [true, true],
    });
  });

  it("the record names nothing: private directory, empty files, no key, secret or URL in names", () => {
    const uid = process.getuid!();
    const dir = join(tmpdir(), `pulumi-firewall-grants-${uid}`);
    expect(statSync(dir).mode & 0o077).toBe(0);
    const records = readdirSync(dir).filter((f) => f.startsWith("preflight-"));
    expect(records.length).toBeGreaterThan(0);
    const secrets = [USERS.admin.key, USERS.admin.secret, emu.url, "jit_admins"];
    for (const f of records) {
      expect(secrets.filter((s) => f.includes(s))).toEqual([]);
      expect(readFileSync(join(dir, f), "utf8")).toBe("");
      expect(statSync(join(dir, f)).mode & 0o077).toBe(0);
    }
  });
});

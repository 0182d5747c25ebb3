/**
 * Red team (device pin, issue 19): a grant is pinned to its device's URL origin, and a change of the pin is a replace
 * run create-before-delete (`deleteBeforeReplace` is false whenever "device" is among the replaces). When the new URL
 * names the SAME box (an IP replaced by its DNS name, a new management VIP; here `localhost` → `127.0.0.1`), the new
 * grant adopts the entry (already there) and the old grant's delete removes it. No URL tells the same box from
 * another, so the old grant's delete puts back, through the new URL, the entry a grant created or adopted in this run
 * declares there (grant-lifecycle.ts `reassertElsewhere`): the box allows what the state says. When the two URLs are two boxes, the
 * old box loses the entry and the new one keeps it. Run in the engine's order (diff → create new → delete old), for
 * a per-entry grant of each kind and for sets.
 */
import { startFortigateEmulator, type FortigateEmulator } from "../../emulators/fortigate/emulator";
import { DEFAULT_CREDENTIALS, startFortimanagerEmulator, type FortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { startOpnsenseEmulator, type OpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { resetProcessState } from "../../provider/core/process-state";
import { closeAllAgents } from "../../provider/core/transport";
import { fortigateFeedEntryProvider } from "../../provider/devices/fortigate/feed-resource";
import { fortigateFeedSetProvider } from "../../provider/devices/fortigate/feed-set";
import { fortigateAddressProvider } from "../../provider/devices/fortigate/resource";
import { fortimanagerFeedEntryProvider } from "../../provider/devices/fortimanager/feed-resource";
import { fortimanagerTrustedHostProvider } from "../../provider/devices/fortimanager/resource";
import { fortimanagerTrustedHostSetProvider } from "../../provider/devices/fortimanager/set-resource";
import { closeFortimanagerSessions } from "../../provider/devices/fortimanager/session";
import { opnsenseAliasEntryProvider } from "../../provider/devices/opnsense/resource";
import { opnsenseAliasSetProvider } from "../../provider/devices/opnsense/set-resource";
import { connFor, USERS } from "../opnsense/helpers";

jest.setTimeout(60_000);

interface P {
  check(olds: object, news: object): Promise<{ inputs?: unknown }>;
  diff(id: string, olds: never, news: never): Promise<{ replaces?: string[]; deleteBeforeReplace?: boolean }>;
  create(inputs: never): Promise<{ id: string; outs: Record<string, unknown> }>;
  delete(id: string, props: never): Promise<void>;
}

const ADDRESS = "203.0.113.7";
const otherName = (url: string) => url.replace("//localhost:", "//127.0.0.1:");

afterAll(async () => {
  await closeFortimanagerSessions();
  await closeAllAgents();
  resetProcessState();
});

/** Run 1 creates with `url`; run 2 (fresh process state) points the same grant at `to` (default: the same box by IP), in the engine's order. */
async function moveUrl(p: P, inputs: (url: string) => object, url: string, to = otherName(url)): Promise<{ replaces: string[]; deleteBeforeReplace: boolean }> {
  const c1 = await p.check({}, inputs(url));
  const old = await p.create(c1.inputs as never);
  resetProcessState();
  const c2 = await p.check(old.outs, inputs(to));
  const d = await p.diff(old.id, old.outs as never, c2.inputs as never);
  if (d.deleteBeforeReplace === true) {
    await p.delete(old.id, old.outs as never);
    await p.create(c2.inputs as never);
  } else {
    await p.create(c2.inputs as never);
    await p.delete(old.id, old.outs as never);
  }
  return { replaces: d.replaces ?? [], deleteBeforeReplace: d.deleteBeforeReplace === true };
}

const heldByFgt = (box: FortigateEmulator) =>
  [...(box.backend.feeds.find("root", "jit-allow", false)?.entries.values() ?? [])].some((e) => e.entry === ADDRESS);
const heldByFmg = (box: FortimanagerEmulator) => Object.values(box.backend.admins.get("alice")!.slots).some((s) => Array.isArray(s) && s[0] === ADDRESS);

const opnEntry = (box: OpnsenseEmulator) => (url: string) => ({
  __provider: "x",
  ...connFor(url, box.caCert, "admin"),
  alias: "jit_admins",
  address: ADDRESS,
  grantName: "alice",
});
const opnSet = (box: OpnsenseEmulator) => (url: string) => ({
  __provider: "x",
  ...connFor(url, box.caCert, "admin"),
  alias: "jit_admins",
  addresses: [ADDRESS],
  grantName: "team",
});
const fgtEntry = (box: FortigateEmulator) => (url: string) => ({
  __provider: "x",
  connection: { url, caCert: box.caCert },
  credentials: { token: box.token },
  feed: "jit-allow",
  address: ADDRESS,
  grantName: "alice",
});
const fgtSet = (box: FortigateEmulator) => (url: string) => ({
  __provider: "x",
  connection: { url, caCert: box.caCert },
  credentials: { token: box.token },
  feed: "jit-allow",
  addresses: [ADDRESS],
  grantName: "team",
});
// The API key's administrator named: the emulator, like the least helpful device, does not say whose key it is.
const fmgEntry = (box: FortimanagerEmulator) => (url: string) => ({
  __provider: "x",
  connection: { url, caCert: box.caCert, username: "apiadmin" },
  credentials: { token: DEFAULT_CREDENTIALS.apiKey },
  adminUser: "alice",
  address: ADDRESS,
  grantName: "alice",
});
const fmgSet = (box: FortimanagerEmulator) => (url: string) => ({
  __provider: "x",
  connection: { url, caCert: box.caCert, username: "apiadmin" },
  credentials: { token: DEFAULT_CREDENTIALS.apiKey },
  adminUser: "alice",
  addresses: [ADDRESS],
  grantName: "team",
});

const MOVED = { replaces: ["device"], deleteBeforeReplace: false };

describe("the same box under a second URL", () => {
  let opn: OpnsenseEmulator;
  let fgt: FortigateEmulator;
  let fmg: FortimanagerEmulator;
  beforeAll(async () => {
    opn = await startOpnsenseEmulator({ users: Object.values(USERS) });
    fgt = await startFortigateEmulator({ vdoms: ["root"], groups: [{ name: "jit-admins" }], feedSettings: { pushVisibleAfterMs: 0 } } as never);
    fmg = await startFortimanagerEmulator({});
  });
  afterAll(async () => {
    await opn.close();
    await fgt.close();
    await fmg.close();
  });

  it("OpnsenseAliasEntry: after the URL change the alias still holds the address", async () => {
    const r = await moveUrl(opnsenseAliasEntryProvider as unknown as P, opnEntry(opn), opn.url);
    expect({ ...r, held: opn.backend.tableContent("jit_admins").includes(ADDRESS) }).toEqual({ ...MOVED, held: true });
  });

  it("OpnsenseAliasSet: after the URL change the alias still holds the address", async () => {
    const r = await moveUrl(opnsenseAliasSetProvider as unknown as P, opnSet(opn), opn.url);
    expect({ ...r, held: opn.backend.tableContent("jit_admins").includes(ADDRESS) }).toEqual({ ...MOVED, held: true });
  });

  it("FortigateFeedEntry: after the URL change the feed still lists the address", async () => {
    const r = await moveUrl(fortigateFeedEntryProvider as unknown as P, fgtEntry(fgt), fgt.url);
    expect({ ...r, held: heldByFgt(fgt) }).toEqual({ ...MOVED, held: true });
  });

  it("FortigateFeedSet: after the URL change the feed still lists the address", async () => {
    const r = await moveUrl(fortigateFeedSetProvider as unknown as P, fgtSet(fgt), fgt.url);
    expect({ ...r, held: heldByFgt(fgt) }).toEqual({ ...MOVED, held: true });
  });

  it("FortigateAddress: after the URL change the object is still a member of the group", async () => {
    const r = await moveUrl(
      fortigateAddressProvider as unknown as P,
      (url) => ({
        __provider: "x",
        connection: { url, caCert: fgt.caCert },
        credentials: { token: fgt.token },
        name: "grant-alice",
        address: ADDRESS,
        group: "jit-admins",
        grantName: "alice",
      }),
      fgt.url,
    );
    const held =
      fgt.backend.getAddress("root", "ipv4", "grant-alice")?.value === `${ADDRESS} 255.255.255.255` &&
      fgt.backend.groupMembers("root", "jit-admins").includes("grant-alice");
    expect({ ...r, held }).toEqual({ ...MOVED, held: true });
  });

  it("FortimanagerFeedEntry: after the URL change the managed FortiGate's feed still lists the address", async () => {
    const r = await moveUrl(
      fortimanagerFeedEntryProvider as unknown as P,
      (url) => ({
        __provider: "x",
        connection: { url, caCert: fmg.caCert, username: "apiadmin" },
        credentials: { token: DEFAULT_CREDENTIALS.apiKey },
        devices: ["fgt-hq"],
        feed: "jit-allow",
        address: ADDRESS,
        grantName: "alice",
      }),
      fmg.url,
    );
    const box = (fmg.backend.devices.devices.get("fgt-hq") as unknown as { backend: FortigateEmulator["backend"] }).backend;
    const held = [...(box.feeds.find("root", "jit-allow", false)?.entries.values() ?? [])].some((e) => e.entry === ADDRESS);
    expect({ ...r, held }).toEqual({ ...MOVED, held: true });
  });

  it("FortimanagerTrustedHost: after the URL change the administrator still has the trusted host", async () => {
    const r = await moveUrl(fortimanagerTrustedHostProvider as unknown as P, fmgEntry(fmg), fmg.url);
    expect({ ...r, held: heldByFmg(fmg) }).toEqual({ ...MOVED, held: true });
  });

  it("FortimanagerTrustedHostSet: after the URL change the administrator still has the trusted host", async () => {
    const r = await moveUrl(fortimanagerTrustedHostSetProvider as unknown as P, fmgSet(fmg), fmg.url);
    expect({ ...r, held: heldByFmg(fmg) }).toEqual({ ...MOVED, held: true });
  });
});

/** The new URL names ANOTHER box of the same kind: the old box loses the entry, the new one holds it. */
describe("a second box under the new URL", () => {
  const opn: OpnsenseEmulator[] = [];
  const fgt: FortigateEmulator[] = [];
  const fmg: FortimanagerEmulator[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      opn.push(await startOpnsenseEmulator({ users: Object.values(USERS) }));
      fgt.push(await startFortigateEmulator({ vdoms: ["root"], feedSettings: { pushVisibleAfterMs: 0 } } as never));
      fmg.push(await startFortimanagerEmulator({}));
    }
  });
  afterAll(async () => {
    for (const b of [...opn, ...fgt, ...fmg]) await b.close();
  });

  // Both boxes answer to the same CA and credentials (one emulator kit), as a pair of boxes of one team would.
  const withCa =
    <B extends { caCert: string }>(boxes: B[], inputs: (b: B) => (url: string) => object) =>
    (url: string) => {
      const box = boxes.find((b) => (b as unknown as { url: string }).url === url)!;
      return inputs(box)(url);
    };

  it("OpnsenseAliasEntry: the old box no longer holds the address, the new one does", async () => {
    const r = await moveUrl(opnsenseAliasEntryProvider as unknown as P, withCa(opn, opnEntry), opn[0]!.url, opn[1]!.url);
    const held = opn.map((b) => b.backend.tableContent("jit_admins").includes(ADDRESS));
    expect({ ...r, held }).toEqual({ ...MOVED, held: [false, true] });
  });

  it("OpnsenseAliasSet: the old box no longer holds the address, the new one does", async () => {
    const r = await moveUrl(opnsenseAliasSetProvider as unknown as P, withCa(opn, opnSet), opn[0]!.url, opn[1]!.url);
    const held = opn.map((b) => b.backend.tableContent("jit_admins").includes(ADDRESS));
    expect({ ...r, held }).toEqual({ ...MOVED, held: [false, true] });
  });

  it("FortigateFeedEntry: the old box no longer lists the address, the new one does", async () => {
    const r = await moveUrl(fortigateFeedEntryProvider as unknown as P, withCa(fgt, fgtEntry), fgt[0]!.url, fgt[1]!.url);
    expect({ ...r, held: fgt.map(heldByFgt) }).toEqual({ ...MOVED, held: [false, true] });
  });

  it("FortimanagerTrustedHost: the old box's administrator loses the trusted host, the new one's has it", async () => {
    const r = await moveUrl(fortimanagerTrustedHostProvider as unknown as P, withCa(fmg, fmgEntry), fmg[0]!.url, fmg[1]!.url);
    expect({ ...r, held: fmg.map(heldByFmg) }).toEqual({ ...MOVED, held: [false, true] });
  });

  it("FortimanagerTrustedHostSet: the old box's administrator loses the trusted host, the new one's has it", async () => {
    const r = await moveUrl(fortimanagerTrustedHostSetProvider as unknown as P, withCa(fmg, fmgSet), fmg[0]!.url, fmg[1]!.url);
    expect({ ...r, held: fmg.map(heldByFmg) }).toEqual({ ...MOVED, held: [false, true] });
  });
});

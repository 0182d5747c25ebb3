/**
 * Set drift is shown by address (issue 20): a dynamic provider cannot send a detailed diff, so preview
 * shows the engine's own diff of the refreshed outputs against the checked inputs, property by
 * property and lists by position. After one address of a 20-address set is removed by hand, that diff
 * must name exactly that address once (`missing[0]`), never a shifted `addresses` list; the warning
 * line names it too, and `up` adds it back.
 */
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { fortigateAddressSetProvider as fgt } from "../../provider/devices/fortigate/set-resource";
import { startOpnsenseEmulator } from "../../emulators/opnsense/emulator";
import { opnsenseAliasSetProvider as opn } from "../../provider/devices/opnsense/set-resource";
import { useEmulator } from "../support/emulator";
import { connFor, USERS } from "../opnsense/helpers";

type Raw = Record<string, unknown>;
type P = typeof opn | typeof fgt;
const ADDRESSES = Array.from({ length: 20 }, (_, i) => `10.50.0.${i + 1}`);
const LOST = "10.50.0.1";

/** The engine's property diff as preview prints it: every path whose value differs (objects by key, lists by position). */
function shownDiff(olds: unknown, news: unknown, at = ""): string[] {
  if (Array.isArray(olds) && Array.isArray(news)) {
    return Array.from({ length: Math.max(olds.length, news.length) }, (_, i) => shownDiff(olds[i], news[i], `${at}[${i}]`)).flat();
  }
  if (olds && news && typeof olds === "object" && typeof news === "object" && !Array.isArray(olds) && !Array.isArray(news)) {
    const o = olds as Raw;
    const n = news as Raw;
    return [...new Set([...Object.keys(o), ...Object.keys(n)])].flatMap((k) => shownDiff(o[k], n[k], at ? `${at}.${k}` : k));
  }
  return JSON.stringify(olds) === JSON.stringify(news) ? [] : [`${at}: ${JSON.stringify(olds)} => ${JSON.stringify(news)}`];
}

/** Refresh, then preview: the diff the engine computes and shows, the provider's verdict and its warning lines; then `up`. */
async function driftAfterRefresh(p: P, state: Raw, inputs: Raw) {
  const refreshed = (await p.read("id", state as never)).props as unknown as Raw;
  const news = (await p.check(refreshed, { ...inputs, grantName: state.grantName } as never)).inputs as unknown as Raw;
  const lines: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((s: string) => (lines.push(String(s)), true)) as typeof process.stderr.write;
  let d;
  try {
    d = await p.diff("id", refreshed as never, news as never);
  } finally {
    process.stderr.write = write;
  }
  const shown = shownDiff(
    Object.fromEntries(Object.entries(refreshed).filter(([k]) => k in news && k !== "__provider")),
    Object.fromEntries(Object.entries(news).filter(([k]) => k !== "__provider")),
  );
  return { d, shown, warnings: lines.join(""), refreshed, news };
}

describe("OpnsenseAliasSet: one address removed by hand from a 20-address set", () => {
  const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));
  const inputs = () => ({ ...connFor(emu.url, emu.caCert, "admin"), alias: "jit_nets", method: "table", addresses: ADDRESSES, grantName: "nets" });

  it("preview names exactly that address, once; `up` puts it back", async () => {
    const c = await opn.check({}, inputs() as never);
    const state = (await opn.create(c.inputs!)).outs as unknown as Raw;
    emu.backend.removeAddress("jit_nets", LOST);
    const { d, shown, warnings, refreshed, news } = await driftAfterRefresh(opn, state, inputs());
    expect(d.changes).toBe(true);
    expect(d.replaces ?? []).toEqual([]);
    expect(shown).toEqual([`missing[0]: "${LOST}" => undefined`]);
    expect(warnings).toContain(`the target lacks 1 listed entry: ${LOST}`);
    await opn.update("id", refreshed as never, news as never);
    expect(emu.backend.tableContent("jit_nets")).toContain(LOST);
    const again = await driftAfterRefresh(opn, { ...refreshed, missing: [] }, inputs());
    expect(again.shown).toEqual([]);
    expect(again.d.changes).toBe(false);
  });
});

describe("FortigateAddressSet: one member removed by hand from a 20-address set", () => {
  const emu = useEmulator(() => startFortigateEmulator({ groups: [{ name: "jit-admins" }] }), { resetBackend: false });
  const inputs = () => ({
    connection: { url: emu.url, caCert: emu.caCert },
    credentials: { token: emu.token },
    group: "jit-admins",
    addresses: ADDRESSES,
    grantName: "fs",
  });

  it("preview names exactly that address, once", async () => {
    const c = await fgt.check({}, inputs() as never);
    const state = (await fgt.create(c.inputs!)).outs as unknown as Raw;
    emu.backend.removeMember("root", "ipv4", "jit-admins", `grant-${LOST}`);
    const { d, shown, warnings } = await driftAfterRefresh(fgt, state, inputs());
    expect(d.changes).toBe(true);
    expect(shown).toEqual([`missing[0]: "${LOST}" => undefined`]);
    expect(warnings).toContain(`lacks 1 listed entry: ${LOST}`);
  });
});

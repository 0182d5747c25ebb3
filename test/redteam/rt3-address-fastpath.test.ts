/**
 * Red team rt3 (issue 22): parseAddress answers a canonical IPv4 host with one regular expression. Differential
 * check against the full parse (the same text with `/32`, which the fast path never takes): every dotted text of
 * octets with leading zeros, out-of-range values, signs, spaces and extra dots is accepted by the one exactly when by
 * the other, with the same canonical form and CIDR.
 */
import { parseAddress } from "../../provider/core/address";

const OCTETS = [
  "0",
  "00",
  "01",
  "1",
  "9",
  "10",
  "099",
  "99",
  "100",
  "199",
  "200",
  "249",
  "250",
  "255",
  "256",
  "260",
  "300",
  "999",
  "1000",
  "+1",
  "-1",
  " 1",
  "1 ",
  "",
  "0x1",
  "١",
];

describe("rt3: the canonical IPv4 fast path agrees with the full parse", () => {
  it("on every combination of awkward octets (and extra/missing dots)", () => {
    const texts: string[] = [];
    for (const a of OCTETS)
      for (const b of ["0", "255", "01", "256", ""])
        texts.push(`${a}.1.${b}.2`, `1.${a}.1.${b}`, `${a}.${a}.${a}.${a}`, `${a}.1.2`, `1.2.3.4.${a}`, `${a}.1.2.3\n`);
    const disagree: string[] = [];
    for (const t of texts) {
      const fast = parseAddress(t);
      const full = parseAddress(`${t}/32`);
      const f = fast.ok ? `${fast.address.canonical} ${fast.address.cidr} ${fast.address.family} ${fast.address.isHost}` : "refused";
      const g = full.ok ? `${full.address.canonical} ${full.address.cidr} ${full.address.family} ${full.address.isHost}` : "refused";
      if (f !== g) disagree.push(`${JSON.stringify(t)}: fast ${f}, full ${g}`);
    }
    expect(disagree).toEqual([]);
  });
});

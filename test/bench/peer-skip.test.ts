/**
 * bench/peer.ts without the peer's binaries (issue 22: "the bench script takes the binaries' paths and skips
 * the peer cleanly without them"): every part that needs a missing binary is named in `skipped` with the
 * reason, no row is invented, and the table says so.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { formatPeerTable, runPeer } from "../../bench/peer";

describe("peer bench without the peers", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), "peer-skip-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("skips OpenTofu and both providers with the reason and reports no rows", async () => {
    const r = await runPeer({ tofu: path.join(dir, "no-tofu"), opnsenseProvider: path.join(dir, "missing"), workDir: dir, ours: false });
    expect(r.rows).toEqual([]);
    expect(r.gaps).toEqual([]);
    expect(r.floorMs).toEqual({});
    expect(r.skipped).toEqual([
      `opentofu + terraform-provider-opnsense: ${path.join(dir, "missing")} is not an executable file`,
      "opentofu + terraform-provider-fortios: no path given",
      `opentofu: ${path.join(dir, "no-tofu")} is not an executable file`,
    ]);
    expect(formatPeerTable(r)).toContain("Skipped: opentofu + terraform-provider-opnsense");
  });

  it("a file that is not executable is not taken for a binary", async () => {
    const fake = path.join(dir, "tofu");
    writeFileSync(fake, "not a program", { mode: 0o644 });
    const r = await runPeer({ tofu: fake, workDir: dir, ours: false });
    expect(r.rows).toEqual([]);
    expect(r.skipped).toContain(`opentofu: ${fake} is not an executable file`);
  });
});

/**
 * Red team (a6f5969, client.ts `ensureMember(…, newObject)`). LOW (informational outputs wrong; delete revokes either
 * way). The object POST answered 502 by a proxy that never reached the device, while a hand-made object of the same
 * name and value was already there, in the group. createAddress settles the 502 by reading the object back, finds the
 * value and reports "created" (a guess: it cannot tell ours from one that was there), so the grant says `adopted:
 * false`; and since a6f5969 the member POST is sent without reading the group first, so under FortiOS answering a
 * repeated member POST 200 (variant `repeatedMemberPost: ok`) it also says `membershipAdded: true` — the rule of
 * docs/variants.md ("the client reads before and after; a 200 must never count as 'added by us'") no longer holds.
 * On a membership failure the same guess makes the clean-up delete the hand-made object (`!adopted`).
 * Fix (small but touches set-ops.ts too, left failing): createAddress returns "verified" apart from "created", and
 * only a 200 "created" skips the group read and counts as not adopted.
 */
import { fortigateAddressProvider as provider } from "../../provider/devices/fortigate/resource";
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { useEmulator } from "../support/emulator";

const emu = useEmulator(() => startFortigateEmulator({ vdoms: ["root"], groups: [{ name: "jit-admins" }] }));

it.failing("a 502 on the object POST over a hand-made member of the same value: adopted, membership not added by us", async () => {
  emu.backend.createAddress("root", "ipv4", { name: "hand", type: "ipmask", subnet: "203.0.113.90/32", comment: "by hand" });
  emu.backend.createGroup("root", "ipv4", "ops", ["hand"]);
  emu.backend.createGroup("root", "ipv4", "jit-admins-2", ["hand"]);
  emu.backend.repeatedMemberPost = "ok";
  const inputs = { connection: { url: emu.url, caCert: emu.caCert }, credentials: { token: emu.token }, __provider: "x" };
  const c = await provider.check({}, { ...inputs, name: "hand", address: "203.0.113.90", group: "jit-admins-2" });
  expect(c.failures ?? []).toEqual([]);
  emu.faults.add({ match: "POST /api/v2/cmdb/firewall/address", kind: "status", status: 502, times: 1 });
  const r = await provider.create(c.inputs as never);
  expect({ adopted: r.outs?.adopted, membershipAdded: r.outs?.membershipAdded }).toEqual({ adopted: true, membershipAdded: false });
});

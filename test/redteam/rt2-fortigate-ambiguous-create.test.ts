/**
 * Red team (a6f5969, client.ts `ensureMember(…, newObject)`). LOW (an informational output wrong; delete revokes
 * either way). The object POST answered 502 by a proxy that never reached the device, while a hand-made object of the
 * same name and value was already there, in the group. createAddress settled the 502 by reading the object back and
 * reported "created" (it cannot tell ours from one that was there), and since a6f5969 the member POST then went out
 * without reading the group first: under FortiOS answering a repeated member POST 200 (variant `repeatedMemberPost:
 * ok`) the grant said `membershipAdded: true`, against docs/variants.md ("a 200 must never count as 'added by us'").
 * Fixed: createAddress answers "verified" for a create settled by read-back, and only a 200 "created" skips the group
 * read. Still open (older than this session, not asserted here): such a grant reports `adopted: false`, and a failed
 * membership then makes the clean-up try to delete the hand-made object.
 */
import { fortigateAddressProvider as provider } from "../../provider/devices/fortigate/resource";
import { startFortigateEmulator } from "../../emulators/fortigate/emulator";
import { useEmulator } from "../support/emulator";

const emu = useEmulator(() => startFortigateEmulator({ vdoms: ["root"], groups: [{ name: "jit-admins" }] }));

it("a 502 on the object POST over a hand-made member of the same value: the membership is not reported added by us", async () => {
  emu.backend.createAddress("root", "ipv4", { name: "hand", type: "ipmask", subnet: "203.0.113.90/32", comment: "by hand" });
  emu.backend.createGroup("root", "ipv4", "ops", ["hand"]);
  emu.backend.createGroup("root", "ipv4", "jit-admins-2", ["hand"]);
  emu.backend.repeatedMemberPost = "ok";
  const inputs = { connection: { url: emu.url, caCert: emu.caCert }, credentials: { token: emu.token }, __provider: "x" };
  const c = await provider.check({}, { ...inputs, name: "hand", address: "203.0.113.90", group: "jit-admins-2" });
  expect(c.failures ?? []).toEqual([]);
  emu.faults.add({ match: "POST /api/v2/cmdb/firewall/address", kind: "status", status: 502, times: 1 });
  const r = await provider.create(c.inputs as never);
  expect(r.outs?.membershipAdded).toBe(false);
  expect(emu.backend.groupMembers("root", "jit-admins-2")).toEqual(["hand"]);
});

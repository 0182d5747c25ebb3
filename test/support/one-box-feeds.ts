/**
 * One FortiGate reached two ways: directly (its own URL) and through a FortiManager whose managed device "fgt-hq"
 * is that same FortiGate (same serial, same feed store; the manager's management user is added on the FortiGate).
 * "fgt-br1" is another FortiGate of the manager (another serial). Shared by the red-team suites on feed identity.
 */
import { startFortigateEmulator, type FortigateEmulator } from "../../emulators/fortigate/emulator";
import { startFortimanagerEmulator, type FortimanagerEmulator } from "../../emulators/fortimanager/emulator";
import { resetProcessState } from "../../provider/core/process-state";
import { closeAllAgents } from "../../provider/core/transport";
import { closeFortimanagerSessions } from "../../provider/devices/fortimanager/session";

export interface OneBox {
  readonly fgt: FortigateEmulator;
  readonly fmg: FortimanagerEmulator;
}

export async function startOneBoxFeeds(feed: string): Promise<OneBox> {
  const fgt = await startFortigateEmulator({ vdoms: ["root"], feeds: [{ name: feed }], feedSettings: { pushVisibleAfterMs: 0 } } as never);
  // One box has one serial: the manager lists the FortiGate's own.
  const fmg = await startFortimanagerEmulator({
    devices: [
      { name: "fgt-hq", adom: "root", sn: fgt.backend.serial, feeds: [{ name: feed }], feedSettings: { pushVisibleAfterMs: 0 } },
      { name: "fgt-br1", adom: "root", feeds: [{ name: feed }], feedSettings: { pushVisibleAfterMs: 0 } },
    ],
  } as never);
  const managed = fmg.backend.devices.devices.get("fgt-hq")! as { backend: unknown; mgmtToken: string };
  const r = await fetch(`${fgt.url}/__emulator/users`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "fmg-mgmt", token: managed.mgmtToken, fwgrp: "read-write", sysgrp: "read-write", vdoms: ["root"] }),
    dispatcher: new (require("undici").Agent)({ connect: { ca: fgt.caCert } }),
  } as never);
  if (r.status >= 300) throw new Error(`adding the manager's user on the FortiGate answered ${r.status}`);
  managed.backend = fgt.backend;
  return { fgt, fmg };
}

export async function closeOneBoxFeeds(box: Partial<OneBox>): Promise<void> {
  await box.fgt?.close();
  await box.fmg?.close();
  await closeFortimanagerSessions();
  await closeAllAgents();
  resetProcessState();
}

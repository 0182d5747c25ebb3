/**
 * A FortimanagerFeedSet on two managed FortiGates and a FortimanagerFeedEntry of one of its addresses on
 * one of them (issue 18 item 3 engine test). Connections come from the environment (FORTIMANAGER_URL, …).
 * Env FEED_SET=0: the set is no longer declared (its delete must revoke the shared address where the
 * grant does not name it).
 */
import * as grants from "pulumi-firewall-grants";

if (process.env.FEED_SET !== "0") {
  new grants.FortimanagerFeedSet("team", { devices: ["fgt-br1", "fgt-hq"], feed: "jit-allow", addresses: ["203.0.113.9", "203.0.113.10"] });
}
new grants.FortimanagerFeedEntry("bob", { devices: ["fgt-hq"], feed: "jit-allow", address: "203.0.113.9" });

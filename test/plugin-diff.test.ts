/**
 * The plugin's detailed diff (provider/plugin/detailed-diff.ts): per property, and per member of a list of
 * entries, what a preview shows; a set's member lost on the device (`missing`) is named too.
 */
import { detailedDiff } from "../provider/plugin/detailed-diff";

const keys = ["alias", "addresses", "description", "connection", "credentials"];

describe("plugin detailed diff", () => {
  test("properties: add, update, delete; replaces as …-replace, a non-input replace (device) named", () => {
    const d = detailedDiff(keys, { alias: "a", description: "x", cidr: "out" }, { alias: "b", connection: { url: "https://fw" } }, ["alias", "device"]);
    expect(Object.fromEntries(d)).toEqual({ alias: "update-replace", description: "delete", connection: "add", device: "update-replace" });
  });

  test("a list of entries: which member was added, dropped or changed, by address", () => {
    const olds = { addresses: [{ address: "203.0.113.40" }, { address: "203.0.113.41", description: "x" }, { address: "203.0.113.42" }] };
    const news = { addresses: [{ address: "203.0.113.41", description: "y" }, { address: "203.0.113.40" }, "203.0.113.43"] };
    expect(Object.fromEntries(detailedDiff(keys, olds, news, []))).toEqual({ "addresses[2]": "add", "addresses[0]": "update" });
    const dropped = detailedDiff(keys, olds, { addresses: olds.addresses.slice(0, 2) }, []);
    expect(Object.fromEntries(dropped)).toEqual({ "addresses[2]": "delete" });
  });

  test("only the order changed: the list as a whole; nothing changed: nothing", () => {
    expect(Object.fromEntries(detailedDiff(keys, { addresses: ["a", "b"] }, { addresses: ["b", "a"] }, []))).toEqual({ addresses: "update" });
    expect(detailedDiff(keys, { alias: "a", addresses: ["a"] }, { alias: "a", addresses: ["a"] }, []).size).toBe(0);
  });

  test("a member lost on the device (refresh put it in `missing`): that member, though the inputs are the same", () => {
    const olds = { addresses: [{ address: "203.0.113.40" }, { address: "203.0.113.41" }], missing: ["203.0.113.41"] };
    expect(Object.fromEntries(detailedDiff(keys, olds, { addresses: ["203.0.113.40", "203.0.113.41"] }, []))).toEqual({ "addresses[1]": "add" });
  });

  test("an entry past its own expiresAt (check names it in `expiredEntries`): shown though the inputs are the same (issue 22)", () => {
    const addresses = [{ address: "203.0.113.40", expiresAt: "2026-12-01T13:00:00Z" }, { address: "203.0.113.41" }];
    expect(Object.fromEntries(detailedDiff(keys, { addresses }, { addresses, expiredEntries: ["203.0.113.40"] }, []))).toEqual({ expiredEntries: "add" });
    expect(detailedDiff(keys, { addresses, expiredEntries: ["203.0.113.40"] }, { addresses, expiredEntries: ["203.0.113.40"] }, []).size).toBe(0);
  });
});

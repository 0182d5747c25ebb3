/**
 * `readAllEntries` (feed-batcher.ts) against page readers that model the device answers the sources leave open
 * (fortigate-feeds.md Turn 3: the entry list may be windowed; `start` may be ignored): a list is read whole or the
 * read fails, never a partial list taken for the whole.
 */
import { readAllEntries, type PageReader, type TargetRead } from "../../provider/devices/fortinet/feed-batcher";
import type { EntryList } from "../../provider/devices/fortinet/feed-entries";

const list = (texts: readonly string[]): EntryList => ({
  entries: texts.map((text) => ({ text, valid: true })),
  validCount: undefined,
  invalidCount: undefined,
  overflow: false,
});
const T = "fgt";
const texts = (r: TargetRead | undefined) => (r?.ok ? r.list.entries.map((e) => e.text) : r?.failure.reason);

/** A device that ignores `start`/`count` and answers the whole list, which `lists` changes from read to read. */
const ignoresStart = (lists: readonly string[][]): { read: PageReader; calls: () => number } => {
  let n = 0;
  return {
    read: async () => new Map([[T, { ok: true, list: list(lists[Math.min(n++, lists.length - 1)]!) }]]),
    calls: () => n,
  };
};

it("a device that ignores start: the first page repeated is the whole list", async () => {
  const d = ignoresStart([["a", "b"]]);
  expect(texts((await readAllEntries(d.read, [T])).get(T))).toEqual(["a", "b"]);
  expect(d.calls()).toBe(2);
});

it("a device that ignores start and whose list changed after the first page: the new list, read again to agree", async () => {
  const d = ignoresStart([["a", "b"], ["a"]]);
  expect(texts((await readAllEntries(d.read, [T])).get(T))).toEqual(["a"]);
});

it("a device that ignores start and whose list never stops changing: the read fails", async () => {
  let n = 0;
  const read: PageReader = async () => new Map([[T, { ok: true, list: list([`e${n++}`]) }]]);
  expect((await readAllEntries(read, [T])).get(T)?.ok).toBe(false);
});

it("a device that pages (window 2): every page to the empty one, two passes agreeing", async () => {
  const all = ["a", "b", "c", "d", "e"];
  let n = 0;
  const read: PageReader = async (start) => (n++, new Map([[T, { ok: true, list: list(all.slice(start, start + 2)) }]]));
  expect(texts((await readAllEntries(read, [T])).get(T))).toEqual(all);
  expect(n).toBe(8);
});

import { describe, expect, it } from "vitest";
import { ParsedTextCache } from "../../shared/parsed-text-cache";

describe("parsed text cache", () => {
  it("hands back the kept value while the stored text is the one it came from, and parses a changed text", () => {
    const cache = new ParsedTextCache<{ cash: number }>(1_000);
    const first = cache.read("a", '{"cash":1}');
    expect(cache.read("a", '{"cash":1}')).toBe(first);
    // Written elsewhere (another writer, or a write whose transaction rolled back): the text read decides.
    const changed = cache.read("a", '{"cash":2}');
    expect(changed).toEqual({ cash: 2 });
    expect(changed).not.toBe(first);
  });

  it("keeps a value just written, so the next read of the same text does not parse", () => {
    const cache = new ParsedTextCache<{ cash: number }>(1_000);
    const written = { cash: 5 };
    cache.keep("a", JSON.stringify(written), written);
    expect(cache.read("a", '{"cash":5}')).toBe(written);
  });

  it("stays within its budget of characters, the least recently read out first", () => {
    const cache = new ParsedTextCache<{ n: number }>(45);
    // Each text is 20 characters: two fit.
    const text = (n: number) => JSON.stringify({ n, pad: "xxxx" });
    const a = cache.read("a", text(1));
    cache.read("b", text(2));
    cache.read("a", text(1));
    cache.read("c", text(3));
    expect(cache.keptChars).toBe(40);
    // b was read least recently, so it went; a is still kept.
    expect(cache.read("a", text(1))).toBe(a);
    const tooBig = cache.read("d", JSON.stringify({ n: 4, pad: "x".repeat(40) }));
    expect(tooBig.n).toBe(4);
    expect(cache.keptChars).toBeLessThanOrEqual(45);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { quoteWithHighlights, textOfQuote } from "../../shared/discord/quoted-text";

describe("a member's text quoted in an embed", () => {
  it("highlights only the words at fault, escaping the text's own markdown", () => {
    expect(quoteWithHighlights("BUY MSFT 5", [{ start: 9, end: 10 }])).toBe("BUY MSFT __**5**__");
    expect(quoteWithHighlights("BUY *AAPL* @ 190 SL 195", [{ start: 19, end: 23 }])).toBe(
      "BUY \\*AAPL\\* @ 190 SL __**195**__",
    );
    // A span over the whole message points at no word: nothing is highlighted.
    expect(quoteWithHighlights("gm everyone", [{ start: 0, end: 11 }])).toBe("gm everyone");
  });

  it("reads back exactly the text it quoted, whatever the text and spans", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        fc.array(fc.tuple(fc.nat(220), fc.nat(40)), { maxLength: 5 }),
        (text, spans) => {
          const quote = quoteWithHighlights(
            text,
            spans.map(([start, length]) => ({ start, end: start + length })),
          );
          expect(textOfQuote(quote)).toBe(text);
        },
      ),
      { numRuns: 500 },
    );
  });
});

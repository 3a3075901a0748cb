import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { describeManagement, readManagement, type TradeManagement } from "../../../shared/signals/management";
import { readProviderMessage } from "../../../shared/signals/reading";

const NOW = Date.parse("2026-11-23T15:00:00Z");

function management(partial: Partial<TradeManagement>): TradeManagement {
  return { stop: null, cancelEntries: false, closePercent: null, symbol: null, reported: false, ...partial };
}

describe("trade-management messages", () => {
  it("Scenario: Management texts are read into one instruction", () => {
    const cases: [string, TradeManagement][] = [
      ["TP1 hit, move SL to breakeven", management({ stop: { breakeven: true }, reported: true })],
      ["move stop to 185", management({ stop: { price: 185 } })],
      ["cancel", management({ cancelEntries: true })],
      ["close half", management({ closePercent: 50 })],
      ["close all AAPL", management({ closePercent: 100, symbol: "AAPL" })],
      ["<@&1> TP1 hit ✅ move SL to BE", management({ stop: { breakeven: true }, reported: true })],
      ["close half and move SL to BE", management({ closePercent: 50, stop: { breakeven: true } })],
    ];
    for (const [text, expected] of cases) {
      expect(readManagement(text), text).toEqual({ kind: "management", management: expected });
    }
  });

  it("reads the other written forms of each instruction", () => {
    const cases: [string, Partial<TradeManagement>][] = [
      ["SL moved to 188.5", { stop: { price: 188.5 } }],
      ["new SL: 185", { stop: { price: 185 } }],
      ["Move stops to BE", { stop: { breakeven: true } }],
      ["move SL to entry", { stop: { breakeven: true } }],
      ["Move to breakeven", { stop: { breakeven: true } }],
      ["trail stop to 190", { stop: { price: 190 } }],
      ["trail stop 2%", { trail: { percent: 2 } }],
      ["trailing stop 1.50", { trail: { amount: 1.5 } }],
      ["TP1 hit, trailing SL: 2.5% on $AAPL", { trail: { percent: 2.5 }, reported: true, symbol: "AAPL" }],
      ["SL to BE on BTCUSDT", { stop: { breakeven: true }, symbol: "BTC/USDT" }],
      ["**Update:** raise the stop to $191", { stop: { price: 191 } }],
      ["cancel the AAPL order", { cancelEntries: true, symbol: "AAPL" }],
      ["Trade cancelled", { cancelEntries: true }],
      ["Close half $AAPL", { closePercent: 50, symbol: "AAPL" }],
      ["close 30%", { closePercent: 30 }],
      ["exit", { closePercent: 100 }],
      ["take half off", { closePercent: 50 }],
      ["secure 30% profits", { closePercent: 30 }],
      ["sell half", { closePercent: 50 }],
      ["close all BRK.B", { closePercent: 100, symbol: "BRK.B" }],
      ["TP1 hit ✅ close half", { closePercent: 50, reported: true }],
      ["close the rest 🚀, great trade guys", { closePercent: 100 }],
    ];
    for (const [text, expected] of cases) {
      expect(readManagement(text), text).toEqual({ kind: "management", management: management(expected) });
    }
  });

  it("Scenario: Result reports are recognized and never traded", () => {
    for (const text of ["Profit: 69%", "Entry 1 ✅", "TP2 reached"]) {
      expect(readManagement(text), text).toEqual({ kind: "report" });
      expect(readProviderMessage(text, NOW, { reply: true }), text).toEqual({ kind: "report" });
      expect(readProviderMessage(text, NOW, { reply: false }), text).toEqual({ kind: "report" });
    }
  });

  it("Scenario: Unsure management is refused, never guessed", () => {
    // A trailing stop is a distance: 185 reads as one (and the executor refuses it as TRAIL_TOO_WIDE on a ~190 stock).
    expect(readManagement("update: trailing stop 185")).toMatchObject({
      kind: "management",
      management: { trail: { amount: 185 }, stop: null },
    });
    expect(readManagement("move stop to 185 and trail stop 2%")).toMatchObject({ kind: "unclear" });
    expect(readManagement("move SL to 185 and move SL to 190")).toMatchObject({ kind: "unclear" });
    expect(readManagement("close AAPL and TSLA")).toMatchObject({
      kind: "unclear",
      reason: expect.stringContaining("AAPL and TSLA"),
    });
    expect(readManagement("close 150%")).toEqual({ kind: "none" });
    expect(readManagement("BUY AAPL @ 190 SL 185 — move SL to breakeven after TP1")).toEqual({ kind: "none" });
    for (const text of ["take profits", "update", "move sl to 0", "close half then close all", "great trade"]) {
      expect(readManagement(text).kind, text).not.toBe("management");
    }
    expect(readManagement("close half then close all")).toMatchObject({ kind: "unclear" });
    expect(readManagement(42 as unknown as string)).toEqual({ kind: "none" });
    expect(readManagement("close ".repeat(500))).toEqual({ kind: "none" });
  });

  it("reads a reply's instruction before a signal, and a signal first elsewhere", () => {
    expect(readProviderMessage("close all AAPL", NOW, { reply: true })).toEqual({
      kind: "management",
      management: management({ closePercent: 100, symbol: "AAPL" }),
    });
    expect(readProviderMessage("close all AAPL", NOW, { reply: false })).toMatchObject({
      kind: "signal",
      reading: { signal: { action: "close", symbol: "AAPL" } },
    });
    expect(readProviderMessage("move stop to 185", NOW, { reply: false })).toMatchObject({ kind: "management" });
    expect(readProviderMessage("close AAPL and TSLA", NOW, { reply: true })).toMatchObject({
      kind: "invalid",
      reading: { errors: [{ code: "MANAGEMENT_MESSAGE" }] },
    });
    expect(readProviderMessage("hello there", NOW, { reply: true })).toMatchObject({
      kind: "invalid",
      reading: { errors: [{ code: "NOT_A_SIGNAL" }] },
    });
    expect(readProviderMessage("BUY AAPL @ 190 SL 185", NOW, { reply: true })).toMatchObject({ kind: "signal" });
  });

  it("describes an instruction in words", () => {
    expect(describeManagement(management({ cancelEntries: true, stop: { price: 185 }, closePercent: 50 }))).toBe(
      "cancel the entries not filled yet, move the stop to 185, close half the position",
    );
    expect(describeManagement(management({ stop: { breakeven: true }, closePercent: 100 }))).toBe(
      "move the stop to breakeven, close the position",
    );
    expect(describeManagement(management({ closePercent: 30 }))).toBe("close 30% of the position");
  });

  it("never throws and reads management only with an instruction", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const reading = readManagement(text);
        if (reading.kind === "management") {
          const { stop, cancelEntries, closePercent } = reading.management;
          expect(stop !== null || cancelEntries || closePercent !== null).toBe(true);
        }
      }),
      { numRuns: 1_000 },
    );
  });
});

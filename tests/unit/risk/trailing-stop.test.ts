import { describe, expect, it } from "vitest";
import { decide } from "../../../shared/risk";
import { exitsAfterFill } from "../../../shared/risk/exits-after-fill";
import { input, leg, paperAccount, placed, signal } from "./fixtures";

/** A buy at 20 protected by a 20% trailing stop and one target, for a follower without sizing. */
function trailingDecision() {
  return placed(
    decide(
      input({
        signal: signal({
          entry: { price: 20 },
          stopLoss: null,
          trailingStop: { percent: 20 },
          takeProfits: [{ price: 30, percent: null }],
        }),
        quotePrice: 20,
        accounts: [paperAccount({ capabilities: { ...paperAccount().capabilities, brackets: true } })],
      }),
    ),
  );
}

describe("trailing stops from the signal", () => {
  it("Scenario: A trailing stop is sized on its distance and replaces the default stop", () => {
    const decision = trailingDecision();
    // 1% of 100,000 over 4.00 a share (20% of 20).
    expect(leg(decision, "entry").quantity).toBe(250);
    expect(decision.sizing?.mode).toBe("risk_percent");
    const stops = decision.intents.filter((intent) => intent.leg === "stop");
    expect(stops).toHaveLength(1);
    expect(stops[0]).toMatchObject({
      orderType: "trailing_stop",
      trail: { percent: 20 },
      stopPrice: 16,
      side: "sell",
      positionEffect: "close",
      quantity: 250,
      placeAfterFill: true,
      nativeBracket: false,
    });
    expect(decision.orderClass).toBe("engine");
    expect(decision.notes.join(" ")).not.toMatch(/default stop/);

    // A signal stop 2% away (19.60) sizes 2,500 shares, capped at 10% of equity: the trail's distance is what counts.
    const twoPercentStop = placed(
      decide(input({ signal: signal({ entry: { price: 20 }, stopLoss: 19.6 }), quotePrice: 20 })),
    );
    expect(leg(twoPercentStop, "stop").orderType).toBe("stop");
    expect(leg(twoPercentStop, "entry").quantity).toBe(500);
  });

  it("Scenario: A trailing stop as wide as a long entry's price is not placed", () => {
    const marketWithTrail = (direction: "buy" | "short", amount: number) =>
      decide(
        input({
          signal: signal({
            action: direction,
            entry: null,
            orderType: "market",
            stopLoss: null,
            trailingStop: { amount },
            takeProfits: [],
          }),
          quotePrice: 20,
        }),
      );
    for (const amount of [20, 25]) {
      const decision = marketWithTrail("buy", amount);
      expect(decision).toMatchObject({ kind: "skip", reason: "invalid_stop" });
      expect(decision.kind === "skip" && decision.message).toMatch(/would start at or below zero/);
    }
    const narrower = marketWithTrail("buy", 19);
    expect(narrower.kind === "skip" ? narrower.message : "placed").toBe("placed");
    const short = marketWithTrail("short", 25);
    expect(short.kind === "skip" ? short.message : "placed").toBe("placed");
  });

  it("Scenario: A trailing stop trails from the fill, or is a fixed stop where the account cannot trail", () => {
    const [entry, ...exits] = trailingDecision().intents;
    if (!entry) throw new Error("no entry");
    const fill = { orderedQuantity: 250, filledQuantity: 200, averagePrice: 19 };

    const trailing = exitsAfterFill(entry, exits, fill, true);
    const trailingStop = trailing.intents.find((exit) => exit.leg === "stop");
    expect(trailingStop).toMatchObject({
      orderType: "trailing_stop",
      trail: { percent: 20 },
      stopPrice: 15.2,
      quantity: 200,
    });
    expect(trailing.trailAsFixed).toEqual([]);

    const fixed = exitsAfterFill(entry, exits, fill, false);
    const fixedStop = fixed.intents.find((exit) => exit.leg === "stop");
    expect(fixedStop).toMatchObject({ orderType: "stop", stopPrice: 15.2, quantity: 200 });
    expect(fixedStop && "trail" in fixedStop).toBe(false);
    expect(fixed.trailAsFixed).toEqual([
      { leg: "stop", reason: expect.stringMatching(/does not take trailing stops for stocks/) },
    ]);
    expect(fixed.intents.find((exit) => exit.leg === "tp1")).toMatchObject({ orderType: "limit", limitPrice: 30 });
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decide, fromLots, instrumentKey, scaleQuantity, toLots } from "../../../shared/risk";
import { exitsAfterFill } from "../../../shared/risk/exits-after-fill";
import { fitExitsToPosition, roomForNewExits, type WorkingExit } from "../../../shared/risk/exits-to-position";
import { input, leg, limits, paperAccount, placed, signal } from "./fixtures";

/** A fixed seed, printed by fast-check with any counterexample. */
const SEED = 20261109;

describe("lots", () => {
  it("Scenario: Quantities are counted in whole lots without float dust", () => {
    expect(toLots(2.3, 0.0001)).toBe(23_000);
    expect(fromLots(23_000, 0.0001)).toBe(2.3);
    expect(scaleQuantity(2.3, 2.3, 2.3, 0.0001)).toBe(2.3);
    expect(scaleQuantity(2.3, 1.15, 2.3, 0.0001)).toBe(1.15);
    expect(toLots(123_456.7891, 0.0001)).toBe(1_234_567_891);
    expect(toLots(2.9999999999, 1)).toBe(3);
    expect(toLots(2.99, 1)).toBe(2);
    expect(fromLots(toLots(0.016666, 0.001), 0.001)).toBe(0.016);

    const steps = fc.constantFrom(1, 0.5, 0.1, 0.01, 0.001, 0.0001, 0.00001, 0.00000001);
    fc.assert(
      fc.property(
        steps,
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (step, lots, filledLots) => {
          const quantity = fromLots(lots, step);
          expect(toLots(quantity, step)).toBe(lots);
          expect(fromLots(toLots(quantity, step), step)).toBe(quantity);
          // All of a fill: exactly the fill; a part of it: whole lots, never more than asked.
          expect(scaleQuantity(quantity, quantity, quantity, step)).toBe(quantity);
          const filled = fromLots(Math.min(filledLots, lots), step);
          const scaled = scaleQuantity(quantity, filled, quantity, step);
          expect(fromLots(toLots(scaled, step), step)).toBe(scaled);
          expect(scaled).toBeLessThanOrEqual(filled);
        },
      ),
      { seed: SEED, numRuns: 2_000 },
    );
  });
});

describe("exits after the fill", () => {
  it("Scenario: Default exits follow the fill price and signal levels stay as written", () => {
    // Decided at 195 without a stop or targets: default 2% / 4% exits, re-priced from the fill at 189.50.
    const defaults = placed(
      decide(
        input({
          signal: signal({ entry: { price: 195 }, stopLoss: null, takeProfits: [] }),
          sizing: { mode: "fixed_quantity", quantity: 10 },
          quotePrice: 195,
        }),
      ),
    );
    expect(leg(defaults, "stop").stopPrice).toBe(191.1);
    const [entry, ...exits] = defaults.intents;
    if (!entry) throw new Error("no entry");
    const afterFill = exitsAfterFill(entry, exits, { orderedQuantity: 10, filledQuantity: 7, averagePrice: 189.5 });
    expect(
      afterFill.intents.map((exit) => [exit.leg, exit.quantity, exit.orderType, exit.stopPrice, exit.limitPrice]),
    ).toEqual([
      ["stop", 7, "stop", 185.71, null],
      ["tp1", 7, "limit", null, 197.08],
    ]);
    expect(afterFill.atMarket).toEqual([]);

    // A signal stop at 191 and target at 200: the fill at 189.50 is already below the stop.
    const explicit = placed(
      decide(
        input({
          signal: signal({ entry: { price: 195 }, stopLoss: 191, takeProfits: [{ price: 200, percent: null }] }),
          sizing: { mode: "fixed_quantity", quantity: 10 },
        }),
      ),
    );
    const [explicitEntry, ...explicitExits] = explicit.intents;
    if (!explicitEntry) throw new Error("no entry");
    const through = exitsAfterFill(explicitEntry, explicitExits, {
      orderedQuantity: 10,
      filledQuantity: 10,
      averagePrice: 189.5,
    });
    expect(through.intents.map((exit) => [exit.leg, exit.orderType, exit.stopPrice, exit.limitPrice])).toEqual([
      ["stop", "market", null, null],
      ["tp1", "limit", null, 200],
    ]);
    expect(through.atMarket).toEqual([
      { leg: "stop", reason: expect.stringContaining("already through the market at the fill ($189.50)") },
    ]);

    // A short's target at 90 with a fill at 88: through the market, sent at market.
    const short = placed(
      decide(
        input({
          signal: signal({
            action: "short",
            entry: { price: 100 },
            stopLoss: 105,
            takeProfits: [{ price: 90, percent: null }],
          }),
          sizing: { mode: "fixed_quantity", quantity: 5 },
        }),
      ),
    );
    const [shortEntry, ...shortExits] = short.intents;
    if (!shortEntry) throw new Error("no entry");
    const shortFill = exitsAfterFill(shortEntry, shortExits, {
      orderedQuantity: 5,
      filledQuantity: 5,
      averagePrice: 88,
    });
    expect(shortFill.intents.map((exit) => [exit.leg, exit.side, exit.orderType])).toEqual([
      ["stop", "buy_to_cover", "stop"],
      ["tp1", "buy_to_cover", "market"],
    ]);

    // Targets split the filled part by their percents, in whole lots.
    const split = placed(
      decide(
        input({
          signal: signal({
            takeProfits: [
              { price: 105, percent: 50 },
              { price: 110, percent: 50 },
            ],
          }),
          sizing: { mode: "fixed_quantity", quantity: 10 },
        }),
      ),
    );
    const [splitEntry, ...splitExits] = split.intents;
    if (!splitEntry) throw new Error("no entry");
    const partial = exitsAfterFill(splitEntry, splitExits, {
      orderedQuantity: 10,
      filledQuantity: 3,
      averagePrice: 100,
    });
    expect(partial.intents.map((exit) => [exit.leg, exit.quantity])).toEqual([
      ["stop", 3],
      ["tp1", 1],
      ["tp2", 2],
    ]);
  });
});

describe("exits fitted to the position", () => {
  const exit = (id: string, legName: string, remaining: number, side: WorkingExit["side"] = "sell"): WorkingExit => ({
    id,
    leg: legName,
    side,
    remaining,
  });

  it("Scenario: Exits are fitted to what the position still holds", () => {
    const working = [exit("stop", "stop", 100), exit("tp1", "tp1", 50), exit("tp2", "tp2", 50)];
    // The first target filled: 50 held. The stop shrinks to 50, the nearest target stays, the furthest goes.
    expect(fitExitsToPosition({ direction: "long", quantity: 50 }, working, 1)).toEqual([
      { id: "stop", action: "resize", quantity: 50, reason: "resized to 50: the position holds 50" },
      { id: "tp2", action: "cancel", reason: "other exits already cover what is held (the position holds 50)" },
    ]);
    // Nothing changes when the exits fit.
    expect(fitExitsToPosition({ direction: "long", quantity: 100 }, working, 1)).toEqual([]);
    // Flat: every exit goes.
    expect(fitExitsToPosition(null, working, 1).map((fit) => [fit.id, fit.action, fit.reason])).toEqual([
      ["stop", "cancel", "the position is closed"],
      ["tp1", "cancel", "the position is closed"],
      ["tp2", "cancel", "the position is closed"],
    ]);
    // Now short: a long's sells would add to the short, so they go.
    expect(
      fitExitsToPosition({ direction: "short", quantity: 10 }, working, 1).every((fit) => fit.action === "cancel"),
    ).toBe(true);
    // A short's exits buy to cover, within the short; crypto in lots of its step.
    expect(
      fitExitsToPosition(
        { direction: "short", quantity: 1.15 },
        [exit("s", "stop", 2.3, "buy_to_cover"), exit("t", "tp1", 2.3, "buy_to_cover")],
        0.0001,
      ),
    ).toEqual([
      { id: "s", action: "resize", quantity: 1.15, reason: "resized to 1.15: the position holds 1.15" },
      { id: "t", action: "resize", quantity: 1.15, reason: "resized to 1.15: the position holds 1.15" },
    ]);
    // Two entries' stops on one position: the oldest is kept whole first.
    expect(
      fitExitsToPosition({ direction: "long", quantity: 30 }, [exit("old", "stop", 20), exit("new", "stop", 20)], 1),
    ).toEqual([{ id: "new", action: "resize", quantity: 10, reason: "resized to 10: the position holds 30" }]);
  });

  it("Scenario: A later entry's exits fit beside the exits already working", () => {
    // Short 7 with its stop and two targets; half was closed (3) while a second short of 7 filled: 11 held.
    const working = [
      exit("stop-1", "stop", 7, "buy_to_cover"),
      exit("tp1-1", "tp1", 3, "buy_to_cover"),
      exit("tp2-1", "tp2", 4, "buy_to_cover"),
    ];
    const second = [
      { leg: "stop", side: "buy_to_cover" as const, quantity: 7 },
      { leg: "tp1", side: "buy_to_cover" as const, quantity: 7 },
    ];
    expect(roomForNewExits({ direction: "short", quantity: 11 }, working, second, 1)).toEqual([
      { quantity: 4, reason: "resized to 4: other exits already cover the rest (the position holds 11)" },
      { quantity: 4, reason: "resized to 4: other exits already cover the rest (the position holds 11)" },
    ]);
    // With room for all of it, the exits are placed whole.
    expect(roomForNewExits({ direction: "short", quantity: 14 }, working, second, 1)).toEqual([
      { quantity: 7, reason: null },
      { quantity: 7, reason: null },
    ]);
    // No room left: nothing is placed, and why.
    expect(roomForNewExits({ direction: "short", quantity: 7 }, working, second, 1)).toEqual([
      { quantity: 0, reason: "other exits already cover what is held (the position holds 7)" },
      { quantity: 0, reason: "other exits already cover what is held (the position holds 7)" },
    ]);
    // New targets take the room nearest first; flat or the other side, nothing fits.
    expect(
      roomForNewExits(
        { direction: "long", quantity: 10 },
        [exit("s", "stop", 4)],
        [
          { leg: "tp2", side: "sell", quantity: 5 },
          { leg: "tp1", side: "sell", quantity: 8 },
        ],
        1,
      ).map((fit) => fit.quantity),
    ).toEqual([2, 8]);
    expect(roomForNewExits(null, [], second, 1).map((fit) => fit.reason)).toEqual([
      "the position is closed",
      "the position is closed",
    ]);
    expect(roomForNewExits({ direction: "long", quantity: 5 }, [], second, 1).map((fit) => fit.quantity)).toEqual([
      0, 0,
    ]);
    // The position shrank below the entry's fill and no other exit works on it: sized to what is held.
    expect(roomForNewExits({ direction: "short", quantity: 5 }, [], second, 1)).toEqual([
      { quantity: 5, reason: "resized to 5: the position holds 5" },
      { quantity: 5, reason: "resized to 5: the position holds 5" },
    ]);
  });

  it("Scenario: Positions are matched by instrument key", () => {
    const call = { underlying: "AAPL", expiration: "2026-12-20", strike: 190, right: "call" as const };
    expect(instrumentKey({ assetClass: "option", symbol: "AAPL", option: call })).toBe("AAPL261220C00190000");
    expect(instrumentKey({ assetClass: "option", symbol: "AAPL", option: call })).not.toBe(
      instrumentKey({ assetClass: "equity", symbol: "AAPL", option: null }),
    );
    expect(instrumentKey({ assetClass: "crypto", symbol: "BTC", option: null })).toBe(
      instrumentKey({ assetClass: "crypto", symbol: "btc/usd", option: null }),
    );
    // A close of the call finds the call, not the shares (and the shares are not closed by it).
    const account = paperAccount(
      {},
      {
        positions: [
          { assetClass: "equity", symbol: "AAPL", option: null, direction: "long", quantity: 40, marketPrice: 190 },
          { assetClass: "option", symbol: "AAPL", option: call, direction: "long", quantity: 2, marketPrice: 2.5 },
        ],
      },
    );
    const close = placed(
      decide(
        input({
          signal: signal({ action: "close", assetClass: "option", option: call, entry: null, orderType: "market" }),
          accounts: [account],
          limits: limits(),
        }),
      ),
    );
    expect(close.intents[0]).toMatchObject({ side: "sell", quantity: 2, option: call });
    expect(close.closes).toMatchObject({
      instrument: "AAPL261220C00190000",
      positionQuantity: 2,
      remainingQuantity: 0,
    });
  });
});

import { describe, expect, it } from "vitest";
import { PAPER_RISK_CAPABILITIES } from "../../../shared/brokers/paper/engine";
import { decide } from "../../../shared/risk";
import { input, leg, paperAccount, placed, signal } from "./fixtures";

describe("risk engine: sizing", () => {
  it("Scenario: Each sizing mode gives its quantity", () => {
    const entry = (overrides: Parameters<typeof input>[0]) => leg(placed(decide(input(overrides))), "entry").quantity;

    expect(entry({ sizing: { mode: "fixed_quantity", quantity: 7 } })).toBe(7);
    // 2,550 at 100 a share is 25.5, rounded down to whole shares.
    expect(entry({ sizing: { mode: "fixed_notional", notional: 2_550 } })).toBe(25);
    // 5% of 100,000 equity at 100 a share.
    expect(entry({ sizing: { mode: "percent_of_equity", percent: 5 } })).toBe(50);
    // 0.25% of 100,000 = 250 at risk, 5 a share between entry 100 and stop 95.
    expect(entry({ sizing: { mode: "risk_percent", percent: 0.25 } })).toBe(50);
    // 2 × the provider's 30.
    expect(entry({ sizing: { mode: "multiplier", multiplier: 2 }, signal: signal({ quantity: 30 }) })).toBe(60);

    const decision = placed(decide(input({ sizing: { mode: "percent_of_equity", percent: 5 } })));
    expect(decision.sizing).toEqual({ mode: "percent_of_equity", source: "follow", referencePrice: 100 });
  });

  it("Scenario: Default sizing risks 1% with a signal stop and 2% of equity without", () => {
    // 1% of 100,000 = 1,000 at risk; 10 a share to the stop at 90 → 100 shares.
    const withStop = placed(decide(input({ signal: signal({ stopLoss: 90 }) })));
    expect(withStop.sizing).toEqual({ mode: "risk_percent", source: "default", referencePrice: 100 });
    expect(leg(withStop, "entry").quantity).toBe(100);

    // 2% of 100,000 = 2,000 at 100 → 20 shares (the default 2% stop does not make it risk sizing).
    const withoutStop = placed(decide(input({ signal: signal({ stopLoss: null }) })));
    expect(withoutStop.sizing).toEqual({ mode: "percent_of_equity", source: "default", referencePrice: 100 });
    expect(leg(withoutStop, "entry").quantity).toBe(20);

    // A multiplier follow on a signal without a quantity falls back to the default, and says so.
    const noQuantity = placed(
      decide(input({ sizing: { mode: "multiplier", multiplier: 3 }, signal: signal({ stopLoss: 90 }) })),
    );
    expect(noQuantity.sizing?.source).toBe("default");
    expect(leg(noQuantity, "entry").quantity).toBe(100);
    expect(noQuantity.notes.join(" ")).toMatch(/no quantity to multiply/);
  });

  it("Scenario: Quantities round down to the broker's lots", () => {
    const notional = { mode: "fixed_notional", notional: 2_550 } as const;
    expect(leg(placed(decide(input({ sizing: notional }))), "entry").quantity).toBe(25);

    const fractional = [paperAccount({ capabilities: { ...PAPER_RISK_CAPABILITIES, fractional: true } })];
    expect(leg(placed(decide(input({ sizing: notional, accounts: fractional }))), "entry").quantity).toBe(25.5);

    // An option contract costs premium × 100: 1,000 buys 4 contracts at 2.35 (940).
    const option = signal({
      assetClass: "option",
      symbol: "AAPL",
      option: { underlying: "AAPL", expiration: "2026-03-20", strike: 190, right: "call" },
      entry: { price: 2.35 },
      stopLoss: 1.5,
      takeProfits: [],
    });
    const contracts = placed(decide(input({ signal: option, sizing: { mode: "fixed_notional", notional: 1_000 } })));
    expect(leg(contracts, "entry").quantity).toBe(4);
    expect(contracts.reservation.notional).toBeCloseTo(940, 6);
    // 1% risk: 1,000 ÷ ((2.35 − 1.50) × 100) = 11.76 → 11 contracts.
    expect(leg(placed(decide(input({ signal: option }))), "entry").quantity).toBe(11);

    // Crypto rounds down to the symbol's step (default 0.0001).
    const btc = signal({
      assetClass: "crypto",
      symbol: "BTC/USD",
      entry: { price: 60_000 },
      stopLoss: 58_000,
      takeProfits: [],
    });
    const thousand = { mode: "fixed_notional", notional: 1_000 } as const;
    expect(leg(placed(decide(input({ signal: btc, sizing: thousand }))), "entry").quantity).toBe(0.0166);
    expect(leg(placed(decide(input({ signal: btc, sizing: thousand, cryptoLotStep: 0.001 }))), "entry").quantity).toBe(
      0.016,
    );
  });

  it("Scenario: A zone entry is sized at its worst side and a market order at the quote", () => {
    const zone = { low: 98, high: 102 };
    const long = placed(
      decide(input({ signal: signal({ entry: zone }), sizing: { mode: "fixed_notional", notional: 1_020 } })),
    );
    expect(long.sizing?.referencePrice).toBe(102);
    expect(leg(long, "entry")).toMatchObject({ quantity: 10, orderType: "limit", limitPrice: 102, side: "buy" });

    const short = placed(
      decide(
        input({
          signal: signal({ action: "short", entry: zone, stopLoss: 105, takeProfits: [{ price: 90, percent: null }] }),
          sizing: { mode: "fixed_notional", notional: 980 },
        }),
      ),
    );
    expect(short.sizing?.referencePrice).toBe(98);
    expect(leg(short, "entry")).toMatchObject({
      quantity: 10,
      limitPrice: 98,
      side: "sell_short",
      positionEffect: "open",
    });

    const market = placed(
      decide(
        input({
          signal: signal({
            orderType: "market",
            entry: null,
            stopLoss: 45,
            takeProfits: [{ price: 60, percent: null }],
          }),
          quotePrice: 50,
          sizing: { mode: "fixed_notional", notional: 1_000 },
        }),
      ),
    );
    expect(market.sizing?.referencePrice).toBe(50);
    expect(leg(market, "entry")).toMatchObject({
      quantity: 20,
      orderType: "market",
      limitPrice: null,
      timeInForce: "day",
    });
  });
});

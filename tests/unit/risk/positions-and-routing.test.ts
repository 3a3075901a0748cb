import { describe, expect, it } from "vitest";
import { PAPER_RISK_CAPABILITIES } from "../../../shared/brokers/paper/engine";
import {
  addReservation,
  type DecideInput,
  decide,
  emptyReserved,
  instrumentKey,
  type RiskAccount,
  releaseReservation,
  routeAccount,
} from "../../../shared/risk";
import { input, leg, limits, paperAccount, placed, position, signal, skipped, snapshot } from "./fixtures";

const alpaca: RiskAccount = {
  id: "alpaca-live",
  broker: "alpaca",
  mode: "live",
  status: "active",
  capabilities: { assetClasses: ["equity", "option"], fractional: true, shorting: true, brackets: true },
  snapshot: snapshot(),
};
const coinbase: RiskAccount = {
  id: "coinbase-live",
  broker: "coinbase",
  mode: "live",
  status: "active",
  capabilities: { assetClasses: ["crypto"], fractional: true, shorting: false, brackets: false },
  snapshot: snapshot(),
};
const btc = signal({
  assetClass: "crypto",
  symbol: "BTC/USD",
  entry: { price: 60_000 },
  stopLoss: 58_000,
  takeProfits: [],
});

describe("risk engine: closing positions", () => {
  it("Scenario: Close and trim act on the member's position, or skip without one", () => {
    const holding = (...positions: ReturnType<typeof position>[]) => [paperAccount({}, { positions })];
    const close = placed(
      decide(
        input({ signal: signal({ action: "close", orderType: "market", entry: null }), accounts: holding(position()) }),
      ),
    );
    expect(close.orderClass).toBe("simple");
    expect(close.intents).toEqual([
      expect.objectContaining({
        leg: "exit",
        side: "sell",
        positionEffect: "close",
        quantity: 40,
        orderType: "market",
      }),
    ]);
    expect(close.closes).toEqual({
      instrument: "AAPL",
      direction: "long",
      positionQuantity: 40,
      remainingQuantity: 0,
    });
    expect(close.notes).toContain("Closes the whole position: cancel its stop and take-profits.");
    expect(close.reservation).toMatchObject({
      notional: 0,
      openPositions: 0,
      closing: { instrument: "AAPL", quantity: 40 },
    });

    // Trim 50% at a limit.
    const trim = placed(
      decide(
        input({
          signal: signal({ action: "sell", quantityPercent: 50, entry: { price: 120 } }),
          accounts: holding(position()),
        }),
      ),
    );
    expect(trim.intents[0]).toMatchObject({ side: "sell", quantity: 20, orderType: "limit", limitPrice: 120 });
    expect(trim.closes?.remainingQuantity).toBe(20);
    // 33% of 40 whole shares rounds down to 13.
    const third = placed(
      decide(input({ signal: signal({ action: "close", quantityPercent: 33 }), accounts: holding(position()) })),
    );
    expect(third.intents[0]?.quantity).toBe(13);

    // Cover acts on a short; a zone's worst side when buying back is its high.
    const cover = placed(
      decide(
        input({
          signal: signal({ action: "cover", entry: { low: 90, high: 92 } }),
          accounts: holding(position({ direction: "short", quantity: 30 })),
        }),
      ),
    );
    expect(cover.intents[0]).toMatchObject({ side: "buy_to_cover", quantity: 30, limitPrice: 92 });

    // No position (or only one in the other direction, or another instrument): skipped.
    const none = skipped(decide(input({ signal: signal({ action: "close" }) })));
    expect(none.reason).toBe("no_position_to_close");
    expect(none.message).toBe("You hold no position in AAPL on your paper account.");
    const wrongSide = skipped(
      decide(input({ signal: signal({ action: "sell" }), accounts: holding(position({ direction: "short" })) })),
    );
    expect(wrongSide.reason).toBe("no_position_to_close");
    const option = signal({
      action: "close",
      assetClass: "option",
      option: { underlying: "AAPL", expiration: "2026-03-20", strike: 190, right: "call" },
    });
    expect(skipped(decide(input({ signal: option, accounts: holding(position()) }))).reason).toBe(
      "no_position_to_close",
    );
    const trimOne = skipped(
      decide(
        input({
          signal: signal({ action: "sell", quantityPercent: 25 }),
          accounts: holding(position({ quantity: 3 })),
        }),
      ),
    );
    expect(trimOne.reason).toBe("quantity_rounds_to_zero");
  });

  it("Scenario: An exit quantity is a fraction of the provider's position", () => {
    const sell10 = (exitQuantityOf: DecideInput["exitQuantityOf"]) =>
      decide(
        input({
          signal: signal({ action: "sell", quantity: 10 }),
          sizing: { mode: "fixed_quantity", quantity: 5 },
          accounts: [paperAccount({}, { positions: [position()] })],
          exitQuantityOf,
        }),
      );
    const quarter = placed(sell10({ kind: "provider", position: 40 }));
    expect(quarter.intents[0]).toMatchObject({ side: "sell", quantity: 10 });
    expect(quarter.notes).toContain("Closes 25% of your 40 shares: the provider's 10 of their 40.");
    expect(placed(sell10({ kind: "provider", position: 5 })).intents[0]?.quantity).toBe(40);
    const unknown = skipped(sell10({ kind: "provider", position: null }));
    expect(unknown.reason).toBe("exit_quantity_unknown");
    expect(unknown.message).toContain("post it as a percentage");
    // Without being told whose units they are, a quantity is never read as the whole position.
    expect(skipped(sell10(undefined)).reason).toBe("exit_quantity_unknown");
    expect(placed(sell10({ kind: "own" })).intents[0]?.quantity).toBe(10);
  });

  it("Scenario: Units already being closed are not closed twice", () => {
    const holding = [paperAccount({}, { positions: [position()] })];
    const close = signal({ action: "close", orderType: "market", entry: null });
    const reserved = addReservation(emptyReserved(), {
      notional: 0,
      openPositions: 0,
      ordersToday: 1,
      symbol: null,
      closing: { instrument: "AAPL", quantity: 30 },
      position: null,
    });
    const rest = placed(decide(input({ signal: close, accounts: holding, reserved })));
    expect(rest.intents[0]?.quantity).toBe(10);
    const again = skipped(
      decide(input({ signal: close, accounts: holding, reserved: addReservation(reserved, rest.reservation) })),
    );
    expect(again.reason).toBe("no_position_to_close");
    expect(again.message).toBe("Your AAPL position is already being closed by an earlier signal.");
  });
});

describe("risk engine: routing", () => {
  it("Scenario: Orders route to the account that trades the asset class", () => {
    const accounts = [alpaca, coinbase, paperAccount()];
    const live = { tradingMode: "live", paperOnly: false } as const;
    expect(routeAccount({ accounts, assetClass: "equity", ...live })).toEqual({ ok: true, account: alpaca });
    expect(routeAccount({ accounts, assetClass: "option", ...live })).toEqual({ ok: true, account: alpaca });
    expect(routeAccount({ accounts, assetClass: "crypto", ...live })).toEqual({ ok: true, account: coinbase });
    expect(routeAccount({ accounts, assetClass: "crypto", tradingMode: "paper", paperOnly: false })).toMatchObject({
      ok: true,
      account: { id: "paper-1" },
    });

    const expired = [alpaca, { ...coinbase, status: "expired" as const }, paperAccount()];
    expect(routeAccount({ accounts: expired, assetClass: "crypto", ...live })).toEqual({
      ok: false,
      reason: "no_broker_account",
      message: "None of your live accounts can trade crypto now (alpaca, coinbase (expired)).",
      details: { assetClass: "crypto", tradingMode: "live", connected: ["alpaca", "coinbase (expired)"] },
    });

    const equity = placed(decide(input({ accounts, member: live })));
    expect(equity.accountId).toBe("alpaca-live");
    expect(equity.orderClass).toBe("bracket");
    const crypto = placed(
      decide(input({ accounts, member: live, signal: btc, sizing: { mode: "fixed_notional", notional: 1_000 } })),
    );
    expect(crypto.accountId).toBe("coinbase-live");
    expect(leg(crypto, "entry")).toMatchObject({ quantity: 0.0166, timeInForce: "gtc" });

    // An exit goes to the account that holds the position, even when another one comes first.
    const schwab: RiskAccount = {
      ...alpaca,
      id: "schwab-live",
      broker: "schwab",
      snapshot: snapshot({ positions: [position()] }),
    };
    const close = placed(
      decide(input({ accounts: [alpaca, schwab], member: live, signal: signal({ action: "close" }) })),
    );
    expect(close.accountId).toBe("schwab-live");
  });

  it("Scenario: A paper-only member cannot trade live", () => {
    const accounts = [alpaca, paperAccount()];
    const refused = skipped(decide(input({ accounts, member: { tradingMode: "live", paperOnly: true } })));
    expect(refused.reason).toBe("live_not_allowed");
    expect(refused.message).toMatch(/paper trading only/);

    const paper = placed(decide(input({ accounts, member: { tradingMode: "paper", paperOnly: true } })));
    expect(paper.accountId).toBe("paper-1");
  });
});

describe("risk engine: reservations", () => {
  it("Scenario: Two in-flight signals cannot both pass a limit only one fits", () => {
    // Two open positions, a limit of three: the first signal takes the last slot.
    const twoOpen = [paperAccount({}, { positions: [position({ symbol: "MSFT" }), position({ symbol: "TSLA" })] })];
    const first = placed(decide(input({ accounts: twoOpen, signal: signal({ symbol: "NVDA" }) })));
    expect(first.reservation).toMatchObject({ openPositions: 1, ordersToday: 1, symbol: "NVDA", notional: 10_000 });
    let reserved = addReservation(emptyReserved(), first.reservation);
    const second = { accounts: twoOpen, signal: signal({ symbol: "AMD" }) };
    expect(decide(input(second)).kind).toBe("place");
    const refused = skipped(decide(input({ ...second, reserved })));
    expect(refused.reason).toBe("max_open_positions");
    expect(refused.details).toEqual({ open: 2, inFlight: 1, max: 3 });
    // Once the first order ends unfilled, its slot is free again.
    reserved = releaseReservation(reserved, first.reservation);
    expect(reserved).toEqual(emptyReserved());
    expect(decide(input({ ...second, reserved })).kind).toBe("place");

    // Buying power for 1.5 orders: the second one is reduced to what is left.
    const lowPower = {
      accounts: [paperAccount({}, { buyingPower: 15_000 })],
      sizing: { mode: "fixed_notional", notional: 10_000 },
    } as const;
    const a = placed(decide(input({ ...lowPower, signal: signal({ symbol: "MSFT" }) })));
    const b = placed(
      decide(
        input({
          ...lowPower,
          signal: signal({ symbol: "TSLA" }),
          reserved: addReservation(emptyReserved(), a.reservation),
        }),
      ),
    );
    expect(leg(a, "entry").quantity).toBe(100);
    expect(leg(b, "entry").quantity).toBe(50);
    expect(b.reductions[0]).toMatchObject({ reason: "insufficient_buying_power", from: 100, to: 50 });

    // The same symbol twice, and the last order of the day twice.
    const aapl = addReservation(emptyReserved(), placed(decide(input())).reservation);
    expect(skipped(decide(input({ reserved: aapl }))).reason).toBe("max_positions_per_symbol");
    expect(
      skipped(
        decide(input({ reserved: aapl, signal: signal({ symbol: "MSFT" }), limits: limits({ maxOrdersPerDay: 1 }) })),
      ).reason,
    ).toBe("max_orders_per_day");

    // Two closes of one position: the second finds nothing left to close.
    const held = [paperAccount({}, { positions: [position()] })];
    const closeA = placed(decide(input({ accounts: held, signal: signal({ action: "close" }) })));
    const closing = addReservation(emptyReserved(), closeA.reservation);
    expect(closing.closing).toEqual({ [instrumentKey(position())]: 40 });
    const closeB = skipped(decide(input({ accounts: held, signal: signal({ action: "close" }), reserved: closing })));
    expect(closeB.reason).toBe("no_position_to_close");
    expect(closeB.message).toMatch(/already being closed/);
    expect(PAPER_RISK_CAPABILITIES.assetClasses).toEqual(["equity", "option", "crypto"]);
  });

  it("Scenario: A same-direction add within five seconds joins the member's position", () => {
    // The provider's first entry is on its way for this member: 6,000 of AAPL.
    const first = placed(decide(input({ sizing: { mode: "fixed_notional", notional: 6_000 } })));
    const inFlight = addReservation(emptyReserved(), first.reservation);
    expect(inFlight.entries).toEqual({ "AAPL:long": 6_000 });
    const add = { sizing: { mode: "fixed_quantity", quantity: 50 }, reserved: inFlight } as const;

    // Run as a signal of its own, it would be a second AAPL position: refused by the one-per-symbol limit.
    expect(skipped(decide(input(add))).reason).toBe("max_positions_per_symbol");

    // Combined, it adds to that position: the size limit counts the 6,000 on its way, so 40 of 50 fit.
    const joined = placed(decide(input({ ...add, addsToRecentEntry: true })));
    expect(leg(joined, "entry").quantity).toBe(40);
    expect(joined.reductions[0]?.message).toBe(
      "Reduced from 50 to 40 shares to fit your max position of 10% of equity (10000.00, 6000.00 on its way).",
    );
    expect(joined.notes).toContain(
      "Combined with the provider's AAPL entry of a moment ago: this adds to that one position.",
    );
    expect(joined.reservation).toMatchObject({
      openPositions: 0,
      symbol: null,
      position: "AAPL:long",
      notional: 4_000,
    });
    const both = addReservation(inFlight, joined.reservation);
    expect(both).toMatchObject({ openPositions: 1, symbols: ["AAPL"], entries: { "AAPL:long": 10_000 } });
    expect(releaseReservation(both, joined.reservation).entries).toEqual({ "AAPL:long": 6_000 });

    // Already filled: the add joins the held position the same way.
    const holding = [paperAccount({}, { positions: [position({ quantity: 40, marketPrice: 100 })] })];
    const ontoHeld = placed(
      decide(input({ ...add, reserved: emptyReserved(), accounts: holding, addsToRecentEntry: true })),
    );
    expect(leg(ontoHeld, "entry").quantity).toBe(50);

    // A member the first entry did not reach (nothing held or on its way) gets the add as an entry of its own.
    const full = [paperAccount({}, { positions: ["MSFT", "TSLA", "NVDA"].map((symbol) => position({ symbol })) })];
    expect(
      skipped(decide(input({ ...add, reserved: emptyReserved(), accounts: full, addsToRecentEntry: true }))).reason,
    ).toBe("max_open_positions");
  });
});

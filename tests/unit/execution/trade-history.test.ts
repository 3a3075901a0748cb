import { describe, expect, it } from "vitest";
import { decimalProduct, decimalText } from "../../../shared/decimal-text";
import {
  legKind,
  TRADE_CSV_HEADER,
  type TradeFill,
  tradeCsvRow,
  tradeRecord,
} from "../../../shared/execution/trade-history";

const FILL: TradeFill = {
  id: "fill-1",
  filledAt: Date.UTC(2026, 11, 4, 14, 30),
  orderId: "order-1",
  executionId: "exec-1",
  userId: "user-1",
  discordUserId: "100000000000000001",
  broker: "paper",
  accountMode: "paper",
  symbol: "BTC/USD",
  assetClass: "crypto",
  option: null,
  side: "buy",
  orderType: "market",
  leg: "entry",
  signalId: "signal-1",
  providerUserId: "provider-1",
  providerDiscordId: "100000000000000002",
  quantity: 0.1 + 0.2,
  price: 64_123.1,
  quoteSource: "coinbase",
  quoteTimestamp: Date.UTC(2026, 11, 4, 14, 29, 59, 500),
  delayed: false,
};

describe("trade history records", () => {
  it("Scenario: Quantities and prices are exact decimals", () => {
    expect(decimalText(0.1 + 0.2)).toBe("0.3");
    expect(decimalText(190.1, 2)).toBe("190.10");
    expect(decimalText(1e-7)).toBe("0.0000001");
    expect(decimalText(1e21 / 1e6, 2)).toBe("1000000000000000.00");
    expect(decimalText(-0, 2)).toBe("0.00");
    expect(decimalText(2.125, 2)).toBe("2.125");
    expect(decimalProduct(["0.3", "64123.10", "1"], 2)).toBe("19236.93");
    expect(decimalProduct(["3", "0.000123", "1"], 2)).toBe("0.000369");
    expect(decimalProduct(["2", "2.47", "100"], 2)).toBe("494.00");
    expect(decimalProduct(["0.0001", "0.0001"])).toBe("0.00000001");

    const record = tradeRecord(FILL);
    expect(record).toMatchObject({ quantity: "0.3", price: "64123.10", notional: "19236.93", currency: "USD" });
    expect(record.filledAt).toBe("2026-12-04T14:30:00.000Z");
    expect(record.quoteAt).toBe("2026-12-04T14:29:59.500Z");
  });

  it("an option's record carries its contract, its OCC symbol and 100 per contract", () => {
    const record = tradeRecord({
      ...FILL,
      symbol: "AAPL",
      assetClass: "option",
      option: { underlying: "AAPL", expiration: "2026-12-20", strike: 190, right: "call" },
      quantity: 2,
      price: 2.47,
      accountMode: null,
    });
    expect(record).toMatchObject({
      instrument: "AAPL261220C00190000",
      optionUnderlying: "AAPL",
      optionExpiration: "2026-12-20",
      optionStrike: "190",
      optionRight: "call",
      multiplier: 100,
      quantity: "2",
      price: "2.47",
      notional: "494.00",
      account: "paper",
    });
  });

  it("names each leg's kind, suffixes and all", () => {
    expect(
      ["entry", "stop", "stop@123", "tp1", "tp2:5", "exit", "exit@9", "close_now", "flatten-AAPL", "held:x"].map(
        legKind,
      ),
    ).toEqual([
      "entry",
      "stop_loss",
      "stop_loss",
      "take_profit",
      "take_profit",
      "exit",
      "exit",
      "exit",
      "flatten",
      "other",
    ]);
  });

  it("writes one CSV row per record under a header of the same columns", () => {
    const columns = TRADE_CSV_HEADER.trimEnd().split(",");
    const cells = tradeCsvRow(tradeRecord(FILL)).trimEnd().split(",");
    expect(cells).toHaveLength(columns.length);
    expect(Object.fromEntries(columns.map((column, i) => [column, cells[i]]))).toMatchObject({
      filled_at: "2026-12-04T14:30:00.000Z",
      symbol: "BTC/USD",
      option_strike: "",
      quantity: "0.3",
      notional: "19236.93",
      leg_kind: "entry",
      delayed: "false",
    });
  });
});

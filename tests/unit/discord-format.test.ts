import { describe, expect, it } from "vitest";
import { orderBadge } from "../../shared/discord/badge";
import {
  formatMoney,
  formatPrice,
  formatQuantity,
  legLabel,
  sideDone,
  sideLabel,
  statusLabel,
  tradeLine,
} from "../../shared/discord/format";
import { signalEmbed } from "../../shared/discord/signal-post";
import { describeOrder, fillSentence } from "../../shared/execution/order-label";
import { digestMessage, skippedCopyMessage } from "../../shared/notifications/order-messages";
import type { NormalizedSignal } from "../../shared/signals/schema";

const CALL = { underlying: "AAPL", expiration: "2026-12-20", strike: 190, right: "call" as const };

describe("the style guide's formats", () => {
  it("Scenario: Money, prices and quantities read the same everywhere", () => {
    expect(formatMoney(10_000)).toBe("$10,000.00");
    expect(formatMoney(-12.5)).toBe("-$12.50");
    expect(formatMoney(1250, "USDT")).toBe("1,250.00 USDT");
    expect(formatPrice(190.5)).toBe("$190.50");
    expect(formatPrice(190)).toBe("$190.00");
    expect(formatPrice(2.125)).toBe("$2.125");
    expect(formatPrice(0.000123)).toBe("$0.000123");
    expect(formatPrice(67_000.5, "USDT")).toBe("67,000.50 USDT");
    expect(formatPrice(0.1 + 0.2)).toBe("$0.30");
    expect(formatQuantity(1000)).toBe("1,000");
    expect(formatQuantity(0.1 + 0.2)).toBe("0.3");
    expect(formatQuantity(0.00012)).toBe("0.00012");
  });

  it("Scenario: Option contracts are named by their contract", () => {
    const option = { assetClass: "option", symbol: "AAPL", option: CALL };
    expect(tradeLine(option, 2, 2.5)).toBe("2 × AAPL 20 Dec 2026 $190 Call @ $2.50, $500.00 total");
    const order = {
      ...option,
      intent: { option: CALL },
      side: "sell",
      quantity: 2,
      leg: "tp1",
      orderType: "limit",
      limitPrice: 3.1,
    };
    expect(describeOrder(order)).toBe("sell 2 × AAPL 20 Dec 2026 $190 Call limit $3.10 (take-profit 1)");
    expect(
      fillSentence({ ...order, side: "buy", leg: "entry", status: "filled", filledQuantity: 2, averageFillPrice: 2.5 }),
    ).toBe("✅ Filled: bought 2 × AAPL 20 Dec 2026 $190 Call @ $2.50, $500.00 total.");
    expect(
      fillSentence({
        assetClass: "equity",
        symbol: "AAPL",
        intent: {},
        side: "buy",
        quantity: 10,
        leg: "entry",
        orderType: "market",
        status: "partially_filled",
        filledQuantity: 4,
        averageFillPrice: 190.5,
      }),
    ).toBe("✅ Partly filled: bought 4 × AAPL @ $190.50, $762.00 total (4 of 10 so far).");
  });

  it("Scenario: Plain labels replace internal terms", () => {
    expect(legLabel("tp1")).toBe("take-profit 1");
    expect(legLabel("stop")).toBe("stop-loss");
    expect(legLabel("flatten-AAPL")).toBe("closing order");
    expect(statusLabel("submitted")).toBe("sent to broker");
    expect(statusLabel("partially_filled")).toBe("partly filled");
    expect(sideLabel("sell_short")).toBe("sell short");
    expect(sideDone("buy_to_cover")).toBe("bought to cover");
  });
});

describe("member messages", () => {
  it("the badge says paper or live, the server and whose trade", () => {
    expect(orderBadge({ mode: "paper", community: "Alpha", from: { provider: "pete" } })).toBe(
      "🧪 PAPER · Alpha · from @pete",
    );
    expect(orderBadge({ mode: "live", community: "Alpha", from: "own" })).toBe("💵 LIVE · Alpha · your own trade");
    expect(orderBadge({ mode: "paper", community: "Alpha", from: null })).toBe("🧪 PAPER · Alpha");
  });

  it("a skipped copy names the provider, the signal, the reason and the way out", () => {
    expect(
      skippedCopyMessage({
        provider: "pete",
        signal: "BUY META",
        reason: "max_open_positions",
        message: "You hold 3 of 3 open positions.",
      }),
    ).toBe(
      "⏭️ Not copied — @pete · BUY META. You hold 3 of 3 open positions. Close one (/portfolio) or change your limits (/risk set).",
    );
    const many = Array.from({ length: 22 }, (_, i) => ({
      provider: "pete",
      signal: `BUY T${i}`,
      reason: "max_open_positions",
      message: "Full.",
    }));
    const digest = digestMessage("2026-12-01", many, 3);
    expect(digest.split("\n")[0]).toBe("📋 Daily digest for 2026-12-01: 25 signals you follow were not copied.");
    expect(digest).toContain("• …and 5 more");
  });

  it("an accepted signal's embed shows entry, stop-loss, targets and the provider, and no counts", () => {
    const signal: NormalizedSignal = {
      action: "buy",
      assetClass: "equity",
      symbol: "AAPL",
      option: null,
      orderType: "limit",
      entry: { price: 190.5 },
      quantity: 10,
      quantityPercent: null,
      stopLoss: 185,
      takeProfits: [
        { price: 195, percent: 50 },
        { price: 200, percent: null },
      ],
      leverage: null,
      timeInForce: null,
    };
    expect(signalEmbed(signal, "123456789012345678")).toMatchObject({
      title: "📣 BUY AAPL",
      fields: [
        { name: "Entry", value: "$190.50 (limit)" },
        { name: "Provider's size", value: "10" },
        { name: "Stop-loss", value: "$185.00" },
        { name: "Targets", value: "1. $195.00 for 50%\n2. $200.00" },
        { name: "Provider", value: "<@123456789012345678>" },
      ],
    });
  });
});

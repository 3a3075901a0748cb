import { describe, expect, it } from "vitest";
import { accountMark, accountModeOf, badged, LIVE_MARK, orderBadge, PAPER_MARK } from "../../shared/discord/badge";
import {
  formatDate,
  formatPercent,
  instrumentTitle,
  legLabel,
  optionContractName,
  priceCurrency,
  priceTerms,
  quantityOf,
  sideDone,
  sideLabel,
  statusLabel,
  tradeLine,
} from "../../shared/discord/format";
import { providerOutcome, type SignalOutcome, signalEmbed, signalHeadline } from "../../shared/discord/signal-post";
import type { StoredOrderIntent } from "../../shared/execution/order-intent";
import {
  describeOrder,
  filledPart,
  instrumentName,
  orderInstrument,
  orderInstrumentKey,
  positionName,
} from "../../shared/execution/order-label";
import {
  confirmRequestMessage,
  digestMessage,
  ONCE_A_DAY,
  orderExplanations,
  orderPlacedMessage,
  skippedCopyMessage,
  wayOutOf,
} from "../../shared/notifications/order-messages";
import type { OrderIntent } from "../../shared/risk/types";
import type { NormalizedSignal } from "../../shared/signals/schema";

const CALL = { underlying: "AAPL", expiration: "2026-12-20", strike: 190, right: "call" as const };
const PUT = { underlying: "SPY", expiration: "2027-01-05", strike: 582.5, right: "put" as const };

const SIGNAL: NormalizedSignal = {
  action: "buy",
  assetClass: "equity",
  symbol: "AAPL",
  option: null,
  orderType: "limit",
  entry: { price: 190.5 },
  quantity: 10,
  quantityPercent: null,
  stopLoss: 185,
  takeProfits: [],
  leverage: null,
  timeInForce: null,
};

function exit(leg: OrderIntent["leg"], quantity: number, prices: { limit?: number; stop?: number }): OrderIntent {
  return {
    leg,
    side: "sell",
    positionEffect: "close",
    assetClass: "equity",
    symbol: "AAPL",
    option: null,
    orderType: prices.stop !== undefined ? "stop" : prices.limit !== undefined ? "limit" : "market",
    quantity,
    limitPrice: prices.limit ?? null,
    stopPrice: prices.stop ?? null,
    timeInForce: "gtc",
    nativeBracket: false,
    placeAfterFill: true,
  };
}

/** An entry's stored intent (a limit buy of 10 AAPL at $190.50, for the day), with `extra` on top. */
function entryIntent(extra: Partial<StoredOrderIntent> = {}): StoredOrderIntent {
  return {
    ...exit("entry", 10, { limit: 190.5 }),
    side: "buy",
    positionEffect: "open",
    timeInForce: "day",
    placeAfterFill: false,
    ...extra,
  };
}

const ENTRY = {
  assetClass: "equity",
  symbol: "AAPL",
  side: "buy",
  quantity: 10,
  leg: "entry",
  orderType: "limit",
  limitPrice: 190.5,
  intent: entryIntent({
    exits: [exit("stop", 10, { stop: 185 }), exit("tp1", 10, { limit: 195 })],
    sizingNote: "Sized at 10 shares, the provider's size.",
    reductions: [
      {
        reason: "max_notional" as const,
        from: 20,
        to: 10,
        message: "Reduced from 20 to 10 shares to fit your max notional.",
      },
    ],
    notes: ["The signal has no target: default take-profit 4% at $198.12."],
  }),
};

const OUTCOME: SignalOutcome = {
  status: "accepted",
  message: "accepted",
  followers: 3,
  ordersQueued: 2,
  ordersReduced: 0,
  skipped: {},
};

describe("the badge", () => {
  it("marks paper and live money, and prefixes a member's message", () => {
    expect(accountMark("paper")).toBe(PAPER_MARK);
    expect(accountMark("live")).toBe(LIVE_MARK);
    expect(orderBadge({ mode: "paper", community: "Alpha", from: { provider: null } })).toBe(
      "🧪 PAPER · Alpha · from a provider you follow",
    );
    expect(badged("🧪 PAPER · Alpha", "✅ Filled.")).toBe("🧪 PAPER · Alpha\n✅ Filled.");
  });

  it("takes the account from the order's intent, else paper only for the paper broker", () => {
    expect(accountModeOf({ broker: "paper" })).toBe("paper");
    expect(accountModeOf({ broker: "alpaca" })).toBe("live");
    expect(accountModeOf({ broker: "alpaca", intent: { accountMode: "paper" } })).toBe("paper");
    expect(accountModeOf({ broker: "paper", intent: {} })).toBe("paper");
  });
});

describe("the formatter's smaller pieces", () => {
  it("formats percents and dates, and leaves a date it cannot read as it is", () => {
    expect(formatPercent(2)).toBe("2%");
    expect(formatPercent(1.5)).toBe("1.5%");
    expect(formatPercent(0.1 + 0.2)).toBe("0.3%");
    expect(formatDate("2026-12-20")).toBe("20 Dec 2026");
    expect(formatDate("2027-01-05")).toBe("5 Jan 2027");
    expect(formatDate("soon")).toBe("soon");
  });

  it("names option contracts, whole and fractional strikes, calls and puts", () => {
    expect(optionContractName(CALL)).toBe("AAPL 20 Dec 2026 $190 Call");
    expect(optionContractName(PUT)).toBe("SPY 5 Jan 2027 $582.50 Put");
    expect(instrumentTitle({ symbol: "AAPL", option: CALL })).toBe("AAPL 20 Dec 2026 $190 Call");
    expect(instrumentTitle({ symbol: "BTC/USDT", option: null })).toBe("BTC/USDT");
  });

  it("prices a crypto pair in its quote currency and everything else in dollars", () => {
    expect(priceCurrency({ symbol: "BTC/USDT", assetClass: "crypto" })).toBe("USDT");
    expect(priceCurrency({ symbol: "ETH/USD" })).toBe("USD");
    expect(priceCurrency({ symbol: "BTC", assetClass: "crypto" })).toBe("USD");
    expect(priceCurrency({ symbol: "AAPL", assetClass: "equity" })).toBe("USD");
    expect(quantityOf({ symbol: "BTC/USD", option: null }, 0.5)).toBe("0.5 × BTC/USD");
    expect(tradeLine({ symbol: "BTC/USDT", option: null, assetClass: "crypto" }, 0.5, 67_000)).toBe(
      "0.5 × BTC/USDT @ 67,000.00 USDT, 33,500.00 USDT total",
    );
  });

  it("says every order type's price terms in words", () => {
    expect(priceTerms({ orderType: "market" })).toBe("at market");
    expect(priceTerms({ orderType: "limit", limitPrice: 2.5 })).toBe("limit $2.50");
    expect(priceTerms({ orderType: "limit" })).toBe("limit");
    expect(priceTerms({ orderType: "stop", stopPrice: 185 })).toBe("stop $185.00");
    expect(priceTerms({ orderType: "stop" })).toBe("stop");
    expect(priceTerms({ orderType: "stop_limit", stopPrice: 185, limitPrice: 184.5 })).toBe(
      "stop $185.00, limit $184.50",
    );
    expect(priceTerms({ orderType: "stop_limit" })).toBe("stop limit");
    expect(priceTerms({ orderType: "trailing_stop" })).toBe("trailing stop");
    // A trailing stop's level is where it triggers now: it follows the best price.
    expect(priceTerms({ orderType: "trailing_stop", trail: { percent: 2 }, stopPrice: 186.2 })).toBe(
      "trailing stop 2%, stop now $186.20",
    );
    expect(priceTerms({ orderType: "trailing_stop", trail: { amount: 1.5 } })).toBe("trailing stop $1.50");
    expect(priceTerms({ orderType: "limit", limitPrice: 0.5 }, "USDT")).toBe("limit 0.50 USDT");
  });

  it("gives plain words to unknown legs, sides and statuses too", () => {
    expect(legLabel("entry")).toBe("entry");
    expect(legLabel("exit")).toBe("exit");
    expect(legLabel("trail_stop")).toBe("trail stop");
    expect(sideLabel("close_all")).toBe("close all");
    expect(sideDone("sell")).toBe("sold");
    expect(sideDone("close_all")).toBe("close all");
    expect(statusLabel("canceled")).toBe("canceled");
    expect(statusLabel("pending_cancel")).toBe("pending cancel");
  });
});

describe("order labels", () => {
  it("names an order's instrument and key, options by their contract", () => {
    const option = { assetClass: "option", symbol: "AAPL", intent: { option: CALL } };
    expect(orderInstrument(option)).toMatchObject({ assetClass: "option", option: CALL });
    expect(orderInstrumentKey(option)).toBe("AAPL261220C00190000");
    expect(orderInstrument({ assetClass: "crypto", symbol: "BTC/USD", intent: {} }).assetClass).toBe("crypto");
    expect(orderInstrument({ assetClass: "fund", symbol: "VTI", intent: {} }).assetClass).toBe("equity");
    expect(instrumentName({ symbol: "AAPL", option: CALL })).toBe("AAPL 20 Dec 2026 $190 Call");
    expect(positionName("AAPL261220C00190000")).toBe("AAPL 20 Dec 2026 $190 Call");
    expect(positionName("MSFT")).toBe("MSFT");
  });

  it("describes a market order and what filled without a price yet", () => {
    expect(describeOrder({ ...ENTRY, orderType: "market", limitPrice: null, intent: {} })).toBe(
      "buy 10 × AAPL at market",
    );
    expect(
      filledPart({
        ...ENTRY,
        intent: { option: CALL },
        assetClass: "option",
        filledQuantity: 2,
        averageFillPrice: null,
      }),
    ).toBe("2 × AAPL 20 Dec 2026 $190 Call");
  });
});

describe("the provider's private outcome", () => {
  it("says the signal's headline, with a closing share and an option contract", () => {
    expect(signalHeadline(SIGNAL)).toBe("BUY AAPL");
    expect(
      signalHeadline({ ...SIGNAL, action: "close", quantityPercent: 50, assetClass: "option", option: CALL }),
    ).toBe("CLOSE 50% AAPL 20 Dec 2026 $190 Call");
  });

  it("counts the orders placed, reduced, awaiting and the copies not made", () => {
    expect(providerOutcome(OUTCOME, "BUY AAPL")).toBe(
      "✅ Posted: BUY AAPL. 2 orders placed for your 3 followers.\nOnly you see these counts.",
    );
    expect(
      providerOutcome(
        {
          ...OUTCOME,
          followers: 1,
          ordersQueued: 1,
          ordersReduced: 1,
          ordersAwaitingConfirmation: 3,
          skipped: { outside_regular_hours: 1, paused: 2, halted: 0, min_balance: 2 },
          combinedWith: "sig-1",
          stoppedByHalt: true,
          notReached: 1,
        },
        "BUY AAPL",
      ),
    ).toBe(
      [
        "✅ Posted: BUY AAPL. 1 order placed for your 1 follower (1 reduced to fit their limits; 1 awaiting confirmation).",
        "Not copied for 5 followers: min balance (2), trading paused (2), market closed (1). Each was told why.",
        "Combined with your signal of a moment ago into one position.",
        "The kill switch stopped the rest.",
        "1 follower not reached: the run was interrupted and the signal is now too old.",
        "Only you see these counts.",
      ].join("\n"),
    );
  });

  it("warns when nobody follows, and says a refusal or a duplicate with its reason", () => {
    expect(providerOutcome({ ...OUTCOME, followers: 0, ordersQueued: 0 }, "BUY AAPL")).toBe(
      "⚠️ Posted: BUY AAPL. Nobody follows you yet, so no orders were placed.\nOnly you see these counts.",
    );
    expect(providerOutcome({ ...OUTCOME, status: "duplicate", message: "Seen at 10:00." }, "BUY AAPL")).toBe(
      "⚠️ Already received: BUY AAPL. Seen at 10:00.",
    );
    expect(providerOutcome({ ...OUTCOME, status: "expired", message: "Too old." }, "BUY AAPL")).toBe(
      "⚠️ Not posted: BUY AAPL. Too old.",
    );
  });
});

describe("the public embed", () => {
  it("shows a market short without stop or targets, with leverage followers do not take", () => {
    const embed = signalEmbed(
      { ...SIGNAL, action: "short", orderType: "market", entry: null, quantity: null, stopLoss: null, leverage: 5 },
      "42",
    );
    expect(embed).toMatchObject({
      title: "📣 SHORT AAPL",
      color: 0xe74c3c,
      fields: [
        { name: "Entry", value: "at market" },
        { name: "Stop-loss", value: "none given (each follower's default applies)" },
        { name: "Targets", value: "none given (each follower's default applies)" },
        { name: "Leverage", value: "5× (followers trade without it)" },
        { name: "Provider", value: "<@42>" },
      ],
    });
  });

  it("shows a trailing stop in place of the stop-loss", () => {
    const stopOf = (embed: Record<string, unknown>) =>
      (embed.fields as { name: string; value: string }[]).find((field) => field.name === "Stop-loss")?.value;
    expect(stopOf(signalEmbed({ ...SIGNAL, stopLoss: null, trailingStop: { percent: 2 } }, "42"))).toBe(
      "trailing 2% behind the best price",
    );
    expect(stopOf(signalEmbed({ ...SIGNAL, stopLoss: null, trailingStop: { amount: 1.5 } }, "42"))).toBe(
      "trailing $1.50 behind the best price",
    );
  });

  it("shows an entry range, and an exit without stop or targets", () => {
    const range = signalEmbed({ ...SIGNAL, entry: { low: 250, high: 252 } }, "42");
    expect((range.fields as { value: string }[])[0]?.value).toBe("$250.00 – $252.00");
    const close = signalEmbed({ ...SIGNAL, action: "sell", entry: null, quantity: null, stopLoss: null }, "42");
    expect(close).toMatchObject({ color: 0x95a5a6, fields: [{ name: "Provider", value: "<@42>" }] });
  });
});

describe("the member's order messages", () => {
  it("gives the way out of a skip, or nothing when the reason says it", () => {
    expect(wayOutOf("max_open_positions")).toBe("Close one (/portfolio) or change your limits (/risk set).");
    expect(wayOutOf("paused")).toBe("");
    expect(wayOutOf("something_new")).toBe("");
    expect(
      skippedCopyMessage({ provider: null, signal: "BUY META", reason: "paused", message: `Paused. ${ONCE_A_DAY}` }),
    ).toBe(`⏭️ Not copied — a provider you follow · BUY META. Paused. ${ONCE_A_DAY}`);
  });

  it("gathers the engine's explanations: sizing, reductions, then notes", () => {
    expect(orderExplanations(ENTRY.intent)).toEqual([
      "Sized at 10 shares, the provider's size.",
      "Reduced from 20 to 10 shares to fit your max notional.",
      "The signal has no target: default take-profit 4% at $198.12.",
    ]);
    expect(orderExplanations({})).toEqual([]);
  });

  it("says an order was placed, how it works at the broker, its exits and why", () => {
    expect(orderPlacedMessage(ENTRY)).toBe(
      [
        "📨 Order placed: buy 10 × AAPL limit $190.50. It is working at the broker until it fills or is canceled (for the day): you get a message when it fills. Cancel it with /cancel.",
        "• Exits: stop-loss $185.00 for 10; take-profit 1 $195.00 for 10.",
        "• Sized at 10 shares, the provider's size.",
        "• Reduced from 20 to 10 shares to fit your max notional.",
        "• The signal has no target: default take-profit 4% at $198.12.",
      ].join("\n"),
    );
    expect(
      orderPlacedMessage({
        ...ENTRY,
        intent: entryIntent({ timeInForce: "gtc", exits: [exit("exit", 10, {})] }),
      }),
    ).toBe(
      "📨 Order placed: buy 10 × AAPL limit $190.50. It is working at the broker until it fills or is canceled (good until canceled): you get a message when it fills. Cancel it with /cancel.\n• Exits: exit at market for 10.",
    );
    expect(orderPlacedMessage({ ...ENTRY, orderType: "market", limitPrice: null, intent: entryIntent() })).toBe(
      "📨 Order placed: buy 10 × AAPL at market. It goes to the broker at market: you get a message when it fills.",
    );
  });

  it("asks for a confirmation with the deadline and the same explanations", () => {
    expect(confirmRequestMessage({ ...ENTRY, intent: entryIntent({ sizingNote: "Sized at 10 shares." }) }, 300)).toBe(
      "🔔 Confirm your order: buy 10 × AAPL limit $190.50. It is canceled if not confirmed within 300 seconds.\n• Sized at 10 shares.",
    );
    expect(
      confirmRequestMessage({ ...ENTRY, intent: entryIntent({ exits: [exit("stop", 10, { stop: 185 })] }) }, 60),
    ).toContain("\n• Exits: stop-loss $185.00 for 10.");
  });

  it("counts a single skipped copy in the digest in the singular", () => {
    const digest = digestMessage("2026-12-01", [
      { provider: "pete", signal: "BUY META", reason: "max_open_positions", message: "Full." },
    ]);
    expect(digest).toBe(
      "📋 Daily digest for 2026-12-01: 1 signal you follow was not copied.\n• @pete · BUY META: Full.\nTo hear about each one as it happens: /risk notify skips:each.",
    );
  });
});

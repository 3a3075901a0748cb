/**
 * TradersPost webhook payloads copied from TradersPost's public documentation (docs.traderspost.io, the pages
 * "Webhooks" / "Signal Message Reference" and "TradingView"), so the tests prove the shapes providers actually
 * send. Bodies are kept as the docs print them, including the ones the docs print as invalid JSON. TradingView
 * templates are shown with their placeholders filled in as TradingView fills them: every value becomes text.
 */

/** "Signal Message Reference": the simple example, buying 1 AMD with a 10% target and a 5% stop. */
export const SIGNAL_REFERENCE_EXAMPLE = {
  ticker: "AMD",
  action: "buy",
  signalPrice: 143.12,
  quantity: 1,
  takeProfit: { percent: 10 },
  stopLoss: { type: "stop", percent: 5 },
};

/** "What is a webhook?" */
export const ENTER_BULLISH = { ticker: "SQ", action: "buy" };
export const EXIT_BULLISH = { ticker: "SQ", action: "exit" };
export const EXIT_BULLISH_WITH_SENTIMENT = { ticker: "SQ", action: "sell", sentiment: "flat" };
export const ENTER_BEARISH = { ticker: "SQ", action: "sell" };
export const EXIT_BEARISH_WITH_SENTIMENT = { ticker: "SQ", action: "buy", sentiment: "flat" };
export const CANCEL_OPEN_ORDERS = { ticker: "SQ", action: "cancel" };
export const ADD_TO_POSITION = { ticker: "SQ", action: "add" };

/** "Order Type" */
export const LIMIT_ORDER = { ticker: "SQ", action: "buy", orderType: "limit", limitPrice: 50.5 };
/** The docs print this stop-limit example without a colon after "stopPrice": it is not JSON. */
export const STOP_LIMIT_ORDER_AS_PRINTED = `{
    "ticker": "SQ",
    "action": "buy",
    "orderType": "stop_limit",
    "stopPrice" 60,
    "limitPrice": 50.50
}`;

/** "Trailing Stop" */
export const TRAILING_STOP_EXIT = {
  ticker: "SQ",
  action: "exit",
  orderType: "trailing_stop",
  price: 71,
  trailAmount: "1",
};
export const TRAILING_STOP_LOSS = {
  ticker: "SQ",
  action: "buy",
  orderType: "limit",
  limitPrice: 71,
  stopLoss: { type: "trailing_stop", trailAmount: 1 },
};

/** "Quantity" and "Quantity Type" */
export const QUANTITY = { ticker: "SQ", action: "buy", quantity: 5 };
export const FIXED_QUANTITY = { ticker: "SQ", action: "buy", quantityType: "fixed_quantity", quantity: 100 };
export const DOLLAR_AMOUNT = { ticker: "SQ", action: "buy", quantityType: "dollar_amount", quantity: 1000 };
export const RISK_DOLLAR_AMOUNT = {
  ticker: "SQ",
  action: "buy",
  price: 100,
  quantityType: "risk_dollar_amount",
  quantity: 100,
  stopLoss: { type: "stop", stopPrice: 90 },
};

/** "Signal Price": a $100 take-profit from the signal price (MNQ is a futures contract). */
export const SIGNAL_PRICE_FUTURES = {
  ticker: "MNQ",
  action: "buy",
  orderType: "market",
  signalPrice: 18500,
  takeProfit: { amount: 100 },
};

/** "Take Profit" */
export const TAKE_PROFIT_PERCENT = { ticker: "SQ", action: "buy", takeProfit: { percent: 10 } };
export const TAKE_PROFIT_AMOUNT = { ticker: "SQ", action: "buy", takeProfit: { amount: 10 } };
export const TAKE_PROFIT_ABSOLUTE = { ticker: "SQ", action: "buy", takeProfit: { limitPrice: 19.99 } };

/** "Stop Loss" */
export const STOP_LOSS_PERCENT = { ticker: "SQ", action: "buy", stopLoss: { type: "stop", percent: 5 } };
export const STOP_LOSS_ABSOLUTE = { ticker: "SQ", action: "buy", stopLoss: { type: "stop", stopPrice: 10.71 } };
export const STOP_LOSS_STOP_LIMIT = {
  ticker: "SQ",
  action: "buy",
  stopLoss: { type: "stop_limit", stopPrice: 10.71, limitPrice: 10.75 },
};
export const STOP_LOSS_TRAIL_PERCENT = {
  ticker: "SQ",
  action: "buy",
  stopLoss: { type: "trailing_stop", trailPercent: 1 },
};

/** "Take Profit & Stop Loss" */
export const TAKE_PROFIT_AND_STOP_LOSS = {
  ticker: "SQ",
  action: "buy",
  takeProfit: { limitPrice: 19.99 },
  stopLoss: { type: "stop", stopPrice: 10.71 },
};

/** "Time In Force": printed without the comma after limitPrice, so not JSON either. */
export const TIME_IN_FORCE_AS_PRINTED = `{
    "ticker": "SQ",
    "action": "buy",
    "orderType": "limit",
    "limitPrice": 50.50
    "timeInForce": "gtc"
}`;

/** "Options" */
export const OPTION_CONTRACT_TICKER = { ticker: "SQ 240510C68", action: "buy" };
export const OPTION_CHAIN_SCAN = {
  ticker: "SQ",
  action: "buy",
  optionType: "call",
  expiration: "+6 months",
  intrinsicValue: "itm",
  strikesAway: 2,
};
export const OPTION_CONTRACT_FIELDS = {
  ticker: "SQ",
  action: "buy",
  optionType: "call",
  expiration: "2024-05-10",
  strikePrice: 68,
};

/** "400 Bad Request" */
export const TRAILING_COMMA_AS_PRINTED = `{
    "ticker": "TSLA",
    "action": "buy",
}`;
export const CURLY_QUOTES_AS_PRINTED = `{
    “ticker”: “TSLA”,
    “action”: “buy”
}`;
export const INVALID_ACTION = { ticker: "NQ", action: "bu" };
export const SENTIMENT_WITH_EXIT = { ticker: "GOOGL", action: "exit", sentiment: "flat" };
export const EMPTY_TICKER = { ticker: "", action: "buy" };

/** "TradingView": the indicator alert, and the strategy template as TradingView sends it once filled in. */
export const TRADINGVIEW_INDICATOR_BUY = { ticker: "TSLA", action: "buy", price: "420.69" };
export function tradingViewStrategy(values: {
  ticker: string;
  action: "buy" | "sell";
  marketPosition: "long" | "short" | "flat";
  contracts: string;
  close: string;
  timenow: string;
}) {
  return {
    ticker: values.ticker,
    action: values.action,
    sentiment: values.marketPosition,
    quantity: values.contracts,
    price: values.close,
    time: values.timenow,
    interval: "5",
  };
}

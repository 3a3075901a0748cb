import { formatDecimal } from "./numbers";
import type { NormalizedSignal, SignalAction, TrailDistance } from "./schema";
import { equityTickerReadsAsCrypto } from "./symbols";

/**
 * The canonical one-line text of a signal, e.g.
 * `BUY $AAPL QTY 10 @ 190.5 SL 185 TP 195 TP 200 (50%) GTC` or `BTO $AAPL 2026-12-20 190C QTY 2 @ 2.5`.
 * `parseSignal(formatSignal(s))` gives back `s` for every valid signal; it is also what the bot echoes
 * to the provider.
 */
export function formatSignal(signal: NormalizedSignal): string {
  const parts: string[] = [sideWord(signal.action, signal.assetClass === "option"), symbolText(signal)];
  if (signal.quantity !== null) parts.push(`QTY ${formatDecimal(signal.quantity)}`);
  if (signal.quantityPercent !== null) parts.push(`${formatDecimal(signal.quantityPercent)}%`);
  parts.push(orderText(signal));
  if (signal.stopLoss !== null) parts.push(`SL ${formatDecimal(signal.stopLoss)}`);
  if (signal.trailingStop) parts.push(trailText(signal.trailingStop));
  for (const target of signal.takeProfits) {
    const percent = target.percent === null ? "" : ` (${formatDecimal(target.percent)}%)`;
    parts.push(`TP ${formatDecimal(target.price)}${percent}`);
  }
  if (signal.leverage !== null) parts.push(`LEVERAGE ${formatDecimal(signal.leverage)}x`);
  if (signal.timeInForce !== null) parts.push(signal.timeInForce.toUpperCase());
  return parts.join(" ");
}

const OPTION_SIDES: Record<SignalAction, string> = {
  buy: "BTO",
  sell: "STC",
  short: "STO",
  cover: "BTC",
  close: "CLOSE",
};

function sideWord(action: SignalAction, option: boolean): string {
  return option ? OPTION_SIDES[action] : action.toUpperCase();
}

function symbolText(signal: NormalizedSignal): string {
  if (signal.assetClass === "crypto") return signal.symbol;
  if (signal.option) {
    const { expiration, strike, right } = signal.option;
    return `$${signal.symbol} ${expiration} ${formatDecimal(strike)}${right === "call" ? "C" : "P"}`;
  }
  // "$LTC" alone reads as Litecoin; the hint word keeps it a stock.
  return equityTickerReadsAsCrypto(signal.symbol) ? `$${signal.symbol} STOCK` : `$${signal.symbol}`;
}

function orderText(signal: NormalizedSignal): string {
  const entry = signal.entry;
  const at =
    entry === null
      ? ""
      : "price" in entry
        ? formatDecimal(entry.price)
        : `${formatDecimal(entry.low)}-${formatDecimal(entry.high)}`;
  switch (signal.orderType) {
    case "market":
      return "MKT";
    case "limit":
      return `@ ${at}`;
    case "stop":
      return `STOP ORDER @ ${at}`;
    case "stop_limit":
      return `STOP-LIMIT @ ${at}`;
  }
}

function trailText(trail: TrailDistance): string {
  return "percent" in trail ? `TS ${formatDecimal(trail.percent)}%` : `TS ${formatDecimal(trail.amount)}`;
}

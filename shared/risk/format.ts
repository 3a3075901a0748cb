/** Wording shared by skip messages, reductions and notes, in the one formatter's number formats. */
import { formatMoney, formatPrice, formatQuantity, instrumentTitle } from "../discord/format";
import type { RiskAccount, RiskSignal } from "./types";

/** "$10,000.00": account figures are in US dollars. */
export function money(value: number): string {
  return formatMoney(value);
}

/** "$190.50", "$0.000123". */
export function price(value: number): string {
  return formatPrice(value);
}

/** A quantity without float noise or trailing zeros. */
export function amount(value: number): string {
  return formatQuantity(value);
}

export function unitName(signal: Pick<RiskSignal, "assetClass" | "symbol">): string {
  if (signal.assetClass === "equity") return "shares";
  if (signal.assetClass === "option") return "contracts";
  return signal.symbol.split("/")[0] ?? "units";
}

/** "AAPL", "BTC/USDT", "AAPL 20 Dec 2026 $190 Call". */
export function instrumentLabel(signal: Pick<RiskSignal, "symbol" | "option">): string {
  return instrumentTitle(signal);
}

export function accountLabel(account: Pick<RiskAccount, "mode" | "broker">): string {
  return account.mode === "paper" ? "paper account" : `${account.broker} account`;
}

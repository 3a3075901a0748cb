/** Wording shared by skip messages, reductions and notes. */
import type { RiskAccount, RiskSignal } from "./types";

export function money(value: number): string {
  return value.toFixed(2);
}

export function price(value: number): string {
  return value >= 1 ? value.toFixed(2) : String(Number(value.toPrecision(6)));
}

/** A quantity without float noise or trailing zeros. */
export function amount(value: number): string {
  return String(Number(value.toFixed(8)));
}

export function unitName(signal: Pick<RiskSignal, "assetClass" | "symbol">): string {
  if (signal.assetClass === "equity") return "shares";
  if (signal.assetClass === "option") return "contracts";
  return signal.symbol.split("/")[0] ?? "units";
}

export function instrumentLabel(signal: Pick<RiskSignal, "symbol" | "option">): string {
  const { option } = signal;
  if (option) return `${option.underlying} ${option.expiration} ${option.strike} ${option.right}`;
  return signal.symbol;
}

export function accountLabel(account: Pick<RiskAccount, "mode" | "broker">): string {
  return account.mode === "paper" ? "paper account" : `${account.broker} account`;
}

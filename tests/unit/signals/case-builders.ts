import type { SignalErrorCode } from "../../../shared/signals/errors";
import type { NormalizedSignal } from "../../../shared/signals/schema";

/** Builders for the case tables (cases.ts, channel-cases.ts): a text and its expected signal or error codes. */

/** Every date case is read as if posted at this moment (a Monday, 10:00 in New York). */
export const NOW = new Date("2026-11-23T15:00:00Z");

export type SignalCase =
  | { family: string; text: string; signal: NormalizedSignal }
  | { family: string; text: string; errors: SignalErrorCode[] };

type Fields = Pick<NormalizedSignal, "action" | "assetClass" | "symbol"> & Partial<NormalizedSignal>;
type Rest = Partial<NormalizedSignal>;

/** A full expected signal from the fields that differ from "market order, nothing else". */
export function signal(fields: Fields): NormalizedSignal {
  return {
    option: null,
    orderType: fields.entry ? "limit" : "market",
    entry: null,
    quantity: null,
    quantityPercent: null,
    stopLoss: null,
    takeProfits: [],
    leverage: null,
    timeInForce: null,
    ...fields,
  };
}

export const tp = (...prices: (number | [number, number])[]) =>
  prices.map((p) => (Array.isArray(p) ? { price: p[0], percent: p[1] } : { price: p, percent: null }));

export const equity = (action: NormalizedSignal["action"], symbol: string, rest: Rest = {}) =>
  signal({ action, assetClass: "equity", symbol, ...rest });
export const crypto = (action: NormalizedSignal["action"], symbol: string, rest: Rest = {}) =>
  signal({ action, assetClass: "crypto", symbol, ...rest });
export const option = (
  action: NormalizedSignal["action"],
  contract: [string, string, number, "call" | "put"],
  rest: Rest = {},
) => {
  const [underlying, expiration, strike, right] = contract;
  return signal({
    action,
    assetClass: "option",
    symbol: underlying,
    option: { underlying, expiration, strike, right },
    ...rest,
  });
};

export const ok = (family: string, text: string, expected: NormalizedSignal): SignalCase => ({
  family,
  text,
  signal: expected,
});
export const bad = (family: string, text: string, ...errors: SignalErrorCode[]): SignalCase => ({
  family,
  text,
  errors,
});

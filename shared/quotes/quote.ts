import type { Instrument } from "./instrument";

/** A price observation. Every number in it came from the named source; nothing is filled in. */
export interface Quote {
  /** The instrument key (`instrumentKey`): "AAPL", "BTC/USDT", "AAPL261220C00190000". */
  symbol: string;
  bid?: number;
  ask?: number;
  /** Last trade price (or, where a source has no trade, the bid/ask midpoint; `note` says so). */
  last: number;
  /** When the source observed the price (ISO 8601). */
  timestamp: string;
  /** "coinbase", "alpaca:iex", "alpaca:indicative", "deterministic", ... */
  source: string;
  /** True when the source delays its data (e.g. the free options feed). */
  delayed: boolean;
  /** Anything a member should know about the price (a substituted pair, a partial feed). */
  note?: string;
}

export interface QuoteSource {
  /** The latest quote, or null when none can be had. Never throws for an unavailable quote. */
  getQuote(instrument: Instrument): Promise<Quote | null>;
  /**
   * A price hint, e.g. the price a signal was posted at. Only the deterministic
   * development feed uses it (its walk starts there); live sources ignore it.
   */
  anchor?(instrument: Instrument, price: number): void;
}

export type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** Calls the global fetch at call time, so a test's `vi.spyOn(globalThis, "fetch")` is seen. */
export const globalFetch: FetchLike = (input, init) => globalThis.fetch(input, init);

/** A finite positive number from a JSON string or number, else undefined. */
export function positiveNumber(value: unknown): number | undefined {
  const number = typeof value === "string" ? Number(value) : typeof value === "number" ? value : Number.NaN;
  return Number.isFinite(number) && number > 0 ? number : undefined;
}

/**
 * Quote sources: where the paper broker (and the risk engine's sizing of market
 * orders) gets prices. A quote is never invented: a source answers null when it
 * has none, and the paper broker then leaves the order waiting for a price.
 *
 * API
 * - `Quote {symbol, bid?, ask?, last, timestamp, source, delayed, note?}` and
 *   `QuoteSource.getQuote(instrument) → Quote | null`; `anchor?(instrument, price)`
 *   is a hint (e.g. the signal's price) that only the deterministic feed uses.
 * - `createQuoteSource(config, fetch?, options?)`: what the executor should use.
 *   QUOTE_FEED=live (the default): crypto from Coinbase Exchange's public ticker
 *   (QUOTES_CRYPTO_API_BASE), equities and options from Alpaca Market Data with the
 *   platform's keys (QUOTES_EQUITY_API_BASE, QUOTES_EQUITY_API_KEY,
 *   QUOTES_EQUITY_API_SECRET), each answer cached 3 s per symbol.
 *   QUOTE_FEED=deterministic: a seeded random walk for development and tests;
 *   loadConfig refuses it in production (CONFIG_INVALID), and so does this factory.
 * - Building blocks: `CoinbaseQuoteSource`, `AlpacaQuoteSource`,
 *   `DeterministicQuoteSource`, `CachingQuoteSource`, `CompositeQuoteSource`.
 * - Instruments: `Instrument {assetClass, symbol, option}`, `instrumentKey`,
 *   `occSymbol` / `parseOccSymbol`, `contractMultiplier` (100 for options).
 */
import type { AppConfig } from "../config";
import { ConfigInvalidError } from "../errors";
import { AlpacaQuoteSource } from "./alpaca";
import { CachingQuoteSource, CompositeQuoteSource } from "./cache";
import { CoinbaseQuoteSource } from "./coinbase";
import { DeterministicQuoteSource, hashedAnchor } from "./deterministic";
import type { FetchLike, QuoteSource } from "./quote";

export { CachingQuoteSource, CompositeQuoteSource } from "./cache";
export { DeterministicQuoteSource } from "./deterministic";
export * from "./instrument";
export type { FetchLike, Quote, QuoteSource } from "./quote";

export type QuoteConfig = Pick<
  AppConfig,
  | "ENVIRONMENT"
  | "QUOTE_FEED"
  | "QUOTES_CRYPTO_API_BASE"
  | "QUOTES_EQUITY_API_BASE"
  | "QUOTES_EQUITY_API_KEY"
  | "QUOTES_EQUITY_API_SECRET"
>;

export interface QuoteSourceFactoryOptions {
  /** Cache lifetime per symbol for live quotes. Default 3,000 ms. */
  ttlMs?: number;
  clock?: () => number;
  /** Seed of the deterministic feed. Default 1. */
  seed?: number | string;
}

export function createQuoteSource(
  config: QuoteConfig,
  fetch?: FetchLike,
  options: QuoteSourceFactoryOptions = {},
): QuoteSource {
  if (config.QUOTE_FEED === "deterministic") {
    if (config.ENVIRONMENT === "production") throw new ConfigInvalidError(["QUOTE_FEED"]);
    const seed = options.seed ?? 1;
    return new DeterministicQuoteSource({
      seed,
      ...(options.clock ? { clock: options.clock } : {}),
      // Development has no market data: a symbol no signal has priced yet starts at a price made from its name.
      fallbackAnchor: (symbol) => hashedAnchor(seed, symbol),
    });
  }

  const equities = new AlpacaQuoteSource({
    baseUrl: config.QUOTES_EQUITY_API_BASE,
    keyId: config.QUOTES_EQUITY_API_KEY,
    secretKey: config.QUOTES_EQUITY_API_SECRET,
    fetch,
  });
  const crypto = new CoinbaseQuoteSource({ baseUrl: config.QUOTES_CRYPTO_API_BASE, fetch });
  return new CachingQuoteSource(new CompositeQuoteSource({ equity: equities, option: equities, crypto }), {
    ttlMs: options.ttlMs,
    clock: options.clock,
  });
}

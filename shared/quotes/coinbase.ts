import { z } from "zod";
import { getJson } from "./http";
import { type Instrument, instrumentKey, normalizeCryptoPair } from "./instrument";
import { type FetchLike, globalFetch, positiveNumber, type Quote, type QuoteSource } from "./quote";

/**
 * Crypto quotes from Coinbase Exchange's public ticker, which needs no key:
 * `GET {base}/products/{BASE}-{QUOTE}/ticker` → `{"price","bid","ask","time",...}`
 * with numbers as strings. A USDT pair Coinbase does not list is priced from
 * the USD pair, and the quote's note says so.
 */

const tickerSchema = z.object({
  price: z.string(),
  bid: z.string().optional(),
  ask: z.string().optional(),
  time: z.string().refine((time) => !Number.isNaN(Date.parse(time))),
});

export interface CoinbaseQuoteSourceOptions {
  /** QUOTES_CRYPTO_API_BASE, e.g. https://api.exchange.coinbase.com */
  baseUrl: string;
  fetch?: FetchLike;
  timeoutMs?: number;
}

type Ticker = z.infer<typeof tickerSchema>;

export class CoinbaseQuoteSource implements QuoteSource {
  private readonly baseUrl: string;
  private readonly fetch: FetchLike;
  private readonly timeoutMs: number | undefined;
  /** Pairs Coinbase answered 404 for, so the USD substitute is asked first next time. */
  private readonly unlisted = new Set<string>();

  constructor(options: CoinbaseQuoteSourceOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.fetch = options.fetch ?? globalFetch;
    this.timeoutMs = options.timeoutMs;
  }

  async getQuote(instrument: Instrument): Promise<Quote | null> {
    if (instrument.assetClass !== "crypto") return null;
    const { base, quote } = normalizeCryptoPair(instrument.symbol);
    if (!base) return null;
    const symbol = instrumentKey(instrument);
    const product = `${base}-${quote}`;

    if (!this.unlisted.has(product)) {
      const answer = await this.ticker(product);
      if (answer.kind === "ok") return toQuote(symbol, answer.ticker);
      if (answer.kind === "unavailable" || quote !== "USDT") return null;
      this.unlisted.add(product);
    }
    if (quote !== "USDT") return null;

    const substitute = await this.ticker(`${base}-USD`);
    if (substitute.kind !== "ok") return null;
    return {
      ...toQuote(symbol, substitute.ticker),
      note: `Coinbase does not list ${base}-USDT: priced from ${base}-USD (USDT taken as USD).`,
    };
  }

  private async ticker(
    product: string,
  ): Promise<{ kind: "ok"; ticker: Ticker } | { kind: "unlisted" | "unavailable" }> {
    const answer = await getJson(
      this.fetch,
      `${this.baseUrl}/products/${encodeURIComponent(product)}/ticker`,
      // Coinbase's public API refuses requests without a User-Agent.
      { "user-agent": "discord-trade-executor/quotes" },
      this.timeoutMs,
    );
    if (!answer) return { kind: "unavailable" };
    if (answer.status === 404) return { kind: "unlisted" };
    if (answer.status !== 200) return { kind: "unavailable" };
    const parsed = tickerSchema.safeParse(answer.body);
    if (!parsed.success || positiveNumber(parsed.data.price) === undefined) return { kind: "unavailable" };
    return { kind: "ok", ticker: parsed.data };
  }
}

function toQuote(symbol: string, ticker: Ticker): Quote {
  const bid = positiveNumber(ticker.bid);
  const ask = positiveNumber(ticker.ask);
  return {
    symbol,
    ...(bid !== undefined ? { bid } : {}),
    ...(ask !== undefined ? { ask } : {}),
    last: positiveNumber(ticker.price) ?? 0,
    timestamp: new Date(ticker.time).toISOString(),
    source: "coinbase",
    delayed: false,
  };
}

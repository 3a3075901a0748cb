import { z } from "zod";
import { getJson } from "./http";
import { type Instrument, instrumentKey, occSymbol, parseOccSymbol } from "./instrument";
import { type FetchLike, globalFetch, positiveNumber, type Quote, type QuoteSource } from "./quote";

/**
 * Equity and option quotes from Alpaca Market Data with the platform's own keys
 * (QUOTES_EQUITY_API_KEY / QUOTES_EQUITY_API_SECRET as APCA-API-KEY-ID /
 * APCA-API-SECRET-KEY):
 * - stocks: `GET /v2/stocks/{symbol}/quotes/latest` and `/trades/latest` with
 *   `feed=iex` (free, real time, but IEX's book only: the note says so);
 * - options: `GET /v1beta1/options/snapshots?symbols=<OCC>` with
 *   `feed=indicative` (free, delayed: quotes are labelled `delayed`).
 * Without keys every quote is null.
 */

const quoteSchema = z.object({ bp: z.number().optional(), ap: z.number().optional(), t: z.string() });
const tradeSchema = z.object({ p: z.number(), t: z.string() });
const latestQuoteSchema = z.object({ quote: quoteSchema });
const latestTradeSchema = z.object({ trade: tradeSchema });
const snapshotsSchema = z.object({
  snapshots: z.record(
    z.string(),
    z.object({ latestQuote: quoteSchema.nullish(), latestTrade: tradeSchema.nullish() }).nullable(),
  ),
});

export type AlpacaStockFeed = "iex" | "sip" | "delayed_sip";
export type AlpacaOptionFeed = "indicative" | "opra";

export interface AlpacaQuoteSourceOptions {
  /** QUOTES_EQUITY_API_BASE, e.g. https://data.alpaca.markets */
  baseUrl: string;
  keyId?: string;
  secretKey?: string;
  stockFeed?: AlpacaStockFeed;
  optionFeed?: AlpacaOptionFeed;
  fetch?: FetchLike;
  timeoutMs?: number;
}

type RawQuote = z.infer<typeof quoteSchema>;
type RawTrade = z.infer<typeof tradeSchema>;

export class AlpacaQuoteSource implements QuoteSource {
  private readonly baseUrl: string;
  private readonly fetch: FetchLike;
  private readonly stockFeed: AlpacaStockFeed;
  private readonly optionFeed: AlpacaOptionFeed;

  constructor(private readonly options: AlpacaQuoteSourceOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.fetch = options.fetch ?? globalFetch;
    this.stockFeed = options.stockFeed ?? "iex";
    this.optionFeed = options.optionFeed ?? "indicative";
  }

  get configured(): boolean {
    return Boolean(this.options.keyId && this.options.secretKey);
  }

  async getQuote(instrument: Instrument): Promise<Quote | null> {
    if (!this.configured) return null;
    if (instrument.assetClass === "equity") return this.stockQuote(instrumentKey(instrument));
    if (instrument.assetClass === "option") {
      const contract = instrument.option ?? parseOccSymbol(instrument.symbol);
      return contract ? this.optionQuote(occSymbol(contract)) : null;
    }
    return null;
  }

  private async stockQuote(symbol: string): Promise<Quote | null> {
    const path = `${this.baseUrl}/v2/stocks/${encodeURIComponent(symbol)}`;
    const feed = `feed=${this.stockFeed}`;
    const [quoteAnswer, tradeAnswer] = await Promise.all([
      this.get(`${path}/quotes/latest?${feed}`),
      this.get(`${path}/trades/latest?${feed}`),
    ]);
    const quote = latestQuoteSchema.safeParse(quoteAnswer).data?.quote ?? null;
    const trade = latestTradeSchema.safeParse(tradeAnswer).data?.trade ?? null;
    const feedNote: Record<AlpacaStockFeed, { delayed: boolean; note?: string }> = {
      iex: { delayed: false, note: "IEX exchange only, not the consolidated market." },
      sip: { delayed: false },
      delayed_sip: { delayed: true, note: "Consolidated market, 15 minutes delayed." },
    };
    return combine(symbol, quote, trade, `alpaca:${this.stockFeed}`, feedNote[this.stockFeed]);
  }

  private async optionQuote(occ: string): Promise<Quote | null> {
    const answer = await this.get(
      `${this.baseUrl}/v1beta1/options/snapshots?symbols=${encodeURIComponent(occ)}&feed=${this.optionFeed}`,
    );
    const snapshot = snapshotsSchema.safeParse(answer).data?.snapshots[occ] ?? null;
    if (!snapshot) return null;
    const label =
      this.optionFeed === "indicative"
        ? { delayed: true, note: "Indicative options feed: delayed, not OPRA." }
        : { delayed: false };
    return combine(occ, snapshot.latestQuote ?? null, snapshot.latestTrade ?? null, `alpaca:${this.optionFeed}`, label);
  }

  private async get(url: string): Promise<unknown> {
    const answer = await getJson(
      this.fetch,
      url,
      { "APCA-API-KEY-ID": this.options.keyId ?? "", "APCA-API-SECRET-KEY": this.options.secretKey ?? "" },
      this.options.timeoutMs,
    );
    return answer?.status === 200 ? answer.body : null;
  }
}

function combine(
  symbol: string,
  quote: RawQuote | null,
  trade: RawTrade | null,
  source: string,
  label: { delayed: boolean; note?: string },
): Quote | null {
  // Alpaca reports an empty side of the book as 0.
  const bid = positiveNumber(quote?.bp);
  const ask = positiveNumber(quote?.ap);
  const tradePrice = positiveNumber(trade?.p);
  const notes = label.note ? [label.note] : [];
  let last = tradePrice;
  if (last === undefined) {
    if (bid === undefined || ask === undefined) return null;
    last = (bid + ask) / 2;
    notes.push("No recent trade: last is the bid/ask midpoint.");
  }
  const times = [quote?.t, trade?.t].map((t) => (t ? Date.parse(t) : Number.NaN)).filter(Number.isFinite);
  if (times.length === 0) return null;
  return {
    symbol,
    ...(bid !== undefined ? { bid } : {}),
    ...(ask !== undefined ? { ask } : {}),
    last,
    timestamp: new Date(Math.max(...times)).toISOString(),
    source,
    delayed: label.delayed,
    ...(notes.length > 0 ? { note: notes.join(" ") } : {}),
  };
}

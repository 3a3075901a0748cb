import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../../shared/config";
import { ConfigInvalidError } from "../../../shared/errors";
import {
  CachingQuoteSource,
  CompositeQuoteSource,
  createQuoteSource,
  DeterministicQuoteSource,
  type Instrument,
  instrumentKey,
  occSymbol,
  parseOccSymbol,
  type Quote,
  type QuoteSource,
} from "../../../shared/quotes";
import { TEST_VARS } from "../../support/test-vars";

const aapl: Instrument = { assetClass: "equity", symbol: "AAPL", option: null };
const T0 = Date.parse("2026-10-20T14:30:00Z");

class CountingSource implements QuoteSource {
  calls = 0;
  async getQuote(instrument: Instrument): Promise<Quote | null> {
    this.calls += 1;
    await new Promise((resolve) => setTimeout(resolve, 5));
    return {
      symbol: instrumentKey(instrument),
      last: 100 + this.calls,
      timestamp: new Date(T0).toISOString(),
      source: "counting",
      delayed: false,
    };
  }
}

afterEach(() => vi.restoreAllMocks());

describe("quote feeds", () => {
  it("Scenario: The deterministic feed is reproducible from its seed", async () => {
    let now = T0;
    const clock = () => now;
    const one = new DeterministicQuoteSource({ seed: 42, clock });
    const two = new DeterministicQuoteSource({ seed: 42, clock });
    const other = new DeterministicQuoteSource({ seed: 7, clock });
    for (const source of [one, two, other]) source.anchor(aapl, 190);

    expect(await one.getQuote(aapl)).toMatchObject({ last: 190, source: "deterministic", delayed: false });
    const series = async (source: QuoteSource) => {
      const prices: number[] = [];
      for (let step = 1; step <= 30; step++) {
        now = T0 + step * 1_000;
        prices.push((await source.getQuote(aapl))?.last ?? Number.NaN);
      }
      now = T0;
      return prices;
    };
    const first = await series(one);
    expect(await series(two)).toEqual(first);
    expect(await series(other)).not.toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(5);
    for (const price of first) expect(Math.abs(price / 190 - 1)).toBeLessThan(0.05);

    now = T0 + 10_000;
    const quote = await one.getQuote(aapl);
    expect(quote?.bid).toBeLessThan(quote?.last ?? 0);
    expect(quote?.ask).toBeGreaterThan(quote?.last ?? 0);
    expect(quote?.timestamp).toBe(new Date(T0 + 10_000).toISOString());
    // A symbol nobody anchored has no price unless a fallback is configured.
    expect(await one.getQuote({ ...aapl, symbol: "MSFT" })).toBeNull();
  });

  it("Scenario: Quotes are cached for three seconds", async () => {
    let now = T0;
    const inner = new CountingSource();
    const cached = new CachingQuoteSource(inner, { clock: () => now });

    const concurrent = await Promise.all([cached.getQuote(aapl), cached.getQuote(aapl), cached.getQuote(aapl)]);
    expect(inner.calls).toBe(1);
    expect(concurrent.map((quote) => quote?.last)).toEqual([101, 101, 101]);
    now += 2_999;
    expect((await cached.getQuote(aapl))?.last).toBe(101);
    expect(inner.calls).toBe(1);

    now += 1;
    expect((await cached.getQuote(aapl))?.last).toBe(102);
    expect(inner.calls).toBe(2);
    await cached.getQuote({ ...aapl, symbol: "MSFT" });
    expect(inner.calls).toBe(3);
  });

  it("Scenario: Production refuses the deterministic feed", () => {
    const { QUOTE_FEED: _testFeed, ...vars } = TEST_VARS;
    const production = { ...vars, ENVIRONMENT: "production", PUBLIC_BASE_URL: "https://trade.example.com" };
    const refused = loadConfig({ ...production, QUOTE_FEED: "deterministic" });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.problems).toEqual([
      { variable: "QUOTE_FEED", problem: "the deterministic feed is for development and tests only" },
    ]);

    const live = loadConfig(production);
    expect(live.ok && live.config.QUOTE_FEED).toBe("live");
    const development = loadConfig({ ENVIRONMENT: "development", QUOTE_FEED: "deterministic" });
    expect(development.ok && development.config.QUOTE_FEED).toBe("deterministic");
    expect(loadConfig({ ENVIRONMENT: "development", QUOTE_FEED: "random" }).ok).toBe(false);

    // The factory refuses too, should a config object be built by hand.
    const handmade = { ...(live.ok ? live.config : ({} as never)), QUOTE_FEED: "deterministic" as const };
    expect(() => createQuoteSource(handmade)).toThrow(ConfigInvalidError);
  });

  it("builds the live feed: Coinbase for crypto, Alpaca for equities, cached", async () => {
    const result = loadConfig({
      ENVIRONMENT: "development",
      QUOTES_CRYPTO_API_BASE: "https://coinbase.test",
      QUOTES_EQUITY_API_BASE: "https://data.alpaca.test",
      QUOTES_EQUITY_API_KEY: "AKTESTKEY",
      QUOTES_EQUITY_API_SECRET: "test-secret",
    });
    if (!result.ok) throw new Error("expected a valid config");
    const fetch = vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      const url = String(input);
      const body = url.startsWith("https://coinbase.test")
        ? { price: "67000.5", bid: "67000", ask: "67001", time: "2026-10-20T14:30:00Z" }
        : url.includes("quotes/latest")
          ? { symbol: "AAPL", quote: { ap: 190.2, bp: 190, t: "2026-10-20T14:30:00Z" } }
          : { symbol: "AAPL", trade: { p: 190.1, t: "2026-10-20T14:30:00Z" } };
      return new Response(JSON.stringify(body), { status: 200 });
    });
    const source = createQuoteSource(result.config);

    expect((await source.getQuote({ assetClass: "crypto", symbol: "BTC", option: null }))?.source).toBe("coinbase");
    expect((await source.getQuote(aapl))?.source).toBe("alpaca:iex");
    await source.getQuote(aapl);
    expect(fetch).toHaveBeenCalledTimes(3);
  });

  it("builds the deterministic feed for development with a price for every symbol", async () => {
    const result = loadConfig({ ENVIRONMENT: "development", QUOTE_FEED: "deterministic" });
    if (!result.ok) throw new Error("expected a valid config");
    const fetch = vi.spyOn(globalThis, "fetch");
    const source = createQuoteSource(result.config, undefined, { seed: 3, clock: () => T0 });
    const first = await source.getQuote({ ...aapl, symbol: "TSLA" });
    expect(first).toMatchObject({ symbol: "TSLA", source: "deterministic" });
    expect(
      await createQuoteSource(result.config, undefined, { seed: 3, clock: () => T0 }).getQuote({
        ...aapl,
        symbol: "TSLA",
      }),
    ).toEqual(first);
    source.anchor?.(aapl, 123.45);
    expect((await source.getQuote(aapl))?.last).toBe(123.45);
    expect(fetch).not.toHaveBeenCalled();
  });

  it("routes by asset class and answers null for an unrouted class or a failing source", async () => {
    const failing: QuoteSource = { getQuote: () => Promise.reject(new Error("boom")) };
    const composite = new CompositeQuoteSource({ equity: new CountingSource(), crypto: failing });
    expect((await composite.getQuote(aapl))?.source).toBe("counting");
    expect(await composite.getQuote({ assetClass: "crypto", symbol: "BTC/USD", option: null })).toBeNull();
    expect(await composite.getQuote({ assetClass: "option", symbol: "AAPL261220C00190000", option: null })).toBeNull();
  });

  it("builds and parses OCC option symbols", () => {
    const contract = { underlying: "AAPL", expiration: "2026-12-20", strike: 190, right: "call" as const };
    expect(occSymbol(contract)).toBe("AAPL261220C00190000");
    expect(occSymbol({ underlying: "SPY", expiration: "2027-01-15", strike: 452.5, right: "put" })).toBe(
      "SPY270115P00452500",
    );
    expect(parseOccSymbol("AAPL261220C00190000")).toEqual(contract);
    expect(parseOccSymbol("AAPL")).toBeNull();
    expect(instrumentKey({ assetClass: "option", symbol: "AAPL", option: contract })).toBe("AAPL261220C00190000");
    expect(instrumentKey({ assetClass: "crypto", symbol: "eth", option: null })).toBe("ETH/USD");
    expect(instrumentKey({ assetClass: "crypto", symbol: "BTC-USDT", option: null })).toBe("BTC/USDT");
  });
});

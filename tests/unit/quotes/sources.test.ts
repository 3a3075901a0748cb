import { afterEach, describe, expect, it, vi } from "vitest";
import { AlpacaQuoteSource } from "../../../shared/quotes/alpaca";
import { CoinbaseQuoteSource } from "../../../shared/quotes/coinbase";
import type { Instrument } from "../../../shared/quotes/instrument";

const COINBASE = "https://coinbase.test";
const ALPACA_DATA = "https://data.alpaca.test";

const btc: Instrument = { assetClass: "crypto", symbol: "BTC/USD", option: null };
const aapl: Instrument = { assetClass: "equity", symbol: "AAPL", option: null };
const aaplCall: Instrument = {
  assetClass: "option",
  symbol: "AAPL",
  option: { underlying: "AAPL", expiration: "2026-12-20", strike: 190, right: "call" },
};

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** GET /products/{id}/ticker as Coinbase Exchange documents it: numbers as strings. */
function ticker(price: string, bid: string, ask: string, time = "2026-10-20T14:30:00.123456Z") {
  return json({
    ask,
    bid,
    volume: "12345.6789",
    trade_id: 648123456,
    price,
    size: "0.00123",
    time,
    rfq_volume: "12.3",
  });
}

const alpaca = () => new AlpacaQuoteSource({ baseUrl: ALPACA_DATA, keyId: "AKTESTKEY", secretKey: "test-secret" });

afterEach(() => vi.restoreAllMocks());

describe("quote sources", () => {
  it("Scenario: A Coinbase ticker becomes a crypto quote", async () => {
    const fetch = vi.spyOn(globalThis, "fetch").mockResolvedValueOnce(ticker("67012.34", "67012.33", "67012.35"));
    const quote = await new CoinbaseQuoteSource({ baseUrl: COINBASE }).getQuote({ ...btc, symbol: "btc" });

    expect(String(fetch.mock.calls[0]?.[0])).toBe(`${COINBASE}/products/BTC-USD/ticker`);
    expect(new Headers(fetch.mock.calls[0]?.[1]?.headers).get("user-agent")).toBeTruthy();
    expect(quote).toEqual({
      symbol: "BTC/USD",
      bid: 67012.33,
      ask: 67012.35,
      last: 67012.34,
      timestamp: "2026-10-20T14:30:00.123Z",
      source: "coinbase",
      delayed: false,
    });
  });

  it("Scenario: An unlisted USDT pair is priced from the USD pair", async () => {
    const fetch = vi
      .spyOn(globalThis, "fetch")
      .mockResolvedValueOnce(json({ message: "NotFound" }, 404))
      .mockResolvedValueOnce(ticker("3120.5", "3120.4", "3120.6"))
      .mockResolvedValueOnce(ticker("3121", "3120.9", "3121.1"));
    const source = new CoinbaseQuoteSource({ baseUrl: COINBASE });
    const eth = { ...btc, symbol: "ETH/USDT" };

    const quote = await source.getQuote(eth);
    expect(fetch.mock.calls.map((call) => String(call[0]))).toEqual([
      `${COINBASE}/products/ETH-USDT/ticker`,
      `${COINBASE}/products/ETH-USD/ticker`,
    ]);
    expect(quote).toMatchObject({ symbol: "ETH/USDT", last: 3120.5, source: "coinbase" });
    expect(quote?.note).toMatch(/USDT taken as USD/);

    expect((await source.getQuote(eth))?.last).toBe(3121);
    expect(String(fetch.mock.calls[2]?.[0])).toBe(`${COINBASE}/products/ETH-USD/ticker`);
  });

  it("Scenario: Equity and option quotes come from Alpaca market data", async () => {
    const fetch = vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      const url = String(input);
      if (url.includes("/quotes/latest")) {
        return json({
          symbol: "AAPL",
          quote: {
            ap: 190.12,
            as: 2,
            ax: "V",
            bp: 190.1,
            bs: 1,
            bx: "V",
            c: ["R"],
            t: "2026-10-20T14:30:00.1Z",
            z: "C",
          },
        });
      }
      if (url.includes("/trades/latest")) {
        return json({
          symbol: "AAPL",
          trade: {
            c: ["@"],
            i: 52983525034427,
            p: 190.11,
            s: 100,
            t: "2026-10-20T14:30:00.123456789Z",
            x: "V",
            z: "C",
          },
        });
      }
      return json({
        snapshots: {
          AAPL261220C00190000: {
            latestQuote: { ap: 3.5, as: 10, ax: "C", bp: 3.4, bs: 12, bx: "C", c: "A", t: "2026-10-20T14:15:00Z" },
            latestTrade: { c: "I", p: 3.45, s: 1, t: "2026-10-20T14:10:00Z", x: "C" },
            greeks: { delta: 0.52, gamma: 0.03, rho: 0.1, theta: -0.05, vega: 0.2 },
            impliedVolatility: 0.25,
          },
        },
        next_page_token: null,
      });
    });
    const source = alpaca();

    const equity = await source.getQuote(aapl);
    const urls = fetch.mock.calls.map((call) => String(call[0]));
    expect(urls).toEqual([
      `${ALPACA_DATA}/v2/stocks/AAPL/quotes/latest?feed=iex`,
      `${ALPACA_DATA}/v2/stocks/AAPL/trades/latest?feed=iex`,
    ]);
    const headers = new Headers(fetch.mock.calls[0]?.[1]?.headers);
    expect(headers.get("APCA-API-KEY-ID")).toBe("AKTESTKEY");
    expect(headers.get("APCA-API-SECRET-KEY")).toBe("test-secret");
    expect(equity).toMatchObject({
      symbol: "AAPL",
      bid: 190.1,
      ask: 190.12,
      last: 190.11,
      timestamp: "2026-10-20T14:30:00.123Z",
      source: "alpaca:iex",
      delayed: false,
    });
    expect(equity?.note).toMatch(/IEX/);

    const option = await source.getQuote(aaplCall);
    expect(String(fetch.mock.calls[2]?.[0])).toBe(
      `${ALPACA_DATA}/v1beta1/options/snapshots?symbols=AAPL261220C00190000&feed=indicative`,
    );
    expect(option).toMatchObject({
      symbol: "AAPL261220C00190000",
      bid: 3.4,
      ask: 3.5,
      last: 3.45,
      timestamp: "2026-10-20T14:15:00.000Z",
      source: "alpaca:indicative",
      delayed: true,
    });
  });

  it("Scenario: An unavailable quote is null, never invented", async () => {
    const fetch = vi.spyOn(globalThis, "fetch");
    fetch.mockResolvedValueOnce(json({ message: "Internal Server Error" }, 503));
    expect(await new CoinbaseQuoteSource({ baseUrl: COINBASE }).getQuote(btc)).toBeNull();

    fetch.mockImplementationOnce(
      (_input, init) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
        }),
    );
    expect(await new CoinbaseQuoteSource({ baseUrl: COINBASE, timeoutMs: 20 }).getQuote(btc)).toBeNull();

    fetch.mockResolvedValueOnce(json({ message: "NotFound" }, 404));
    expect(await new CoinbaseQuoteSource({ baseUrl: COINBASE }).getQuote({ ...btc, symbol: "NOPE/EUR" })).toBeNull();

    fetch.mockResolvedValueOnce(json({ code: 40410000, message: "not found" }, 404));
    fetch.mockResolvedValueOnce(json({ code: 40410000, message: "not found" }, 404));
    expect(await alpaca().getQuote({ ...aapl, symbol: "ZZZZ" })).toBeNull();

    const calls = fetch.mock.calls.length;
    expect(await new AlpacaQuoteSource({ baseUrl: ALPACA_DATA }).getQuote(aapl)).toBeNull();
    expect(fetch.mock.calls.length).toBe(calls);
  });

  it("uses the bid/ask midpoint when an equity has no trade, and says so", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input) =>
      String(input).includes("/quotes/latest")
        ? json({ symbol: "BRK.B", quote: { ap: 451, as: 1, bp: 449, bs: 1, t: "2026-10-20T14:30:00Z" } })
        : json({ message: "not found" }, 404),
    );
    const quote = await alpaca().getQuote({ ...aapl, symbol: "BRK.B" });
    expect(quote).toMatchObject({ symbol: "BRK.B", last: 450 });
    expect(quote?.note).toMatch(/midpoint/);
  });

  it("answers null for an empty book with no trade", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input) =>
      String(input).includes("/quotes/latest")
        ? json({ symbol: "AAPL", quote: { ap: 0, as: 0, bp: 0, bs: 0, t: "2026-10-20T14:30:00Z" } })
        : json({ message: "not found" }, 404),
    );
    expect(await alpaca().getQuote(aapl)).toBeNull();
  });
});

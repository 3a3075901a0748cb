/** Ticker and crypto-pair shapes, and how a bare word is read as a symbol. */

/** 1–5 letters with an optional share-class suffix: AAPL, F, BRK.B. */
export const EQUITY_SYMBOL = /^[A-Z]{1,5}(\.[A-Z]{1,2})?$/;

/** Quote currencies a crypto pair may end with, longest first so suffix matching is greedy. */
export const CRYPTO_QUOTES = [
  "FDUSD",
  "USDT",
  "USDC",
  "BUSD",
  "TUSD",
  "USD",
  "EUR",
  "GBP",
  "DAI",
  "BTC",
  "ETH",
] as const;

export type CryptoQuote = (typeof CRYPTO_QUOTES)[number];

/** Quotes that only exist in crypto: `XYZUSDT` is a pair whatever XYZ is. */
const STABLE_QUOTES = new Set(["FDUSD", "USDT", "USDC", "BUSD", "TUSD"]);

const QUOTES = new Set<string>(CRYPTO_QUOTES);

/** Base of a pair: starts with a letter, 2–10 letters or digits. */
const CRYPTO_BASE = /^[A-Z][A-Z0-9]{1,9}$/;

/** "BASE/QUOTE" as the normalized signal writes it. */
export const CRYPTO_SYMBOL = new RegExp(`^[A-Z][A-Z0-9]{1,9}/(${CRYPTO_QUOTES.join("|")})$`);

/**
 * Coins recognized without a quote ("BTC long 65k" is BTC/USD). A stock with one of these tickers must be
 * written with a hint word ("stock", "shares"); see the spec.
 */
export const KNOWN_CRYPTO_BASES = new Set([
  "BTC",
  "ETH",
  "SOL",
  "XRP",
  "ADA",
  "DOGE",
  "DOT",
  "AVAX",
  "MATIC",
  "POL",
  "LINK",
  "LTC",
  "BCH",
  "BNB",
  "TRX",
  "SHIB",
  "ATOM",
  "XLM",
  "NEAR",
  "APT",
  "ARB",
  "OP",
  "SUI",
  "PEPE",
  "TON",
  "FIL",
  "ICP",
  "HBAR",
  "INJ",
  "AAVE",
  "WIF",
  "BONK",
  "FTM",
  "ALGO",
  "XMR",
  "TAO",
  "ONDO",
  "ENA",
  "WLD",
  "RNDR",
  "SEI",
  "TIA",
  "ETC",
  "UNI",
  "KAS",
  "JUP",
  "FET",
  "GRT",
  "RUNE",
  "LDO",
  "CRV",
  "MKR",
  "SAND",
  "MANA",
  "AXS",
  "EOS",
  "XTZ",
  "IMX",
  "FLOKI",
]);

export type SymbolReading =
  | { form: "pair"; symbol: string; perpetual: boolean }
  | { form: "coin"; symbol: string }
  | { form: "equity"; symbol: string };

const PERPETUAL_SUFFIX = /(\.P|[-_]?PERP)$/;

/**
 * How one word (already upper-cased, without `$`/`#`) reads as a symbol, or null if it cannot be one.
 * Pairs: BTC/USDT, BTC-USDT, BTC_USDT, ETHUSDT, and perpetuals BTCUSDT.P, SOLUSDT-PERP, BTC-PERP (the suffix is
 * dropped, the pair remembers it). A known coin alone is its USD pair. Anything else of ticker shape is an equity.
 */
export function readSymbolWord(word: string): SymbolReading | null {
  const upper = word.replace(PERPETUAL_SUFFIX, "");
  const perpetual = upper !== word;
  const separated = /^([A-Z][A-Z0-9]{1,9})[/_-]([A-Z]{3,5})$/.exec(upper);
  if (separated) {
    const [, base = "", quote = ""] = separated;
    if (QUOTES.has(quote) && base !== quote) return { form: "pair", symbol: `${base}/${quote}`, perpetual };
    return null;
  }
  for (const quote of CRYPTO_QUOTES) {
    if (!upper.endsWith(quote) || upper.length === quote.length) continue;
    const base = upper.slice(0, -quote.length);
    if (!CRYPTO_BASE.test(base) || base === quote) continue;
    if (STABLE_QUOTES.has(quote) || KNOWN_CRYPTO_BASES.has(base)) {
      return { form: "pair", symbol: `${base}/${quote}`, perpetual };
    }
  }
  if (KNOWN_CRYPTO_BASES.has(upper)) {
    return perpetual ? { form: "pair", symbol: `${upper}/USD`, perpetual } : { form: "coin", symbol: `${upper}/USD` };
  }
  if (EQUITY_SYMBOL.test(word)) return { form: "equity", symbol: word };
  return null;
}

/** Words that say the pair is a perpetual future: with SELL and leverage that opens a short. */
const PERPETUAL_WORDS = new Set(["perp", "perps", "perpetual", "perpetuals", "futures", "future"]);

export function isPerpetualWord(lower: string): boolean {
  return PERPETUAL_WORDS.has(lower);
}

/** True when `$SYMBOL` alone would not read as this equity ticker (it reads as a coin or a pair). */
export function equityTickerReadsAsCrypto(symbol: string): boolean {
  return readSymbolWord(symbol)?.form !== "equity";
}

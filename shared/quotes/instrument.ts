import { z } from "zod";

/**
 * What a quote or an order is about. The fields mirror the normalized signal
 * (docs/architecture.md §5: `assetClass`, `symbol`, `option`), so a signal, a risk-engine
 * order intent or a position is an `Instrument` as it stands.
 */

export type AssetClass = "equity" | "option" | "crypto";

export interface OptionContract {
  underlying: string;
  /** YYYY-MM-DD */
  expiration: string;
  strike: number;
  right: "call" | "put";
}

export interface Instrument {
  assetClass: AssetClass;
  /** "AAPL", "BRK.B"; crypto as "BASE/QUOTE" (a bare "BTC" means "BTC/USD"); options: the underlying or the OCC symbol. */
  symbol: string;
  option: OptionContract | null;
}

/** Units per option contract: premiums are quoted per share, a contract covers 100. */
const OPTION_CONTRACT_MULTIPLIER = 100;

export const optionContractSchema = z.object({
  underlying: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z][A-Z0-9.]{0,5}$/, "an option underlying is 1–6 letters, digits or '.'"),
  expiration: z.iso.date("an option expiration is YYYY-MM-DD"),
  strike: z.number().positive("an option strike must be positive").max(99_999.999),
  right: z.enum(["call", "put"]),
});

export const instrumentSchema = z
  .object({
    assetClass: z.enum(["equity", "option", "crypto"]),
    symbol: z
      .string()
      .trim()
      .toUpperCase()
      .regex(/^[A-Z0-9][A-Z0-9./-]{0,31}$/, "a symbol is 1–32 letters, digits, '.', '/' or '-'"),
    option: optionContractSchema.nullable().default(null),
  })
  .refine((value) => value.assetClass !== "option" || value.option !== null, {
    message: "an option instrument needs its contract (underlying, expiration, strike, right)",
    path: ["option"],
  });

/** Units per quantity of one: 100 for option contracts, 1 otherwise. */
export function contractMultiplier(instrument: Pick<Instrument, "assetClass">): number {
  return instrument.assetClass === "option" ? OPTION_CONTRACT_MULTIPLIER : 1;
}

/** "BTC" → "BTC/USD"; "btc/usdt" → "BTC/USDT"; "BTC-USD" → "BTC/USD". */
export function normalizeCryptoPair(symbol: string): { base: string; quote: string } {
  const [base = "", quote = "USD"] = symbol.trim().toUpperCase().split(/[/-]/);
  return { base, quote };
}

/**
 * OCC option symbol: root (the underlying, no padding), YYMMDD, C or P, and
 * the strike × 1000 as 8 digits: AAPL 2026-12-20 190 call → AAPL261220C00190000.
 */
export function occSymbol(option: OptionContract): string {
  const [year = "", month = "", day = ""] = option.expiration.split("-");
  const strike = Math.round(option.strike * 1000);
  if (!Number.isSafeInteger(strike) || strike <= 0 || strike > 99_999_999) {
    throw new RangeError(`strike ${option.strike} does not fit an OCC symbol`);
  }
  const root = option.underlying.toUpperCase().replace(/\./g, "");
  return `${root}${year.slice(2)}${month}${day}${option.right === "call" ? "C" : "P"}${String(strike).padStart(8, "0")}`;
}

/** The inverse of `occSymbol`, or null when the text is not an OCC symbol. */
export function parseOccSymbol(symbol: string): OptionContract | null {
  const match = /^([A-Z]{1,6})(\d{2})(\d{2})(\d{2})([CP])(\d{8})$/.exec(symbol.trim().toUpperCase());
  if (!match) return null;
  const [, underlying = "", yy, mm, dd, right, strike = "0"] = match;
  return {
    underlying,
    expiration: `20${yy}-${mm}-${dd}`,
    strike: Number(strike) / 1000,
    right: right === "C" ? "call" : "put",
  };
}

/**
 * One key per tradable instrument: the equity symbol, the crypto pair as
 * BASE/QUOTE, or the option's OCC symbol. Positions, quotes and caches use it.
 */
export function instrumentKey(instrument: Instrument): string {
  switch (instrument.assetClass) {
    case "option":
      return instrument.option ? occSymbol(instrument.option) : instrument.symbol.toUpperCase();
    case "crypto": {
      const { base, quote } = normalizeCryptoPair(instrument.symbol);
      return `${base}/${quote}`;
    }
    default:
      return instrument.symbol.trim().toUpperCase();
  }
}

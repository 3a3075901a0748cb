import { type Instrument, instrumentKey, parseOccSymbol } from "./instrument";
import type { Quote, QuoteSource } from "./quote";

/**
 * FOR DEVELOPMENT AND TESTS ONLY (production refuses QUOTE_FEED=deterministic).
 * A seeded random walk per symbol, anchored at a given price (e.g. the price a
 * signal was posted at). The price at step n after the anchor depends only on
 * (seed, symbol, anchor price, n), so two isolates, or two test runs, see the
 * same prices at the same times.
 */

export interface DeterministicQuoteSourceOptions {
  seed: number | string;
  /** One step of the walk per this many milliseconds. Default 1,000. */
  stepMs?: number;
  /** Standard deviation of one step's log return. Default 0.001 (0.1%). */
  volatility?: number;
  /** Bid/ask spread in basis points of the price. Default 10. */
  spreadBps?: number;
  clock?: () => number;
  /**
   * Price to anchor a never-anchored symbol at, or null to answer no quote
   * for it. Default: none (null).
   */
  fallbackAnchor?: (symbol: string) => number | null;
}

interface Walk {
  anchorPrice: number;
  anchorAt: number;
  /** The last computed step and its log price, so the walk advances incrementally. */
  step: number;
  logPrice: number;
}

export class DeterministicQuoteSource implements QuoteSource {
  private readonly seed: string;
  private readonly stepMs: number;
  private readonly volatility: number;
  private readonly spreadBps: number;
  private readonly clock: () => number;
  private readonly fallbackAnchor: (symbol: string) => number | null;
  private readonly walks = new Map<string, Walk>();

  constructor(options: DeterministicQuoteSourceOptions) {
    this.seed = String(options.seed);
    this.stepMs = options.stepMs ?? 1_000;
    this.volatility = options.volatility ?? 0.001;
    this.spreadBps = options.spreadBps ?? 10;
    this.clock = options.clock ?? Date.now;
    this.fallbackAnchor = options.fallbackAnchor ?? (() => null);
  }

  /** Starts (or restarts) the symbol's walk at `price`, now. */
  anchor(instrument: Instrument | string, price: number, at = this.clock()): void {
    if (!Number.isFinite(price) || price <= 0) return;
    const symbol = typeof instrument === "string" ? instrument.toUpperCase() : instrumentKey(instrument);
    this.walks.set(symbol, { anchorPrice: price, anchorAt: at, step: 0, logPrice: Math.log(price) });
  }

  async getQuote(instrument: Instrument): Promise<Quote | null> {
    return this.quoteAt(instrumentKey(instrument), this.clock());
  }

  /** The quote for `symbol` at time `now` (pure in seed, anchor and time). */
  quoteAt(symbol: string, now: number): Quote | null {
    let walk = this.walks.get(symbol);
    if (!walk) {
      const fallback = this.fallbackAnchor(symbol);
      if (fallback === null) return null;
      this.anchor(symbol, fallback, Math.floor(now / this.stepMs) * this.stepMs);
      walk = this.walks.get(symbol);
      if (!walk) return null;
    }
    const target = Math.max(0, Math.floor((now - walk.anchorAt) / this.stepMs));
    if (target < walk.step) {
      walk.step = 0;
      walk.logPrice = Math.log(walk.anchorPrice);
    }
    for (let n = walk.step + 1; n <= target; n++) {
      walk.logPrice += this.volatility * standardNormal(`${this.seed}:${symbol}:${walk.anchorPrice}:${n}`);
    }
    walk.step = target;

    const last = roundPrice(Math.exp(walk.logPrice));
    const halfSpread = (last * this.spreadBps) / 20_000;
    return {
      symbol,
      bid: roundPrice(last - halfSpread),
      ask: roundPrice(last + halfSpread),
      last,
      timestamp: new Date(walk.anchorAt + target * this.stepMs).toISOString(),
      source: "deterministic",
      delayed: false,
      note: "Simulated price (development feed).",
    };
  }
}

/**
 * A reproducible price for a symbol, from its name and the seed: in [20, 520)
 * for a share or a coin, and for an option contract (an OCC symbol) a premium
 * of 0.5–10% of its strike, so a contract is never priced like its underlying.
 */
export function hashedAnchor(seed: number | string, symbol: string): number {
  const draw = uniform(`${seed}:anchor:${symbol}`);
  const option = parseOccSymbol(symbol);
  if (option) return roundPrice(option.strike * (0.005 + draw * 0.095));
  return roundPrice(20 + draw * 500);
}

function roundPrice(price: number): number {
  const decimals = price >= 1 ? 2 : 6;
  const factor = 10 ** decimals;
  return Math.round(price * factor) / factor;
}

/** Box–Muller from two uniforms derived from the key. */
function standardNormal(key: string): number {
  const u1 = Math.max(uniform(`${key}:a`), Number.EPSILON);
  const u2 = uniform(`${key}:b`);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** FNV-1a, then a murmur3 finalizer, mapped to [0, 1). */
function uniform(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 4_294_967_296;
}

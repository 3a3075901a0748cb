import { type Instrument, instrumentKey } from "./instrument";
import type { Quote, QuoteSource } from "./quote";

const DEFAULT_QUOTE_TTL_MS = 3_000;

export interface CachingQuoteSourceOptions {
  /** How long an answer (a quote or "none") is reused. Default 3,000 ms. */
  ttlMs?: number;
  clock?: () => number;
  /** Most symbols kept; the oldest entry is dropped past it. Default 5,000. */
  maxEntries?: number;
}

interface Entry {
  at: number;
  /** Set once the answer is in; until then callers share `pending`. */
  settled?: { quote: Quote | null };
  pending: Promise<Quote | null>;
}

/**
 * Reuses each symbol's answer for a few seconds, and shares one request among
 * concurrent callers (a signal fanned out to many followers asks once).
 */
export class CachingQuoteSource implements QuoteSource {
  private readonly ttlMs: number;
  private readonly clock: () => number;
  private readonly maxEntries: number;
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly inner: QuoteSource,
    options: CachingQuoteSourceOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_QUOTE_TTL_MS;
    this.clock = options.clock ?? Date.now;
    this.maxEntries = options.maxEntries ?? 5_000;
  }

  getQuote(instrument: Instrument): Promise<Quote | null> {
    const key = `${instrument.assetClass}:${instrumentKey(instrument)}`;
    const now = this.clock();
    const cached = this.entries.get(key);
    if (cached && now - cached.at < this.ttlMs) {
      // A settled answer is handed out as a fresh promise, not the one another request created.
      return cached.settled ? Promise.resolve(cached.settled.quote) : cached.pending;
    }

    const entry: Entry = { at: now, pending: Promise.resolve(null) };
    entry.pending = this.inner
      .getQuote(instrument)
      .catch(() => null)
      .then((quote) => {
        entry.settled = { quote };
        return quote;
      });
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return entry.pending;
  }

  anchor(instrument: Instrument, price: number): void {
    this.inner.anchor?.(instrument, price);
    this.entries.delete(`${instrument.assetClass}:${instrumentKey(instrument)}`);
  }
}

/** Sends each instrument to the source for its asset class; an unrouted class has no quotes. */
export class CompositeQuoteSource implements QuoteSource {
  constructor(private readonly routes: Partial<Record<Instrument["assetClass"], QuoteSource>>) {}

  async getQuote(instrument: Instrument): Promise<Quote | null> {
    const source = this.routes[instrument.assetClass];
    if (!source) return null;
    try {
      return await source.getQuote(instrument);
    } catch {
      return null;
    }
  }

  anchor(instrument: Instrument, price: number): void {
    this.routes[instrument.assetClass]?.anchor?.(instrument, price);
  }
}

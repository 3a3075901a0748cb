import type { BrokerPosition } from "../../shared/brokers/adapter";
import { type PaperAccountStore, PaperBrokerAdapter } from "../../shared/brokers/paper/adapter";
import {
  accountOf,
  createPaperAccount,
  PAPER_RISK_CAPABILITIES,
  type PaperAccountState,
  positionsOf,
} from "../../shared/brokers/paper/engine";
import type { ConfigResult } from "../../shared/config";
import { ConfigInvalidError } from "../../shared/errors";
import type { Logger } from "../../shared/logging";
import { createQuoteSource, type Instrument, type Quote, type QuoteSource } from "../../shared/quotes";
import type { EquityDay } from "../../shared/risk/daily-loss";
import type { RiskAccount, RiskSignal } from "../../shared/risk/types";
import type { ExecutorLocalState } from "./local-state";

/** The id of every member's built-in paper account (orders.account_ref). */
export const PAPER_ACCOUNT_REF = "paper";

/**
 * Every member's paper account, kept in the executor's own SQLite: the paper
 * broker adapter for sending orders, and the synchronous snapshot the risk
 * engine reads. Exits are placed by the engine after the fill (no native
 * brackets here), which is the path for brokers without brackets too.
 */
export class PaperDesk {
  private readonly adapters = new Map<string, PaperBrokerAdapter>();
  private quoteSource: QuoteSource | null = null;

  constructor(
    private readonly local: ExecutorLocalState,
    private readonly config: () => ConfigResult,
    private readonly logger: Logger,
  ) {}

  /** Built on first use, so a misconfigured deployment fails the call that needs prices, not the object. */
  get quotes(): QuoteSource {
    if (!this.quoteSource) {
      const result = this.config();
      if (!result.ok) throw new ConfigInvalidError(result.problems.map((p) => p.variable));
      this.quoteSource = createQuoteSource(result.config);
    }
    return this.quoteSource;
  }

  adapterFor(userId: string): PaperBrokerAdapter {
    let adapter = this.adapters.get(userId);
    if (!adapter) {
      const store: PaperAccountStore = {
        load: async () => this.local.loadPaperAccount<PaperAccountState>(userId),
        save: async (state) => {
          const now = Date.now();
          this.local.savePaperAccount(userId, state, now);
          this.observeDay(userId, state, now);
        },
      };
      adapter = new PaperBrokerAdapter({ store, quotes: this.quotes });
      this.adapters.set(userId, adapter);
    }
    return adapter;
  }

  /**
   * Members' paper accounts as the risk engine sees them, read synchronously from storage in a few statements
   * however many members (a fan-out step). `ordersToday` gives each member's orders placed today.
   */
  riskAccounts(userIds: readonly string[], ordersToday: (userId: string) => number): Map<string, RiskAccount> {
    const now = Date.now();
    const stored = this.local.loadPaperAccounts<PaperAccountState>(userIds);
    const states = new Map(userIds.map((userId) => [userId, stored.get(userId) ?? createPaperAccount({}, now)]));
    const days = this.local.equityDays.observeMany(
      [...states].map(([userId, state]) => ({
        account: equityAccount(userId),
        equity: accountOf(state).equity,
        brokerStartOfDay: state.day,
      })),
      now,
    );
    const accounts = new Map<string, RiskAccount>();
    for (const [userId, state] of states) {
      const account = accountOf(state);
      const day = days.get(equityAccount(userId));
      accounts.set(userId, {
        id: PAPER_ACCOUNT_REF,
        broker: "paper",
        mode: "paper",
        status: "active",
        capabilities: PAPER_RISK_CAPABILITIES,
        snapshot: {
          equity: account.equity,
          startOfDayEquity: day?.startEquity ?? account.equity,
          buyingPower: account.buyingPower,
          positions: positionsOf(state).map((p) => ({
            assetClass: p.assetClass,
            symbol: p.option ? p.option.underlying : p.symbol,
            option: p.option,
            direction: p.direction,
            quantity: p.quantity,
            marketPrice: p.marketPrice,
          })),
          ordersToday: ordersToday(userId),
        },
      });
    }
    return accounts;
  }

  /** Every equity the desk sees moves the account's day (start of day, intraday peak). */
  private observeDay(userId: string, state: PaperAccountState, now: number): EquityDay {
    return this.local.equityDays.observe(equityAccount(userId), accountOf(state).equity, now, state.day);
  }

  /** The member's open paper positions, read synchronously from storage. */
  positions(userId: string): BrokerPosition[] {
    const state = this.local.loadPaperAccount<PaperAccountState>(userId);
    return state ? positionsOf(state) : [];
  }

  /** The current price of a signal's instrument; the development feed starts its walk at the signal's price. */
  async quoteFor(signal: RiskSignal): Promise<Quote | null> {
    const instrument: Instrument = { assetClass: signal.assetClass, symbol: signal.symbol, option: signal.option };
    const price = signal.entry ? ("price" in signal.entry ? signal.entry.price : signal.entry.high) : null;
    try {
      if (price !== null) this.quotes.anchor?.(instrument, price);
      return await this.quotes.getQuote(instrument);
    } catch (error) {
      this.logger.warn("quote.unavailable", { symbol: signal.symbol, error });
      return null;
    }
  }
}

/** The key of a member's paper account in the equity days. */
export const equityAccount = (userId: string) => `${userId}:${PAPER_ACCOUNT_REF}`;

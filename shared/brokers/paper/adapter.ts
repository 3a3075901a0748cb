import { type Instrument, instrumentKey } from "../../quotes/instrument";
import type { Quote, QuoteSource } from "../../quotes/quote";
import type {
  BrokerAccount,
  BrokerAdapter,
  BrokerCapabilities,
  BrokerOrder,
  BrokerOrderIntent,
  BrokerPosition,
} from "../adapter";
import { PermanentError } from "../errors";
import {
  accountOf,
  cancelOrder,
  createPaperAccount,
  expireOrders,
  findOrder,
  findOrderByClientId,
  forgetFinishedOrders,
  instrumentsAwaitingQuotes,
  onQuotes,
  openOrders,
  PAPER_CAPABILITIES,
  type PaperAccountOptions,
  type PaperAccountState,
  type PaperEvent,
  positionsOf,
  type QuoteContext,
  submitOrder,
} from "./engine";

/**
 * Where one member's paper account lives. The executor implements it over its
 * Durable Object's SQLite storage. `load` answers null for a new account.
 */
export interface PaperAccountStore {
  load(): Promise<PaperAccountState | null>;
  save(state: PaperAccountState): Promise<void>;
}

export interface PaperBrokerAdapterOptions {
  store: PaperAccountStore;
  quotes: QuoteSource;
  clock?: () => number;
  /** Used when the store holds no account yet. */
  account?: PaperAccountOptions;
  /** Called with what each call changed (fills, cancels, expiries), after the state is saved. */
  onEvents?: (events: PaperEvent[]) => void | Promise<void>;
}

/**
 * The BrokerAdapter over the pure paper engine. Quotes are fetched before the
 * state is loaded, so nothing outside the store is awaited between a load and
 * its save; calls on one adapter also run one at a time. Reading an order
 * first lets it meet the current price, as a real broker's fills would have.
 */
export class PaperBrokerAdapter implements BrokerAdapter {
  readonly capabilities: BrokerCapabilities;
  private readonly store: PaperAccountStore;
  private readonly quotes: QuoteSource;
  private readonly clock: () => number;
  private readonly accountOptions: PaperAccountOptions;
  private readonly onEvents: PaperBrokerAdapterOptions["onEvents"];
  private tail: Promise<unknown> = Promise.resolve();
  private current: PaperAccountState | null = null;

  constructor(options: PaperBrokerAdapterOptions) {
    this.store = options.store;
    this.quotes = options.quotes;
    this.clock = options.clock ?? Date.now;
    this.accountOptions = options.account ?? {};
    this.onEvents = options.onEvents;
    this.capabilities = { ...PAPER_CAPABILITIES, shorting: options.account?.shortingEnabled ?? true };
  }

  placeOrder(intent: BrokerOrderIntent): Promise<BrokerOrder> {
    return this.exclusive(async () => {
      const [quote, context] = await Promise.all([this.quote(intent), this.quoteContext(intent)]);
      const result = submitOrder(await this.load(), intent, quote, this.clock(), context);
      if (!result.duplicate) await this.commit(result.state, result.events);
      return result.order;
    });
  }

  getOrder(brokerOrderId: string): Promise<BrokerOrder> {
    return this.exclusive(async () => {
      const order = findOrder(await this.load(), brokerOrderId);
      if (!order) throw new PermanentError("order_not_found", `No paper order ${brokerOrderId}.`);
      await this.progress([order]);
      return findOrder(await this.load(), brokerOrderId) as BrokerOrder;
    });
  }

  /**
   * Several orders of this account brought up to date at once: one load, one pass over the quotes, one save,
   * however many orders (the executor's follow-ups of one member). An id the account does not know is left out.
   */
  getOrders(brokerOrderIds: readonly string[]): Promise<Map<string, BrokerOrder>> {
    return this.exclusive(async () => {
      const before = await this.load();
      await this.progress(brokerOrderIds.flatMap((id) => findOrder(before, id) ?? []));
      const after = await this.load();
      const found = new Map<string, BrokerOrder>();
      for (const id of brokerOrderIds) {
        const order = findOrder(after, id);
        if (order) found.set(id, order);
      }
      return found;
    });
  }

  getOrderByClientId(clientOrderId: string): Promise<BrokerOrder | null> {
    return this.exclusive(async () => {
      const order = findOrderByClientId(await this.load(), clientOrderId);
      if (!order) return null;
      await this.progress([order]);
      return findOrderByClientId(await this.load(), clientOrderId);
    });
  }

  cancelOrder(brokerOrderId: string): Promise<void> {
    return this.exclusive(async () => {
      const result = cancelOrder(await this.load(), brokerOrderId, this.clock());
      await this.commit(result.state, result.events);
    });
  }

  listOpenOrders(): Promise<BrokerOrder[]> {
    return this.exclusive(async () => {
      await this.progress(null);
      return openOrders(await this.load());
    });
  }

  getAccount(): Promise<BrokerAccount> {
    return this.exclusive(async () => {
      await this.progress(null, true);
      return accountOf(await this.load());
    });
  }

  getPositions(): Promise<BrokerPosition[]> {
    return this.exclusive(async () => {
      await this.progress(null, true);
      return positionsOf(await this.load());
    });
  }

  getQuote(instrument: Instrument): Promise<Quote | null> {
    return this.quote(instrument);
  }

  /** Brings every open order up to the current prices (the executor's follow-up polls and alarms). */
  refresh(): Promise<PaperEvent[]> {
    return this.exclusive(() => this.progress(null, true));
  }

  /**
   * Fetches quotes for the instruments of the orders given (null: of every open order; `withPositions`: of every
   * position too), then applies them to the account, on one copy of it.
   */
  private async progress(
    orders: ReadonlyArray<Pick<BrokerOrder, "status" | "brokerOrderId">> | null,
    withPositions = false,
  ): Promise<PaperEvent[]> {
    const open = orders?.filter((order) => order.status === "submitted" || order.status === "partially_filled");
    if (open?.length === 0) return [];
    const before = await this.load();
    const instruments = new Map<string, Instrument>();
    const wanted = open ? new Set(open.map((order) => before.orders[order.brokerOrderId]?.key)) : null;
    for (const instrument of instrumentsAwaitingQuotes(before)) {
      const key = instrumentKey(instrument);
      if (!wanted || wanted.has(key)) instruments.set(key, instrument);
    }
    if (withPositions) {
      for (const position of positionsOf(before)) instruments.set(position.symbol, position);
    }
    const quotes = await Promise.all(
      [...instruments.values()].map(async (instrument) => {
        const [quote, context] = await Promise.all([this.quote(instrument), this.quoteContext(instrument)]);
        return quote ? { symbol: quote.symbol, quote, context } : [];
      }),
    );

    const now = this.clock();
    const expired = expireOrders(before, now);
    const priced = onQuotes(expired.state, quotes.flat(), now);
    const events = [...expired.events, ...priced.events];
    if (priced.state !== before) await this.commit(priced.state, events);
    return events;
  }

  private async quote(instrument: Instrument): Promise<Quote | null> {
    try {
      return await this.quotes.getQuote(instrument);
    } catch {
      return null;
    }
  }

  /** An option's underlying price, so a premium no contract can be worth is never filled at. */
  private async quoteContext(instrument: Instrument): Promise<QuoteContext> {
    if (instrument.assetClass !== "option" || !instrument.option) return {};
    const underlying = await this.quote({ assetClass: "equity", symbol: instrument.option.underlying, option: null });
    return { underlyingLast: underlying?.last ?? null };
  }

  /**
   * The account as the store holds it. Within one call it is read once: every write goes through this adapter, one
   * call at a time, and the engine never changes a state it is given, so the copy read stays the stored one.
   */
  private async load(): Promise<PaperAccountState> {
    this.current ??= (await this.store.load()) ?? createPaperAccount(this.accountOptions, this.clock());
    return this.current;
  }

  private async commit(changed: PaperAccountState, events: PaperEvent[]): Promise<void> {
    const state = forgetFinishedOrders(changed, this.clock());
    await this.store.save(state);
    this.current = state;
    if (events.length > 0) await this.onEvents?.(events);
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    // Each call reads the store afresh (it may have been written outside this adapter between calls).
    const fresh = () => {
      this.current = null;
      return task().finally(() => {
        this.current = null;
      });
    };
    const run = this.tail.then(fresh, fresh);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/** A store in memory: for tests, benchmarks and one-off tools. */
export class MemoryPaperAccountStore implements PaperAccountStore {
  constructor(public state: PaperAccountState | null = null) {}

  async load(): Promise<PaperAccountState | null> {
    return this.state ? structuredClone(this.state) : null;
  }

  async save(state: PaperAccountState): Promise<void> {
    this.state = structuredClone(state);
  }
}

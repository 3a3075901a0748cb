import { isCalendarDay, isoDate } from "./dates";
import type { TradeManagement } from "./management";
import { formatDecimal } from "./numbers";
import {
  type Entry,
  MAX_AMOUNT,
  type NormalizedSignal,
  NormalizedSignalSchema,
  type OptionContract,
  type SignalAction,
  signalRuleViolations,
  type TimeInForce,
  type TrailDistance,
  trailDistanceOf,
} from "./schema";
import { readSymbolWord } from "./symbols";
import type { WebhookSignalError } from "./webhook-errors";

/**
 * TradersPost's webhook JSON (docs.traderspost.io, "Webhooks": the signal fields, the TradingView strategy template)
 * read into the normalized signal. Every field TradersPost documents is either read exactly or refused with a
 * reason; properties TradersPost does not document are ignored, as TradersPost ignores them. TradingView fills
 * its placeholders in as text, so numbers may arrive as numeric strings ("10", "190.5").
 *
 * Action and sentiment (TradingView's `{{strategy.market_position}}` sends long, short or flat; TradersPost takes
 * long for bullish and short for bearish):
 * - buy: opens a long; with sentiment flat it covers the whole short, with bearish it covers part of it.
 * - sell: with sentiment bearish it opens a short; otherwise it sells a long (flat: all of it). A sell without a
 *   sentiment never opens a short, because whether it would depends on a position this payload does not show.
 * - exit: closes the position (`close`), all of it unless a quantity says how much.
 * - cancel and exit are trade management of the provider's open trade on the ticker (readTradersPostManagement).
 * - add is refused: adding to "the" open position is not a signal here.
 * An order type absent means a market order; `price` and `signalPrice` are then reference prices only (for a
 * relative take-profit or stop-loss), and `limitPrice` alone makes a limit order.
 */

export const TRADERSPOST_ACTIONS = ["buy", "sell", "exit", "cancel", "add"] as const;
const SENTIMENTS: Record<string, "bullish" | "bearish" | "flat"> = {
  bullish: "bullish",
  long: "bullish",
  bearish: "bearish",
  short: "bearish",
  flat: "flat",
};
const TIMES_IN_FORCE = new Set<string>(["day", "gtc", "ioc", "fok"]);
const UNSUPPORTED_TIMES_IN_FORCE = new Set(["gtd", "opg", "cls"]);
const SIZED_QUANTITY_TYPES = new Set(["dollar_amount", "risk_dollar_amount", "percent_of_equity"]);
/** An option contract in the ticker, as TradersPost writes it: `SQ 240510C68` (root, YYMMDD, C or P, strike). */
const CONTRACT_TICKER = /^([A-Z]{1,5}(?:\.[A-Z]{1,2})?)\s+(\d{2})(\d{2})(\d{2})([CP])(\d+(?:\.\d+)?)$/;
/**
 * Equity-index futures roots TradersPost payloads use bare (its docs' MNQ and NQ examples) that are not US stock
 * tickers: read as a ticker they would trade a stock nobody meant. Dated and continuous contracts (MNQU2025, NQ1!) never read as a
 * ticker anyway.
 */
const FUTURES_ROOTS = new Set(["NQ", "MNQ", "MES", "YM", "MYM", "RTY"]);
const NUMERIC_TEXT = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;

export type TradersPostReading = { ok: true; signal: NormalizedSignal } | { ok: false; errors: WebhookSignalError[] };

/** Whether a JSON object is meant as a TradersPost payload (it names a ticker or an action). */
export function looksLikeTradersPost(body: Record<string, unknown>): boolean {
  return "ticker" in body || "action" in body;
}

export function readTradersPost(body: Record<string, unknown>): TradersPostReading {
  const reader = new PayloadReader(body);
  const signal = reader.read();
  if (!signal || reader.errors.length > 0) return { ok: false, errors: reader.errors };
  return { ok: true, signal };
}

type Side = "long" | "short" | "exit";

interface Order {
  orderType: NormalizedSignal["orderType"];
  entry: Entry | null;
  reference: number | null;
}

/** The protective stop a payload carries: a fixed stop price or a trailing stop, at most one. */
interface Protection {
  stopLoss: number | null;
  trailingStop: TrailDistance | null;
}
const NO_PROTECTION: Protection = { stopLoss: null, trailingStop: null };

const MARKET: Order = { orderType: "market", entry: null, reference: null };
const priced = (orderType: NormalizedSignal["orderType"], price: number): Order => ({
  orderType,
  entry: { price },
  reference: price,
});

class PayloadReader {
  readonly errors: WebhookSignalError[] = [];

  constructor(private readonly body: Record<string, unknown>) {}

  read(): NormalizedSignal | null {
    const actionPart = this.action();
    const instrument = this.instrument();
    const quantity = actionPart ? this.quantity(actionPart.full) : null;
    const order = actionPart ? this.order(actionPart.action) : null;
    this.unsupportedExtras();
    const timeInForce = this.timeInForce();
    if (!actionPart || !instrument || !quantity || !order || timeInForce === undefined) return null;

    const side = sideOf(actionPart.action);
    const reference = order.reference ?? this.referencePrice();
    const protection = this.stopLoss(side, reference);
    const takeProfit = this.takeProfit(side, reference);
    if (protection === undefined || takeProfit === undefined) return null;

    const signal: NormalizedSignal = {
      action: actionPart.action,
      ...instrument,
      orderType: order.orderType,
      entry: order.entry,
      quantity: quantity.quantity,
      quantityPercent: quantity.quantityPercent,
      stopLoss: protection.stopLoss,
      ...(protection.trailingStop ? { trailingStop: protection.trailingStop } : {}),
      takeProfits: takeProfit === null ? [] : [{ price: takeProfit, percent: null }],
      leverage: null,
      timeInForce,
    };
    const referenceEntry: Entry | undefined = reference === null ? undefined : { price: reference };
    for (const violation of signalRuleViolations(signal, referenceEntry)) {
      this.fail(violation.code, violation.message, fieldOfSignalPath(violation.path));
    }
    const checked = NormalizedSignalSchema.safeParse(signal);
    if (!checked.success && this.errors.length === 0) {
      for (const issue of checked.error.issues) this.fail("INVALID_FIELD", issue.message, issue.path.join("."));
    }
    return this.errors.length === 0 ? signal : null;
  }

  private fail(code: WebhookSignalError["code"], message: string, field: string | null): void {
    this.errors.push({ code, message, field });
  }

  private text(field: string): string | undefined {
    const value = this.body[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") {
      this.fail("INVALID_FIELD", `${field} must be a string.`, field);
      return undefined;
    }
    return value.trim();
  }

  /** A number, or the numeric text TradingView placeholders produce; undefined when absent or invalid. */
  private number(field: string, value: unknown = this.body[field], code: WebhookSignalError["code"] = "INVALID_PRICE") {
    if (value === undefined || value === null) return undefined;
    const parsed =
      typeof value === "number"
        ? value
        : typeof value === "string" && NUMERIC_TEXT.test(value.trim())
          ? Number(value)
          : NaN;
    if (!Number.isFinite(parsed) || parsed <= 0 || parsed > MAX_AMOUNT) {
      this.fail(code, `${field} must be a positive number, not ${JSON.stringify(value)}.`, field);
      return undefined;
    }
    return parsed;
  }

  private action(): { action: SignalAction; full: boolean } | null {
    const raw = this.body.action;
    if (typeof raw !== "string" || raw.trim() === "") {
      this.fail("UNKNOWN_SIDE", `action is required: one of ${TRADERSPOST_ACTIONS.join(", ")}.`, "action");
      return null;
    }
    const action = raw.trim().toLowerCase();
    const sentimentText = this.text("sentiment");
    const sentiment = sentimentText === undefined ? undefined : SENTIMENTS[sentimentText.toLowerCase()];
    if (sentimentText !== undefined && sentiment === undefined) {
      this.fail(
        "UNKNOWN_SIDE",
        `Invalid sentiment "${sentimentText}": use bullish (or long), bearish (or short) or flat.`,
        "sentiment",
      );
      return null;
    }
    switch (action) {
      case "buy":
        if (sentiment === "flat") return { action: "cover", full: true };
        return { action: sentiment === "bearish" ? "cover" : "buy", full: false };
      case "sell":
        if (sentiment === "flat") return { action: "sell", full: true };
        return { action: sentiment === "bearish" ? "short" : "sell", full: false };
      case "exit":
        if (sentiment !== undefined) {
          this.fail(
            "AMBIGUOUS_SIDE",
            "A sentiment goes only with buy or sell; exit closes the position without one.",
            "sentiment",
          );
          return null;
        }
        return { action: "close", full: false };
      case "cancel":
        this.fail(
          "UNSUPPORTED_ACTION",
          "action cancel (cancel open orders) is not a signal here: followers' orders are cancelled by the provider's exit signals or by each member with /cancel.",
          "action",
        );
        return null;
      case "add":
        this.fail(
          "UNSUPPORTED_ACTION",
          "action add does not say which side to add to: send buy (sentiment long) or sell (sentiment short) with a quantity.",
          "action",
        );
        return null;
      default:
        this.fail(
          "UNKNOWN_SIDE",
          `Invalid action "${raw}": TradersPost actions are ${TRADERSPOST_ACTIONS.join(", ")}.`,
          "action",
        );
        return null;
    }
  }

  private instrument(): Pick<NormalizedSignal, "assetClass" | "symbol" | "option"> | null {
    const ticker = this.text("ticker")?.toUpperCase();
    if (!ticker) {
      if (ticker === "") this.fail("UNKNOWN_SYMBOL", "ticker is empty.", "ticker");
      else if (!this.errors.some((e) => e.field === "ticker"))
        this.fail("UNKNOWN_SYMBOL", "ticker is required.", "ticker");
      return null;
    }
    const contract = CONTRACT_TICKER.exec(ticker);
    if (contract) {
      const [, underlying = "", yy = "", mm = "", dd = "", right = "", strike = ""] = contract;
      const year = 2000 + Number(yy);
      if (!isCalendarDay(year, Number(mm), Number(dd))) {
        this.fail("INVALID_DATE", `The contract ${ticker} expires on a day that does not exist.`, "ticker");
        return null;
      }
      if (this.hasOptionFields()) {
        this.fail(
          "AMBIGUOUS_OPTION",
          "The ticker already names an option contract; send optionType, expiration and strikePrice only with a bare ticker.",
          "ticker",
        );
        return null;
      }
      const option: OptionContract = {
        underlying,
        expiration: isoDate(year, Number(mm), Number(dd)),
        strike: Number(strike),
        right: right === "C" ? "call" : "put",
      };
      return { assetClass: "option", symbol: underlying, option };
    }
    if (this.hasOptionFields()) return this.optionFromFields(ticker);
    const reading = FUTURES_ROOTS.has(ticker) ? null : readSymbolWord(ticker);
    if (!reading) {
      this.fail(
        "UNKNOWN_SYMBOL",
        `"${ticker}" is not a stock ticker, a crypto pair or an option contract ("SQ 240510C68"); futures are not traded here.`,
        "ticker",
      );
      return null;
    }
    if (reading.form === "equity") return { assetClass: "equity", symbol: reading.symbol, option: null };
    return { assetClass: "crypto", symbol: reading.symbol, option: null };
  }

  private hasOptionFields(): boolean {
    return ["optionType", "expiration", "strikePrice", "strikesAway", "strikeCount", "intrinsicValue"].some(
      (field) => this.body[field] !== undefined && this.body[field] !== null,
    );
  }

  /** A contract given field by field (`optionType`, `expiration` as a date, `strikePrice`); chain scanning is refused. */
  private optionFromFields(ticker: string): Pick<NormalizedSignal, "assetClass" | "symbol" | "option"> | null {
    const scanning = ["strikesAway", "strikeCount", "intrinsicValue"].filter((field) => this.body[field] != null);
    if (scanning.length > 0) {
      this.fail(
        "UNSUPPORTED_FEATURE",
        `Option chain scanning (${scanning.join(", ")}) is not supported: name the contract with optionType, expiration (YYYY-MM-DD) and strikePrice.`,
        scanning[0] ?? null,
      );
      return null;
    }
    if (!/^[A-Z]{1,5}(\.[A-Z]{1,2})?$/.test(ticker)) {
      this.fail("UNKNOWN_SYMBOL", `"${ticker}" is not a stock ticker an option can be on.`, "ticker");
      return null;
    }
    const optionType = this.text("optionType")?.toLowerCase();
    const expiration = this.text("expiration");
    const strike = this.number("strikePrice");
    let ok = true;
    if (optionType !== "call" && optionType !== "put") {
      this.fail(
        optionType === undefined ? "OPTION_MISSING_RIGHT" : "AMBIGUOUS_OPTION",
        optionType === "both"
          ? 'optionType "both" leaves the contract to a chain scan: send call or put.'
          : "optionType must be call or put.",
        "optionType",
      );
      ok = false;
    }
    const date = expiration === undefined ? null : /^(\d{4})-(\d{2})-(\d{2})$/.exec(expiration);
    if (!date || !isCalendarDay(Number(date[1]), Number(date[2]), Number(date[3]))) {
      this.fail(
        expiration === undefined ? "OPTION_MISSING_EXPIRATION" : "INVALID_DATE",
        expiration === undefined
          ? "An option needs its expiration (YYYY-MM-DD)."
          : `expiration "${expiration}" is not a date (YYYY-MM-DD); relative expirations are not supported.`,
        "expiration",
      );
      ok = false;
    }
    if (strike === undefined) {
      if (!this.errors.some((e) => e.field === "strikePrice")) {
        this.fail("OPTION_MISSING_STRIKE", "An option needs its strikePrice.", "strikePrice");
      }
      ok = false;
    }
    if (!ok || !date || strike === undefined) return null;
    return {
      assetClass: "option",
      symbol: ticker,
      option: {
        underlying: ticker,
        expiration: isoDate(Number(date[1]), Number(date[2]), Number(date[3])),
        strike,
        right: optionType === "call" ? "call" : "put",
      },
    };
  }

  /** `quantity` read as its `quantityType` says; a flat sentiment always exits everything (TradersPost's rule). */
  private quantity(full: boolean): { quantity: number | null; quantityPercent: number | null } | null {
    const type = (this.text("quantityType") ?? "fixed_quantity").toLowerCase();
    const quantity = this.number("quantity", this.body.quantity, "INVALID_QUANTITY");
    if (this.errors.some((e) => e.field === "quantity" || e.field === "quantityType")) return null;
    if (SIZED_QUANTITY_TYPES.has(type)) {
      this.fail(
        "UNSUPPORTED_FEATURE",
        `quantityType ${type} is not supported: each follower's own sizing decides their quantity. Send fixed_quantity or percent_of_position, or leave quantity out.`,
        "quantityType",
      );
      return null;
    }
    if (type !== "fixed_quantity" && type !== "percent_of_position") {
      this.fail(
        "INVALID_QUANTITY",
        `Invalid quantityType "${type}": fixed_quantity, dollar_amount, risk_dollar_amount, percent_of_equity or percent_of_position.`,
        "quantityType",
      );
      return null;
    }
    if (full || quantity === undefined) return { quantity: null, quantityPercent: null };
    if (type === "percent_of_position") {
      if (quantity > 100) {
        this.fail("INVALID_PERCENT", "A percent of the position is at most 100.", "quantity");
        return null;
      }
      return { quantity: null, quantityPercent: quantity };
    }
    return { quantity, quantityPercent: null };
  }

  /** The order type and entry; `reference` is the entry's limit (or stop) price, what relative exits measure from. */
  private order(action: SignalAction): Order | null {
    const orderType = this.text("orderType")?.toLowerCase();
    const limitPrice = this.number("limitPrice");
    const stopPrice = this.number("stopPrice");
    const price = this.number("price");
    if (this.errors.some((e) => e.field === "limitPrice" || e.field === "stopPrice" || e.field === "price")) {
      return null;
    }
    switch (orderType) {
      case undefined:
        return limitPrice === undefined ? MARKET : priced("limit", limitPrice);
      case "market":
        if (limitPrice !== undefined || stopPrice !== undefined) {
          this.fail("INVALID_ORDER_TYPE", "A market order takes no limitPrice or stopPrice.", "orderType");
          return null;
        }
        return MARKET;
      case "limit":
      case "stop": {
        const entry = (orderType === "limit" ? limitPrice : stopPrice) ?? price;
        if (entry === undefined) {
          this.fail(
            "MISSING_PRICE",
            `A ${orderType} order needs ${orderType === "limit" ? "limitPrice" : "stopPrice"} (or price).`,
            orderType === "limit" ? "limitPrice" : "stopPrice",
          );
          return null;
        }
        return priced(orderType, entry);
      }
      case "stop_limit":
        return this.stopLimit(action, stopPrice, limitPrice);
      case "trailing_stop":
        this.fail(
          "UNSUPPORTED_FEATURE",
          'Trailing stop entry orders are not supported: a trailing stop protects a position as stopLoss {"type": "trailing_stop", "trailPercent": 2}.',
          "orderType",
        );
        return null;
      default:
        this.fail(
          "INVALID_ORDER_TYPE",
          `Invalid orderType "${orderType}": market, limit, stop or stop_limit.`,
          "orderType",
        );
        return null;
    }
  }

  /** The normalized signal has one price for a stop-limit (it triggers and limits there). */
  private stopLimit(action: SignalAction, stop: number | undefined, limit: number | undefined): Order | null {
    if (stop === undefined || limit === undefined) {
      this.fail("MISSING_PRICE", "A stop_limit order needs both stopPrice and limitPrice.", "orderType");
      return null;
    }
    if (action === "close") {
      this.fail(
        "AMBIGUOUS_ORDER_TYPE",
        "A stop_limit exit needs its side: send sell (sentiment flat) or buy (sentiment flat) instead of exit.",
        "orderType",
      );
      return null;
    }
    if (stop !== limit) {
      this.fail(
        "UNSUPPORTED_FEATURE",
        "A stop_limit order here triggers and limits at one price: send equal stopPrice and limitPrice, or a stop or limit order.",
        "limitPrice",
      );
      return null;
    }
    return priced("stop_limit", stop);
  }

  private unsupportedExtras(): void {
    for (const field of ["trailAmount", "trailPercent"]) {
      if (this.body[field] != null) {
        this.fail(
          "UNSUPPORTED_FEATURE",
          `Trailing stop entry orders are not supported (${field}): a trailing stop protects a position as stopLoss {"type": "trailing_stop", "trailPercent": 2}.`,
          field,
        );
      }
    }
    const extended = this.body.extendedHours;
    if (extended === true || extended === "true") {
      this.fail("UNSUPPORTED_FEATURE", "Extended-hours orders are not supported.", "extendedHours");
    } else if (extended != null && extended !== false && extended !== "false") {
      this.fail("INVALID_FIELD", "extendedHours must be true or false.", "extendedHours");
    }
  }

  private timeInForce(): TimeInForce | null | undefined {
    const value = this.text("timeInForce")?.toLowerCase();
    if (value === undefined) return this.errors.some((e) => e.field === "timeInForce") ? undefined : null;
    if (TIMES_IN_FORCE.has(value)) return value as TimeInForce;
    this.fail(
      UNSUPPORTED_TIMES_IN_FORCE.has(value) ? "UNSUPPORTED_FEATURE" : "AMBIGUOUS_TIME_IN_FORCE",
      `timeInForce "${value}" is not supported: day, gtc, ioc or fok.`,
      "timeInForce",
    );
    return undefined;
  }

  /** What relative prices are measured from when the order itself has no price: signalPrice, else price. */
  private referencePrice(): number | null {
    return this.number("signalPrice") ?? this.number("price") ?? null;
  }

  /** The fixed stop price or the trailing stop (null when none); undefined after an error. */
  private stopLoss(side: Side, reference: number | null): Protection | undefined {
    const raw = this.body.stopLoss;
    if (raw === undefined || raw === null) return NO_PROTECTION;
    const stop = this.object("stopLoss", raw);
    if (!stop) return undefined;
    const type = typeof stop.type === "string" ? stop.type.toLowerCase() : stop.type;
    if (type === "trailing_stop" || stop.trailAmount != null || stop.trailPercent != null) {
      const trailingStop = this.trailingStopLoss(stop, type);
      return trailingStop ? { stopLoss: null, trailingStop } : undefined;
    }
    if (type === "stop_limit" || stop.limitPrice != null) {
      this.fail(
        "UNSUPPORTED_FEATURE",
        'Stop-limit stop losses are not supported: send type "stop" (a stop-market exit).',
        "stopLoss.type",
      );
      return undefined;
    }
    if (type !== undefined && type !== null && type !== "stop") {
      this.fail("INVALID_ORDER_TYPE", `Invalid stopLoss.type "${String(stop.type)}".`, "stopLoss.type");
      return undefined;
    }
    const stopLoss = this.relativePrice("stopLoss", stop, { absolute: ["stopPrice"], side, reference, direction: -1 });
    return stopLoss === undefined ? undefined : { stopLoss, trailingStop: null };
  }

  /**
   * `stopLoss` of type trailing_stop: exactly one of trailPercent (more than 0, under 100) or trailAmount, and no
   * fixed price beside it (a stop is fixed or trailing, never both).
   */
  private trailingStopLoss(stop: Record<string, unknown>, type: unknown): TrailDistance | undefined {
    if (type !== undefined && type !== null && type !== "trailing_stop") {
      this.fail(
        "INVALID_FIELD",
        `stopLoss.type "${String(stop.type)}" takes no trailAmount or trailPercent: send type "trailing_stop".`,
        "stopLoss.type",
      );
      return undefined;
    }
    const fixed = ["stopPrice", "limitPrice", "percent", "amount"].filter((key) => stop[key] != null);
    if (fixed.length > 0) {
      this.fail(
        "AMBIGUOUS_STOP",
        `A stop loss is fixed or trailing, not both: send stopLoss.${fixed[0]} with type "stop", or a trail alone.`,
        `stopLoss.${fixed[0]}`,
      );
      return undefined;
    }
    const given = ["trailPercent", "trailAmount"].filter((key) => stop[key] != null);
    if (given.length !== 1) {
      this.fail("INVALID_PRICE", "A trailing stop loss takes exactly one of trailPercent, trailAmount.", "stopLoss");
      return undefined;
    }
    const key = given[0] as "trailPercent" | "trailAmount";
    const code = key === "trailPercent" ? "INVALID_PERCENT" : "INVALID_PRICE";
    const value = this.number(`stopLoss.${key}`, stop[key], code);
    if (value === undefined) return undefined;
    const trail = trailDistanceOf(value, key === "trailPercent");
    if (!trail) {
      const bounds = key === "trailPercent" ? "more than 0 and under 100" : "a positive amount";
      this.fail(code, `stopLoss.${key} is ${bounds}, not ${formatDecimal(value)}.`, `stopLoss.${key}`);
    }
    return trail ?? undefined;
  }

  /** The take-profit price (null when none); undefined after an error. */
  private takeProfit(side: Side, reference: number | null): number | null | undefined {
    const raw = this.body.takeProfit;
    if (raw === undefined || raw === null) return null;
    const target = this.object("takeProfit", raw);
    if (!target) return undefined;
    return this.relativePrice("takeProfit", target, {
      absolute: ["limitPrice", "price"],
      side,
      reference,
      direction: 1,
    });
  }

  private object(field: string, value: unknown): Record<string, unknown> | null {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
    this.fail("INVALID_FIELD", `${field} must be an object.`, field);
    return null;
  }

  /**
   * One of an absolute price, a percent or an amount away from the reference (TradersPost: "never together"),
   * measured in the position's favour (direction 1, a target) or against it (direction -1, a stop). Computed
   * prices keep the reference's decimals (at least 2).
   */
  private relativePrice(
    field: string,
    value: Record<string, unknown>,
    how: { absolute: string[]; side: Side; reference: number | null; direction: 1 | -1 },
  ): number | null | undefined {
    const given = [...how.absolute, "percent", "amount"].filter(
      (key) => value[key] !== undefined && value[key] !== null,
    );
    if (given.length !== 1) {
      this.fail(
        "INVALID_PRICE",
        `${field} takes exactly one of ${[...how.absolute, "percent", "amount"].join(", ")}.`,
        field,
      );
      return undefined;
    }
    const key = given[0] ?? "";
    const number = this.number(`${field}.${key}`, value[key]);
    if (number === undefined) return undefined;
    if (how.absolute.includes(key)) return number;
    if (how.side === "exit") return number; // an exit's stop or target is refused by the signal rules
    if (how.reference === null) {
      this.fail(
        "MISSING_PRICE",
        `A ${field}.${key} needs a price to measure from: send limitPrice, signalPrice or price.`,
        `${field}.${key}`,
      );
      return undefined;
    }
    const towardsProfit = how.side === "long" ? how.direction : -how.direction;
    const distance = key === "percent" ? (how.reference * number) / 100 : number;
    const price = roundLike(how.reference + towardsProfit * distance, how.reference);
    if (!(price > 0)) {
      this.fail("INVALID_PRICE", `${field}.${key} puts the price at or below zero.`, `${field}.${key}`);
      return undefined;
    }
    return price;
  }
}

function sideOf(action: SignalAction): Side {
  if (action === "buy") return "long";
  if (action === "short") return "short";
  return "exit";
}

function roundLike(value: number, reference: number): number {
  const decimals = Math.min(10, Math.max(2, formatDecimal(reference).split(".")[1]?.length ?? 0));
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}

/** The TradersPost field a rule about the normalized signal is about. */
function fieldOfSignalPath(path: (string | number)[]): string | null {
  switch (path[0]) {
    case "stopLoss":
    case "trailingStop":
      return "stopLoss";
    case "takeProfits":
      return "takeProfit";
    case "entry":
      return "limitPrice";
    case "quantity":
    case "quantityPercent":
      return "quantity";
    case "action":
      return "action";
    case "symbol":
    case "option":
      return "ticker";
    default:
      return null;
  }
}

/**
 * TradersPost's `cancel` and `exit` as trade management of the provider's open trade on the ticker (TradersPost:
 * cancel cancels the open orders for the ticker; exit cancels them and closes the position). `cancel` cancels the
 * trade's entries not filled yet. `exit` without a quantity also closes the whole position; with `quantityType`
 * `percent_of_position` it closes that part. An exit for a number of units is refused (each follower holds their
 * own size), as are an exit at a price, a trailing exit and a sentiment with exit.
 */
export function readTradersPostManagement(
  action: "cancel" | "exit",
  body: Record<string, unknown>,
): { management: TradeManagement } | { errors: WebhookSignalError[] } {
  const errors: WebhookSignalError[] = [];
  const fail = (code: WebhookSignalError["code"], message: string, field: string) =>
    errors.push({ code, message, field });
  const ticker = typeof body.ticker === "string" ? body.ticker.trim().toUpperCase() : "";
  const contract = CONTRACT_TICKER.exec(ticker);
  const symbol = contract
    ? (contract[1] ?? null)
    : ticker && !FUTURES_ROOTS.has(ticker)
      ? (readSymbolWord(ticker)?.symbol ?? null)
      : null;
  if (symbol === null) {
    fail(
      "UNKNOWN_SYMBOL",
      ticker ? `${ticker} is not an instrument this platform trades.` : "ticker is required.",
      "ticker",
    );
  }
  let closePercent: number | null = null;
  if (action === "exit") {
    if (body.sentiment !== undefined && body.sentiment !== null) {
      fail(
        "AMBIGUOUS_SIDE",
        "A sentiment goes only with buy or sell; exit closes the position without one.",
        "sentiment",
      );
    }
    const orderType = typeof body.orderType === "string" ? body.orderType.trim().toLowerCase() : undefined;
    if (orderType !== undefined && orderType !== "market") {
      fail(
        "UNSUPPORTED_FEATURE",
        `An exit closes each follower's trade at market; orderType ${orderType} is not supported.`,
        "orderType",
      );
    }
    for (const field of ["limitPrice", "stopPrice", "trailAmount", "trailPercent"]) {
      if (body[field] !== undefined && body[field] !== null) {
        fail(
          "UNSUPPORTED_FEATURE",
          `An exit closes each follower's trade at market; ${field} is not supported.`,
          field,
        );
      }
    }
    if (body.stopLoss !== undefined || body.takeProfit !== undefined) {
      fail("AMBIGUOUS_SIDE", "An exit has no stop-loss or take-profit: it closes the position.", "action");
    }
    const quantity = body.quantity;
    if (quantity === undefined || quantity === null) closePercent = 100;
    else if (body.quantityType === "percent_of_position") {
      const percent = typeof quantity === "number" ? quantity : Number(quantity);
      if (Number.isFinite(percent) && percent > 0 && percent <= 100) closePercent = percent;
      else fail("INVALID_QUANTITY", "A percent of the position is more than 0 and at most 100.", "quantity");
    } else {
      fail(
        "UNSUPPORTED_FEATURE",
        "An exit of a number of units does not fit followers who each hold their own size: send quantityType percent_of_position, or no quantity to close it all.",
        "quantity",
      );
    }
  }
  if (errors.length > 0) return { errors };
  return {
    management: {
      stop: null,
      cancelEntries: action === "cancel" || closePercent === 100,
      closePercent,
      symbol,
      reported: false,
    },
  };
}

import { z } from "zod";
import { isCalendarDay } from "./dates";
import type { SignalErrorCode } from "./errors";
import { formatDecimal } from "./numbers";
import { CRYPTO_SYMBOL, EQUITY_SYMBOL } from "./symbols";

/** The normalized signal (docs/architecture.md §5). Field names are contract. */

export const SIGNAL_ACTIONS = ["buy", "sell", "short", "cover", "close"] as const;
const ASSET_CLASSES = ["equity", "option", "crypto"] as const;
export const ORDER_TYPES = ["market", "limit", "stop", "stop_limit"] as const;
export const TIMES_IN_FORCE = ["day", "gtc", "ioc", "fok"] as const;
const OPTION_RIGHTS = ["call", "put"] as const;

/** Bounds that keep every value printable as plain decimals well inside the text length cap. */
export const MAX_AMOUNT = 1e12;
export const MIN_PRICE = 1e-12;
export const MIN_AMOUNT = MIN_PRICE;
export const MAX_LEVERAGE = 1_000;
export const MAX_TARGETS = 20;

const price = z.number().min(MIN_PRICE).max(MAX_AMOUNT);
const percent = z.number().min(MIN_AMOUNT).max(100);

export const OptionContractSchema = z.object({
  underlying: z.string().regex(EQUITY_SYMBOL),
  expiration: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .refine(isCalendarDate, "not a calendar date"),
  strike: price,
  right: z.enum(OPTION_RIGHTS),
});

const EntrySchema = z.union([z.object({ price }).strict(), z.object({ low: price, high: price }).strict()]);

const TakeProfitSchema = z.object({ price, percent: percent.nullable() });

/** A trailing stop's distance from the best price since it was placed: a percent of it, or an amount. */
const TrailingStopSchema = z.union([
  z.object({ percent: z.number().min(MIN_AMOUNT).lt(100) }).strict(),
  z.object({ amount: price }).strict(),
]);

const SignalShape = z.object({
  action: z.enum(SIGNAL_ACTIONS),
  assetClass: z.enum(ASSET_CLASSES),
  symbol: z.string(),
  option: OptionContractSchema.nullable(),
  orderType: z.enum(ORDER_TYPES),
  entry: EntrySchema.nullable(),
  quantity: z.number().min(MIN_AMOUNT).max(MAX_AMOUNT).nullable(),
  quantityPercent: percent.nullable(),
  stopLoss: price.nullable(),
  /** Absent (or null) when the signal has none: payloads written before it existed stay valid as they are. */
  trailingStop: TrailingStopSchema.nullish(),
  takeProfits: z.array(TakeProfitSchema).max(MAX_TARGETS),
  leverage: z.number().min(1).max(MAX_LEVERAGE).nullable(),
  timeInForce: z.enum(TIMES_IN_FORCE).nullable(),
});

export const NormalizedSignalSchema = SignalShape.superRefine((signal, ctx) => {
  for (const violation of signalRuleViolations(signal)) {
    ctx.addIssue({
      code: "custom",
      message: violation.message,
      path: violation.path,
      params: { signalCode: violation.code },
    });
  }
});

export type NormalizedSignal = z.infer<typeof SignalShape>;
export type SignalAction = NormalizedSignal["action"];
export type AssetClass = NormalizedSignal["assetClass"];
export type OrderType = NormalizedSignal["orderType"];
export type TimeInForce = NonNullable<NormalizedSignal["timeInForce"]>;
export type Entry = NonNullable<NormalizedSignal["entry"]>;
export type OptionContract = NonNullable<NormalizedSignal["option"]>;
export type TakeProfit = NormalizedSignal["takeProfits"][number];
export type TrailDistance = z.infer<typeof TrailingStopSchema>;

/**
 * A trail written as a number: a percent when written with "%" (more than 0, under 100), else an amount (more
 * than 0). Null when the number cannot be a trail.
 */
export function trailDistanceOf(value: number, isPercent: boolean): TrailDistance | null {
  if (!Number.isFinite(value) || !(value > 0)) return null;
  if (isPercent) return value >= MIN_AMOUNT && value < 100 ? { percent: value } : null;
  return value >= MIN_PRICE && value <= MAX_AMOUNT ? { amount: value } : null;
}

/** How far below (long) or above (short) the entry a trail starts: the stop distance it protects with. */
export function initialTrailDistance(trail: TrailDistance, entryPrice: number): number {
  return "percent" in trail ? (entryPrice * trail.percent) / 100 : trail.amount;
}

export interface RuleViolation {
  code: SignalErrorCode;
  message: string;
  /** Field path inside the signal, e.g. ["takeProfits", 1, "price"]. */
  path: (string | number)[];
}

/** Fields the cross-field rules read; a parser may check a partial draft (absent fields are skipped). */
export type RuleInput = Partial<NormalizedSignal>;

/**
 * The rules that relate fields to each other. One function, so the schema, the text parser and the
 * structured `/signal` options agree on what a valid signal is. `reference` lets a market order written
 * with a price ("@ 190 MKT") still have its stop and targets checked.
 */
export function signalRuleViolations(signal: RuleInput, reference?: Entry): RuleViolation[] {
  const violations: RuleViolation[] = [];
  const add = (code: SignalErrorCode, message: string, ...path: (string | number)[]) =>
    violations.push({ code, message, path });

  checkSymbol(signal, add);

  const { orderType, entry } = signal;
  if (orderType !== undefined && entry !== undefined) {
    if (orderType === "market" && entry !== null) {
      add("INVALID_ORDER_TYPE", "A market order has no entry price.", "entry");
    }
    if (orderType !== "market" && entry === null) {
      add("MISSING_PRICE", `A ${orderType.replace("_", "-")} order needs a price.`, "entry");
    }
    if ((orderType === "stop" || orderType === "stop_limit") && entry !== null && "low" in entry) {
      add("INVALID_ORDER_TYPE", "A stop order triggers at one price, not a zone.", "entry");
    }
  }
  if (entry && "low" in entry && !(entry.low < entry.high)) {
    add("INVALID_PRICE", "An entry zone's low must be below its high.", "entry");
  }

  const { quantity, quantityPercent, action } = signal;
  if (quantity != null && quantityPercent != null) {
    add("AMBIGUOUS_QUANTITY", "Give a quantity or a percent of the position, not both.", "quantityPercent");
  }
  if (quantityPercent != null && (action === "buy" || action === "short")) {
    add(
      "INVALID_QUANTITY",
      "A percent sizes an exit (a part of an open position); an entry needs a quantity.",
      "quantityPercent",
    );
  }
  if (quantity != null && signal.assetClass === "option" && !Number.isInteger(quantity)) {
    add("INVALID_QUANTITY", "Options trade in whole contracts.", "quantity");
  }
  if (signal.leverage != null && signal.assetClass !== undefined && signal.assetClass !== "crypto") {
    add("INVALID_LEVERAGE", "Leverage applies to crypto signals only.", "leverage");
  }
  if (signal.stopLoss != null && signal.trailingStop != null) {
    add(
      "AMBIGUOUS_STOP",
      'A signal has a fixed stop-loss or a trailing stop, not both: keep one (e.g. "SL 185" or "TS 2%").',
      "trailingStop",
    );
  }
  checkExit(signal, add);

  const targets = signal.takeProfits ?? [];
  const percentTotal = targets.reduce((sum, target) => sum + (target.percent ?? 0), 0);
  if (percentTotal > 100 + 1e-9) {
    add("INVALID_PERCENT", "Take-profit percentages add up to more than 100%.", "takeProfits");
  }

  checkSides(signal, reference, add);
  return violations;
}

type Add = (code: SignalErrorCode, message: string, ...path: (string | number)[]) => void;

function checkSymbol(signal: RuleInput, add: Add): void {
  const { assetClass, symbol, option } = signal;
  if (assetClass === undefined || symbol === undefined) return;
  if (assetClass === "crypto" && !CRYPTO_SYMBOL.test(symbol)) {
    add("UNKNOWN_SYMBOL", `"${symbol}" is not a crypto pair written BASE/QUOTE.`, "symbol");
  }
  if (assetClass !== "crypto" && !EQUITY_SYMBOL.test(symbol)) {
    add("UNKNOWN_SYMBOL", `"${symbol}" is not a ticker (1–5 letters, optional class suffix).`, "symbol");
  }
  if (option === undefined) return;
  if (assetClass === "option" && option === null) {
    add("OPTION_MISSING_STRIKE", "An option signal needs its contract.", "option");
  }
  if (assetClass !== "option" && option !== null) {
    add("INVALID_ORDER_TYPE", "Only option signals carry an option contract.", "option");
  }
  if (option && option.underlying !== symbol) {
    add("UNKNOWN_SYMBOL", "An option's symbol is its underlying.", "option", "underlying");
  }
}

/**
 * An exit (sell, cover, close) reduces a position: it carries no stop-loss, no targets and no leverage. "SELL X
 * SL 66000 TP 64000" is either a short written as a sell or a mistake, so it is refused, never guessed.
 */
function checkExit(signal: RuleInput, add: Add): void {
  const { action } = signal;
  if (action === undefined || action === "buy" || action === "short") return;
  if (signal.stopLoss != null || signal.trailingStop != null || (signal.takeProfits?.length ?? 0) > 0) {
    add(
      "AMBIGUOUS_SIDE",
      `${action.toUpperCase()} with a stop-loss or targets could be an exit or a new position. To open a short write SHORT (e.g. "SHORT BTC/USDT @ 65000 SL 66000 TP 64000"); an exit has no stop or targets.`,
      "action",
    );
  }
  if (signal.leverage != null) {
    add("INVALID_LEVERAGE", "Leverage opens a position (buy/long or short); an exit has none.", "leverage");
  }
}

function checkSides(signal: RuleInput, reference: Entry | undefined, add: Add): void {
  const { action, stopLoss } = signal;
  if (action !== "buy" && action !== "short") return;
  const entry = signal.entry ?? reference;
  if (!entry) return;
  const zone = "low" in entry ? entry : { low: entry.price, high: entry.price };
  const long = action === "buy";
  if (stopLoss != null) {
    if (long && !(stopLoss < zone.low)) {
      add("STOP_WRONG_SIDE", `A long stop must be below the entry (${formatDecimal(zone.low)}).`, "stopLoss");
    }
    if (!long && !(stopLoss > zone.high)) {
      add("STOP_WRONG_SIDE", `A short stop must be above the entry (${formatDecimal(zone.high)}).`, "stopLoss");
    }
  }
  const trail = signal.trailingStop;
  if (long && trail != null && "amount" in trail && !(trail.amount < zone.low)) {
    add(
      "INVALID_PRICE",
      `A trailing stop of ${formatDecimal(trail.amount)} is as wide as the entry (${formatDecimal(zone.low)}) or wider: it would start at or below zero.`,
      "trailingStop",
    );
  }
  (signal.takeProfits ?? []).forEach((target, index) => {
    if (long && !(target.price > zone.high)) {
      add(
        "TARGET_WRONG_SIDE",
        `A long target must be above the entry (${formatDecimal(zone.high)}).`,
        "takeProfits",
        index,
      );
    }
    if (!long && !(target.price < zone.low)) {
      add(
        "TARGET_WRONG_SIDE",
        `A short target must be below the entry (${formatDecimal(zone.low)}).`,
        "takeProfits",
        index,
      );
    }
  });
}

function isCalendarDate(text: string): boolean {
  const [year, month, day] = text.split("-").map(Number) as [number, number, number];
  return year >= 1970 && isCalendarDay(year, month, day);
}

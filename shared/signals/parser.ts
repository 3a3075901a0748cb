import { daysFromToday, resolveExpiration } from "./dates";
import { MAX_SIGNAL_TEXT_LENGTH, type ParseResult, type SignalError, type SignalErrorCode } from "./errors";
import { tokenize } from "./lexer";
import { formatDecimal } from "./numbers";
import { type BareNumber, type Candidate, type Mark, type Scan, type Span, scanTokens } from "./scan";
import {
  type AssetClass,
  type Entry,
  MAX_AMOUNT,
  MAX_LEVERAGE,
  MAX_TARGETS,
  MIN_AMOUNT,
  MIN_PRICE,
  NormalizedSignalSchema,
  type OptionContract,
  type OrderType,
  type RuleInput,
  type SignalAction,
  signalRuleViolations,
  type TakeProfit,
} from "./schema";
import { EQUITY_SYMBOL } from "./symbols";

export interface ParseOptions {
  /** The moment the message was posted: resolves dates written without a year, and 0DTE. Default: now. */
  now?: Date;
}

/**
 * Reads one trade signal from free text. Total: never throws, and always answers either a signal that
 * satisfies NormalizedSignalSchema or every error found, each located in the text. See
 * openspec/specs/signal-language/spec.md for the language and its semantics.
 */
export function parseSignal(text: string, options: ParseOptions = {}): ParseResult {
  if (typeof text !== "string") return failure([notASignal({ start: 0, end: 0 })]);
  if (text.length > MAX_SIGNAL_TEXT_LENGTH) {
    return failure([
      {
        code: "TOO_LONG",
        message: `A signal is at most ${MAX_SIGNAL_TEXT_LENGTH} characters; this text has ${text.length}.`,
        start: MAX_SIGNAL_TEXT_LENGTH,
        end: text.length,
      },
    ]);
  }
  const now = options.now && !Number.isNaN(options.now.getTime()) ? options.now : new Date();
  return new Resolver(text, scanTokens(tokenize(text)), now).resolve();
}

function failure(errors: SignalError[]): ParseResult {
  return { ok: false, errors };
}

function notASignal(span: Span): SignalError {
  return {
    code: "NOT_A_SIGNAL",
    message: "This does not read as a trade signal: no side (buy, sell, short, cover, close) with a symbol.",
    start: span.start,
    end: span.end,
  };
}

interface Picked<T> {
  value: T;
  span: Span;
}

interface SymbolChoice {
  symbol: string;
  crypto: boolean;
  span: Span;
  tokenIndex: number;
}

class Resolver {
  private readonly errors: SignalError[];
  private readonly whole: Span;

  constructor(
    private readonly text: string,
    private readonly scan: Scan,
    private readonly now: Date,
  ) {
    this.errors = [...scan.errors];
    this.whole = { start: 0, end: text.length };
  }

  private error(code: SignalErrorCode, message: string, span: Span = this.whole): void {
    this.errors.push({ code, message, start: span.start, end: span.end });
  }

  resolve(): ParseResult {
    const { scan } = this;
    const firstSide = Math.min(...scan.sides.map((s) => s.tokenIndex));
    const firstCandidate = Math.min(...scan.candidates.map((c) => c.tokenIndex));
    // Numbers and dates written before both the side and the symbol are decoration ("Signal #12 · 11/23").
    const begin = Math.min(firstSide, firstCandidate);
    const dates = scan.dates.filter((d) => d.tokenIndex > begin);
    const strongOption = scan.optionHints.length + scan.strikes.length + scan.rights.length + scan.zeroDte.length > 0;
    let optionIntent = strongOption || dates.length > 0;
    if (optionIntent && !strongOption && this.chooseSymbol(scan.candidates, false)?.crypto) {
      optionIntent = false; // a date beside a coin is not an option expiration
    }

    let sides = scan.sides;
    let candidates = scan.candidates;
    const btc = scan.btcWords[0];
    if (btc && optionIntent && candidates.some((c) => c.tokenIndex > btc.tokenIndex)) {
      // "BTC SPY 450P ...": buy to close an option, not Bitcoin.
      sides = [
        ...sides,
        { value: { action: "cover", option: true }, start: btc.start, end: btc.end, tokenIndex: btc.tokenIndex },
      ];
      candidates = candidates.filter((c) => c !== btc);
    }

    const anyNumber =
      scan.bare.length +
        scan.bareRanges.length +
        scan.quantities.length +
        scan.percents.length +
        scan.multipliers.length +
        scan.strikes.length +
        dates.length >
      0;
    const sideProblem = scan.errors.some((e) => e.code === "UNKNOWN_SIDE");
    if (sides.length === 0 && !scan.structured && !sideProblem) return failure([notASignal(this.whole)]);
    if (
      sides.length > 0 &&
      candidates.length === 0 &&
      scan.invalidTagged.length === 0 &&
      !scan.structured &&
      !anyNumber
    ) {
      return failure([notASignal(this.whole)]);
    }

    const action = this.resolveSide(sides, sideProblem);
    const partial = sides.some((s) => s.value.partial);

    const choice = this.chooseSymbol(candidates, optionIntent, true);
    const assetClass: AssetClass | undefined = choice
      ? optionIntent
        ? "option"
        : choice.crypto
          ? "crypto"
          : "equity"
      : undefined;

    const anchor = choice?.tokenIndex ?? (Number.isFinite(firstCandidate) ? firstCandidate : Number.POSITIVE_INFINITY);
    const numbers = this.assignNumbers(begin, anchor, optionIntent, assetClass === "crypto");

    const option = optionIntent && choice ? this.resolveOption(choice.symbol, numbers.strikes, dates) : null;
    if (optionIntent && !choice) this.resolveOption("", numbers.strikes, dates); // report its own problems too

    const quantity = this.pickNumber(numbers.quantities, "AMBIGUOUS_QUANTITY", "quantity");
    const quantityPercent = this.pickNumber(scan.percents, "AMBIGUOUS_QUANTITY", "percent of the position");
    const leverage = this.pickNumber(numbers.leverages, "AMBIGUOUS_LEVERAGE", "leverage");
    let stop = this.pickNumber(scan.stops, "AMBIGUOUS_STOP", "stop-loss");
    let entry = this.pick(numbers.entries, entryText, "AMBIGUOUS_ENTRY", "entry");
    const timeInForce = this.pick(scan.timesInForce, String, "AMBIGUOUS_TIME_IN_FORCE", "time in force");
    const orderTypeMark = this.pick(scan.orderTypes, String, "AMBIGUOUS_ORDER_TYPE", "order type");

    // An invalid value is reported once, not again by the rules that would compare it.
    const validQuantity = this.checkQuantity(quantity) ? quantity : undefined;
    const validPercent = this.checkPercent(quantityPercent) ? quantityPercent : undefined;
    const validLeverage = this.checkLeverage(leverage) ? leverage : undefined;
    if (stop && !this.checkPrice(stop.value, stop.span, "stop-loss")) stop = undefined;
    if (entry && !this.checkEntry(entry)) entry = undefined;
    const takeProfits = this.resolveTargets();
    if (partial && quantity === null && quantityPercent === null) {
      const trim = sides.find((s) => s.value.partial) as Span;
      this.error("MISSING_QUANTITY", 'Trim how much? Write a percent ("trim 50%") or a quantity.', trim);
    }
    const order = resolveOrder(orderTypeMark, entry);

    const draft: RuleInput = {
      action,
      assetClass,
      symbol: choice?.symbol,
      option,
      orderType: order?.orderType,
      entry: order?.entry,
      quantity: draftValue(validQuantity),
      quantityPercent: draftValue(validPercent),
      stopLoss: draftValue(stop),
      takeProfits: takeProfits?.map((t) => t.value),
      leverage: draftValue(validLeverage),
      timeInForce: draftValue(timeInForce),
    };
    this.reportRuleViolations(draft, order?.reference, {
      symbol: choice?.span,
      entry: entry?.span ?? orderTypeMark?.span ?? undefined,
      quantity: quantity?.span ?? undefined,
      quantityPercent: quantityPercent?.span ?? undefined,
      stopLoss: stop?.span ?? undefined,
      leverage: leverage?.span ?? undefined,
      option: choice?.span,
      takeProfits: takeProfits?.map((t) => t.span),
    });

    if (this.errors.length > 0) return failure(this.sortedErrors());
    const parsed = NormalizedSignalSchema.safeParse(draft);
    if (parsed.success) return { ok: true, signal: parsed.data };
    // Every rule is checked above with a location; this is the schema's last word on anything missed.
    return failure(
      parsed.error.issues.map((issue) => ({
        code: issueCode(issue),
        message: `${issue.path.join(".") || "signal"}: ${issue.message}`,
        start: 0,
        end: this.text.length,
      })),
    );
  }

  /** The cross-field rules (schema.ts), each located at the value it is about. */
  private reportRuleViolations(draft: RuleInput, reference: Entry | undefined, spans: FieldSpans): void {
    for (const violation of signalRuleViolations(draft, reference)) {
      const [field, index] = violation.path;
      const span =
        field === "takeProfits"
          ? typeof index === "number"
            ? spans.takeProfits?.[index]
            : undefined
          : spans[field as Exclude<keyof FieldSpans, "takeProfits">];
      this.error(violation.code, violation.message, span ?? this.whole);
    }
  }

  private sortedErrors(): SignalError[] {
    const seen = new Set<string>();
    return this.errors
      .filter((e) => {
        const key = `${e.code}:${e.start}:${e.end}:${e.message}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .sort((a, b) => a.start - b.start || a.end - b.end);
  }

  private resolveSide(sides: Scan["sides"], sideProblem: boolean): SignalAction | undefined {
    const actions = [...new Set(sides.map((s) => s.value.action))];
    if (actions.length === 1) return actions[0];
    if (actions.length > 1) {
      const words = sides.map((s) => `"${this.text.slice(s.start, s.end)}"`).join(", ");
      this.error("AMBIGUOUS_SIDE", `Conflicting sides: ${words}. Write one side.`, spanOf(sides));
    } else if (!sideProblem) {
      this.error("UNKNOWN_SIDE", "No side: write buy/long, sell, short, cover or close (or BTO, STC, STO, BTC).");
    }
    return undefined;
  }

  /**
   * The ticker or pair: the most explicit candidates win ($/# tags and pairs, then capitals and coins, then
   * other words); two different symbols at that level are ambiguous. With `report`, problems become errors.
   */
  private chooseSymbol(candidates: Candidate[], option: boolean, report = false): SymbolChoice | undefined {
    const equityFirst = option || this.scan.equityHint;
    const usable: { candidate: Candidate; symbol: string; crypto: boolean }[] = [];
    for (const candidate of candidates) {
      const { reading, raw } = candidate;
      if (reading.form === "equity") usable.push({ candidate, symbol: reading.symbol, crypto: false });
      else if (equityFirst && EQUITY_SYMBOL.test(raw)) usable.push({ candidate, symbol: raw, crypto: false });
      else if (!option) usable.push({ candidate, symbol: reading.symbol, crypto: true });
    }
    if (usable.length === 0) {
      if (report) {
        const pair = option ? candidates.find((c) => c.reading.form !== "equity") : undefined;
        const tagged = this.scan.invalidTagged[0];
        if (pair) {
          this.error("UNKNOWN_SYMBOL", "An option's underlying is a stock or ETF ticker, not a crypto pair.", pair);
        } else if (tagged) {
          const word = this.text.slice(tagged.start, tagged.end);
          this.error(
            "UNKNOWN_SYMBOL",
            `"${word}" is not a ticker (1–5 letters, e.g. AAPL, BRK.B) or a crypto pair (BTC/USDT).`,
            tagged,
          );
        } else {
          this.error("UNKNOWN_SYMBOL", "No symbol: write a ticker (AAPL, $TSLA, BRK.B) or a crypto pair (BTC/USDT).");
        }
      }
      return undefined;
    }
    const tier = Math.min(...usable.map((u) => u.candidate.tier));
    const top = usable.filter((u) => u.candidate.tier === tier);
    const distinct = [...new Map(top.map((u) => [`${u.crypto}:${u.symbol}`, u])).values()];
    if (distinct.length > 1) {
      if (report) {
        const names = distinct.map((u) => u.symbol).join(", ");
        this.error(
          "AMBIGUOUS_SYMBOL",
          `More than one symbol: ${names}. Write one, or tag it ($AAPL).`,
          spanOf(top.map((u) => u.candidate)),
        );
      }
      return undefined;
    }
    const first = top[0] as (typeof top)[number];
    return {
      symbol: first.symbol,
      crypto: first.crypto,
      span: { start: first.candidate.start, end: first.candidate.end },
      tokenIndex: first.candidate.tokenIndex,
    };
  }

  /**
   * Unlabeled numbers. Before the symbol (after the side) a number is a quantity ("BUY 10 AAPL"); a `$`
   * number is a price. After the symbol: an option's first number is its strike and the next its premium;
   * otherwise a number is the quantity when the price is known, the price when the quantity is known, and
   * when neither is, the price if it is within a factor of 2 of the stop (or first target), else the quantity.
   */
  private assignNumbers(begin: number, anchor: number, option: boolean, crypto: boolean) {
    const { scan } = this;
    const entries: Mark<Entry>[] = [...scan.entries, ...scan.bareRanges.filter((r) => r.tokenIndex > begin)];
    const quantities: Mark<number>[] = [...scan.quantities];
    const leverages: Mark<number>[] = [...scan.leverages];
    const strikes: Mark<number>[] = [...scan.strikes];
    const bare = scan.bare.filter((n) => n.tokenIndex > begin);
    for (const n of bare.filter((b) => b.dollar))
      entries.push({ value: { price: n.value }, start: n.start, end: n.end });
    const before = bare.filter((b) => !b.dollar && b.tokenIndex < anchor);
    const after = bare.filter((b) => !b.dollar && b.tokenIndex > anchor);
    quantities.push(...before);
    for (const m of scan.multipliers) (crypto ? leverages : quantities).push(m);

    const marketWritten = scan.orderTypes.some((o) => o.value === "market");
    if (option && strikes.length === 0 && after.length > 0) strikes.push(after.shift() as BareNumber);
    if (option && after.length > 0 && entries.length === 0 && !marketWritten) {
      const premium = after.shift() as BareNumber;
      entries.push({ value: { price: premium.value }, start: premium.start, end: premium.end });
    }
    if (after.length === 1) {
      const n = after[0] as BareNumber;
      const hasEntry = entries.length > 0 || marketWritten;
      const hasQuantity = quantities.length > 0 || scan.percents.length > 0;
      const reference = scan.stops[0]?.value ?? scan.targets[0]?.price;
      const asEntry = () => entries.push({ value: { price: n.value }, start: n.start, end: n.end });
      if (hasEntry && !hasQuantity) quantities.push(n);
      else if (!hasEntry && hasQuantity) asEntry();
      else if (!hasEntry && !hasQuantity && reference !== undefined && reference > 0) {
        const ratio = n.value / reference;
        if (ratio >= 0.5 && ratio <= 2) asEntry();
        else quantities.push(n);
      } else {
        this.ambiguousNumbers(after);
      }
    } else if (after.length > 1) {
      this.ambiguousNumbers(after);
    }
    return { entries, quantities, leverages, strikes };
  }

  private ambiguousNumbers(numbers: BareNumber[]): void {
    for (const n of numbers) {
      const written = this.text.slice(n.start, n.end);
      this.error(
        "AMBIGUOUS_NUMBER",
        `Is ${written} a quantity or a price? Write "@ ${written}" for a price or "${written} shares" / "qty ${written}" for a quantity.`,
        n,
      );
    }
  }

  private resolveOption(underlying: string, strikes: Mark<number>[], dates: Scan["dates"]): OptionContract | undefined {
    const { scan } = this;
    const strike = this.pickNumber(strikes, "AMBIGUOUS_OPTION", "strike");
    const right = this.pick(scan.rights, String, "AMBIGUOUS_OPTION", "call or put");
    const expirations: Mark<string>[] = [];
    for (const date of dates) {
      const iso = resolveExpiration(date, this.now);
      if (iso) expirations.push({ value: iso, start: date.start, end: date.end });
      else this.error("INVALID_DATE", `"${this.text.slice(date.start, date.end)}" is not a calendar date.`, date);
    }
    for (const span of scan.zeroDte) expirations.push({ value: daysFromToday(this.now, 0), ...span });
    const expiration = this.pick(expirations, String, "AMBIGUOUS_OPTION", "expiration");

    if (strike === null)
      this.error(
        "OPTION_MISSING_STRIKE",
        'The option has no strike: write it with its right, e.g. "190C" or "190 call".',
      );
    if (right === null)
      this.error("OPTION_MISSING_RIGHT", 'Call or put? Write the strike as "190C"/"190P" or add "call"/"put".');
    const dateProblem = this.errors.some((e) => e.code === "INVALID_DATE");
    if (expiration === null && !dateProblem) {
      this.error(
        "OPTION_MISSING_EXPIRATION",
        'The option has no expiration: write a date such as "12/20", "1/15/2027" or "2026-12-18".',
      );
    }
    if (strike) this.checkPrice(strike.value, strike.span, "strike");
    if (!strike || !right || !expiration || !underlying) return undefined;
    return { underlying, expiration: expiration.value, strike: strike.value, right: right.value as "call" | "put" };
  }

  private resolveTargets(): Picked<TakeProfit>[] | undefined {
    const targets = this.scan.targets;
    let valid = true;
    if (targets.length > MAX_TARGETS) {
      this.error("TOO_MANY_TARGETS", `At most ${MAX_TARGETS} take-profit targets.`, spanOf(targets.slice(MAX_TARGETS)));
      valid = false;
    }
    for (const target of targets) {
      if (!this.checkPrice(target.price, target, "target")) valid = false;
      if (target.percent && !this.checkPercent({ value: target.percent.value, span: target.percent })) valid = false;
    }
    if (!valid) return undefined;
    return targets.map((t) => ({
      value: { price: t.price, percent: t.percent?.value ?? null },
      span: { start: t.start, end: t.percent?.end ?? t.end },
    }));
  }

  /** The one value written for a field: null when none, undefined (with an error) when they disagree. */
  private pick<T>(
    marks: Mark<T>[],
    key: (value: T) => string,
    code: SignalErrorCode,
    what: string,
  ): Picked<T> | null | undefined {
    if (marks.length === 0) return null;
    const distinct = [...new Map(marks.map((m) => [key(m.value), m])).values()];
    if (distinct.length > 1) {
      const written = distinct.map((m) => `"${this.text.slice(m.start, m.end)}"`).join(", ");
      this.error(code, `Conflicting ${what}: ${written}. Write one.`, spanOf(marks));
      return undefined;
    }
    const first = marks[0] as Mark<T>;
    return { value: first.value, span: { start: first.start, end: first.end } };
  }

  private pickNumber(marks: Mark<number>[], code: SignalErrorCode, what: string): Picked<number> | null | undefined {
    return this.pick(marks, (v) => String(v), code, what);
  }

  private checkPrice(value: number, span: Span, what: string): boolean {
    if (value >= MIN_PRICE && value <= MAX_AMOUNT) return true;
    const problem = value <= 0 ? "must be positive" : value < MIN_PRICE ? "is too small" : "is too large";
    this.error("INVALID_PRICE", `The ${what} ${formatDecimal(value)} ${problem}.`, span);
    return false;
  }

  private checkEntry(entry: Picked<Entry>): boolean {
    const prices = "price" in entry.value ? [entry.value.price] : [entry.value.low, entry.value.high];
    return prices.map((price) => this.checkPrice(price, entry.span, "entry")).every(Boolean);
  }

  private checkQuantity(quantity: Picked<number> | null | undefined): boolean {
    if (!quantity) return true;
    if (quantity.value <= 0)
      this.error(
        "INVALID_QUANTITY",
        `The quantity must be positive, not ${formatDecimal(quantity.value)}.`,
        quantity.span,
      );
    else if (quantity.value < MIN_AMOUNT) this.error("INVALID_QUANTITY", "The quantity is too small.", quantity.span);
    else if (quantity.value > MAX_AMOUNT) this.error("INVALID_QUANTITY", "The quantity is too large.", quantity.span);
    else return true;
    return false;
  }

  private checkPercent(percent: Picked<number> | null | undefined): boolean {
    if (!percent || (percent.value >= MIN_AMOUNT && percent.value <= 100)) return true;
    this.error(
      "INVALID_PERCENT",
      `A percent is more than 0 and at most 100, not ${formatDecimal(percent.value)}.`,
      percent.span,
    );
    return false;
  }

  private checkLeverage(leverage: Picked<number> | null | undefined): boolean {
    if (!leverage || (leverage.value >= 1 && leverage.value <= MAX_LEVERAGE)) return true;
    this.error(
      "INVALID_LEVERAGE",
      `Leverage is from 1x to ${MAX_LEVERAGE}x, not ${formatDecimal(leverage.value)}x.`,
      leverage.span,
    );
    return false;
  }
}

interface FieldSpans {
  symbol?: Span;
  entry?: Span;
  quantity?: Span;
  quantityPercent?: Span;
  stopLoss?: Span;
  leverage?: Span;
  option?: Span;
  takeProfits?: Span[];
}

/** A picked field as the draft holds it: undefined when unknown (conflicting or invalid), null when absent. */
function draftValue<T>(picked: Picked<T> | null | undefined): T | null | undefined {
  return picked === undefined ? undefined : (picked?.value ?? null);
}

/**
 * The order type and entry: a written order type wins; "market" drops the entry but keeps it as the reference
 * that checks the stop and targets ("@ 190 MKT"); otherwise a price makes a limit order and no price a market one.
 */
function resolveOrder(
  mark: Picked<OrderType> | null | undefined,
  entry: Picked<Entry> | null | undefined,
): { orderType: OrderType; entry: Entry | null; reference?: Entry } | undefined {
  if (mark === undefined || entry === undefined) return undefined;
  if (mark?.value === "market") return { orderType: "market", entry: null, reference: entry?.value };
  if (mark) return { orderType: mark.value, entry: entry?.value ?? null };
  return { orderType: entry ? "limit" : "market", entry: entry?.value ?? null };
}

function entryText(entry: Entry): string {
  return "price" in entry ? String(entry.price) : `${entry.low}-${entry.high}`;
}

function spanOf(spans: Span[]): Span {
  return {
    start: Math.min(...spans.map((s) => s.start)),
    end: Math.max(...spans.map((s) => s.end)),
  };
}

const FIELD_CODES: Record<string, SignalErrorCode> = {
  action: "UNKNOWN_SIDE",
  symbol: "UNKNOWN_SYMBOL",
  assetClass: "UNKNOWN_SYMBOL",
  option: "OPTION_MISSING_STRIKE",
  orderType: "INVALID_ORDER_TYPE",
  entry: "INVALID_PRICE",
  quantity: "INVALID_QUANTITY",
  quantityPercent: "INVALID_PERCENT",
  stopLoss: "INVALID_PRICE",
  takeProfits: "INVALID_PRICE",
  leverage: "INVALID_LEVERAGE",
  timeInForce: "AMBIGUOUS_TIME_IN_FORCE",
};

function issueCode(issue: { path: PropertyKey[] }): SignalErrorCode {
  const params = "params" in issue ? (issue.params as { signalCode?: SignalErrorCode } | undefined) : undefined;
  return params?.signalCode ?? FIELD_CODES[String(issue.path[0])] ?? "NOT_A_SIGNAL";
}

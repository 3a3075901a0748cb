import { readCommentary } from "./commentary";
import { daysFromToday, resolveExpiration } from "./dates";
import { MAX_SIGNAL_TEXT_LENGTH, type ParseResult, type SignalError, type SignalErrorCode } from "./errors";
import { tokenize } from "./lexer";
import { formatDecimal } from "./numbers";
import {
  type BareNumber,
  type Candidate,
  type Mark,
  type RightMark,
  type Scan,
  type SideMark,
  type Span,
  scanTokens,
} from "./scan";
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
import { severalSignals } from "./several";
import { EQUITY_SYMBOL } from "./symbols";
import { readTrailingStops, trailsInForce } from "./trailing-stop";

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
  const result = parseOne(text, options);
  if (result.ok || typeof text !== "string" || text.length > MAX_SIGNAL_TEXT_LENGTH) return result;
  const several = severalSignals(text, (item) => parseOne(item, options));
  return several ? failure([several]) : result;
}

/** One signal from the whole text. */
function parseOne(text: string, options: ParseOptions): ParseResult {
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
  // U+2024 (one dot leader) stands in for a decimal point where apps would otherwise turn "245.50" into a link.
  const tokens = tokenize(text.includes("\u2024") ? text.replace(/\u2024/g, ".") : text);
  const written = readTrailingStops(tokens);
  const commentary = readCommentary(tokens, { shielded: written.consumed, heads: written.heads });
  const { refusals, later } = commentary;
  if (refusals.length > 0) return failure([primaryRefusal(refusals)]);
  const trailingStops = trailsInForce(written, commentary.ignored);
  const ignored = tokens.map((_, i) => Boolean(commentary.ignored[i] || trailingStops.consumed[i]));
  const scan = scanTokens(tokens, { ignored, trailingStops });
  // "Close half AAPL if TP1 hit": an exit that waits for a condition is not an exit now
  if (later && scan.sides.some((side) => isExit(side.value.action))) return failure([later]);
  const resolver = new Resolver(text, scan, now);
  const result = resolver.resolve();
  if (result.ok || !resolver.symbolMissing || scan.tickerFallback === null) return result;
  // "BUY MA qty 1": with no other symbol, the capitalized word in the symbol's place is the symbol.
  const forced = scanTokens(tokens, { ignored, trailingStops, forcedTicker: scan.tickerFallback });
  const second = new Resolver(text, forced, now).resolve();
  return second.ok ? second : result;
}

function isExit(action: SignalAction): boolean {
  return action === "sell" || action === "cover" || action === "close";
}

/** A management instruction outranks a result report, which outranks a negation, when a message has several. */
const REFUSAL_ORDER: SignalErrorCode[] = ["MANAGEMENT_MESSAGE", "RESULT_REPORT", "NEGATED_SIGNAL"];

function primaryRefusal(refusals: SignalError[]): SignalError {
  const rank = (error: SignalError) => REFUSAL_ORDER.indexOf(error.code);
  return refusals.reduce((best, error) => (rank(error) < rank(best) ? error : best));
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
  /** No word could be a symbol (a second reading may take the word in the symbol's place). */
  symbolMissing = false;
  /** The side and symbol as written ("BUY MSFT"), for the corrected examples in messages. */
  private head: { side: Span; symbol: Span } | null = null;
  /** Option words that count (in the trade's sentence). */
  private optionHints: Span[] = [];

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
    const { rights, optionHints } = this.optionWordsInTrade();
    this.optionHints = optionHints;
    const strongOption = optionHints.length + scan.strikes.length + rights.length + scan.zeroDte.length > 0;
    let optionIntent = strongOption || dates.length > 0;
    const optionSide = scan.sides.some((side) => side.value.option);
    if (optionIntent && !strongOption && !optionSide && this.chooseSymbol(scan.candidates, false)?.crypto) {
      optionIntent = false; // a date beside a coin is not an option expiration (but "BTO SOL 12/20" is an option)
    }

    let sides = scan.sides;
    let candidates = scan.candidates;
    const btc = scan.btcWords[0];
    if (btc && this.buyToClose(btc, optionIntent)) {
      // "BTC SPY 450P ..." and "BTC AAPL 10 @ 180": buy to close, not Bitcoin.
      const cover: SideMark = {
        value: { action: "cover", option: true },
        start: btc.start,
        end: btc.end,
        tokenIndex: btc.tokenIndex,
        sentence: btc.sentence,
      };
      sides = [...sides, cover];
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

    const sideWritten = this.resolveSide(sides, sideProblem);
    const partial = sides.some((s) => s.value.partial);

    const choice = this.chooseSymbol(candidates, optionIntent, true);
    const assetClass: AssetClass | undefined = choice
      ? optionIntent
        ? "option"
        : choice.crypto
          ? "crypto"
          : "equity"
      : undefined;
    const sideSpan = sides.length > 0 ? spanOf(sides) : undefined;
    if (sideSpan && choice) this.head = { side: sideSpan, symbol: choice.span };

    const anchor = choice?.tokenIndex ?? (Number.isFinite(firstCandidate) ? firstCandidate : Number.POSITIVE_INFINITY);
    const numbers = this.assignNumbers(begin, anchor, optionIntent, assetClass);
    const action = this.opensShort(sideWritten, sides, assetClass, numbers.leverages) ? "short" : sideWritten;

    const option = optionIntent && choice ? this.resolveOption(choice.symbol, numbers.strikes, dates, rights) : null;
    if (optionIntent && !choice) this.resolveOption("", numbers.strikes, dates, rights); // report its own problems too

    const quantity = this.pickNumber(numbers.quantities, "AMBIGUOUS_QUANTITY", "quantity");
    const quantityPercent = this.pickNumber(scan.percents, "AMBIGUOUS_QUANTITY", "percent of the position");
    const leverage = this.pickNumber(numbers.leverages, "AMBIGUOUS_LEVERAGE", "leverage");
    let stop = this.pickNumber(scan.stops, "AMBIGUOUS_STOP", "stop-loss");
    const trail = this.pick(scan.trailingStops, (t) => JSON.stringify(t), "AMBIGUOUS_STOP", "trailing stop");
    let entry = this.pick(numbers.entries, entryText, "AMBIGUOUS_ENTRY", "entry");
    const timeInForce = this.pick(scan.timesInForce, String, "AMBIGUOUS_TIME_IN_FORCE", "time in force");
    const orderTypes =
      scan.triggers.length > 0 ? [...scan.orderTypes, ...this.triggerOrderTypes(action)] : scan.orderTypes;
    const orderTypeMark = this.pick(orderTypes, String, "AMBIGUOUS_ORDER_TYPE", "order type");

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
      // Written only when present, so a signal without one reads exactly as before the field existed.
      ...(trail ? { trailingStop: trail.value } : {}),
      takeProfits: takeProfits?.map((t) => t.value),
      leverage: draftValue(validLeverage),
      timeInForce: draftValue(timeInForce),
    };
    this.reportRuleViolations(draft, order?.reference, {
      action: sideSpan,
      symbol: choice?.span,
      entry: entry?.span ?? orderTypeMark?.span ?? undefined,
      quantity: quantity?.span ?? undefined,
      quantityPercent: quantityPercent?.span ?? undefined,
      stopLoss: stop?.span ?? undefined,
      trailingStop: trail && stop ? spanOf([trail.span, stop.span]) : (trail?.span ?? undefined),
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

  private written(span: Span): string {
    return this.text.slice(span.start, span.end);
  }

  /**
   * "call(s)", "put(s)" and option words written without a strike count where the trade is written: in a sentence
   * with the side, unless the symbol is only named elsewhere ("SPY calls\nBTO @ .85"). So "NVDA calls printing.
   * BUY NVDA 15 @ 121.40" stays a stock trade.
   */
  private optionWordsInTrade(): { rights: RightMark[]; optionHints: Span[] } {
    const { scan } = this;
    const bare = scan.rights.some((r) => r.bare);
    if (!bare && scan.optionHints.length === 0) return { rights: scan.rights, optionHints: scan.optionHints };
    const tradeSentences = new Set<number>();
    for (const side of scan.sides) tradeSentences.add(side.sentence);
    let symbolInTrade = false;
    for (const candidate of scan.candidates) if (tradeSentences.has(candidate.sentence)) symbolInTrade = true;
    if (!symbolInTrade) return { rights: scan.rights, optionHints: scan.optionHints };
    const afterTheTrade = this.commentaryAfterStockTrade();
    return {
      rights: scan.rights.filter((r) => !r.bare || (tradeSentences.has(r.sentence) && !afterTheTrade(r))),
      optionHints: scan.optionHints.filter((hint) => tradeSentences.has(hint.sentence)),
    };
  }

  /**
   * A bare "calls"/"puts" written after a complete stock trade's prices ("BUY NVDA 15 @ 121.40 SL 115 TP 130 — calls
   * printing") is commentary: with no expiration, strike or contract word anywhere, the layout can only be a stock
   * trade. Before the prices ("BUY NVDA calls @ 2.50") it still asks for an option's contract.
   */
  private commentaryAfterStockTrade(): (right: RightMark) => boolean {
    const { scan } = this;
    const contractWritten =
      scan.dates.length > 0 ||
      scan.zeroDte.length > 0 ||
      scan.strikes.length > 0 ||
      scan.optionHints.length > 0 ||
      scan.rights.some((r) => !r.bare);
    const prices = [...scan.entries, ...scan.stops, ...scan.targets];
    if (contractWritten || prices.length === 0) return () => false;
    const lastPrice = Math.max(...prices.map((price) => price.end));
    return (right) => right.start >= lastPrice;
  }

  /**
   * An untagged "BTC" is buy to close when an option contract follows it, or, with no other side, when a stock
   * ticker comes right after it ("BTC AAPL 10 @ 180"); otherwise it is Bitcoin.
   */
  private buyToClose(btc: Candidate, optionIntent: boolean): boolean {
    const after = this.scan.candidates.filter((c) => c.tokenIndex > btc.tokenIndex);
    if (optionIntent) return after.length > 0;
    const next = after[0];
    return this.scan.sides.length === 0 && next?.tokenIndex === btc.tokenIndex + 1 && next.reading.form === "equity";
  }

  /**
   * A crypto SELL opens a short where the layout makes that certain: with leverage, or on a perpetual with a stop
   * or targets. Any other exit with a stop or targets is refused by the rules (an exit carries neither).
   */
  private opensShort(
    action: SignalAction | undefined,
    sides: SideMark[],
    assetClass: AssetClass | undefined,
    leverages: Mark<number>[],
  ): boolean {
    if (action !== "sell" || assetClass !== "crypto" || sides.some((s) => s.value.option)) return false;
    const protectedTrade = this.scan.stops.length > 0 || this.scan.targets.length > 0;
    return leverages.length > 0 || (this.scan.perpetual && protectedTrade);
  }

  /**
   * Breakout words: buying above (or selling below) a level is a stop order there, buying below (or selling
   * above) a limit order; "break" is a stop order either way. A close could be either side, so it is refused.
   */
  private triggerOrderTypes(action: SignalAction | undefined): Mark<OrderType>[] {
    const marks: Mark<OrderType>[] = [];
    if (action === undefined) return marks;
    for (const trigger of this.scan.triggers) {
      if (action === "close") {
        this.error(
          "AMBIGUOUS_ORDER_TYPE",
          `"${this.written(trigger)}" on a close depends on whether the position is long or short: write SELL or COVER, or the order type ("stop" or "limit").`,
          trigger,
        );
        continue;
      }
      const buying = action === "buy" || action === "cover";
      const breakout = trigger.value === "break" || (trigger.value === "above") === buying;
      marks.push({ value: breakout ? "stop" : "limit", start: trigger.start, end: trigger.end });
    }
    return marks;
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
          this.symbolMissing = true;
          this.error(
            "UNKNOWN_SYMBOL",
            'No symbol: write a ticker or a crypto pair, e.g. "BUY AAPL @ 190" or "LONG BTC/USDT"; a ticker that is also a word can be tagged ($ON).',
          );
        }
      }
      return undefined;
    }
    const tier = Math.min(...usable.map((u) => u.candidate.tier));
    const top = usable.filter((u) => u.candidate.tier === tier);
    const distinct = withoutCoinsOfAPair([...new Map(top.map((u) => [`${u.crypto}:${u.symbol}`, u])).values()]);
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
    const chosen = distinct[0] as (typeof top)[number];
    const first = top.find((u) => u.symbol === chosen.symbol && u.crypto === chosen.crypto) ?? chosen;
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
   * when neither is, the price beside a trailing stop (which trails from a price, as "BUY AAPL 190 TS 2%"), else the
   * price if it is within a factor of 2 of the stop (or first target), else the quantity.
   */
  private assignNumbers(begin: number, anchor: number, option: boolean, assetClass: AssetClass | undefined) {
    const crypto = assetClass === "crypto";
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
      else if (!hasEntry && (hasQuantity || scan.trailWritten)) asEntry();
      else if (!hasEntry && !hasQuantity && reference !== undefined && reference > 0) {
        const ratio = n.value / reference;
        if (ratio >= 0.5 && ratio <= 2) asEntry();
        else quantities.push(n);
      } else {
        this.ambiguousNumbers(after, assetClass);
      }
    } else if (after.length > 1) {
      this.ambiguousNumbers(after, assetClass);
    }
    return { entries, quantities, leverages, strikes };
  }

  /** "Is 5 the quantity or the price?", with both corrected texts: "BUY MSFT 5 shares", "BUY MSFT @ 5". */
  private ambiguousNumbers(numbers: BareNumber[], assetClass: AssetClass | undefined): void {
    const head = this.head ? `${this.written(this.head.side)} ${this.written(this.head.symbol)}` : "BUY AAPL";
    for (const n of numbers) {
      const written = this.written(n);
      const amount =
        assetClass === "option"
          ? `${written} contracts`
          : assetClass === "crypto"
            ? `qty ${written}`
            : `${written} shares`;
      this.error(
        "AMBIGUOUS_NUMBER",
        `Is ${written} the quantity or the price? For a quantity write "${head} ${amount}"; for a limit price write "${head} @ ${written}".`,
        n,
      );
    }
  }

  private resolveOption(
    underlying: string,
    strikes: Mark<number>[],
    dates: Scan["dates"],
    rights: RightMark[],
  ): OptionContract | undefined {
    const { scan } = this;
    const strike = this.pickNumber(strikes, "AMBIGUOUS_OPTION", "strike");
    const right = this.pick(rights, String, "AMBIGUOUS_OPTION", "call or put");
    // A missing part is pointed at the contract as written so far ("calls", "12/20", "190C").
    const parts: Span[] = [...strikes, ...rights, ...dates, ...scan.zeroDte, ...this.optionHints];
    const contract = parts.length > 0 ? spanOf(parts) : this.whole;
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
        'The option has no strike: write it with its right, e.g. "BTO AAPL 12/20 190C @ 2.50". For shares, leave out "calls"/"puts".',
        contract,
      );
    if (right === null)
      this.error(
        "OPTION_MISSING_RIGHT",
        'Call or put? Write the strike as "190C"/"190P" or add "call"/"put", e.g. "BTO AAPL 12/20 190C @ 2.50".',
        contract,
      );
    const dateProblem = this.errors.some((e) => e.code === "INVALID_DATE");
    if (expiration === null && !dateProblem) {
      this.error(
        "OPTION_MISSING_EXPIRATION",
        'The option has no expiration: write a date such as "12/20", "1/15/2027" or "2026-12-18", e.g. "BTO AAPL 12/20 190C @ 2.50".',
        contract,
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
  action?: Span;
  symbol?: Span;
  entry?: Span;
  quantity?: Span;
  quantityPercent?: Span;
  stopLoss?: Span;
  trailingStop?: Span;
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

/**
 * "#SOL … SOL/USDT": a bare coin and a pair of the same coin name one market, the pair. Anything else stays
 * as it is (two different symbols remain ambiguous).
 */
function withoutCoinsOfAPair<T extends { candidate: Candidate; symbol: string }>(usable: T[]): T[] {
  if (usable.length < 2) return usable;
  const pairBases = new Set(
    usable.filter((u) => u.candidate.reading.form === "pair").map((u) => u.symbol.split("/")[0] as string),
  );
  return usable.filter((u) => u.candidate.reading.form !== "coin" || !pairBases.has(u.symbol.split("/")[0] as string));
}

function spanOf(spans: Span[]): Span {
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  for (const span of spans) {
    if (span.start < start) start = span.start;
    if (span.end > end) end = span.end;
  }
  return { start, end };
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
  trailingStop: "INVALID_PRICE",
  takeProfits: "INVALID_PRICE",
  leverage: "INVALID_LEVERAGE",
  timeInForce: "AMBIGUOUS_TIME_IN_FORCE",
};

function issueCode(issue: { path: PropertyKey[] }): SignalErrorCode {
  const params = "params" in issue ? (issue.params as { signalCode?: SignalErrorCode } | undefined) : undefined;
  return params?.signalCode ?? FIELD_CODES[String(issue.path[0])] ?? "NOT_A_SIGNAL";
}

import type { SignalError } from "./errors";
import type { DateToken, NumberToken, Token, WordToken } from "./lexer";
import type { Entry, OrderType, TimeInForce } from "./schema";
import { KNOWN_CRYPTO_BASES, readSymbolWord, type SymbolReading } from "./symbols";
import {
  BUY_TO_CLOSE_ABBREVIATION,
  DAY_NOT_TIF_NEXT,
  DAY_NOT_TIF_PREVIOUS,
  EQUITY_HINT_WORDS,
  FULL_MONTHS,
  LABEL_FILLER,
  LABEL_PHRASES,
  type LabelKind,
  labelOf,
  OPTION_HINT_WORDS,
  ORDER_TYPE_WORDS,
  RIGHT_WORDS,
  SIDE_PHRASES,
  SIDE_WORDS,
  type SideWord,
  STOPWORDS,
  TIME_IN_FORCE_WORDS,
  UNIT_WORDS,
} from "./vocabulary";

/**
 * One walk over the tokens that records every mark a signal is made of (sides, symbol candidates,
 * labeled values, option parts, unlabeled numbers) with where it was written. Nothing is decided here
 * that needs the whole message; `parser.ts` resolves the marks.
 */

export interface Span {
  start: number;
  end: number;
}
export interface Mark<T> extends Span {
  value: T;
}
export interface Indexed {
  /** Position of the mark's first token, to tell what was written before the symbol. */
  tokenIndex: number;
}

export interface SideMark extends Mark<SideWord>, Indexed {}

export interface Candidate extends Span, Indexed {
  reading: SymbolReading;
  /** The word itself, upper case, without a tag (for reading a coin-like word as a stock ticker). */
  raw: string;
  /** 1: tagged ($AAPL, #BTC) or an explicit pair; 2: capitals or a known coin; 3: other ticker-shaped words. */
  tier: 1 | 2 | 3;
}

export interface TargetMark extends Span {
  price: number;
  percent: Mark<number> | null;
}

export interface BareNumber extends Mark<number>, Indexed {
  dollar: boolean;
}

export interface DateMark extends Span, Indexed {
  year: number | null;
  month: number;
  day: number;
}

export interface Scan {
  sides: SideMark[];
  /** Untagged "BTC" words: Bitcoin, or "buy to close" before an option contract. */
  btcWords: Candidate[];
  candidates: Candidate[];
  invalidTagged: Span[];
  entries: Mark<Entry>[];
  orderTypes: Mark<OrderType>[];
  stops: Mark<number>[];
  targets: TargetMark[];
  quantities: Mark<number>[];
  percents: Mark<number>[];
  leverages: Mark<number>[];
  /** "2x" with no label: contracts or shares, or leverage for crypto. */
  multipliers: (Mark<number> & Indexed)[];
  timesInForce: Mark<TimeInForce>[];
  strikes: Mark<number>[];
  rights: Mark<"call" | "put">[];
  dates: DateMark[];
  zeroDte: Span[];
  bare: BareNumber[];
  /** Unlabeled "250-252": an entry zone. */
  bareRanges: (Mark<Entry> & Indexed)[];
  optionHints: Span[];
  equityHint: boolean;
  /** A labeled price, stop, target or leverage was written: the message is meant as a signal. */
  structured: boolean;
  errors: SignalError[];
}

interface Mode {
  kind: LabelKind;
  span: Span;
}

interface RangeRead {
  low: number;
  high: number;
  end: number;
  /** Index of the last token of the range. */
  last: number;
}

export function scanTokens(tokens: Token[]): Scan {
  return new Scanner(tokens).run();
}

class Scanner {
  private readonly scan: Scan = {
    sides: [],
    btcWords: [],
    candidates: [],
    invalidTagged: [],
    entries: [],
    orderTypes: [],
    stops: [],
    targets: [],
    quantities: [],
    percents: [],
    leverages: [],
    multipliers: [],
    timesInForce: [],
    strikes: [],
    rights: [],
    dates: [],
    zeroDte: [],
    bare: [],
    bareRanges: [],
    optionHints: [],
    equityHint: false,
    structured: false,
    errors: [],
  };
  private mode: Mode | null = null;
  /** Index of the last token of the latest side word ("BUY STOP" is a stop order). */
  private lastSideToken = -2;
  private lastTargetToken = -2;
  private entryList: Mark<Entry> | null = null;

  constructor(private readonly tokens: Token[]) {}

  run(): Scan {
    for (let i = 0; i < this.tokens.length; i++) {
      const token = this.tokens[i] as Token;
      switch (token.kind) {
        case "word":
          i = this.onWord(token, i);
          break;
        case "number":
          i = this.onNumber(token, i);
          break;
        case "percent":
          // "+2.6%" beside a price is a note; "SL -2%" is still a stop written as a percent (an error).
          if (!token.change || this.mode?.kind === "stop" || this.mode?.kind === "entry") {
            this.onPercent(token.value, token, i);
          }
          break;
        case "mult":
          this.onMultiplier(token.value, token, i);
          break;
        case "strike":
          this.scan.strikes.push({ value: token.value, start: token.start, end: token.end });
          this.scan.rights.push({ value: token.right, start: token.start, end: token.end });
          this.mode = null;
          break;
        case "date":
          this.onDate(token, i);
          break;
        case "dte":
          if (token.days === 0) this.scan.zeroDte.push(token);
          else this.error("INVALID_DATE", `Only 0DTE is read; write the expiration date instead.`, token);
          this.mode = null;
          break;
        case "punct":
          if (token.char === "@" && this.mode?.kind !== "stop" && this.mode?.kind !== "targets") {
            this.mode = { kind: "entry", span: token };
          }
          break;
        case "index":
        case "junk":
          break;
      }
    }
    return this.scan;
  }

  private error(code: SignalError["code"], message: string, span: Span): void {
    this.scan.errors.push({ code, message, start: span.start, end: span.end });
  }

  private wordAt(index: number): WordToken | undefined {
    const token = this.tokens[index];
    return token?.kind === "word" && token.tag === null ? token : undefined;
  }

  private numberAt(index: number): NumberToken | undefined {
    const token = this.tokens[index];
    return token?.kind === "number" ? token : undefined;
  }

  /** A value follows (a label's own value), possibly after a colon: "leverage: 5x". */
  private valueAt(index: number): boolean {
    const token = this.tokens[index];
    const value = token?.kind === "punct" && token.char === ":" ? this.tokens[index + 1] : token;
    return value?.kind === "number" || value?.kind === "mult";
  }

  private onWord(word: WordToken, i: number): number {
    if (word.tag === "$") {
      this.addCandidate(word, i, 1);
      this.mode = null;
      return i;
    }
    const lower = word.lower;
    const upperText = word.text.toUpperCase();
    // A coin written in capitals is the coin even when the word is also English ("NEAR", "LINK").
    if (word.upper && KNOWN_CRYPTO_BASES.has(upperText) && lower !== BUY_TO_CLOSE_ABBREVIATION) {
      this.addCandidate(word, i, word.tag ? 1 : 2);
      this.mode = null;
      return i;
    }

    const next = this.wordAt(i + 1)?.lower;
    const afterNext = this.wordAt(i + 2)?.lower;
    const phrase3 = next && afterNext ? SIDE_PHRASES[`${lower} ${next} ${afterNext}`] : undefined;
    if (phrase3) return this.addSide(phrase3, word, i + 2);
    const phrase2 = next ? SIDE_PHRASES[`${lower} ${next}`] : undefined;
    if (phrase2) return this.addSide(phrase2, word, i + 1);
    const labelPhrase = next ? LABEL_PHRASES[`${lower} ${next}`] : undefined;
    if (labelPhrase) {
      this.setMode(labelPhrase, word, this.tokens[i + 1] as Span);
      return i + 1;
    }

    if (lower === "stop" || lower === "stp") {
      if (next === "limit" || next === "lmt") {
        this.addOrderType("stop_limit", word, this.tokens[i + 1] as Span);
        this.mode = { kind: "entry", span: word };
        return i + 1;
      }
      if (next === "order" || this.lastSideToken === i - 1) {
        const end = next === "order" ? (this.tokens[i + 1] as Span) : word;
        this.addOrderType("stop", word, end);
        this.mode = { kind: "entry", span: word };
        return next === "order" ? i + 1 : i;
      }
    }

    const side = SIDE_WORDS[lower];
    if (side) return this.addSide(side, word, i);
    if (lower === BUY_TO_CLOSE_ABBREVIATION) {
      this.addCandidate(word, i, word.tag ? 1 : 2);
      this.mode = null;
      return i;
    }

    if (this.mode?.kind === "direction") {
      this.error("UNKNOWN_SIDE", `"${word.text}" is not a side; write buy/long, sell, short, cover or close.`, word);
      this.mode = null;
      return i;
    }

    const orderType = ORDER_TYPE_WORDS[lower];
    if (this.mode && LABEL_FILLER[this.mode.kind].has(lower)) {
      if (orderType === "limit") this.addOrderType("limit", word, word);
      return i;
    }
    if (this.mode?.kind === "entry" && (lower === "now" || orderType === "market")) {
      this.addOrderType("market", word, word);
      this.mode = null;
      return i;
    }

    const label = labelOf(lower);
    if (label) {
      this.setMode(label, word, word);
      return i;
    }
    if (orderType) {
      if (orderType !== "market" || this.marketMeantAsOrder(word, i)) this.addOrderType(orderType, word, word);
      this.mode = orderType === "stop_limit" ? { kind: "entry", span: word } : null;
      return i;
    }
    const timeInForce = TIME_IN_FORCE_WORDS[lower];
    if (timeInForce && (timeInForce !== "day" || this.dayMeantAsTimeInForce(i))) {
      this.scan.timesInForce.push({ value: timeInForce, start: word.start, end: word.end });
      this.mode = null;
      return i;
    }
    const right = RIGHT_WORDS[lower];
    if (right) {
      this.scan.rights.push({ value: right, start: word.start, end: word.end });
      this.mode = null;
      return i;
    }
    if (UNIT_WORDS.has(lower) && this.numberAt(i + 1)) {
      this.noteHints(lower, word);
      this.setMode("quantity", word, word);
      return i;
    }
    this.noteHints(lower, word);
    const month = FULL_MONTHS[lower];
    if (month !== undefined) return this.onMonthName(month, word, i);
    if (lower === "half") {
      this.scan.percents.push({ value: 50, start: word.start, end: word.end });
      return i;
    }

    this.addCandidate(word, i, word.tag ? 1 : word.upper ? 2 : 3);
    this.mode = null;
    return i;
  }

  private noteHints(lower: string, span: Span): void {
    if (EQUITY_HINT_WORDS.has(lower)) this.scan.equityHint = true;
    if (OPTION_HINT_WORDS.has(lower)) this.scan.optionHints.push({ start: span.start, end: span.end });
  }

  private addSide(side: SideWord, first: Span, lastIndex: number): number {
    const last = this.tokens[lastIndex] as Span;
    this.scan.sides.push({ value: side, start: first.start, end: last.end, tokenIndex: lastIndex });
    if (side.option) this.scan.optionHints.push({ start: first.start, end: last.end });
    this.lastSideToken = lastIndex;
    this.mode = null;
    return lastIndex;
  }

  private setMode(kind: LabelKind, first: Span, last: Span): void {
    this.mode = { kind, span: { start: first.start, end: last.end } };
    if (kind === "entries") this.entryList = null;
    if (kind === "expiration" || kind === "strike") this.scan.optionHints.push(this.mode.span);
  }

  private addOrderType(value: OrderType, first: Span, last: Span): void {
    this.scan.orderTypes.push({ value, start: first.start, end: last.end });
  }

  /** "market" is an order type in "BUY 10 AAPL market" or "at market", not in "the market looks weak". */
  private marketMeantAsOrder(word: WordToken, i: number): boolean {
    if (word.upper) return true;
    const next = this.tokens[i + 1];
    if (next === undefined || next.kind !== "word") return true;
    if (["order", "price", "buy", "sell", "entry", "now"].includes(next.lower)) return true;
    const previous = this.tokens[i - 1];
    return this.lastSideToken === i - 1 || (previous?.kind === "word" && previous.tag === "$");
  }

  private dayMeantAsTimeInForce(i: number): boolean {
    const next = this.wordAt(i + 1)?.lower;
    const previous = this.wordAt(i - 1)?.lower;
    return !(next && DAY_NOT_TIF_NEXT.has(next)) && !(previous && DAY_NOT_TIF_PREVIOUS.has(previous));
  }

  private addCandidate(word: WordToken, i: number, tier: 1 | 2 | 3): void {
    const raw = word.text.toUpperCase();
    const span = { start: word.start, end: word.end };
    if (word.text.includes("'")) return;
    const reading = readSymbolWord(raw);
    if (!reading) {
      if (word.tag === "$") this.scan.invalidTagged.push(span);
      return;
    }
    if (word.tag !== "$") {
      const english = STOPWORDS.has(word.lower) || FULL_MONTHS[word.lower] !== undefined;
      if (reading.form === "equity" && english) return;
      if (reading.form === "coin" && english && !word.upper) return;
    }
    const effectiveTier = reading.form === "pair" ? 1 : reading.form === "coin" ? Math.min(tier, 2) : tier;
    const candidate: Candidate = { reading, raw, tier: effectiveTier as 1 | 2 | 3, tokenIndex: i, ...span };
    this.scan.candidates.push(candidate);
    if (word.lower === BUY_TO_CLOSE_ABBREVIATION && word.tag === null) this.scan.btcWords.push(candidate);
  }

  private onMonthName(month: number, word: WordToken, i: number): number {
    const day = this.numberAt(i + 1);
    if (!day || day.dollar || day.negative || !Number.isInteger(day.value) || day.value < 1 || day.value > 31) {
      this.mode = null;
      return i;
    }
    let last = i + 1;
    let year: number | null = null;
    const comma = this.tokens[last + 1];
    const yearIndex = comma?.kind === "punct" && comma.char === "," ? last + 2 : last + 1;
    const yearToken = this.numberAt(yearIndex);
    if (yearToken && Number.isInteger(yearToken.value) && yearToken.value >= 2000 && yearToken.value <= 2100) {
      year = yearToken.value;
      last = yearIndex;
    }
    const end = (this.tokens[last] as Span).end;
    this.scan.dates.push({ year, month, day: day.value, start: word.start, end, tokenIndex: i });
    this.mode = null;
    return last;
  }

  /** "250-252", "250 - 252", "250 to 252", "between 250 and 252". */
  private rangeAt(i: number): RangeRead | null {
    const low = this.tokens[i];
    const separator = this.tokens[i + 1];
    const high = this.tokens[i + 2];
    if (low?.kind !== "number" || high?.kind !== "number" || high.negative) return null;
    const isSeparator =
      (separator?.kind === "punct" && separator.char === "-") ||
      (separator?.kind === "word" &&
        (separator.lower === "to" || (separator.lower === "and" && this.mode?.kind === "entry")));
    if (!isSeparator) return null;
    return {
      low: Math.min(low.value, high.value),
      high: Math.max(low.value, high.value),
      end: high.end,
      last: i + 2,
    };
  }

  private onNumber(token: NumberToken, i: number): number {
    const range = this.rangeAt(i);
    const nextWord = this.wordAt(i + 1)?.lower;
    if (!range && nextWord !== undefined) {
      const next = this.tokens[i + 1] as Span;
      if (UNIT_WORDS.has(nextWord)) {
        this.noteHints(nextWord, next);
        this.scan.quantities.push({ value: token.value, start: token.start, end: next.end });
        this.mode = null;
        return i + 1;
      }
      const right = RIGHT_WORDS[nextWord];
      if (right) {
        this.scan.strikes.push({ value: token.value, start: token.start, end: next.end });
        this.scan.rights.push({ value: right, start: token.start, end: next.end });
        this.mode = null;
        return i + 1;
      }
      if (nextWord === "strike") {
        this.scan.strikes.push({ value: token.value, start: token.start, end: next.end });
        this.scan.optionHints.push(next);
        this.mode = null;
        return i + 1;
      }
      if ((nextWord === "leverage" || nextWord === "lev") && !this.valueAt(i + 2)) {
        this.scan.leverages.push({ value: token.value, start: token.start, end: next.end });
        this.scan.structured = true;
        this.mode = null;
        return i + 1;
      }
    }
    const span = { start: token.start, end: range ? range.end : token.end };
    const mode = this.mode;
    switch (mode?.kind) {
      case "entry": {
        const entry: Entry = range
          ? range.low === range.high
            ? { price: range.low }
            : { low: range.low, high: range.high }
          : { price: token.value };
        this.scan.entries.push({ value: entry, ...span });
        this.scan.structured = true;
        this.mode = null;
        break;
      }
      case "entries":
        this.extendEntryList(range ? [range.low, range.high] : [token.value], span);
        this.scan.structured = true;
        break;
      case "stop":
        if (range) this.error("INVALID_PRICE", "A stop-loss is one price, not a range.", span);
        else this.scan.stops.push({ value: token.value, ...span });
        this.scan.structured = true;
        this.mode = null;
        break;
      case "targets":
        if (range) {
          const high = this.tokens[range.last] as NumberToken;
          this.pushTarget(token.value, token, i);
          this.pushTarget(high.value, high, range.last);
        } else {
          this.pushTarget(token.value, token, i);
        }
        this.scan.structured = true;
        break;
      case "leverage":
        if (range) this.error("INVALID_LEVERAGE", "Leverage is one number, not a range.", span);
        else this.scan.leverages.push({ value: token.value, ...span });
        this.scan.structured = true;
        this.mode = null;
        break;
      case "quantity":
        if (range) this.error("AMBIGUOUS_QUANTITY", "A quantity is one number, not a range.", span);
        else this.scan.quantities.push({ value: token.value, ...span });
        this.mode = null;
        break;
      case "strike":
        this.scan.strikes.push({ value: token.value, ...span });
        this.mode = null;
        break;
      case "risk":
        break; // advice ("risk 1-2%"), not part of the order; the label lasts until the next word

      default:
        this.mode = null;
        if (range) {
          const entry: Entry = range.low === range.high ? { price: range.low } : { low: range.low, high: range.high };
          this.scan.bareRanges.push({ value: entry, ...span, tokenIndex: i });
        } else {
          this.scan.bare.push({ value: token.value, dollar: token.dollar, ...span, tokenIndex: i });
        }
    }
    return range ? range.last : i;
  }

  /** "Entries: 1) 64000 2) 63500": several entry prices are one zone from the lowest to the highest. */
  private extendEntryList(prices: number[], span: Span): void {
    const list = this.entryList;
    if (list === null) {
      const low = Math.min(...prices);
      const high = Math.max(...prices);
      this.entryList = { value: low === high ? { price: low } : { low, high }, ...span };
      this.scan.entries.push(this.entryList);
      return;
    }
    const current = "price" in list.value ? [list.value.price] : [list.value.low, list.value.high];
    const low = Math.min(...current, ...prices);
    const high = Math.max(...current, ...prices);
    list.value = low === high ? { price: low } : { low, high };
    list.end = span.end;
  }

  private pushTarget(price: number, span: Span, index: number): void {
    this.scan.targets.push({ price, percent: null, start: span.start, end: span.end });
    this.lastTargetToken = index;
  }

  private onPercent(value: number, span: Span, i: number): void {
    const mode = this.mode?.kind;
    if (mode === "risk") return;
    if (mode === "targets") {
      const last = this.scan.targets[this.scan.targets.length - 1];
      const between = this.tokens.slice(this.lastTargetToken + 1, i);
      const adjacent = between.every((t) => t.kind === "punct");
      if (last && last.percent === null && adjacent) {
        last.percent = { value, start: span.start, end: span.end };
        return;
      }
    }
    this.mode = null;
    if (mode === "stop" || mode === "entry") {
      this.error("INVALID_PRICE", `${value}% is not a price; write the price itself.`, span);
    } else if (mode === "leverage") {
      this.error("INVALID_LEVERAGE", "Leverage is a multiple such as 5x, not a percent.", span);
    } else {
      this.scan.percents.push({ value, start: span.start, end: span.end });
    }
  }

  private onMultiplier(value: number, span: Span, i: number): void {
    const mode = this.mode?.kind;
    this.mode = null;
    const nextWord = this.wordAt(i + 1)?.lower;
    if (mode === "leverage" || ((nextWord === "leverage" || nextWord === "lev") && !this.valueAt(i + 2))) {
      this.scan.leverages.push({ value, start: span.start, end: span.end });
      this.scan.structured = true;
    } else if (mode === "quantity") {
      this.scan.quantities.push({ value, start: span.start, end: span.end });
    } else {
      this.scan.multipliers.push({ value, start: span.start, end: span.end, tokenIndex: i });
    }
  }

  private onDate(token: DateToken, i: number): void {
    const side = this.scan.sides[this.scan.sides.length - 1];
    const exit = side && side.value.action !== "buy" && side.value.action !== "short";
    if (exit && this.lastSideToken === i - 1 && token.slashed && token.month < token.day && token.day <= 10) {
      // "Trim 1/3 NVDA": a fraction of the position right after the side, not January 3rd.
      this.scan.percents.push({ value: (token.month * 100) / token.day, start: token.start, end: token.end });
      return;
    }
    if (this.mode?.kind === "targets" && token.slashed) {
      this.scan.targets.push({ price: token.month, percent: null, start: token.start, end: token.end });
      this.scan.targets.push({ price: token.day, percent: null, start: token.start, end: token.end });
      this.lastTargetToken = i;
      return;
    }
    this.scan.dates.push({
      year: token.year,
      month: token.month,
      day: token.day,
      start: token.start,
      end: token.end,
      tokenIndex: i,
    });
    this.mode = null;
  }
}

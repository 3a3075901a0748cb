import type { SignalError } from "./errors";
import type { DateToken, NumberToken, RatioToken, Token, WordToken } from "./lexer";
import { type Entry, MAX_TARGETS, type OrderType, type TimeInForce, type TrailDistance } from "./schema";
import {
  CRYPTO_QUOTES,
  type CryptoQuote,
  EQUITY_SYMBOL,
  isPerpetualWord,
  KNOWN_CRYPTO_BASES,
  readSymbolWord,
  type SymbolReading,
} from "./symbols";
import {
  BUY_TO_CLOSE_ABBREVIATION,
  DAY_NOT_TIF_NEXT,
  DAY_NOT_TIF_PREVIOUS,
  EQUITY_HINT_WORDS,
  FOREIGN_KEYWORDS,
  FULL_MONTHS,
  LABEL_FILLER,
  LABEL_PHRASES,
  type LabelKind,
  labelOf,
  NOT_AFTER_SIDE_TICKERS,
  OPTION_HINT_WORDS,
  ORDER_TYPE_WORDS,
  RIGHT_WORDS,
  SIDE_PHRASES,
  SIDE_WORDS,
  type SideWord,
  STOPWORDS,
  TIME_IN_FORCE_WORDS,
  TRIGGER_FILLER,
  TRIGGER_WORDS,
  type TriggerWord,
  UNIT_WORDS,
  UNTIL_WORDS,
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
interface Indexed {
  /** Position of the mark's first token, to tell what was written before the symbol. */
  tokenIndex: number;
}
interface InSentence {
  sentence: number;
}

export interface SideMark extends Mark<SideWord>, Indexed, InSentence {}

/** "call"/"put": with a strike ("190C", "190 call") or a bare word ("AAPL calls"), which may be commentary. */
export interface RightMark extends Mark<"call" | "put">, InSentence {
  bare: boolean;
}

export interface Candidate extends Span, Indexed, InSentence {
  reading: SymbolReading;
  /** The word itself, upper case, without a tag (for reading a coin-like word as a stock ticker). */
  raw: string;
  /** 1: tagged ($AAPL, #BTC) or an explicit pair; 2: capitals or a known coin; 3: other ticker-shaped words. */
  tier: 1 | 2 | 3;
}

interface TargetMark extends Span {
  price: number;
  percent: Mark<number> | null;
}

export interface BareNumber extends Mark<number>, Indexed {
  dollar: boolean;
}

interface DateMark extends Span, Indexed {
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
  /** Trailing stops read before the scan (trailing-stop.ts): their tokens are ignored here. */
  trailingStops: Mark<TrailDistance>[];
  /** A trailing stop was written, valid or not (it trails from a price, so a lone number is that price). */
  trailWritten: boolean;
  targets: TargetMark[];
  quantities: Mark<number>[];
  percents: Mark<number>[];
  leverages: Mark<number>[];
  /** "2x" with no label: contracts or shares, or leverage for crypto. */
  multipliers: (Mark<number> & Indexed)[];
  timesInForce: Mark<TimeInForce>[];
  strikes: Mark<number>[];
  rights: RightMark[];
  dates: DateMark[];
  zeroDte: Span[];
  bare: BareNumber[];
  /** Unlabeled "250-252": an entry zone. */
  bareRanges: (Mark<Entry> & Indexed)[];
  /** Words that say "option" ("contracts", "exp"), which may be commentary in another sentence. */
  optionHints: (Span & InSentence)[];
  equityHint: boolean;
  /** Breakout words before a price ("above 190", "on break of 190"): the order type depends on the side. */
  triggers: Mark<TriggerWord>[];
  /** A perpetual-futures pair or word (BTCUSDT.P, BTC-PERP, "perp", "futures"). */
  perpetual: boolean;
  /**
   * A word in capitals written right after the side ("BUY MA qty 1"): the symbol if nothing else is one, even
   * when it is also an English word or a keyword.
   */
  tickerFallback: number | null;
  /** A labeled price, stop, target or leverage was written: the message is meant as a signal. */
  structured: boolean;
  errors: SignalError[];
}

interface Mode {
  kind: LabelKind;
  span: Span;
  /** Token index of the label's last word (-1 for "@"): a list item's number is written right after it. */
  labelIndex: number;
}

export interface ScanOptions {
  /** Tokens that are commentary or advice (commentary.ts): not read. */
  ignored?: boolean[];
  /** A token to read as the ticker whatever the word is (the fallback of a second reading). */
  forcedTicker?: number;
  /** Trailing stops already read, with their problems: kept in the scan for the parser. */
  trailingStops?: { marks: Mark<TrailDistance>[]; errors: SignalError[] };
}

interface RangeRead {
  low: number;
  high: number;
  end: number;
  /** Index of the last token of the range. */
  last: number;
}

export function scanTokens(tokens: Token[], options: ScanOptions = {}): Scan {
  return new Scanner(tokens, options).run();
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
    trailingStops: [],
    trailWritten: false,
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
    triggers: [],
    perpetual: false,
    tickerFallback: null,
    structured: false,
    errors: [],
  };
  private mode: Mode | null = null;
  /** Index of the last token of the latest side word ("BUY STOP" is a stop order). */
  private lastSideToken = -2;
  private lastTargetToken = -2;
  private entryList: Mark<Entry> | null = null;
  /** Entry prices read so far (numbers a list item's number is counted against). */
  private entryCount = 0;
  private readonly ignored: boolean[];
  private readonly forcedTicker: number;

  constructor(
    private readonly tokens: Token[],
    options: ScanOptions,
  ) {
    this.ignored = options.ignored ?? [];
    this.forcedTicker = options.forcedTicker ?? -1;
    const trails = options.trailingStops;
    if (trails) {
      this.scan.trailingStops.push(...trails.marks);
      this.scan.errors.push(...trails.errors);
      if (trails.marks.length + trails.errors.length > 0) {
        this.scan.trailWritten = true;
        this.scan.structured = true;
      }
    }
  }

  run(): Scan {
    for (let i = 0; i < this.tokens.length; i++) {
      if (this.ignored[i]) continue;
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
          this.addRight(token.right, token, token, false);
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
            this.mode = { kind: "entry", span: token, labelIndex: -1 };
          }
          break;
        case "ratio":
          this.onRatio(token, i);
          break;
        case "index":
        case "check":
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

  /**
   * "10x leverage", "20 lev": the word names the number before it, on the same line, unless it has a value of its
   * own ("62000\nLeverage: Isolated 8x").
   */
  private leverageWordAfter(i: number): boolean {
    const word = this.wordAt(i + 1);
    if (!word || (word.lower !== "leverage" && word.lower !== "lev")) return false;
    if (word.line !== (this.tokens[i] as Token).line) return false;
    let j = isPunct(this.tokens[i + 2], ":") ? i + 3 : i + 2;
    while (this.wordAt(j) && LABEL_FILLER.leverage.has((this.wordAt(j) as WordToken).lower)) j++;
    return !this.valueAt(j);
  }

  /** A value follows (a label's own value), possibly after a colon: "leverage: 5x". */
  private valueAt(index: number): boolean {
    const token = this.tokens[index];
    const value = token?.kind === "punct" && token.char === ":" ? this.tokens[index + 1] : token;
    return value?.kind === "number" || value?.kind === "mult";
  }

  private onWord(word: WordToken, i: number): number {
    if (word.tag === "$" || i === this.forcedTicker) {
      this.addCandidate(word, i, 1, i === this.forcedTicker);
      this.mode = null;
      return i;
    }
    this.noteTickerFallback(word, i);
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
      this.setMode(labelPhrase, word, this.tokens[i + 1] as Span, i + 1);
      return i + 1;
    }

    if (lower === "stop" || lower === "stp") {
      if (next === "limit" || next === "lmt") {
        this.addOrderType("stop_limit", word, this.tokens[i + 1] as Span);
        this.mode = { kind: "entry", span: word, labelIndex: -1 };
        return i + 1;
      }
      const afterSide = this.lastSideToken === i - 1 && this.tokens[i - 1]?.line === word.line;
      if (next === "order" || afterSide) {
        const end = next === "order" ? (this.tokens[i + 1] as Span) : word;
        this.addOrderType("stop", word, end);
        this.mode = { kind: "entry", span: word, labelIndex: -1 };
        return next === "order" ? i + 1 : i;
      }
      if (!this.valueAt(i + 1) && this.trailingStop(word, i)) return i;
    }
    if (lower === "good" && UNTIL_WORDS.has(next ?? "") && afterNext?.startsWith("cancel")) {
      const last = this.tokens[i + 2] as Span;
      this.scan.timesInForce.push({ value: "gtc", start: word.start, end: last.end });
      this.mode = null;
      return i + 2;
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
    const trigger = TRIGGER_WORDS[lower];
    if (trigger && this.priceAhead(i + 1)) {
      this.scan.triggers.push({ value: trigger, start: word.start, end: word.end });
      this.mode = { kind: "entry", span: word, labelIndex: -1 };
      return i;
    }
    if (this.mode?.kind === "entry" && (lower === "now" || orderType === "market")) {
      this.addOrderType("market", word, word);
      this.mode = null;
      return i;
    }

    const label = labelOf(lower);
    if (label) {
      this.setMode(label, word, word, i);
      return i;
    }
    if (orderType) {
      if (orderType !== "market" || this.marketMeantAsOrder(word, i)) this.addOrderType(orderType, word, word);
      this.mode = orderType === "stop_limit" ? { kind: "entry", span: word, labelIndex: -1 } : null;
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
      this.addRight(right, word, word, true);
      this.mode = null;
      return i;
    }
    if (UNIT_WORDS.has(lower) && this.numberAt(i + 1)) {
      this.noteHints(lower, word);
      this.setMode("quantity", word, word, i);
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

  private noteHints(lower: string, token: Token): void {
    if (EQUITY_HINT_WORDS.has(lower)) this.scan.equityHint = true;
    if (OPTION_HINT_WORDS.has(lower)) this.addOptionHint(token, token);
    if (isPerpetualWord(lower)) this.scan.perpetual = true;
  }

  private addOptionHint(first: Token, last: Span): void {
    this.scan.optionHints.push({ start: first.start, end: last.end, sentence: first.sentence });
  }

  private addRight(value: "call" | "put", first: Token, last: Span, bare: boolean): void {
    this.scan.rights.push({ value, start: first.start, end: last.end, sentence: first.sentence, bare });
  }

  /**
   * BTO, STC and the like say "option" only together with a contract; alone they trade shares
   * ("BTO AAPL 10 @ 190"), so they leave no option hint.
   */
  private addSide(side: SideWord, first: Token, lastIndex: number): number {
    const last = this.tokens[lastIndex] as Span;
    this.scan.sides.push({
      value: side,
      start: first.start,
      end: last.end,
      tokenIndex: lastIndex,
      sentence: first.sentence,
    });
    this.lastSideToken = lastIndex;
    this.mode = null;
    return lastIndex;
  }

  private setMode(kind: LabelKind, first: Token, last: Span, labelIndex: number): void {
    this.mode = { kind, span: { start: first.start, end: last.end }, labelIndex };
    if (kind === "entries") this.entryList = null;
    if (kind === "expiration" || kind === "strike") this.addOptionHint(first, last);
  }

  /** "BUY MA qty 1": remembers a capitalized word right after the first side, followed by no plain word. */
  private noteTickerFallback(word: WordToken, i: number): void {
    if (this.scan.tickerFallback !== null || this.scan.sides.length !== 1 || this.lastSideToken !== i - 1) return;
    if (word.tag !== null || !word.upper || !EQUITY_SYMBOL.test(word.text) || !mayBeTickerAfterSide(word.lower)) return;
    const next = this.tokens[i + 1];
    if (next?.kind === "word" && next.tag === null && !isKeyword(next.lower)) return;
    this.scan.tickerFallback = i;
  }

  /** A breakout word counts when a price follows ("above 190", "on break of the 190 level"). */
  private priceAhead(index: number): boolean {
    for (let j = index; j < index + 4; j++) {
      const token = this.tokens[j];
      if (token?.kind === "number") return !token.negative;
      if (token?.kind !== "word" || !TRIGGER_FILLER.has(token.lower)) return false;
    }
    return false;
  }

  /**
   * "SELL AAPL @ 185 stop": "stop" right after the entry price, with no price of its own, makes the order a stop
   * order at that price.
   */
  private trailingStop(word: WordToken, i: number): boolean {
    const previous = this.tokens[i - 1];
    if (previous?.kind !== "number") return false;
    const entry = this.scan.entries[this.scan.entries.length - 1];
    const bare = this.scan.bare[this.scan.bare.length - 1];
    if (bare && bare.end === previous.end) {
      this.scan.bare.pop();
      this.scan.entries.push({ value: { price: bare.value }, start: bare.start, end: bare.end });
    } else if (!entry || entry.end !== previous.end) {
      return false;
    }
    this.addOrderType("stop", word, word);
    this.mode = null;
    return true;
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

  private addCandidate(word: WordToken, i: number, tier: 1 | 2 | 3, forced = false): void {
    const raw = word.text.toUpperCase();
    const span = { start: word.start, end: word.end };
    if (word.text.includes("'")) return;
    const reading = readSymbolWord(raw);
    if (!reading) {
      if (word.tag === "$") this.scan.invalidTagged.push(span);
      return;
    }
    if (word.tag !== "$" && !forced) {
      const english = STOPWORDS.has(word.lower) || FULL_MONTHS[word.lower] !== undefined;
      if (reading.form === "equity" && english) return;
      if (reading.form === "coin" && english && !word.upper) return;
    }
    if (reading.form === "pair" && reading.perpetual) this.scan.perpetual = true;
    const effectiveTier = reading.form === "pair" ? 1 : reading.form === "coin" ? Math.min(tier, 2) : tier;
    const candidate: Candidate = {
      reading,
      raw,
      tier: effectiveTier as 1 | 2 | 3,
      tokenIndex: i,
      sentence: word.sentence,
      ...span,
    };
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
    const item = this.listItemNumber(token, i);
    if (item !== null) return item;
    const range = this.rangeAt(i);
    // "100 shares", "190 call": the word after a number names it within the same sentence only
    const following = this.wordAt(i + 1);
    const nextWord = following?.sentence === token.sentence ? following.lower : undefined;
    if (!range && nextWord !== undefined) {
      const next = this.tokens[i + 1] as Token;
      if (UNIT_WORDS.has(nextWord)) {
        this.noteHints(nextWord, next);
        this.scan.quantities.push({ value: token.value, start: token.start, end: next.end });
        this.mode = null;
        return i + 1;
      }
      const right = RIGHT_WORDS[nextWord];
      if (right) {
        this.scan.strikes.push({ value: token.value, start: token.start, end: next.end });
        this.addRight(right, token, next, false);
        this.mode = null;
        return i + 1;
      }
      if (nextWord === "strike") {
        this.scan.strikes.push({ value: token.value, start: token.start, end: next.end });
        this.addOptionHint(next, next);
        this.mode = null;
        return i + 1;
      }
      if (this.leverageWordAfter(i)) {
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
        const more = range ? this.moreListed(range.last) : [];
        if (more.length > 0) {
          // "ENTRY: 32000 - 30000 - 28000": several entry prices, one zone
          this.entryList = null;
          const last = more[more.length - 1] as NumberToken;
          this.extendEntryList([range?.low ?? token.value, range?.high ?? token.value, ...more.map((n) => n.value)], {
            start: token.start,
            end: last.end,
          });
          this.scan.structured = true;
          this.mode = null;
          return (range?.last ?? i) + 2 * more.length;
        }
        const entry: Entry = range
          ? range.low === range.high
            ? { price: range.low }
            : { low: range.low, high: range.high }
          : { price: token.value };
        this.scan.entries.push({ value: entry, ...span });
        this.entryCount++;
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

  /** The numbers after a range that continue it as a list: "- 28000" in "32000 - 30000 - 28000". */
  private moreListed(last: number): NumberToken[] {
    const more: NumberToken[] = [];
    for (let j = last + 1; ; j += 2) {
      const dash = this.tokens[j];
      const number = this.tokens[j + 1];
      if (dash?.kind !== "punct" || dash.char !== "-" || number?.kind !== "number" || number.negative) return more;
      more.push(number);
    }
  }

  /**
   * A list item's number ("Target 1: 64000", "TP #1", "(1) 3300", "target 1 at 145", "🎯 Target 1 - 145", "Stop
   * Loss 1: 2900", "Entry 2: 0.78"): a small whole number at the head of an item of a target, stop or entry list.
   * Followed by ":", ")", "@" or "at" it is the item's number. Followed by "-" or a price, it is the number when it
   * is far from that price (or counts the items so far and is not within a factor of 2 of it); when it could as
   * well be a price, it is refused. Returns the index of the last token read, or null when it is not a number of
   * an item.
   */
  private listItemNumber(token: NumberToken, i: number): number | null {
    const mode = this.mode;
    const kind = mode?.kind;
    if (!mode || (kind !== "targets" && kind !== "stop" && kind !== "entry" && kind !== "entries")) return null;
    if (!token.digitsOnly || token.value < 1 || token.value > MAX_TARGETS) return null;
    const previous = this.tokens[i - 1];
    const afterLabel = mode.labelIndex >= 0 && mode.labelIndex === i - 1;
    const afterLabelColon = mode.labelIndex >= 0 && mode.labelIndex === i - 2 && isPunct(previous, ":");
    const parenthesized = isPunct(previous, "(");
    const head = afterLabel || afterLabelColon || parenthesized || token.lineStart || isPunct(previous, ",");
    if (!head) return null;

    const next = this.tokens[i + 1];
    const labelled =
      isPunct(next, ":") ||
      isPunct(next, "@") ||
      (isPunct(next, ")") && parenthesized) ||
      (next?.kind === "word" && next.lower === "at");
    if (labelled) return this.numberedItem(kind, i + 1);

    const dash = isPunct(next, "-");
    const price = dash ? this.tokens[i + 2] : next;
    if (price?.kind !== "number" || price.negative || price.value <= 0) return this.loneItemNumber(token, i, kind);
    const last = dash ? i + 1 : i;
    const ratio = token.value / price.value;
    if (ratio < 0.1 || ratio > 10) return this.numberedItem(kind, last);
    if (token.value !== this.itemsSoFar(kind) + 1) return null;
    if (ratio < 0.5 || ratio > 2) return this.numberedItem(kind, last);
    // "Entry: 1 - 1.2" is a zone; anywhere else "1 - 1.2" could be an item and its price, or two prices
    if ((kind === "entry" || kind === "entries") && afterLabelColon) return null;
    const item = kind === "targets" ? "Target" : kind === "stop" ? "Stop" : "Entry";
    const written = formatPlain(price.value);
    this.error(
      "AMBIGUOUS_NUMBER",
      `Is ${token.value} the item's number or a price? Write "${item} ${token.value}: ${written}" for a numbered item, or put a comma between two prices ("${token.value}, ${written}").`,
      token,
    );
    return last;
  }

  /**
   * "Target 2:3": an item's number and its price, or a ratio ("TP 1:2" risk to reward)? Where the number would count
   * the items of a target or stop list so far it is refused; anywhere else "2:3" is a time or a ratio and ignored.
   * ("Target 1:64000", with more digits, is read as the item's number and its price.)
   */
  private onRatio(token: RatioToken, i: number): void {
    const mode = this.mode;
    if (mode?.kind !== "targets" && mode?.kind !== "stop") return;
    const previous = this.tokens[i - 1];
    const afterLabel = mode.labelIndex === i - 1 || (mode.labelIndex === i - 2 && isPunct(previous, ":"));
    if (!(afterLabel || token.lineStart) || token.left !== this.itemsSoFar(mode.kind) + 1) return;
    const item = mode.kind === "targets" ? "Target" : "Stop";
    this.error(
      "AMBIGUOUS_NUMBER",
      `Is ${token.left}:${token.right} the item's number and its price, or a ratio? Write "${item} ${token.left}: ${token.right}" for a numbered item.`,
      token,
    );
  }

  /**
   * A number alone opening the line of the next target ("1) 39" then "2" then "3) 36.5") that counts the items and is far
   * below the target before it is an item's number whose price is missing: refused, not read as a target of 2.
   */
  private loneItemNumber(token: NumberToken, i: number, kind: LabelKind): number | null {
    const previous = this.scan.targets[this.scan.targets.length - 1];
    if (kind !== "targets" || !token.lineStart || !previous || token.value !== this.itemsSoFar(kind) + 1) return null;
    if (token.value / previous.price >= 0.1) return null;
    this.error(
      "AMBIGUOUS_NUMBER",
      `${token.value} looks like the number of target ${token.value} without its price: write "Target ${token.value}: <price>".`,
      token,
    );
    return i;
  }

  /** The item number is read; the list goes on (an "Entry 1:" label starts a list of entry prices). */
  private numberedItem(kind: LabelKind, last: number): number {
    if (kind === "entry" && this.mode) this.mode = { ...this.mode, kind: "entries" };
    return last;
  }

  private itemsSoFar(kind: LabelKind): number {
    if (kind === "targets") return this.scan.targets.length;
    if (kind === "stop") return this.scan.stops.length;
    return this.entryCount;
  }

  /** "Entries: 1) 64000 2) 63500": several entry prices are one zone from the lowest to the highest. */
  private extendEntryList(prices: number[], span: Span): void {
    this.entryCount += prices.length;
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
    if (mode === "leverage" || this.leverageWordAfter(i)) {
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

function isPunct(token: Token | undefined, char: string): boolean {
  return token?.kind === "punct" && token.char === char;
}

/** A price as the provider would type it again, for the example in an error message. */
function formatPlain(value: number): string {
  return String(value).includes("e") ? value.toFixed(12).replace(/0+$/, "") : String(value);
}

/** Words that carry part of a signal after a side: "BUY MA qty 1" keeps MA as the symbol. */
function isKeyword(lower: string): boolean {
  return (
    labelOf(lower) !== undefined ||
    ORDER_TYPE_WORDS[lower] !== undefined ||
    TIME_IN_FORCE_WORDS[lower] !== undefined ||
    UNIT_WORDS.has(lower) ||
    lower === "stop"
  );
}

/**
 * The symbol-position fallback takes a common word (MA, ON) or a foreign keyword (ALVO, VENTA), never an English
 * keyword (SL, TP, GTC, SELL, STO), a quote currency (USDT), or a word that often follows a side (MORE, NOW).
 */
function mayBeTickerAfterSide(lower: string): boolean {
  if (NOT_AFTER_SIDE_TICKERS.has(lower) || CRYPTO_QUOTES.includes(lower.toUpperCase() as CryptoQuote)) return false;
  if (FOREIGN_KEYWORDS.has(lower)) return true;
  return !(
    isKeyword(lower) ||
    SIDE_WORDS[lower] !== undefined ||
    RIGHT_WORDS[lower] !== undefined ||
    lower === BUY_TO_CLOSE_ABBREVIATION
  );
}

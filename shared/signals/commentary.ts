import type { SignalError, SignalErrorCode } from "./errors";
import type { Token, WordToken } from "./lexer";
import {
  ADJUST_VERBS,
  ADVICE_VERBS,
  CONDITIONAL_WORDS,
  LABEL_FILLER,
  labelOf,
  MANAGEMENT_WORDS,
  NEGATION_FILLER,
  NEGATORS,
  NOT_NOW,
  ORDER_TYPE_WORDS,
  REPORT_VERBS,
  RESULT_WORDS,
  RIGHT_WORDS,
  SIDE_PHRASES,
  SIDE_WORDS,
  STOPPED_WORDS,
  TIME_IN_FORCE_WORDS,
  UNIT_WORDS,
  UNTIL_WORDS,
} from "./vocabulary";

/**
 * What a message says about itself before any value is read. A negated side ("don't short TSLA"), an instruction
 * about a trade posted earlier ("move SL to 188", "cancel the AAPL order") and a report of what happened ("TP2
 * reached", "stopped out", "Profit: 69%") are never a trade: each becomes a refusal located at its words. Advice
 * for later ("move SL to breakeven after TP1", "cancel if not filled", "don't chase") and parenthetical
 * commentary ("(swing, 2-3 weeks)") are ignored, so their numbers are not read as the signal's.
 */

export interface Commentary {
  /** Why the message is not a trade: at most one per kind, in text order. */
  refusals: SignalError[];
  /** Tokens that are commentary or advice for later (indexed like the tokens). */
  ignored: boolean[];
  /**
   * The first instruction for later that was ignored ("if TP1 hit", "when TP hit"): harmless beside an entry,
   * but an exit written with one waits for it ("Close half AAPL if TP1 hit"), so the parser refuses that exit.
   */
  later: SignalError | null;
}

type Refusal = Extract<SignalErrorCode, "NEGATED_SIGNAL" | "MANAGEMENT_MESSAGE" | "RESULT_REPORT">;

const REFUSAL_MESSAGES: Record<Refusal, string> = {
  NEGATED_SIGNAL:
    'This says not to trade (a negated side such as "don\'t short" or "no longer long"), so nothing is traded.',
  MANAGEMENT_MESSAGE:
    'This manages a trade posted earlier (cancel, update, move the stop or a target) in a form I cannot act on: reply to the signal\'s message in the signal channel with "move SL to 185", "move SL to breakeven", "cancel", "close half" or "close all", or post an exit as a new signal, e.g. "SELL AAPL".',
  RESULT_REPORT:
    'This reports a result (a target or stop reached, "stopped out", a profit), not a new trade, so nothing is traded.',
};

const LATER_MESSAGE =
  'This exit waits for a condition ("if TP1 hits"), which is not executed yet: post the exit when it is due, e.g. "SELL AAPL".';

/** Words that stand between an adjusting verb and the level it adjusts: "move the stop", "stop is moved". */
const ADJUST_GAP_BEFORE = new Set(["the", "your", "my", "our", "stop", "all"]);
const ADJUST_GAP_AFTER = new Set(["is", "was", "been", "has", "have", "now", "are", "were"]);
/** "Closed at stoploss", "exited in profit": a report of the provider's own close. */
const CLOSED_WORDS = new Set(["closed", "exited"]);
const CLOSED_LINKS = new Set(["at", "in", "on", "for", "with"]);
/** Every word this reader acts on: one lookup passes over all the others. */
const COMMENTARY_WORDS: ReadonlySet<string> = new Set([
  ...NEGATORS,
  ...CONDITIONAL_WORDS,
  ...MANAGEMENT_WORDS,
  ...ADJUST_VERBS,
  ...STOPPED_WORDS,
  ...REPORT_VERBS,
  ...RESULT_WORDS,
  ...CLOSED_WORDS,
]);
/** A list item's number is at most this (a larger number beside a label is a price). */
const MAX_ITEM_NUMBER = 20;

/**
 * Tokens a signal field was read from before commentary (an entry's trailing stop: "TS 2%", "trailing stop 2%"):
 * never refused as management, but set aside with their sentence when advice for later ("trail stop 2% after TP1").
 */
export interface Shielded {
  shielded: readonly boolean[];
  /** Each shielded field's first token, where a condition after it in its sentence makes it advice for later. */
  heads: readonly number[];
}

export function readCommentary(tokens: Token[], shield: Shielded = { shielded: [], heads: [] }): Commentary {
  return new CommentaryReader(tokens, shield).run();
}

class CommentaryReader {
  /** Sparse: most messages ignore nothing. */
  private readonly ignored: boolean[] = [];
  private readonly refusals: SignalError[] = [];
  private later: SignalError | null = null;
  private readonly heads: ReadonlySet<number>;

  constructor(
    private readonly tokens: Token[],
    private readonly shield: Shielded,
  ) {
    this.heads = new Set(shield.heads);
  }

  run(): Commentary {
    for (let i = 0; i < this.tokens.length; i++) {
      if (this.ignored[i]) continue;
      if (this.shield.shielded[i]) {
        if (this.heads.has(i)) this.ignoreIfConditional(i);
        continue;
      }
      const token = this.tokens[i] as Token;
      if (token.kind === "punct" && token.char === "(") this.parenthetical(i);
      else if (token.kind === "check" && this.levelBefore(i, true)) this.refuse("RESULT_REPORT", token, token);
      else if (token.kind === "word" && token.tag === null && COMMENTARY_WORDS.has(token.lower)) this.word(token, i);
    }
    return { refusals: this.refusals, ignored: this.ignored, later: this.later };
  }

  private word(word: WordToken, i: number): void {
    const lower = word.lower;
    if (NEGATORS.has(lower)) {
      this.negation(word, i);
    } else if (CONDITIONAL_WORDS.has(lower)) {
      // "if TP1 hits, move SL to entry": the rest of the sentence is advice for later
      const end = this.sentenceEnd(i);
      if (this.refusalKindIn(i + 1, end)) this.ignoreLater(i, end);
    } else {
      const kind = this.refusalKindAt(i);
      if (kind) this.refuseUnlessConditional(kind, i);
    }
  }

  /** The refusal a word makes where it stands, if any (adjacency rules only; conditionals are handled apart). */
  private refusalKindAt(i: number): Refusal | null {
    const word = this.wordAt(i);
    if (!word) return null;
    const lower = word.lower;
    if (MANAGEMENT_WORDS.has(lower)) {
      const previous = this.near(i, -1)?.lower;
      const goodTilCancelled = lower.startsWith("cancel") && previous !== undefined && UNTIL_WORDS.has(previous);
      return goodTilCancelled ? null : "MANAGEMENT_MESSAGE";
    }
    if (ADJUST_VERBS.has(lower) && this.adjustsALevel(i, lower === "new")) return "MANAGEMENT_MESSAGE";
    if (STOPPED_WORDS.has(lower)) return "RESULT_REPORT";
    if (REPORT_VERBS.has(lower) && (this.levelBefore(i, false) || this.levelAfter(i))) return "RESULT_REPORT";
    if (RESULT_WORDS.has(lower) && this.resultLine(i)) return "RESULT_REPORT";
    if (CLOSED_WORDS.has(lower) && this.closedAtALevel(i)) return "RESULT_REPORT";
    return null;
  }

  private refusalKindIn(from: number, to: number): Refusal | null {
    for (let j = from; j <= to; j++) {
      const kind = this.refusalKindAt(j);
      if (kind) return kind;
    }
    return null;
  }

  /**
   * An instruction followed by a condition in its sentence is advice for later ("cancel if not filled", "move SL to
   * breakeven after TP1"), ignored from the instruction on; otherwise it is refused.
   */
  private refuseUnlessConditional(kind: Refusal, i: number): void {
    const end = this.sentenceEnd(i);
    if (kind === "MANAGEMENT_MESSAGE") {
      for (let j = i + 1; j <= end; j++) {
        const word = this.wordAt(j);
        if (word && CONDITIONAL_WORDS.has(word.lower)) {
          this.ignoreLater(i, end);
          return;
        }
      }
    }
    const token = this.tokens[i] as Token;
    this.refuse(kind, token, token);
  }

  /**
   * "trail stop 2% after TP1", "TS 2% once TP1 hits": a condition on a target or stop later in the sentence makes
   * the rest advice for later; "TS 2% if filled" is the entry's own trailing stop.
   */
  private ignoreIfConditional(i: number): void {
    const end = this.sentenceEnd(i);
    for (let j = i + 1; j <= end; j++) {
      const word = this.wordAt(j);
      if (!word || !CONDITIONAL_WORDS.has(word.lower)) continue;
      for (let k = j + 1; k <= end; k++) {
        const level = this.wordAt(k);
        if (level && isLevelWord(level.lower, false)) {
          this.ignoreLater(i, end);
          return;
        }
      }
    }
  }

  private negation(word: WordToken, i: number): void {
    const negated = this.negatedAt(i);
    if (negated === "advice") this.ignore(i, this.clauseEnd(i));
    else if (negated) this.refuse("NEGATED_SIGNAL", word, negated);
  }

  /**
   * What the negator at i negates: the side it ends at ("don't short", "no longer long", "not yet"), "advice" for
   * "don't chase" or "no FOMO", or null when it negates something else ("not financial advice").
   */
  private negatedAt(i: number): WordToken | "advice" | null {
    const next = this.near(i, 1);
    if (this.wordAt(i)?.lower === "not" && next && NOT_NOW.has(next.lower)) return next;
    let j = i + 1;
    while (j <= i + 3 && NEGATION_FILLER.has(this.near(i, j - i)?.lower ?? "")) j++;
    const target = this.near(i, j - i);
    if (!target) return null;
    const phrase = this.near(i, j + 1 - i);
    if (SIDE_WORDS[target.lower] || (phrase && SIDE_PHRASES[`${target.lower} ${phrase.lower}`])) return target;
    return ADVICE_VERBS.has(target.lower) ? "advice" : null;
  }

  /**
   * "(swing, 2-3 weeks)", "(my favorite setup)": a parenthesis that opens with a plain word and holds no keyword,
   * "@" or "$" price is commentary; "(in at 190)" or "(not yet)" is read.
   */
  private parenthetical(open: number): void {
    const first = this.tokens[open + 1];
    if (first?.kind !== "word" || first.tag !== null || first.upper || isKeyword(first.lower)) return;
    for (let j = open + 1; j < this.tokens.length && j <= open + 24; j++) {
      const token = this.tokens[j] as Token;
      if (token.line !== first.line) return;
      if (token.kind === "punct" && token.char === ")") {
        this.ignore(open, j);
        return;
      }
      if (token.kind === "punct" && token.char === "@") return;
      if (token.kind === "number" && token.dollar) return;
      if (token.kind !== "word") continue;
      if (token.tag !== null || isKeyword(token.lower) || this.refusalKindAt(j)) return;
      if (NEGATORS.has(token.lower) && this.negatedAt(j) !== null) return;
    }
  }

  /** "move SL", "move the stop", "SL moved", "stop is raised"; "new" only right before: "new stop 188". */
  private adjustsALevel(i: number, onlyRightBefore: boolean): boolean {
    const after = this.near(i, 1);
    if (after && isLevelWord(after.lower, false)) return true;
    if (onlyRightBefore) return false;
    const afterNext = this.near(i, 2);
    if (after && ADJUST_GAP_BEFORE.has(after.lower) && afterNext && isLevelWord(afterNext.lower, false)) return true;
    const before = this.near(i, -1);
    if (before && isLevelWord(before.lower, false)) return true;
    const beforePrevious = this.near(i, -2);
    return !!(
      before &&
      ADJUST_GAP_AFTER.has(before.lower) &&
      beforePrevious &&
      isLevelWord(beforePrevious.lower, false)
    );
  }

  /**
   * A level just before token i in its sentence: "SL hit", "Target 1 hit", "TP 195 hit". For a check mark the
   * number must be the item's ("Entry 1 ✅", "TP2 ✅"), since "SL 185 ✅" only decorates a price.
   */
  private levelBefore(i: number, itemNumberOnly: boolean): boolean {
    const sentence = (this.tokens[i] as Token).sentence;
    const previous = this.tokens[i - 1];
    if (previous === undefined || previous.sentence !== sentence) return false;
    if (previous.kind === "word") return previous.tag === null && isLevelWord(previous.lower, true);
    const numbered =
      previous.kind === "index" ||
      (previous.kind === "number" &&
        (!itemNumberOnly || (previous.digitsOnly && previous.value >= 1 && previous.value <= MAX_ITEM_NUMBER)));
    const label = this.near(i, -2);
    return numbered && label !== undefined && isLevelWord(label.lower, true);
  }

  /** "hit TP1", "reached the target". */
  private levelAfter(i: number): boolean {
    const next = this.near(i, 1);
    if (next && isLevelWord(next.lower, true)) return true;
    const afterNext = this.near(i, 2);
    return next?.lower === "the" && afterNext !== undefined && isLevelWord(afterNext.lower, true);
  }

  /** "Profit: 69%" opening its line, or a signed percent beside the word ("+69% profit"). */
  private resultLine(i: number): boolean {
    const word = this.tokens[i] as Token;
    const previous = this.tokens[i - 1];
    const next = this.tokens[i + 1];
    const opensLine = previous === undefined || previous.line !== word.line;
    const colon = next?.kind === "punct" && next.char === ":";
    const value = colon ? this.tokens[i + 2] : undefined;
    if (opensLine && colon && value?.kind === "percent") return true;
    return (previous?.kind === "percent" && previous.change) || (next?.kind === "percent" && next.change);
  }

  /** "Closed at stoploss", "closed in profit", "exited at TP2". */
  private closedAtALevel(i: number): boolean {
    const link = this.near(i, 1);
    const level = this.near(i, 2);
    if (!link || !CLOSED_LINKS.has(link.lower) || !level) return false;
    return isLevelWord(level.lower, true) || RESULT_WORDS.has(level.lower) || MANAGEMENT_WORDS.has(level.lower);
  }

  private wordAt(index: number): WordToken | undefined {
    const token = this.tokens[index];
    return token?.kind === "word" && token.tag === null && !this.ignored[index] ? token : undefined;
  }

  /** The plain word `offset` tokens from token i, in the same sentence. */
  private near(i: number, offset: number): WordToken | undefined {
    const word = this.wordAt(i + offset);
    return word && word.sentence === (this.tokens[i] as Token).sentence ? word : undefined;
  }

  /** The index of the last token of token i's sentence. */
  private sentenceEnd(i: number): number {
    const sentence = (this.tokens[i] as Token).sentence;
    let end = i;
    while (this.tokens[end + 1]?.sentence === sentence) end++;
    return end;
  }

  /** The index of the last token before the next comma, or of the sentence. */
  private clauseEnd(i: number): number {
    const end = this.sentenceEnd(i);
    for (let j = i + 1; j <= end; j++) {
      const token = this.tokens[j] as Token;
      if (token.kind === "punct" && token.char === ",") return j;
    }
    return end;
  }

  private ignore(from: number, to: number): void {
    for (let j = from; j <= to; j++) this.ignored[j] = true;
  }

  /** Advice for later: ignored, and remembered in case the side is an exit that would wait for it. */
  private ignoreLater(from: number, to: number): void {
    const first = this.tokens[from] as Token;
    const last = this.tokens[to] as Token;
    this.later ??= { code: "MANAGEMENT_MESSAGE", message: LATER_MESSAGE, start: first.start, end: last.end };
    this.ignore(from, to);
  }

  /** One refusal per kind, the first written (the refusals stay in text order). */
  private refuse(code: Refusal, first: Token, last: Token): void {
    if (this.refusals.some((refusal) => refusal.code === code)) return;
    this.refusals.push({ code, message: REFUSAL_MESSAGES[code], start: first.start, end: last.end });
  }
}

/**
 * A word that names a trade level: a target or a stop ("TP1", "target", "SL", "stop loss"), and with `entry` an
 * entry too ("Entry filled"). Only stops and targets are moved, so "NEW ENTRY" announces a signal.
 */
function isLevelWord(lower: string, entry: boolean): boolean {
  const label = labelOf(lower);
  if (label === "targets" || label === "stop" || lower === "loss" || lower === "profit" || lower === "stoploss") {
    return true;
  }
  return entry && (lower === "entry" || lower === "entries");
}

/** Words that carry part of a signal, so a parenthesis holding one is read, not skipped. */
function isKeyword(lower: string): boolean {
  return (
    labelOf(lower) !== undefined ||
    SIDE_WORDS[lower] !== undefined ||
    ORDER_TYPE_WORDS[lower] !== undefined ||
    TIME_IN_FORCE_WORDS[lower] !== undefined ||
    RIGHT_WORDS[lower] !== undefined ||
    UNIT_WORDS.has(lower) ||
    LABEL_FILLER.entry.has(lower) ||
    lower === "half" ||
    lower === "stock" ||
    lower === "shares"
  );
}

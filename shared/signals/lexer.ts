import { decimalValue } from "./numbers";

/**
 * Splits a message into tokens that keep their character offsets. Decoration (emoji, markdown, quote
 * markers, bullets, mentions, links) is skipped; numbers are read with thousands separators, `k` suffixes,
 * `$` prefixes; dates, `190C` strikes, `5x` multipliers and `50%` percents are recognized here because their
 * meaning depends on characters that touch the digits. Every token knows its line and sentence.
 */

interface At {
  start: number;
  end: number;
  /** Line of the message (0-based). */
  line: number;
  /** Sentence: a new one starts at each line and after ". ", "! " or "? ". */
  sentence: number;
}

export interface WordToken extends At {
  kind: "word";
  /** As written, without a `$`/`#` tag. */
  text: string;
  lower: string;
  tag: "$" | "#" | null;
  /** Written in capitals (every letter upper case). */
  upper: boolean;
}
export interface NumberToken extends At {
  kind: "number";
  value: number;
  dollar: boolean;
  /** A minus sign touched the digits ("-5"). */
  negative: boolean;
  /** Written as bare digits ("3", not "3.0", "3k", "$3" or "1,000"): what a list item's number looks like. */
  digitsOnly: boolean;
  /** First token of its line. */
  lineStart: boolean;
}
interface PercentToken extends At {
  kind: "percent";
  value: number;
  /** Written with a sign ("+2.6%", "(-3%)"): a price change annotation, not an amount. */
  change: boolean;
}
interface MultToken extends At {
  kind: "mult";
  value: number;
}
interface StrikeToken extends At {
  kind: "strike";
  value: number;
  right: "call" | "put";
}
export interface DateToken extends At {
  kind: "date";
  year: number | null;
  month: number;
  day: number;
  /** Month/day written with a slash (could also be two list numbers, "TP 10/12"). */
  slashed: boolean;
}
interface DteToken extends At {
  kind: "dte";
  days: number;
}
interface IndexToken extends At {
  kind: "index";
}
/** ✅ / ✔️ / ☑️: beside a label ("TP1 ✅") it reports a result. */
interface CheckToken extends At {
  kind: "check";
}
interface PunctToken extends At {
  kind: "punct";
  char: "@" | "-" | "," | "/" | ":" | "(" | ")" | "&" | "+";
}
interface JunkToken extends At {
  kind: "junk";
}
/** "2:3" with no am/pm: a time or a ratio, or in a target list an item's number and its price ("Target 2:3"). */
export interface RatioToken extends At {
  kind: "ratio";
  left: number;
  right: number;
  lineStart: boolean;
}

export type Token =
  | WordToken
  | NumberToken
  | PercentToken
  | MultToken
  | StrikeToken
  | DateToken
  | DteToken
  | IndexToken
  | CheckToken
  | PunctToken
  | RatioToken
  | JunkToken;

const MONTHS: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

// Character tests by code, not by regular expression: the lexer runs them on every character.
const isDigit = (ch: string | undefined) => ch !== undefined && ch >= "0" && ch <= "9";
const isLetter = (ch: string | undefined) => ch !== undefined && ((ch >= "a" && ch <= "z") || (ch >= "A" && ch <= "Z"));
/** Letters a keyword may be written in: Latin (with accents, not × or ÷) and Cyrillic. Tickers stay ASCII. */
const isWordLetter = (ch: string | undefined) =>
  isLetter(ch) ||
  (ch !== undefined &&
    ((ch >= "\u00C0" && ch <= "\u024F" && ch !== "\u00D7" && ch !== "\u00F7") || (ch >= "\u0400" && ch <= "\u04FF")));
const isAlnum = (ch: string | undefined) => isDigit(ch) || isLetter(ch);
const isSpace = (ch: string | undefined) => ch === " " || (ch !== undefined && /^\s$/.test(ch));

const ISO_DATE = /(\d{4})-(\d{2})-(\d{2})(?![\d])/y;
const SLASH_DATE = /(\d{1,2})\/(\d{1,2})(?:\/(\d{4}|\d{2}))?(?![\d/])/y;
const COMPACT_DATE = /(\d{1,2})(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)(\d{4}|\d{2})?(?![A-Za-z0-9])/iy;
/** Times and ratios ("10:30", "1:3"); "1:64000" is a list number and its price. */
const CLOCK = /\d{1,2}(?::\d{1,2})+(?:\s?[ap]m)?(?![A-Za-z0-9]|[.,]\d)/iy;
const NUMBER = /(\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.(\d+))?|\.(\d+)/y;
const RIGHT_SUFFIX = /(calls?|puts?|c|p)(?![A-Za-z0-9])/iy;
const DTE_SUFFIX = /dte(?![A-Za-z0-9])/iy;
const WORD =
  /[A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F\u0400-\u04FF][A-Za-z0-9'\u2019\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F\u0400-\u04FF]*/y;
const WORD_JOIN = /([./_-])([A-Za-z][A-Za-z0-9]*)/y;
const LETTERS = /[A-Za-z]+/y;
const KEYCAP = /\uFE0F?\u20E3/y;
/** Discord mentions, channels, custom emoji and timestamps: <@123>, <@&123>, <#123>, <:name:123>, <t:123:R>. */
const DISCORD_MARKUP = /<(?:@[!&]?\d+|#\d+|a?:\w+:\d+|t:\d+(?::[A-Za-z])?)>/y;
const LINK = /(?:https?:\/\/|www\.)\S*/iy;
/** "@everyone", "@here", "@TraderJoe": a mention typed as text. */
const AT_NAME = /@([A-Za-z][\w.]*)/y;
/** Words that may follow "@" without a space and are not a name: "@market". */
const AT_KEYWORDS = new Set(["market", "mkt", "cmp", "now", "limit", "lmt"]);
const CHECK_MARKS = new Set(["\u2705", "\u2714", "\u2611"]);
const SENTENCE_END = new Set([".", "!", "?"]);
/** "#1", "TP #2": a number tagged with # counts items, never a price. */
const HASH_INDEX = /#(\d{1,3})(?![\d.,])/y;

const PUNCT = new Set(["@", ",", "/", ":", "(", ")", "&", "+", ";"]);
const DASHES = new Set(["-", "\u2013", "\u2014", "\u2212"]);

function matchAt(pattern: RegExp, text: string, at: number): RegExpExecArray | null {
  pattern.lastIndex = at;
  return pattern.exec(text);
}

/** Tokens are written with `line: 0, sentence: 0`, filled in here, so every token of a kind has one shape. */
type Push = (token: Token) => void;

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let lineStart = true;
  let line = 0;
  let sentence = 0;
  let sentenceOpen = false;
  const push: Push = (token) => {
    token.line = line;
    token.sentence = sentence;
    tokens.push(token);
    lineStart = false;
    sentenceOpen = true;
  };

  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === " ") {
      i++;
      continue;
    }
    const next = text[i + 1];
    const skip =
      ch === "<"
        ? matchAt(DISCORD_MARKUP, text, i)
        : ch === "h" || ch === "H" || ch === "w" || ch === "W"
          ? matchAt(LINK, text, i)
          : ch === "@" && isLetter(next)
            ? mentionAt(text, i)
            : null;
    if (skip && (skip[0].startsWith("<") || skip[0].startsWith("@") || !isAlnum(text[i - 1]))) {
      i += skip[0].length; // chart links and mentions carry numbers and names that are not part of the signal
    } else if (ch === "\n") {
      lineStart = true;
      line++;
      if (sentenceOpen) sentence++;
      sentenceOpen = false;
      i++;
    } else if (SENTENCE_END.has(ch) && (next === undefined || isSpace(next))) {
      if (sentenceOpen) sentence++;
      sentenceOpen = false;
      i++;
    } else if (CHECK_MARKS.has(ch)) {
      push({ line: 0, sentence: 0, kind: "check", start: i, end: i + 1 });
      i++;
    } else if (ch === "#" && isDigit(next) && matchAt(HASH_INDEX, text, i)) {
      const end = i + (matchAt(HASH_INDEX, text, i)?.[0].length ?? 1);
      push({ line: 0, sentence: 0, kind: "index", start: i, end });
      i = end;
    } else if (isSpace(ch)) {
      i++;
    } else if (isDigit(ch) || (ch === "." && isDigit(next) && !isAlnum(text[i - 1]))) {
      i = readNumeric(text, i, i, false, false, lineStart, push);
    } else if (ch === "$" && (isDigit(next) || (next === "." && isDigit(text[i + 2])))) {
      i = readNumeric(text, i + 1, i, true, false, lineStart, push);
    } else if ((ch === "$" || ch === "#") && isLetter(next)) {
      i = readWord(text, i + 1, i, ch, push);
    } else if ((ch === "x" || ch === "X") && isDigit(next) && !isAlnum(text[i - 1])) {
      i = readMultiplierPrefix(text, i, push);
    } else if (isWordLetter(ch)) {
      i = readWord(text, i, i, null, push);
    } else if (DASHES.has(ch)) {
      if (lineStart) {
        i++; // a bullet
      } else if (isDigit(next) && (isSpace(text[i - 1]) || text[i - 1] === ":") && !endsWithNumber(tokens)) {
        i = readNumeric(text, i + 1, i, false, true, false, push);
      } else {
        push({ line: 0, sentence: 0, kind: "punct", char: "-", start: i, end: i + 1 });
        i++;
      }
    } else if (PUNCT.has(ch)) {
      const char = ch === ";" ? "," : (ch as PunctToken["char"]);
      push({ line: 0, sentence: 0, kind: "punct", char, start: i, end: i + 1 });
      i++;
    } else {
      i++; // decoration: emoji, markdown, quote markers, bullets
    }
  }
  return tokens;
}

function mentionAt(text: string, at: number): RegExpExecArray | null {
  const mention = matchAt(AT_NAME, text, at);
  return mention && !AT_KEYWORDS.has((mention[1] ?? "").toLowerCase()) ? mention : null;
}

function endsWithNumber(tokens: Token[]): boolean {
  const last = tokens[tokens.length - 1];
  return last !== undefined && last.kind === "number";
}

function readWord(text: string, at: number, start: number, tag: "$" | "#" | null, push: Push): number {
  const first = matchAt(WORD, text, at);
  let end = at + (first?.[0].length ?? 1);
  for (;;) {
    const join = matchAt(WORD_JOIN, text, end);
    if (!join) break;
    end += join[0].length;
  }
  const written = text.slice(at, end);
  const word = written.includes("\u2019") ? written.replace(/\u2019/g, "'") : written;
  push({
    line: 0,
    sentence: 0,
    kind: "word",
    text: word,
    lower: word.toLowerCase(),
    tag,
    // every letter in capitals (digits and separators do not change case)
    upper: word.toUpperCase() === word,
    start,
    end,
  });
  return end;
}

function readMultiplierPrefix(text: string, at: number, push: Push): number {
  const match = matchAt(NUMBER, text, at + 1);
  if (!match) {
    push({ line: 0, sentence: 0, kind: "junk", start: at, end: at + 1 });
    return at + 1;
  }
  const end = at + 1 + match[0].length;
  const joined = isLetter(text[end]) || ("/_-".includes(text[end] ?? " ") && isLetter(text[end + 1]));
  if (joined) return readWord(text, at, at, null, push); // "X0/USDT" is a pair
  push({ line: 0, sentence: 0, kind: "mult", value: numberFrom(match), start: at, end });
  return end;
}

function numberFrom(match: RegExpExecArray, shift = 0): number {
  const integer = (match[1] ?? "0").replace(/,/g, "");
  const fraction = match[2] ?? match[3] ?? "";
  return decimalValue(integer, fraction, shift);
}

function readNumeric(
  text: string,
  at: number,
  start: number,
  dollar: boolean,
  negative: boolean,
  lineStart: boolean,
  push: Push,
): number {
  const iso = matchAt(ISO_DATE, text, at);
  if (iso && !dollar && !negative && plausibleDate(Number(iso[2]), Number(iso[3]))) {
    const [, year, month, day] = iso;
    push({
      line: 0,
      sentence: 0,
      kind: "date",
      year: Number(year),
      month: Number(month),
      day: Number(day),
      slashed: false,
      start,
      end: at + iso[0].length,
    });
    return at + iso[0].length;
  }
  const slash = matchAt(SLASH_DATE, text, at);
  if (slash && !dollar && !negative && plausibleDate(Number(slash[1]), Number(slash[2]))) {
    const [, month, day, year] = slash;
    push({
      line: 0,
      sentence: 0,
      kind: "date",
      month: Number(month),
      day: Number(day),
      year: year === undefined ? null : year.length === 2 ? 2000 + Number(year) : Number(year),
      slashed: year === undefined,
      start,
      end: at + slash[0].length,
    });
    return at + slash[0].length;
  }
  const compact = matchAt(COMPACT_DATE, text, at);
  if (compact && !dollar && !negative) {
    const [, day, month, year] = compact;
    push({
      line: 0,
      sentence: 0,
      kind: "date",
      day: Number(day),
      month: MONTHS[(month ?? "").toLowerCase()] ?? 0,
      year: year === undefined ? null : year.length === 2 ? 2000 + Number(year) : Number(year),
      slashed: false,
      start,
      end: at + compact[0].length,
    });
    return at + compact[0].length;
  }
  const clock = matchAt(CLOCK, text, at);
  if (clock) {
    const parts = /^(\d+):(\d+)$/.exec(clock[0]);
    const end = at + clock[0].length;
    if (parts && !dollar && !negative) {
      push({
        line: 0,
        sentence: 0,
        kind: "ratio",
        left: Number(parts[1]),
        right: Number(parts[2]),
        lineStart,
        start,
        end,
      });
    } else {
      push({ line: 0, sentence: 0, kind: "junk", start, end });
    }
    return end;
  }

  const match = matchAt(NUMBER, text, at);
  if (!match) {
    push({ line: 0, sentence: 0, kind: "junk", start, end: at + 1 });
    return at + 1;
  }
  let end = at + match[0].length;
  const after = text[end];

  if (after === "%") {
    const change = negative || ["+", "-", "\u2212"].includes(text[at - 1] ?? "");
    push({
      line: 0,
      sentence: 0,
      kind: "percent",
      value: signed(numberFrom(match), negative),
      change,
      start,
      end: end + 1,
    });
    return end + 1;
  }
  if ((after === "k" || after === "K") && !isWordLetter(text[end + 1]) && !isDigit(text[end + 1])) {
    const value = signed(numberFrom(match, 3), negative);
    push({
      line: 0,
      sentence: 0,
      kind: "number",
      value,
      dollar,
      negative,
      digitsOnly: false,
      lineStart,
      start,
      end: end + 1,
    });
    return end + 1;
  }
  // "10x", and "10х" with the Cyrillic letter, as Russian channels type it
  if (
    after !== undefined &&
    "xX\u00D7\u0445\u0425".includes(after) &&
    !isWordLetter(text[end + 1]) &&
    !isDigit(text[end + 1])
  ) {
    push({ line: 0, sentence: 0, kind: "mult", value: signed(numberFrom(match), negative), start, end: end + 1 });
    return end + 1;
  }
  const right = matchAt(RIGHT_SUFFIX, text, end);
  if (right) {
    const value = signed(numberFrom(match), negative);
    const kind = (right[1] ?? "").toLowerCase().startsWith("c") ? "call" : "put";
    push({ line: 0, sentence: 0, kind: "strike", value, right: kind, start, end: end + right[0].length });
    return end + right[0].length;
  }
  const dte = matchAt(DTE_SUFFIX, text, end);
  if (dte && match[2] === undefined) {
    push({ line: 0, sentence: 0, kind: "dte", days: numberFrom(match), start, end: end + dte[0].length });
    return end + dte[0].length;
  }
  const keycap = matchAt(KEYCAP, text, end);
  if (keycap) {
    push({ line: 0, sentence: 0, kind: "index", start, end: end + keycap[0].length });
    return end + keycap[0].length;
  }
  if (isLetter(after)) {
    const letters = matchAt(LETTERS, text, end);
    end += letters?.[0].length ?? 1;
    push({ line: 0, sentence: 0, kind: "junk", start, end }); // "4H", "15m", "1st": timeframes and ordinals
    return end;
  }
  const isListIndex =
    !dollar &&
    !negative &&
    match[0].length <= 2 &&
    /^\d+$/.test(match[0]) &&
    text[start - 1] !== "(" &&
    (after === ")" || (lineStart && after === "." && isSpace(text[end + 1])));
  if (isListIndex) {
    push({ line: 0, sentence: 0, kind: "index", start, end: end + 1 });
    return end + 1;
  }
  // "08" is a mistyped price, never an item's number
  const digitsOnly =
    !dollar &&
    !negative &&
    match[2] === undefined &&
    match[3] === undefined &&
    !match[0].includes(",") &&
    !(match[0].length > 1 && match[0].startsWith("0"));
  push({
    line: 0,
    sentence: 0,
    kind: "number",
    value: signed(numberFrom(match), negative),
    dollar,
    negative,
    digitsOnly,
    lineStart,
    start,
    end,
  });
  return end;
}

/** Month and day in range; the exact calendar check (Feb 30) comes later, as an error. */
function plausibleDate(month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

function signed(value: number, negative: boolean): number {
  return negative ? -value : value;
}

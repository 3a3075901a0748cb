import { decimalValue } from "./numbers";

/**
 * Splits a message into tokens that keep their character offsets. Decoration (emoji, markdown, quote
 * markers, bullets) is skipped; numbers are read with thousands separators, `k` suffixes, `$` prefixes;
 * dates, `190C` strikes, `5x` multipliers and `50%` percents are recognized here because their meaning
 * depends on characters that touch the digits.
 */

interface At {
  start: number;
  end: number;
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
}
export interface PercentToken extends At {
  kind: "percent";
  value: number;
  /** Written with a sign ("+2.6%", "(-3%)"): a price change annotation, not an amount. */
  change: boolean;
}
export interface MultToken extends At {
  kind: "mult";
  value: number;
}
export interface StrikeToken extends At {
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
export interface DteToken extends At {
  kind: "dte";
  days: number;
}
export interface IndexToken extends At {
  kind: "index";
}
export interface PunctToken extends At {
  kind: "punct";
  char: "@" | "-" | "," | "/" | ":" | "(" | ")" | "&" | "+";
}
export interface JunkToken extends At {
  kind: "junk";
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
  | PunctToken
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

const isDigit = (ch: string | undefined) => ch !== undefined && ch >= "0" && ch <= "9";
const isLetter = (ch: string | undefined) => ch !== undefined && /^[A-Za-z]$/.test(ch);
const isAlnum = (ch: string | undefined) => isDigit(ch) || isLetter(ch);
const isSpace = (ch: string | undefined) => ch !== undefined && /^\s$/.test(ch);

const ISO_DATE = /(\d{4})-(\d{2})-(\d{2})(?![\d])/y;
const SLASH_DATE = /(\d{1,2})\/(\d{1,2})(?:\/(\d{4}|\d{2}))?(?![\d/])/y;
const COMPACT_DATE = /(\d{1,2})(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)(\d{4}|\d{2})?(?![A-Za-z0-9])/iy;
const CLOCK = /\d+(?::\d+)+(?:\s?[ap]m)?(?![A-Za-z0-9])/iy;
const NUMBER = /(\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.(\d+))?|\.(\d+)/y;
const RIGHT_SUFFIX = /(calls?|puts?|c|p)(?![A-Za-z0-9])/iy;
const DTE_SUFFIX = /dte(?![A-Za-z0-9])/iy;
const WORD = /[A-Za-z][A-Za-z0-9']*/y;
const WORD_JOIN = /([./_-])([A-Za-z][A-Za-z0-9]*)/y;
const LETTERS = /[A-Za-z]+/y;
const KEYCAP = /\uFE0F?\u20E3/y;
/** Discord mentions, channels, custom emoji and timestamps: <@123>, <@&123>, <#123>, <:name:123>, <t:123:R>. */
const DISCORD_MARKUP = /<(?:@[!&]?\d+|#\d+|a?:\w+:\d+|t:\d+(?::[A-Za-z])?)>/y;
const LINK = /(?:https?:\/\/|www\.)\S*/iy;

const PUNCT = new Set(["@", ",", "/", ":", "(", ")", "&", "+", ";"]);
const DASHES = new Set(["-", "\u2013", "\u2014", "\u2212"]);

function matchAt(pattern: RegExp, text: string, at: number): RegExpExecArray | null {
  pattern.lastIndex = at;
  return pattern.exec(text);
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let lineStart = true;
  const push = (token: Token) => {
    tokens.push(token);
    lineStart = false;
  };

  while (i < text.length) {
    const ch = text[i] as string;
    const next = text[i + 1];
    const skip =
      ch === "<"
        ? matchAt(DISCORD_MARKUP, text, i)
        : ch === "h" || ch === "H" || ch === "w" || ch === "W"
          ? matchAt(LINK, text, i)
          : null;
    if (skip && (skip[0].startsWith("<") || !isAlnum(text[i - 1]))) {
      i += skip[0].length; // chart links and mentions carry numbers that are not part of the signal
    } else if (ch === "\n") {
      lineStart = true;
      i++;
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
    } else if (isLetter(ch)) {
      i = readWord(text, i, i, null, push);
    } else if (DASHES.has(ch)) {
      if (lineStart) {
        i++; // a bullet
      } else if (isDigit(next) && (isSpace(text[i - 1]) || text[i - 1] === ":") && !endsWithNumber(tokens)) {
        i = readNumeric(text, i + 1, i, false, true, false, push);
      } else {
        push({ kind: "punct", char: "-", start: i, end: i + 1 });
        i++;
      }
    } else if (PUNCT.has(ch)) {
      const char = ch === ";" ? "," : (ch as PunctToken["char"]);
      push({ kind: "punct", char, start: i, end: i + 1 });
      i++;
    } else {
      i++; // decoration: emoji, markdown, quote markers, bullets
    }
  }
  return tokens;
}

function endsWithNumber(tokens: Token[]): boolean {
  const last = tokens[tokens.length - 1];
  return last !== undefined && last.kind === "number";
}

function readWord(
  text: string,
  at: number,
  start: number,
  tag: "$" | "#" | null,
  push: (token: Token) => void,
): number {
  const first = matchAt(WORD, text, at);
  let end = at + (first?.[0].length ?? 1);
  for (;;) {
    const join = matchAt(WORD_JOIN, text, end);
    if (!join) break;
    end += join[0].length;
  }
  const word = text.slice(at, end);
  const letters = word.replace(/[^A-Za-z]/g, "");
  push({
    kind: "word",
    text: word,
    lower: word.toLowerCase(),
    tag,
    upper: letters === letters.toUpperCase(),
    start,
    end,
  });
  return end;
}

function readMultiplierPrefix(text: string, at: number, push: (token: Token) => void): number {
  const match = matchAt(NUMBER, text, at + 1);
  if (!match) {
    push({ kind: "junk", start: at, end: at + 1 });
    return at + 1;
  }
  const end = at + 1 + match[0].length;
  const joined = isLetter(text[end]) || ("/_-".includes(text[end] ?? " ") && isLetter(text[end + 1]));
  if (joined) return readWord(text, at, at, null, push); // "X0/USDT" is a pair
  push({ kind: "mult", value: numberFrom(match), start: at, end });
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
  push: (token: Token) => void,
): number {
  const iso = matchAt(ISO_DATE, text, at);
  if (iso && !dollar && !negative && plausibleDate(Number(iso[2]), Number(iso[3]))) {
    const [, year, month, day] = iso;
    push({
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
    push({ kind: "junk", start, end: at + clock[0].length });
    return at + clock[0].length;
  }

  const match = matchAt(NUMBER, text, at);
  if (!match) {
    push({ kind: "junk", start, end: at + 1 });
    return at + 1;
  }
  let end = at + match[0].length;
  const after = text[end];

  if (after === "%") {
    const change = negative || ["+", "-", "\u2212"].includes(text[at - 1] ?? "");
    push({ kind: "percent", value: signed(numberFrom(match), negative), change, start, end: end + 1 });
    return end + 1;
  }
  if ((after === "k" || after === "K") && !isAlnum(text[end + 1])) {
    push({ kind: "number", value: signed(numberFrom(match, 3), negative), dollar, negative, start, end: end + 1 });
    return end + 1;
  }
  if ((after === "x" || after === "X") && !isAlnum(text[end + 1])) {
    push({ kind: "mult", value: signed(numberFrom(match), negative), start, end: end + 1 });
    return end + 1;
  }
  const right = matchAt(RIGHT_SUFFIX, text, end);
  if (right) {
    const value = signed(numberFrom(match), negative);
    const kind = (right[1] ?? "").toLowerCase().startsWith("c") ? "call" : "put";
    push({ kind: "strike", value, right: kind, start, end: end + right[0].length });
    return end + right[0].length;
  }
  const dte = matchAt(DTE_SUFFIX, text, end);
  if (dte && match[2] === undefined) {
    push({ kind: "dte", days: numberFrom(match), start, end: end + dte[0].length });
    return end + dte[0].length;
  }
  const keycap = matchAt(KEYCAP, text, end);
  if (keycap) {
    push({ kind: "index", start, end: end + keycap[0].length });
    return end + keycap[0].length;
  }
  if (isLetter(after)) {
    const letters = matchAt(LETTERS, text, end);
    end += letters?.[0].length ?? 1;
    push({ kind: "junk", start, end }); // "4H", "15m", "1st": timeframes and ordinals
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
    push({ kind: "index", start, end: end + 1 });
    return end + 1;
  }
  push({ kind: "number", value: signed(numberFrom(match), negative), dollar, negative, start, end });
  return end;
}

/** Month and day in range; the exact calendar check (Feb 30) comes later, as an error. */
function plausibleDate(month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

function signed(value: number, negative: boolean): number {
  return negative ? -value : value;
}

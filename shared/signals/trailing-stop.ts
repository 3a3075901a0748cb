import type { SignalError } from "./errors";
import type { Token, WordToken } from "./lexer";
import { formatDecimal } from "./numbers";
import type { Mark } from "./scan";
import { type TrailDistance, trailDistanceOf } from "./schema";
import { labelOf, SIDE_PHRASES, SIDE_WORDS, TRAIL_LABELS, TRAIL_WORDS } from "./vocabulary";

/**
 * A trailing stop written inside an entry: "BUY AAPL 190 TS 2%", "… TSL 1.50", "… trailing stop 2%", "… trailing
 * SL: 2%", "… trail 2%". It counts only after a side and the word after it (the symbol), with its value on the same
 * line, so "BUY TS @ 20" still trades TS and "trail stop 2%" alone stays a management message.
 */
export interface TrailingStopReading {
  trails: WrittenTrail[];
  marks: Mark<TrailDistance>[];
  errors: SignalError[];
  /** Tokens the trailing stop was written with (indexed like the tokens): not read again as other fields. */
  consumed: boolean[];
  /** Index of each trailing stop's first token (commentary looks there for advice for later). */
  heads: number[];
}

/** One trailing stop as written: its value (or problem) and the tokens it spans. */
interface WrittenTrail {
  mark: Mark<TrailDistance> | null;
  error: SignalError | null;
  head: number;
  last: number;
}

export function readTrailingStops(tokens: Token[]): TrailingStopReading {
  return readingOf(writtenTrails(tokens));
}

/**
 * The trailing stops still in force once commentary has set aside advice for later ("after TP1 hits, trail stop
 * 2%"): those whose first token commentary ignored are dropped, and their tokens are left to commentary.
 */
export function trailsInForce(reading: TrailingStopReading, ignored: readonly boolean[]): TrailingStopReading {
  return readingOf(reading.trails.filter((trail) => !ignored[trail.head]));
}

function readingOf(trails: WrittenTrail[]): TrailingStopReading {
  const consumed: boolean[] = [];
  for (const trail of trails) for (let j = trail.head; j <= trail.last; j++) consumed[j] = true;
  return {
    trails,
    marks: trails.flatMap((trail) => (trail.mark ? [trail.mark] : [])),
    errors: trails.flatMap((trail) => (trail.error ? [trail.error] : [])),
    consumed,
    heads: trails.map((trail) => trail.head),
  };
}

function writtenTrails(tokens: Token[]): WrittenTrail[] {
  const trails: WrittenTrail[] = [];
  let sideAt = -1;
  for (let i = 0; i < tokens.length; i++) {
    const word = plainWord(tokens[i]);
    if (!word) continue;
    if (isSide(tokens, i)) {
      sideAt = i;
      continue;
    }
    if (sideAt < 0 || !wordBetween(tokens, sideAt, i)) continue;
    const headEnd = trailHeadEnd(tokens, i);
    if (headEnd === null) continue;
    const valueIndex = valueIndexAfter(tokens, headEnd, word.line);
    if (valueIndex === null) continue;
    const value = tokens[valueIndex] as Token & { value: number };
    const span = { start: word.start, end: value.end };
    const distance = trailDistanceOf(value.value, value.kind === "percent");
    trails.push({
      mark: distance ? { value: distance, ...span } : null,
      error: distance ? null : invalidTrail(value.value, value.kind === "percent", span),
      head: i,
      last: valueIndex,
    });
    i = valueIndex;
  }
  return trails;
}

function plainWord(token: Token | undefined): WordToken | undefined {
  return token?.kind === "word" && token.tag === null ? token : undefined;
}

function isSide(tokens: Token[], i: number): boolean {
  const word = plainWord(tokens[i]) as WordToken;
  const next = plainWord(tokens[i + 1]);
  return (
    SIDE_WORDS[word.lower] !== undefined ||
    (next !== undefined && SIDE_PHRASES[`${word.lower} ${next.lower}`] !== undefined)
  );
}

/** The symbol (or another word) is written between the side and the trailing stop. */
function wordBetween(tokens: Token[], sideAt: number, i: number): boolean {
  for (let j = sideAt + 1; j < i; j++) if (tokens[j]?.kind === "word") return true;
  return false;
}

/** Index of the head's last token: "TS", "TSL", "trail", "trailing stop", "trailing stop loss", "trailing SL". */
function trailHeadEnd(tokens: Token[], i: number): number | null {
  const lower = (tokens[i] as WordToken).lower;
  if (TRAIL_LABELS.has(lower)) return i;
  if (!TRAIL_WORDS.has(lower)) return null;
  const stop = plainWord(tokens[i + 1]);
  if (!stop || labelOf(stop.lower) !== "stop") return i;
  return plainWord(tokens[i + 2])?.lower === "loss" ? i + 2 : i + 1;
}

/** The value right after the head, possibly after ":": a percent or a positive number on the head's line. */
function valueIndexAfter(tokens: Token[], headEnd: number, line: number): number | null {
  const link = tokens[headEnd + 1];
  const index = link?.kind === "punct" && link.char === ":" ? headEnd + 2 : headEnd + 1;
  const value = tokens[index];
  if (value === undefined || value.line !== line) return null;
  if (value.kind === "percent" && !value.change) return index;
  if (value.kind === "number" && !value.negative) return index;
  return null;
}

function invalidTrail(value: number, percent: boolean, span: { start: number; end: number }): SignalError {
  const message = percent
    ? `A trailing stop is more than 0% and under 100% of the price, not ${formatDecimal(value)}%.`
    : `A trailing stop's distance must be a positive amount, not ${formatDecimal(value)}.`;
  return { code: percent ? "INVALID_PERCENT" : "INVALID_PRICE", message, ...span };
}

import { parseSignal } from "./parser";
import { type TrailDistance, trailDistanceOf } from "./schema";
import { readSymbolWord } from "./symbols";

/**
 * Trade-management messages: what a provider writes about a trade posted
 * earlier ("TP1 hit, move SL to breakeven", "move stop to 185", "cancel",
 * "close half", "close all AAPL"), read into one instruction, and result reports
 * ("Profit: 69%", "Entry 1 ✅", "TP2 reached") recognized as such. The reading is
 * conservative: a message is management only when every clause of it is either
 * an instruction written in one of the forms below or a report (chatter without
 * a trading word is skipped); anything else is left to the signal parser, which
 * refuses instructions it cannot act on. Specified in
 * openspec/specs/signal-language/spec.md ("Trade-management messages").
 */

/** Where a moved stop goes: a price, or each follower's own entry fill ("breakeven"). */
export type StopLevel = { price: number } | { breakeven: true };

export type { TrailDistance };

export interface TradeManagement {
  /** Move the stop of the trade's filled positions. */
  stop: StopLevel | null;
  /** Replace the stop of the trade's filled positions by a trailing stop ("trail stop 2%", "trailing stop 1.50"). */
  trail?: TrailDistance | null;
  /** Cancel the trade's entries not filled yet. */
  cancelEntries: boolean;
  /** Close this percent of each follower's position from the trade (100 = all, 50 = half). */
  closePercent: number | null;
  /** The instrument the text names ("close all AAPL"), as the signal language writes it; null when none. */
  symbol: string | null;
  /** The message also reported a result ("TP1 hit, …"). */
  reported: boolean;
}

export type ManagementReading =
  | { kind: "management"; management: TradeManagement }
  /** Only result reports (and chatter): nothing to do, never traded. */
  | { kind: "report" }
  /** Management words this reader cannot turn into one certain instruction: refused with the reason. */
  | { kind: "unclear"; reason: string }
  /** Not a management message (a signal, chatter, or anything the signal parser should judge). */
  | { kind: "none" };

const MAX_TEXT = 2_000;

type Clause =
  | { kind: "chatter" }
  | { kind: "report" }
  | { kind: "stop"; level: StopLevel }
  | { kind: "trail"; distance: TrailDistance }
  | { kind: "cancel" }
  | { kind: "close"; percent: number }
  | { kind: "other" };

/** Words written in capitals that are never the instrument of a management message. */
const NOT_SYMBOLS = new Set([
  "SL",
  "SLS",
  "TP",
  "PT",
  "BE",
  "B/E",
  "ALL",
  "HALF",
  "CLOSE",
  "EXIT",
  "MOVE",
  "STOP",
  "STOPS",
  "CANCEL",
  "TO",
  "AT",
  "THE",
  "NEW",
  "UPDATE",
  "ENTRY",
  "NOW",
  "OUT",
  "OFF",
  "OF",
  "IT",
  "A",
  "I",
  "AND",
  "ON",
  "FOR",
  "LOSS",
  "HIT",
  "FULL",
  "REST",
  "TRADE",
  "ORDER",
  "BREAKEVEN",
  "TAKE",
  "PROFIT",
  "PROFITS",
  "SELL",
  "BOOK",
]);

const STOP = String.raw`(?:sl|sls|stop|stops|stop loss|stop-loss|stoploss|stop losses|stop-losses)`;
const LEVEL = String.raw`(?:be|b/e|breakeven|break-even|break even|entry|entries|entry price|\$?(\d+(?:\.\d+)?))`;
const LINK = String.raw`(?: to| at| @| ->| →| =| :)?`;
const STOP_FORMS = [
  new RegExp(
    String.raw`^(?:move|moving|raise|raising|lower|lowering|adjust|adjusting|set|put|trail|tighten|bring|update)(?: the| your| our| my| all)? ${STOP}${LINK} ${LEVEL}$`,
  ),
  new RegExp(String.raw`^(?:new|updated) ${STOP}(?: is| at| to| @| :| =)? ${LEVEL}$`),
  new RegExp(
    String.raw`^${STOP}(?: is| are| has been| have been)? (?:moved|raised|lowered|adjusted|updated|trailed|tightened)(?: to| at| @)? ${LEVEL}$`,
  ),
  new RegExp(String.raw`^${STOP} (?:to|->|→|=) ${LEVEL}$`),
  new RegExp(String.raw`^(?:move|moving|moved) to ${LEVEL}$`),
];
/** "trail stop 2%", "trailing stop 1.50", "trailing SL: 2%": a distance, never a level ("trail stop to 190" is one). */
const TRAIL_FORM = new RegExp(
  String.raw`^(?:set |use |start |switch to )?(?:a )?(?:trail|trailing)(?: the| your| our| my| all)? ${STOP}(?: of| :| =)? \$?(\d+(?:\.\d+)?)(%)?$`,
);
const CANCEL_FORMS = [
  /^(?:cancel|cancelled|canceled|cancelling|canceling|отмена|отменить|отменяем|cancelar|cancelado|cancelada|cancelamos)(?: the| this| that| my| our| your| all)?(?: pending| open| unfilled| limit)?(?: order| orders| entry| entries| trade| signal| setup| buy| long| short| idea| play| it)?$/,
  /^(?:order|orders|entry|entries|trade|signal|setup) (?:is |has been )?(?:cancelled|canceled)$/,
];
const ALL_WORDS = String.raw`(?:all|everything|full|fully|the rest|rest|remaining|entire|whole|100%)`;
const PART_WORDS = String.raw`(?:half|(\d+(?:\.\d+)?)%)`;
const POSITION_WORDS = String.raw`(?:(?: of)?(?: the| my| our| your| this)? (?:position|positions|trade|it|this|size|bag))?(?: here| now| off)?`;
/** close/exit alone means all; take/book/secure/sell need the part written. */
const CLOSE_FORM = new RegExp(
  String.raw`^(?:close|closing|exit|exiting|cut|flatten)(?: out)?(?: (${ALL_WORDS}|${PART_WORDS}))?${POSITION_WORDS}$`,
);
const TAKE_FORM = new RegExp(
  String.raw`^(?:take|taking|book|booking|secure|securing|sell|selling|close|exit)(?: off)? (${ALL_WORDS}|${PART_WORDS})${POSITION_WORDS}(?: (?:of )?(?:profits?|gains))?$`,
);
/** A clause holding one of these is about trading: when it is not understood, the message is not management. */
const TRADING_WORD =
  /\b(?:sl|sls|stop|stops|tp\d*|pt\d*|target|targets|entry|entries|close|cancel\w*|move\w*|exit|sell|buy|long|short|add|trail\w*|breakeven|be|update\w*|half|trim|take|book|secure|leverage|limit|market)\b|\d/;

/** Reads a provider's message as trade management, a result report, or neither. Total: never throws. */
export function readManagement(text: string): ManagementReading {
  if (typeof text !== "string" || text.length > MAX_TEXT) return { kind: "none" };
  const symbols = new Set<string>();
  const clauses = splitClauses(text).flatMap((raw) => readClause(raw, symbols));
  if (clauses.some((clause) => clause.kind === "other")) return { kind: "none" };
  const actions = clauses.filter((clause) => clause.kind !== "chatter" && clause.kind !== "report");
  const reported = clauses.some((clause) => clause.kind === "report");
  if (actions.length === 0) return reported ? { kind: "report" } : { kind: "none" };
  if (symbols.size > 1) {
    return {
      kind: "unclear",
      reason: `This names ${[...symbols].join(" and ")}: a management message acts on one trade at a time.`,
    };
  }
  const management: TradeManagement = {
    stop: null,
    cancelEntries: false,
    closePercent: null,
    symbol: [...symbols][0] ?? null,
    reported,
  };
  for (const action of actions) {
    if (action.kind === "stop") {
      if (management.stop && !sameLevel(management.stop, action.level)) {
        return { kind: "unclear", reason: "This moves the stop to two different levels; post one." };
      }
      management.stop = action.level;
    } else if (action.kind === "trail") {
      if (management.trail && JSON.stringify(management.trail) !== JSON.stringify(action.distance)) {
        return { kind: "unclear", reason: "This trails the stop by two different distances; post one." };
      }
      management.trail = action.distance;
    } else if (action.kind === "cancel") {
      management.cancelEntries = true;
    } else if (action.kind === "close") {
      if (management.closePercent !== null && management.closePercent !== action.percent) {
        return { kind: "unclear", reason: "This closes two different parts of the position; post one." };
      }
      management.closePercent = action.percent;
    }
  }
  if (management.stop && management.trail) {
    return { kind: "unclear", reason: "This both moves the stop to a level and trails it; post one." };
  }
  return { kind: "management", management };
}

/** Clauses: lines, sentences, commas, semicolons, " - ", "&", "and", "then" (a decimal point is not a stop). */
function splitClauses(text: string): string[] {
  return text
    .split(/[\n;!|]|,(?!\d{3}\b)|\.(?=\s|$)|\s[-–—]+\s|\s&\s|\s(?:and|then|also)\s/i)
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

/** One clause, or a report run into its instruction without a comma ("TP1 hit ✅ move SL to BE"): two. */
function readClause(raw: string, symbols: Set<string>): Clause[] {
  const words: string[] = [];
  for (const word of clean(raw).split(" ")) {
    if (word === "") continue;
    const symbol = symbolOf(word);
    if (symbol) symbols.add(symbol);
    else words.push(word.toLowerCase());
  }
  const norm = stripFiller(words.join(" "));
  if (norm === "") return [{ kind: "chatter" }];
  const action = actionOf(norm);
  if (action) return [action];
  for (let cut = 1; cut < words.length; cut++) {
    const rest = actionOf(stripFiller(words.slice(cut).join(" ")));
    if (rest && rest.kind !== "other" && isReport(words.slice(0, cut).join(" "))) return [{ kind: "report" }, rest];
  }
  if (isReport(raw)) return [{ kind: "report" }];
  return [TRADING_WORD.test(norm) ? { kind: "other" } : { kind: "chatter" }];
}

function actionOf(norm: string): Clause | null {
  const trail = TRAIL_FORM.exec(norm);
  if (trail) {
    const distance = trailDistanceOf(Number(trail[1]), trail[2] === "%");
    return distance ? { kind: "trail", distance } : { kind: "other" };
  }
  for (const form of STOP_FORMS) {
    const match = form.exec(norm);
    if (!match) continue;
    if (match[1] === undefined) return { kind: "stop", level: { breakeven: true } };
    const price = Number(match[1]);
    return price > 0 && Number.isFinite(price) ? { kind: "stop", level: { price } } : { kind: "other" };
  }
  if (CANCEL_FORMS.some((form) => form.test(norm))) return { kind: "cancel" };
  const close = CLOSE_FORM.exec(norm) ?? TAKE_FORM.exec(norm);
  if (close) {
    const percent = percentOf(close[1], close[2]);
    return percent === null ? { kind: "other" } : { kind: "close", percent };
  }
  return null;
}

/** The part written: all (or nothing, after close/exit) is 100, half 50, "30%" 30; none outside (0, 100]. */
function percentOf(part: string | undefined, digits: string | undefined): number | null {
  if (part === undefined) return 100;
  if (part === "half") return 50;
  if (digits !== undefined) {
    const percent = Number(digits);
    return percent > 0 && percent <= 100 ? percent : null;
  }
  return 100;
}

/** The signal parser's own reading of a report ("TP2 reached", "Entry 1 ✅", "Profit: 69%", "stopped out"). */
function isReport(raw: string): boolean {
  const parsed = parseSignal(raw);
  return !parsed.ok && parsed.errors.every((error) => error.code === "RESULT_REPORT");
}

/** Discord noise off: mentions, markdown, emoji and punctuation that decorates (a price keeps its point). */
function clean(raw: string): string {
  return raw
    .replace(/<@[!&]?\d+>|<#\d+>|<a?:\w+:\d+>|@here|@everyone/g, " ")
    .replace(/[*_~`>]/g, " ")
    .replace(/\p{Extended_Pictographic}|\uFE0F|\u200D/gu, " ")
    .replace(/^\s*(?:trade\s+)?(?:update|management|note)\s*[:-]\s*/i, "")
    .replace(/[()[\]{}"“”'’?]/g, " ")
    .replace(/(\d)\s*%/g, "$1%")
    .replace(/\s*:\s*/g, " : ")
    .replace(/\s+/g, " ")
    .trim();
}

const FILLER = /\b(?:please|pls|guys|everyone|folks|team|now|here|asap|just|ok|okay)\b/g;

function stripFiller(norm: string): string {
  return norm
    .replace(FILLER, " ")
    .replace(/^:\s*|\s*:$/g, "")
    .replace(/\s(?:on|for|in)$/, "")
    .replace(/\s+/g, " ")
    .trim();
}

/** A word that names the instrument: tagged (`$AAPL`, `#BTCUSDT`) or written in capitals and not a keyword. */
function symbolOf(word: string): string | null {
  const tagged = /^[$#]/.test(word);
  const bare = word.replace(/^[$#]/, "").replace(/[.,:]+$/, "");
  if (bare === "" || (!tagged && (bare !== bare.toUpperCase() || NOT_SYMBOLS.has(bare) || /\d/.test(bare[0] ?? "")))) {
    return null;
  }
  if (!tagged && !/[A-Z]/.test(bare)) return null;
  if (!tagged && /^(?:TP|PT|SL)\d*$/.test(bare)) return null;
  const reading = readSymbolWord(bare.toUpperCase());
  return reading ? reading.symbol : null;
}

function sameLevel(a: StopLevel, b: StopLevel): boolean {
  return "price" in a ? "price" in b && a.price === b.price : "breakeven" in b;
}

/** The instruction in words, for the provider's reply and the followers' messages. */
export function describeManagement(management: TradeManagement): string {
  const parts: string[] = [];
  if (management.cancelEntries) parts.push("cancel the entries not filled yet");
  if (management.stop) {
    parts.push("price" in management.stop ? `move the stop to ${management.stop.price}` : "move the stop to breakeven");
  }
  if (management.trail) {
    parts.push(
      "percent" in management.trail
        ? `trail the stop ${management.trail.percent}% behind the best price`
        : `trail the stop ${management.trail.amount} behind the best price`,
    );
  }
  if (management.closePercent !== null) {
    parts.push(
      management.closePercent === 100
        ? "close the position"
        : management.closePercent === 50
          ? "close half the position"
          : `close ${management.closePercent}% of the position`,
    );
  }
  return parts.join(", ");
}

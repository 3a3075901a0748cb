import type { NormalizedSignal } from "./schema";

/** The closed list of reasons a text is not a valid signal. Stable: clients match on them. */
export const SIGNAL_ERROR_CODES = [
  "TOO_LONG",
  "NOT_A_SIGNAL",
  "UNKNOWN_SIDE",
  "AMBIGUOUS_SIDE",
  "UNKNOWN_SYMBOL",
  "AMBIGUOUS_SYMBOL",
  "AMBIGUOUS_NUMBER",
  "AMBIGUOUS_ENTRY",
  "AMBIGUOUS_STOP",
  "AMBIGUOUS_QUANTITY",
  "AMBIGUOUS_LEVERAGE",
  "AMBIGUOUS_ORDER_TYPE",
  "AMBIGUOUS_TIME_IN_FORCE",
  "AMBIGUOUS_OPTION",
  "INVALID_QUANTITY",
  "INVALID_PERCENT",
  "INVALID_PRICE",
  "INVALID_LEVERAGE",
  "INVALID_DATE",
  "INVALID_ORDER_TYPE",
  "MISSING_PRICE",
  "MISSING_QUANTITY",
  "STOP_WRONG_SIDE",
  "TARGET_WRONG_SIDE",
  "TOO_MANY_TARGETS",
  "OPTION_MISSING_STRIKE",
  "OPTION_MISSING_RIGHT",
  "OPTION_MISSING_EXPIRATION",
  "NEGATED_SIGNAL",
  "MANAGEMENT_MESSAGE",
  "RESULT_REPORT",
  "SEVERAL_SIGNALS",
] as const;

export type SignalErrorCode = (typeof SIGNAL_ERROR_CODES)[number];

/** One problem, located by character offsets into the text that was parsed (end exclusive). */
export interface SignalError {
  code: SignalErrorCode;
  message: string;
  start: number;
  end: number;
}

export type ParseResult = { ok: true; signal: NormalizedSignal } | { ok: false; errors: SignalError[] };

/** Input longer than this is refused before any parsing (bounded work per request). */
export const MAX_SIGNAL_TEXT_LENGTH = 2_000;

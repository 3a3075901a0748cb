import { SIGNAL_ERROR_CODES } from "./errors";

/**
 * Why a signal webhook's body is not a signal: the parser's codes, and three that only structured bodies have
 * (a TradersPost action or feature this platform does not trade, a field of the wrong type).
 */
export const WEBHOOK_SIGNAL_ERROR_CODES = [
  ...SIGNAL_ERROR_CODES,
  "UNSUPPORTED_ACTION",
  "UNSUPPORTED_FEATURE",
  "INVALID_FIELD",
] as const;

export type WebhookSignalErrorCode = (typeof WEBHOOK_SIGNAL_ERROR_CODES)[number];

/**
 * One problem: the field at fault in a JSON body (`quantity`, `stopLoss.percent`, `signal.entry`), or the offsets
 * in a `{"text"}` body (end exclusive).
 */
export interface WebhookSignalError {
  code: WebhookSignalErrorCode;
  message: string;
  field: string | null;
  start?: number;
  end?: number;
}

export {
  MAX_SIGNAL_TEXT_LENGTH,
  type ParseResult,
  SIGNAL_ERROR_CODES,
  type SignalError,
  type SignalErrorCode,
} from "./errors";
export { formatSignal } from "./format";
export {
  type SignalOptionField,
  type SignalOptions,
  type SignalOptionsError,
  type SignalOptionsResult,
  SignalOptionsSchema,
  signalFromOptions,
} from "./options";
export { type ParseOptions, parseSignal } from "./parser";
export * from "./schema";

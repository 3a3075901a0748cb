import { z } from "zod";
import type { SignalErrorCode } from "./errors";
import { formatDecimal } from "./numbers";
import { parseSignal } from "./parser";
import { type NormalizedSignal, SIGNAL_ACTIONS } from "./schema";

/**
 * A signal from structured options (Discord's `/signal action: symbol: quantity: entry: stop: targets:`).
 * Each option is checked for its own shape, then they are written as one canonical text and read by
 * `parseSignal`, so a structured signal and the same signal typed as `/signal text:` are read by the same
 * code and give the same normalized signal.
 */

const numberLike = z.union([z.number(), z.string()]);

const SignalOptionsSchema = z.object({
  action: z.string(),
  symbol: z.string(),
  quantity: numberLike.nullish(),
  entry: numberLike.nullish(),
  stop: numberLike.nullish(),
  /** Comma-separated prices, "260, 270" (a comma always separates targets here). */
  targets: numberLike.nullish(),
});

export type SignalOptions = z.input<typeof SignalOptionsSchema>;
type SignalOptionField = "action" | "symbol" | "quantity" | "entry" | "stop" | "targets";

interface SignalOptionsError {
  code: SignalErrorCode;
  message: string;
  /** The option at fault, or null when the problem is the combination. */
  field: SignalOptionField | null;
}

export type SignalOptionsResult =
  | { ok: true; signal: NormalizedSignal; text: string }
  | { ok: false; errors: SignalOptionsError[] };

const ACTION_ALIASES: Record<string, string> = { long: "buy" };

const TICKER_PART = /^[$#]?[A-Za-z][A-Za-z0-9./_-]{0,19}$/;
const CONTRACT_PART =
  /^(\d{1,2}\/\d{1,2}(\/\d{2}(\d{2})?)?|\d{4}-\d{2}-\d{2}|\$?\d+(\.\d+)?([cp]|calls?|puts?)?|calls?|puts?|0dte)$/i;
const AMOUNT = /^-?\$?\d[\d,]*(\.\d+)?k?$/i;
const QUANTITY = /^-?\d[\d,]*(\.\d+)?%?$/;
const ENTRY_RANGE = /^\$?\d[\d,]*(\.\d+)?k?\s*(-|to)\s*\$?\d[\d,]*(\.\d+)?k?$/i;

interface Segment {
  field: SignalOptionField;
  start: number;
  end: number;
}

export function signalFromOptions(input: SignalOptions, options: { now?: Date } = {}): SignalOptionsResult {
  const shape = SignalOptionsSchema.safeParse(input);
  if (!shape.success) {
    return {
      ok: false,
      errors: shape.error.issues.map((issue) => ({
        code: codeFor(String(issue.path[0] ?? "")),
        message: `${issue.path.join(".")}: ${issue.message}`,
        field: fieldOf(issue.path[0]),
      })),
    };
  }
  const opts = shape.data;
  const errors: SignalOptionsError[] = [];
  const pieces: { field: SignalOptionField; text: string }[] = [];

  const action = ACTION_ALIASES[opts.action.trim().toLowerCase()] ?? opts.action.trim().toLowerCase();
  if ((SIGNAL_ACTIONS as readonly string[]).includes(action))
    pieces.push({ field: "action", text: action.toUpperCase() });
  else
    errors.push({
      code: "UNKNOWN_SIDE",
      message: `Unknown action "${opts.action}": use ${SIGNAL_ACTIONS.join(", ")}.`,
      field: "action",
    });

  const symbolParts = opts.symbol.trim().split(/\s+/);
  const [ticker = "", ...contract] = symbolParts;
  if (TICKER_PART.test(ticker) && contract.every((part) => CONTRACT_PART.test(part)) && contract.length <= 4) {
    const tagged = /^[$#]/.test(ticker) ? ticker : `$${ticker}`;
    pieces.push({ field: "symbol", text: [tagged, ...contract].join(" ") });
  } else {
    errors.push({
      code: "UNKNOWN_SYMBOL",
      message: `"${opts.symbol}" is not a ticker, a crypto pair, or a ticker with an option contract ("AAPL 12/20 190C").`,
      field: "symbol",
    });
  }

  const quantity = text(opts.quantity);
  if (quantity !== null) {
    const compact = quantity.replace(/\s+/g, "");
    if (QUANTITY.test(compact))
      pieces.push({ field: "quantity", text: compact.endsWith("%") ? compact : `QTY ${compact}` });
    else
      errors.push({
        code: "INVALID_QUANTITY",
        message: `"${quantity}" is not a quantity or a percent.`,
        field: "quantity",
      });
  }

  const entry = text(opts.entry);
  if (entry !== null) {
    if (/^(market|mkt)$/i.test(entry)) pieces.push({ field: "entry", text: "MKT" });
    else if (AMOUNT.test(entry) || ENTRY_RANGE.test(entry)) pieces.push({ field: "entry", text: `@ ${entry}` });
    else
      errors.push({
        code: "INVALID_PRICE",
        message: `"${entry}" is not a price, a zone (250-252) or "market".`,
        field: "entry",
      });
  }

  const stop = text(opts.stop);
  if (stop !== null) {
    if (AMOUNT.test(stop)) pieces.push({ field: "stop", text: `SL ${stop}` });
    else errors.push({ code: "INVALID_PRICE", message: `"${stop}" is not a price.`, field: "stop" });
  }

  const targets = text(opts.targets);
  if (targets !== null) {
    const prices = targets.split(/[\s,;/]+/).filter((p) => p !== "");
    if (prices.length > 0 && prices.every((p) => AMOUNT.test(p))) {
      pieces.push({ field: "targets", text: prices.map((p) => `TP ${p}`).join(" ") });
    } else {
      errors.push({
        code: "INVALID_PRICE",
        message: `"${targets}" is not a comma-separated list of prices.`,
        field: "targets",
      });
    }
  }

  if (errors.length > 0) return { ok: false, errors };

  const segments: Segment[] = [];
  let composed = "";
  for (const piece of pieces) {
    if (composed !== "") composed += " ";
    segments.push({ field: piece.field, start: composed.length, end: composed.length + piece.text.length });
    composed += piece.text;
  }
  const result = parseSignal(composed, options);
  if (result.ok) return { ok: true, signal: result.signal, text: composed };
  return {
    ok: false,
    errors: result.errors.map((error) => ({
      code: error.code,
      message: error.message,
      field:
        segments.find((s) => error.start >= s.start && error.end <= s.end && error.end > error.start)?.field ?? null,
    })),
  };
}

function text(value: string | number | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return Number.isFinite(value) ? formatDecimal(value) : String(value);
  const trimmed = value.trim();
  return trimmed === "" ? null : trimmed;
}

function fieldOf(key: PropertyKey | undefined): SignalOptionField | null {
  const fields: SignalOptionField[] = ["action", "symbol", "quantity", "entry", "stop", "targets"];
  return fields.find((f) => f === key) ?? null;
}

function codeFor(field: string): SignalErrorCode {
  switch (field) {
    case "action":
      return "UNKNOWN_SIDE";
    case "symbol":
      return "UNKNOWN_SYMBOL";
    case "quantity":
      return "INVALID_QUANTITY";
    default:
      return "INVALID_PRICE";
  }
}

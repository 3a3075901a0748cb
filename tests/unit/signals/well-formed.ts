import { isDeepStrictEqual } from "node:util";
import { type ParseResult, SIGNAL_ERROR_CODES } from "../../../shared/signals/errors";
import { NormalizedSignalSchema } from "../../../shared/signals/schema";
import type { NumberedLayout } from "./arbitraries";

/**
 * Why a parse result is malformed, or null when it is well formed: a schema-valid signal, or a non-empty
 * list of known error codes, each with a message and offsets inside the text. (No test-runner imports:
 * scripts/fuzz-signals.ts uses it too.)
 */
export function wellFormedProblem(text: string, result: ParseResult): string | null {
  if (result.ok) {
    const check = NormalizedSignalSchema.safeParse(result.signal);
    return check.success ? null : `signal fails the schema: ${check.error.message}`;
  }
  if (result.errors.length === 0) return "failure without errors";
  for (const error of result.errors) {
    if (!(SIGNAL_ERROR_CODES as readonly string[]).includes(error.code)) return `unknown code ${error.code}`;
    if (typeof error.message !== "string" || error.message === "") return `empty message for ${error.code}`;
    const { start, end } = error;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start > end || end > text.length) {
      return `bad offsets ${start}..${end} for ${error.code} in a text of ${text.length}`;
    }
  }
  return null;
}

/**
 * Why a numbered-list layout was misread, or null: it must give exactly the prices it was written from (no item
 * number as a target, stop, entry or quantity), or, where a number could also be a price, refuse with
 * AMBIGUOUS_NUMBER.
 */
export function listLayoutProblem(layout: NumberedLayout, result: ParseResult): string | null {
  if (!result.ok) {
    const codes = [...new Set(result.errors.map((e) => e.code))];
    if (layout.unambiguous) return `an unambiguous layout was refused: ${JSON.stringify(result.errors)}`;
    return isDeepStrictEqual(codes, ["AMBIGUOUS_NUMBER"]) ? null : `refused with ${codes.join(", ")}`;
  }
  const { signal } = result;
  const read = {
    side: signal.action,
    entry: signal.entry,
    stopLoss: signal.stopLoss,
    targets: signal.takeProfits.map((t) => t.price),
    quantity: signal.quantity,
  };
  const written = {
    side: layout.side,
    entry: layout.entry === null ? null : { price: layout.entry },
    stopLoss: layout.stopLoss,
    targets: layout.targets,
    quantity: null,
  };
  return isDeepStrictEqual(read, written) ? null : `read ${JSON.stringify(read)}, written ${JSON.stringify(written)}`;
}

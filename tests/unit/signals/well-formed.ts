import { type ParseResult, SIGNAL_ERROR_CODES } from "../../../shared/signals/errors";
import { NormalizedSignalSchema } from "../../../shared/signals/schema";

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

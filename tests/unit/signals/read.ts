import type { SignalErrorCode } from "../../../shared/signals/errors";
import { parseSignal } from "../../../shared/signals/parser";
import type { NormalizedSignal } from "../../../shared/signals/schema";
import { NOW } from "./case-builders";

/** Reading helpers for the scenario tests: every text is read as if posted at NOW. */

export const parse = (text: string) => parseSignal(text, { now: NOW });

export function signalOf(text: string): NormalizedSignal {
  const result = parse(text);
  if (!result.ok) throw new Error(`expected a signal from ${JSON.stringify(text)}: ${JSON.stringify(result.errors)}`);
  return result.signal;
}

/** Each error as its code and the text it points at. */
export function errorsOf(text: string): { code: SignalErrorCode; at: string }[] {
  const result = parse(text);
  if (result.ok) throw new Error(`expected errors from ${JSON.stringify(text)}`);
  return result.errors.map((e) => ({ code: e.code, at: text.slice(e.start, e.end) }));
}

import { formatSignal, type NormalizedSignal, parseSignal, signalFromOptions } from "./index";
import { readManagement, type TradeManagement } from "./management";

/**
 * The signal language as every door reads it (slash commands, channel
 * messages, webhooks): free text and the structured options both end in the
 * same normalized signal, and a failure carries every error with its code and
 * the text (or option) at fault, ready to be shown to the provider.
 */

interface ReadingError {
  /** For the logs: members read the message. */
  code: string;
  message: string;
  /** The offending text (free text), or the option at fault (structured). */
  at: string | null;
  /** Free text: where in the text the problem is (end exclusive), to highlight just those words. */
  span?: { start: number; end: number };
  /** Structured options: the option at fault. */
  option?: string;
}

export type SignalReading =
  | { ok: true; signal: NormalizedSignal; text: string }
  | { ok: false; errors: ReadingError[] };

export interface StructuredSignalOptions {
  action?: string;
  symbol?: string;
  quantity?: number;
  entry?: string;
  stop?: number;
  targets?: string;
}

export function readSignalText(text: string, nowMs: number): SignalReading {
  const result = parseSignal(text, { now: new Date(nowMs) });
  if (result.ok) return { ok: true, signal: result.signal, text };
  return {
    ok: false,
    errors: result.errors.map((error) => {
      const excerpt = text.slice(error.start, error.end).trim();
      return {
        code: error.code,
        message: error.message,
        at: excerpt ? `"${excerpt.slice(0, 80)}"` : null,
        span: { start: error.start, end: error.end },
      };
    }),
  };
}

/** The structured options of /signal and /trade; `text` is the canonical text they were read as. */
export function readSignalOptions(options: StructuredSignalOptions, nowMs: number): SignalReading {
  const missing = (["action", "symbol"] as const).filter((name) => !options[name]);
  if (missing.length > 0) {
    return {
      ok: false,
      errors: missing.map((name) => ({
        code: name === "action" ? "UNKNOWN_SIDE" : "UNKNOWN_SYMBOL",
        message: `The structured form needs \`${name}\`.`,
        at: `option \`${name}\``,
        option: name,
      })),
    };
  }
  const result = signalFromOptions(
    {
      action: options.action ?? "",
      symbol: options.symbol ?? "",
      quantity: options.quantity ?? null,
      entry: options.entry ?? null,
      stop: options.stop ?? null,
      targets: options.targets ?? null,
    },
    { now: new Date(nowMs) },
  );
  if (result.ok) return { ok: true, signal: result.signal, text: result.text };
  return {
    ok: false,
    errors: result.errors.map((error) => ({
      code: error.code,
      message: error.message,
      at: error.field ? `option \`${error.field}\`` : null,
      ...(error.field ? { option: error.field } : {}),
    })),
  };
}

/** The canonical one-line text of a signal (what the bot echoes). */
export function describeSignal(signal: NormalizedSignal): string {
  return formatSignal(signal);
}

/** The problems in words, one bullet each (codes stay in the logs); structured options are named. */
export function readingErrors(reading: Extract<SignalReading, { ok: false }>): string[] {
  const lines = reading.errors.slice(0, 10).map((e) => `• ${e.option ? `\`${e.option}\`: ` : ""}${e.message}`);
  if (reading.errors.length > 10) lines.push(`• …and ${reading.errors.length - 10} more`);
  return lines;
}

/** A provider's message in a signal channel: a new signal, trade management, a result report, or neither. */
export type ProviderMessageReading =
  | { kind: "signal"; reading: Extract<SignalReading, { ok: true }> }
  | { kind: "management"; management: TradeManagement }
  | { kind: "report" }
  | { kind: "invalid"; reading: Extract<SignalReading, { ok: false }> };

/**
 * Reads a provider's channel message. In a reply (to the signal it manages) an instruction is read first, so
 * "close all AAPL" there acts on that signal's trade; elsewhere a text that is a whole signal stays one (an exit
 * signal acts on every follower's position), and management must name its symbol.
 */
export function readProviderMessage(text: string, nowMs: number, context: { reply: boolean }): ProviderMessageReading {
  const management = readManagement(text);
  if (context.reply && management.kind === "management") return management;
  const signal = readSignalText(text, nowMs);
  if (signal.ok) return { kind: "signal", reading: signal };
  if (management.kind === "management") return management;
  if (management.kind === "report") return { kind: "report" };
  if (management.kind === "none") return { kind: "invalid", reading: signal };
  return {
    kind: "invalid",
    reading: { ok: false, errors: [{ code: "MANAGEMENT_MESSAGE", message: management.reason, at: null }] },
  };
}

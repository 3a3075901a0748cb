import { z } from "zod";
import type { AccountMode } from "../discord/badge";
import { type Instrument, instrumentKey, normalizeCryptoPair } from "../quotes/instrument";
import { readSignalOptions } from "../signals/reading";
import { OptionContractSchema } from "../signals/schema";
import { readSymbolWord } from "../signals/symbols";
import { instrumentName } from "./order-label";

/**
 * `/close symbol:<ticker>|all`: what a member asks to close, read the way every other door reads a symbol, and the
 * executor's answer. A bare ticker covers the shares and every option contract on it; a contract ("AAPL 12/20 190C")
 * only that contract; a bare coin ("btc") every pair of that coin; a pair ("BTC/USDT") only that pair; the word `all`
 * every position (`$ALL` is the ticker).
 */

const InstrumentTargetSchema = z.object({
  kind: z.literal("instrument"),
  assetClass: z.enum(["equity", "option", "crypto"]),
  symbol: z.string().min(1).max(32),
  option: OptionContractSchema.nullable(),
  /** A coin named without its quote currency: any pair of that coin. */
  anyQuote: z.boolean(),
});

export const CloseTargetSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("all") }),
  InstrumentTargetSchema,
]);
export type CloseTarget = z.infer<typeof CloseTargetSchema>;

export const MemberCloseInputSchema = z.object({
  communityId: z.string().min(1),
  userId: z.string().min(1),
  /** The interaction's id: the idempotency key (the same close asked again never closes twice). */
  sourceId: z.string().min(1).max(200),
  target: CloseTargetSchema,
});
export type MemberCloseInput = z.infer<typeof MemberCloseInputSchema>;

/** What a close did, each order in words ("sell 20 × AAPL at market (exit)"). */
export interface MemberCloseDone {
  status: "closing" | "nothing_to_close";
  /** An answer given again for the same source id (nothing done this time). */
  duplicate: boolean;
  /** The account the positions are in. */
  mode: AccountMode;
  /** The reduce-only market orders sent. */
  sent: string[];
  /** Working orders canceled: entries not filled, stops, take-profits, resting exits. */
  canceled: string[];
  /** Market exits already on their way, left to finish (the close sends only what they leave). */
  alreadyClosing: string[];
  /** Working orders that could not be canceled in time (filled or still working at the broker). */
  notCanceled: string[];
}

export type MemberCloseOutcome =
  | MemberCloseDone
  | { status: "in_progress"; duplicate: true }
  | { status: "refused"; code: "INVALID_INPUT"; message: string };

export type CloseTargetReading = { ok: true; target: CloseTarget } | { ok: false; message: string };

/** The `symbol` option as typed: `all`, or a symbol normalized as /trade and /signal normalize theirs. */
export function readCloseTarget(typed: string, nowMs: number): CloseTargetReading {
  const text = typed.trim().replaceAll("`", "");
  if (/^all$/i.test(text)) return { ok: true, target: { kind: "all" } };
  const reading = readSignalOptions({ action: "close", symbol: text }, nowMs);
  if (!reading.ok) return { ok: false, message: reading.errors.map((error) => error.message).join(" ") };
  const { assetClass, symbol, option } = reading.signal;
  const bare = text.replace(/^[$#]/, "").toUpperCase();
  const anyQuote = assetClass === "crypto" && readSymbolWord(bare)?.form === "coin";
  return { ok: true, target: { kind: "instrument", assetClass, symbol, option, anyQuote } };
}

/** Whether the target covers an instrument (a position's or an order's; an option's symbol is its underlying). */
export function closeTargetCovers(target: CloseTarget, instrument: Instrument): boolean {
  if (target.kind === "all") return true;
  switch (target.assetClass) {
    case "option":
      return instrument.option !== null && instrumentKey(instrument) === instrumentKey(target);
    case "equity":
      return instrument.option
        ? instrument.option.underlying === target.symbol
        : instrument.assetClass === "equity" && instrument.symbol.toUpperCase() === target.symbol;
    case "crypto":
      if (instrument.assetClass !== "crypto") return false;
      return target.anyQuote
        ? normalizeCryptoPair(instrument.symbol).base === normalizeCryptoPair(target.symbol).base
        : instrumentKey(instrument) === instrumentKey(target);
  }
}

/** The target as the member reads it: "AAPL", "BTC", "BTC/USDT", "AAPL 20 Dec 2026 $190 Call", or null for `all`. */
export function closeTargetName(target: CloseTarget): string | null {
  if (target.kind === "all") return null;
  if (target.anyQuote) return normalizeCryptoPair(target.symbol).base;
  return instrumentName(target);
}

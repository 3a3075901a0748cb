/**
 * Fitting a sized quantity under the position size, notional and buying
 * power limits: each one that binds cuts the quantity down (a reduction that
 * says why); when not even one lot fits, the decision is a skip instead.
 */
import { amount, instrumentLabel, money, unitName } from "./format";
import { roundDownToLot } from "./instruments";
import { SKIP_REASONS, skip } from "./skip-reasons";
import type { Reduction, RiskSignal, SkipDecision } from "./types";

export interface Cap {
  reason: Reduction["reason"];
  /** Currency the position may still take under this limit. */
  room: number;
  /** Completes "to fit ..." for a quantity that costs `needed`. */
  describe: (needed: number) => string;
}

export interface FitInput {
  signal: Pick<RiskSignal, "assetClass" | "symbol" | "option">;
  quantity: number;
  unitCost: number;
  step: number;
  caps: Cap[];
}

export type FitResult = { ok: true; quantity: number; reductions: Reduction[] } | { ok: false; skip: SkipDecision };

export function fitToLimits({ signal, quantity: desired, unitCost, step, caps }: FitInput): FitResult {
  const units = unitName(signal);
  const smallestLot = step * unitCost;
  const reductions: Reduction[] = [];
  let quantity = desired;
  for (const cap of caps) {
    const room = Math.max(0, cap.room);
    const fits = roundDownToLot(room / unitCost, step);
    if (quantity <= fits) continue;
    const needed = quantity * unitCost;
    if (fits <= 0) {
      const message =
        cap.reason === "insufficient_buying_power"
          ? `Insufficient buying power: the order needs ${money(needed)} (${amount(quantity)} ${units} of ${instrumentLabel(signal)}), ${money(room)} is available, and even one lot needs ${money(smallestLot)}.`
          : `${SKIP_REASONS[cap.reason]} Room left: ${money(room)}; one lot of ${instrumentLabel(signal)} costs ${money(smallestLot)}.`;
      return {
        ok: false,
        skip: skip(cap.reason, message, { needed, available: room, smallestLotCost: smallestLot, quantity }),
      };
    }
    reductions.push({
      reason: cap.reason,
      from: quantity,
      to: fits,
      message: `Reduced from ${amount(quantity)} to ${amount(fits)} ${units} to fit ${cap.describe(needed)}.`,
    });
    quantity = fits;
  }
  return { ok: true, quantity, reductions };
}

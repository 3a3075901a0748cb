/**
 * What a member is told about their copies, word for word: a signal not
 * copied (with the way out), an order placed (with the engine's own
 * explanations), a confirmation request, and the daily digest of skipped
 * copies. Pure text; the executor adds the badge and sends it through the
 * one DM sender.
 */
import { formatPrice, formatQuantity, legLabel, priceCurrency, quantityOf } from "../discord/format";
import type { StoredOrderIntent } from "../execution/order-intent";
import { type DescribableOrder, describeOrder } from "../execution/order-label";
import type { Instrument } from "../quotes/instrument";

/** What each skip reason leaves the member to do; reasons whose own words already say it have none. */
const WAY_OUT: Record<string, string> = {
  max_open_positions: "Close one (/portfolio) or change your limits (/risk set).",
  max_positions_per_symbol: "Close that position (/close) or change your limits (/risk set).",
  max_position_size: "Raise your max position size (/risk set) or add funds.",
  max_notional: "Raise your max notional (/risk set).",
  max_total_exposure: "Close a position (/portfolio) or raise your max exposure (/risk set).",
  min_balance: "Add funds or lower your minimum balance (/risk set).",
  insufficient_buying_power: "Close a position (/portfolio) or add funds.",
  asset_class_not_allowed: "Allow it in your settings (/risk set).",
  symbol_not_allowed: "Add it to your allow list (/risk set).",
  symbol_denied: "Remove it from your deny list (/risk set).",
  below_min_price: "Lower your minimum price (/risk set).",
  max_orders_per_day: "Your count starts again at 00:00 UTC, or raise the limit (/risk set).",
  no_position_to_close: "Nothing to do: you had nothing to close.",
  quantity_rounds_to_zero: "Choose a bigger size with /follow.",
  no_price: "Place it yourself with /trade if you still want it.",
  short_not_supported: "Connect a broker that allows short selling (/broker).",
  stop_required: "Turn your default stop back on (/risk set) or follow with another sizing (/follow).",
  invalid_stop: "Ask the provider to correct the signal.",
  invalid_take_profit: "Ask the provider to correct the signal.",
  no_broker_account: "Connect a broker for this asset class (/broker).",
  daily_loss_limit: "",
  paused: "",
  halted: "Trading resumes when an admin lifts the halt.",
};

/** The way out for a skip reason ("" when the reason's own words say it). */
export function wayOutOf(reason: string): string {
  return WAY_OUT[reason] ?? "";
}

export interface SkippedCopy {
  /** The provider's username (without @), null when not known. */
  provider: string | null;
  /** The signal as the member reads it: "BUY META", "SELL 50% AAPL 20 Dec 2026 $190 Call". */
  signal: string;
  reason: string;
  /** The engine's sentence for this member ("You hold 3 of 3 open positions."). */
  message: string;
}

function providerName(provider: string | null): string {
  return provider ? `@${provider}` : "a provider you follow";
}

/** "⏭️ Not copied — @pete · BUY META. You hold 3 of 3 open positions. Close one (/portfolio) or change your limits (/risk set)." */
export function skippedCopyMessage(skip: SkippedCopy): string {
  const way = wayOutOf(skip.reason);
  return `⏭️ Not copied — ${providerName(skip.provider)} · ${skip.signal}. ${skip.message}${way ? ` ${way}` : ""}`;
}

/** A standing reason (market closed, paused, locked...) is told once a day; this says so, so silence is no surprise. */
export const ONCE_A_DAY = "You are told this once a day: other signals today are not copied for the same reason.";

/** One line per skipped copy in the daily digest. */
export function digestMessage(day: string, skips: readonly SkippedCopy[], more = 0): string {
  const total = skips.length + more;
  const lines = skips.slice(0, 20).map((s) => `• ${providerName(s.provider)} · ${s.signal}: ${s.message}`);
  if (total > lines.length) lines.push(`• …and ${total - lines.length} more`);
  const count = `${total} signal${total === 1 ? "" : "s"} you follow ${total === 1 ? "was" : "were"} not copied`;
  return `📋 Daily digest for ${day}: ${count}.\n${lines.join("\n")}\nTo hear about each one as it happens: /risk notify skips:each.`;
}

type PlacedOrder = DescribableOrder & { intent: DescribableOrder["intent"] & StoredOrderIntent };

/** The engine's reasons behind an order, in the member's words: its sizing, what was reduced, what was added. */
export function orderExplanations(intent: Pick<StoredOrderIntent, "sizingNote" | "reductions" | "notes">): string[] {
  return [
    ...(intent.sizingNote ? [intent.sizingNote] : []),
    ...(intent.reductions ?? []).map((r) => r.message),
    ...(intent.notes ?? []),
  ];
}

function bullets(lines: readonly string[]): string {
  return lines.map((line) => `\n• ${line}`).join("");
}

/** The exits an entry carries, in plain words ("stop-loss $185.00; take-profit 1 $195.00"). */
function exitsLine(order: PlacedOrder): string | null {
  const exits = order.intent.exits ?? [];
  if (exits.length === 0) return null;
  const currency = priceCurrency(order);
  const parts = exits.map((exit) => {
    const level = exit.stopPrice ?? exit.limitPrice;
    const at = level === null ? "at market" : formatPrice(level, currency);
    return `${legLabel(exit.leg)} ${at} for ${formatQuantity(exit.quantity)}`;
  });
  return `Exits: ${parts.join("; ")}.`;
}

/**
 * "📨 Order placed: buy 10 × AAPL limit $190.50. It is working at the broker: you get a message when it fills."
 * with the exits and the engine's explanations as bullets.
 */
export function orderPlacedMessage(order: PlacedOrder): string {
  const working =
    order.orderType === "market"
      ? "It goes to the broker at market: you get a message when it fills."
      : `It is working at the broker until it fills or is canceled (${order.intent.timeInForce === "gtc" ? "good until canceled" : "for the day"}): you get a message when it fills. Cancel it with /cancel.`;
  const exits = exitsLine(order);
  return `📨 Order placed: ${describeOrder(order)}. ${working}${bullets([...(exits ? [exits] : []), ...orderExplanations(order.intent)])}`;
}

/** The confirm-mode request: the order, its explanations, and the deadline. */
export function confirmRequestMessage(order: PlacedOrder, seconds: number): string {
  const exits = exitsLine(order);
  return `🔔 Confirm your order: ${describeOrder(order)}. It is canceled if not confirmed within ${seconds} seconds.${bullets([...(exits ? [exits] : []), ...orderExplanations(order.intent)])}`;
}

/** A position a member holds, as they read it ("10 × AAPL", "2 × AAPL 20 Dec 2026 $190 Call"). */
export interface HeldPosition {
  instrument: Instrument;
  direction: "long" | "short";
  quantity: number;
}

function heldLine(held: HeldPosition): string {
  return `${quantityOf(held.instrument, held.quantity)}${held.direction === "short" ? " (short)" : ""}`;
}

/**
 * An exit the member did not take (not confirmed in time, canceled, refused), said plainly: they still hold the
 * position, and the buttons close it or keep it.
 * "⚠️ Exit not taken (you canceled it): sell 10 × AAPL at market (exit). You still hold 10 × AAPL: nothing was sent to the
 * broker, so the position is open. [Close now] sells it at market; [Keep] leaves it as it is. The buttons work for
 * 24 hours."
 */
export function exitNotTakenMessage(exit: DescribableOrder, why: string, held: HeldPosition, hours: number): string {
  const close = held.direction === "short" ? "buys it back" : "sells it";
  return `⚠️ Exit not taken (${why}): ${describeOrder(exit)}. You still hold ${heldLine(held)}: nothing was sent to the broker, so the position is open. [Close now] ${close} at market; [Keep] leaves it as it is. The buttons work for ${hours} hours.`;
}

/**
 * An exit copy the risk engine refused while the member holds the position: not the plain "Not copied", but that
 * the position is still open, why the exit was not copied, and the buttons.
 * "⚠️ Exit not copied — @pete · SELL 50% AAPL. Your share rounds to 0 shares. You still hold 1 × AAPL: nothing was
 * sent to the broker, so the position is open. [Close now] sells it at market; [Keep] leaves it as it is. The
 * buttons work for 24 hours."
 */
export function exitNotCopiedMessage(skip: SkippedCopy, held: HeldPosition, hours: number): string {
  const close = held.direction === "short" ? "buys it back" : "sells it";
  return `⚠️ Exit not copied — ${providerName(skip.provider)} · ${skip.signal}. ${skip.message} You still hold ${heldLine(held)}: nothing was sent to the broker, so the position is open. [Close now] ${close} at market; [Keep] leaves it as it is. The buttons work for ${hours} hours.`;
}

/** [Close now] pressed: the close order is on its way. */
export function closingHeldMessage(close: DescribableOrder): string {
  return `📤 Closing: ${describeOrder(close)}. You get a message when it fills.`;
}

/** [Keep] pressed: nothing is sent, and the position stays. */
export function keptHeldMessage(held: HeldPosition): string {
  return `👌 Kept: you still hold ${heldLine(held)}. Nothing was sent; close it any time with /trade.`;
}

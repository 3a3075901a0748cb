/**
 * What a signal says in the channel and what its provider is told. The
 * channel sees only accepted signals, as an embed (what, entry, stop,
 * targets, provider); refusals, duplicates, expiries and the follower counts
 * go to the provider alone (ephemeral), since they show other members'
 * account state and the community's billing.
 */
import type { SignalSummary } from "../execution/summary";
import type { NormalizedSignal } from "../signals/schema";
import { formatPercent, formatPrice, formatQuantity, instrumentTitle, priceCurrency } from "./format";

const ACTION_WORDS: Record<NormalizedSignal["action"], string> = {
  buy: "BUY",
  sell: "SELL",
  short: "SHORT",
  cover: "COVER",
  close: "CLOSE",
};

/** Embed colours: green for a new long, red for a short, grey for closing. */
const COLOUR = { long: 0x2ecc71, short: 0xe74c3c, exit: 0x95a5a6 } as const;

/** "BUY AAPL", "CLOSE 50% AAPL 20 Dec 2026 $190 Call". */
export function signalHeadline(signal: NormalizedSignal): string {
  const part = signal.quantityPercent !== null ? ` ${formatPercent(signal.quantityPercent)}` : "";
  return `${ACTION_WORDS[signal.action]}${part} ${instrumentTitle(signal)}`;
}

function entryText(signal: NormalizedSignal, currency: string): string {
  const { entry } = signal;
  if (!entry) return "at market";
  if ("price" in entry) return `${formatPrice(entry.price, currency)} (${signal.orderType.replaceAll("_", " ")})`;
  return `${formatPrice(entry.low, currency)} – ${formatPrice(entry.high, currency)}`;
}

function targetsText(signal: NormalizedSignal, currency: string): string {
  if (signal.takeProfits.length === 0) return "none given (each follower's default applies)";
  return signal.takeProfits
    .map((tp, i) => {
      const share = tp.percent !== null ? ` for ${formatPercent(tp.percent)}` : "";
      return `${i + 1}. ${formatPrice(tp.price, currency)}${share}`;
    })
    .join("\n");
}

/** The public post of an accepted signal: one embed, nobody pinged. */
export function signalEmbed(signal: NormalizedSignal, providerDiscordId: string): Record<string, unknown> {
  const currency = priceCurrency(signal);
  const exit = signal.action === "sell" || signal.action === "cover" || signal.action === "close";
  const fields: { name: string; value: string; inline?: boolean }[] = [];
  if (!exit || signal.entry) fields.push({ name: "Entry", value: entryText(signal, currency), inline: true });
  if (signal.quantity !== null) {
    fields.push({ name: "Provider's size", value: formatQuantity(signal.quantity), inline: true });
  }
  if (!exit) {
    fields.push({
      name: "Stop-loss",
      value:
        signal.stopLoss !== null
          ? formatPrice(signal.stopLoss, currency)
          : signal.trailingStop
            ? `trailing ${"percent" in signal.trailingStop ? formatPercent(signal.trailingStop.percent) : formatPrice(signal.trailingStop.amount, currency)} behind the best price`
            : "none given (each follower's default applies)",
      inline: true,
    });
    fields.push({ name: "Targets", value: targetsText(signal, currency) });
  }
  if (signal.leverage !== null && signal.leverage > 1) {
    fields.push({ name: "Leverage", value: `${signal.leverage}× (followers trade without it)`, inline: true });
  }
  fields.push({ name: "Provider", value: `<@${providerDiscordId}>`, inline: true });
  return {
    title: `📣 ${signalHeadline(signal)}`,
    color: exit ? COLOUR.exit : signal.action === "short" ? COLOUR.short : COLOUR.long,
    fields,
    footer: { text: "Copied to followers' accounts within their own limits." },
  };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** What the provider's answer is made of: the executor's summary as the Discord side reads it. */
export type SignalOutcome = Pick<
  SignalSummary,
  | "status"
  | "message"
  | "followers"
  | "ordersQueued"
  | "ordersAwaitingConfirmation"
  | "ordersReduced"
  | "combinedWith"
  | "stoppedByHalt"
  | "notReached"
> & { skipped: Partial<Record<string, number>> };

/** "max open positions (2), market closed (1)": the skip reasons, most frequent first. */
function skippedText(skipped: SignalOutcome["skipped"]): string {
  return Object.entries(skipped)
    .filter(([, n]) => (n ?? 0) > 0)
    .sort(([a, x], [b, y]) => (y ?? 0) - (x ?? 0) || a.localeCompare(b))
    .map(([reason, n]) => `${shortReason(reason)} (${n})`)
    .join(", ");
}

const SHORT_REASONS: Record<string, string> = {
  outside_regular_hours: "market closed",
  paused: "trading paused",
  halted: "trading halted",
};

function shortReason(reason: string): string {
  return SHORT_REASONS[reason] ?? reason.replaceAll("_", " ");
}

/**
 * The provider's private outcome: ✅ when at least one order was placed, ⚠️ otherwise, with the counts. A
 * refusal (halted, expired, a duplicate, the plan's limit) says why and that nothing was posted.
 */
export function providerOutcome(summary: SignalOutcome, headline: string): string {
  if (summary.status !== "accepted") {
    const what = summary.status === "duplicate" ? "Already received" : "Not posted";
    return `⚠️ ${what}: ${headline}. ${summary.message}`;
  }
  const skippedTotal = Object.values(summary.skipped).reduce<number>((sum, n) => sum + (n ?? 0), 0);
  const lines: string[] = [];
  if (summary.followers === 0) {
    lines.push(`⚠️ Posted: ${headline}. Nobody follows you yet, so no orders were placed.`);
  } else if (summary.ordersQueued === 0) {
    lines.push(`⚠️ Posted: ${headline}. No orders were placed for your ${plural(summary.followers, "follower")}.`);
  } else {
    const awaiting = Math.min(summary.ordersAwaitingConfirmation ?? 0, summary.ordersQueued);
    const notes = [
      ...(summary.ordersReduced > 0 ? [`${summary.ordersReduced} reduced to fit their limits`] : []),
      ...(awaiting > 0 ? [`${awaiting} awaiting confirmation`] : []),
    ];
    lines.push(
      `✅ Posted: ${headline}. ${plural(summary.ordersQueued, "order")} placed for your ${plural(summary.followers, "follower")}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}.`,
    );
  }
  if (skippedTotal > 0) {
    lines.push(
      `Not copied for ${plural(skippedTotal, "follower")}: ${skippedText(summary.skipped)}. Each was told why.`,
    );
  }
  if (summary.combinedWith) lines.push("Combined with your signal of a moment ago into one position.");
  if (summary.stoppedByHalt) lines.push("The kill switch stopped the rest.");
  if (summary.notReached) {
    lines.push(
      `${plural(summary.notReached, "follower")} not reached: the run was interrupted and the signal is now too old.`,
    );
  }
  lines.push("Only you see these counts.");
  return lines.join("\n");
}

import { SKIP_REASONS, type SkipReason } from "../risk/skip-reasons";

type SignalOutcomeStatus = "accepted" | "expired" | "refused" | "duplicate";

/** What `submitSignal` returns; `message` is the provider's follow-up text. */
export interface SignalSummary {
  status: SignalOutcomeStatus;
  signalId: string;
  message: string;
  /** A refusal's code (halted, conflict, signal limit, invalid input...). */
  code?: string;
  /** A member's own trade that was placed: the entry's quantity. */
  quantity?: number;
  followers: number;
  ordersQueued: number;
  /** Of ordersQueued, those waiting for their member's confirmation (confirm mode): not sent yet. */
  ordersAwaitingConfirmation?: number;
  ordersReduced: number;
  skipped: Partial<Record<SkipReason | "paused" | "halted", number>>;
  /** Set when a halt stopped the fan-out part way. */
  stoppedByHalt?: boolean;
  /** Followers given up after an interruption, because the signal had grown too old to execute. */
  notReached?: number;
  /** A same-direction add within 5 s: the provider's signal it was combined with into one position. */
  combinedWith?: string;
}

/** What a fan-out counts as it goes. */
export type FanOutCounts = Pick<
  SignalSummary,
  | "followers"
  | "ordersQueued"
  | "ordersAwaitingConfirmation"
  | "ordersReduced"
  | "skipped"
  | "stoppedByHalt"
  | "notReached"
>;

export function emptyCounts(): FanOutCounts {
  return { followers: 0, ordersQueued: 0, ordersReduced: 0, skipped: {} };
}

/** A summary of a signal that executed nothing: refused, expired or a duplicate (`code` says why). */
export function nothingExecuted(
  status: Exclude<SignalOutcomeStatus, "accepted">,
  signalId: string,
  code: string | undefined,
  message: string,
): SignalSummary {
  const summary: SignalSummary = { ...emptyCounts(), status, signalId, message };
  if (code !== undefined) summary.code = code;
  return summary;
}

const EXTRA_REASON_WORDS: Record<string, string> = { paused: "trading paused", halted: "trading halted" };

/** Words for a skip reason, short enough for the summary line ("daily loss limit"). */
function shortReason(reason: string): string {
  return EXTRA_REASON_WORDS[reason] ?? reason.replaceAll("_", " ");
}

export function describeSkip(reason: string): string {
  return (SKIP_REASONS as Record<string, string>)[reason] ?? EXTRA_REASON_WORDS[reason] ?? reason;
}

const orders = (n: number) => `${n} order${n === 1 ? "" : "s"}`;

/**
 * "accepted: 42 followers → 38 orders queued, 2 awaiting confirmation (3 reduced to fit), 2 skipped: daily loss limit
 * (1), symbol not allowed (1)". An order waiting for its member's confirmation is not queued to the broker yet.
 */
export function acceptedMessage(summary: Omit<SignalSummary, "message" | "status" | "signalId">): string {
  const skippedTotal = Object.values(summary.skipped).reduce((sum, n) => sum + (n ?? 0), 0);
  const awaiting = Math.min(summary.ordersAwaitingConfirmation ?? 0, summary.ordersQueued);
  const queued = summary.ordersQueued - awaiting;
  const placed = [
    ...(queued > 0 || awaiting === 0 ? [`${orders(queued)} queued`] : []),
    ...(awaiting > 0 ? [`${orders(awaiting)} awaiting confirmation`] : []),
  ];
  let text = `accepted: ${summary.followers} follower${summary.followers === 1 ? "" : "s"} → ${placed.join(", ")}`;
  if (summary.ordersReduced > 0) text += ` (${summary.ordersReduced} reduced to fit)`;
  if (skippedTotal > 0) {
    const parts = Object.entries(summary.skipped)
      .filter(([, n]) => (n ?? 0) > 0)
      .sort(([a, x], [b, y]) => (y ?? 0) - (x ?? 0) || a.localeCompare(b))
      .map(([reason, n]) => `${shortReason(reason)} (${n})`);
    text += `, ${skippedTotal} skipped: ${parts.join(", ")}`;
  }
  if (summary.stoppedByHalt) text += "; the kill switch stopped the rest";
  if (summary.notReached) {
    text += `; ${summary.notReached} not reached: the fan-out was interrupted and the signal is now too old`;
  }
  return text;
}

import { SKIP_REASONS, type SkipReason } from "../risk/skip-reasons";

type SignalOutcomeStatus = "accepted" | "expired" | "refused" | "duplicate";

/** What `submitSignal` returns; `message` is the provider's follow-up text. */
export interface SignalSummary {
  status: SignalOutcomeStatus;
  signalId: string;
  message: string;
  /** A refusal's code (halted, conflict, signal limit, invalid input...). */
  code?: string;
  followers: number;
  ordersQueued: number;
  ordersReduced: number;
  skipped: Partial<Record<SkipReason | "paused" | "halted", number>>;
  /** Set when a halt stopped the fan-out part way. */
  stoppedByHalt?: boolean;
  /** Followers given up after an interruption, because the signal had grown too old to execute. */
  notReached?: number;
  /** A same-direction add within 5 s: the provider's signal it was combined with into one position. */
  combinedWith?: string;
}

const EXTRA_REASON_WORDS: Record<string, string> = { paused: "trading paused", halted: "trading halted" };

/** Words for a skip reason, short enough for the summary line ("daily loss limit"). */
function shortReason(reason: string): string {
  return EXTRA_REASON_WORDS[reason] ?? reason.replaceAll("_", " ");
}

export function describeSkip(reason: string): string {
  return (SKIP_REASONS as Record<string, string>)[reason] ?? EXTRA_REASON_WORDS[reason] ?? reason;
}

/** "accepted: 42 followers → 40 orders queued (3 reduced to fit), 2 skipped: daily loss limit (1), symbol not allowed (1)" */
export function acceptedMessage(summary: Omit<SignalSummary, "message" | "status" | "signalId">): string {
  const skippedTotal = Object.values(summary.skipped).reduce((sum, n) => sum + (n ?? 0), 0);
  let text = `accepted: ${summary.followers} follower${summary.followers === 1 ? "" : "s"} → ${summary.ordersQueued} order${summary.ordersQueued === 1 ? "" : "s"} queued`;
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

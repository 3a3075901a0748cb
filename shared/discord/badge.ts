/**
 * The one badge every order message carries (placed, filled, confirm request,
 * canceled, not copied): which account the money is in, which server, and
 * whose signal it copies, so a member reading a DM never wonders whether it
 * was real money. "🧪 PAPER · Alpha Traders · from @pete".
 */

export type AccountMode = "paper" | "live";

export interface OrderBadgeFacts {
  mode: AccountMode;
  /** The server's name as the community was registered. */
  community: string;
  /**
   * Whose trade: a provider's signal (their Discord username without @, null when not known), the member's own
   * trade, or none for a message about several (the daily digest).
   */
  from: { provider: string | null } | "own" | null;
}

export const PAPER_MARK = "🧪 PAPER";
export const LIVE_MARK = "💵 LIVE";

export function accountMark(mode: AccountMode): string {
  return mode === "live" ? LIVE_MARK : PAPER_MARK;
}

export function orderBadge(facts: OrderBadgeFacts): string {
  const parts = [accountMark(facts.mode), facts.community];
  if (facts.from === "own") parts.push("your own trade");
  else if (facts.from) parts.push(facts.from.provider ? `from @${facts.from.provider}` : "from a provider you follow");
  return parts.join(" · ");
}

/** A member's order message: the badge on its own line, then what happened. */
export function badged(badge: string, text: string): string {
  return `${badge}\n${text}`;
}

/** Which account an order went to: only the built-in paper broker is paper money. */
export function accountModeOf(order: {
  broker: string;
  intent?: { accountMode?: AccountMode | undefined };
}): AccountMode {
  return order.intent?.accountMode ?? (order.broker === "paper" ? "paper" : "live");
}

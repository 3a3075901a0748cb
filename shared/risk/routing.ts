/**
 * Which of a member's accounts a signal goes to: the first active account of
 * the member's trading mode (paper or live) that trades the asset class, in
 * the order given (the executor passes the member's preferred account first).
 * An exit goes to the eligible account that holds the position, if any.
 */
import type { SkipReason } from "./skip-reasons";
import type { AssetClass, RiskCapabilities } from "./types";

interface RoutableAccount {
  id: string;
  broker: string;
  mode: "paper" | "live";
  status: string;
  capabilities: Pick<RiskCapabilities, "assetClasses">;
}

export type RouteResult<A> =
  | { ok: true; account: A }
  | {
      ok: false;
      reason: Extract<SkipReason, "live_not_allowed" | "no_broker_account">;
      message: string;
      details: Record<string, unknown>;
    };

export function routeAccount<A extends RoutableAccount>(input: {
  accounts: readonly A[];
  assetClass: AssetClass;
  tradingMode: "paper" | "live";
  paperOnly: boolean;
  /** Among the eligible accounts, take the first one this accepts (e.g. the one holding the position to close). */
  prefer?: (account: A) => boolean;
}): RouteResult<A> {
  const { accounts, assetClass, tradingMode, paperOnly, prefer } = input;
  if (tradingMode === "live" && paperOnly) {
    return {
      ok: false,
      reason: "live_not_allowed",
      message: "Your plan allows paper trading only; switch to paper with /paper or upgrade your plan.",
      details: { tradingMode },
    };
  }
  const eligible = accounts.filter(
    (candidate) =>
      candidate.mode === tradingMode &&
      candidate.status === "active" &&
      candidate.capabilities.assetClasses.includes(assetClass),
  );
  const account = (prefer ? eligible.find(prefer) : undefined) ?? eligible[0];
  if (account) return { ok: true, account };
  const connected = accounts
    .filter((candidate) => candidate.mode === tradingMode)
    .map((candidate) =>
      candidate.status === "active" ? candidate.broker : `${candidate.broker} (${candidate.status})`,
    );
  return {
    ok: false,
    reason: "no_broker_account",
    message:
      connected.length === 0
        ? `You have no active ${tradingMode} account; connect one with /broker connect.`
        : `None of your ${tradingMode} accounts can trade ${assetClass} now (${connected.join(", ")}).`,
    details: { assetClass, tradingMode, connected },
  };
}

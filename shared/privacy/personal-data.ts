/**
 * Every D1 table (shared/db/schema.ts) and every table in the community executor's own storage, judged once for
 * `/privacy` (openspec/specs/privacy, "Where a member's data lives"): whether it holds a member's personal data,
 * whether `/privacy export` hands it out, and what `/privacy delete` does with it. A source scan
 * (tests/unit/privacy-classification.test.ts) fails when a table is added without being judged here.
 */

/** What `/privacy delete` does to a member's rows of a table in the community they leave. */
export type OnDelete =
  /** Removed. */
  | "deleted"
  /** Kept as they are, for the reason given. */
  | "kept"
  /** Turned off but kept for the record (signal webhooks: revoked). */
  | "revoked"
  /** Holds nothing of the member's to act on. */
  | "untouched";

export interface TableJudgement {
  personal: boolean;
  /** The export's section(s) it feeds, or null when it is not exported (`why` says why). */
  exported: string | null;
  onDelete: OnDelete;
  why: string;
}

const kept = (exported: string, why: string): TableJudgement => ({ personal: true, exported, onDelete: "kept", why });
const erased = (exported: string, why: string): TableJudgement => ({
  personal: true,
  exported,
  onDelete: "deleted",
  why,
});
const notPersonal = (why: string): TableJudgement => ({ personal: false, exported: null, onDelete: "untouched", why });

export const D1_TABLES: Record<string, TableJudgement> = {
  communities: notPersonal("the community's own row; the member's ownership is exported as membership.isOwner"),
  users: kept("user", "the platform identity (Discord id, name) every community the member belongs to shares"),
  memberships: erased("membership, suspension", "their role, Discord roles as seen and suspension here"),
  audit_log: kept(
    "auditEntries",
    "entries where they are actor or subject; append-only and hash-chained, so never rewritten (it records privacy.deleted)",
  ),
  feature_flags: notPersonal("platform flag definitions"),
  feature_flag_overrides: notPersonal("a community's flag overrides"),
  webhook_events: notPersonal("billing providers' event ids and normalized plan changes, kept for idempotency"),
  dead_letters: notPersonal("operational: failed queue messages for operators, pruned by housekeeping"),
  delivery_failures: notPersonal("operational: attempt counts of failing queue messages"),
  sessions: kept(
    "sessions",
    "metadata only (times, user agent, address), never the session id; platform-wide, and access to a community follows membership, which is deleted",
  ),
  user_mfa: kept("mfa", "status only, never the TOTP secret; platform-wide (one authenticator for every community)"),
  mfa_backup_codes: kept("mfa.unusedBackupCodes", "a count only, never a hash; platform-wide"),
  oauth_states: {
    personal: true,
    exported: null,
    onDelete: "untouched",
    why: "a sign-in in flight: single use, gone after 10 minutes, holding only hashes",
  },
  one_time_links: {
    personal: true,
    exported: null,
    onDelete: "untouched",
    why: "single-use link hashes that expire within minutes (or days for sign-out links)",
  },
  user_guilds: erased("membership.serverSeenAt", "only this community's server is exported and removed"),
  auth_events: kept("signIns", "sign-in records: a platform-wide security record"),
  realtime_hub_stats: notPersonal("a hub's counters"),
  signal_providers: erased("namedProvider", "an admin named them a provider here"),
  signals: kept("signals", "signals they posted: the source of their followers' orders, which those followers keep"),
  signal_webhooks: {
    personal: true,
    exported: "signalWebhooks",
    onDelete: "revoked",
    why: "metadata only, never the key hash or sealed secret; revoked, kept for the record",
  },
  follows: erased(
    "follows.asFollower, follows.asProvider",
    "both ways; as a provider only that each follow exists (who copies them, and how, is the followers' data)",
  ),
  risk_profiles: erased("riskSettings", "their trading mode, limits and skip-notice choice here"),
  broker_connections: erased(
    "brokerConnections",
    "metadata only, never credentials; deletion is refused while one is active",
  ),
  orders: kept("orders", "financial record keeping: kept under their user id (see the spec's reason)"),
  order_events: kept("orderEvents", "each of their orders' status history, kept with the orders"),
  fills: kept("fills", "financial record keeping, kept with the orders"),
  positions: kept("positions", "recorded positions and realized P&L, kept with the orders (all closed by then)"),
  reconciliation_runs: notPersonal("the reconciliation cron's run log"),
  billing_customers: kept(
    "traderBilling.customers",
    "a trader's own customer (provider, email), never a community's; platform-wide billing records",
  ),
  subscriptions: kept(
    "traderBilling.subscriptions",
    "a trader's own subscriptions, never a community's; platform-wide billing records",
  ),
  trader_plans: kept("traderPlan", "platform-wide: a trader's plan follows them into every community"),
  trader_plan_grants: kept(
    "traderPlan.complimentary",
    "an operator's complimentary trader plan for them (plan, end, reason); platform-wide like the paid plan",
  ),
  billing_link_claims: notPersonal("claimed billing-link ids"),
  notification_deliveries: notPersonal("idempotency keys of sent notifications"),
  member_notices: erased("notices", "their inbox notices from this community"),
  notification_preferences: kept("notificationPreferences", "platform-wide: their DM choices apply to every community"),
  operator_actions: notPersonal("operators' calls"),
  interaction_receipts: notPersonal("interaction ids already received"),
  data_keys: notPersonal("the credential vault's wrapped data keys, one set per community or the platform"),
};

/** The community executor's own SQLite (durable-objects/executor/*), judged the same way. */
export const EXECUTOR_TABLES: Record<string, TableJudgement> = {
  paper_accounts: erased("paperAccount", "their paper account: cash, positions and the orders it remembers"),
  pauses: erased("tradingHold.paused", "today's daily-loss pause"),
  locks: erased("tradingHold.locked", "the circuit breaker's lock"),
  equity_days: erased("tradingDay", "their account's day: start-of-day and peak equity"),
  reservations: {
    personal: true,
    exported: null,
    onDelete: "deleted",
    why: "exposure reserved for orders in flight (none once deletion is allowed)",
  },
  confirmations: {
    personal: true,
    exported: null,
    onDelete: "deleted",
    why: "deadlines of orders awaiting their answer (exported with the orders)",
  },
  skip_digest: {
    personal: true,
    exported: null,
    onDelete: "deleted",
    why: "skipped signals waiting for tonight's digest DM (each is also a notice once sent)",
  },
  held_offers: {
    personal: true,
    exported: null,
    onDelete: "untouched",
    why: "[Close now]/[Keep] offers over an open position: none once deletion is allowed, and they expire",
  },
  member_closes: {
    personal: true,
    exported: null,
    onDelete: "deleted",
    why: "the answers of their recent /close commands, kept a week against replays (the orders are exported)",
  },
  tracking: notPersonal("order follow-up schedule, by order id"),
  meta: notPersonal("the object's own settings"),
  sources: notPersonal("signal source ids already seen"),
  recent_signals: notPersonal("recent signals for the double-post window, by provider id, for minutes"),
  counters: notPersonal("daily counters (orders per member per day), gone the next day"),
  outbox: notPersonal("order batches decided but not yet stored, for seconds"),
  outbox_stored: notPersonal("which outbox batches were stored"),
  resent: notPersonal("orders the reconciliation backstop sent again, by order id"),
  fanouts: notPersonal("where each fan-out stopped"),
  provider_positions: {
    personal: true,
    exported: null,
    onDelete: "kept",
    why: "a provider's net position per symbol, derived from their signals (exported): sizes their followers' exits",
  },
  provider_position_undo: notPersonal("undo entries of provider_positions, for minutes"),
  management_sources: notPersonal("trade-management message ids already handled"),
  management_double_posts: notPersonal("the management double-post window"),
};

import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { BROKER_IDS } from "../brokers/ids";
import type { StoredOrderIntent } from "../execution/order-intent";
import { NOTICE_DELIVERY_STATUSES, NOTICE_KINDS } from "../notifications/kinds";
import { ORDER_STATUSES, type OrderStatus } from "../orders/state-machine";
import { COMMUNITY_ROLES, type CommunityRole } from "../rbac/matrix";
import type { NormalizedSignal } from "../signals/schema";

/**
 * The one D1 schema. Tenant tables carry `community_id` and are reached only
 * through `forCommunity()` (platform/db/tenant/for-community.ts); TENANT_TABLES lists them so
 * the guard test can find direct use anywhere else.
 *
 * No ON DELETE CASCADE: drizzle-kit may rebuild a table, and D1 ignores
 * `PRAGMA foreign_keys=OFF` during the rebuild, so cascades would delete children.
 */

const now = sql`(unixepoch('subsec') * 1000)`;
const timestamps = {
  createdAt: integer("created_at").notNull().default(now),
  updatedAt: integer("updated_at").notNull().default(now),
};

/** A membership's role is one of the role matrix's roles (shared/rbac/matrix.ts). */
export const MEMBERSHIP_ROLES = COMMUNITY_ROLES;
export type MembershipRole = CommunityRole;

export const COMMUNITY_TIERS = ["free", "professional", "enterprise"] as const;
export type CommunityTier = (typeof COMMUNITY_TIERS)[number];

export const communities = sqliteTable("communities", {
  id: text("id").primaryKey(),
  guildId: text("guild_id").notNull().unique(),
  name: text("name").notNull(),
  tier: text("tier", { enum: COMMUNITY_TIERS }).notNull().default("free"),
  halted: integer("halted", { mode: "boolean" }).notNull().default(false),
  haltedReason: text("halted_reason"),
  ownerUserId: text("owner_user_id"),
  settings: text("settings", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
  auditHeadSeq: integer("audit_head_seq").notNull().default(0),
  auditHeadHash: text("audit_head_hash"),
  /** An operator suspended the whole community: it executes nothing until unsuspended. */
  suspendedAt: integer("suspended_at"),
  suspendedReason: text("suspended_reason"),
  /** The bot left the server (GUILD_DELETE, not an outage); null while it is there. Settings expire 30 days on. */
  botLeftAt: integer("bot_left_at"),
  /**
   * Its owner (or an operator) deleted the community: it is not found anywhere from then on, and its data is purged
   * 30 days on (housekeeping); null while it exists. `/setup` before the purge restores it.
   */
  deletedAt: integer("deleted_at"),
  deletedBy: text("deleted_by"),
  ...timestamps,
});

export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  discordId: text("discord_id").notNull().unique(),
  username: text("username"),
  ...timestamps,
});

export const memberships = sqliteTable(
  "memberships",
  {
    communityId: text("community_id").notNull(),
    userId: text("user_id").notNull(),
    role: text("role", { enum: MEMBERSHIP_ROLES }).notNull().default("trader"),
    /**
     * The member's Discord role ids as last seen (an interaction, GUILD_MEMBER_ADD or GUILD_MEMBER_UPDATE); null
     * until first seen. What the access role is checked against at execution time, without a Discord call.
     */
    discordRoleIds: text("discord_role_ids", { mode: "json" }).$type<string[]>(),
    rolesSeenAt: integer("roles_seen_at"),
    /** An admin suspended the member: no copy trading here until unsuspended (their positions are untouched). */
    suspendedAt: integer("suspended_at"),
    suspendedReason: text("suspended_reason"),
    suspendedBy: text("suspended_by"),
    ...timestamps,
  },
  (t) => [primaryKey({ columns: [t.communityId, t.userId] }), index("memberships_user_idx").on(t.userId)],
);

export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    communityId: text("community_id").notNull(),
    seq: integer("seq").notNull(),
    event: text("event").notNull(),
    actorId: text("actor_id"),
    target: text("target"),
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
    createdAt: integer("created_at").notNull(),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [
    uniqueIndex("audit_log_community_seq_uq").on(t.communityId, t.seq),
    index("audit_log_community_event_idx").on(t.communityId, t.event),
  ],
);

/** Global flag definitions (not tenant data): default state and rollout percentage. */
export const featureFlags = sqliteTable("feature_flags", {
  key: text("key").primaryKey(),
  description: text("description").notNull().default(""),
  enabledByDefault: integer("enabled_by_default", { mode: "boolean" }).notNull().default(false),
  rolloutPercent: integer("rollout_percent"),
  ...timestamps,
});

/** Per-community overrides of a flag (tenant data). */
export const featureFlagOverrides = sqliteTable(
  "feature_flag_overrides",
  {
    communityId: text("community_id").notNull(),
    flagKey: text("flag_key").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    ...timestamps,
  },
  (t) => [primaryKey({ columns: [t.communityId, t.flagKey] })],
);

/** What the billing consumer made of a recorded webhook event. */
export const WEBHOOK_OUTCOMES = ["applied", "ignored", "stale", "unattributed"] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

export const webhookEvents = sqliteTable(
  "webhook_events",
  {
    id: text("id").primaryKey(),
    provider: text("provider").notNull(),
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    communityId: text("community_id"),
    receivedAt: integer("received_at").notNull().default(now),
    processedAt: integer("processed_at"),
    /** The normalized event waiting for BILLING_QUEUE (the outbox); null when there is nothing to apply. */
    payload: text("payload", { mode: "json" }).$type<Record<string, unknown>>(),
    /** When the payload reached BILLING_QUEUE; null while it waits (the billing lifecycle cron drains it). */
    enqueuedAt: integer("enqueued_at"),
    /** What processing made of it (WEBHOOK_OUTCOMES), e.g. `unattributed` for money that is not this product's. */
    outcome: text("outcome", { enum: WEBHOOK_OUTCOMES }),
  },
  (t) => [
    uniqueIndex("webhook_events_provider_event_uq").on(t.provider, t.eventId),
    index("webhook_events_received_idx").on(t.receivedAt),
    index("webhook_events_outbox_idx").on(t.enqueuedAt, t.receivedAt),
  ],
);

export const deadLetters = sqliteTable(
  "dead_letters",
  {
    id: text("id").primaryKey(),
    queue: text("queue").notNull(),
    messageId: text("message_id").notNull(),
    communityId: text("community_id"),
    body: text("body", { mode: "json" }).notNull(),
    attempts: integer("attempts").notNull(),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull().default(now),
    replayedAt: integer("replayed_at"),
    replayCount: integer("replay_count").notNull().default(0),
  },
  (t) => [
    uniqueIndex("dead_letters_queue_message_uq").on(t.queue, t.messageId),
    index("dead_letters_created_idx").on(t.createdAt),
  ],
);

/**
 * The real attempt count and last error of a queue message that keeps failing, keyed by a digest of its body:
 * a message moved to a dead-letter queue starts again at attempt 1 and carries no error, so the DLQ consumer
 * reads them from here. Deleted when the message succeeds or is dead-lettered.
 */
export const deliveryFailures = sqliteTable(
  "delivery_failures",
  {
    queue: text("queue").notNull(),
    bodyDigest: text("body_digest").notNull(),
    attempts: integer("attempts").notNull(),
    lastError: text("last_error").notNull(),
    updatedAt: integer("updated_at").notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.queue, t.bodyDigest] }), index("delivery_failures_updated_idx").on(t.updatedAt)],
);

/**
 * Browser sessions: one row per session token (`id` is the token's `jti`). A token is honoured only while its row
 * exists, is not revoked and has not expired; `expires_at` moves with sliding renewal.
 */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    createdAt: integer("created_at").notNull().default(now),
    expiresAt: integer("expires_at").notNull(),
    revokedAt: integer("revoked_at"),
    userAgent: text("user_agent"),
    mfaVerifiedAt: integer("mfa_verified_at"),
    /** Last authenticated use, recorded at most every few minutes. */
    lastSeenAt: integer("last_seen_at"),
    /** The client address at sign-in (`cf-connecting-ip`). */
    ip: text("ip"),
  },
  (t) => [index("sessions_user_idx").on(t.userId), index("sessions_expires_idx").on(t.expiresAt)],
);

export const MFA_STATES = ["pending", "active"] as const;
export type MfaState = (typeof MFA_STATES)[number];

/**
 * A user's second factor (TOTP, RFC 6238): one row per user, platform-wide (a person has one authenticator, whatever
 * community they act in). `pending` from enrolment until the first code confirms it, then `active`.
 * `secret_sealed` is the TOTP secret sealed under MASTER_KEY (shared/crypto/sealed-secret.ts, the interim sealing
 * until the live-trading credential vault lands), never stored in the clear. `last_used_step` is the time step of
 * the last code accepted (a code at or before it is a replay); `failed_attempts` counts failures since the last
 * success or lockout, and `locked_until` ends a lockout. `verified_at` is the user's last verification (what a
 * Discord command's step-up reads; a browser's step-up reads its session's `mfa_verified_at`).
 */
export const userMfa = sqliteTable("user_mfa", {
  userId: text("user_id").primaryKey(),
  state: text("state", { enum: MFA_STATES }).notNull(),
  secretSealed: text("secret_sealed").notNull(),
  lastUsedStep: integer("last_used_step"),
  failedAttempts: integer("failed_attempts").notNull().default(0),
  lockedUntil: integer("locked_until"),
  enabledAt: integer("enabled_at"),
  verifiedAt: integer("verified_at"),
  ...timestamps,
});

/**
 * A user's single-use backup codes: `lookup` (the code's first group, not secret, unique per user) finds the row,
 * and the whole code is kept only as a slow salted hash (PBKDF2-SHA256, per-code salt, `iterations`).
 */
export const mfaBackupCodes = sqliteTable(
  "mfa_backup_codes",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    lookup: text("lookup").notNull(),
    salt: text("salt").notNull(),
    hash: text("hash").notNull(),
    iterations: integer("iterations").notNull(),
    usedAt: integer("used_at"),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [uniqueIndex("mfa_backup_codes_lookup_idx").on(t.userId, t.lookup)],
);

/**
 * OAuth2 authorization requests in flight (Discord sign-in; broker connections may share it): the `state` is never
 * stored, only its SHA-256 (`id`). A state is single use (`used_at` is claimed atomically), expires, and is bound to
 * the browser that asked for it (`browser_hash`, the SHA-256 of a random value in an HttpOnly cookie).
 */
export const oauthStates = sqliteTable(
  "oauth_states",
  {
    id: text("id").primaryKey(),
    /** `discord` for sign-in. */
    provider: text("provider").notNull(),
    browserHash: text("browser_hash").notNull(),
    /** Where to go after the callback: a path on this origin. */
    returnTo: text("return_to").notNull(),
    userId: text("user_id"),
    communityId: text("community_id"),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [index("oauth_states_expires_idx").on(t.expiresAt)],
);

export const ONE_TIME_LINK_PURPOSES = ["sign_in", "sign_out_everywhere"] as const;
export type OneTimeLinkPurpose = (typeof ONE_TIME_LINK_PURPOSES)[number];

/**
 * Single-use links handed out in Discord (`/dashboard`'s sign-in link, the new-sign-in alert's "sign out
 * everywhere"): only the SHA-256 of the link's token is stored (`id`).
 */
export const oneTimeLinks = sqliteTable(
  "one_time_links",
  {
    id: text("id").primaryKey(),
    purpose: text("purpose", { enum: ONE_TIME_LINK_PURPOSES }).notNull(),
    userId: text("user_id").notNull(),
    /** The community the link was asked for in (its guild counts as one the user is in). */
    communityId: text("community_id"),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [index("one_time_links_expires_idx").on(t.expiresAt)],
);

/**
 * The Discord guilds a user is in, as Discord's `guilds` scope said at their last sign-in (a `/dashboard` link adds
 * the guild it came from). A community is listed for a user only if they are in its guild and a member of it.
 */
export const userGuilds = sqliteTable(
  "user_guilds",
  {
    userId: text("user_id").notNull(),
    guildId: text("guild_id").notNull(),
    refreshedAt: integer("refreshed_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.guildId] })],
);

/**
 * Every sign-in, failed sign-in and sign-out everywhere, platform-wide (a failed sign-in often has no user and so no
 * community audit chain to go in): the client's address, user agent, country and device, and why it failed. The
 * successful ones are also what a new device or country is compared with.
 */
export const authEvents = sqliteTable(
  "auth_events",
  {
    id: text("id").primaryKey(),
    at: integer("at").notNull(),
    event: text("event").notNull(),
    userId: text("user_id"),
    sessionId: text("session_id"),
    /** How: `discord_oauth`, `discord_link`, `logout`, `alert_link`. */
    method: text("method"),
    /** Why a sign-in failed (`state_unknown`, `state_reused`, `access_denied`, `token_exchange_failed`, ...). */
    reason: text("reason"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    country: text("country"),
    /** The user agent's browser and system, e.g. "Firefox on Linux": what "a new device" compares. */
    device: text("device"),
    requestId: text("request_id"),
  },
  (t) => [index("auth_events_user_idx").on(t.userId, t.at), index("auth_events_at_idx").on(t.at)],
);

/**
 * Each RealtimeHub's figures as it last reported them (every minute while it holds sockets): operational data for
 * `GET /api/v1/ops/metrics`, not tenant data. Counters are cumulative over the hub's life; `latency_buckets` counts
 * publish-to-send latencies per bucket of REALTIME_LATENCY_BUCKETS_MS.
 */
export const realtimeHubStats = sqliteTable(
  "realtime_hub_stats",
  {
    communityId: text("community_id").primaryKey(),
    connections: integer("connections").notNull(),
    stats: text("stats", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    reportedAt: integer("reported_at").notNull(),
  },
  (t) => [index("realtime_hub_stats_reported_idx").on(t.reportedAt)],
);

export const SIGNAL_SOURCES = ["slash", "message", "webhook", "api"] as const;
export type SignalSource = (typeof SIGNAL_SOURCES)[number];

/** `withdrawn`: its provider took it back (an edit) before any order of it reached a broker. */
export const SIGNAL_STATUSES = [
  "received",
  "accepted",
  "expired",
  "refused",
  "duplicate",
  "failed",
  "withdrawn",
] as const;
export type SignalStatus = (typeof SIGNAL_STATUSES)[number];

/** Members an admin named as providers with `/setup provider:<user>` (role holders are read from Discord). */
export const signalProviders = sqliteTable(
  "signal_providers",
  {
    communityId: text("community_id").notNull(),
    userId: text("user_id").notNull(),
    addedBy: text("added_by"),
    ...timestamps,
  },
  (t) => [primaryKey({ columns: [t.communityId, t.userId] })],
);

/** Every signal received, stored before execution; (community, source id) is unique so redeliveries store nothing new. */
export const signals = sqliteTable(
  "signals",
  {
    id: text("id").primaryKey(),
    communityId: text("community_id").notNull(),
    providerUserId: text("provider_user_id").notNull(),
    source: text("source", { enum: SIGNAL_SOURCES }).notNull(),
    sourceId: text("source_id").notNull(),
    /** When the source says the signal was sent (Discord snowflake time or webhook timestamp), in ms. */
    sourceTimestamp: integer("source_timestamp").notNull(),
    channelId: text("channel_id"),
    rawText: text("raw_text"),
    normalized: text("normalized", { mode: "json" }).$type<NormalizedSignal>().notNull(),
    status: text("status", { enum: SIGNAL_STATUSES }).notNull().default("received"),
    statusReason: text("status_reason"),
    summary: text("summary", { mode: "json" }).$type<Record<string, unknown>>(),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("signals_community_source_uq").on(t.communityId, t.sourceId),
    index("signals_community_created_idx").on(t.communityId, t.createdAt),
  ],
);

/**
 * A provider's signal webhook (`POST /webhooks/signals/:providerKey`). The 256-bit key in the URL is the
 * credential: only its SHA-256 is stored. The signing secret for `x-signature` is stored sealed (AES-256-GCM,
 * bound to the community and the webhook). At most one active webhook per provider and community; rotating
 * replaces key and secret in place, revoking keeps the row (revoked_at) for the record.
 */
export const signalWebhooks = sqliteTable(
  "signal_webhooks",
  {
    id: text("id").primaryKey(),
    communityId: text("community_id").notNull(),
    providerUserId: text("provider_user_id").notNull(),
    keyHash: text("key_hash").notNull(),
    sealedSecret: text("sealed_secret").notNull(),
    createdBy: text("created_by"),
    rotatedAt: integer("rotated_at"),
    revokedAt: integer("revoked_at"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("signal_webhooks_key_hash_uq").on(t.keyHash),
    uniqueIndex("signal_webhooks_active_provider_uq")
      .on(t.communityId, t.providerUserId)
      .where(sql`${t.revokedAt} is null`),
  ],
);

export const SIZING_MODES = [
  "fixed_quantity",
  "fixed_notional",
  "percent_of_equity",
  "risk_percent",
  "multiplier",
] as const;
export type SizingMode = (typeof SIZING_MODES)[number];

export const FOLLOW_MODES = ["auto", "confirm"] as const;
export type FollowMode = (typeof FOLLOW_MODES)[number];

/** How a follow's exits go out: with the provider at once (`auto`, the default), or asked first (`confirm`). */
export const EXIT_MODES = ["auto", "confirm"] as const;
export type ExitMode = (typeof EXIT_MODES)[number];

export const follows = sqliteTable(
  "follows",
  {
    communityId: text("community_id").notNull(),
    followerUserId: text("follower_user_id").notNull(),
    providerUserId: text("provider_user_id").notNull(),
    /** null: the engine's default (risk_percent 1% with a stop, else percent_of_equity 2%). */
    sizingMode: text("sizing_mode", { enum: SIZING_MODES }),
    amount: real("amount"),
    /** auto or confirm as the member chose; null: the default for their trading mode (`effectiveFollowMode`). */
    mode: text("mode", { enum: FOLLOW_MODES }),
    /** null: exits follow the provider at once, even in confirm mode (`awaitsConfirmation`). */
    exits: text("exits", { enum: EXIT_MODES }),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    ...timestamps,
  },
  (t) => [
    primaryKey({ columns: [t.communityId, t.followerUserId, t.providerUserId] }),
    index("follows_provider_idx").on(t.communityId, t.providerUserId, t.enabled),
  ],
);

export const TRADING_MODES = ["paper", "live"] as const;
export type TradingMode = (typeof TRADING_MODES)[number];

/** How a member hears about signals they follow that were not copied: a DM each, or one daily digest. */
export const SKIP_NOTICE_MODES = ["each", "digest"] as const;
export type SkipNoticeMode = (typeof SKIP_NOTICE_MODES)[number];

/** A member's own risk settings: overrides that may only tighten the community's defaults. */
export const riskProfiles = sqliteTable(
  "risk_profiles",
  {
    communityId: text("community_id").notNull(),
    userId: text("user_id").notNull(),
    tradingMode: text("trading_mode", { enum: TRADING_MODES }).notNull().default("paper"),
    settings: text("settings", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
    skipNotices: text("skip_notices", { enum: SKIP_NOTICE_MODES }).notNull().default("each"),
    ...timestamps,
  },
  (t) => [primaryKey({ columns: [t.communityId, t.userId] })],
);

export const CONNECTION_STATUSES = ["active", "expired", "revoked", "disabled", "error"] as const;

export const brokerConnections = sqliteTable(
  "broker_connections",
  {
    id: text("id").primaryKey(),
    communityId: text("community_id").notNull(),
    userId: text("user_id").notNull(),
    broker: text("broker", { enum: BROKER_IDS }).notNull(),
    status: text("status", { enum: CONNECTION_STATUSES }).notNull().default("active"),
    statusReason: text("status_reason"),
    accountId: text("account_id"),
    isPaper: integer("is_paper", { mode: "boolean" }).notNull().default(false),
    /** Versioned AES-256-GCM envelope, bound by AAD to community, user, broker and connection. */
    credentials: text("credentials"),
    keyVersion: integer("key_version"),
    expiresAt: integer("expires_at"),
    ...timestamps,
  },
  (t) => [index("broker_connections_user_idx").on(t.communityId, t.userId)],
);

/** The order statuses are the state machine's; routes and repositories may take them from here too. */
export { ORDER_STATUSES, type OrderStatus };

export const orders = sqliteTable(
  "orders",
  {
    id: text("id").primaryKey(),
    communityId: text("community_id").notNull(),
    signalId: text("signal_id"),
    userId: text("user_id").notNull(),
    /** Broker connection id, or "paper" for the member's paper account. */
    accountRef: text("account_ref").notNull(),
    broker: text("broker", { enum: BROKER_IDS }).notNull(),
    clientOrderId: text("client_order_id").notNull().unique(),
    brokerOrderId: text("broker_order_id"),
    leg: text("leg").notNull().default("entry"),
    parentOrderId: text("parent_order_id"),
    symbol: text("symbol").notNull(),
    assetClass: text("asset_class").notNull(),
    /** The full order intent (side, type, prices, time in force, option contract, exits). */
    intent: text("intent", { mode: "json" }).$type<StoredOrderIntent>().notNull(),
    side: text("side").notNull(),
    orderType: text("order_type").notNull(),
    quantity: real("quantity").notNull(),
    limitPrice: real("limit_price"),
    stopPrice: real("stop_price"),
    status: text("status", { enum: ORDER_STATUSES }).notNull().default("queued"),
    statusReason: text("status_reason"),
    filledQuantity: real("filled_quantity").notNull().default(0),
    averageFillPrice: real("average_fill_price"),
    attempts: integer("attempts").notNull().default(0),
    submittedAt: integer("submitted_at"),
    nextCheckAt: integer("next_check_at"),
    staleFlaggedAt: integer("stale_flagged_at"),
    ...timestamps,
  },
  (t) => [
    index("orders_community_status_idx").on(t.communityId, t.status),
    index("orders_community_user_idx").on(t.communityId, t.userId, t.createdAt),
    index("orders_signal_idx").on(t.communityId, t.signalId),
    index("orders_open_idx").on(t.status, t.nextCheckAt),
  ],
);

/** Every order state transition with its time and cause. */
export const orderEvents = sqliteTable(
  "order_events",
  {
    id: text("id").primaryKey(),
    communityId: text("community_id").notNull(),
    orderId: text("order_id").notNull(),
    fromStatus: text("from_status", { enum: ORDER_STATUSES }),
    toStatus: text("to_status", { enum: ORDER_STATUSES }).notNull(),
    cause: text("cause").notNull(),
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [index("order_events_order_idx").on(t.communityId, t.orderId, t.createdAt)],
);

export const fills = sqliteTable(
  "fills",
  {
    id: text("id").primaryKey(),
    communityId: text("community_id").notNull(),
    orderId: text("order_id").notNull(),
    userId: text("user_id").notNull(),
    /** The broker's execution id, or a deterministic one for the paper broker: a fill is recorded once. */
    executionId: text("execution_id").notNull(),
    quantity: real("quantity").notNull(),
    price: real("price").notNull(),
    quoteSource: text("quote_source"),
    quoteTimestamp: integer("quote_timestamp"),
    delayed: integer("delayed", { mode: "boolean" }).notNull().default(false),
    filledAt: integer("filled_at").notNull(),
  },
  (t) => [
    uniqueIndex("fills_order_execution_uq").on(t.orderId, t.executionId),
    index("fills_community_user_idx").on(t.communityId, t.userId, t.filledAt),
    index("fills_community_time_idx").on(t.communityId, t.filledAt, t.id),
  ],
);

export const positions = sqliteTable(
  "positions",
  {
    communityId: text("community_id").notNull(),
    userId: text("user_id").notNull(),
    accountRef: text("account_ref").notNull(),
    symbol: text("symbol").notNull(),
    assetClass: text("asset_class").notNull(),
    quantity: real("quantity").notNull(),
    averagePrice: real("average_price").notNull(),
    realizedPnl: real("realized_pnl").notNull().default(0),
    unrealizedPnl: real("unrealized_pnl"),
    ...timestamps,
  },
  (t) => [primaryKey({ columns: [t.communityId, t.userId, t.accountRef, t.symbol] })],
);

/** One row per reconciliation cron run (global: the run spans communities). */
export const reconciliationRuns = sqliteTable(
  "reconciliation_runs",
  {
    id: text("id").primaryKey(),
    startedAt: integer("started_at").notNull(),
    finishedAt: integer("finished_at"),
    checked: integer("checked").notNull().default(0),
    updated: integer("updated").notNull().default(0),
    stale: integer("stale").notNull().default(0),
    adopted: integer("adopted").notNull().default(0),
    errors: integer("errors").notNull().default(0),
    details: text("details", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index("reconciliation_runs_started_idx").on(t.startedAt)],
);

export const BILLING_PROVIDERS = ["stripe", "polar"] as const;
export type BillingProviderName = (typeof BILLING_PROVIDERS)[number];

/** Who pays: a community (its host) or a member (a trader plan). */
export const BILLING_SUBJECTS = ["community", "trader"] as const;
export type BillingSubject = (typeof BILLING_SUBJECTS)[number];

export const SUBSCRIPTION_STATUSES = [
  "trialing",
  "active",
  "past_due",
  "canceled",
  "incomplete",
  "unpaid",
  "paused",
] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export const billingCustomers = sqliteTable(
  "billing_customers",
  {
    id: text("id").primaryKey(),
    provider: text("provider", { enum: BILLING_PROVIDERS }).notNull(),
    providerCustomerId: text("provider_customer_id").notNull(),
    subject: text("subject", { enum: BILLING_SUBJECTS }).notNull(),
    /** Set for a community plan; null for a trader plan (a trader's plan follows the user across communities). */
    communityId: text("community_id"),
    userId: text("user_id"),
    email: text("email"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("billing_customers_provider_uq").on(t.provider, t.providerCustomerId),
    index("billing_customers_subject_idx").on(t.subject, t.communityId, t.userId),
  ],
);

export const subscriptions = sqliteTable(
  "subscriptions",
  {
    id: text("id").primaryKey(),
    provider: text("provider", { enum: BILLING_PROVIDERS }).notNull(),
    providerSubscriptionId: text("provider_subscription_id").notNull(),
    subject: text("subject", { enum: BILLING_SUBJECTS }).notNull(),
    communityId: text("community_id"),
    userId: text("user_id"),
    customerId: text("customer_id").notNull(),
    plan: text("plan").notNull(),
    interval: text("interval"),
    status: text("status", { enum: SUBSCRIPTION_STATUSES }).notNull(),
    currentPeriodEnd: integer("current_period_end"),
    /** A cancellation is scheduled inside the current period (at `cancel_at`, else at `current_period_end`). */
    cancelAtPeriodEnd: integer("cancel_at_period_end", { mode: "boolean" }).notNull().default(false),
    /** When a scheduled cancellation takes effect (Stripe `cancel_at`, Polar `ends_at`); may precede the period end. */
    cancelAt: integer("cancel_at"),
    /** When the provider ended the subscription (`ended_at`): nothing is granted after it. */
    endedAt: integer("ended_at"),
    trialEnd: integer("trial_end"),
    pastDueSince: integer("past_due_since"),
    /** Plan that takes effect at the end of the paid period (downgrade). */
    pendingPlan: text("pending_plan"),
    /** The provider's event time of the last applied event: older events never move the state back. */
    lastEventAt: integer("last_event_at").notNull(),
    notices: text("notices", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("subscriptions_provider_uq").on(t.provider, t.providerSubscriptionId),
    index("subscriptions_subject_idx").on(t.subject, t.communityId, t.userId),
  ],
);

/** A trader's applied plan. Global, not tenant data: a trader's plan follows the user into every community. */
export const traderPlans = sqliteTable("trader_plans", {
  userId: text("user_id").primaryKey(),
  plan: text("plan").notNull().default("free"),
  ...timestamps,
});

/**
 * The credential vault's data keys (envelope encryption): a random 256-bit key per scope, a community
 * (`community:<id>`) or the platform (`platform`, for secrets that belong to a user rather than a community, such
 * as a TOTP secret). `wrapped_key` is the key sealed under the master key named by `master_key_id`, bound to its
 * scope and id, so a wrapped key copied to another row does not open. One `active` key per scope seals new
 * secrets; `retired` keys only open what they sealed until the rotation cron has re-sealed it. Global, not tenant
 * data: the scope may be the platform, and deleting a community deletes its keys (crypto-shredding what is left).
 */
export const dataKeys = sqliteTable(
  "data_keys",
  {
    id: text("id").primaryKey(),
    scope: text("scope").notNull(),
    state: text("state", { enum: ["active", "retired"] }).notNull(),
    wrappedKey: text("wrapped_key").notNull(),
    masterKeyId: text("master_key_id").notNull(),
    retiredAt: integer("retired_at"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("data_keys_active_scope_uq").on(t.scope).where(sql`${t.state} = 'active'`),
    index("data_keys_scope_idx").on(t.scope),
    index("data_keys_master_key_idx").on(t.masterKeyId),
  ],
);

/**
 * An operator's complimentary trader plan (`PUT /api/v1/ops/trader-plans/:discordUserId`): `plan` applies until
 * `until` (exclusive, ms) whatever the user pays for, without touching `trader_plans` (the paid plan). Global, like
 * `trader_plans`. An expired row simply stops applying; housekeeping removes it.
 */
export const traderPlanGrants = sqliteTable(
  "trader_plan_grants",
  {
    userId: text("user_id").primaryKey(),
    plan: text("plan").notNull(),
    until: integer("until").notNull(),
    reason: text("reason").notNull(),
    /** `ops:<token fingerprint>` of the operator who granted it. */
    grantedBy: text("granted_by").notNull(),
    ...timestamps,
  },
  (t) => [index("trader_plan_grants_until_idx").on(t.until)],
);

/**
 * NOTIFY_QUEUE idempotency: each notification key that reached Discord (global
 * delivery bookkeeping, not tenant data). A redelivered message finds its key
 * here and is not sent again.
 */
/** Single-use billing links (portal links): the link's `jti`, claimed once. Rows expire with the link. */
export const billingLinkClaims = sqliteTable(
  "billing_link_claims",
  {
    jti: text("jti").primaryKey(),
    action: text("action").notNull(),
    claimedAt: integer("claimed_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("billing_link_claims_expires_idx").on(t.expiresAt)],
);

export const notificationDeliveries = sqliteTable(
  "notification_deliveries",
  {
    key: text("key").primaryKey(),
    kind: text("kind").notNull(),
    sentAt: integer("sent_at").notNull(),
  },
  (t) => [index("notification_deliveries_sent_idx").on(t.sentAt)],
);

/**
 * The member's inbox (docs/architecture.md §6): every notice sent by DM is also stored here, so a member whose DMs
 * are closed (Discord 50007) still reads it on the dashboard. Per member, not tenant data reached through
 * forCommunity(): a member reads their own notices across communities (`platform/db/member-notices.ts`), and only
 * those of communities they still belong to; `community_id` is null for a notice about no community (a trader's
 * plan). `key` is the DM's idempotency key, so a redelivered queue message stores one notice. Pruned after 90 days.
 */
export const memberNotices = sqliteTable(
  "member_notices",
  {
    id: text("id").primaryKey(),
    key: text("key").notNull().unique(),
    communityId: text("community_id"),
    userId: text("user_id").notNull(),
    kind: text("kind", { enum: NOTICE_KINDS }).notNull(),
    title: text("title").notNull(),
    body: text("body").notNull(),
    createdAt: integer("created_at").notNull(),
    readAt: integer("read_at"),
    deliveryStatus: text("delivery_status", { enum: NOTICE_DELIVERY_STATUSES }).notNull().default("pending"),
    /** Discord's refusal or the last transient error (`code 50007: Cannot send messages to this user`). */
    lastError: text("last_error"),
  },
  (t) => [
    index("member_notices_user_idx").on(t.userId, t.createdAt),
    index("member_notices_created_idx").on(t.createdAt),
  ],
);

/** A member's choice per notice kind: DM on or off (no row: on). Security and membership kinds ignore it. */
export const notificationPreferences = sqliteTable(
  "notification_preferences",
  {
    userId: text("user_id").notNull(),
    kind: text("kind", { enum: NOTICE_KINDS }).notNull(),
    dm: integer("dm", { mode: "boolean" }).notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.kind] })],
);

/**
 * Every mutating call to the operator API (docs/architecture.md §4 and §5), written
 * before the handler runs (no record, no mutation) and given its status once
 * it has answered. Append-only (database triggers). Operators carry no user
 * identity, so the actor is the fingerprint of the token used: the first 12
 * hex digits of its SHA-256, never the token. Platform data, not tenant data:
 * `community_id` only says which community a call was about.
 */
export const operatorActions = sqliteTable(
  "operator_actions",
  {
    id: text("id").primaryKey(),
    at: integer("at").notNull(),
    tokenFingerprint: text("token_fingerprint").notNull(),
    method: text("method").notNull(),
    path: text("path").notNull(),
    communityId: text("community_id"),
    requestId: text("request_id").notNull(),
    /** The HTTP status answered; null only between the call and its answer (or if the Worker died meanwhile). */
    status: integer("status"),
    /** The operator's stated reason, for the routes that take one (set once, before the call answers). */
    reason: text("reason"),
  },
  (t) => [index("operator_actions_at_idx").on(t.at), index("operator_actions_community_idx").on(t.communityId, t.at)],
);

/**
 * Discord interaction ids already received (platform bookkeeping, not tenant
 * data). A signed interaction is accepted for 5 minutes around its timestamp,
 * so a captured one could be sent again: its id is found here and nothing
 * runs twice. Rows are kept well beyond that window (housekeeping prunes them).
 */
export const interactionReceipts = sqliteTable(
  "interaction_receipts",
  {
    id: text("id").primaryKey(),
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [index("interaction_receipts_received_idx").on(t.receivedAt)],
);

/** Tables whose rows belong to one community. Reach them only through forCommunity(). */
export const TENANT_TABLES = {
  memberships: "memberships",
  auditLog: "audit_log",
  featureFlagOverrides: "feature_flag_overrides",
  signalProviders: "signal_providers",
  signals: "signals",
  signalWebhooks: "signal_webhooks",
  follows: "follows",
  riskProfiles: "risk_profiles",
  brokerConnections: "broker_connections",
  orders: "orders",
  orderEvents: "order_events",
  fills: "fills",
  positions: "positions",
  billingCustomers: "billing_customers",
  subscriptions: "subscriptions",
} as const;

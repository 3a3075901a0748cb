import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * The one D1 schema. Tenant tables carry `community_id` and are reached only
 * through `forCommunity()` (workers/db/tenant.ts); TENANT_TABLES lists them so
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

export const MEMBERSHIP_ROLES = ["owner", "admin", "provider", "trader", "viewer"] as const;
export type MembershipRole = (typeof MEMBERSHIP_ROLES)[number];

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
  },
  (t) => [
    uniqueIndex("webhook_events_provider_event_uq").on(t.provider, t.eventId),
    index("webhook_events_received_idx").on(t.receivedAt),
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
  },
  (t) => [index("sessions_user_idx").on(t.userId), index("sessions_expires_idx").on(t.expiresAt)],
);

/** Tables whose rows belong to one community. Reach them only through forCommunity(). */
export const TENANT_TABLES = {
  memberships: "memberships",
  auditLog: "audit_log",
  featureFlagOverrides: "feature_flag_overrides",
} as const;

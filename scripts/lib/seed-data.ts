/**
 * The demo community that `npm start` seeds (pure: data and SQL text only).
 * Other scripts (the demo signal sender) may import these ids. Fake Discord ids:
 * nothing here exists on Discord.
 */

import { GENESIS_HASH, nextChainRow } from "../../shared/audit/chain.ts";

export const DEMO_COMMUNITY = {
  id: "demo-community",
  guildId: "100000000000000100",
  name: "Demo Trading Community",
  tier: "free",
} as const;

/**
 * The demo trades paper on a seeded price walk, so it trades around the clock: `npm start`, the smoke test and the
 * restore drill send equity signals at any hour. Real communities keep the regular-hours default.
 */
export const DEMO_SETTINGS = { riskDefaults: { regularHoursOnly: false } } as const;

export type DemoRole = "owner" | "provider" | "trader";

export interface DemoUser {
  id: string;
  discordId: string;
  username: string;
  role: DemoRole;
}

export const DEMO_USERS: readonly DemoUser[] = [
  { id: "demo-owner", discordId: "100000000000000201", username: "demo_owner", role: "owner" },
  { id: "demo-provider", discordId: "100000000000000202", username: "demo_provider", role: "provider" },
  { id: "demo-trader-1", discordId: "100000000000000211", username: "demo_trader_1", role: "trader" },
  { id: "demo-trader-2", discordId: "100000000000000212", username: "demo_trader_2", role: "trader" },
  { id: "demo-trader-3", discordId: "100000000000000213", username: "demo_trader_3", role: "trader" },
];

const DEMO_OWNER = DEMO_USERS[0] as DemoUser;

/** Fixed, so the seeded audit entry (and its hash) is the same on every run. */
const DEMO_CREATED_AT = Date.UTC(2026, 0, 1);
const DEMO_AUDIT_ENTRY_ID = "demo-community-audit-1";

const quote = (value: string) => `'${value.replaceAll("'", "''")}'`;

/**
 * Idempotent seed statements: every row is `INSERT ... ON CONFLICT DO NOTHING`, so a
 * second run changes nothing and rows edited since are left alone. The community's
 * audit chain starts with `community.created`, hashed exactly as the application does.
 */
export async function seedStatements(): Promise<string[]> {
  const statements: string[] = [];
  const c = DEMO_COMMUNITY;
  statements.push(
    `INSERT INTO communities (id, guild_id, name, tier, owner_user_id, settings, created_at, updated_at) VALUES (${[c.id, c.guildId, c.name, c.tier, DEMO_OWNER.id, JSON.stringify(DEMO_SETTINGS)].map(quote).join(", ")}, ${DEMO_CREATED_AT}, ${DEMO_CREATED_AT}) ON CONFLICT DO NOTHING;`,
  );
  const first = await nextChainRow(
    { seq: 0, hash: GENESIS_HASH },
    {
      communityId: c.id,
      event: "community.created",
      actorId: DEMO_OWNER.id,
      target: c.guildId,
      data: { guildId: c.guildId, name: c.name, ownerUserId: DEMO_OWNER.id },
      createdAt: DEMO_CREATED_AT,
    },
  );
  const row = [DEMO_AUDIT_ENTRY_ID, c.id, String(first.seq), first.event, DEMO_OWNER.id, c.guildId];
  statements.push(
    `INSERT INTO audit_log (id, community_id, seq, event, actor_id, target, data, created_at, prev_hash, hash) VALUES (${row.map(quote).join(", ")}, ${quote(JSON.stringify(first.data))}, ${first.createdAt}, ${quote(first.prevHash)}, ${quote(first.hash)}) ON CONFLICT DO NOTHING;`,
    `UPDATE communities SET audit_head_seq = ${first.seq}, audit_head_hash = ${quote(first.hash)} WHERE id = ${quote(c.id)} AND audit_head_seq = 0;`,
  );
  for (const user of DEMO_USERS) {
    statements.push(
      `INSERT INTO users (id, discord_id, username) VALUES (${[user.id, user.discordId, user.username].map(quote).join(", ")}) ON CONFLICT DO NOTHING;`,
    );
  }
  for (const user of DEMO_USERS) {
    statements.push(
      `INSERT INTO memberships (community_id, user_id, role) VALUES (${[c.id, user.id, user.role].map(quote).join(", ")}) ON CONFLICT DO NOTHING;`,
    );
  }
  for (const follow of DEMO_FOLLOWS) {
    statements.push(
      `INSERT INTO follows (community_id, follower_user_id, provider_user_id, sizing_mode, amount, mode) VALUES (${[c.id, follow.follower, DEMO_PROVIDER.id].map(quote).join(", ")}, ${follow.sizingMode ? quote(follow.sizingMode) : "NULL"}, ${follow.amount ?? "NULL"}, 'auto') ON CONFLICT DO NOTHING;`,
    );
  }
  return statements;
}

export const DEMO_PROVIDER = DEMO_USERS[1] as DemoUser;

/** The three demo traders follow the provider: default sizing, a fixed quantity, and a multiplier. */
const DEMO_FOLLOWS: readonly { follower: string; sizingMode: string | null; amount: number | null }[] = [
  { follower: "demo-trader-1", sizingMode: null, amount: null },
  { follower: "demo-trader-2", sizingMode: "fixed_quantity", amount: 5 },
  { follower: "demo-trader-3", sizingMode: "multiplier", amount: 0.5 },
];

export async function seedSql(): Promise<string> {
  return `-- Demo community seed (scripts/seed.ts). Idempotent.\n${(await seedStatements()).join("\n")}\n`;
}

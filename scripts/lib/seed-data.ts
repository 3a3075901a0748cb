/**
 * The demo community that `npm start` seeds (pure: data and SQL text only).
 * Other scripts (the demo signal sender) may import these ids. Fake Discord ids:
 * nothing here exists on Discord.
 */

export const DEMO_COMMUNITY = {
  id: "demo-community",
  guildId: "100000000000000100",
  name: "Demo Trading Community",
  tier: "free",
} as const;

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

export const DEMO_OWNER = DEMO_USERS[0] as DemoUser;

const quote = (value: string) => `'${value.replaceAll("'", "''")}'`;

/**
 * Idempotent seed SQL: every row is `INSERT ... ON CONFLICT DO NOTHING`, so a
 * second run changes nothing and rows edited since are left alone. No audit_log
 * rows: the hash-chained audit log is written only by the application.
 */
export function seedSql(): string {
  const statements: string[] = [];
  const c = DEMO_COMMUNITY;
  statements.push(
    `INSERT INTO communities (id, guild_id, name, tier, owner_user_id) VALUES (${[c.id, c.guildId, c.name, c.tier, DEMO_OWNER.id].map(quote).join(", ")}) ON CONFLICT DO NOTHING;`,
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
  return `-- Demo community seed (scripts/seed.ts). Idempotent.\n${statements.join("\n")}\n`;
}

import { eq } from "drizzle-orm";
import { users } from "../../shared/db/schema";
import type { Database } from "./client";

/** Users are global (one per Discord account), not tenant data. */

export type User = typeof users.$inferSelect;

export async function upsertUser(db: Database, input: { discordId: string; username?: string | null }): Promise<User> {
  const now = Date.now();
  const username = input.username ?? null;
  const user = await db
    .insert(users)
    .values({ id: crypto.randomUUID(), discordId: input.discordId, username, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: users.discordId, set: { username, updatedAt: now } })
    .returning()
    .get();
  if (!user) throw new Error(`Upserting user ${input.discordId} returned no row.`);
  return user;
}

export async function userById(db: Database, userId: string): Promise<User | null> {
  return (await db.select().from(users).where(eq(users.id, userId)).get()) ?? null;
}

const DISCORD_ID = /^\d{17,20}$/;

/** The internal id of the user with this Discord id, or null when they never used the product. */
export async function userIdByDiscordId(db: Database, discordId: string): Promise<string | null> {
  const user = await db.select({ id: users.id }).from(users).where(eq(users.discordId, discordId)).get();
  return user?.id ?? null;
}

/**
 * The internal id of the user with this Discord id, made now (with no name yet) when they never used the product;
 * an existing user is left as they are.
 */
export async function userIdForDiscordId(db: Database, discordId: string): Promise<string> {
  const now = Date.now();
  await db
    .insert(users)
    .values({ id: crypto.randomUUID(), discordId, username: null, createdAt: now, updatedAt: now })
    .onConflictDoNothing({ target: users.discordId })
    .run();
  const id = await userIdByDiscordId(db, discordId);
  if (!id) throw new Error(`User ${discordId} is missing right after it was made.`);
  return id;
}

/**
 * The internal id of a user an API caller named by either id: operators usually know the Discord id. An id that
 * is not a known Discord id is taken as internal.
 */
export async function internalUserId(db: Database, id: string): Promise<string> {
  if (!DISCORD_ID.test(id)) return id;
  const user = await db.select({ id: users.id }).from(users).where(eq(users.discordId, id)).get();
  return user?.id ?? id;
}

/**
 * A user as the audit log may name them: the internal id, plus the internal id of the user with that Discord id
 * (operators usually know the Discord id).
 */
export async function auditUserIds(db: Database, id: string): Promise<string[]> {
  if (!DISCORD_ID.test(id)) return [id];
  const user = await db.select({ id: users.id }).from(users).where(eq(users.discordId, id)).get();
  return user ? [id, user.id] : [id];
}

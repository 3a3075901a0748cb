import { database } from "../../platform/db/client";
import { userGuildStore } from "../../platform/db/user-guilds";
import { upsertUser } from "../../platform/db/users";
import type { AppContext } from "../http/context";
import type { DiscordIdentity } from "./discord-api";
import { type AuthenticatedSession, startSession } from "./session";
import { type AuthMethod, recordSignIn } from "./sign-in-record";

/**
 * The last steps of every sign-in, whichever way the browser proved who it is: the user row, what Discord says of
 * their guilds, a new session (cookie and `sessions` row), and its audit (with the new-device alert).
 */
export async function signIn(
  c: AppContext,
  input: { userId: string; method: AuthMethod },
): Promise<AuthenticatedSession> {
  const session = await startSession(c, input.userId);
  await recordSignIn(c, { userId: input.userId, sessionId: session.sessionId, method: input.method });
  return session;
}

/** The OAuth callback's user: created or updated from Discord's user object, their guild list replaced. */
export async function userFromDiscord(c: AppContext, identity: DiscordIdentity): Promise<string> {
  const db = database(c.env.DB);
  const user = await upsertUser(db, { discordId: identity.user.id, username: identity.user.username });
  await userGuildStore(db).replace(user.id, identity.guildIds);
  return user.id;
}

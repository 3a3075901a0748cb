import type { z } from "zod";
import {
  DiscordGuildsSchema,
  type DiscordUser,
  DiscordUserSchema,
  grantedAllScopes,
  TokenResponseSchema,
} from "../../shared/auth/discord-oauth";
import type { AppConfig } from "../../shared/config";
import { discordUserAgent } from "../../shared/discord/user-agent";
import { within } from "../../shared/timeout";

/** How long sign-in waits for each Discord call. */
const DISCORD_TIMEOUT_MS = 5_000;

/** A step of the sign-in that Discord did not complete; `reason` is for logs and the audit, never shown raw. */
export class DiscordSignInError extends Error {
  constructor(
    readonly reason: "token_exchange_failed" | "scope_missing" | "identity_failed",
    detail: string,
  ) {
    super(detail);
    this.name = "DiscordSignInError";
  }
}

export interface DiscordIdentity {
  user: DiscordUser;
  guildIds: string[];
}

/**
 * The Discord side of the callback, through DISCORD_API_BASE: the code (with the PKCE verifier) for an access token
 * (`POST /oauth2/token`, the client authenticated with HTTP Basic), then `GET /users/@me` and `GET /users/@me/guilds`
 * with it. The token is revoked afterwards (`POST /oauth2/token/revoke`): sign-in keeps nothing of it.
 */
export async function identityFromCode(
  config: AppConfig,
  input: { code: string; redirectUri: string; codeVerifier: string },
): Promise<{ identity: DiscordIdentity; accessToken: string }> {
  const base = config.DISCORD_API_BASE;
  const token = await call(
    `${base}/oauth2/token`,
    {
      method: "POST",
      headers: { ...clientAuth(config), "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: input.code,
        redirect_uri: input.redirectUri,
        code_verifier: input.codeVerifier,
      }),
    },
    TokenResponseSchema,
    "token_exchange_failed",
    config,
  );
  if (!grantedAllScopes(token.scope)) {
    throw new DiscordSignInError("scope_missing", `granted scopes: ${token.scope}`);
  }
  const bearer = { authorization: `Bearer ${token.access_token}` };
  const [user, guilds] = await Promise.all([
    call(`${base}/users/@me`, { headers: bearer }, DiscordUserSchema, "identity_failed", config),
    call(`${base}/users/@me/guilds?limit=200`, { headers: bearer }, DiscordGuildsSchema, "identity_failed", config),
  ]);
  return { identity: { user, guildIds: guilds.map((guild) => guild.id) }, accessToken: token.access_token };
}

/** Gives the access token back to Discord. */
export async function revokeAccessToken(config: AppConfig, accessToken: string): Promise<void> {
  const answer = await within(
    fetch(`${config.DISCORD_API_BASE}/oauth2/token/revoke`, {
      method: "POST",
      headers: { ...clientAuth(config), "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: accessToken, token_type_hint: "access_token" }),
    }),
    DISCORD_TIMEOUT_MS,
  );
  await answer.body?.cancel();
  if (!answer.ok) throw new Error(`Discord answered ${answer.status} to the token revocation.`);
}

function clientAuth(config: AppConfig): Record<string, string> {
  const credentials = `${config.DISCORD_CLIENT_ID ?? ""}:${config.DISCORD_CLIENT_SECRET ?? ""}`;
  return { authorization: `Basic ${btoa(credentials)}`, "user-agent": discordUserAgent(config.PUBLIC_BASE_URL) };
}

async function call<T extends z.ZodType>(
  url: string,
  init: RequestInit,
  schema: T,
  reason: DiscordSignInError["reason"],
  config: AppConfig,
): Promise<z.infer<T>> {
  let answer: Response;
  try {
    answer = await within(
      fetch(url, {
        ...init,
        headers: { "user-agent": discordUserAgent(config.PUBLIC_BASE_URL), ...(init.headers as object) },
      }),
      DISCORD_TIMEOUT_MS,
    );
  } catch (error) {
    throw new DiscordSignInError(reason, `no answer: ${error instanceof Error ? error.message : String(error)}`);
  }
  const body = (await answer.json().catch(() => null)) as unknown;
  if (!answer.ok) {
    // Discord's OAuth errors are {"error": "invalid_grant", ...}: the code only, never a token.
    const code = (body as { error?: unknown } | null)?.error;
    throw new DiscordSignInError(reason, `HTTP ${answer.status}${typeof code === "string" ? ` ${code}` : ""}`);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new DiscordSignInError(reason, `unexpected answer from ${new URL(url).pathname}`);
  return parsed.data;
}

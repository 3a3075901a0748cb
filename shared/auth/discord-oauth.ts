import { z } from "zod";
import { toBase64Url } from "../crypto/encoding";
import { purposeKey } from "../crypto/purpose-key";

/**
 * Discord OAuth2 sign-in (authorization code grant with PKCE, RFC 7636, S256), the pure parts: the authorize URL,
 * the code verifier, the return path, and the shapes of Discord's answers, checked at the door. The `state` is 256
 * random bits; the code verifier is derived from it under a key of its own (HMAC-SHA256 of the state under a key
 * derived from SESSION_SECRET), so no verifier is ever stored, and only the Worker that issued a state can answer
 * for it.
 */

export const DISCORD_SIGN_IN_SCOPES = ["identify", "guilds"] as const;
/** An authorization request lives 10 minutes. */
export const OAUTH_STATE_TTL_MS = 10 * 60_000;
/** Where a signed-in browser goes when it asked for nowhere in particular. */
export const DEFAULT_RETURN_PATH = "/app";

const encoder = new TextEncoder();

/** The PKCE code verifier of a state: 43 base64url characters, the RFC's minimum length at full entropy. */
export async function pkceVerifier(secret: string, state: string): Promise<string> {
  const key = await purposeKey(secret, "dte:pkce-verifier");
  return toBase64Url(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(state))));
}

/** S256: base64url(SHA-256(verifier)). */
export async function pkceChallenge(verifier: string): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(verifier))));
}

export function authorizeUrl(input: {
  authorizeUrl: string;
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
}): string {
  const url = new URL(input.authorizeUrl);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", input.clientId);
  url.searchParams.set("scope", DISCORD_SIGN_IN_SCOPES.join(" "));
  url.searchParams.set("redirect_uri", input.redirectUri);
  url.searchParams.set("state", input.state);
  url.searchParams.set("code_challenge", input.codeChallenge);
  url.searchParams.set("code_challenge_method", "S256");
  // Someone who authorized the app before is not asked again.
  url.searchParams.set("prompt", "none");
  return url.toString();
}

/**
 * Where to send a browser after sign-in: a path under /app on this origin, or the default. Anything else (another
 * host, `//host`, a backslash, an encoded trick) falls back, so the sign-in cannot be used as an open redirect.
 */
export function safeReturnPath(next: string | undefined | null): string {
  if (!next || next.length > 512) return DEFAULT_RETURN_PATH;
  if (!/^\/app(?:[/?#]|$)/.test(next) || /[\\\s]|\/\/|%2f|%5c/i.test(next)) return DEFAULT_RETURN_PATH;
  return next;
}

const snowflake = z.string().regex(/^\d{17,20}$/, "a Discord snowflake");

/** The callback's query: `code` and `state`, or Discord's `error` (e.g. `access_denied`) with `state`. */
export const CallbackQuerySchema = z.object({
  code: z.string().min(1).max(512).optional(),
  state: z.string().min(1).max(128).optional(),
  error: z.string().min(1).max(100).optional(),
  error_description: z.string().max(500).optional(),
  /** RFC 9207: Discord names itself as the issuer. */
  iss: z.string().max(200).optional(),
});

/** "Access Token Response" (Discord OAuth2 docs). */
export const TokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().refine((type) => type.toLowerCase() === "bearer", "a Bearer token"),
  expires_in: z.number().int().positive().optional(),
  refresh_token: z.string().optional(),
  scope: z.string(),
});

/** Discord's "User Object", the fields sign-in uses. */
export const DiscordUserSchema = z.object({
  id: snowflake,
  username: z.string().min(1).max(64),
  global_name: z.string().max(64).nullish(),
});
export type DiscordUser = z.infer<typeof DiscordUserSchema>;

/** `GET /users/@me/guilds`: partial guild objects (at most 200 per page, the most a user can join). */
export const DiscordGuildsSchema = z.array(z.object({ id: snowflake, name: z.string() })).max(200);

/** Whether the scopes Discord granted include everything sign-in needs. */
export function grantedAllScopes(scope: string): boolean {
  const granted = new Set(scope.split(/\s+/));
  return DISCORD_SIGN_IN_SCOPES.every((needed) => granted.has(needed));
}

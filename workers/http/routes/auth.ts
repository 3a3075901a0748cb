import { createRoute, z } from "@hono/zod-openapi";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { database } from "../../../platform/db/client";
import { oauthStateStore } from "../../../platform/db/oauth-states";
import { oneTimeLinkStore } from "../../../platform/db/one-time-links";
import { forCommunity } from "../../../platform/db/tenant/for-community";
import { userGuildStore } from "../../../platform/db/user-guilds";
import { userById } from "../../../platform/db/users";
import {
  authorizeUrl,
  CallbackQuerySchema,
  OAUTH_STATE_TTL_MS,
  pkceChallenge,
  pkceVerifier,
  safeReturnPath,
} from "../../../shared/auth/discord-oauth";
import { sessionCookieFor } from "../../../shared/auth/session-token";
import { sha256Hex } from "../../../shared/crypto/constant-time";
import { randomToken } from "../../../shared/crypto/encoding";
import { AppError, ServiceUnavailableError, UnauthorizedError, ValidationError } from "../../../shared/errors";
import { DiscordSignInError, identityFromCode, revokeAccessToken } from "../../auth/discord-api";
import { revokeAllSessions } from "../../auth/revocation";
import { type AuthenticatedSession, authenticateSession, clearSessionCookie, endSession } from "../../auth/session";
import { signIn, userFromDiscord } from "../../auth/sign-in";
import { recordSignInFailure, recordSignOutEverywhere } from "../../auth/sign-in-record";
import type { App, AppContext } from "../context";
import { escapeHtml, FORM_PAGE_CSP, htmlDocument, htmlPage, postForm } from "../html-page";
import { assertCsrfToken } from "../middleware/csrf";
import { rateLimit } from "../middleware/rate-limit";
import { publicOrigin } from "../public-origin";
import { errorResponse } from "../schemas";

/**
 * Browser sign-in with Discord (OAuth2 authorization code with PKCE), the single-use links `/dashboard` and the
 * new-sign-in alert hand out, and sign-out. Pages here carry no script; errors reach a browser as a page.
 */

const loginLimit = rateLimit({ name: "sign-in", keyBy: "ip", limit: 20, periodMs: 10 * 60_000 });
const callbackLimit = rateLimit({ name: "sign-in-callback", keyBy: "ip", limit: 10, periodMs: 15 * 60_000 });
const linkLimit = rateLimit({ name: "sign-in-link", keyBy: "ip", limit: 10, periodMs: 15 * 60_000 });

const DISCORD = "discord";
const redirectTo = (what: string) => ({ 302: { description: what } });
const page = (description: string) => ({ description, content: { "text/html": { schema: z.string() } } });

const login = createRoute({
  middleware: [loginLimit] as const,
  method: "get",
  path: "/auth/discord/login",
  tags: ["auth"],
  summary: "Sign in with Discord: 302 to Discord's authorization page (scopes identify and guilds, state, PKCE S256)",
  request: {
    query: z.object({
      next: z.string().max(512).optional().openapi({ description: "A path under /app to return to", example: "/app" }),
    }),
  },
  responses: {
    ...redirectTo("To Discord (or straight to `next` when already signed in)"),
    429: errorResponse("Over 20 sign-ins from this address in 10 minutes"),
    503: errorResponse("Discord sign-in is not configured (FEATURE_NOT_CONFIGURED)"),
  },
});

const callback = createRoute({
  middleware: [callbackLimit] as const,
  method: "get",
  path: "/auth/discord/callback",
  tags: ["auth"],
  summary: "Where Discord sends the browser back: checks the state, exchanges the code, starts the session",
  request: { query: CallbackQuerySchema },
  responses: {
    ...redirectTo("Signed in: to the page the sign-in started from (/app by default), with the session cookie"),
    400: errorResponse("Unknown, used, expired or another browser's state (OAUTH_STATE_INVALID), or no code"),
    403: errorResponse("The user declined on Discord (SIGN_IN_DENIED)"),
    429: errorResponse("Over 10 callbacks from this address in 15 minutes"),
    502: errorResponse("Discord did not complete the token exchange or the identity (DISCORD_SIGN_IN_FAILED)"),
  },
});

const logout = createRoute({
  method: "post",
  path: "/auth/logout",
  tags: ["auth"],
  summary: "Sign out this browser, or with ?everywhere=true every session of the account",
  description:
    "A browser form must carry `csrf_token` (the /app page's forms do); a script sends `x-csrf-token` or JSON from this origin.",
  security: [{ sessionCookie: [] }],
  request: { query: z.object({ everywhere: z.enum(["true", "false"]).default("false") }) },
  responses: {
    200: page("Signed out (a page for a browser)"),
    204: { description: "Signed out" },
    403: errorResponse("Cross-site request, or a form without the CSRF token (CSRF_REJECTED)"),
  },
});

const LinkToken = z.string().regex(/^[A-Za-z0-9_-]{43}$/, "a link token is 43 base64url characters");

const linkPage = createRoute({
  method: "get",
  path: "/auth/link",
  tags: ["auth"],
  summary: "A single-use link from Discord (/dashboard's sign-in, a new-sign-in alert's sign out everywhere)",
  description: "Shows what the link does with one button; only the button's POST uses it (link previews cannot).",
  request: { query: z.object({ t: LinkToken }) },
  responses: {
    200: page("What the link does, and its button"),
    410: errorResponse("Unknown, used or expired link (SIGN_IN_LINK_INVALID)"),
  },
});

const useLink = createRoute({
  middleware: [linkLimit] as const,
  method: "post",
  path: "/auth/link",
  tags: ["auth"],
  summary: "Use a single-use link: sign in (303 to /app) or sign out everywhere",
  request: {
    body: { content: { "application/x-www-form-urlencoded": { schema: z.object({ t: LinkToken }) } }, required: true },
  },
  responses: {
    200: page("Signed out everywhere"),
    303: { description: "Signed in: to /app, with the session cookie" },
    403: errorResponse("Posted from another site (CSRF_REJECTED)"),
    410: errorResponse("Unknown, used or expired link (SIGN_IN_LINK_INVALID)"),
    429: errorResponse("Over 10 links used from this address in 15 minutes"),
  },
});

class OAuthStateError extends AppError {
  constructor() {
    super(
      400,
      "OAUTH_STATE_INVALID",
      "This sign-in cannot be completed: it expired, was already used, or was started in another browser.",
    );
  }
}

class LinkInvalidError extends AppError {
  constructor() {
    super(410, "SIGN_IN_LINK_INVALID", "This link has expired or was already used: each link works once.");
  }
}

export function registerAuth(app: App): void {
  app.openapi(login, async (c) => {
    const { secret, clientId } = signInConfig(c);
    const returnTo = safeReturnPath(c.req.valid("query").next);
    if (await currentSession(c)) return c.redirect(returnTo, 302);

    const state = randomToken();
    const binding = randomToken();
    await oauthStateStore(database(c.env.DB)).create({
      state,
      provider: DISCORD,
      browserHash: await sha256Hex(binding),
      returnTo,
      ttlMs: OAUTH_STATE_TTL_MS,
    });
    const cookie = bindingCookie(c);
    setCookie(c, cookie.name, binding, {
      path: "/",
      secure: cookie.secure,
      httpOnly: true,
      sameSite: "Lax",
      maxAge: OAUTH_STATE_TTL_MS / 1000,
    });
    const url = authorizeUrl({
      authorizeUrl: c.get("config").DISCORD_OAUTH_AUTHORIZE_URL,
      clientId,
      redirectUri: redirectUri(c),
      state,
      codeChallenge: await pkceChallenge(await pkceVerifier(secret, state)),
    });
    return c.redirect(url, 302);
  });

  app.openapi(callback, async (c) => {
    const { secret } = signInConfig(c);
    const query = c.req.valid("query");
    const cookie = bindingCookie(c);
    const binding = getCookie(c, cookie.name);
    deleteCookie(c, cookie.name, { path: "/", secure: cookie.secure, httpOnly: true, sameSite: "Lax" });

    if (!query.state) {
      await recordSignInFailure(c, { reason: "state_missing", method: "discord_oauth" });
      throw new OAuthStateError();
    }
    const claim = await oauthStateStore(database(c.env.DB)).claim({
      state: query.state,
      provider: DISCORD,
      browserHash: binding ? await sha256Hex(binding) : null,
    });
    if (!claim.ok) {
      await recordSignInFailure(c, { reason: claim.problem, method: "discord_oauth" });
      throw new OAuthStateError();
    }
    if (query.error) {
      const reason = query.error === "access_denied" ? "access_denied" : `discord_error:${query.error.slice(0, 40)}`;
      await recordSignInFailure(c, { reason, method: "discord_oauth" });
      throw new AppError(
        403,
        "SIGN_IN_DENIED",
        "Sign-in was cancelled on Discord, so nothing was shared. You can sign in again whenever you like.",
      );
    }
    if (!query.code) {
      await recordSignInFailure(c, { reason: "code_missing", method: "discord_oauth" });
      throw new ValidationError("Discord sent no authorization code: sign in again.");
    }

    let result: Awaited<ReturnType<typeof identityFromCode>>;
    try {
      result = await identityFromCode(c.get("config"), {
        code: query.code,
        redirectUri: redirectUri(c),
        codeVerifier: await pkceVerifier(secret, query.state),
      });
    } catch (error) {
      if (!(error instanceof DiscordSignInError)) throw error;
      c.get("logger").warn("auth.discord_failed", { reason: error.reason, detail: error.message });
      await recordSignInFailure(c, { reason: error.reason, method: "discord_oauth" });
      throw new AppError(502, "DISCORD_SIGN_IN_FAILED", "Discord did not complete the sign-in. Try again in a moment.");
    }
    c.executionCtx.waitUntil(
      revokeAccessToken(c.get("config"), result.accessToken).catch((error: unknown) =>
        c.get("logger").warn("auth.token_revoke_failed", { error }),
      ),
    );
    const userId = await userFromDiscord(c, result.identity);
    await signIn(c, { userId, method: "discord_oauth" });
    return c.redirect(claim.row.returnTo, 302);
  });

  app.openapi(logout, async (c) => {
    const session = await currentSession(c);
    const everywhere = c.req.valid("query").everywhere === "true";
    let text = "You were not signed in on this browser.";
    if (session) {
      await assertCsrfToken(c, signInConfig(c).secret, session.sessionId);
      if (everywhere) {
        const ended = await revokeAllSessions(c.env, c.get("logger"), session.userId);
        clearSessionCookie(c);
        await recordSignOutEverywhere(c, { userId: session.userId, sessionsEnded: ended, method: "logout" });
        text = `Every session of your account has ended (${ended}), on this browser and everywhere else.`;
      } else {
        await endSession(c, session);
        text = "You are signed out on this browser.";
      }
    } else {
      clearSessionCookie(c);
    }
    if (!(c.req.header("accept") ?? "").includes("text/html")) return c.body(null, 204);
    return c.html(htmlPage("Signed out", `${text} Run /dashboard in Discord to sign in again.`), 200);
  });

  app.openapi(linkPage, async (c) => {
    const token = c.req.valid("query").t;
    const link = await oneTimeLinkStore(database(c.env.DB)).peek(token);
    if (!link) throw new LinkInvalidError();
    const user = await userById(database(c.env.DB), link.userId);
    const who = user?.username ? `@${user.username}` : "your Discord account";
    c.header("content-security-policy", FORM_PAGE_CSP);
    if (link.purpose === "sign_in") {
      return c.html(
        htmlDocument(
          "Sign in to your dashboard",
          `<p>${escapeHtml(`This link signs this browser in as ${who}. It works once and expires 5 minutes after /dashboard gave it.`)}</p>${postForm("/auth/link", { t: token }, "Continue")}`,
        ),
        200,
      );
    }
    return c.html(
      htmlDocument(
        "Sign out everywhere",
        `<p>${escapeHtml(`This ends every session of ${who} on every browser, including one you did not start.`)}</p>${postForm("/auth/link", { t: token }, "Sign out everywhere")}`,
      ),
      200,
    );
  });

  app.openapi(useLink, async (c) => {
    const { t: token } = c.req.valid("form");
    if (!c.req.header("origin")) {
      // A browser always says where a form comes from; this link is worth a session.
      throw new AppError(403, "CSRF_REJECTED", "This request must come from this site's page.");
    }
    const links = oneTimeLinkStore(database(c.env.DB));
    const peeked = await links.peek(token);
    const link = peeked ? await links.claim(token, peeked.purpose) : null;
    if (!link) {
      await recordSignInFailure(c, { reason: "link_invalid", method: "discord_link", userId: peeked?.userId });
      throw new LinkInvalidError();
    }
    if (link.purpose === "sign_out_everywhere") {
      const ended = await revokeAllSessions(c.env, c.get("logger"), link.userId);
      clearSessionCookie(c);
      await recordSignOutEverywhere(c, { userId: link.userId, sessionsEnded: ended, method: "alert_link" });
      return c.html(
        htmlPage(
          "Signed out everywhere",
          `Every session of your account has ended (${ended}). Run /dashboard in Discord to sign in again.`,
        ),
        200,
      );
    }
    if (link.communityId) {
      // The link came from a command run in this community's guild: the user is in it.
      const community = await forCommunity(database(c.env.DB), link.communityId).community.get();
      if (community) await userGuildStore(database(c.env.DB)).add(link.userId, community.guildId);
    }
    await signIn(c, { userId: link.userId, method: "discord_link" });
    return c.redirect("/app", 303);
  });
}

/** The session of this request, or null when it has none (or a dead one). */
async function currentSession(c: AppContext): Promise<AuthenticatedSession | null> {
  try {
    return await authenticateSession(c);
  } catch (error) {
    if (error instanceof UnauthorizedError) return null;
    throw error;
  }
}

function signInConfig(c: AppContext): { secret: string; clientId: string } {
  const config = c.get("config");
  if (!config.SESSION_SECRET || !config.DISCORD_CLIENT_ID || !config.DISCORD_CLIENT_SECRET) {
    throw new ServiceUnavailableError(
      "Discord sign-in is not configured (DISCORD_CLIENT_ID, DISCORD_CLIENT_SECRET, SESSION_SECRET).",
      "FEATURE_NOT_CONFIGURED",
    );
  }
  return { secret: config.SESSION_SECRET, clientId: config.DISCORD_CLIENT_ID };
}

function redirectUri(c: AppContext): string {
  return `${publicOrigin(c)}/auth/discord/callback`;
}

/**
 * The cookie that binds an authorization request to the browser that started it: `__Host-sign-in` (or, where the
 * session cookie is relaxed on plain-http localhost, `dte-dev-sign-in`), HttpOnly, SameSite=Lax (sent on Discord's
 * top-level redirect back), for the state's 10 minutes.
 */
function bindingCookie(c: AppContext): { name: string; secure: boolean } {
  const { secure } = sessionCookieFor(c.req.url, c.get("config").ENVIRONMENT);
  return secure ? { name: "__Host-sign-in", secure } : { name: "dte-dev-sign-in", secure };
}

import { createRoute, z } from "@hono/zod-openapi";
import { database } from "../../../platform/db/client";
import { type ListedCommunity, listedCommunities } from "../../../platform/db/cross-community/member-communities";
import { userById } from "../../../platform/db/users";
import { CSRF_FORM_FIELD } from "../../../shared/auth/csrf";
import { MEMBERSHIP_ROLES } from "../../../shared/db/schema";
import { csrfTokenFor, requirePageSession, requireSession } from "../../auth/session";
import type { App, AppContext } from "../context";
import { escapeHtml, FORM_PAGE_CSP, htmlDocument, postForm } from "../html-page";
import { errorResponse, jsonResponse } from "../schemas";

/**
 * The signed-in member's home: `/app` (a page with no script) and `GET /api/v1/me` (the same facts as JSON), both
 * listing only the communities listed for them (a member, and in the guild at their last sign-in).
 */

const appHome = createRoute({
  middleware: [requirePageSession] as const,
  method: "get",
  path: "/app",
  tags: ["app"],
  summary: "The dashboard home: your communities and sign-out; without a session, 302 to /auth/discord/login",
  security: [{ sessionCookie: [] }],
  responses: {
    200: { description: "An HTML page", content: { "text/html": { schema: z.string() } } },
    302: { description: "No session: to /auth/discord/login?next=/app" },
  },
});

const CommunitySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    guildId: z.string(),
    role: z.enum(MEMBERSHIP_ROLES),
  })
  .openapi("MyCommunity");

const MeSchema = z
  .object({
    user: z.object({ id: z.string(), discordId: z.string(), username: z.string().nullable() }),
    communities: z.array(CommunitySchema),
    csrfToken: z.string().openapi({ description: "Send as x-csrf-token with form-encoded mutations" }),
  })
  .openapi("Me");

const me = createRoute({
  middleware: [requireSession] as const,
  method: "get",
  path: "/api/v1/me",
  tags: ["app"],
  summary: "Who is signed in, and the communities listed for them",
  security: [{ sessionCookie: [] }],
  responses: {
    200: jsonResponse(MeSchema, "The signed-in user"),
    401: errorResponse("No session, or an expired, revoked or forged one"),
  },
});

export function registerAppPages(app: App): void {
  app.openapi(appHome, async (c) => {
    const { user, communities, csrfToken } = await whoAmI(c);
    const list =
      communities.length === 0
        ? "<p>No community is listed for you yet: you are listed once you are a member of a community (run any command in its server) and in its Discord server.</p>"
        : `<ul>${communities.map(communityItem).join("")}</ul>`;
    const body = [
      `<p>${escapeHtml(`Signed in as @${user.username ?? user.discordId}.`)}</p>`,
      '<p><a href="/app/inbox">Your inbox</a>: every notice we sent you, even when your DMs are closed.</p>',
      "<h2>Your communities</h2>",
      list,
      "<h2>Sessions</h2>",
      postForm("/auth/logout", { [CSRF_FORM_FIELD]: csrfToken }, "Sign out"),
      postForm("/auth/logout?everywhere=true", { [CSRF_FORM_FIELD]: csrfToken }, "Sign out everywhere"),
    ].join("");
    c.header("content-security-policy", FORM_PAGE_CSP);
    return c.html(htmlDocument("Your dashboard", body), 200);
  });

  app.openapi(me, async (c) => c.json(await whoAmI(c), 200));
}

async function whoAmI(c: AppContext) {
  const session = c.get("session");
  if (!session) throw new Error("whoAmI runs behind a session middleware.");
  const db = database(c.env.DB);
  const [user, communities] = await Promise.all([userById(db, session.userId), listedCommunities(db, session.userId)]);
  if (!user) throw new Error(`The session's user ${session.userId} has no row.`);
  return {
    user: { id: user.id, discordId: user.discordId, username: user.username },
    communities,
    csrfToken: await csrfTokenFor(c, session),
  };
}

/** Each community with the member's role and their trade history to download (every member's for admins). */
const communityItem = (community: ListedCommunity) => {
  const history = `/api/v1/communities/${encodeURIComponent(community.id)}/trades?format=csv`;
  return `<li>${escapeHtml(`${community.name} — ${community.role}`)} · <a href="${escapeHtml(history)}" download>Download trade history (CSV)</a></li>`;
};

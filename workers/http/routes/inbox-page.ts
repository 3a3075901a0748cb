import { createRoute, z } from "@hono/zod-openapi";
import { requirePageSession } from "../../auth/session";
import type { App } from "../context";
import { htmlDocument, SCRIPT_PAGE_CSP } from "../html-page";
import { INBOX_SCRIPT } from "../pages/inbox-script";

/**
 * `/app/inbox`: the member's notices (every DM notice, delivered or not), unread first, with "mark read" and live
 * updates from the realtime `notifications` channel; the page is static and its script is `/app/inbox.js`.
 */

const inboxPage = createRoute({
  middleware: [requirePageSession] as const,
  method: "get",
  path: "/app/inbox",
  tags: ["app"],
  summary: "Your inbox: every notice, unread first; without a session, 302 to /auth/discord/login",
  security: [{ sessionCookie: [] }],
  responses: {
    200: { description: "An HTML page", content: { "text/html": { schema: z.string() } } },
    302: { description: "No session: to /auth/discord/login?next=/app/inbox" },
  },
});

const inboxScript = createRoute({
  method: "get",
  path: "/app/inbox.js",
  tags: ["app"],
  summary: "The inbox page's script (static)",
  responses: { 200: { description: "JavaScript", content: { "text/javascript": { schema: z.string() } } } },
});

const BODY = [
  '<p><a href="/app">Your dashboard</a> · <span id="unread"></span> · <button type="button" id="mark-all">Mark all read</button></p>',
  '<p id="status">Loading…</p>',
  '<ul id="notices"></ul>',
].join("");

export function registerInboxPage(app: App): void {
  app.openapi(inboxPage, (c) => {
    c.header("content-security-policy", SCRIPT_PAGE_CSP);
    return c.html(htmlDocument("Your inbox", BODY, { script: "/app/inbox.js" }), 200);
  });

  app.openapi(inboxScript, (c) => {
    c.header("content-type", "text/javascript; charset=utf-8");
    c.header("cache-control", "no-cache");
    return c.body(INBOX_SCRIPT, 200);
  });
}

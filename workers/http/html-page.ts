import type { AppError } from "../../shared/errors";
import type { AppContext } from "./context";

/**
 * Pages a person sees in a browser (billing links, the return page, any error on a browser-facing path): one short,
 * static, escaped document. The response policy gives HTML a `default-src 'none'` CSP, so it carries no script or
 * style.
 */

export function htmlPage(title: string, text: string): string {
  return htmlDocument(title, `<p>${escapeHtml(text)}</p>`);
}

/**
 * A page whose body is built from escaped parts (`escapeHtml`, `postForm`): headings, lists, forms, never an inline
 * script. `script`: the path of a script file of this site the page loads (its CSP must be SCRIPT_PAGE_CSP).
 */
export function htmlDocument(title: string, bodyHtml: string, options: { script?: string } = {}): string {
  const script = options.script ? `<script src="${escapeHtml(options.script)}" defer></script>` : "";
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>${script}</head><body><h1>${escapeHtml(title)}</h1>${bodyHtml}</body></html>`;
}

/**
 * A form of one button that POSTs hidden fields to a path of this site. A page holding one needs `form-action
 * 'self'` in its CSP (FORM_PAGE_CSP); the static default allows no form at all.
 */
export function postForm(action: string, fields: Record<string, string>, button: string): string {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join("");
  return `<form method="post" action="${escapeHtml(action)}">${inputs}<button type="submit">${escapeHtml(button)}</button></form>`;
}

/** Pages with forms: still no script, style, image or frame; forms may post to this site only. */
export const FORM_PAGE_CSP = "default-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * Pages with a script file of this site (`/app/inbox` and its `/app/inbox.js`): scripts, fetches and the realtime
 * socket to this site only; never an inline script, style, image or frame.
 */
export const SCRIPT_PAGE_CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * Whether an error is answered as a page: a browser (it asks for HTML) on a path outside `/api/`. The API, Discord's
 * `/interactions` and the webhooks keep the JSON error body whatever they accept.
 */
export function wantsErrorPage(c: AppContext): boolean {
  const path = c.req.path;
  if (path.startsWith("/api/") || path === "/interactions" || path.startsWith("/webhooks/")) return false;
  return (c.req.header("accept") ?? "").includes("text/html");
}

/** The page for an error: what happened in words, and the request id to quote. */
export function errorPage(error: AppError, requestId: string): string {
  const title =
    error.status === 404
      ? "Page not found"
      : error.status >= 500
        ? "Something went wrong on our side"
        : "This link cannot be used";
  const next =
    error.status >= 500
      ? "Please try again in a few minutes, and quote the request id if it keeps happening."
      : error.code === "OAUTH_STATE_INVALID" || error.code === "SIGN_IN_DENIED" || error.code === "CSRF_REJECTED"
        ? "Sign in again from the start (/auth/discord/login), or run /dashboard in Discord."
        : "Return to Discord and run the command again for a fresh link.";
  return htmlPage(title, `${error.message} ${next} (request id ${requestId})`);
}

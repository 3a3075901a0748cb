import { toBase64Url } from "../crypto/encoding";
import { purposeKey } from "../crypto/purpose-key";

/**
 * CSRF defences for browser mutations: the request's `Origin` must be this site's, and a form (anything a
 * cross-site page could post without a CORS preflight) must carry the session's CSRF token, an HMAC of the session id
 * under a key derived from SESSION_SECRET for this purpose only. A token is worthless for any other session, and
 * signing out ends it.
 */

export const CSRF_FORM_FIELD = "csrf_token";
export const CSRF_HEADER = "x-csrf-token";

const encoder = new TextEncoder();

export async function csrfToken(secret: string, sessionId: string): Promise<string> {
  const key = await purposeKey(secret, "dte:csrf");
  return toBase64Url(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(sessionId))));
}

/** Whether `origin` (an Origin header) is one of `allowed` (origins such as `https://app.example.com`). */
export function isAllowedOrigin(origin: string, allowed: readonly string[]): boolean {
  if (!URL.canParse(origin)) return false;
  const parsed = new URL(origin).origin;
  return parsed !== "null" && allowed.includes(parsed);
}

/**
 * Bodies a cross-site HTML form or a "simple" request can send without a preflight (and so without CORS's consent):
 * these need the token. A JSON body cannot cross origins without a preflight this app never grants.
 */
export function isFormLike(contentType: string | undefined): boolean {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  return type !== "application/json";
}

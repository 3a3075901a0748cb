import { expect } from "vitest";
import { totpCode } from "../../shared/auth/totp";
import { call, csrfTokenOf } from "./http";
import { TEST_VARS } from "./test-vars";

/** What a browser on the dashboard sends with each MFA call (the address and agent the audit records). */
export const BROWSER = {
  ip: "203.0.113.7",
  userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
};

/**
 * Calls an `/api/v1/me/mfa` route (or any session route) as the browser holding `cookie`, from this site (and from
 * `ip`); a mutation without a JSON body carries the session's CSRF token, as the security page's script sends it.
 */
export async function mfaCall(
  cookie: string,
  method: string,
  path: string,
  body?: unknown,
  ip = BROWSER.ip,
): Promise<Response> {
  const headers: Record<string, string> = {
    cookie,
    origin: TEST_VARS.PUBLIC_BASE_URL,
    "cf-connecting-ip": ip,
    "user-agent": BROWSER.userAgent,
  };
  if (body !== undefined) headers["content-type"] = "application/json";
  else if (method !== "GET") headers["x-csrf-token"] = await csrfTokenOf(cookie);
  return call(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** Starts enrolment through the API: the base32 secret an authenticator app reads from the QR code's URI. */
export async function startMfaEnrolment(
  cookie: string,
): Promise<{ secret: string; otpauthUri: string; qrSvg: string }> {
  const res = await mfaCall(cookie, "POST", "/api/v1/me/mfa", {});
  expect(res.status).toBe(201);
  const body = (await res.json()) as { secret: string; otpauthUri: string; qrSvg: string };
  expect(new URL(body.otpauthUri).searchParams.get("secret")).toBe(body.secret);
  return body;
}

/**
 * Enrols and confirms through the API, as a member with an authenticator app does: the factor is on and this
 * session is verified (a step-up is allowed for 10 minutes). The confirming code uses the current time step.
 */
export async function enrolMfa(cookie: string): Promise<{ secret: string; backupCodes: string[] }> {
  const { secret } = await startMfaEnrolment(cookie);
  const res = await mfaCall(cookie, "POST", "/api/v1/me/mfa/confirm", { code: totpCode(secret, Date.now()) });
  expect(res.status).toBe(200);
  const { backupCodes } = (await res.json()) as { backupCodes: string[] };
  return { secret, backupCodes };
}

/**
 * The code an authenticator app shows one step from now: accepted (±1 step) after the current step was used by
 * the confirmation, so a test can verify once more without waiting 30 seconds.
 */
export const nextStepCode = (secret: string) => totpCode(secret, Date.now() + 30_000);

import { Secret, TOTP } from "otpauth";
import { renderSVG } from "uqr";

/**
 * TOTP (RFC 6238) as the platform uses it: HMAC-SHA-1, 30-second steps, 6 digits, a code accepted one step either
 * side of now (clock drift). Pure: the caller keeps the secret sealed and the last used step (the replay guard).
 */

export const TOTP_ALGORITHM = "SHA1";
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps either side of the current one a code may come from. */
export const TOTP_WINDOW = 1;
/** 160 bits, the HMAC-SHA-1 output size RFC 4226 recommends for a shared secret. */
const SECRET_BYTES = 20;
/** What an authenticator app shows as the account's issuer. */
export const TOTP_ISSUER = "Discord Trade Executor";

/** What a stored TOTP secret is sealed bound to (its additional data): it opens for this user's row only. */
export function totpSecretBinding(userId: string): string {
  return `user_mfa:${userId}`;
}

/** A new random TOTP secret, in base32 (what `otpauth://` URIs and authenticator apps use). */
export function newTotpSecret(): string {
  return new Secret({ size: SECRET_BYTES }).base32;
}

function totp(secretBase32: string, label = "account", digits = TOTP_DIGITS): TOTP {
  return new TOTP({
    issuer: TOTP_ISSUER,
    label,
    algorithm: TOTP_ALGORITHM,
    digits,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** The `otpauth://totp/...` URI an authenticator app enrols from (the QR code encodes it). */
export function otpauthUri(secretBase32: string, accountLabel: string): string {
  return totp(secretBase32, accountLabel).toString();
}

/** The URI as an SVG QR code (a standalone `<svg>` document, no script). */
export function otpauthQrSvg(uri: string): string {
  return renderSVG(uri, { ecc: "M", border: 2 });
}

/** The time step (RFC 6238's T) a moment falls in. */
export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

export const TOTP_CODE = /^\d{6}$/;

/**
 * The time step a code belongs to when it is right for the secret within ±1 step of `nowMs`, otherwise null. The
 * caller refuses a step at or before the last one used (a replay).
 */
export function matchTotpStep(code: string, secretBase32: string, nowMs: number): number | null {
  if (!TOTP_CODE.test(code)) return null;
  const delta = totp(secretBase32).validate({ token: code, timestamp: nowMs, window: TOTP_WINDOW });
  return delta === null ? null : totpStep(nowMs) + delta;
}

/**
 * The code for a moment: what an authenticator app shows. `digits` other than 6 only for RFC 6238's own test
 * vectors (8 digits).
 */
export function totpCode(secretBase32: string, atMs: number, digits = TOTP_DIGITS): string {
  return totp(secretBase32, "account", digits).generate({ timestamp: atMs });
}

import { createRoute, z } from "@hono/zod-openapi";
import { MFA_CODE_CHECKS_PER_ADDRESS, MFA_LOCKOUT_MS } from "../../../shared/auth/mfa";
import { confirmEnrolment, disableFactor, mfaStatus, startEnrolment, verifyFactor } from "../../auth/mfa";
import { csrfTokenFor, requirePageSession, requireSession } from "../../auth/session";
import type { App } from "../context";
import { escapeHtml, htmlDocument } from "../html-page";
import { rateLimit } from "../middleware/rate-limit";
import { errorResponse, jsonResponse } from "../schemas";
import { SECURITY_PAGE_SCRIPT } from "../security-page-script";

/**
 * The signed-in member's second factor (TOTP, RFC 6238): `GET|POST|DELETE /api/v1/me/mfa`, `POST
 * /api/v1/me/mfa/confirm` and `POST /api/v1/me/mfa/verify` (the step-up), and the security page `/app/security`
 * that drives them with its script `/app/security.js` (served from this site: the page runs no inline script).
 * The rules are `workers/auth/mfa.ts` and `shared/auth/mfa.ts`.
 */

const session = { middleware: [requireSession], security: [{ sessionCookie: [] }] };
/**
 * Code checks from one address, across every member: the per-member lockout (5 wrong codes) does not stop one
 * client spraying guesses over many stolen sessions. Counted before the session is read, so forged ones count too.
 */
const codeCheckLimit = rateLimit({
  name: "mfa-code",
  keyBy: "ip",
  limit: MFA_CODE_CHECKS_PER_ADDRESS,
  periodMs: MFA_LOCKOUT_MS,
});
const codeCheck = { middleware: [codeCheckLimit, requireSession], security: session.security };
const TAGS = ["app"];

const StatusSchema = z
  .object({
    state: z.enum(["none", "pending", "active"]).openapi({ description: "pending: enrolled, not yet confirmed" }),
    enabledAt: z.number().int().nullable(),
    verifiedAt: z.number().int().nullable().openapi({ description: "This session's last verification (ms)" }),
    stepUpUntil: z.number().int().nullable().openapi({ description: "Step-up actions are allowed until (ms)" }),
    backupCodesLeft: z.number().int(),
    lockedUntil: z.number().int().nullable().openapi({ description: "Too many wrong codes: locked until (ms)" }),
  })
  .openapi("MfaStatus");

const CodeBody = z
  .object({
    code: z.string().trim().min(6).max(32).openapi({
      description: "A 6-digit code from the authenticator app, or (verify only) a backup code",
      example: "123456",
    }),
  })
  .strict()
  .openapi("MfaCode");

const ConfirmBody = z
  .object({
    code: z
      .string()
      .trim()
      .regex(/^\d{6}$/, "the 6-digit code the authenticator app shows"),
  })
  .strict()
  .openapi("MfaConfirm");

const unauthorized = errorResponse("No session, or an expired, revoked or forged one");
const wrongCode = errorResponse("Wrong, expired or already used code (MFA_CODE_INVALID)");
const locked = errorResponse(
  "Five wrong codes in a row: locked for 15 minutes (MFA_LOCKED), or too many code checks from this address (RATE_LIMITED); see Retry-After",
);

const status = createRoute({
  ...session,
  method: "get",
  path: "/api/v1/me/mfa",
  tags: TAGS,
  summary: "Whether two-factor authentication is on, and this session's step-up",
  responses: { 200: jsonResponse(StatusSchema, "The factor's state"), 401: unauthorized },
});

const enrol = createRoute({
  ...session,
  method: "post",
  path: "/api/v1/me/mfa",
  tags: TAGS,
  summary: "Start enrolment: a new TOTP secret, as an otpauth:// URI and an SVG QR code (confirm with a first code)",
  responses: {
    201: jsonResponse(
      z
        .object({
          otpauthUri: z.string().openapi({ example: "otpauth://totp/Discord%20Trade%20Executor:%40ana?..." }),
          qrSvg: z.string().openapi({ description: "The URI as an SVG QR code" }),
          secret: z.string().openapi({ description: "The secret in base32, for typing into an app" }),
        })
        .openapi("MfaEnrolment"),
      "Scan the QR code, then confirm with the code the app shows",
    ),
    401: unauthorized,
    403: errorResponse("Cross-site request (CSRF_REJECTED)"),
    409: errorResponse("Two-factor authentication is already on (MFA_ALREADY_ENROLLED)"),
    503: errorResponse(
      "MASTER_KEY is not configured (FEATURE_NOT_CONFIGURED), or the data key is past 120 days and not yet rotated (DATA_KEY_EXPIRED)",
    ),
  },
});

const confirm = createRoute({
  ...codeCheck,
  method: "post",
  path: "/api/v1/me/mfa/confirm",
  tags: TAGS,
  summary: "Confirm enrolment with the first code: the factor is on; returns 10 single-use backup codes, once",
  request: { body: { required: true, content: { "application/json": { schema: ConfirmBody } } } },
  responses: {
    200: jsonResponse(
      z.object({ backupCodes: z.array(z.string()).length(10) }).openapi("MfaBackupCodes"),
      "The factor is on; keep the backup codes (they are not shown again)",
    ),
    400: wrongCode,
    401: unauthorized,
    403: errorResponse("Cross-site request (CSRF_REJECTED)"),
    409: errorResponse("No enrolment started (MFA_NOT_ENROLLED), or already on (MFA_ALREADY_ENROLLED)"),
    415: errorResponse("Body is not JSON"),
    429: locked,
  },
});

const verify = createRoute({
  ...codeCheck,
  method: "post",
  path: "/api/v1/me/mfa/verify",
  tags: TAGS,
  summary: "Verify a TOTP code or a backup code: step-up actions are allowed for 10 minutes in this session",
  request: { body: { required: true, content: { "application/json": { schema: CodeBody } } } },
  responses: {
    200: jsonResponse(
      z
        .object({
          method: z.enum(["totp", "backup_code"]),
          verifiedAt: z.number().int(),
          stepUpUntil: z.number().int(),
          backupCodesLeft: z.number().int(),
        })
        .openapi("MfaVerification"),
      "Verified",
    ),
    400: wrongCode,
    401: unauthorized,
    403: errorResponse("Cross-site request (CSRF_REJECTED)"),
    409: errorResponse("Two-factor authentication is not on (MFA_NOT_ENROLLED)"),
    415: errorResponse("Body is not JSON"),
    429: locked,
  },
});

const disable = createRoute({
  ...session,
  method: "delete",
  path: "/api/v1/me/mfa",
  tags: TAGS,
  summary: "Turn two-factor authentication off (needs a verification in the last 10 minutes); drops a pending one",
  responses: {
    200: jsonResponse(z.object({ disabled: z.boolean() }), "disabled: false when it was not on"),
    401: unauthorized,
    403: errorResponse("No verification in the last 10 minutes (STEP_UP_REQUIRED), or cross-site (CSRF_REJECTED)"),
  },
});

const page = createRoute({
  middleware: [requirePageSession] as const,
  method: "get",
  path: "/app/security",
  tags: TAGS,
  summary: "Two-factor authentication: enrol (QR code), confirm, backup codes, verify, disable",
  security: [{ sessionCookie: [] }],
  responses: {
    200: { description: "An HTML page", content: { "text/html": { schema: z.string() } } },
    302: { description: "No session: to /auth/discord/login?next=/app/security" },
  },
});

const script = createRoute({
  method: "get",
  path: "/app/security.js",
  tags: TAGS,
  summary: "The security page's script (static)",
  responses: { 200: { description: "JavaScript", content: { "text/javascript": { schema: z.string() } } } },
});

/** The page loads its one script from this site, calls this site's API, and shows the QR code as a data: image. */
const SECURITY_PAGE_CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function registerMeMfa(app: App): void {
  app.openapi(status, async (c) => c.json(await mfaStatus(c), 200));
  app.openapi(enrol, async (c) => c.json(await startEnrolment(c), 201));
  app.openapi(confirm, async (c) => c.json(await confirmEnrolment(c, c.req.valid("json").code), 200));
  app.openapi(verify, async (c) => c.json(await verifyFactor(c, c.req.valid("json").code), 200));
  app.openapi(disable, async (c) => c.json(await disableFactor(c), 200));

  app.openapi(page, async (c) => {
    const current = c.get("session");
    if (!current) throw new Error("The security page runs behind requirePageSession.");
    const token = await csrfTokenFor(c, current);
    c.header("content-security-policy", SECURITY_PAGE_CSP);
    return c.html(securityPage(token), 200);
  });

  app.openapi(script, (c) => {
    c.header("content-type", "text/javascript; charset=utf-8");
    return c.body(SECURITY_PAGE_SCRIPT, 200);
  });
}

function securityPage(csrfToken: string): string {
  const body = [
    '<p id="status">Loading…</p>',
    '<p id="message" role="status"></p>',
    '<section id="enrol" hidden><h2>Set up an authenticator app</h2>',
    "<p>Two-factor authentication protects transfers of ownership, raising members to admin and live trading. Owners, admins of enterprise communities and members with a live broker connection must have it.</p>",
    '<button type="button" id="start">Set up</button></section>',
    '<section id="scan" hidden><h2>Scan this QR code</h2><img id="qr" alt="QR code of the otpauth:// URI" width="240" height="240">',
    '<p>Or type the key: <code id="secret"></code></p><p><code id="uri"></code></p>',
    '<label>Code from the app <input id="confirm-code" inputmode="numeric" autocomplete="one-time-code" maxlength="6"></label>',
    '<button type="button" id="confirm">Turn on</button></section>',
    '<section id="codes" hidden><h2>Your backup codes</h2><p>Each works once if you lose your phone. They are shown only now: keep them somewhere safe.</p><ol id="code-list"></ol></section>',
    '<section id="verify" hidden><h2>Verify</h2><p>A check counts for 10 minutes in this browser.</p>',
    '<label>Code or backup code <input id="verify-code" autocomplete="one-time-code" maxlength="32"></label>',
    '<button type="button" id="verify-button">Verify</button></section>',
    '<section id="disable" hidden><h2>Turn off</h2><p>Needs a verification in the last 10 minutes.</p>',
    '<button type="button" id="disable-button">Turn off two-factor authentication</button></section>',
    '<p><a href="/app">Back to your dashboard</a></p>',
    `<script src="/app/security.js" data-csrf-token="${escapeHtml(csrfToken)}"></script>`,
  ].join("");
  return htmlDocument("Security: two-factor authentication", body);
}

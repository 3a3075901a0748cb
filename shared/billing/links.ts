import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { type PurposeKey, purposeKey } from "../crypto/purpose-key";
import { AppError } from "../errors";
import { BILLING_INTERVALS, BILLING_SUBJECT_KINDS } from "./plans";

/**
 * Signed, short-lived billing links (`/billing/checkout?t=…`, `/billing/portal?t=…`)
 * that `/subscription` and denial messages hand out while the product has no
 * browser sessions. A link is an HS256 JWT under a key derived from
 * SESSION_SECRET for this purpose only, so it cannot pass for a session token.
 * Every link carries `iat`, `exp` (one hour at most) and a random `jti`; a link
 * without them is refused. Portal links are single-use: the route claims the
 * `jti` before opening the portal.
 */

const BILLING_LINK_TTL_SECONDS = 60 * 60;
const AUDIENCE = "dte:billing-link";

const RegisteredClaims = {
  jti: z.string().min(16).max(64),
  iat: z.number().int(),
  exp: z.number().int(),
};

const BillingLinkClaimsSchema = z.discriminatedUnion("action", [
  z.object({
    action: z.literal("checkout"),
    subject: z.enum(BILLING_SUBJECT_KINDS),
    communityId: z.string().min(1).nullable(),
    userId: z.string().min(1).nullable(),
    plan: z.string().min(1),
    interval: z.enum(BILLING_INTERVALS),
  }),
  z.object({
    action: z.literal("portal"),
    subject: z.enum(BILLING_SUBJECT_KINDS),
    communityId: z.string().min(1).nullable(),
    userId: z.string().min(1).nullable(),
  }),
]);
export type BillingLinkClaims = z.infer<typeof BillingLinkClaimsSchema>;
/** What a verified link says, with the registered claims every link must carry. */
export type VerifiedBillingLink = BillingLinkClaims & { jti: string; iat: number; exp: number };
const VerifiedClaimsSchema = z.intersection(BillingLinkClaimsSchema, z.object(RegisteredClaims));

/** 410: a single-use link (the portal) was followed before. */
export class BillingLinkUsedError extends AppError {
  constructor() {
    super(
      410,
      "BILLING_LINK_USED",
      "This billing link was already used. Each portal link opens the portal once: run /subscription in Discord for a fresh one.",
    );
  }
}

export class BillingLinkError extends AppError {
  constructor(expired: boolean) {
    super(
      401,
      expired ? "BILLING_LINK_EXPIRED" : "BILLING_LINK_INVALID",
      expired
        ? "This billing link has expired. Run /subscription in Discord for a fresh one."
        : "This billing link is not valid. Run /subscription in Discord for a fresh one.",
    );
  }
}

export async function signBillingLink(
  secret: string,
  claims: BillingLinkClaims,
  options: { nowMs?: number; ttlSeconds?: number } = {},
): Promise<string> {
  const issuedAt = Math.floor((options.nowMs ?? Date.now()) / 1000);
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setAudience(AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + Math.min(options.ttlSeconds ?? BILLING_LINK_TTL_SECONDS, BILLING_LINK_TTL_SECONDS))
    .setJti(crypto.randomUUID())
    .sign(await linkKey(secret));
}

/** A signed link as the URL to hand out: `<base>/billing/<checkout or portal>?t=<token>`. */
export async function billingLinkUrl(baseUrl: string, secret: string, claims: BillingLinkClaims): Promise<string> {
  const token = await signBillingLink(secret, claims);
  return `${baseUrl.replace(/\/+$/, "")}/billing/${claims.action}?t=${token}`;
}

export async function verifyBillingLink(
  secret: string,
  token: string,
  options: { nowMs?: number } = {},
): Promise<VerifiedBillingLink> {
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, await linkKey(secret), {
      audience: AUDIENCE,
      algorithms: ["HS256"],
      requiredClaims: ["exp", "iat", "jti"],
      // Issued at most one link lifetime ago, whatever `exp` says.
      maxTokenAge: BILLING_LINK_TTL_SECONDS,
      ...(options.nowMs === undefined ? {} : { currentDate: new Date(options.nowMs) }),
    }));
  } catch (error) {
    throw new BillingLinkError(error instanceof joseErrors.JWTExpired);
  }
  const claims = VerifiedClaimsSchema.safeParse(payload);
  if (!claims.success) throw new BillingLinkError(false);
  return claims.data;
}

function linkKey(secret: string): Promise<PurposeKey> {
  return purposeKey(secret, AUDIENCE);
}

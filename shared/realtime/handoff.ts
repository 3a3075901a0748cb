import { jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { purposeKey } from "../crypto/purpose-key";
import { REALTIME_ROLES, type RealtimeRole } from "./protocol";

/**
 * How the Worker tells a RealtimeHub who is connecting. The Worker checks the
 * session cookie and the membership, then forwards the upgrade to the hub with
 * this header: a short-lived HS256 token under a key derived from
 * SESSION_SECRET for this purpose only, naming the community, the member, their
 * role and their session (or, for an operator, the fingerprint of the
 * OPS_TOKEN used). The hub accepts a connection only with a valid token
 * for its own community, so nothing a browser sends can choose an identity,
 * even if a request were ever forwarded unchecked.
 */

export const HANDOFF_HEADER = "x-dte-realtime-identity";
/** Long enough to cross from the Worker to the hub, too short to reuse. */
export const HANDOFF_TTL_SECONDS = 30;

const PURPOSE = "dte:realtime-handoff";
const ALGORITHM = "HS256";

/** What a socket stays open on: a member's session, or an operator's token (by fingerprint, never the token). */
export type RealtimeCredential = { kind: "session"; sessionId: string } | { kind: "ops"; fingerprint: string };

export interface RealtimeIdentity {
  communityId: string;
  /** The member's user id, or `ops:<fingerprint>` for an operator. */
  userId: string;
  role: RealtimeRole;
  credential: RealtimeCredential;
}

/** An operator's identity on a hub: no user, the role `operator`, the token's fingerprint. */
export function operatorIdentity(communityId: string, fingerprint: string): RealtimeIdentity {
  return { communityId, userId: `ops:${fingerprint}`, role: "operator", credential: { kind: "ops", fingerprint } };
}

const ClaimsSchema = z
  .object({
    sub: z.string().min(1).max(128),
    cid: z.string().min(1).max(128),
    role: z.enum(REALTIME_ROLES),
    sid: z.string().min(1).max(64).optional(),
    ofp: z.string().min(1).max(128).optional(),
  })
  .refine((claims) => (claims.role === "operator" ? claims.ofp && !claims.sid : claims.sid && !claims.ofp), {
    message: "a member carries a session id, an operator a token fingerprint",
  });

export async function signHandoff(
  secret: string,
  identity: RealtimeIdentity,
  options: { nowMs?: number } = {},
): Promise<string> {
  const issuedAt = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const { credential } = identity;
  const proof = credential.kind === "session" ? { sid: credential.sessionId } : { ofp: credential.fingerprint };
  return new SignJWT({ cid: identity.communityId, role: identity.role, ...proof })
    .setProtectedHeader({ alg: ALGORITHM })
    .setAudience(PURPOSE)
    .setSubject(identity.userId)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + HANDOFF_TTL_SECONDS)
    .sign(await purposeKey(secret, PURPOSE));
}

/** The identity in a hand-off token, or null when it is missing, forged, expired or for another community. */
export async function verifyHandoff(
  secret: string,
  token: string | null,
  communityId: string,
  options: { nowMs?: number } = {},
): Promise<RealtimeIdentity | null> {
  if (!token || token.length > 2048) return null;
  try {
    const { payload } = await jwtVerify(token, await purposeKey(secret, PURPOSE), {
      algorithms: [ALGORITHM],
      audience: PURPOSE,
      requiredClaims: ["exp", "iat", "sub"],
      ...(options.nowMs === undefined ? {} : { currentDate: new Date(options.nowMs) }),
    });
    const claims = ClaimsSchema.safeParse(payload);
    if (!claims.success || claims.data.cid !== communityId) return null;
    const { sub, role, sid, ofp } = claims.data;
    const credential: RealtimeCredential = sid
      ? { kind: "session", sessionId: sid }
      : { kind: "ops", fingerprint: ofp ?? "" };
    return { communityId, userId: sub, role, credential };
  } catch {
    return null;
  }
}

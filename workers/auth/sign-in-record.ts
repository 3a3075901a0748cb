import { type AuthEventName, authEventStore } from "../../platform/db/auth-events";
import { database } from "../../platform/db/client";
import { listedCommunities } from "../../platform/db/cross-community/member-communities";
import { oneTimeLinkStore } from "../../platform/db/one-time-links";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { directMessage } from "../../platform/notifications/notify-queue";
import {
  countryOf,
  deviceLabel,
  newSignInMessage,
  type SignInPlace,
  signInNovelty,
} from "../../shared/auth/sign-in-alert";
import { clientIp } from "../http/client-ip";
import type { AppContext } from "../http/context";
import { publicOrigin } from "../http/public-origin";

/**
 * The audit of sign-ins (design: every sign-in, failed sign-in and sign-out everywhere, with address and user
 * agent). Each one is recorded platform-wide in `auth_events` (a failed sign-in often names nobody), and, when the
 * user is known, appended to the audit chain of every community listed for them as `auth.signed_in`,
 * `auth.sign_in_failed` or `auth.signed_out_everywhere`. A sign-in from a device or country none of the member's
 * earlier ones came from sends them a DM with a single-use "sign out everywhere" link. MFA changes
 * (`mfa.enrolled`, `mfa.verified`, `mfa.failed`, `mfa.backup_code_used`, `mfa.disabled`) are recorded the same way.
 */

/** How a browser signed in or out, or which second factor an MFA event used. */
export type AuthMethod = "discord_oauth" | "discord_link" | "logout" | "alert_link" | "totp" | "backup_code";

export type MfaEventName = Extract<
  AuthEventName,
  "mfa.enrolled" | "mfa.verified" | "mfa.failed" | "mfa.backup_code_used" | "mfa.disabled"
>;

/** The "sign out everywhere" link in a new-sign-in DM works for as long as the session it warns about could. */
export const SIGN_OUT_LINK_TTL_MS = 7 * 24 * 3600_000;

interface ClientFacts extends SignInPlace {
  ip: string | null;
  userAgent: string | null;
}

function clientFacts(c: AppContext): ClientFacts {
  const userAgent = c.req.header("user-agent")?.slice(0, 512) ?? null;
  return {
    ip: clientIp(c),
    userAgent,
    country: countryOf(c.req.header("cf-ipcountry")),
    device: deviceLabel(userAgent),
  };
}

export async function recordSignIn(
  c: AppContext,
  input: { userId: string; sessionId: string; method: AuthMethod },
): Promise<{ alerted: boolean }> {
  const db = database(c.env.DB);
  const events = authEventStore(db);
  const facts = clientFacts(c);
  const at = Date.now();
  const novelty = signInNovelty(await events.signInPlaces(input.userId), facts);
  await events.record({ event: "auth.signed_in", at, ...eventFields(c, facts, input), reason: null });
  await appendToCommunities(c, input.userId, "auth.signed_in", {
    ...auditData(facts),
    sessionId: input.sessionId,
    method: input.method,
    newDevice: novelty?.newDevice ?? false,
    newCountry: novelty?.newCountry ?? false,
  });
  c.get("logger").info("auth.signed_in", { userId: input.userId, sessionId: input.sessionId, method: input.method });
  if (!novelty || (!novelty.newDevice && !novelty.newCountry)) return { alerted: false };
  await alertNewSignIn(c, { userId: input.userId, sessionId: input.sessionId, facts, at });
  return { alerted: true };
}

export async function recordSignInFailure(
  c: AppContext,
  input: { reason: string; method: AuthMethod; userId?: string | null },
): Promise<void> {
  const facts = clientFacts(c);
  const userId = input.userId ?? null;
  c.get("logger").warn("auth.sign_in_failed", {
    reason: input.reason,
    method: input.method,
    userId: userId ?? undefined,
  });
  try {
    await authEventStore(database(c.env.DB)).record({
      event: "auth.sign_in_failed",
      ...eventFields(c, facts, { userId, sessionId: null, method: input.method }),
      reason: input.reason,
    });
    if (userId) {
      await appendToCommunities(c, userId, "auth.sign_in_failed", {
        ...auditData(facts),
        method: input.method,
        reason: input.reason,
      });
    }
  } catch (error) {
    c.get("logger").error("auth.record_failed", { event: "auth.sign_in_failed", error });
  }
}

export async function recordSignOutEverywhere(
  c: AppContext,
  input: { userId: string; sessionsEnded: number; method: AuthMethod },
): Promise<void> {
  const facts = clientFacts(c);
  await authEventStore(database(c.env.DB)).record({
    event: "auth.signed_out_everywhere",
    ...eventFields(c, facts, { userId: input.userId, sessionId: null, method: input.method }),
    reason: null,
  });
  await appendToCommunities(c, input.userId, "auth.signed_out_everywhere", {
    ...auditData(facts),
    method: input.method,
    sessionsEnded: input.sessionsEnded,
  });
  c.get("logger").info("auth.signed_out_everywhere", { userId: input.userId, sessionsEnded: input.sessionsEnded });
}

/**
 * An MFA event, with the client's address and user agent, in `auth_events` and the chain of every community listed
 * for the user. A failure to record is logged and thrown: a security change is not made without its audit.
 */
export async function recordMfaEvent(
  c: AppContext,
  input: { userId: string; event: MfaEventName; method: AuthMethod | null; reason?: string | null },
): Promise<void> {
  const facts = clientFacts(c);
  const sessionId = c.get("session")?.sessionId ?? null;
  await authEventStore(database(c.env.DB)).record({
    event: input.event,
    ...eventFields(c, facts, { userId: input.userId, sessionId, method: input.method }),
    reason: input.reason ?? null,
  });
  await appendToCommunities(c, input.userId, input.event, {
    ...auditData(facts),
    ...(input.method ? { method: input.method } : {}),
    ...(input.reason ? { reason: input.reason } : {}),
  });
  const log = input.event === "mfa.failed" ? "warn" : "info";
  c.get("logger")[log](input.event, { userId: input.userId, method: input.method, reason: input.reason });
}

function eventFields(
  c: AppContext,
  facts: ClientFacts,
  input: { userId: string | null; sessionId: string | null; method: AuthMethod | null },
) {
  return {
    userId: input.userId,
    sessionId: input.sessionId,
    method: input.method,
    ip: facts.ip,
    userAgent: facts.userAgent,
    country: facts.country,
    device: facts.device,
    requestId: c.get("requestId"),
  };
}

const auditData = (facts: ClientFacts) => ({
  ip: facts.ip,
  userAgent: facts.userAgent,
  country: facts.country,
  device: facts.device,
});

/** One entry per community listed for the user; a chain that cannot be appended to is logged, not fatal. */
async function appendToCommunities(
  c: AppContext,
  userId: string,
  event: string,
  data: Record<string, unknown>,
): Promise<void> {
  const db = database(c.env.DB);
  const communities = await listedCommunities(db, userId);
  const results = await Promise.allSettled(
    communities.map((community) =>
      forCommunity(db, community.id).audit.append({ event, actorId: userId, target: userId, data }),
    ),
  );
  results.forEach((result, i) => {
    if (result.status === "rejected") {
      c.get("logger").error("auth.audit_failed", { event, communityId: communities[i]?.id, error: result.reason });
    }
  });
}

async function alertNewSignIn(
  c: AppContext,
  input: { userId: string; sessionId: string; facts: ClientFacts; at: number },
): Promise<void> {
  try {
    const token = await oneTimeLinkStore(database(c.env.DB)).create({
      purpose: "sign_out_everywhere",
      userId: input.userId,
      ttlMs: SIGN_OUT_LINK_TTL_MS,
    });
    const sent = await directMessage(c.env, {
      userId: input.userId,
      communityId: null,
      event: `sign-in:${input.sessionId}`,
      message: newSignInMessage({
        place: input.facts,
        at: input.at,
        signOutEverywhereUrl: `${publicOrigin(c)}/auth/link?t=${token}`,
      }),
    });
    c.get("logger").info("auth.new_sign_in_alert", { userId: input.userId, sent });
  } catch (error) {
    c.get("logger").error("auth.new_sign_in_alert_failed", { userId: input.userId, error });
  }
}

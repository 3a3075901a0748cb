import { and, isNotNull, isNull, lt, or } from "drizzle-orm";
import { database } from "../../platform/db/client";
import { memberNoticeStore } from "../../platform/db/member-notices";
import { traderPlanGrantStore } from "../../platform/db/trader-plan-grants";
import { expireAccessRolesLeftBehind } from "../../platform/members/access-expiry";
import { purgeDeletedCommunities } from "../../platform/members/community-deletion";
import {
  authEvents,
  deadLetters,
  interactionReceipts,
  notificationDeliveries,
  oauthStates,
  oneTimeLinks,
  reconciliationRuns,
  sessions,
  webhookEvents,
} from "../../shared/db/schema";
import type { Logger } from "../../shared/logging";
import { NOTICE_RETENTION_DAYS } from "../../shared/notifications/kinds";
import { INTERACTION_RECEIPT_RETENTION_MS } from "../discord/replay-guard";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Stripe redelivers for up to 3 days; keep ids far longer so a late replay is still recognised. */
const WEBHOOK_EVENT_RETENTION_MS = 30 * DAY_MS;
/** Revoked or expired sessions are kept a week for investigation, then removed. */
const SESSION_RETENTION_MS = 7 * DAY_MS;
/**
 * Dead letters are kept 30 days: from their last replay, or, when nobody
 * replayed them, from when they were stored (each one raised an alert then).
 */
const DEAD_LETTER_RETENTION_MS = 30 * DAY_MS;

/** Sent-notification keys outlive any redelivery of their queue message by far. */
const NOTIFICATION_DELIVERY_RETENTION_MS = 30 * DAY_MS;
/** OAuth states and one-time links are dead once expired; a day more keeps "already used" distinguishable in logs. */
const SIGN_IN_TOKEN_RETENTION_MS = DAY_MS;
/** Sign-in records: the history a new device or country is compared with, and failed sign-ins for investigation. */
const AUTH_EVENT_RETENTION_MS = 365 * DAY_MS;
/** Reconciliation reports are kept a quarter for operators. */
const RECONCILIATION_RUN_RETENTION_MS = 90 * DAY_MS;

export async function runHousekeeping(env: Env, logger: Logger, scheduledTime: number) {
  const db = database(env.DB);
  const deadLetterCutoff = scheduledTime - DEAD_LETTER_RETENTION_MS;
  const [
    expiredSessions,
    oldWebhookEvents,
    oldDeadLetters,
    oldDeliveries,
    oldRuns,
    oldReceipts,
    oldStates,
    oldLinks,
    oldAuthEvents,
  ] = await db.batch([
    db
      .delete(sessions)
      .where(
        or(
          lt(sessions.expiresAt, scheduledTime - SESSION_RETENTION_MS),
          and(isNotNull(sessions.revokedAt), lt(sessions.revokedAt, scheduledTime - SESSION_RETENTION_MS)),
        ),
      ),
    db.delete(webhookEvents).where(lt(webhookEvents.receivedAt, scheduledTime - WEBHOOK_EVENT_RETENTION_MS)),
    db
      .delete(deadLetters)
      .where(
        or(
          and(isNotNull(deadLetters.replayedAt), lt(deadLetters.replayedAt, deadLetterCutoff)),
          and(isNull(deadLetters.replayedAt), lt(deadLetters.createdAt, deadLetterCutoff)),
        ),
      ),
    db
      .delete(notificationDeliveries)
      .where(lt(notificationDeliveries.sentAt, scheduledTime - NOTIFICATION_DELIVERY_RETENTION_MS)),
    db
      .delete(reconciliationRuns)
      .where(lt(reconciliationRuns.startedAt, scheduledTime - RECONCILIATION_RUN_RETENTION_MS)),
    db
      .delete(interactionReceipts)
      .where(lt(interactionReceipts.receivedAt, scheduledTime - INTERACTION_RECEIPT_RETENTION_MS)),
    db.delete(oauthStates).where(lt(oauthStates.expiresAt, scheduledTime - SIGN_IN_TOKEN_RETENTION_MS)),
    db.delete(oneTimeLinks).where(lt(oneTimeLinks.expiresAt, scheduledTime - SIGN_IN_TOKEN_RETENTION_MS)),
    db.delete(authEvents).where(lt(authEvents.at, scheduledTime - AUTH_EVENT_RETENTION_MS)),
  ]);
  const accessRolesExpired = await expireAccessRolesLeftBehind(env, logger, scheduledTime);
  const deletedCommunitiesPurged = await purgeDeletedCommunities(env, logger, scheduledTime);
  const memberNoticesDeleted = await memberNoticeStore(db).prune(scheduledTime - NOTICE_RETENTION_DAYS * DAY_MS);
  // An ended grant already stopped applying when it ended; the operator action log keeps its history.
  const traderPlanGrantsDeleted = await traderPlanGrantStore(db).pruneEnded(scheduledTime);
  return {
    accessRolesExpired,
    deletedCommunitiesPurged,
    memberNoticesDeleted,
    traderPlanGrantsDeleted,
    sessionsDeleted: expiredSessions.meta.changes,
    webhookEventsDeleted: oldWebhookEvents.meta.changes,
    deadLettersDeleted: oldDeadLetters.meta.changes,
    notificationDeliveriesDeleted: oldDeliveries.meta.changes,
    reconciliationRunsDeleted: oldRuns.meta.changes,
    interactionReceiptsDeleted: oldReceipts.meta.changes,
    oauthStatesDeleted: oldStates.meta.changes,
    oneTimeLinksDeleted: oldLinks.meta.changes,
    authEventsDeleted: oldAuthEvents.meta.changes,
  };
}

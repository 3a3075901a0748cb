import { database } from "../../platform/db/client";
import { memberNoticeStore } from "../../platform/db/member-notices";
import { notificationDeliveryLog } from "../../platform/db/notification-deliveries";
import { hubEventSink } from "../../platform/execution/event-sink";
import { type AppConfig, configFor } from "../../shared/config";
import { sha256Hex } from "../../shared/crypto/constant-time";
import { discordUserAgent } from "../../shared/discord/user-agent";
import type { Logger } from "../../shared/logging";
import { unpackAttachment } from "../../shared/notifications/attachment";
import { NOTICE_KIND_TABLE, sendsDirectMessage } from "../../shared/notifications/kinds";
import {
  type DiscordMessage,
  type Notification,
  type NotificationAttachment,
  NotificationSchema,
} from "../../shared/notifications/message";
import { noticeEvent, noticeText } from "../../shared/notifications/notice-event";
import { deliveryFailuresOf, failureRecorder } from "./delivery-failures";

/**
 * The `notifications` consumer: sends each NOTIFY_QUEUE message to Discord
 * through DISCORD_API_BASE (interaction edits and follow-ups, DMs, our
 * reactions on channel messages and replies to them), at most once per
 * idempotency key. A 429 waits for
 * Discord's `retry_after` (a global limit holds back the rest of the batch
 * too), 5xx and network errors back off exponentially, and a message still
 * failing after the last try goes to notifications-dlq. Other 4xx answers
 * (an expired interaction token, a member who blocks DMs) cannot succeed on a
 * retry and would count against Discord's invalid-request limit: they are
 * logged and dropped. Every DM is also a notice in its member's inbox
 * (`storeNotices`): stored before it is sent, marked sent or failed (with
 * Discord's reason, e.g. 50007) after, and not sent at all when the member
 * muted its kind.
 */

const BACKOFF_BASE_SECONDS = 1;
const BACKOFF_CAP_SECONDS = 120;
/** Discord message flags allowed when editing a message or posting in a channel (not EPHEMERAL). */
const SUPPRESS_EMBEDS = 1 << 2;
const SUPPRESS_NOTIFICATIONS = 1 << 12;
const IS_COMPONENTS_V2 = 1 << 15;

type SendOutcome =
  | { kind: "sent" }
  | { kind: "rate_limited"; retryAfterSeconds: number; global: boolean; scope: string | null }
  | { kind: "transient"; reason: string }
  | { kind: "permanent"; status: number; reason: string; code?: number };

/** Exponential backoff with jitter: about 1, 2, 4, ... seconds, capped. */
export function backoffSeconds(attempts: number, random = Math.random()): number {
  const exponential = Math.min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** Math.max(0, attempts - 1));
  return Math.max(1, Math.ceil(exponential * (1 + 0.2 * random)));
}

/** How long a follow-up waits for the message it must follow (`after`) before it looks again. */
const AFTER_DELAY_SECONDS = 2;

/** The keys a notification must wait for: a follow-up's `after`. */
function prerequisiteOf(notification: Notification): string[] {
  return notification.kind === "interaction.followup" && notification.after ? [notification.after] : [];
}

/** Discord's "Cannot send messages to this user": the member's DMs are closed to the bot. */
const DM_CLOSED = 50007;

/**
 * Stores each DM of the batch in its member's inbox (one batch of inserts, once per key), publishes the ones stored
 * now whose sender did not on the member's realtime `notifications` channel, and answers the keys whose kind the
 * member muted (stored, not sent).
 */
async function storeNotices(
  env: Env,
  ctx: ExecutionContext,
  logger: Logger,
  notices: ReturnType<typeof memberNoticeStore>,
  pending: readonly { notification: Notification }[],
  sent: ReadonlySet<string>,
): Promise<Set<string>> {
  const dms = pending.flatMap(({ notification }) =>
    notification.kind === "dm" && notification.notice ? [{ ...notification, notice: notification.notice }] : [],
  );
  const muted = new Set<string>();
  if (dms.length === 0) return muted;
  const choices = await notices.dmChoices(dms.map((dm) => dm.notice.userId));
  const now = Date.now();
  const rows = dms.map((dm) => {
    const dmOn = sendsDirectMessage(dm.notice.kind, choices.get(`${dm.notice.userId}:${dm.notice.kind}`));
    if (!dmOn && !sent.has(dm.key)) muted.add(dm.key);
    return {
      id: crypto.randomUUID(),
      key: dm.key,
      communityId: dm.communityId,
      userId: dm.notice.userId,
      kind: dm.notice.kind,
      title: NOTICE_KIND_TABLE[dm.notice.kind].title,
      body: noticeText(dm.message),
      createdAt: now,
      deliveryStatus: sent.has(dm.key) ? "sent" : dmOn ? "pending" : "muted",
    } as const;
  });
  const stored = await notices.record(rows);
  const events = dms.flatMap((dm) => {
    const id = stored.get(dm.key);
    if (!id || dm.notice.published || dm.communityId === null) return [];
    const { communityId, notice, message, key } = dm;
    return [noticeEvent({ id, communityId, userId: notice.userId, event: key, kind: notice.kind, message }, now)];
  });
  if (events.length > 0) {
    await hubEventSink({ env, logger, waitUntil: (promise) => ctx.waitUntil(promise) }).publishMany(events);
  }
  return muted;
}

/** Messages of one batch sent at once (each interaction token is its own Discord bucket). */
const SEND_CONCURRENCY = 5;

export async function consumeNotifications(
  batch: MessageBatch<unknown>,
  env: Env,
  ctx: ExecutionContext,
  logger: Logger,
) {
  const configResult = configFor(env);
  if (!configResult.ok) {
    logger.error("notification.config_invalid", { variables: configResult.problems.map((p) => p.variable) });
    for (const message of batch.messages) message.retry({ delaySeconds: backoffSeconds(message.attempts) });
    return;
  }
  const config = configResult.config;
  const deliveries = notificationDeliveryLog(database(env.DB));
  const notices = memberNoticeStore(database(env.DB));
  const failures = deliveryFailuresOf(database(env.DB));
  // The dead-letter queue resets `attempts` to 1 and drops the error: keep both for the dead letter.
  const recordFailure = failureRecorder(failures, batch.queue, logger, "notification.failure_not_recorded");

  const pending: { message: Message<unknown>; notification: Notification }[] = [];
  for (const message of batch.messages) {
    const parsed = NotificationSchema.safeParse(message.body);
    if (parsed.success && pending.some((p) => p.notification.key === parsed.data.key)) {
      logger.info("notification.duplicate_in_batch", { messageId: message.id, key: parsed.data.key });
      message.ack();
    } else if (parsed.success) {
      pending.push({ message, notification: parsed.data });
    } else {
      logger.error("notification.invalid", {
        alert: true,
        messageId: message.id,
        issues: parsed.error.issues.map((i) => i.message),
      });
      message.ack();
    }
  }
  if (pending.length === 0) return;

  let sent: Set<string>;
  let muted: Set<string>;
  try {
    sent = await deliveries.sentKeys(pending.flatMap((p) => [p.notification.key, ...prerequisiteOf(p.notification)]));
    muted = await storeNotices(env, ctx, logger, notices, pending, sent);
  } catch (error) {
    logger.error("notification.delivery_log_unavailable", { error });
    for (const { message } of pending) message.retry({ delaySeconds: backoffSeconds(message.attempts) });
    return;
  }

  let globalPause: number | null = null;
  const delivered: Notification[] = [];
  const deliver = async ({ message, notification }: (typeof pending)[number]) => {
    const log = logger.child({
      messageId: message.id,
      attempts: message.attempts,
      key: notification.key,
      kind: notification.kind,
      communityId: notification.communityId ?? undefined,
    });
    if (sent.has(notification.key)) {
      log.info("notification.already_sent");
      message.ack();
      return;
    }
    if (globalPause !== null) {
      message.retry({ delaySeconds: globalPause });
      return;
    }
    if (muted.has(notification.key)) {
      log.info("notification.muted");
      message.ack();
      return;
    }
    const waitsFor = prerequisiteOf(notification).find((key) => !sent.has(key));
    if (waitsFor) {
      log.info("notification.waits_for", { after: waitsFor });
      message.retry({ delaySeconds: AFTER_DELAY_SECONDS });
      return;
    }
    let outcome: SendOutcome;
    try {
      outcome = await send(notification, config);
    } catch (error) {
      outcome = { kind: "transient", reason: error instanceof Error ? error.message : String(error) };
    }
    switch (outcome.kind) {
      case "sent":
        sent.add(notification.key);
        delivered.push(notification);
        log.info("notification.sent");
        if (message.attempts > 1) await failures.clear(batch.queue, message.body).catch(() => undefined);
        message.ack();
        return;
      case "rate_limited": {
        const delaySeconds = Math.max(1, Math.ceil(outcome.retryAfterSeconds));
        log.warn("notification.rate_limited", { delaySeconds, global: outcome.global, scope: outcome.scope });
        await recordFailure(
          message,
          new Error(`rate limited by Discord (${outcome.global ? "global" : (outcome.scope ?? "route")})`),
        );
        message.retry({ delaySeconds });
        if (outcome.global) globalPause = Math.max(globalPause ?? 0, delaySeconds);
        return;
      }
      case "transient": {
        const delaySeconds = backoffSeconds(message.attempts);
        log.warn("notification.retry", { reason: outcome.reason, delaySeconds });
        await recordFailure(message, new Error(outcome.reason));
        if (notification.kind === "dm" && notification.notice) {
          await notices.setDelivery(notification.key, "pending", outcome.reason).catch(() => undefined);
        }
        message.retry({ delaySeconds });
        return;
      }
      case "permanent":
        // 50007 (the member closed their DMs) and other refusals cannot succeed on a retry: the notice stays in the
        // member's inbox, marked failed with Discord's reason.
        log[outcome.code === DM_CLOSED ? "warn" : "error"]("notification.refused", {
          status: outcome.status,
          reason: outcome.reason,
          discordCode: outcome.code,
        });
        if (notification.kind === "dm" && notification.notice) {
          await notices.setDelivery(notification.key, "failed", outcome.reason).catch((error: unknown) => {
            log.error("notification.record_failed", { error });
          });
        }
        message.ack();
        return;
    }
  };

  // The first message goes alone: if Discord answers with a global limit, nothing else is sent.
  const [first, ...rest] = pending;
  let next = 0;
  const worker = async () => {
    while (next < rest.length) {
      const item = rest[next++];
      if (item) await deliver(item);
    }
  };
  try {
    if (first) await deliver(first);
    const workers = await Promise.allSettled(Array.from({ length: Math.min(SEND_CONCURRENCY, rest.length) }, worker));
    const failed = workers.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
  } finally {
    // Whatever else failed, what was sent is recorded, so a redelivery of the batch does not send it again.
    await recordDelivered(deliveries, notices, delivered, logger);
  }
}

/**
 * The batch's sends, recorded together once it is sent (two D1 calls, not two per message): the delivery log that
 * makes a redelivery answer "already sent", and each DM's notice marked sent. Sent but not recorded (D1 failing), a
 * redelivery could send one again, which is better than retrying now; a DM carries a nonce Discord enforces.
 */
async function recordDelivered(
  deliveries: ReturnType<typeof notificationDeliveryLog>,
  notices: ReturnType<typeof memberNoticeStore>,
  delivered: readonly Notification[],
  logger: Logger,
): Promise<void> {
  if (delivered.length === 0) return;
  const dmKeys = delivered.flatMap((n) => (n.kind === "dm" && n.notice ? [n.key] : []));
  try {
    await Promise.all([deliveries.recordSent(delivered), notices.markSent(dmKeys)]);
  } catch (error) {
    logger.error("notification.record_failed", { keys: delivered.map((n) => n.key), error });
  }
}

async function send(notification: Notification, config: AppConfig): Promise<SendOutcome> {
  const base = config.DISCORD_API_BASE.replace(/\/+$/, "");
  const userAgent = discordUserAgent(config.PUBLIC_BASE_URL);
  switch (notification.kind) {
    case "interaction.edit":
      return request(
        `${base}/webhooks/${notification.applicationId}/${encodeURIComponent(notification.token)}/messages/@original`,
        "PATCH",
        withFlags(notification.message, SUPPRESS_EMBEDS | IS_COMPONENTS_V2),
        { userAgent },
      );
    case "interaction.followup": {
      const url = `${base}/webhooks/${notification.applicationId}/${encodeURIComponent(notification.token)}`;
      if (!notification.attachment) return request(url, "POST", notification.message, { userAgent });
      return request(url, "POST", await withFile(notification.message, notification.attachment), { userAgent });
    }
    case "reaction": {
      if (!config.DISCORD_BOT_TOKEN) return { kind: "transient", reason: "DISCORD_BOT_TOKEN is not configured" };
      const url = `${base}/channels/${notification.channelId}/messages/${notification.messageId}/reactions/${encodeURIComponent(notification.emoji)}/@me`;
      return request(url, notification.remove ? "DELETE" : "PUT", null, {
        userAgent,
        botToken: config.DISCORD_BOT_TOKEN,
      });
    }
    case "channel.reply": {
      if (!config.DISCORD_BOT_TOKEN) return { kind: "transient", reason: "DISCORD_BOT_TOKEN is not configured" };
      const nonce = (await sha256Hex(notification.key)).slice(0, 25);
      return request(
        `${base}/channels/${notification.channelId}/messages`,
        "POST",
        {
          // Mentions in the text never ping; the author of the message replied to is told.
          allowed_mentions: { parse: [], replied_user: true },
          ...withFlags(notification.message, SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2),
          message_reference: { message_id: notification.replyTo, fail_if_not_exists: false },
          nonce,
          enforce_nonce: true,
        },
        { userAgent, botToken: config.DISCORD_BOT_TOKEN },
      );
    }
    case "dm": {
      if (!config.DISCORD_BOT_TOKEN) return { kind: "transient", reason: "DISCORD_BOT_TOKEN is not configured" };
      const auth = { userAgent, botToken: config.DISCORD_BOT_TOKEN };
      const channel = await request(
        `${base}/users/@me/channels`,
        "POST",
        { recipient_id: notification.discordUserId },
        auth,
      );
      if (channel.kind !== "sent") return channel;
      const channelId = (channel as { body?: { id?: unknown } }).body?.id;
      if (typeof channelId !== "string") return { kind: "transient", reason: "Discord returned no DM channel id" };
      // Discord drops a second message with the same nonce (enforce_nonce), so a resend after a lost answer is harmless.
      const nonce = (await sha256Hex(notification.key)).slice(0, 25);
      return request(
        `${base}/channels/${channelId}/messages`,
        "POST",
        {
          ...withFlags(notification.message, SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2),
          nonce,
          enforce_nonce: true,
        },
        auth,
      );
    }
  }
}

/**
 * A message with one file, as Discord takes it: `multipart/form-data` with the message (naming the file in
 * `attachments`) in `payload_json` and the file in `files[0]`.
 */
async function withFile(message: DiscordMessage, attachment: NotificationAttachment): Promise<FormData> {
  const form = new FormData();
  form.set("payload_json", JSON.stringify({ ...message, attachments: [{ id: 0, filename: attachment.filename }] }));
  const file = new Blob([await unpackAttachment(attachment)], { type: attachment.contentType });
  form.set("files[0]", file, attachment.filename);
  return form;
}

function withFlags(message: DiscordMessage, allowed: number): DiscordMessage {
  const { flags, ...rest } = message;
  const kept = (flags ?? 0) & allowed;
  return kept ? { ...rest, flags: kept } : rest;
}

async function request(
  url: string,
  method: "POST" | "PATCH" | "PUT" | "DELETE",
  body: unknown,
  auth: { userAgent: string; botToken?: string },
): Promise<SendOutcome & { body?: unknown }> {
  const headers: Record<string, string> = { "user-agent": auth.userAgent };
  // A form sets its own multipart content type (with the boundary).
  if (body !== null && !(body instanceof FormData)) headers["content-type"] = "application/json";
  if (auth.botToken) headers.authorization = `Bot ${auth.botToken}`;
  const payload = body === null ? undefined : body instanceof FormData ? body : JSON.stringify(body);
  const response = await fetch(url, { method, headers, body: payload });
  const text = await response.text();
  const json = parseJson(text);
  if (response.ok) return { kind: "sent", body: json };
  if (response.status === 429) {
    const retryAfter = Number((json as { retry_after?: unknown })?.retry_after ?? response.headers.get("retry-after"));
    const scope = response.headers.get("x-ratelimit-scope");
    const global =
      (json as { global?: unknown })?.global === true ||
      response.headers.get("x-ratelimit-global")?.toLowerCase() === "true" ||
      scope === "global";
    return { kind: "rate_limited", retryAfterSeconds: Number.isFinite(retryAfter) ? retryAfter : 5, global, scope };
  }
  const reason = `Discord answered ${response.status} to ${method} ${redactToken(url)}: ${describeError(json, text)}`;
  if (response.status >= 500 || response.status === 408) return { kind: "transient", reason };
  const code = (json as { code?: unknown } | null)?.code;
  return { kind: "permanent", status: response.status, reason, ...(typeof code === "number" ? { code } : {}) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function describeError(json: unknown, text: string): string {
  const error = json as { code?: unknown; message?: unknown } | null;
  if (error && typeof error.message === "string")
    return `${error.message}${error.code !== undefined ? ` (code ${error.code})` : ""}`;
  return text.slice(0, 200) || "(empty body)";
}

/** Interaction tokens are credentials: never log them. */
function redactToken(url: string): string {
  return url.replace(/(\/webhooks\/\d+\/)[^/]+/, "$1[token]");
}

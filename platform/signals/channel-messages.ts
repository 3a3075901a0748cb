import type { SignalStatus } from "../../shared/db/schema";
import { isProvider } from "../../shared/discord/permissions";
import { type DiscordSettings, discordSettingsOf } from "../../shared/discord/settings";
import { providerOutcome, signalHeadline } from "../../shared/discord/signal-post";
import { snowflakeTime } from "../../shared/execution/submit";
import type { GatewayMessage } from "../../shared/gateway/dispatches";
import type { Logger } from "../../shared/logging";
import type { DiscordMessage } from "../../shared/notifications/message";
import {
  describeSignal,
  readingErrors,
  readProviderMessage,
  readSignalText,
  type SignalReading,
} from "../../shared/signals/reading";
import type { NormalizedSignal } from "../../shared/signals/schema";
import { type Database, database } from "../db/client";
import { guildMember } from "../db/cross-community/guild-member";
import { ensureMemberRecord } from "../db/member-record";
import type { Community } from "../db/tenant/community";
import { forCommunity, type TenantRepository } from "../db/tenant/for-community";
import type { SignalRow } from "../db/tenant/signals";
import { type NotifyDeps, notifyMember } from "../notifications/notify-member";
import { type ChannelMessageTarget, react, replyTo } from "../notifications/notify-queue";
import { executorFor } from "../objects";
import { intakeSignal, type SignalIntakeResult } from "./intake";
import { type ManagementIntakeResult, takeManagement } from "./management-intake";

/**
 * Signals posted as plain messages in a community's signal channels, read
 * from the Discord Gateway (openspec/specs/discord-gateway, "Message
 * intake"). A message counts when it is a member's own message (not a bot's,
 * a webhook's or a system message) in a channel `/setup signal_channel:`
 * named, by a provider (the rules of `shared/discord/permissions.ts`; admin
 * rights from the guild's roles as the Gateway keeps them). It takes the one
 * intake path under its message id, with its snowflake's time as the source
 * time. Accepted: ✅ (⚠️ when it placed no order, the counts by DM to the
 * provider only); refused by the executor: ⚠️ and a reply with the reason;
 * not a signal: ignored, or ⚠️ and the reason by the community's
 * `unparsed_messages` setting. Everything said goes through NOTIFY_QUEUE
 * with keys named after the message, so a retried hand-off says it once.
 *
 * An edit within EDIT_WINDOW_MS of posting re-reads the message: the signal
 * it gave is withdrawn (all its queued orders canceled, refused if any was
 * sent) and the new text, if it is a signal, is taken under
 * `<message id>:edit:<edit time>`. A later edit changes nothing and its
 * provider is told by DM.
 */

/** How long after posting an edit still changes the signal. */
export const EDIT_WINDOW_MS = 30_000;
/** Discord message types a member writes: DEFAULT (0) and REPLY (19); the rest are system messages. */
const MEMBER_MESSAGE_TYPES: ReadonlySet<number> = new Set([0, 19]);
const ACCEPTED = "✅";
const WARNING = "⚠️";

export type IgnoredReason =
  | "not_in_a_server"
  | "not_a_member_message"
  | "server_not_registered"
  | "not_a_signal_channel"
  | "not_a_provider"
  | "no_text"
  | "not_an_edit"
  | "signal_unchanged"
  | "older_edit"
  | "not_a_signal"
  /** A result report ("TP2 reached", "Profit: 69%"): recognized, never traded, nothing said. */
  | "result_report";

export type ChannelMessageOutcome =
  | { outcome: "ignored"; reason: IgnoredReason }
  | { outcome: "not_a_signal"; replied: boolean; codes: string[] }
  | { outcome: "signal"; signalId: string; signalStatus: SignalStatus; replaced: string | null }
  | { outcome: "withdrawn"; signalId: string; canceledOrders: number }
  | { outcome: "edit_refused"; reason: "late" | "orders_sent" | "superseded" | "unknown_signal" }
  | {
      outcome: "managed";
      signalId: string | null;
      result: Extract<ManagementIntakeResult, { kind: "managed" }>["outcome"];
    }
  | { outcome: "management_refused"; signalId: string | null; code: string; replied: boolean };

/** What the Gateway knows of the author's rights: their guild permissions, or null before the guild's roles are known. */
export interface AuthorRights {
  permissions: string | null;
}

interface Sender {
  community: Community;
  tenant: TenantRepository;
  settings: DiscordSettings;
  providerUserId: string;
}

/** MESSAGE_CREATE in a signal channel. Throws when the executor could not be reached, so the hand-off is retried. */
export async function takeChannelMessage(
  deps: NotifyDeps,
  message: GatewayMessage,
  rights: AuthorRights,
  logger: Logger,
): Promise<ChannelMessageOutcome> {
  const { env } = deps;
  const db = database(env.DB);
  const checked = await signalSender(db, message, rights);
  if ("outcome" in checked) return checked;
  const log = logger.child({ communityId: checked.community.id, messageId: message.id });
  if (message.content.trim() === "") return ignored("no_text");
  const postedAt = snowflakeTime(message.id);
  const reading = readProviderMessage(message.content, postedAt, { reply: message.referencedMessageId !== null });
  const target = { channelId: message.channelId, messageId: message.id };
  if (reading.kind === "report") return ignored("result_report");
  if (reading.kind === "invalid") return notASignal(env, checked, target, reading.reading, POSTED);
  if (reading.kind === "management") {
    const managed = await takeManagement(
      env,
      checked.tenant,
      {
        providerUserId: checked.providerUserId,
        messageId: message.id,
        postedAt,
        repliesTo: message.referencedMessageId,
        management: reading.management,
      },
      log,
    );
    return answerManagement(deps, checked, target, managed, { revision: POSTED, key: message.id });
  }
  const taken = await take(env, checked, message, reading.reading.signal, message.id, postedAt, log);
  return answer(deps, checked, target, taken, POSTED, null);
}

/** MESSAGE_UPDATE of a message in a signal channel: amends its signal within the edit window. */
export async function takeChannelMessageEdit(
  deps: NotifyDeps,
  message: GatewayMessage,
  rights: AuthorRights,
  logger: Logger,
): Promise<ChannelMessageOutcome> {
  const { env } = deps;
  // An update without an edit time is Discord adding an embed (a link preview), not the author editing.
  const editedAt = message.editedTimestamp === null ? Number.NaN : Date.parse(message.editedTimestamp);
  if (!Number.isFinite(editedAt)) return ignored("not_an_edit");
  const db = database(env.DB);
  const checked = await signalSender(db, message, rights);
  if ("outcome" in checked) return checked;
  const { community, tenant } = checked;
  const log = logger.child({ communityId: community.id, messageId: message.id });
  const target = { channelId: message.channelId, messageId: message.id };
  const revision = `edit-${editedAt}`;
  const current = await tenant.signals.latestOfMessage(message.id);
  // A hand-off retried late must not undo a newer edit.
  if (current && editedAtOf(current, message.id) >= editedAt) return ignored("older_edit");
  if (!current) {
    const managed = await editOfManagement(deps, checked, message, editedAt, log);
    if (managed) return managed;
  }
  const reading = message.content.trim() === "" ? null : readSignalText(message.content, editedAt);
  if (current && current.status !== "withdrawn" && reading?.ok && sameSignal(current.normalized, reading.signal))
    return ignored("signal_unchanged");
  if (!current && !reading?.ok) {
    if (reading && editedAt - snowflakeTime(message.id) <= EDIT_WINDOW_MS)
      return notASignal(env, checked, target, reading, revision);
    return ignored("not_a_signal");
  }

  if (editedAt - snowflakeTime(message.id) > EDIT_WINDOW_MS) {
    await tellProvider(
      deps,
      checked,
      `edit:${message.id}:${editedAt}:late`,
      current
        ? `✏️ Your edit of ${messageLink(message)} was not applied: a signal changes only by an edit within ${EDIT_WINDOW_MS / 1000} s of posting, so it stands as first posted (${describeSignal(current.normalized)}). Post a new message for a new signal.`
        : `✏️ Your edit of ${messageLink(message)} was not applied: a message becomes a signal by an edit only within ${EDIT_WINDOW_MS / 1000} s of posting. Post it again as a new message.`,
    );
    log.info("signal.edit_too_late", { signalId: current?.id ?? null });
    return { outcome: "edit_refused", reason: "late" };
  }

  let withdrawn: { signalId: string; canceledOrders: number } | null = null;
  if (current && (current.status === "accepted" || current.status === "received")) {
    const outcome = await executorFor(env, community.id).withdrawSignal({
      communityId: community.id,
      signalId: current.id,
      reason: `edited by its provider at ${new Date(editedAt).toISOString()}`,
    });
    if (!outcome.ok) {
      if (outcome.retryable) throw new Error(`withdrawing signal ${current.id}: ${outcome.message}`);
      await tellProvider(
        deps,
        checked,
        `edit:${message.id}:${editedAt}:refused`,
        `✏️ Your edit of ${messageLink(message)} was not applied: ${outcome.message} The signal stands as first posted (${describeSignal(current.normalized)}).`,
      );
      log.info("signal.edit_refused", { signalId: current.id, errorCode: outcome.code });
      return { outcome: "edit_refused", reason: refusalReason(outcome.code) };
    }
    withdrawn = { signalId: current.id, canceledOrders: outcome.canceledOrders };
  }

  if (!reading?.ok) {
    if (!withdrawn) return reading ? notASignal(env, checked, target, reading, revision) : ignored("no_text");
    const why = reading ? reading.errors.map((error) => `\`${error.code}\``).join(", ") : "no text";
    await warn(
      env,
      { sender: checked, target, revision },
      `✏️ This edit withdrew the signal: the new text is not a signal (${why}). ${canceledText(withdrawn.canceledOrders)}`,
    );
    return { outcome: "withdrawn", ...withdrawn };
  }
  const sourceId = current ? `${message.id}:edit:${editedAt}` : message.id;
  const taken = await take(env, checked, message, reading.signal, sourceId, editedAt, log);
  return answer(deps, checked, target, taken, revision, withdrawn);
}

/**
 * An edit of a message that was taken as trade management (openspec/specs/trade-management, "Edits of a management
 * message"), or of one that becomes management: like a signal's edit, it is re-read only within the edit window,
 * and only while the management has done nothing (it was refused, or found nothing to change); the new text is then
 * taken under `<message id>:edit:<edit time>`. Once it canceled, moved or sent anything, an edit cannot undo it:
 * it is ignored and the provider told by DM, as is an edit after the window. Null: not management, the signal
 * rules apply.
 */
async function editOfManagement(
  deps: NotifyDeps,
  sender: Sender,
  message: GatewayMessage,
  editedAt: number,
  logger: Logger,
): Promise<ChannelMessageOutcome | null> {
  const { env } = deps;
  const before = await executorFor(env, sender.community.id).managementOfMessage({
    communityId: sender.community.id,
    messageId: message.id,
  });
  const late = editedAt - snowflakeTime(message.id) > EDIT_WINDOW_MS;
  if (before && (late || before.acted)) {
    await tellProvider(
      deps,
      sender,
      `edit:${message.id}:${editedAt}:management`,
      late
        ? `✏️ Your edit of ${messageLink(message)} was not applied: a management message changes only by an edit within ${EDIT_WINDOW_MS / 1000} s of posting. Post a new message for another instruction.`
        : `✏️ Your edit of ${messageLink(message)} was not applied: its instruction already acted (${before.message || "it is being acted on"}), and an edit cannot undo that. Post a new message for another instruction.`,
    );
    logger.info("signal.management_edit_refused", { late, sourceId: before.sourceId });
    return { outcome: "edit_refused", reason: late ? "late" : "orders_sent" };
  }
  if (late || message.content.trim() === "") return before ? ignored("not_a_signal") : null;
  const reading = readProviderMessage(message.content, editedAt, { reply: message.referencedMessageId !== null });
  if (reading.kind !== "management") return null;
  const target = { channelId: message.channelId, messageId: message.id };
  const sourceId = `${message.id}:edit:${editedAt}`;
  const managed = await takeManagement(
    env,
    sender.tenant,
    {
      providerUserId: sender.providerUserId,
      messageId: sourceId,
      postedAt: editedAt,
      repliesTo: message.referencedMessageId,
      management: reading.management,
    },
    logger,
  );
  return answerManagement(deps, sender, target, managed, { revision: `edit-${editedAt}`, key: sourceId });
}

// --- who and where -------------------------------------------------------------

async function signalSender(
  db: Database,
  message: GatewayMessage,
  rights: AuthorRights,
): Promise<Sender | Extract<ChannelMessageOutcome, { outcome: "ignored" }>> {
  if (message.guildId === null) return ignored("not_in_a_server");
  if (!MEMBER_MESSAGE_TYPES.has(message.type)) return ignored("not_a_member_message");
  const { community, identity } = await guildMember(db, message.guildId, message.author.id);
  if (!community) return ignored("server_not_registered");
  const settings = discordSettingsOf(community.settings);
  // With no signal channel configured, no channel is read: chat is never taken for a signal by default.
  if (!settings.signalChannelIds.includes(message.channelId)) return ignored("not_a_signal_channel");
  const facts = {
    discordRoles: message.authorRoles ?? [],
    permissions: rights.permissions ?? "0",
    role: identity?.role ?? null,
    namedProvider: identity?.namedProvider ?? false,
  };
  if (!isProvider(facts, settings)) return ignored("not_a_provider");
  const tenant = forCommunity(db, community.id);
  const { user } = await ensureMemberRecord(db, tenant, message.author, identity);
  return { community, tenant, settings, providerUserId: user.id };
}

// --- taking and answering ----------------------------------------------------------

function take(
  env: Env,
  sender: Sender,
  message: GatewayMessage,
  signal: NormalizedSignal,
  sourceId: string,
  sourceTimestamp: number,
  logger: Logger,
): Promise<SignalIntakeResult> {
  return intakeSignal(
    env,
    sender.tenant,
    {
      providerUserId: sender.providerUserId,
      signal,
      rawText: message.content,
      source: "message",
      sourceId,
      sourceTimestamp,
      channelId: message.channelId,
      retriedBy: "door",
    },
    logger,
  );
}

/** The reaction (and, for a refusal, the reply) that tells the channel what became of the signal. */
async function answer(
  deps: NotifyDeps,
  sender: Sender,
  target: ChannelMessageTarget,
  taken: SignalIntakeResult,
  revision: string,
  withdrawn: { signalId: string; canceledOrders: number } | null,
): Promise<ChannelMessageOutcome> {
  const { env } = deps;
  // Left `received`: the Gateway's inbox hands the message on again, and the executor decides then.
  if (taken.kind === "handoff_failed") throw new Error(`signal ${taken.signal.id} not taken: ${taken.reason}`);
  // The executor had already decided this source (an earlier attempt whose answer was lost): its decision is in D1.
  const decided =
    taken.kind === "submitted" && taken.summary.code === "DUPLICATE_SOURCE"
      ? ((await sender.tenant.signals.get(taken.signal.id)) ?? taken.signal)
      : null;
  const status = decided?.status ?? (taken.kind === "submitted" ? taken.summary.status : taken.signal.status);
  const reason =
    (decided ? decided.statusReason : taken.kind === "submitted" ? taken.summary.message : taken.signal.statusReason) ??
    "";
  const amended = withdrawn ? ` ${canceledText(withdrawn.canceledOrders)}` : "";
  if (status === "accepted") {
    // Zero orders placed is not a success to the provider: ⚠️ on the message, and the counts by DM (only theirs).
    const placedNothing = taken.kind === "submitted" && !decided && taken.summary.ordersQueued === 0;
    await mark(env, sender, target, revision, placedNothing ? WARNING : ACCEPTED);
    if (placedNothing) {
      const outcome = providerOutcome(taken.summary, signalHeadline(taken.signal.normalized));
      await tellProvider(deps, sender, `signal-outcome:${taken.signal.id}`, outcome);
    }
    if (withdrawn) {
      await reply(
        env,
        sender,
        target,
        revision,
        `✏️ Edit applied: ${describeSignal(taken.signal.normalized)}.${amended}`,
      );
    }
  } else if (status === "expired" || status === "refused" || status === "duplicate") {
    await warn(
      env,
      { sender, target, revision },
      `${WARNING} Not executed: ${reason}${withdrawn ? `\n✏️ The edit withdrew the first version.${amended}` : ""}`,
    );
  }
  return { outcome: "signal", signalId: taken.signal.id, signalStatus: status, replaced: withdrawn?.signalId ?? null };
}

/**
 * A management message acted on gets ✅ and its provider a DM with what was done; one refused (it names no open
 * trade of theirs, or the executor refused it) gets ⚠️ and the reason by the community's `unparsed_messages`
 * setting, like a text that is not a signal.
 */
async function answerManagement(
  deps: NotifyDeps,
  sender: Sender,
  target: ChannelMessageTarget,
  managed: ManagementIntakeResult,
  version: { revision: string; key: string },
): Promise<ChannelMessageOutcome> {
  const { env } = deps;
  if (managed.kind === "managed") {
    await mark(env, sender, target, version.revision, ACCEPTED);
    if (!managed.outcome.duplicate) {
      await tellProvider(deps, sender, `manage:${version.key}`, `🛠️ ${managed.outcome.message}`);
    }
    return { outcome: "managed", signalId: managed.signalId, result: managed.outcome };
  }
  const replied = sender.settings.unparsedMessages === "reply";
  if (replied)
    await warn(env, { sender, target, revision: version.revision }, `${WARNING} Not done: ${managed.message}`);
  return { outcome: "management_refused", signalId: managed.signalId, code: managed.code, replied };
}

async function notASignal(
  env: Env,
  sender: Sender,
  target: ChannelMessageTarget,
  reading: Extract<SignalReading, { ok: false }>,
  revision: string,
): Promise<ChannelMessageOutcome> {
  const codes = reading.errors.map((error) => error.code);
  if (sender.settings.unparsedMessages !== "reply") return { outcome: "not_a_signal", replied: false, codes };
  await warn(
    env,
    { sender, target, revision },
    [`${WARNING} Not executed: this message is not a signal I can read.`, ...readingErrors(reading)].join("\n"),
  );
  return { outcome: "not_a_signal", replied: true, codes };
}

/** Our one reaction on the message: the other one comes off when an edit changed the outcome. */
async function mark(env: Env, sender: Sender, target: ChannelMessageTarget, revision: string, emoji: string) {
  const communityId = sender.community.id;
  await react(env, target, emoji, { communityId, purpose: `${revision}:${emoji}` });
  if (revision === POSTED) return;
  const other = emoji === ACCEPTED ? WARNING : ACCEPTED;
  await react(env, target, other, { communityId, purpose: `${revision}:${other}:off`, remove: true });
}

/** ⚠️ on the message, and a reply that says why. */
async function warn(
  env: Env,
  on: { sender: Sender; target: ChannelMessageTarget; revision: string },
  content: string,
): Promise<void> {
  await mark(env, on.sender, on.target, on.revision, WARNING);
  await reply(env, on.sender, on.target, on.revision, content);
}

function reply(env: Env, sender: Sender, target: ChannelMessageTarget, revision: string, content: string) {
  const message: DiscordMessage = { content: content.slice(0, 2000) };
  return replyTo(env, target, message, { communityId: sender.community.id, purpose: revision });
}

async function tellProvider(deps: NotifyDeps, sender: Sender, event: string, text: string): Promise<void> {
  await notifyMember(deps, { userId: sender.providerUserId, communityId: sender.community.id, event, message: text });
}

// --- small helpers ------------------------------------------------------------------

const POSTED = "posted";

function ignored(reason: IgnoredReason): Extract<ChannelMessageOutcome, { outcome: "ignored" }> {
  return { outcome: "ignored", reason };
}

function canceledText(canceled: number): string {
  return canceled === 0
    ? "No order of the first version had been placed."
    : `${canceled} queued order${canceled === 1 ? "" : "s"} of the first version ${canceled === 1 ? "was" : "were"} canceled.`;
}

function refusalReason(code: "ORDERS_SENT" | "SUPERSEDED" | "STILL_EXECUTING" | "UNKNOWN_SIGNAL") {
  switch (code) {
    case "ORDERS_SENT":
    case "STILL_EXECUTING":
      return "orders_sent" as const;
    case "SUPERSEDED":
      return "superseded" as const;
    case "UNKNOWN_SIGNAL":
      return "unknown_signal" as const;
  }
}

/** The edit time a signal of this message was stored for (0 for the message as posted). */
function editedAtOf(signal: SignalRow, messageId: string): number {
  const prefix = `${messageId}:edit:`;
  return signal.sourceId.startsWith(prefix) ? Number(signal.sourceId.slice(prefix.length)) : 0;
}

/** The same trade: the normalized signals are equal field by field. */
function sameSignal(a: NormalizedSignal, b: NormalizedSignal): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function messageLink(message: GatewayMessage): string {
  return `https://discord.com/channels/${message.guildId}/${message.channelId}/${message.id}`;
}

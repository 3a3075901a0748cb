import { maxSignalAgeSeconds } from "../../../shared/execution/signal-gate";
import { snowflakeTime } from "../../../shared/execution/submit";
import { readSignalText } from "../../../shared/signals/reading";
import { type CommunityContext, resolvedOf } from "../context";
import { InteractionType } from "../interaction-schema";
import { ephemeral, type InteractionResponse } from "../respond";
import { outsideSignalChannels } from "../signal-channels";
import { staleMessagePrompt, unreadableSignal } from "../signal-draft";
import { intakeSignal } from "../signal-intake";

/**
 * Message command "Execute as signal" (providers): an explicit, current decision to post the target message as a
 * signal. The signal-channel rule applies as for `/signal`. A message older than the community's signal age limit is
 * not executed as it is: the provider is asked privately whether to post its text now, as a new signal. Otherwise the
 * message id is the source id and its snowflake time the source time, so executing the same message twice stores
 * nothing new.
 */
export async function handleExecuteAsSignal(ctx: CommunityContext): Promise<InteractionResponse> {
  const interaction = ctx.interaction;
  if (interaction.type !== InteractionType.APPLICATION_COMMAND || !interaction.data.target_id) {
    return ephemeral("Run this on a message (message menu › Apps › Execute as signal).");
  }
  const message = resolvedOf(interaction).messages?.[interaction.data.target_id];
  if (!message) return ephemeral("Discord did not send the message's text, so nothing was done.");

  const refusal = outsideSignalChannels(ctx.settings, message.channel_id);
  if (refusal) return ephemeral(refusal);
  const sourceTimestamp = snowflakeTime(message.id);
  const maxAgeSeconds = maxSignalAgeSeconds(ctx.community.settings);
  const ageMs = Date.now() - sourceTimestamp;
  if (ageMs > maxAgeSeconds * 1000) return staleMessagePrompt(ctx, message.content, ageMs, maxAgeSeconds);

  const reading = readSignalText(message.content, sourceTimestamp);
  if (!reading.ok) return unreadableSignal(ctx, reading, message.content);
  return intakeSignal(ctx, {
    signal: reading.signal,
    rawText: message.content,
    source: "message",
    sourceId: message.id,
    sourceTimestamp,
    channelId: message.channel_id,
  });
}

import { snowflakeTime } from "../../../shared/execution/submit";
import { readingErrors, readSignalText } from "../../../shared/signals/reading";
import { type CommunityContext, resolvedOf } from "../context";
import { InteractionType } from "../interaction-schema";
import { ephemeral, type InteractionResponse } from "../respond";
import { intakeSignal } from "../signal-intake";

/**
 * Message command "Execute as signal" (providers): parses the target
 * message's text. Only in the community's signal channels when some are
 * configured. The message id is the source id and its snowflake time the
 * source time, so executing the same message twice stores nothing new.
 */
export async function handleExecuteAsSignal(ctx: CommunityContext): Promise<InteractionResponse> {
  const interaction = ctx.interaction;
  if (interaction.type !== InteractionType.APPLICATION_COMMAND || !interaction.data.target_id) {
    return ephemeral("Run this on a message (message menu › Apps › Execute as signal).");
  }
  const message = resolvedOf(interaction).messages?.[interaction.data.target_id];
  if (!message) return ephemeral("Discord did not send the message's text, so nothing was done.");

  const channels = ctx.settings.signalChannelIds;
  if (channels.length > 0 && !channels.includes(message.channel_id)) {
    const list = channels.map((id) => `<#${id}>`).join(", ");
    return ephemeral(`Signals are only taken from this server's signal channels (${list}); nothing was done.`);
  }
  const sourceTimestamp = snowflakeTime(message.id);
  const reading = readSignalText(message.content, sourceTimestamp);
  if (!reading.ok) return ephemeral(readingErrors(reading));
  return intakeSignal(ctx, {
    signal: reading.signal,
    rawText: message.content,
    source: "message",
    sourceId: message.id,
    sourceTimestamp,
    channelId: message.channel_id,
  });
}

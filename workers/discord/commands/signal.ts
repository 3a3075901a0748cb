import { takeManagement } from "../../../platform/signals/management-intake";
import { snowflakeTime } from "../../../shared/execution/submit";
import type { TradeManagement } from "../../../shared/signals/management";
import { readProviderMessage, readSignalOptions, readSignalText } from "../../../shared/signals/reading";
import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { ephemeral, type InteractionResponse, messageBody } from "../respond";
import { outsideSignalChannels } from "../signal-channels";
import { unreadableSignal } from "../signal-draft";
import { intakeSignal } from "../signal-intake";

export type SignalOptions = OptionsFor<typeof DEFINITIONS.signal>;

const STRUCTURED = ["action", "symbol", "quantity", "entry", "stop", "targets"] as const;

/**
 * /signal text:<free text>, or the structured options: both give the same
 * normalized signal, taken only in the server's signal channels (when it has
 * some). A signal that does not parse gets the problems in words (ephemeral,
 * with [Edit & resend] for free text) and nothing is stored. The interaction id is the source id, so a
 * redelivered interaction stores nothing new.
 */
export async function handleSignal(ctx: CommunityContext<SignalOptions>): Promise<InteractionResponse> {
  const { text, ...structured } = ctx.options;
  const usesStructured = STRUCTURED.some((name) => structured[name] !== undefined);
  if (text !== undefined && usesStructured) {
    return ephemeral("Give the signal either as `text:` or with the structured options, not both. Nothing was posted.");
  }
  if (text === undefined && !usesStructured) {
    return ephemeral(
      "Write the signal in `text:` (e.g. `BUY AAPL 10 @ 190.50 SL 185 TP 195`) or use `action:` and `symbol:`.",
    );
  }
  const refusal = outsideSignalChannels(ctx.settings, ctx.channelId);
  if (refusal) return ephemeral(refusal);
  const sourceTimestamp = snowflakeTime(ctx.interaction.id);
  if (text !== undefined) {
    // Management of an open trade ("move stop to 185 AAPL", "cancel AAPL"): never a reply here, so it names its symbol.
    const provider = readProviderMessage(text, sourceTimestamp, { reply: false });
    if (provider.kind === "management") return manageFromCommand(ctx, provider.management, sourceTimestamp);
  }
  const reading =
    text !== undefined ? readSignalText(text, sourceTimestamp) : readSignalOptions(structured, sourceTimestamp);
  if (!reading.ok) return unreadableSignal(ctx, reading, text ?? null);
  return intakeSignal(ctx, {
    signal: reading.signal,
    rawText: reading.text,
    source: "slash",
    sourceId: ctx.interaction.id,
    sourceTimestamp,
    channelId: ctx.channelId,
  });
}

/**
 * /signal text that is trade management: the provider's one open trade on the symbol it names is managed by the
 * executor (the interaction id is the key). The answer is private: what was done, or the refusal with its code.
 */
function manageFromCommand(
  ctx: CommunityContext<SignalOptions>,
  management: TradeManagement,
  sourceTimestamp: number,
): InteractionResponse {
  return ctx.defer(
    async () => {
      const taken = await takeManagement(
        ctx.env,
        ctx.tenant,
        {
          providerUserId: ctx.member.user.id,
          messageId: ctx.interaction.id,
          postedAt: sourceTimestamp,
          repliesTo: null,
          management,
        },
        ctx.logger,
      );
      return messageBody(
        taken.kind === "managed" ? `🛠️ ${taken.outcome.message}` : `⚠️ Not done (\`${taken.code}\`): ${taken.message}`,
        { ephemeral: true },
      );
    },
    { ephemeral: true },
  );
}

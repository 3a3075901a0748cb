import { editKey, followUp } from "../../platform/notifications/notify-queue";
import { intakeSignal as takeSignal } from "../../platform/signals/intake";
import type { SignalSource } from "../../shared/db/schema";
import { providerOutcome, signalEmbed, signalHeadline } from "../../shared/discord/signal-post";
import type { NormalizedSignal } from "../../shared/signals/schema";
import type { CommunityContext } from "./context";
import { messageBody } from "./respond";

/**
 * A parsed signal from a command (/signal, "Execute as signal"): answer type
 * 5 (ephemeral) at once, then (after the response) take it through the one
 * intake path (`platform/signals/intake.ts`: stored once per source id,
 * handed to the community's executor). The provider's private reply gets the
 * outcome and the counts; only an accepted signal is posted in the channel,
 * as an embed.
 */

export interface SignalIntake {
  signal: NormalizedSignal;
  rawText: string;
  source: Extract<SignalSource, "slash" | "message">;
  /** The interaction id (/signal) or the message id (Execute as signal). */
  sourceId: string;
  /** The snowflake time of sourceId, in ms. */
  sourceTimestamp: number;
  channelId: string | null;
}

export function intakeSignal(ctx: CommunityContext<unknown>, intake: SignalIntake) {
  return ctx.defer(
    async () => {
      const headline = signalHeadline(intake.signal);
      const taken = await takeSignal(
        ctx.env,
        ctx.tenant,
        {
          ...intake,
          providerUserId: ctx.member.user.id,
          interaction: { applicationId: ctx.target.applicationId, token: ctx.target.token },
        },
        ctx.logger,
      );
      switch (taken.kind) {
        case "already_received":
          return messageBody(`⚠️ Not posted again: ${headline} was already received; nothing new was stored or sent.`, {
            ephemeral: true,
          });
        case "handoff_failed":
          return messageBody(
            `⚠️ Not posted: ${headline}. It was stored but could not be executed: ${taken.reason}. Quote request id \`${ctx.requestId}\`.`,
            { ephemeral: true },
          );
        case "submitted": {
          if (taken.summary.status === "accepted") {
            // The channel sees the accepted signal once the provider's private answer is out (see `followUp`).
            await followUp(
              ctx.env,
              ctx.target,
              { embeds: [signalEmbed(intake.signal, ctx.member.discordId)], allowed_mentions: { parse: [] } },
              { communityId: ctx.community.id, purpose: "signal-post", afterKey: editKey(ctx.target) },
            );
          }
          return messageBody(providerOutcome(taken.summary, headline), { ephemeral: true });
        }
      }
    },
    { ephemeral: true },
  );
}

import { loadEntitlements } from "../../platform/billing/load-entitlements";
import { directMessage, editKey, followUp } from "../../platform/notifications/notify-queue";
import type { SignalSource } from "../../shared/db/schema";
import { providerOutcome, signalEmbed, signalHeadline } from "../../shared/discord/signal-post";
import type { NormalizedSignal } from "../../shared/signals/schema";
import type { CommunityContext } from "./context";
import { submitSignal } from "./handoff";
import { messageBody } from "./respond";

/**
 * The path every Discord signal takes once it has parsed: answer type 5
 * (ephemeral) at once, then (after the response) store it once per source id
 * and hand it to the community's executor. The provider's private reply gets
 * the outcome and the counts; only an accepted signal is posted in the
 * channel, as an embed.
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
      const { signal: row, created } = await ctx.tenant.signals.store({
        providerUserId: ctx.member.user.id,
        source: intake.source,
        sourceId: intake.sourceId,
        sourceTimestamp: intake.sourceTimestamp,
        channelId: intake.channelId,
        rawText: intake.rawText,
        normalized: intake.signal,
      });
      if (!created) {
        ctx.logger.info("signal.redelivered", { signalId: row.id, sourceId: intake.sourceId });
        return messageBody(`⚠️ Not posted again: ${headline} was already received; nothing new was stored or sent.`, {
          ephemeral: true,
        });
      }
      ctx.logger.info("signal.stored", { signalId: row.id, source: intake.source });
      const outcome = await submitSignal(ctx.env, {
        signalId: row.id,
        communityId: ctx.community.id,
        providerUserId: ctx.member.user.id,
        signal: intake.signal,
        source: intake.source,
        sourceId: intake.sourceId,
        sourceTimestamp: intake.sourceTimestamp,
        channelId: intake.channelId,
        interaction: { applicationId: ctx.target.applicationId, token: ctx.target.token },
      });
      if (!outcome.ok) {
        ctx.logger.error("signal.handoff_failed", { signalId: row.id, reason: outcome.reason });
        await ctx.tenant.signals.markFailed(row.id, `handoff: ${outcome.reason}`);
        return messageBody(
          `⚠️ Not posted: ${headline}. It was stored but could not be executed: ${outcome.reason}. Quote request id \`${ctx.requestId}\`.`,
          { ephemeral: true },
        );
      }
      const { summary } = outcome;
      if (summary.status === "accepted") {
        // The channel sees the accepted signal once the provider's private answer is out (see `followUp`).
        await followUp(
          ctx.env,
          ctx.target,
          { embeds: [signalEmbed(intake.signal, ctx.member.discordId)], allowed_mentions: { parse: [] } },
          { communityId: ctx.community.id, purpose: "signal-post", afterKey: editKey(ctx.target) },
        );
      } else if (summary.code === "SIGNAL_LIMIT_REACHED") {
        await tellOwnerOfPlanLimit(ctx, summary.message);
      }
      return messageBody(providerOutcome(summary, headline), { ephemeral: true });
    },
    { ephemeral: true },
  );
}

/**
 * The plan's daily signal limit is the owner's to lift: they are told privately, once a day, with an upgrade
 * button (a signed checkout link for the next plan up, when one can be bought). Nothing about billing is posted
 * in the channel.
 */
async function tellOwnerOfPlanLimit(ctx: CommunityContext<unknown>, reason: string): Promise<void> {
  const ownerId = ctx.community.ownerUserId;
  if (!ownerId) return;
  const ent = await loadEntitlements(
    ctx.db,
    { communityId: ctx.community.id },
    { config: ctx.config, communityLink: true },
  );
  const upgrade = ent.upgrade.community;
  await directMessage(ctx.env, {
    userId: ownerId,
    communityId: ctx.community.id,
    event: `plan-limit:signals:${new Date().toISOString().slice(0, 10)}`,
    message: {
      content: `📈 ${ctx.community.name} reached its plan's daily signal limit: ${reason} Providers' signals are refused until 00:00 UTC.${upgrade ? ` Upgrading to ${upgrade.planName} raises the limit.` : ""}`,
      allowed_mentions: { parse: [] },
      ...(upgrade?.url
        ? {
            components: [
              {
                type: 1,
                components: [{ type: 2, style: 5, label: `Upgrade to ${upgrade.planName}`, url: upgrade.url }],
              },
            ],
          }
        : {}),
    },
  });
}

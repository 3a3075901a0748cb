import type { SignalSource } from "../../shared/db/schema";
import type { NormalizedSignal } from "../../shared/signals/schema";
import type { CommunityContext } from "./context";
import { submitSignal } from "./handoff";
import { messageBody } from "./respond";
import { describeSignal } from "./signal-language";

/**
 * The path every Discord signal takes once it has parsed: answer type 5 at
 * once, then (after the response) store it once per source id and hand it to
 * the community's executor. The executor's summary, or why it could not take
 * the signal, edits the deferred reply.
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
      const provider = `<@${ctx.member.discordId}>`;
      const heading = `📣 Signal from ${provider}: ${describeSignal(intake.signal)}`;
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
        return messageBody(
          `${heading}\nThis signal was already received (signal \`${row.id}\`); nothing new was stored or sent.`,
        );
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
          `${heading}\n⚠️ Stored (signal \`${row.id}\`) but not executed: ${outcome.reason}. Quote request id \`${ctx.requestId}\`.`,
        );
      }
      const { status, message } = outcome.summary;
      const mark = status === "accepted" ? "✅" : "⚠️";
      return messageBody(`${heading}\n${mark} ${status === "accepted" ? message : `Signal ${status}: ${message}`}`);
    },
    { ephemeral: false },
  );
}

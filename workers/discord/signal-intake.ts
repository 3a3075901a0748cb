import { intakeSignal as takeSignal } from "../../platform/signals/intake";
import type { SignalSource } from "../../shared/db/schema";
import { describeSignal } from "../../shared/signals/reading";
import type { NormalizedSignal } from "../../shared/signals/schema";
import type { CommunityContext } from "./context";
import { messageBody } from "./respond";

/**
 * A parsed signal from a command (/signal, "Execute as signal"): answer type
 * 5 at once, then (after the response) take it through the one intake path
 * (`platform/signals/intake.ts`: stored once per source id, handed to the
 * community's executor). The executor's summary, or why it could not take
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
          return messageBody(
            `${heading}\nThis signal was already received (signal \`${taken.signal.id}\`); nothing new was stored or sent.`,
          );
        case "handoff_failed":
          return messageBody(
            `${heading}\n⚠️ Stored (signal \`${taken.signal.id}\`) but not executed: ${taken.reason}. Quote request id \`${ctx.requestId}\`.`,
          );
        case "submitted": {
          const { status, message } = taken.summary;
          const mark = status === "accepted" ? "✅" : "⚠️";
          return messageBody(`${heading}\n${mark} ${status === "accepted" ? message : `Signal ${status}: ${message}`}`);
        }
      }
    },
    { ephemeral: false },
  );
}

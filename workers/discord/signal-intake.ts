import { storeAndSubmitSignal } from "../../platform/signals/intake";
import type { SignalSource } from "../../shared/db/schema";
import type { NormalizedSignal } from "../../shared/signals/schema";
import type { CommunityContext } from "./context";
import { messageBody } from "./respond";
import { describeSignal } from "./signal-language";

/**
 * The path every Discord signal takes once it has parsed: answer type 5 at
 * once, then (after the response) store it once per source id and hand it to
 * the community's executor (platform/signals/intake.ts). The executor's
 * summary, or why it could not take the signal, edits the deferred reply.
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
      const outcome = await storeAndSubmitSignal(
        { env: ctx.env, tenant: ctx.tenant, logger: ctx.logger },
        {
          ...intake,
          communityId: ctx.community.id,
          providerUserId: ctx.member.user.id,
          interaction: { applicationId: ctx.target.applicationId, token: ctx.target.token },
        },
      );
      switch (outcome.kind) {
        case "redelivered":
          return messageBody(
            `${heading}\nThis signal was already received (signal \`${outcome.signal.id}\`); nothing new was stored or sent.`,
          );
        case "handoff_failed":
          return messageBody(
            `${heading}\n⚠️ Stored (signal \`${outcome.signal.id}\`) but not executed: ${outcome.reason}. Quote request id \`${ctx.requestId}\`.`,
          );
        case "handed_off": {
          const { status, message } = outcome.summary;
          const mark = status === "accepted" ? "✅" : "⚠️";
          return messageBody(`${heading}\n${mark} ${status === "accepted" ? message : `Signal ${status}: ${message}`}`);
        }
      }
    },
    { ephemeral: false },
  );
}

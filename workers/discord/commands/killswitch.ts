import { saveKillSwitch, tellExecutor } from "../../../platform/execution/kill-switch";
import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { type InteractionResponse, messageBody } from "../respond";

export type KillswitchOptions = OptionsFor<typeof DEFINITIONS.killswitch>;

/** What a halt means to every member of the server, said in the channel with the halt. */
export const HALT_NOTICE =
  "Copying is paused for everyone: no signal or `/trade` places a new order. Stops, take-profits and exits already in place keep working.";
const RESUME_NOTICE = "Copying resumes with the next signal.";

/**
 * /killswitch (admins): halts or resumes all trading in the community. The
 * flag saved in D1 is the switch: the executor reads it before every fan-out
 * step and every order it sends, so once saved a halt holds even if the
 * executor cannot be told. Then the executor is told, which stops fan-outs
 * under way at once and cancels orders not yet sent. A halt that cannot be
 * saved says plainly that trading is not halted, and alerts; so does a halt
 * the executor could not be told about (it holds, but queued orders are
 * canceled as they come up rather than at once). Deferred: it touches D1 and
 * the Durable Object.
 */
export async function handleKillswitch(ctx: CommunityContext<KillswitchOptions>): Promise<InteractionResponse> {
  const halted = ctx.options.action === "halt";
  const reason = ctx.options.reason?.trim() || null;
  const actorId = ctx.member.user.id;
  const communityId = ctx.community.id;
  return ctx.defer(
    async () => {
      const saved = await saveKillSwitch(ctx.tenant, { halted, reason, actorId });
      if (!saved.ok) {
        ctx.logger.error("killswitch.not_saved", { alert: halted, communityId, halted, error: saved.error });
        return messageBody(
          halted
            ? `⚠️ The halt could not be saved, so trading is NOT halted. Run \`/killswitch action:halt\` again; operators have been alerted. (request id \`${ctx.requestId}\`)`
            : `⚠️ The resume could not be saved, so trading is still halted. Try again in a moment. (request id \`${ctx.requestId}\`)`,
        );
      }
      const executor = await tellExecutor(ctx.env, { communityId, halted, reason, actorId });
      const who = `<@${ctx.member.discordId}>`;
      const lines = [
        halted
          ? saved.changed
            ? ctx.community.halted
              ? `🛑 Trading stays halted; ${who} gave a new reason: ${reason}`
              : `🛑 Trading is halted by ${who}${reason ? `: ${reason}` : "."}`
            : "🛑 Trading was already halted."
          : saved.changed
            ? `▶️ Trading is resumed by ${who}.`
            : "▶️ Trading was not halted.",
      ];
      // The reply is public: it is how the members learn that copying stopped, and that their stops still hold.
      if (saved.changed) lines.push(halted ? HALT_NOTICE : RESUME_NOTICE);
      if (executor.ok && halted && executor.canceledOrders) {
        lines.push(`${executor.canceledOrders} order(s) not yet sent were canceled.`);
      }
      if (!executor.ok) {
        ctx.logger.error("killswitch.executor_unreachable", {
          alert: halted,
          communityId,
          halted,
          reason: executor.reason,
        });
        lines.push(
          halted
            ? `⚠️ The executor could not be told at once (${executor.reason}), but the halt is saved and in force: it is checked before every signal step and every order sent, so nothing new is placed, and orders already queued are canceled as they come up. Operators have been alerted. (request id \`${ctx.requestId}\`)`
            : `The executor could not be told at once (${executor.reason}); it reads the switch before every signal, so trading resumes anyway. (request id \`${ctx.requestId}\`)`,
        );
      }
      return messageBody(lines.join("\n"));
    },
    { ephemeral: false },
  );
}

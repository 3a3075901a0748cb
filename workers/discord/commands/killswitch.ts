import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { setExecutorHalted } from "../handoff";
import { type InteractionResponse, messageBody } from "../respond";

export type KillswitchOptions = OptionsFor<typeof DEFINITIONS.killswitch>;

/**
 * /killswitch (admins): halts or resumes all trading in the community. The
 * flag is written first (audited, so it holds even if the executor cannot be
 * reached), then the executor is told, which stops fan-outs under way and
 * cancels orders not yet sent. Deferred: it touches the Durable Object.
 */
export async function handleKillswitch(ctx: CommunityContext<KillswitchOptions>): Promise<InteractionResponse> {
  const halted = ctx.options.action === "halt";
  const reason = ctx.options.reason?.trim() || null;
  const actorId = ctx.member.user.id;
  return ctx.defer(
    async () => {
      const changed = await ctx.tenant.community.setHalted(halted, { actorId, reason });
      const executor = await setExecutorHalted(ctx.env, { communityId: ctx.community.id, halted, reason, actorId });
      const who = `<@${ctx.member.discordId}>`;
      const lines = [
        halted
          ? changed
            ? `🛑 Trading is halted by ${who}${reason ? `: ${reason}` : "."}`
            : "🛑 Trading was already halted."
          : changed
            ? `▶️ Trading is resumed by ${who}.`
            : "▶️ Trading was not halted.",
      ];
      if (executor.ok && halted && executor.canceledOrders) {
        lines.push(`${executor.canceledOrders} order(s) not yet sent were canceled.`);
      }
      if (!executor.ok) {
        ctx.logger.error("killswitch.executor_unreachable", { reason: executor.reason, communityId: ctx.community.id });
        lines.push(
          `The switch is saved, but the executor could not be told (${executor.reason}). Quote request id \`${ctx.requestId}\`.`,
        );
      }
      return messageBody(lines.join("\n"));
    },
    { ephemeral: false },
  );
}

import { executorFor } from "../../../platform/objects";
import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { type InteractionResponse, messageBody } from "../respond";

export type CancelOptions = OptionsFor<typeof DEFINITIONS.cancel>;

/** /cancel: the executor cancels one of the member's own open orders (deferred: it may call the broker). */
export async function handleCancel(ctx: CommunityContext<CancelOptions>): Promise<InteractionResponse> {
  const orderId = ctx.options.order.trim().replaceAll("`", "");
  return ctx.defer(
    async () => {
      const executor = executorFor(ctx.env, ctx.community.id);
      const answer = await executor.cancelOrder({ communityId: ctx.community.id, orderId, userId: ctx.member.user.id });
      return messageBody(answer.ok ? `✅ ${answer.message}` : `⚠️ ${answer.message}`, { ephemeral: true });
    },
    { ephemeral: true },
  );
}

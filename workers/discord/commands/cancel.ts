import { executorFor } from "../../../platform/objects";
import { orderRef } from "../../../shared/discord/format";
import { describeOrder } from "../../../shared/execution/order-label";
import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { ephemeral, type InteractionResponse, messageBody } from "../respond";

export type CancelOptions = OptionsFor<typeof DEFINITIONS.cancel>;

/** Orders /cancel looks through for a short reference: the member's newest. */
const SEARCHED = 1000;

/** "#DD0DB49E:stop", "dd0db49e:stop" → "#dd0db49e:stop" (the form orderRef gives). */
function asRef(typed: string): string {
  const text = typed.startsWith("#") ? typed.slice(1) : typed;
  const at = text.indexOf(":");
  return at === -1 ? `#${text.toLowerCase()}` : `#${text.slice(0, at).toLowerCase()}${text.slice(at)}`;
}

/**
 * /cancel: the executor cancels one of the member's own open orders (deferred: it may call the broker). The order is
 * its full id or its short reference from /orders, which must be unique among the member's orders (else it asks).
 */
export async function handleCancel(ctx: CommunityContext<CancelOptions>): Promise<InteractionResponse> {
  const typed = ctx.options.order.trim().replaceAll("`", "");
  const mine = await ctx.tenant.execution.listOrders({ userId: ctx.member.user.id, limit: SEARCHED });
  const exact = mine.find((o) => o.id === typed);
  const matches = exact ? [exact] : mine.filter((o) => orderRef(o.id) === asRef(typed));
  if (matches.length === 0) {
    return ephemeral(`You have no order ${asRef(typed)}. See your orders and their references with \`/orders\`.`);
  }
  if (matches.length > 1) {
    const which = matches.slice(0, 10).map((o) => `• \`${o.id}\` ${describeOrder(o)}`);
    return ephemeral(
      `Several of your orders are ${asRef(typed)}, so nothing was canceled. Which one? Cancel it from the menu in \`/orders\`, or give its full id:\n${which.join("\n")}`,
    );
  }
  return cancelOwnOrder(ctx, matches[0]?.id ?? typed);
}

/** The executor cancels the member's order (it checks the order is theirs); the deferred reply says how it went. */
export function cancelOwnOrder(ctx: CommunityContext<unknown>, orderId: string): InteractionResponse {
  return ctx.defer(
    async () => {
      const executor = executorFor(ctx.env, ctx.community.id);
      const answer = await executor.cancelOrder({ communityId: ctx.community.id, orderId, userId: ctx.member.user.id });
      return messageBody(answer.ok ? `✅ ${answer.message}` : `⚠️ ${answer.message}`, { ephemeral: true });
    },
    { ephemeral: true },
  );
}

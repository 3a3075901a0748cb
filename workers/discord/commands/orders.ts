import { describeOrder } from "../../../shared/execution/order-label";
import { type OrderStatus, UNSETTLED_STATUSES } from "../../../shared/orders/state-machine";
import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { ephemeral, type InteractionResponse } from "../respond";

export type OrdersOptions = OptionsFor<typeof DEFINITIONS.orders>;

const SHOWN = 15;
const FILTERS: Record<string, readonly OrderStatus[] | null> = {
  open: UNSETTLED_STATUSES,
  filled: ["filled"],
  canceled: ["canceled", "expired"],
  rejected: ["rejected", "failed"],
  all: null,
};

/** /orders: the member's recent orders, newest first, with the ids /cancel takes (ephemeral). */
export async function handleOrders(ctx: CommunityContext<OrdersOptions>): Promise<InteractionResponse> {
  const wanted = FILTERS[ctx.options.status ?? "all"] ?? null;
  const orders = (await ctx.tenant.execution.listOrders({ userId: ctx.member.user.id, limit: 200 }))
    .filter((o) => !wanted || wanted.includes(o.status))
    .slice(0, SHOWN);
  if (orders.length === 0) return ephemeral("You have no such orders in this community.");
  const lines = orders.map((o) => {
    const price = o.limitPrice ?? o.stopPrice;
    const fill = o.filledQuantity > 0 ? `, filled ${o.filledQuantity} @ ${o.averageFillPrice}` : "";
    const why = o.statusReason ? ` (${o.statusReason})` : "";
    return `• \`${o.id}\` ${describeOrder({ ...o, leg: "entry" })}${price ? ` ${price}` : ""} [${o.leg}] — **${o.status.replaceAll("_", " ")}**${why}${fill}`;
  });
  return ephemeral(`**Your recent orders**\n${lines.join("\n")}`);
}

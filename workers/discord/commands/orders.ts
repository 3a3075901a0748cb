import { signComponentId } from "../../../shared/discord/components";
import { orderRef, statusLabel } from "../../../shared/discord/format";
import { describeOrder, filledPart } from "../../../shared/execution/order-label";
import type { OrderRow } from "../../../shared/execution/orders";
import { type OrderStatus, UNSETTLED_STATUSES } from "../../../shared/orders/state-machine";
import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { embedFieldValue, ephemeral, type InteractionResponse } from "../respond";

export type OrdersOptions = OptionsFor<typeof DEFINITIONS.orders>;

/** The select menu of /orders: the member picks one of their own open orders to cancel. */
export const CANCEL_MENU_KIND = "cancel";

const SHOWN = 15;
/** Discord: a select menu holds at most 25 options, each label at most 100 characters. */
const MENU_OPTIONS_MAX = 25;
const MENU_LABEL_MAX = 100;
const EMBED_COLOR = 0x5865f2;

const FILTERS: Record<string, readonly OrderStatus[] | null> = {
  open: UNSETTLED_STATUSES,
  filled: ["filled"],
  canceled: ["canceled", "expired"],
  rejected: ["rejected", "failed"],
  all: null,
};

const SECTIONS: { name: string; statuses: readonly OrderStatus[] }[] = [
  { name: "Working", statuses: UNSETTLED_STATUSES },
  { name: "Filled", statuses: ["filled"] },
  { name: "Cancelled or not placed", statuses: ["canceled", "expired", "rejected", "failed"] },
];

/** One order as a line of /orders: its short reference, what it is, and its state in words. */
function orderLine(order: OrderRow): string {
  const fill = order.filledQuantity > 0 && order.status !== "filled" ? `, filled ${filledPart(order)}` : "";
  const why = order.statusReason ? ` (${order.statusReason})` : "";
  return `\`${orderRef(order.id)}\` ${describeOrder(order)} — ${statusLabel(order.status)}${why}${fill}`;
}

/**
 * /orders: the member's recent orders, newest first, as an embed with working, filled and cancelled sections, each
 * order by its short reference; a select menu cancels one of the open ones (ephemeral: personal data).
 */
export async function handleOrders(ctx: CommunityContext<OrdersOptions>): Promise<InteractionResponse> {
  const wanted = FILTERS[ctx.options.status ?? "all"] ?? null;
  const orders = (await ctx.tenant.execution.listOrders({ userId: ctx.member.user.id, limit: 200 }))
    .filter((o) => !wanted || wanted.includes(o.status))
    .slice(0, SHOWN);
  if (orders.length === 0) return ephemeral("You have no such orders in this community.");
  const fields = SECTIONS.map((section) => ({
    name: section.name,
    lines: orders.filter((o) => section.statuses.includes(o.status)).map(orderLine),
  }))
    .filter((section) => section.lines.length > 0)
    .map((section) => ({ name: section.name, value: embedFieldValue(section.lines) }));
  const embed = {
    title: "Your recent orders",
    color: EMBED_COLOR,
    fields,
    footer: { text: "Cancel one with the menu below or /cancel order:#reference." },
  };
  const open = orders.filter((o) => UNSETTLED_STATUSES.includes(o.status)).slice(0, MENU_OPTIONS_MAX);
  const secret = ctx.config.SESSION_SECRET;
  if (open.length === 0 || !secret) return ephemeral("", [], [embed]);
  const customId = await signComponentId(secret, { kind: CANCEL_MENU_KIND, action: "pick", id: ctx.interaction.id });
  const menu = {
    type: 1,
    components: [
      {
        type: 3,
        custom_id: customId,
        placeholder: "Cancel an open order…",
        min_values: 1,
        max_values: 1,
        options: open.map((o) => ({
          label: `${orderRef(o.id)} ${describeOrder(o)}`.slice(0, MENU_LABEL_MAX),
          value: o.id,
        })),
      },
    ],
  };
  return ephemeral("", [menu], [embed]);
}

import { notifyMember } from "../../platform/notifications/notify-member";
import { configFor } from "../../shared/config";
import { signComponentId } from "../../shared/discord/components";
import type { EventSink } from "../../shared/execution/events";
import { CONFIRM_WINDOW_SECONDS } from "../../shared/execution/follow-mode";
import type { NewOrder } from "../../shared/execution/orders";
import type { Logger } from "../../shared/logging";
import { describeOrder } from "./order-flow";

/** How long a confirm-mode follower has to confirm an order. */
export const CONFIRM_TIMEOUT_MS = CONFIRM_WINDOW_SECONDS * 1000;

/** Confirm mode: the member gets the order with Confirm and Cancel buttons, valid until the deadline. */
export async function askToConfirm(
  deps: { env: Env; events: EventSink },
  logger: Logger,
  communityId: string,
  order: NewOrder,
): Promise<void> {
  const secret = configFor(deps.env);
  const sessionSecret = secret.ok ? secret.config.SESSION_SECRET : undefined;
  if (!sessionSecret) {
    logger.error("order.confirm_unavailable", { communityId, orderId: order.id, reason: "SESSION_SECRET missing" });
    return;
  }
  const lifetimeSeconds = CONFIRM_TIMEOUT_MS / 1000;
  const [confirm, cancel] = await Promise.all([
    signComponentId(sessionSecret, { kind: "order", action: "confirm", id: order.id }, { lifetimeSeconds }),
    signComponentId(sessionSecret, { kind: "order", action: "cancel", id: order.id }, { lifetimeSeconds }),
  ]);
  await notifyMember(deps, communityId, order.userId, `order:${order.id}:confirm`, {
    content: `🔔 Confirm your order: ${describeOrder(order)}. It is canceled if not confirmed within ${lifetimeSeconds} seconds.`,
    components: [
      {
        type: 1,
        components: [
          { type: 2, style: 3, label: "Confirm", custom_id: confirm },
          { type: 2, style: 4, label: "Cancel", custom_id: cancel },
        ],
      },
    ],
  });
}

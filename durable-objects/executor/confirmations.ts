import type { TenantRepository } from "../../platform/db/tenant/for-community";
import { configFor } from "../../shared/config";
import { badged } from "../../shared/discord/badge";
import { confirmationButtons } from "../../shared/discord/components";
import { CONFIRM_WINDOW_SECONDS } from "../../shared/execution/follow-mode";
import { describeOrder } from "../../shared/execution/order-label";
import type { NewOrder, OrderRow } from "../../shared/execution/orders";
import type { Logger } from "../../shared/logging";
import { confirmRequestMessage } from "../../shared/notifications/order-messages";
import { opensExposure } from "../../shared/orders/legs";
import type { HeldPositions } from "./held-positions";
import type { KillSwitch } from "./kill-switch";
import type { ExecutorLocalState } from "./local-state";
import { type OrderBadges, subjectOf } from "./order-badges";
import type { OrderDispatch } from "./order-dispatch";
import type { OrderFlows } from "./order-flows";
import { confirmedEntry, type OrderOutbox } from "./outbox";

/** How long a confirm-mode follower has to confirm an order. */
export const CONFIRM_TIMEOUT_MS = CONFIRM_WINDOW_SECONDS * 1000;

/** Confirm mode: the member gets the order with Confirm and Cancel buttons, valid until the deadline. */
export async function askToConfirm(
  env: Env,
  badges: OrderBadges,
  logger: Logger,
  communityId: string,
  order: NewOrder,
): Promise<void> {
  const secret = configFor(env);
  const sessionSecret = secret.ok ? secret.config.SESSION_SECRET : undefined;
  if (!sessionSecret) {
    logger.error("order.confirm_unavailable", { communityId, orderId: order.id, reason: "SESSION_SECRET missing" });
    return;
  }
  const lifetimeSeconds = CONFIRM_TIMEOUT_MS / 1000;
  await badges.tell(communityId, subjectOf(order), `order:${order.id}:confirm`, {
    content: confirmRequestMessage(order, lifetimeSeconds),
    components: await confirmationButtons(sessionSecret, order.id, lifetimeSeconds),
  });
}

export interface ConfirmationParts {
  env(): Env;
  local: ExecutorLocalState;
  killSwitch: KillSwitch;
  outbox: OrderOutbox;
  dispatch: OrderDispatch;
  flows: OrderFlows;
  badges: OrderBadges;
  held: HeldPositions;
  tenant(communityId: string): TenantRepository;
}

/**
 * Confirm-mode orders after they are stored: the member's answer (only the order's owner, only once), and the
 * deadline, after which an unanswered order is canceled.
 */
export class Confirmations {
  constructor(private readonly parts: ConfirmationParts) {}

  async answer(input: { communityId: string; orderId: string; userId: string; decision: "confirm" | "cancel" }) {
    const { local, killSwitch, outbox, dispatch } = this.parts;
    const tenant = this.parts.tenant(input.communityId);
    const order = await tenant.execution.getOrder(input.orderId);
    if (!order || order.userId !== input.userId) {
      return { ok: false, message: "This order is not yours or no longer exists." };
    }
    const pending = local.takeConfirmation(input.orderId);
    if (!pending || order.status !== "queued") {
      return { ok: false, message: "This order is no longer waiting for your confirmation." };
    }
    const badge = await this.parts.badges.badgeFor(input.communityId, subjectOf(order));
    if (input.decision === "cancel" || (opensExposure(order) && (await killSwitch.isHalted(tenant)))) {
      await this.cancelUnsent(tenant, order, input.decision === "cancel" ? "canceled_by_member" : "kill_switch");
      const why = input.decision === "cancel" ? "you canceled it" : "trading is halted in this server";
      // An exit canceled leaves the position open: the member is told so, with [Close now] and [Keep].
      if (!opensExposure(order) && (await this.parts.held.offer(input.communityId, order, why))) {
        return {
          ok: true,
          message: badged(badge, `🚫 Canceled: ${describeOrder(order)}. See below: you still hold the position.`),
        };
      }
      return {
        ok: true,
        message: badged(badge, `🚫 Canceled: ${describeOrder(order)}. Nothing was sent to the broker (${why}).`),
      };
    }
    // Staged first: if the send fails, the sweeper sends it (the confirmation itself is already taken).
    const batch = outbox.stage(
      {
        communityId: input.communityId,
        signalId: order.signalId,
        phase: "stored",
        orders: [confirmedEntry(order)],
        paused: [],
      },
      Date.now(),
    );
    await dispatch.deliver(batch);
    return {
      ok: true,
      message: badged(badge, `👍 Confirmed: ${describeOrder(order)}. It is on its way to the broker.`),
    };
  }

  /** Orders whose member did not answer in time are canceled, and the member told. */
  async expire(tenant: TenantRepository, now: number): Promise<void> {
    const { local } = this.parts;
    for (const orderId of local.dueConfirmations(now)) {
      if (!local.takeConfirmation(orderId)) continue;
      const order = await tenant.execution.getOrder(orderId);
      if (order?.status !== "queued") continue;
      const canceled = await this.cancelUnsent(tenant, order, "confirmation_timeout");
      const why = `not confirmed within ${CONFIRM_WINDOW_SECONDS} seconds`;
      if (canceled && !opensExposure(order) && (await this.parts.held.offer(tenant.communityId, order, why))) continue;
      if (canceled) {
        await this.parts.badges.tell(
          tenant.communityId,
          subjectOf(order),
          `order:${order.id}:confirm_timeout`,
          `⌛ Not confirmed in time, so canceled: ${describeOrder(order)}. Nothing was sent to the broker.`,
        );
      }
    }
  }

  /** Cancels an order still queued here (never sent), releasing its reservation; null when it moved on. */
  async cancelUnsent(tenant: TenantRepository, order: OrderRow, cause: string): Promise<OrderRow | null> {
    const canceled = await tenant.execution.transition(order.id, {
      from: ["queued"],
      to: "canceled",
      cause,
      patch: { statusReason: cause.replaceAll("_", " ") },
    });
    this.parts.local.release([order.id]);
    if (canceled) await this.parts.flows.publish(tenant, canceled);
    return canceled;
  }
}

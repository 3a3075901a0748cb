import type { TenantRepository } from "../../platform/db/tenant/for-community";
import { configFor } from "../../shared/config";
import { heldPositionButtons } from "../../shared/discord/components";
import { type DescribableOrder, orderInstrument, orderInstrumentKey } from "../../shared/execution/order-label";
import type { OrderRow } from "../../shared/execution/orders";
import type { Logger } from "../../shared/logging";
import {
  closingHeldMessage,
  exitNotTakenMessage,
  type HeldPosition,
  keptHeldMessage,
} from "../../shared/notifications/order-messages";
import { clientOrderId } from "../../shared/orders/client-order-id";
import { utcDay } from "../../shared/risk/daily-loss";
import { closeOrderFor, type OpenToClose, openToClose } from "./close-orders";
import type { ExecutorLocalState } from "./local-state";
import { type OrderBadges, subjectOf } from "./order-badges";
import type { OrderDispatch } from "./order-dispatch";
import type { OrderOutbox } from "./outbox";
import type { PaperDesk } from "./paper-desk";

/** How long [Close now] and [Keep] work: a day, long enough to be seen; after it the member closes with /trade. */
export const HELD_OFFER_HOURS = 24;
const HELD_OFFER_MS = HELD_OFFER_HOURS * 3_600_000;

export interface HeldPositionParts {
  env(): Env;
  logger: Logger;
  local: ExecutorLocalState;
  paper: PaperDesk;
  outbox: OrderOutbox;
  dispatch: OrderDispatch;
  badges: OrderBadges;
  tenant(communityId: string): TenantRepository;
}

type Answer = "close" | "keep";

/**
 * An exit the member did not take leaves them holding the position: they are told so, with [Close now] and [Keep].
 * Each offer is answered once (a second press, or the other button, changes nothing), and [Close now] closes what
 * is left of the position at market, reduce-only, through the same outbox as every order.
 */
export class HeldPositions {
  constructor(
    private readonly parts: HeldPositionParts,
    private readonly sql: SqlStorage,
  ) {
    sql.exec(
      `create table if not exists held_offers (order_id text primary key, user_id text not null,
        instrument text not null, expires_at integer not null, answer text)`,
    );
  }

  /**
   * After an exit was not taken (`why`: "you canceled it", "not confirmed within 30 seconds"): when the member still
   * holds its position, the offer is made and true returned; false when nothing is held (the caller says so).
   */
  async offer(communityId: string, exit: OrderRow, why: string): Promise<boolean> {
    const held = this.heldFor(exit.userId, orderInstrumentKey(exit));
    if (!held) return false;
    const now = Date.now();
    this.sql.exec("delete from held_offers where expires_at < ?", now - HELD_OFFER_MS);
    this.sql.exec(
      "insert or ignore into held_offers (order_id, user_id, instrument, expires_at) values (?, ?, ?, ?)",
      exit.id,
      exit.userId,
      held.key,
      now + HELD_OFFER_MS,
    );
    const config = configFor(this.parts.env());
    const secret = config.ok ? config.config.SESSION_SECRET : undefined;
    const content = exitNotTakenMessage(exit, why, heldPosition(exit, held), HELD_OFFER_HOURS);
    if (!secret) this.parts.logger.error("held.buttons_unavailable", { communityId, reason: "SESSION_SECRET missing" });
    await this.parts.badges.tell(communityId, subjectOf(exit), `order:${exit.id}:held`, {
      content,
      components: secret ? await heldPositionButtons(secret, exit.id, HELD_OFFER_MS / 1000) : [],
    });
    return true;
  }

  /** [Close now] or [Keep] on an offer; only its member, only once. */
  async answer(input: { communityId: string; orderId: string; userId: string; decision: Answer }) {
    const tenant = this.parts.tenant(input.communityId);
    const exit = await tenant.execution.getOrder(input.orderId);
    if (!exit || exit.userId !== input.userId) {
      return { ok: false, message: "This position is not yours or no longer exists." };
    }
    // One close per offer, whatever happens: its client order id is the exit's, so the broker refuses a second.
    const closeId = await clientOrderId({
      communityId: input.communityId,
      signalId: exit.id,
      followerId: input.userId,
      leg: "close_now",
    });
    // Synchronous from the answer to the staged close: two presses cannot both close.
    const now = Date.now();
    const [taken] = this.sql
      .exec<{ instrument: string }>(
        `update held_offers set answer = ? where order_id = ? and user_id = ? and answer is null and expires_at > ?
          returning instrument`,
        input.decision,
        input.orderId,
        input.userId,
        now,
      )
      .toArray();
    if (!taken) return { ok: false, message: this.alreadyAnswered(input.orderId) };
    const held = this.heldFor(input.userId, taken.instrument);
    if (!held) return { ok: true, message: "Nothing to close: you no longer hold this position." };
    if (input.decision === "keep") return { ok: true, message: keptHeldMessage(heldPosition(exit, held)) };

    const { planned: close, closing } = closeOrderFor(held, {
      signalId: exit.signalId,
      userId: input.userId,
      leg: "exit",
      cause: "closed_by_member",
    });
    const planned = { ...close, clientOrderId: closeId };
    this.parts.local.reserve(
      [
        {
          orderId: planned.id,
          userId: input.userId,
          reservation: { notional: 0, openPositions: 0, symbol: null, closing },
        },
      ],
      now,
    );
    const batch = this.parts.outbox.stage(
      { communityId: input.communityId, signalId: exit.signalId, phase: "planned", orders: [planned], paused: [] },
      now,
    );
    await this.parts.dispatch.deliver(batch);
    this.parts.logger.info("held.closed_by_member", { communityId: input.communityId, orderId: planned.id });
    return { ok: true, message: closingHeldMessage(planned) };
  }

  private alreadyAnswered(orderId: string): string {
    const [row] = this.sql
      .exec<{ answer: string | null }>("select answer from held_offers where order_id = ?", orderId)
      .toArray();
    if (row?.answer === "close") return "Already done: this position is being closed.";
    if (row?.answer === "keep") return "Already done: you chose to keep this position.";
    return "These buttons have expired, so nothing was done. Close the position with /trade if you still want to.";
  }

  /** What is left of the member's position in this instrument, after exits in flight. */
  private heldFor(userId: string, instrument: string): OpenToClose | null {
    const now = Date.now();
    const member = this.parts.local.membersState([userId], utcDay(now), now).get(userId);
    const closing = member?.reserved.closing ?? {};
    return openToClose(this.parts.paper.positions(userId), { closing }).find((p) => p.key === instrument) ?? null;
  }
}

function heldPosition(order: DescribableOrder, held: OpenToClose): HeldPosition {
  return { instrument: orderInstrument(order), direction: held.position.direction, quantity: held.open };
}

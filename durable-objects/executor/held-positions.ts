import type { TenantRepository } from "../../platform/db/tenant/for-community";
import { configFor } from "../../shared/config";
import { heldPositionButtons } from "../../shared/discord/components";
import { type DescribableOrder, orderInstrument, orderInstrumentKey } from "../../shared/execution/order-label";
import type { OrderRow } from "../../shared/execution/orders";
import type { Logger } from "../../shared/logging";
import {
  closingHeldMessage,
  exitNotCopiedMessage,
  exitNotTakenMessage,
  type HeldPosition,
  keptHeldMessage,
} from "../../shared/notifications/order-messages";
import { clientOrderId } from "../../shared/orders/client-order-id";
import { type Instrument, instrumentKey } from "../../shared/quotes/instrument";
import { utcDay } from "../../shared/risk/daily-loss";
import { closeOrderFor, type OpenToClose, openToClose } from "./close-orders";
import type { ExecutorLocalState } from "./local-state";
import { type BadgeSubject, type OrderBadges, subjectOf } from "./order-badges";
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

/** An exit copy the risk engine refused for a member who holds its position (there is no order to name). */
export interface RefusedExit {
  signalId: string;
  userId: string;
  instrument: Instrument;
  /** The provider's username (without @), null when not known. */
  provider: string | null;
  /** The signal as the member reads it: "SELL 50% AAPL". */
  signal: string;
  /** The engine's sentence for this member, and its skip reason. */
  message: string;
  reason: string;
  mode: BadgeSubject["mode"];
}

/** Characters of the position's digest in an offer id: a signal id (36) + "-" + these fits a custom_id's 48. */
const OFFER_DIGEST_LENGTH = 11;

/**
 * The id [Close now] and [Keep] are signed over when no order names the position: the signal id, then a digest of
 * the community, the member, the instrument and the signal, so each button is bound to that one position.
 */
export async function positionOfferId(communityId: string, userId: string, instrument: string, signalId: string) {
  const digest = await clientOrderId({ communityId, signalId, followerId: userId, leg: `held:${instrument}` });
  return `${signalId}-${digest.slice(0, OFFER_DIGEST_LENGTH)}`;
}

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
    // Offers over a position (no exit order) keep the signal their close belongs to.
    const columns = sql.exec<{ name: string }>("pragma table_info(held_offers)").toArray();
    if (!columns.some((c) => c.name === "signal_id")) sql.exec("alter table held_offers add column signal_id text");
  }

  /** Whether the member holds this instrument, after exits in flight (synchronous: read while a step is planned). */
  holds(userId: string, instrument: Instrument): boolean {
    return this.heldFor(userId, instrumentKey(instrument)) !== null;
  }

  /**
   * An exit copy the risk engine refused (a trim that rounds to nothing, any refusal of an exit): the member is told
   * they still hold the position and why, with [Close now] and [Keep] signed over the position. Once per signal per
   * member; false when nothing is held any more (the caller tells the plain skip).
   */
  async offerRefusedExit(communityId: string, refused: RefusedExit): Promise<boolean> {
    const key = instrumentKey(refused.instrument);
    const held = this.heldFor(refused.userId, key);
    if (!held) return false;
    const offerId = await positionOfferId(communityId, refused.userId, key, refused.signalId);
    const now = Date.now();
    this.sql.exec("delete from held_offers where expires_at < ?", now - HELD_OFFER_MS);
    this.sql.exec(
      `insert or ignore into held_offers (order_id, user_id, instrument, expires_at, signal_id)
        values (?, ?, ?, ?, ?)`,
      offerId,
      refused.userId,
      key,
      now + HELD_OFFER_MS,
      refused.signalId,
    );
    const content = exitNotCopiedMessage(refused, positionHeld(held), HELD_OFFER_HOURS);
    const subject = { userId: refused.userId, signalId: refused.signalId, mode: refused.mode };
    await this.parts.badges.tell(communityId, subject, `held:${refused.signalId}:${refused.userId}`, {
      content,
      components: await this.buttons(communityId, offerId),
    });
    return true;
  }

  private async buttons(communityId: string, offerId: string): Promise<Record<string, unknown>[]> {
    const config = configFor(this.parts.env());
    const secret = config.ok ? config.config.SESSION_SECRET : undefined;
    if (secret) return heldPositionButtons(secret, offerId, HELD_OFFER_MS / 1000);
    this.parts.logger.error("held.buttons_unavailable", { communityId, reason: "SESSION_SECRET missing" });
    return [];
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
    const content = exitNotTakenMessage(exit, why, heldPosition(exit, held), HELD_OFFER_HOURS);
    await this.parts.badges.tell(communityId, subjectOf(exit), `order:${exit.id}:held`, {
      content,
      components: await this.buttons(communityId, exit.id),
    });
    return true;
  }

  /** [Close now] or [Keep] on an offer; only its member, only once. */
  async answer(input: { communityId: string; orderId: string; userId: string; decision: Answer }) {
    const tenant = this.parts.tenant(input.communityId);
    const exit = await tenant.execution.getOrder(input.orderId);
    const [offer] = exit
      ? []
      : this.sql
          .exec<{ user_id: string; signal_id: string | null }>(
            "select user_id, signal_id from held_offers where order_id = ?",
            input.orderId,
          )
          .toArray();
    if (exit ? exit.userId !== input.userId : offer?.user_id !== input.userId) {
      return { ok: false, message: "Only the member who holds this position can close or keep it." };
    }
    const signalId = exit ? exit.signalId : (offer?.signal_id ?? null);
    // One close per offer, whatever happens: its client order id is the offer's, so the broker refuses a second.
    const closeId = await clientOrderId({
      communityId: input.communityId,
      signalId: input.orderId,
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
    if (input.decision === "keep") {
      return { ok: true, message: keptHeldMessage(exit ? heldPosition(exit, held) : positionHeld(held)) };
    }

    const { planned: close, closing } = closeOrderFor(held, {
      signalId,
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
      { communityId: input.communityId, signalId, phase: "planned", orders: [planned], paused: [] },
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

/** The position as the member reads it, from what they hold (an offer with no order to name it). */
function positionHeld(held: OpenToClose): HeldPosition {
  const { position } = held;
  const instrument: Instrument = {
    assetClass: position.assetClass,
    symbol: position.option ? position.option.underlying : position.symbol,
    option: position.option ?? null,
  };
  return { instrument, direction: position.direction, quantity: held.open };
}

import type { TenantRepository } from "../../platform/db/tenant/for-community";
import { type AccountMode, accountModeOf } from "../../shared/discord/badge";
import {
  type CloseTarget,
  closeTargetCovers,
  closeTargetName,
  type MemberCloseDone,
  type MemberCloseInput,
  MemberCloseInputSchema,
  type MemberCloseOutcome,
} from "../../shared/execution/member-close";
import { describeOrder, orderInstrument } from "../../shared/execution/order-label";
import type { OrderRow } from "../../shared/execution/orders";
import type { Logger } from "../../shared/logging";
import { opensExposure } from "../../shared/orders/legs";
import { isWorking } from "../../shared/orders/state-machine";
import { utcDay } from "../../shared/risk/daily-loss";
import { closeOrderFor, openToClose } from "./close-orders";
import type { Confirmations } from "./confirmations";
import { withdrawExit } from "./exit-sync";
import type { ExecutorLocalState } from "./local-state";
import type { OrderDispatch } from "./order-dispatch";
import type { OrderFlows } from "./order-flows";
import type { OrderOutbox } from "./outbox";
import { PAPER_ACCOUNT_REF, type PaperDesk } from "./paper-desk";

export interface MemberCloseParts {
  local: ExecutorLocalState;
  paper: PaperDesk;
  outbox: OrderOutbox;
  dispatch: Pick<OrderDispatch, "deliver">;
  flows: Pick<OrderFlows, "for" | "sendsSettled">;
  confirmations: Pick<Confirmations, "cancelUnsent">;
  logger: Logger;
  tenant(communityId: string): TenantRepository;
}

/** The cause on every order /close sends or cancels. */
const CAUSE = "closed_by_member";
const REASON = "closed with /close";
/** How long a close's answer is kept for its replays. */
const OUTCOME_MEMORY_MS = 7 * 24 * 3600_000;

/**
 * `/close`: a member flattens their own positions in one symbol, or all of them. First the member's working orders on
 * it are canceled (entries not filled, stops, take-profits, resting exits, exits awaiting their confirmation), so
 * nothing is left that could open the position again or outlive it; market exits already on their way are left to
 * finish. Then what is still held, less what those exits close, is closed by reduce-only market orders (the same
 * orders a flatten and [Close now] send), reserved and staged through the outbox in one synchronous step. It only
 * reduces exposure, so it runs under a halt, a pause, a lock or a suspension. The source id (the interaction's id)
 * is the key: the same close asked again answers the first answer and sends nothing.
 */
export class MemberCloses {
  constructor(
    private readonly sql: SqlStorage,
    private readonly parts: MemberCloseParts,
  ) {
    sql.exec(
      `create table if not exists member_closes (source_id text primary key, user_id text not null, outcome text,
        at integer not null)`,
    );
  }

  async close(raw: unknown): Promise<MemberCloseOutcome> {
    const parsed = MemberCloseInputSchema.safeParse(raw);
    if (!parsed.success) return { status: "refused", code: "INVALID_INPUT", message: parsed.error.message };
    const input = parsed.data;
    const tenant = this.parts.tenant(input.communityId);
    // Claimed before any await, so two copies of one close arriving together cannot both act.
    const [claimed] = this.sql
      .exec<{ source_id: string }>(
        `insert into member_closes (source_id, user_id, at) values (?, ?, ?)
          on conflict(source_id) do nothing returning source_id`,
        input.sourceId,
        input.userId,
        Date.now(),
      )
      .toArray();
    if (!claimed) return this.answeredBefore(input);
    let outcome: MemberCloseDone;
    try {
      outcome = await this.run(tenant, input);
    } catch (error) {
      // A retry may act again: what this run staged is reserved, so it is not closed twice.
      this.sql.exec("delete from member_closes where source_id = ? and outcome is null", input.sourceId);
      throw error;
    }
    this.sql.exec("update member_closes set outcome = ? where source_id = ?", JSON.stringify(outcome), input.sourceId);
    return outcome;
  }

  /** /privacy delete: the member's remembered closes go with the rest of their data here. */
  forget(userId: string): void {
    this.sql.exec("delete from member_closes where user_id = ?", userId);
  }

  /** Forgets closes older than a week (one cut off by a restart with them: its orders were staged or never were). */
  prune(now: number): void {
    this.sql.exec("delete from member_closes where at < ?", now - OUTCOME_MEMORY_MS);
  }

  private answeredBefore(input: MemberCloseInput): MemberCloseOutcome {
    const [row] = this.sql
      .exec<{ user_id: string; outcome: string | null }>(
        "select user_id, outcome from member_closes where source_id = ?",
        input.sourceId,
      )
      .toArray();
    if (row && row.user_id !== input.userId) {
      return { status: "refused", code: "INVALID_INPUT", message: "That source id is another member's close." };
    }
    if (!row?.outcome) return { status: "in_progress", duplicate: true };
    return { ...(JSON.parse(row.outcome) as MemberCloseDone), duplicate: true };
  }

  private async run(tenant: TenantRepository, input: MemberCloseInput): Promise<MemberCloseDone> {
    const { target, userId } = input;
    const covered = (await tenant.execution.unsettledOrdersOf(userId)).filter((order) =>
      closeTargetCovers(target, orderInstrument(order)),
    );
    const alreadyClosing = covered.filter(isMarketExitOnItsWay);
    const canceled: OrderRow[] = [];
    const notCanceled: OrderRow[] = [];
    for (const order of covered.filter((order) => !isMarketExitOnItsWay(order))) {
      ((await this.cancel(tenant, order)) ? canceled : notCanceled).push(order);
    }
    // A send under way in this object may still fill an order just canceled: its outcome is recorded first, so the
    // positions read next include it.
    await this.parts.flows.sendsSettled();

    // Synchronous from the read of the positions to the staged closes: what exits in flight close is counted once.
    const now = Date.now();
    const closing = this.parts.local.membersState([userId], utcDay(now), now).get(userId)?.reserved.closing ?? {};
    const held = this.parts.paper.positions(userId).filter((position) =>
      closeTargetCovers(target, {
        assetClass: position.assetClass,
        symbol: position.option ? position.option.underlying : position.symbol,
        option: position.option ?? null,
      }),
    );
    const closes = openToClose(held, { closing }).map((toClose) =>
      closeOrderFor(toClose, { signalId: null, userId, leg: "exit", cause: CAUSE }),
    );
    if (closes.length > 0) {
      this.parts.local.reserve(
        closes.map(({ planned, closing: units }) => ({
          orderId: planned.id,
          userId,
          reservation: { notional: 0, openPositions: 0, symbol: null, closing: units },
        })),
        now,
      );
      const batch = this.parts.outbox.stage(
        {
          communityId: input.communityId,
          signalId: null,
          phase: "planned",
          orders: closes.map(({ planned }) => planned),
          paused: [],
        },
        now,
      );
      await this.parts.dispatch.deliver(batch);
    }

    const sent = closes.map(({ planned }) => planned);
    if (sent.length + canceled.length > 0) {
      await tenant.audit.append({
        event: "trading.positions_closed",
        actorId: userId,
        target: userId,
        data: {
          sourceId: input.sourceId,
          symbol: targetWords(target),
          sent: sent.map((order) => order.id),
          canceled: canceled.map((order) => order.id),
          alreadyClosing: alreadyClosing.map((order) => order.id),
        },
      });
    }
    this.parts.logger.info("close.by_member", {
      communityId: input.communityId,
      userId,
      sent: sent.length,
      canceled: canceled.length,
      alreadyClosing: alreadyClosing.length,
      notCanceled: notCanceled.length,
    });
    const acted = sent.length + canceled.length + alreadyClosing.length + notCanceled.length > 0;
    return {
      status: acted ? "closing" : "nothing_to_close",
      duplicate: false,
      mode: accountOf(sent),
      sent: sent.map(describeOrder),
      canceled: canceled.map(describeOrder),
      alreadyClosing: alreadyClosing.map(describeOrder),
      notCanceled: notCanceled.map(describeOrder),
    };
  }

  /**
   * Takes one working order off: canceled here if still queued (a confirmation it waited for withdrawn), else at the
   * broker. False when it could not be (it filled meanwhile, or the broker still has it working).
   */
  private async cancel(tenant: TenantRepository, order: OrderRow): Promise<boolean> {
    let current = order;
    if (current.status === "queued") {
      this.parts.local.takeConfirmation(current.id);
      if (await this.parts.confirmations.cancelUnsent(tenant, current, CAUSE)) return true;
      const moved = await tenant.execution.getOrder(current.id);
      if (!moved || !isWorking(moved.status)) return false;
      current = moved;
    }
    const flow = this.parts.flows.for(tenant.communityId, tenant, current.userId);
    return (await withdrawExit(flow, current, { cause: CAUSE, reason: REASON, data: {} })) === "withdrawn";
  }
}

/**
 * A market order that only reduces a position and is on its way (not waiting for the member's confirmation): left to
 * finish, its closing reservation keeps the close from selling the same units again.
 */
function isMarketExitOnItsWay(order: OrderRow): boolean {
  if (opensExposure(order) || order.orderType !== "market") return false;
  return !(order.status === "queued" && order.intent.awaitingConfirmation === true);
}

/** The account the closes went to; with none sent, the account the positions were read from (the paper desk's). */
function accountOf(sent: readonly { broker: string }[]): AccountMode {
  return accountModeOf(sent[0] ?? { broker: PAPER_ACCOUNT_REF });
}

function targetWords(target: CloseTarget): string {
  return closeTargetName(target) ?? "all";
}

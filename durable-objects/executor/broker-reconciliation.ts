import type { TenantRepository } from "../../platform/db/tenant/for-community";
import { describeOrder } from "../../shared/execution/order-label";
import type { OrderRow } from "../../shared/execution/orders";
import type { ReconcileReport } from "../../shared/execution/outcomes";
import { isWorking } from "../../shared/orders/state-machine";
import { LATE_FILL_WINDOW_MS } from "../../shared/orders/timing";
import { instrumentKey } from "../../shared/quotes/instrument";
import { restoreMissingExits } from "./engine-exits";
import { expireMarketRemainder } from "./fill-tracking";
import { adoptIfPlaced, applyBrokerOrder, type OrderFlowContext } from "./order-flow";
import type { OrderFlows } from "./order-flows";
import { PAPER_ACCOUNT_REF, type PaperDesk } from "./paper-desk";
import { resendQueuedWithoutMessage, type SweeperParts, sweep } from "./sweeper";

/** An order pending longer than this is flagged as stale. */
const STALE_ORDER_MS = 3600_000;

export interface ReconciliationParts extends SweeperParts {
  paper: PaperDesk;
  flows: OrderFlows;
}

/**
 * Reconciliation (the 5-minute cron): first the sweeper's backstops (fan-outs, outbox batches and queued orders a
 * failure left behind), then every order still open or recently ended is polled at the broker: fills that arrived
 * after we canceled are adopted, orders pending for over an hour flagged, entries that filled without their exits
 * given them, and positions at the broker that we do not know reported.
 */
export async function reconcile(parts: ReconciliationParts, tenant: TenantRepository): Promise<ReconcileReport> {
  const now = Date.now();
  const report: ReconcileReport = {
    checked: 0,
    updated: 0,
    stale: 0,
    adopted: 0,
    errors: 0,
    resent: 0,
    unknownPositions: [],
  };
  await sweep(parts, tenant, now);
  report.resent = await resendQueuedWithoutMessage(parts, tenant, now);
  for (const order of await tenant.execution.reconcilable(now - LATE_FILL_WINDOW_MS)) {
    await pollOrder(parts, parts.flows.for(tenant.communityId, tenant, order.userId), order, report, now);
  }
  const flowFor = (userId: string) => parts.flows.for(tenant.communityId, tenant, userId);
  await restoreMissingExits(tenant, now - LATE_FILL_WINDOW_MS, flowFor);
  report.unknownPositions = await unknownPaperPositions(parts, tenant);
  for (const unknown of report.unknownPositions) {
    parts.logger.error("position.unknown_at_broker", { alert: true, communityId: tenant.communityId, ...unknown });
  }
  return report;
}

/** One order against the broker, counted in the report. */
async function pollOrder(
  parts: ReconciliationParts,
  flow: OrderFlowContext,
  order: OrderRow,
  report: ReconcileReport,
  now: number,
): Promise<void> {
  const { logger } = parts;
  const communityId = flow.communityId;
  if (order.status === "failed") {
    report.checked += 1;
    const adopted = await adoptIfPlaced(flow, order).catch(() => null);
    if (adopted) {
      report.adopted += 1;
      logger.error("order.failed_order_adopted", { alert: true, communityId, orderId: order.id });
    }
    return;
  }
  if (!order.brokerOrderId) return;
  report.checked += 1;
  try {
    const broker = await flow.adapter.getOrder(order.brokerOrderId);
    const after = await applyBrokerOrder(flow, order, broker);
    if (after.status !== order.status || after.filledQuantity !== order.filledQuantity) report.updated += 1;
    if (order.status === "canceled" && after.status !== "canceled") {
      report.adopted += 1;
      logger.error("order.late_fill_adopted", { alert: true, communityId, orderId: order.id });
      await flow.notifyMember(
        order.userId,
        `order:${order.id}:adopted`,
        `⚠️ Your ${describeOrder(order)} was canceled, but the broker filled it afterwards (${after.filledQuantity} @ ${after.averageFillPrice ?? "?"}). The fill is now recorded.`,
      );
    }
    await expireMarketRemainder(flow, after);
    if (isWorking(after.status) && !after.staleFlaggedAt && now - after.createdAt > STALE_ORDER_MS) {
      report.stale += 1;
      await flow.tenant.execution.touch(after.id, { staleFlaggedAt: now });
      logger.error("order.stale", { alert: true, communityId, orderId: after.id });
      await flow.notifyMember(
        after.userId,
        `order:${after.id}:stale`,
        `⏳ Your ${describeOrder(after)} has been pending for over an hour. The community's admins have been told.`,
      );
    }
  } catch (error) {
    report.errors += 1;
    logger.warn("order.reconcile_failed", { communityId, orderId: order.id, error });
  }
}

/** Positions a paper account holds that no recorded position explains (matched by instrument key). */
async function unknownPaperPositions(parts: ReconciliationParts, tenant: TenantRepository) {
  const known = await tenant.execution.positionsOf();
  const unknown: ReconcileReport["unknownPositions"] = [];
  for (const userId of parts.local.paperAccountUsers()) {
    for (const held of await parts.paper.adapterFor(userId).getPositions()) {
      const recorded = known.find(
        (p) => p.userId === userId && p.accountRef === PAPER_ACCOUNT_REF && p.symbol === instrumentKey(held),
      );
      const signed = held.direction === "short" ? -held.quantity : held.quantity;
      if (!recorded || Math.abs(recorded.quantity - signed) > 1e-9) {
        unknown.push({
          userId,
          symbol: held.symbol,
          brokerQuantity: signed,
          recordedQuantity: recorded?.quantity ?? 0,
        });
      }
    }
  }
  return unknown;
}

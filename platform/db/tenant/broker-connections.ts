import { and, asc, count, eq, notExists, notInArray } from "drizzle-orm";
import type { BrokerId } from "../../../shared/brokers/ids";
import { brokerConnections, orders } from "../../../shared/db/schema";
import { TERMINAL_STATUSES } from "../../../shared/orders/state-machine";
import type { TenantScope } from "./scope";

/**
 * Members' broker connections in one community: what the API lists (never the sealed credentials) and their removal.
 * Connecting is a later flow; it passes the `broker.connect` step-up first (`shared/auth/mfa.ts`).
 */

export interface BrokerConnectionView {
  id: string;
  userId: string;
  broker: BrokerId;
  status: (typeof brokerConnections.$inferSelect)["status"];
  /** The broker's last error, or why the connection stopped (a plan that no longer allows it...). */
  lastError: string | null;
  accountId: string | null;
  mode: "paper" | "live";
  expiresAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export type DisconnectOutcome =
  | { outcome: "disconnected"; connection: BrokerConnectionView }
  | { outcome: "not_found" }
  | { outcome: "busy"; openOrders: number };

export function brokerConnectionRepository(scope: TenantScope) {
  const { db, communityId, auditedWrite } = scope;
  const inCommunity = eq(brokerConnections.communityId, communityId);
  /** Orders through the connection that are not terminal yet (queued, submitted, partially filled...). */
  const openThrough = (id: string) =>
    and(
      eq(orders.communityId, communityId),
      eq(orders.accountRef, id),
      notInArray(orders.status, [...TERMINAL_STATUSES]),
    );
  const viewColumns = {
    id: brokerConnections.id,
    userId: brokerConnections.userId,
    broker: brokerConnections.broker,
    status: brokerConnections.status,
    lastError: brokerConnections.statusReason,
    accountId: brokerConnections.accountId,
    isPaper: brokerConnections.isPaper,
    expiresAt: brokerConnections.expiresAt,
    createdAt: brokerConnections.createdAt,
    updatedAt: brokerConnections.updatedAt,
  };
  const toView = ({ isPaper, ...row }: { isPaper: boolean } & Omit<BrokerConnectionView, "mode">) => ({
    ...row,
    mode: isPaper || row.broker === "paper" ? ("paper" as const) : ("live" as const),
  });

  const repository = {
    /** Every connection in the community, or one member's, oldest first. */
    async list(filter: { userId?: string } = {}): Promise<BrokerConnectionView[]> {
      const rows = await db
        .select(viewColumns)
        .from(brokerConnections)
        .where(filter.userId ? and(inCommunity, eq(brokerConnections.userId, filter.userId)) : inCommunity)
        .orderBy(asc(brokerConnections.createdAt), asc(brokerConnections.id))
        .all();
      return rows.map(toView);
    },

    async view(id: string): Promise<BrokerConnectionView | null> {
      const row = await db
        .select(viewColumns)
        .from(brokerConnections)
        .where(and(inCommunity, eq(brokerConnections.id, id)))
        .get();
      return row ? toView(row) : null;
    },

    /** Orders through the connection that are not terminal yet (queued, submitted, partially filled...). */
    async openOrders(id: string): Promise<number> {
      const row = await db.select({ n: count() }).from(orders).where(openThrough(id)).get();
      return row?.n ?? 0;
    },

    /**
     * Removes a connection and its sealed credentials with it (audited `broker.disconnected`), unless orders through
     * it are still open: those are settled or canceled first, so no order is left without the account it runs in.
     * The check holds at the write too: the removal and its audit row go only if no open order exists then.
     */
    async disconnect(id: string, options: { actorId: string; stepUp: string | null }): Promise<DisconnectOutcome> {
      const { result } = await auditedWrite<DisconnectOutcome>(async () => {
        const connection = await repository.view(id);
        if (!connection) return { skip: { outcome: "not_found" } };
        const openOrders = await repository.openOrders(id);
        if (openOrders > 0) return { skip: { outcome: "busy", openOrders } };
        return {
          entry: {
            event: "broker.disconnected",
            actorId: options.actorId,
            target: connection.userId,
            data: {
              connectionId: id,
              broker: connection.broker,
              mode: connection.mode,
              accountId: connection.accountId,
              stepUp: options.stepUp,
            },
          },
          statements: [db.delete(brokerConnections).where(and(inCommunity, eq(brokerConnections.id, id)))],
          // An order placed through it after the count above undoes the removal, which is then decided again.
          onlyIf: notExists(db.select({ id: orders.id }).from(orders).where(openThrough(id))),
          result: { outcome: "disconnected", connection },
        };
      });
      return result;
    },
  };
  return repository;
}

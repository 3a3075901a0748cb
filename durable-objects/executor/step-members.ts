import type { RiskAccount } from "../../shared/risk/types";
import type { ExecutorLocalState, MemberState, OrderReservation } from "./local-state";
import type { PaperDesk } from "./paper-desk";

export type StepMember = MemberState & { account: RiskAccount };

/**
 * The members of one fan-out step as the risk engine needs them (a pause, a lock, today's orders, what is in flight,
 * the paper account), read from the executor's SQLite in a few statements before the step, and what the step reserves
 * and counts, written in a few after it. All of it is synchronous, inside the step. A member met twice in one step
 * is read again, after what the step decided so far is written, so each decision sees the ones before it.
 */
export class StepMembers {
  private readonly members = new Map<string, MemberState>();
  private readonly accounts = new Map<string, RiskAccount>();
  private readonly met = new Set<string>();
  private reservations: { orderId: string; userId: string; reservation: OrderReservation }[] = [];
  private orderCounts = new Map<string, number>();

  constructor(
    private readonly local: ExecutorLocalState,
    private readonly paper: PaperDesk,
    userIds: readonly string[],
    private readonly day: string,
    private readonly now: number,
  ) {
    this.read([...new Set(userIds)]);
  }

  /** The member's state and paper account. */
  get(userId: string): StepMember {
    if (this.met.has(userId)) {
      this.write();
      this.read([userId]);
    }
    this.met.add(userId);
    const member = this.members.get(userId);
    if (!member) throw new Error(`Member ${userId} is not one of this step's.`);
    const account = this.accounts.get(userId);
    if (!account) throw new Error(`No paper account was read for member ${userId}.`);
    return { ...member, account };
  }

  reserve(orderId: string, userId: string, reservation: OrderReservation): void {
    this.reservations.push({ orderId, userId, reservation });
  }

  countOrders(userId: string, orders: number): void {
    const key = `orders:${userId}`;
    this.orderCounts.set(key, (this.orderCounts.get(key) ?? 0) + orders);
  }

  /** Writes the reservations and order counts decided so far. */
  write(): void {
    this.local.reserve(this.reservations, this.now);
    this.local.addCounters(this.day, this.orderCounts);
    this.reservations = [];
    this.orderCounts = new Map();
  }

  private read(userIds: readonly string[]): void {
    const members = this.local.membersState(userIds, this.day, this.now);
    for (const [userId, member] of members) this.members.set(userId, member);
    const accounts = this.paper.riskAccounts(userIds, (userId) => members.get(userId)?.ordersToday ?? 0);
    for (const [userId, account] of accounts) this.accounts.set(userId, account);
  }
}

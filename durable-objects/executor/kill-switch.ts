import type { Community } from "../../platform/db/tenant/community";
import type { TenantRepository } from "../../platform/db/tenant/for-community";
import { type EventSink, orderUpdated } from "../../shared/execution/events";
import type { Logger } from "../../shared/logging";
import type { ExecutorLocalState } from "./local-state";

/**
 * The kill switch has one source of truth: the community's `halted` flag in
 * D1, the flag `/killswitch`, the operator API and the audit log show. The
 * executor reads it before every fan-out step and every send and adopts what
 * it reads, so the object's own copy can never drift from it (a failed call to
 * the executor, a D1 restore). A read that fails counts as halted: the switch
 * fails closed.
 *
 * The copy in the object's SQLite is what a fan-out checks synchronously
 * between its awaits, so a halt() under way stops it at once. A read that
 * overlaps a halt() or resume() of this object must not undo it (it may see D1
 * before the write lands): each of those moves the epoch when it starts and
 * when its write settles, and a read is adopted only if no change was in
 * flight and the epoch it began in is still current.
 */
export class KillSwitch {
  private epoch = 0;
  private inFlight = 0;

  constructor(
    private readonly local: ExecutorLocalState,
    private readonly logger: Logger,
  ) {}

  /** The object's copy: checked between awaits, where no read can be made. */
  get haltedLocally(): boolean {
    return this.local.halted;
  }

  /**
   * Reads the switch from D1, adopts it, and answers whether trading is halted (true when it cannot be read).
   * `read`: the community's row read by the caller for more than the switch (one round trip for both).
   */
  async isHalted(
    tenant: Pick<TenantRepository, "communityId" | "community">,
    read?: Promise<Community | null>,
  ): Promise<boolean> {
    const epoch = this.epoch;
    let halted: boolean;
    try {
      const community = await (read ?? tenant.community.get());
      if (!community) throw new Error("the community row is missing");
      halted = community.halted;
    } catch (error) {
      this.logger.error("killswitch.unreadable", { alert: true, communityId: tenant.communityId, error });
      return true;
    }
    if (epoch !== this.epoch || this.inFlight > 0) return this.local.halted; // a halt() or resume() overlapped this read
    if (halted !== this.local.halted) {
      this.local.setHalted(halted);
      this.logger.warn("killswitch.adopted", { communityId: tenant.communityId, halted });
    }
    return halted;
  }

  /** halt(): takes effect in this object at once, before D1 is written; reads overlapping the write keep it. */
  async halting<T>(writeToD1: () => Promise<T>): Promise<T> {
    return this.changing(true, writeToD1);
  }

  /** resume(): takes effect in this object once D1 says resumed. */
  async resuming<T>(writeToD1: () => Promise<T>): Promise<T> {
    return this.changing(false, writeToD1);
  }

  private async changing<T>(halted: boolean, writeToD1: () => Promise<T>): Promise<T> {
    this.epoch += 1;
    this.inFlight += 1;
    if (halted) this.local.setHalted(true);
    try {
      const written = await writeToD1();
      if (!halted) this.local.setHalted(false);
      return written;
    } finally {
      this.inFlight -= 1;
      this.epoch += 1;
    }
  }
}

export interface SwitchParts {
  events: EventSink;
  local: ExecutorLocalState;
  killSwitch: KillSwitch;
  logger: Logger;
}

/**
 * The kill switch's halt: fan-outs under way stop at their next step and entries not yet sent are canceled.
 * Orders that only reduce a position (stops, targets, exits, flattens) keep working, so a halt never strips a stop.
 */
export async function haltTrading(
  parts: SwitchParts,
  tenant: TenantRepository,
  input: { reason: string | null; actorId: string | null },
) {
  const changed = await parts.killSwitch.halting(() =>
    tenant.community.setHalted(true, { actorId: input.actorId, reason: input.reason }),
  );
  const canceled = await tenant.execution.cancelQueued("kill_switch", { entriesOnly: true });
  parts.local.release(canceled.map((order) => order.id));
  const now = Date.now();
  await parts.events.publishMany(canceled.map((order) => orderUpdated(tenant.communityId, order, now)));
  await parts.events.publish({
    type: "killswitch.changed",
    communityId: tenant.communityId,
    audience: "community",
    data: { halted: true, reason: input.reason, canceledOrders: canceled.length },
    at: Date.now(),
  });
  return { halted: true, changed, canceledOrders: canceled.length };
}

export async function resumeTrading(parts: SwitchParts, tenant: TenantRepository, input: { actorId: string | null }) {
  const changed = await parts.killSwitch.resuming(() => tenant.community.setHalted(false, { actorId: input.actorId }));
  await parts.events.publish({
    type: "killswitch.changed",
    communityId: tenant.communityId,
    audience: "community",
    data: { halted: false },
    at: Date.now(),
  });
  return { halted: false, changed };
}

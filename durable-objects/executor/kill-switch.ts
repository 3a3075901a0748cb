import type { Logger } from "../../shared/logging";
import type { TenantRepository } from "../../workers/db/tenant";
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
 * began before a halt() or resume() of this object finished must not undo it:
 * each of those moves the epoch, and a read is adopted only if the epoch it
 * began in is still current.
 */
export class KillSwitch {
  private epoch = 0;

  constructor(
    private readonly local: ExecutorLocalState,
    private readonly logger: Logger,
  ) {}

  /** The object's copy: checked between awaits, where no read can be made. */
  get haltedLocally(): boolean {
    return this.local.halted;
  }

  /** Reads the switch from D1, adopts it, and answers whether trading is halted (true when it cannot be read). */
  async isHalted(tenant: Pick<TenantRepository, "communityId" | "community">): Promise<boolean> {
    const epoch = this.epoch;
    let halted: boolean;
    try {
      const community = await tenant.community.get();
      if (!community) throw new Error("the community row is missing");
      halted = community.halted;
    } catch (error) {
      this.logger.error("killswitch.unreadable", { alert: true, communityId: tenant.communityId, error });
      return true;
    }
    if (epoch !== this.epoch) return this.local.halted; // a halt() or resume() here is newer than this read
    if (halted !== this.local.halted) {
      this.local.setHalted(halted);
      this.logger.warn("killswitch.adopted", { communityId: tenant.communityId, halted });
    }
    return halted;
  }

  /** halt(): takes effect in this object at once, before D1 is written. */
  markHalted(): void {
    this.epoch += 1;
    this.local.setHalted(true);
  }

  /** resume(): called once D1 says resumed. */
  markResumed(): void {
    this.epoch += 1;
    this.local.setHalted(false);
  }
}

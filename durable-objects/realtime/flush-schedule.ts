import { REALTIME_LIMITS } from "../../shared/realtime/protocol";
import type { RecordedEvent } from "./hub-store";

/**
 * Events recorded but not yet sent, and when the hub may send again: after a flush of n frames, the next waits
 * n / REALTIME_LIMITS.maxFramesPerSecond, so a hub publishing faster than its sockets can be written to coalesces
 * events instead of queueing frames without end. Waits under a millisecond are not worth a timer: those go at once.
 */
export class FlushSchedule {
  private pending: RecordedEvent[] = [];
  private notBefore = 0;

  constructor(private readonly framesPerSecond: number = REALTIME_LIMITS.maxFramesPerSecond) {}

  add(events: readonly RecordedEvent[]): void {
    for (const event of events) this.pending.push(event);
  }

  take(): RecordedEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }

  /** Whole milliseconds until the next flush may go; 0 means now. */
  waitMs(now: number): number {
    return Math.max(0, Math.floor(this.notBefore - now));
  }

  /** A flush of `frames` frames went at `now`. */
  sent(frames: number, now: number): void {
    this.notBefore = now + (frames * 1000) / this.framesPerSecond;
  }
}

import { describe, expect, it } from "vitest";
import { pack } from "../../durable-objects/realtime/deliver";
import { FlushSchedule } from "../../durable-objects/realtime/flush-schedule";
import type { RecordedEvent } from "../../durable-objects/realtime/hub-store";
import { REALTIME_LIMITS } from "../../shared/realtime/protocol";

const eventOf = (seq: number, padding: number): RecordedEvent => {
  const frame = JSON.stringify({ seq, type: "signal.accepted", data: { pad: "x".repeat(padding) } });
  return {
    seq,
    channel: "signals",
    audience: "community",
    stream: "signals:community",
    prev: seq - 1,
    frame,
    bytes: frame.length,
    at: 0,
  };
};

describe("a busy hub coalesces instead of falling behind", () => {
  it("Scenario: A hub over its frame budget sends what was published meanwhile together", () => {
    const schedule = new FlushSchedule();
    expect(schedule.waitMs(1_000)).toBe(0);
    schedule.sent(800, 1_000);
    expect(REALTIME_LIMITS.maxFramesPerSecond).toBe(16_000);
    expect(schedule.waitMs(1_000)).toBe(50);
    expect(schedule.waitMs(1_030)).toBe(20);
    expect(schedule.waitMs(1_050)).toBe(0);
    schedule.add([eventOf(1, 0)]);
    schedule.add([eventOf(2, 0), eventOf(3, 0)]);
    expect(schedule.take().map((event) => event.seq)).toEqual([1, 2, 3]);
    expect(schedule.take()).toEqual([]);
    // A flush of 5 frames leaves 0.31 ms: not worth a timer.
    schedule.sent(5, 2_000);
    expect(schedule.waitMs(2_000)).toBe(0);
  });

  it("Scenario: A batch stays under its size limit", () => {
    const events = Array.from({ length: 10 }, (_, i) => eventOf(i + 1, 15 * 1024));
    const frames = pack(events);
    expect(frames.length).toBeGreaterThan(1);
    const seqs: number[] = [];
    for (const frame of frames) {
      expect(frame.bytes).toBe(new TextEncoder().encode(frame.text).byteLength);
      expect(frame.bytes).toBeLessThanOrEqual(REALTIME_LIMITS.maxBatchBytes);
      const parsed = JSON.parse(frame.text) as { type: string; events: { seq: number }[] };
      expect(parsed.type).toBe("batch");
      seqs.push(...parsed.events.map((event) => event.seq));
      expect(frame.lastSeq).toBe(seqs.at(-1));
    }
    expect(seqs).toEqual(events.map((event) => event.seq));
    expect(pack([eventOf(7, 10)])).toEqual([
      { text: eventOf(7, 10).frame, bytes: eventOf(7, 10).bytes, events: 1, lastSeq: 7 },
    ]);
  });
});

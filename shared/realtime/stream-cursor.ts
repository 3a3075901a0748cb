import type { StreamHeads } from "./protocol";

/**
 * A client's view of its streams (protocol.ts): start it from a `welcome` (or
 * `subscribed`) frame's heads, then hand it each event in arrival order. An
 * event whose `prev` is not the last seq seen in its stream means an event
 * meant for this client was missed (dropped connection, incomplete replay):
 * the client refetches that stream's data through the API. Pure, so the
 * dashboards' scripts and the tests share it.
 */
export class StreamCursor {
  private readonly last: Map<string, number>;

  constructor(heads: StreamHeads) {
    this.last = new Map(Object.entries(heads));
  }

  /** Takes an event in; "gap" when something of its stream was missed before it. */
  accept(event: { seq: number; stream: string; prev: number }): "in_order" | "gap" {
    const expected = this.last.get(event.stream) ?? 0;
    this.last.set(event.stream, event.seq);
    return event.prev === expected ? "in_order" : "gap";
  }

  /** New heads (after a `subscribed` frame) replace the known ones for their streams. */
  reset(heads: StreamHeads): void {
    for (const [stream, seq] of Object.entries(heads)) this.last.set(stream, seq);
  }
}

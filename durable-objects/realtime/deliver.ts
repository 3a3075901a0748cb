import { REALTIME_LIMITS } from "../../shared/realtime/protocol";
import { type Connection, countSent } from "./connection";
import type { RecordedEvent } from "./hub-store";
import type { SocketRegistry } from "./socket-registry";

export interface Delivery {
  /** Events handed to sockets (an event sent to three sockets counts three). */
  events: number;
  /** WebSocket messages sent: a `batch` frame carries several events. */
  frames: number;
  bytes: number;
  /** Connections past their unacknowledged-bytes limit: to be closed (1013). */
  slow: Set<Connection>;
  /** Connections whose socket refused the frame (already closing). */
  broken: Set<Connection>;
}

/** One WebSocket message: an event's own frame, or a `batch` of several. */
interface Packed {
  text: string;
  bytes: number;
  events: number;
  lastSeq: number;
}

const emptyDelivery = (): Delivery => ({ events: 0, frames: 0, bytes: 0, slow: new Set(), broken: new Set() });

/**
 * Sends events, in order, to every connection allowed to see them and subscribed to their channel. One event goes
 * as its own frame, serialized once when it was recorded; several for one connection go as `batch` frames, each
 * built once for every connection that gets the same events. A connection found slow gets nothing more of this flush.
 */
export function deliver(registry: SocketRegistry, events: readonly RecordedEvent[]): Delivery {
  const delivery = emptyDelivery();
  if (events.length === 1) {
    const [event] = events as [RecordedEvent];
    const frame = packedOne(event);
    for (const connection of registry.recipients(event.channel, event.audience)) send(connection, [frame], delivery);
    return delivery;
  }
  const queues = new Map<Connection, RecordedEvent[]>();
  for (const event of events) {
    for (const connection of registry.recipients(event.channel, event.audience)) {
      const queue = queues.get(connection);
      if (queue) queue.push(event);
      else queues.set(connection, [event]);
    }
  }
  const built = new Map<string, Packed[]>();
  for (const [connection, queue] of queues) {
    const key = queue.map((event) => event.seq).join(",");
    let frames = built.get(key);
    if (!frames) {
      frames = pack(queue);
      built.set(key, frames);
    }
    send(connection, frames, delivery);
  }
  return delivery;
}

/** Sends already-filtered events (a `?since=` replay) to one connection. */
export function deliverTo(connection: Connection, events: readonly RecordedEvent[]): Delivery {
  const delivery = emptyDelivery();
  if (events.length > 0) send(connection, pack(events), delivery);
  return delivery;
}

/** Sends one frame; false when the socket no longer takes frames. */
export function sendFrame(connection: Connection, frame: string): boolean {
  try {
    connection.ws.send(frame);
    return true;
  } catch {
    return false;
  }
}

function send(connection: Connection, frames: readonly Packed[], delivery: Delivery): void {
  for (const frame of frames) {
    if (!sendFrame(connection, frame.text)) {
      delivery.broken.add(connection);
      return;
    }
    delivery.frames += 1;
    delivery.events += frame.events;
    delivery.bytes += frame.bytes;
    if (!countSent(connection.flow, frame.lastSeq, frame.bytes)) {
      delivery.slow.add(connection);
      return;
    }
  }
}

const BATCH_OPEN = '{"type":"batch","events":[';
const BATCH_CLOSE = "]}";

/** Events in `batch` frames of at most REALTIME_LIMITS.maxBatchBytes (a lone event goes as its own frame). */
export function pack(events: readonly RecordedEvent[]): Packed[] {
  const frames: Packed[] = [];
  let chunk: RecordedEvent[] = [];
  let bytes = BATCH_OPEN.length + BATCH_CLOSE.length;
  for (const event of events) {
    if (chunk.length > 0 && bytes + event.bytes + 1 > REALTIME_LIMITS.maxBatchBytes) {
      frames.push(packedChunk(chunk));
      chunk = [];
      bytes = BATCH_OPEN.length + BATCH_CLOSE.length;
    }
    chunk.push(event);
    bytes += event.bytes + 1;
  }
  if (chunk.length > 0) frames.push(packedChunk(chunk));
  return frames;
}

function packedOne(event: RecordedEvent): Packed {
  return { text: event.frame, bytes: event.bytes, events: 1, lastSeq: event.seq };
}

function packedChunk(chunk: readonly RecordedEvent[]): Packed {
  if (chunk.length === 1) return packedOne(chunk[0] as RecordedEvent);
  let bytes = BATCH_OPEN.length + BATCH_CLOSE.length + chunk.length - 1;
  for (const event of chunk) bytes += event.bytes;
  const text = `${BATCH_OPEN}${chunk.map((event) => event.frame).join(",")}${BATCH_CLOSE}`;
  return { text, bytes, events: chunk.length, lastSeq: (chunk.at(-1) as RecordedEvent).seq };
}

import { type Connection, countSent } from "./connection";
import type { RecordedEvent } from "./hub-store";
import type { SocketRegistry } from "./socket-registry";

export interface Delivery {
  messages: number;
  bytes: number;
  /** Connections past their unacknowledged-bytes limit: to be closed (1013). */
  slow: Set<Connection>;
  /** Connections whose socket refused the frame (already closing). */
  broken: Set<Connection>;
}

/**
 * Sends each event, in order, to every connection allowed to see it and
 * subscribed to its channel. Each frame was serialized once when the event was
 * recorded. A connection found slow stops receiving for the rest of the batch.
 */
export function deliver(registry: SocketRegistry, events: readonly RecordedEvent[]): Delivery {
  const delivery: Delivery = { messages: 0, bytes: 0, slow: new Set(), broken: new Set() };
  for (const event of events) {
    for (const connection of registry.recipients(event.channel, event.audience)) {
      if (delivery.slow.has(connection) || delivery.broken.has(connection)) continue;
      if (!sendFrame(connection, event.frame)) {
        delivery.broken.add(connection);
        continue;
      }
      delivery.messages += 1;
      delivery.bytes += event.bytes;
      if (!countSent(connection.flow, event.seq, event.bytes)) delivery.slow.add(connection);
    }
  }
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

/** Sends already-filtered events (a `?since=` replay) to one connection. */
export function deliverTo(connection: Connection, events: readonly RecordedEvent[]): Delivery {
  const delivery: Delivery = { messages: 0, bytes: 0, slow: new Set(), broken: new Set() };
  for (const event of events) {
    if (!sendFrame(connection, event.frame)) {
      delivery.broken.add(connection);
      break;
    }
    delivery.messages += 1;
    delivery.bytes += event.bytes;
    countSent(connection.flow, event.seq, event.bytes);
  }
  return delivery;
}

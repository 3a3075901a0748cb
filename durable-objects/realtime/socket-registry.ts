import { inAudience } from "../../shared/realtime/access";
import { type Audience, REALTIME_CHANNELS, type RealtimeChannel } from "../../shared/realtime/protocol";
import { type Connection, restoreConnection } from "./connection";

/**
 * The hub's in-memory index of open sockets: by socket, by member and by
 * channel subscription, so an event for one member touches only that member's
 * sockets and a community event only the channel's subscribers. Memory only:
 * a hub woken from hibernation rebuilds it from `ctx.getWebSockets()`.
 */
export class SocketRegistry {
  private readonly all = new Map<WebSocket, Connection>();
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly subscribers = Object.fromEntries(
    REALTIME_CHANNELS.map((channel) => [channel, new Set<Connection>()]),
  ) as Record<RealtimeChannel, Set<Connection>>;

  /** The registry for sockets that outlived the object (hibernation); sockets it cannot read come back apart. */
  static rebuild(sockets: readonly WebSocket[]): { registry: SocketRegistry; unreadable: WebSocket[] } {
    const registry = new SocketRegistry();
    const unreadable: WebSocket[] = [];
    for (const ws of sockets) {
      const connection = restoreConnection(ws);
      if (connection) registry.add(connection);
      else unreadable.push(ws);
    }
    return { registry, unreadable };
  }

  get size(): number {
    return this.all.size;
  }

  get(ws: WebSocket): Connection | undefined {
    return this.all.get(ws);
  }

  add(connection: Connection): void {
    this.all.set(connection.ws, connection);
    let mine = this.byUser.get(connection.userId);
    if (!mine) {
      mine = new Set();
      this.byUser.set(connection.userId, mine);
    }
    mine.add(connection);
    for (const channel of connection.channels) this.subscribers[channel].add(connection);
  }

  remove(ws: WebSocket): Connection | undefined {
    const connection = this.all.get(ws);
    if (!connection) return undefined;
    this.all.delete(ws);
    const mine = this.byUser.get(connection.userId);
    mine?.delete(connection);
    if (mine?.size === 0) this.byUser.delete(connection.userId);
    for (const channel of REALTIME_CHANNELS) this.subscribers[channel].delete(connection);
    return connection;
  }

  countFor(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  setChannels(connection: Connection, channels: ReadonlySet<RealtimeChannel>): void {
    for (const channel of REALTIME_CHANNELS) {
      if (channels.has(channel)) this.subscribers[channel].add(connection);
      else this.subscribers[channel].delete(connection);
    }
    connection.channels = new Set(channels);
  }

  /** Every connection that may receive an event on `channel` for `audience`, and has subscribed to it. */
  *recipients(channel: RealtimeChannel, audience: Audience): Generator<Connection> {
    if (typeof audience === "object") {
      for (const connection of this.byUser.get(audience.userId) ?? []) {
        if (connection.channels.has(channel)) yield connection;
      }
      return;
    }
    for (const connection of this.subscribers[channel]) {
      if (inAudience(connection, audience)) yield connection;
    }
  }

  /** What the open sockets stand on, each once: members' session ids and operators' token fingerprints. */
  credentials(): { sessionIds: string[]; opsFingerprints: string[] } {
    const sessionIds = new Set<string>();
    const opsFingerprints = new Set<string>();
    for (const { credential } of this.all.values()) {
      if (credential.kind === "session") sessionIds.add(credential.sessionId);
      else opsFingerprints.add(credential.fingerprint);
    }
    return { sessionIds: [...sessionIds], opsFingerprints: [...opsFingerprints] };
  }
}

import type { WindowDeletionMarker, WindowResult } from '@clickstream/shared';

/** What the hub needs of a connected WebSocket (the `ws` socket satisfies it). */
export interface LiveSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
}

export interface LiveClient {
  readonly socket: LiveSocket;
  /** Only windows of this site; undefined for every site. */
  readonly siteId?: string;
  sent: number;
  dropped: number;
  /** Frames held while the client's gap fill is being sent, so it gets them in order. */
  held?: string[];
}

export interface LiveHubStats {
  onFrame?: (delivered: number, dropped: number) => void;
}

const OPEN = 1;

/**
 * Fan-out of committed window results, and of erased windows, to live clients. Each is serialised
 * once and the same string goes to every client. A client whose socket has more than `maxBufferedBytes`
 * waiting to be written misses frames until it catches up, so one slow reader costs a bounded
 * amount of memory and never slows the others.
 */
export class LiveHub {
  private readonly clients = new Set<LiveClient>();

  constructor(
    private readonly maxBufferedBytes: number,
    private readonly stats: LiveHubStats = {},
    private readonly maxHeld = 10_000,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Registers a client; a held one queues its frames (up to `maxHeld`) until `release`. */
  add(socket: LiveSocket, siteId?: string, { hold = false } = {}): LiveClient {
    const client: LiveClient = { socket, siteId, sent: 0, dropped: 0, held: hold ? [] : undefined };
    this.clients.add(client);
    return client;
  }

  /** Sends the frames held for a client, then lets live frames through. */
  release(client: LiveClient): void {
    const held = client.held ?? [];
    client.held = undefined;
    for (const frame of held) this.sendTo(client, frame);
  }

  remove(client: LiveClient): void {
    this.clients.delete(client);
  }

  /** Sends one frame to one client unless its backlog is over the limit; true when sent. */
  sendTo(client: LiveClient, frame: string): boolean {
    if (client.socket.readyState !== OPEN || client.socket.bufferedAmount > this.maxBufferedBytes) {
      client.dropped += 1;
      return false;
    }
    client.socket.send(frame);
    client.sent += 1;
    return true;
  }

  broadcast(result: WindowResult): void {
    if (this.clients.size === 0) return;
    this.fanOut(result.siteId, windowFrame(result));
  }

  /** An erased window: clients drop it if they show it. */
  broadcastDeletion(marker: WindowDeletionMarker): void {
    if (this.clients.size === 0) return;
    this.fanOut(marker.siteId, deletionFrame(marker));
  }

  private fanOut(siteId: string, frame: string): void {
    let delivered = 0;
    let dropped = 0;
    for (const client of this.clients) {
      if (client.siteId !== undefined && client.siteId !== siteId) continue;
      if (client.held) {
        if (client.held.length < this.maxHeld) client.held.push(frame);
        else {
          client.dropped += 1;
          dropped += 1;
        }
        continue;
      }
      if (this.sendTo(client, frame)) delivered += 1;
      else dropped += 1;
    }
    this.stats.onFrame?.(delivered, dropped);
  }
}

export function windowFrame(result: WindowResult): string {
  return JSON.stringify({ type: 'window', data: result });
}

export function deletionFrame(marker: WindowDeletionMarker): string {
  return JSON.stringify({ type: 'deleted', data: { siteId: marker.siteId, userId: marker.userId, windowStart: marker.windowStart } });
}

/**
 * The live feed (`/api/v1/live`): one WebSocket, reconnected with jittered back-off. Each
 * reconnect asks for `since=` the last message seen so the server can replay what was missed;
 * callers also refetch their REST data on reconnect, which fills any remaining gap.
 */
import type { WindowResult } from '@clickstream/shared';
import { reconnectDelay } from './backoff.js';
import { parseLiveDeletion, parseLiveMessage, type LiveDeletion } from './live-state.js';

export type LiveStatus =
  | { state: 'connecting'; attempt: number }
  | { state: 'open'; since: number }
  | { state: 'waiting'; attempt: number; retryAt: number; reason: string }
  | { state: 'unauthorized' }
  | { state: 'closed' };

export interface LiveFeedHandlers {
  onResult: (result: WindowResult, receivedAt: number) => void;
  /** A shown window was erased: drop it. */
  onDeleted?: (deleted: LiveDeletion) => void;
  onStatus: (status: LiveStatus) => void;
  /** Called after a reconnect (not the first connect): time to refetch what may have been missed. */
  onReconnected: () => void;
}

// Replay a little before the last message: the server's clock and ours differ slightly, and
// duplicates are harmless (the live state ignores a revision it already has).
const REPLAY_MARGIN_MS = 2000;

export class LiveFeed {
  private socket: WebSocket | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private lastSeen: number;
  private everOpened = false;
  private stopped = false;

  constructor(
    private readonly token: string,
    private readonly handlers: LiveFeedHandlers,
  ) {
    // The first connect also asks for the last minute, so the activity list is not blank on open.
    this.lastSeen = Date.now() - 60_000;
  }

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close(1000, 'dashboard closed');
    this.handlers.onStatus({ state: 'closed' });
  }

  private connect(): void {
    if (this.stopped) return;
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const since = Math.max(0, this.lastSeen - REPLAY_MARGIN_MS);
    const query = new URLSearchParams({ token: this.token, since: String(since) });
    this.handlers.onStatus({ state: 'connecting', attempt: this.attempt });
    let opened = false;
    let socket: WebSocket;
    try {
      socket = new WebSocket(`${scheme}://${window.location.host}/api/v1/live?${query}`);
    } catch (error) {
      this.scheduleReconnect((error as Error).message);
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.handlers.onStatus({ state: 'open', since });
      if (this.everOpened) this.handlers.onReconnected();
      this.everOpened = true;
    };
    socket.onmessage = (message) => {
      if (typeof message.data !== 'string') return;
      const result = parseLiveMessage(message.data);
      if (!result) {
        const deleted = parseLiveDeletion(message.data);
        if (deleted) this.handlers.onDeleted?.(deleted);
        return;
      }
      const now = Date.now();
      this.lastSeen = Math.max(this.lastSeen, now);
      this.handlers.onResult(result, now);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket || this.stopped) return;
      // Browsers hide the HTTP status of a refused upgrade; the server closes with 4401 (or 1008
      // before opening) for a bad token, which the prompt then handles.
      if (event.code === 4401 || event.code === 4001 || (!opened && event.code === 1008)) {
        this.handlers.onStatus({ state: 'unauthorized' });
        return;
      }
      this.scheduleReconnect(opened ? 'connection lost' : 'could not connect');
    };
  }

  private scheduleReconnect(reason: string): void {
    this.attempt += 1;
    const delay = reconnectDelay(this.attempt);
    this.handlers.onStatus({ state: 'waiting', attempt: this.attempt, retryAt: Date.now() + delay, reason });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Reconnect now (the "retry" button), skipping the rest of the back-off. */
  retryNow(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.socket?.close();
    this.socket = undefined;
    this.connect();
  }
}

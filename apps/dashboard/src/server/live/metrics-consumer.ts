import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { FormatRegistry } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { WindowResultSchema, type WindowDeletionMarker, type WindowResult } from '@clickstream/shared';

if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (value) => !Number.isNaN(Date.parse(value)));
const resultChecker = TypeCompiler.Compile(WindowResultSchema);

/** Decodes one `user-metrics` value; undefined for anything that is not a WindowResult. */
export function decodeWindowResult(value: Buffer | null): WindowResult | undefined {
  if (!value) return undefined;
  try {
    const parsed: unknown = JSON.parse(value.toString('utf8'));
    return resultChecker.Check(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Decodes a `user-metrics` deletion marker (contract, "Kafka topics": the window was erased);
 * undefined for anything else.
 */
export function decodeWindowDeletion(value: Buffer | null): WindowDeletionMarker | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(value.toString('utf8')) as Record<string, unknown> | null;
    if (!parsed || typeof parsed !== 'object' || parsed.deleted !== true) return undefined;
    const { siteId, userId, windowStart } = parsed;
    if (typeof siteId !== 'string' || typeof userId !== 'string' || typeof windowStart !== 'string') return undefined;
    if (Number.isNaN(Date.parse(windowStart))) return undefined;
    return { deleted: true, siteId, userId, windowStart };
  } catch {
    return undefined;
  }
}

export interface MetricsConsumerOptions {
  brokers: readonly string[];
  topic: string;
  onResult: (result: WindowResult) => void;
  /** A window was erased (a deletion marker on the topic). */
  onDeleted?: (marker: WindowDeletionMarker) => void;
  onUndecodable?: () => void;
  log?: (message: string) => void;
}

/**
 * Reads `user-metrics` with read_committed isolation, so results of aborted processor
 * transactions never reach a client. Window results and deletion markers (erasures) are passed on;
 * anything else is counted as undecodable and skipped. Each dashboard instance uses its own group id and commits
 * no offsets: every instance sees every partition, starting at the latest committed results.
 * History comes from PostgreSQL, not from the topic.
 */
export class MetricsConsumer {
  readonly groupId = `clickstream-dashboard-live-${hostname().replace(/[^A-Za-z0-9._-]/g, '_')}-${randomBytes(6).toString('hex')}`;
  private readonly consumer: Consumer;
  private joined = false;
  private fetchedSinceJoin = false;
  private crashed = false;
  private lastFetchAt = 0;
  private stopped = false;
  private readyWaiters: Array<() => void> = [];

  constructor(private readonly options: MetricsConsumerOptions) {
    const kafka = new Kafka({
      clientId: 'clickstream-dashboard',
      brokers: [...options.brokers],
      // Failures surface through the retry loop and CRASH events, logged below.
      logLevel: logLevel.NOTHING,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5000 },
    });
    this.consumer = kafka.consumer({
      groupId: this.groupId,
      readUncommitted: false,
      maxWaitTimeInMs: 250,
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5000 },
    });
    const { GROUP_JOIN, FETCH, CRASH, DISCONNECT, STOP } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, () => {
      this.joined = true;
      this.crashed = false;
      this.fetchedSinceJoin = false;
    });
    // The first fetch after a join fixes the start offsets ("latest"); from then on nothing
    // committed is missed, which is what "ready" promises.
    this.consumer.on(FETCH, () => {
      this.lastFetchAt = Date.now();
      if (!this.joined || this.fetchedSinceJoin) return;
      this.fetchedSinceJoin = true;
      for (const resolve of this.readyWaiters.splice(0)) resolve();
    });
    this.consumer.on(CRASH, (event) => {
      this.crashed = true;
      this.joined = false;
      options.log?.(`live consumer crashed (${event.payload.error.message}); restart: ${event.payload.restart}`);
      // kafkajs restarts by itself after retriable errors; after the others, start over here.
      if (!event.payload.restart && !this.stopped) {
        void this.consumer
          .disconnect()
          .catch(() => {})
          .then(() => this.runUntilStopped());
      }
    });
    this.consumer.on(DISCONNECT, () => {
      this.joined = false;
    });
    this.consumer.on(STOP, () => {
      this.joined = false;
    });
  }

  /**
   * Joins in the background and keeps retrying (a missing topic, a broker that is not up yet):
   * the HTTP side serves meanwhile and /healthz says 503 until the feed works.
   */
  start(): void {
    void this.runUntilStopped();
  }

  private async runUntilStopped(): Promise<void> {
    let delay = 500;
    while (!this.stopped) {
      try {
        await this.consumer.connect();
        await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: false });
        await this.consumer.run({
          autoCommit: false,
          eachMessage: async ({ message }) => {
            const result = decodeWindowResult(message.value);
            if (result) {
              this.options.onResult(result);
              return;
            }
            const deletion = decodeWindowDeletion(message.value);
            if (deletion) this.options.onDeleted?.(deletion);
            else this.options.onUndecodable?.();
          },
        });
        return;
      } catch (error) {
        if (this.stopped) return;
        this.options.log?.(`live consumer cannot start (${(error as Error).message}); retrying in ${delay} ms`);
        await this.consumer.disconnect().catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  /** Resolves once the consumer has joined and fetched: results committed after this reach clients. */
  ready(timeoutMs = 60_000): Promise<void> {
    if (this.isReady()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`live consumer not ready after ${timeoutMs} ms`)), timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  isReady(): boolean {
    return this.joined && this.fetchedSinceJoin && !this.crashed && !this.stopped;
  }

  /** For /healthz: the consumer is in its group and its fetches (one per 250 ms when idle) keep coming. */
  healthy(now = Date.now()): boolean {
    return this.isReady() && now - this.lastFetchAt < 30_000;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.disconnect().catch(() => {});
  }
}

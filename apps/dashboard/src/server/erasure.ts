import type pg from 'pg';
import { Kafka, logLevel, Partitioners, type Message, type Producer } from 'kafkajs';
import {
  markErasureMarkersSent,
  outboxEntriesBelow,
  pendingErasureMarkers,
  readOutboxHighWater,
  recordErasure,
  type ErasureRecord,
  type OutboxMark,
} from '@clickstream/db';
import type { TopicNames, VisitDeletionMarker, WindowDeletionMarker } from '@clickstream/shared';

/** Where deletion markers go: `user-metrics` and `user-sessions` in production. */
export interface MarkerSink {
  /** Resolves once every marker of the erasures is acknowledged (acks=all). */
  send(erasures: readonly ErasureRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface UserErasureOptions {
  /** Without a sink, erasures stay pending (markers_sent = false) until a dashboard with one sends them. */
  sink?: MarkerSink;
  log?: (message: string) => void;
  /** How long an erasure's markers wait for the processor's older outbox entries to reach Kafka. */
  drainTimeoutMs?: number;
  /** How often the outbox is looked at while waiting. */
  pollIntervalMs?: number;
  /** How often pending markers (a failed send, a dashboard that died) are sent again. */
  resendIntervalMs?: number;
  /** Called on each look at the outbox that finds entries still waiting (tests observe the wait). */
  onOutboxWait?: (waiting: number) => void;
}

type ErasurePool = Pick<pg.Pool, 'connect' | 'query'>;

/**
 * Erasure (contract, "Erasure"): `erase` commits the erasure in PostgreSQL (rows gone, log row
 * written, see recordErasure) and answers with the number of rows removed without waiting for
 * Kafka. The deletion markers follow in the background: once every outbox entry the processor had
 * committed before the erasure is on Kafka (so no result of the user can land after its marker),
 * they are produced and the log row is marked sent. Anything that fails (the outbox not drained
 * within `drainTimeoutMs`, Kafka down, the process stopping) leaves the row pending, and the
 * resend loop tries again every `resendIntervalMs`; a marker sent twice is harmless.
 */
export class UserErasure {
  private readonly sink: MarkerSink | undefined;
  private readonly log: (message: string) => void;
  private readonly drainTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly resendIntervalMs: number;
  /** Erasure log rows whose markers are being sent now: the resend loop leaves them alone. */
  private readonly inFlight = new Set<number>();
  private readonly deliveries = new Set<Promise<void>>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private resending: Promise<void> | undefined;
  private stopped = false;
  /** Ends the pauses of outbox waits early, on stop. */
  private readonly wakers = new Set<() => void>();

  constructor(
    private readonly pool: ErasurePool,
    private readonly options: UserErasureOptions = {},
  ) {
    this.sink = options.sink;
    this.log = options.log ?? (() => {});
    this.drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.resendIntervalMs = options.resendIntervalMs ?? 5000;
  }

  /** Erases the user on one site, or on every site; returns the windows and visits removed. */
  async erase(userId: string, siteId: string | undefined): Promise<number> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const onError = (error: Error) => (broken = error);
    client.on('error', onError);
    let result;
    try {
      result = await recordErasure(client, userId, siteId);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
    const withMarkers = result.records.filter((r) => r.windowStarts.length + r.sessionStarts.length > 0);
    if (withMarkers.length > 0 && this.sink && !this.stopped) this.track(this.deliver(withMarkers, result.outboxHighWater));
    return result.records.reduce((n, r) => n + r.windowStarts.length + r.sessionStarts.length, 0);
  }

  /** Starts the resend loop; its first round runs at once (markers left pending by a previous run). */
  start(): void {
    if (!this.sink || this.stopped || this.timer) return;
    const round = () => {
      this.resending = this.resendPending().finally(() => {
        this.resending = undefined;
        if (!this.stopped) this.timer = setTimeout(round, this.resendIntervalMs);
      });
    };
    this.timer = setTimeout(round, 0);
  }

  /** Stops the loop and any wait for the outbox; a send under way finishes. Pending rows stay pending. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const wake of this.wakers) wake();
    await this.resending;
    await Promise.all([...this.deliveries]);
    await this.sink?.close();
  }

  private track(delivery: Promise<void>): void {
    this.deliveries.add(delivery);
    void delivery.finally(() => this.deliveries.delete(delivery));
  }

  private async resendPending(): Promise<void> {
    try {
      const pending = (await pendingErasureMarkers(this.pool)).filter((r) => !this.inFlight.has(r.seq));
      if (pending.length === 0) return;
      // Read after the erasures committed, these marks are at or above the ones each had then.
      const marks = await readOutboxHighWater(this.pool);
      await this.deliver(pending, marks);
    } catch (error) {
      this.log(`erasure markers: resend failed (${(error as Error).message}); retrying in ${this.resendIntervalMs} ms`);
    }
  }

  private async deliver(erasures: readonly ErasureRecord[], marks: readonly OutboxMark[]): Promise<void> {
    const sink = this.sink;
    if (!sink) return;
    const mine = erasures.filter((r) => !this.inFlight.has(r.seq));
    if (mine.length === 0) return;
    for (const r of mine) this.inFlight.add(r.seq);
    try {
      if (!(await this.outboxDelivered(marks))) {
        if (!this.stopped) {
          this.log(
            `erasure markers: the processor's outbox did not reach Kafka within ${this.drainTimeoutMs} ms; ` +
              `${mine.length} erasure(s) stay pending and are retried`,
          );
        }
        return;
      }
      await sink.send(mine);
      for (const r of mine) await markErasureMarkersSent(this.pool, r.seq);
    } catch (error) {
      this.log(`erasure markers: sending failed (${(error as Error).message}); ${mine.length} erasure(s) stay pending and are retried`);
    } finally {
      for (const r of mine) this.inFlight.delete(r.seq);
    }
  }

  /** Waits (bounded) until no outbox entry at or below the marks is left; false when it gave up. */
  private async outboxDelivered(marks: readonly OutboxMark[]): Promise<boolean> {
    const deadline = Date.now() + this.drainTimeoutMs;
    for (;;) {
      if (this.stopped) return false;
      const waiting = await outboxEntriesBelow(this.pool, marks);
      if (waiting === 0) return true;
      this.options.onOutboxWait?.(waiting);
      if (Date.now() >= deadline) return false;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.wakers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, this.pollIntervalMs);
        this.wakers.add(wake);
      });
    }
  }
}

/** The marker values of one erasure, as the contract's "Kafka topics" shapes them. */
export function deletionMarkers(erasure: ErasureRecord): { windows: WindowDeletionMarker[]; visits: VisitDeletionMarker[] } {
  const { siteId, userId } = erasure;
  return {
    windows: erasure.windowStarts.map((start) => ({ deleted: true, siteId, userId, windowStart: start.toISOString() })),
    visits: erasure.sessionStarts.map((start) => ({ deleted: true, siteId, userId, sessionStart: start.toISOString() })),
  };
}

/** Markers per produce request: ~150 bytes each keeps a request far below the broker's 1 MiB. */
const MARKERS_PER_SEND = 2000;

/**
 * Deletion markers to Kafka with an idempotent producer (acks=all, one request in flight, so they
 * keep their order), keyed by user with the Java client's partitioner: the same partition as the
 * processor's records for that user. The producer connects on first use and is replaced after a
 * failure.
 */
export class KafkaMarkerSink implements MarkerSink {
  private readonly kafka: Kafka;
  private producer: Producer | undefined;

  constructor(
    brokers: readonly string[],
    private readonly topics: Pick<TopicNames, 'metrics' | 'sessions'>,
  ) {
    this.kafka = new Kafka({
      clientId: 'clickstream-dashboard-erasure',
      brokers: [...brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5000 },
    });
  }

  async send(erasures: readonly ErasureRecord[]): Promise<void> {
    const metrics: Message[] = [];
    const sessions: Message[] = [];
    for (const erasure of erasures) {
      const { windows, visits } = deletionMarkers(erasure);
      for (const m of windows) metrics.push({ key: m.userId, value: JSON.stringify(m) });
      for (const m of visits) sessions.push({ key: m.userId, value: JSON.stringify(m) });
    }
    const producer = await this.connected();
    try {
      for (let i = 0; i < Math.max(metrics.length, sessions.length); i += MARKERS_PER_SEND) {
        const topicMessages = [
          { topic: this.topics.metrics, messages: metrics.slice(i, i + MARKERS_PER_SEND) },
          { topic: this.topics.sessions, messages: sessions.slice(i, i + MARKERS_PER_SEND) },
        ].filter((t) => t.messages.length > 0);
        await producer.sendBatch({ topicMessages, acks: -1 });
      }
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => {});
      throw error;
    }
    this.producer = producer;
    return producer;
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => {});
  }
}

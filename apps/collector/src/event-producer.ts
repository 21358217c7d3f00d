import { promisify } from 'node:util';
import { gzipSync, unzip } from 'node:zlib';
import kafkajs, { Kafka, logLevel, type Message, type Producer } from 'kafkajs';
import type { TopicNames } from '@clickstream/shared';
import { CollectorError } from './errors.js';
import type { CollectorMetrics } from './metrics.js';
import { ProduceBatcher, type BatchItem } from './produce-batcher.js';

// Not named exports of kafkajs' CommonJS build, as far as Node's ESM loader can see.
const { CompressionCodecs, CompressionTypes, Partitioners } = kafkajs;
const unzipAsync = promisify(unzip);

// kafkajs gzips at zlib's default level 6 on the thread pool. For the small batches of a
// collector (a few KB per partition) the thread hop and the compressor set-up cost more than
// the compression itself, and on a 2-core box the pool competes with the event loop anyway:
// level 1 with a smaller hash table, inline, measured about 3x less CPU per call. Any gzip
// reader decodes it.
const GZIP_OPTIONS = { level: 1, memLevel: 5 };
CompressionCodecs[CompressionTypes.GZIP] = () => ({
  compress: async (encoder: { buffer: Buffer }) => gzipSync(encoder.buffer, GZIP_OPTIONS),
  decompress: (buffer: Buffer) => unzipAsync(buffer),
});

export interface EventProducerOptions {
  brokers: readonly string[];
  topics: TopicNames;
  produceTimeoutMs: number;
  lingerMs?: number;
  maxBatchEvents?: number;
  /** Idempotent producers working side by side, each with one call in flight. */
  concurrency?: number;
  /** gzip unless told otherwise. */
  compression?: 'gzip' | 'none';
  metrics?: CollectorMetrics;
  /** Where connection changes are logged (the service's pino logger); silent by default. */
  logger?: ProducerLogger;
}

export interface ProducerLogger {
  info(message: string): void;
  warn(message: string): void;
}

const SILENT: ProducerLogger = { info: () => {}, warn: () => {} };

/** Seconds a browser is told to wait after a 503. */
export const RETRY_AFTER_UNAVAILABLE_SEC = 2;
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 2000;

type State = 'new' | 'up' | 'down' | 'closed';

const unavailable = (detail: string) => new CollectorError('KAFKA_UNAVAILABLE', detail, RETRY_AFTER_UNAVAILABLE_SEC);

/**
 * The collector's only contact with Kafka: durable (acks=all, idempotent) writes of events,
 * coalesced across requests. kafkajs' idempotent producer must have one call in flight, so a
 * small pool of producers (each its own producer id and connection) lets calls overlap the
 * broker's round trip. When a produce call fails the whole pool is thrown away and new
 * producers (new producer ids, so no sequence number is reused) are connected in the
 * background; until then requests are refused at once with 503 instead of waiting.
 */
export class EventProducer {
  private readonly kafka: Kafka;
  private readonly batcher: ProduceBatcher<Message>;
  private pool: Producer[] = [];
  private idle: Producer[] = [];
  private state: State = 'new';
  private reconnecting: Promise<void> | undefined;
  private readonly log: ProducerLogger;

  constructor(private readonly options: EventProducerOptions) {
    this.log = options.logger ?? SILENT;
    this.kafka = new Kafka({
      clientId: 'clickstream-collector',
      brokers: [...options.brokers],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      requestTimeout: Math.max(options.produceTimeoutMs, 1000),
      // Few retries: a failed call replaces the whole producer, which is what makes giving up safe.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
    });
    this.batcher = new ProduceBatcher((batch) => this.produce(batch), {
      lingerMs: options.lingerMs ?? 2,
      maxBatchMessages: options.maxBatchEvents ?? 5000,
      maxInFlight: this.concurrency,
      timeoutMs: options.produceTimeoutMs,
      onTimeout: () => unavailable(`Kafka did not acknowledge within ${options.produceTimeoutMs} ms`),
    });
  }

  private get compression(): number {
    return this.options.compression === 'none' ? CompressionTypes.None : CompressionTypes.GZIP;
  }

  private get concurrency(): number {
    return this.options.concurrency ?? 3;
  }

  /** Connects the pool once; throws when Kafka cannot be reached. */
  async connect(): Promise<void> {
    const pool = Array.from({ length: this.concurrency }, () =>
      // The Java client's partitioner, named so kafkajs does not warn about its changed default.
      this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner }),
    );
    const connected = await Promise.allSettled(pool.map((p) => p.connect()));
    const failed = connected.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed || this.state === 'closed') {
      await Promise.allSettled(pool.map((p) => p.disconnect()));
      if (failed) throw failed.reason;
      return;
    }
    this.pool = pool;
    this.idle = [...pool];
    this.setState('up');
  }

  /** Connects in the background, retrying until it works: the service starts even while Kafka is down. */
  connectInBackground(): void {
    if (this.state === 'new') this.setState('down');
    this.reconnect();
  }

  get isConnected(): boolean {
    return this.state === 'up';
  }

  /**
   * Resolves once Kafka acknowledged every message with acks=all; rejects with a 503 error
   * otherwise. Messages come serialized: `clicks` keyed by user id, `invalid` unkeyed.
   */
  async send(messages: BatchItem<Message>): Promise<void> {
    if (this.state !== 'up') throw unavailable(this.state === 'closed' ? 'the collector is stopping' : 'Kafka is unreachable');
    await this.batcher.submit(messages);
  }

  /** Finishes what is queued or in flight, then leaves Kafka. */
  async disconnect(): Promise<void> {
    await this.batcher.idle();
    this.setState('closed');
    await Promise.allSettled(this.pool.map((p) => p.disconnect()));
    this.pool = [];
    this.idle = [];
    await this.reconnecting;
  }

  private async produce(batch: BatchItem<Message>): Promise<void> {
    // The batcher never runs more calls than the pool has producers, so one is idle here.
    const producer = this.idle.pop();
    if (!producer || this.state !== 'up') throw unavailable('Kafka is unreachable');
    const topicMessages = [];
    if (batch.clicks.length > 0) topicMessages.push({ topic: this.options.topics.clicks, messages: batch.clicks });
    if (batch.invalid.length > 0) topicMessages.push({ topic: this.options.topics.invalid, messages: batch.invalid });
    const metrics = this.options.metrics;
    const started = performance.now();
    try {
      await producer.sendBatch({ topicMessages, acks: -1, compression: this.compression });
    } catch (error) {
      metrics?.produceErrors.inc();
      this.log.warn(`produce failed, reconnecting: ${(error as Error).message}`);
      this.replacePool(producer);
      throw unavailable((error as Error).message);
    }
    if (this.pool.includes(producer)) this.idle.push(producer);
    metrics?.produceLatency.observe((performance.now() - started) / 1000);
    metrics?.produceBatchSize.observe(batch.clicks.length + batch.invalid.length);
  }

  private replacePool(failed: Producer): void {
    if (!this.pool.includes(failed) || this.state !== 'up') return;
    const old = this.pool;
    this.pool = [];
    this.idle = [];
    this.setState('down');
    for (const p of old) void p.disconnect().catch(() => {});
    this.reconnect();
  }

  private reconnect(): void {
    this.reconnecting ??= (async () => {
      let delay = RECONNECT_MIN_MS;
      while (this.state === 'down') {
        try {
          await this.connect();
          this.log.info('connected to Kafka');
        } catch {
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, RECONNECT_MAX_MS);
        }
      }
    })().finally(() => {
      this.reconnecting = undefined;
    });
  }

  private setState(state: State): void {
    this.state = state;
    this.options.metrics?.kafkaUp.set(state === 'up' ? 1 : 0);
  }
}

import kafkajs, { type Admin, type Kafka, type Producer, type TopicMessages } from 'kafkajs';
import type { TopicNames } from '@clickstream/shared';
import type { PartitionRef } from '../state/checkpoint-store.js';
import type { OutboxEntry } from '../state/outbox-codec.js';
import type { CrashPoints } from '../crash-points.js';

/**
 * Publishes one input partition's outbox to Kafka exactly once. Each delivery is a Kafka
 * transaction holding the records and, through `sendOffsets` on a dedicated group, the sequence
 * number of the last outbox entry it carries: the records and the progress marker commit or
 * abort together. The transactional id is per input partition, so a new owner's
 * `initTransactions` fences a zombie's producer and aborts what it left open.
 */
/** Well under the broker's default 1 MiB `message.max.bytes`, leaving room for batch overhead. */
const MAX_SEND_BYTES = 512 * 1024;

/** Between two reads of the delivered sequence number at a claim (see settledDeliveredSeq). */
const SETTLE_MS = 250;

export class KafkaOutboxSink {
  private producer: Producer | undefined;
  /** Once closed (partition released), no producer may stay connected, even one mid-connect. */
  private closed = false;
  readonly transactionalId: string;
  readonly progressGroup: string;

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly topics: TopicNames,
    private readonly ref: PartitionRef,
    private readonly transactionTimeoutMs: number,
    private readonly crash?: CrashPoints,
  ) {
    this.transactionalId = `${ref.consumerGroup}.${ref.topic}.${ref.partition}`;
    this.progressGroup = `${ref.consumerGroup}.outbox`;
  }

  /**
   * Fences earlier producers with this transactional id, then reads the last delivered sequence
   * number. The order matters: read before fencing and a zombie could still commit after.
   */
  async init(): Promise<number> {
    await this.reset();
    const producer = this.kafka.producer({
      transactionalId: this.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: this.transactionTimeoutMs,
      allowAutoTopicCreation: false,
      // Results keyed by user land where the Java client would put them; naming the partitioner
      // also silences kafkajs' warning about its changed default.
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    if (this.closed) {
      await producer.disconnect().catch(() => {});
      throw new Error(`partition ${this.ref.partition} was released while its producer connected`);
    }
    this.producer = producer;
    // InitProducerId runs lazily at the first transaction (kafkajs #296): open and abort one now.
    const fence = await producer.transaction();
    await fence.abort();
    return this.settledDeliveredSeq();
  }

  /**
   * The delivered sequence number once it has settled. Fencing waits until the previous owner's
   * last transaction is complete, but the group coordinator applies that transaction's offset
   * commit a moment after its commit marker is written, and kafkajs' OffsetFetch (v4) cannot ask
   * for stable offsets (KIP-447's require_stable, v7): a read in that moment returns the previous
   * sequence number, and the entries after it would be delivered a second time. Reading again
   * until two reads a short while apart agree closes that window in practice.
   */
  private async settledDeliveredSeq(): Promise<number> {
    let seq = await this.deliveredSeq();
    for (let read = 0; read < 5; read++) {
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const again = await this.deliveredSeq();
      if (again === seq) return seq;
      seq = Math.max(seq, again);
    }
    return seq;
  }

  async deliveredSeq(): Promise<number> {
    const offsets = await this.admin.fetchOffsets({ groupId: this.progressGroup, topics: [this.ref.topic] });
    const entry = offsets[0]?.partitions.find((p) => p.partition === this.ref.partition);
    const seq = Number(entry?.offset ?? -1);
    return seq < 0 ? 0 : seq;
  }

  /** Sends the entries in one transaction; returns the sequence number now delivered. */
  async deliver(entries: OutboxEntry[]): Promise<number> {
    const producer = this.producer;
    if (!producer) throw new Error('KafkaOutboxSink.deliver before init');
    const last = entries[entries.length - 1];
    if (!last) throw new Error('nothing to deliver');
    const transaction = await producer.transaction();
    try {
      for (const topicMessages of this.chunks(entries)) await transaction.sendBatch({ topicMessages, acks: -1 });
      await transaction.sendOffsets({
        consumerGroupId: this.progressGroup,
        topics: [{ topic: this.ref.topic, partitions: [{ partition: this.ref.partition, offset: String(last.seq) }] }],
      });
      this.crash?.reach('before-delivery-commit');
      await transaction.commit();
      return last.seq;
    } catch (error) {
      // A failed EndTxn can leave the producer stuck (kafkajs #1355): throw it away.
      await transaction.abort().catch(() => {});
      await this.reset();
      throw error;
    }
  }

  /**
   * Splits the records into sends of at most MAX_SEND_BYTES: the broker refuses a record batch
   * over `message.max.bytes` (1 MiB by default), and a catch-up checkpoint can hold far more.
   * One transaction may carry any number of sends.
   */
  private *chunks(entries: OutboxEntry[]): Generator<TopicMessages[]> {
    let byTopic = new Map<string, TopicMessages>();
    let bytes = 0;
    for (const entry of entries) {
      for (const record of entry.records) {
        const size = record.v.length + (record.k?.length ?? 0) + 64;
        if (bytes + size > MAX_SEND_BYTES && byTopic.size > 0) {
          yield [...byTopic.values()];
          byTopic = new Map();
          bytes = 0;
        }
        const topic = this.topics[record.t];
        let messages = byTopic.get(topic);
        if (!messages) {
          messages = { topic, messages: [] };
          byTopic.set(topic, messages);
        }
        messages.messages.push({ key: record.k, value: record.v });
        bytes += size;
      }
    }
    if (byTopic.size > 0) yield [...byTopic.values()];
  }

  /** The partition is gone: disconnect now and refuse to connect again. */
  async close(): Promise<void> {
    this.closed = true;
    await this.reset();
  }

  async reset(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    if (producer) await producer.disconnect().catch(() => {});
  }
}

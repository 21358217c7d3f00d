/**
 * Reads fixed offset ranges of Kafka topics without touching anyone's consumer group: a consumer
 * of its own (a fresh group id, read_committed, offsets never committed) seeks each partition to
 * the range's start and stops at the end offsets read before it began, so a live pipeline and its
 * groups are never disturbed and the read ends even while producers keep writing.
 */
import { randomBytes } from 'node:crypto';
import kafkajs, { type Admin, type Kafka } from 'kafkajs';

// kafkajs is CommonJS: Node finds only some of its names as named exports.
const { ConfigResourceTypes } = kafkajs;

export interface PartitionRange {
  partition: number;
  /** Log start offset (the earliest record retention kept). */
  low: number;
  /** First offset to read. */
  start: number;
  /** End offset (exclusive): the log end when the plan was made. */
  end: number;
}

export interface TopicRange {
  topic: string;
  partitions: PartitionRange[];
}

export interface LogRecord {
  topic: string;
  partition: number;
  offset: number;
  /** Record timestamp (ms). */
  timestamp: number;
  key: string | null;
  value: string;
}

/**
 * Per partition, from the first record with a timestamp at or after `fromTimestamp` (or the log
 * start without one) up to the current end.
 */
export async function planRange(admin: Admin, topic: string, fromTimestamp?: number): Promise<TopicRange> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const starts = fromTimestamp === undefined ? undefined : await admin.fetchTopicOffsetsByTimestamp(topic, Math.max(0, Math.floor(fromTimestamp)));
  const partitions = offsets
    .map((o) => {
      const low = Number(o.low);
      const end = Number(o.high);
      const byTime = starts?.find((s) => s.partition === o.partition);
      const start = byTime ? Math.min(Math.max(Number(byTime.offset), low), end) : low;
      return { partition: o.partition, low, start, end };
    })
    .sort((a, b) => a.partition - b.partition);
  return { topic, partitions };
}

/** The topic's `retention.ms` (-1: forever), or undefined when the broker does not say. */
export async function topicRetentionMs(admin: Admin, topic: string): Promise<number | undefined> {
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms'] }],
    });
    const value = described.resources[0]?.configEntries.find((e) => e.configName === 'retention.ms')?.configValue;
    return value === undefined || value === null ? undefined : Number(value);
  } catch {
    return undefined;
  }
}

export const recordsIn = (ranges: readonly TopicRange[]): number =>
  ranges.reduce((n, r) => n + r.partitions.reduce((m, p) => m + Math.max(0, p.end - p.start), 0), 0);

export interface ReadOptions {
  /** Called for each record in range, per partition in offset order; throwing stops the read. */
  onRecord: (record: LogRecord) => void;
  /** Called about once a second while reading, and once at the end. */
  onProgress?: (read: number, total: number) => void;
  /** Give up when nothing moved for this long (an open transaction that never ends, a dead broker). */
  stallTimeoutMs?: number;
  clientLabel?: string;
}

/**
 * Reads every record of the ranges. read_committed: records of aborted transactions and control
 * records are skipped, and the position still moves past them (kafkajs reports such batches
 * through END_BATCH_PROCESS), so a transactional topic's range ends too.
 */
export async function readRanges(kafka: Kafka, ranges: readonly TopicRange[], options: ReadOptions): Promise<number> {
  const total = recordsIn(ranges);
  const pending = new Map<string, { range: PartitionRange; next: number }>();
  for (const r of ranges) for (const p of r.partitions) if (p.end > p.start) pending.set(`${r.topic}\u0000${p.partition}`, { range: p, next: p.start });
  let read = 0;
  if (pending.size === 0) {
    options.onProgress?.(0, total);
    return 0;
  }
  const topics = [...new Set(ranges.filter((r) => r.partitions.some((p) => p.end > p.start)).map((r) => r.topic))];
  const consumer = kafka.consumer({
    groupId: `${options.clientLabel ?? 'clickstream-reconcile'}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
    readUncommitted: false,
    maxWaitTimeInMs: 200,
    allowAutoTopicCreation: false,
  });
  let failure: Error | undefined;
  let lastMove = Date.now();
  const done = new Set<string>();
  const pausedKeys = new Set<string>();
  const advance = (topic: string, partition: number, lastOffset: number) => {
    const key = `${topic}\u0000${partition}`;
    const entry = pending.get(key);
    if (!entry || done.has(key)) return;
    if (lastOffset + 1 > entry.next) entry.next = lastOffset + 1;
    if (entry.next >= entry.range.end) done.add(key);
  };
  consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
    const { topic, partition, lastOffset } = event.payload as { topic: string; partition: number; lastOffset: string };
    lastMove = Date.now();
    advance(topic, partition, Number(lastOffset));
  });
  await consumer.connect();
  try {
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (failure) return;
        const key = `${batch.topic}\u0000${batch.partition}`;
        const entry = pending.get(key);
        if (!entry || done.has(key)) return;
        try {
          for (const m of batch.messages) {
            const offset = Number(m.offset);
            // Anything before the seek took effect, seen twice, or past the planned end is not ours.
            if (offset < entry.next || offset >= entry.range.end) continue;
            entry.next = offset + 1;
            read += 1;
            options.onRecord({
              topic: batch.topic,
              partition: batch.partition,
              offset,
              timestamp: Number(m.timestamp),
              key: m.key?.toString() ?? null,
              value: m.value?.toString() ?? '',
            });
          }
        } catch (error) {
          failure = error as Error;
          return;
        }
        lastMove = Date.now();
        if (entry.next >= entry.range.end) done.add(key);
      },
    });
    for (const r of ranges) {
      for (const p of r.partitions) {
        // Partitions with nothing to read are parked at their end.
        consumer.seek({ topic: r.topic, partition: p.partition, offset: String(p.end > p.start ? p.start : p.end) });
      }
    }
    const stallTimeoutMs = options.stallTimeoutMs ?? 60_000;
    let lastReport = Date.now();
    while (!failure && done.size < pending.size) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Stop fetching partitions that are through.
      const through = [...done].filter((k) => !pausedKeys.has(k));
      for (const key of through) {
        const [topic, partition] = key.split('\u0000') as [string, string];
        pausedKeys.add(key);
        consumer.pause([{ topic, partitions: [Number(partition)] }]);
      }
      if (Date.now() - lastReport >= 1000) {
        lastReport = Date.now();
        options.onProgress?.(read, total);
      }
      if (Date.now() - lastMove > stallTimeoutMs) {
        const stuck = [...pending].filter(([k]) => !done.has(k)).map(([k, e]) => `${k.replace('\u0000', ' partition ')} at offset ${e.next} of ${e.range.end}`);
        throw new Error(`reading stalled for ${Math.round(stallTimeoutMs / 1000)} s: ${stuck.slice(0, 5).join(', ')}`);
      }
    }
    if (failure) throw failure;
    options.onProgress?.(read, total);
    return read;
  } finally {
    await consumer.disconnect().catch(() => {});
  }
}

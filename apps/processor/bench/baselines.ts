import pg from 'pg';
import type { Kafka } from 'kafkajs';
import { periodStart, upsertWindowResults } from '@clickstream/db';
import { FETCH_LIMITS } from '../src/runtime/processor.js';
import type { WindowResult } from '@clickstream/shared';

/**
 * The client's ceiling: a kafkajs consumer that reads and commits and does nothing else - or,
 * with `parse`, also JSON-parses each value, the one step every consumer of the topic must take.
 */
export async function consumerRate(kafka: Kafka, topic: string, total: number, groupId: string, parse: boolean): Promise<number> {
  // The processor's fetch limits, so the ceiling and the processor read the same way.
  const consumer = kafka.consumer({ groupId, ...FETCH_LIMITS });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let checksum = 0;
  let started = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
        if (!started) started = Date.now();
        if (parse) for (const message of batch.messages) checksum += (JSON.parse(message.value!.toString('utf8')) as { eventTime: number }).eventTime % 7;
        seen += batch.messages.length;
        resolveOffset(batch.lastOffset());
        await commitOffsetsIfNecessary({
          topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }] }],
        });
        if (seen >= total) resolve();
      },
    });
  });
  await done;
  const seconds = (Date.now() - started) / 1000;
  await consumer.disconnect();
  if (parse && checksum < 0) throw new Error('unreachable: keeps the parse from being optimised away');
  return total / seconds;
}

/**
 * PostgreSQL's ceiling for the results: `rows` window results upserted into an empty
 * `user_metrics` with the processor's own statement, `batch` rows per statement, one connection,
 * nothing else running. The processor also writes its state log and outbox in those transactions.
 * The rows fall on tomorrow (UTC), which has a daily partition of its own: written like the
 * processor's, and apart from the rows the drain wrote today.
 */
export async function upsertRate(databaseUrl: string, rows: number, batch = 25_000): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const base = periodStart('day', Date.now()) + 86_400_000;
  try {
    let elapsed = 0;
    for (let written = 0; written < rows; written += batch) {
      const results: WindowResult[] = [];
      for (let i = written; i < Math.min(rows, written + batch); i++) {
        const start = base + Math.floor(i / 50_000) * 5000;
        results.push({
          siteId: `site${i % 5}`,
          userId: `user-${(i * 7919) % 50_000}`,
          windowStart: new Date(start).toISOString(),
          windowEnd: new Date(start + 5000).toISOString(),
          events: 1,
          pageViews: 1,
          clicks: 0,
          customEvents: 0,
          uniquePages: 1,
          engagedMs: 0,
          sessions: 1,
          revision: 0,
        });
      }
      const started = performance.now();
      await client.query('BEGIN');
      await upsertWindowResults(client, results);
      await client.query('COMMIT');
      elapsed += performance.now() - started;
    }
    return rows / (elapsed / 1000);
  } finally {
    await client.query(`DELETE FROM user_metrics WHERE window_start >= $1`, [new Date(base).toISOString()]).catch(() => {});
    await client.end();
  }
}

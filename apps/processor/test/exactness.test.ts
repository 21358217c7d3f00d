/**
 * Exactness against the real broker and database: a known stream (many users, out of order,
 * duplicates, late and too-late events) through the processor must give exactly the reference's
 * windows in user_metrics, on read_committed user-metrics, and the late events on the late topic.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestDatabase, createTestTopics, testBrokers, testScope, uniqueId, waitFor } from '@clickstream/local-infra/testing';
import { parseProcessorConfig } from '../src/env.js';
import { Processor } from '../src/runtime/processor.js';
import { generateStream, produceStream } from './support/stream.js';
import { OPERATOR_ENV, outboxDrained, referenceFor, sinkProblems } from './support/harness.js';

test('a known stream gives exactly the reference windows in both sinks', async (context) => {
  const t = testScope(context);
  const brokers = testBrokers();
  const { prefix, topics } = await createTestTopics(t);
  const databaseUrl = await createTestDatabase(t);
  const baseTime = Math.floor((Date.now() - 3_600_000) / 5000) * 5000;
  const events = generateStream({ seed: 42, events: 6000, users: 150, spanMs: 300_000, baseTime });
  await produceStream(brokers, topics.clicks, events, 6);
  const reference = await referenceFor(brokers, topics);
  assert.ok(reference.windows.size > 500, `the stream makes many windows (${reference.windows.size})`);
  assert.ok(reference.lateEventIds.length > 20, `the stream has too-late events (${reference.lateEventIds.length})`);

  const processor = new Processor(
    parseProcessorConfig({
      KAFKA_BROKERS: brokers.join(','),
      DATABASE_URL: databaseUrl,
      TOPIC_PREFIX: prefix,
      PROCESSOR_GROUP: uniqueId('exact-'),
      CHECKPOINT_INTERVAL_MS: '200',
      ...OPERATOR_ENV,
    }),
    { log: (line) => process.env.DEBUG_PROCESSOR && console.error(new Date().toISOString(), line) },
  );
  await processor.start();
  t.after(() => processor.stop());

  await waitFor(
    'the processor to checkpoint all input',
    async () => processor.ownedPartitions.length === 6 && processor.idle && Object.values(await processor.consumerLag()).every((lag) => lag === 0),
    { timeoutMs: 120_000, intervalMs: 200 },
  );
  await waitFor('the outbox to drain to Kafka', () => outboxDrained(databaseUrl), { timeoutMs: 60_000, intervalMs: 200 });
  assert.deepEqual((await sinkProblems(brokers, topics, databaseUrl, reference)).slice(0, 20), []);

  // Pipeline freshness: the instance publishes its figures for GET /api/v1/pipeline.
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  t.after(() => client.end());
  const instance = await waitFor(
    'a heartbeat with latency samples',
    async () => {
      const { rows } = await client.query(`SELECT partitions, freshness FROM processor_instances`);
      // Heartbeats come every 2 s: wait for one written after the input was all checkpointed.
      return rows.length === 1 && rows[0].freshness.eventToVisibleMs.samples > 0 && rows[0].freshness.consumerLag === 0 ? rows[0] : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 250 },
  );
  assert.deepEqual([...instance.partitions].sort(), [0, 1, 2, 3, 4, 5]);
  assert.ok(instance.freshness.eventsInPerSec > 0 && instance.freshness.resultsOutPerSec > 0);
  assert.ok(instance.freshness.checkpointAgeMs >= 0 && instance.freshness.watermarkLagMs > 0);
});

/**
 * PostgreSQL failures mid-stream: every connection of the processor is terminated again and
 * again while events flow (as a database restart does). The processor must go back to its last
 * checkpoint each time and still give exactly the reference windows in both sinks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createTestDatabase, createTestTopics, testBrokers, testScope, uniqueId, waitFor } from '@clickstream/local-infra/testing';
import { databaseName } from '@clickstream/db';
import { parseProcessorConfig } from '../src/env.js';
import { Processor } from '../src/runtime/processor.js';
import { generateStream, produceStream } from './support/stream.js';
import { OPERATOR_ENV, outboxDrained, postgresMatches, referenceFor, sinkProblems } from './support/harness.js';

test('terminated database connections make the processor resume from its checkpoint, exactly', async (context) => {
  const t = testScope(context);
  const brokers = testBrokers();
  const { prefix, topics } = await createTestTopics(t);
  const databaseUrl = await createTestDatabase(t);
  const baseTime = Math.floor((Date.now() - 3_600_000) / 5000) * 5000;
  const events = generateStream({ seed: 5, events: 6000, users: 100, spanMs: 300_000, baseTime });

  const logs: string[] = [];
  const processor = new Processor(
    parseProcessorConfig({
      KAFKA_BROKERS: brokers.join(','),
      DATABASE_URL: databaseUrl,
      TOPIC_PREFIX: prefix,
      PROCESSOR_GROUP: uniqueId('dbfail-'),
      CHECKPOINT_INTERVAL_MS: '150',
      ...OPERATOR_ENV,
    }),
    { log: (line) => { logs.push(line); if (process.env.DEBUG_PROCESSOR) console.error(new Date().toISOString(), line); } },
  );
  await processor.start();
  t.after(() => processor.stop());

  const admin = new pg.Client({ connectionString: databaseUrl.replace(/\/[^/]+$/, '/postgres') });
  await admin.connect();
  t.after(() => admin.end());
  const chunks = 8;
  let terminated = 0;
  for (let i = 0; i < chunks; i++) {
    await produceStream(brokers, topics.clicks, events.slice((i * events.length) / chunks, ((i + 1) * events.length) / chunks), 6, { sentinels: false });
    // A burst of terminations, so some land inside checkpoint transactions, not only on idle connections.
    for (let burst = 0; burst < 15; burst++) {
      const { rowCount } = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [databaseName(databaseUrl)],
      );
      terminated += rowCount ?? 0;
      await sleep(25);
    }
  }
  assert.ok(terminated >= chunks, `terminated ${terminated} connections`);
  assert.ok(logs.some((l) => l.includes('from the last checkpoint')), 'the processor went back to its checkpoint at least once');
  await produceStream(brokers, topics.clicks, [], 6, { sentinels: true });
  const reference = await referenceFor(brokers, topics);
  await waitFor('user_metrics to hold the reference windows', () => postgresMatches(databaseUrl, reference), { timeoutMs: 120_000, intervalMs: 500 });
  await waitFor('the outbox to drain to Kafka', () => outboxDrained(databaseUrl), { timeoutMs: 60_000, intervalMs: 200 });
  assert.deepEqual((await sinkProblems(brokers, topics, databaseUrl, reference)).slice(0, 20), []);
});

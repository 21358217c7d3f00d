/**
 * The walking skeleton: one event posted to the collector reaches `website-clicks`, the
 * processor puts it in its 5-second window, and the window lands in `user_metrics` and, once
 * committed, on `user-metrics`. Everything real: Kafka broker, PostgreSQL, HTTP.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { collectTopic, createTestDatabase, createTestTopics, testBrokers, testScope, uniqueId, waitFor, DESKTOP_USER_AGENT } from '@clickstream/local-infra/testing';
import { parseCollectorConfig } from '@clickstream/collector/env';
import { buildCollectorApp } from '@clickstream/collector/app';
import { EventProducer } from '@clickstream/collector/event-producer';
import { parseProcessorConfig } from '@clickstream/processor/env';
import { Processor } from '@clickstream/processor/processor';
import type { WindowResult } from '@clickstream/shared';

test('one posted event becomes a user_metrics row and a committed user-metrics record', async (context) => {
  const t = testScope(context);
  const { prefix, topics } = await createTestTopics(t);
  const databaseUrl = await createTestDatabase(t);
  const env = { KAFKA_BROKERS: testBrokers().join(','), DATABASE_URL: databaseUrl, TOPIC_PREFIX: prefix };

  const collectorConfig = parseCollectorConfig({ ...env, COLLECTOR_PORT: '0' });
  const producer = new EventProducer({ brokers: collectorConfig.kafkaBrokers, topics, produceTimeoutMs: 10_000 });
  await producer.connect();
  t.after(() => producer.disconnect());
  const collector = buildCollectorApp({ config: collectorConfig, producer });
  t.after(() => collector.close());

  const processor = new Processor(
    parseProcessorConfig({ ...env, PROCESSOR_GROUP: uniqueId('proc-'), CHECKPOINT_INTERVAL_MS: '200', IDLE_TIMEOUT_MS: '500' }),
    { log: () => {} },
  );
  await processor.start();
  t.after(() => processor.stop());
  const { messages } = await collectTopic(t, topics.metrics);

  const userId = uniqueId('user-');
  const now = Date.now();
  const response = await collector.inject({
    method: 'POST',
    url: '/v1/events',
    // Node's fetch says "node": a bot, which counts nowhere. This plays a person.
    headers: { 'content-type': 'application/json', 'user-agent': DESKTOP_USER_AGENT },
    payload: { id: uniqueId('evt-'), type: 'page_view', userId, sessionId: 's1', ts: now, url: 'https://shop.example/cart?x=1' },
  });
  assert.equal(response.statusCode, 202, response.body);
  assert.deepEqual(response.json(), { accepted: 1, rejected: [] });

  const pool = new pg.Pool({ connectionString: databaseUrl });
  t.after(() => pool.end());
  const row = await waitFor(
    'the user_metrics row',
    async () => (await pool.query('SELECT * FROM user_metrics WHERE user_id = $1', [userId])).rows[0],
    { timeoutMs: 15_000 },
  );
  assert.equal(row.site_id, 'default');
  assert.equal(row.events, 1);
  assert.equal(row.page_views, 1);
  assert.equal(row.unique_pages, 1);
  assert.equal(row.revision, 0);
  assert.equal(row.window_start.getTime(), now - (now % 5000));

  const record = await waitFor('the user-metrics record', async () => messages.find((m) => m.key === userId), { timeoutMs: 15_000 });
  const result = JSON.parse(record.value!) as WindowResult;
  assert.equal(result.events, 1);
  assert.equal(result.windowStart, new Date(now - (now % 5000)).toISOString());
  assert.equal(result.revision, 0);
});

/**
 * Erasure against the real broker and database: after a user is erased, late events of theirs up
 * to the erasure time - within allowed lateness, so they would have corrected their windows -
 * re-create nothing, before and after a processor restart, while other users are unaffected.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { recordErasure } from '@clickstream/db';
import type { EnrichedEvent } from '@clickstream/shared';
import { createTestDatabase, createTestTopics, testBrokers, testScope, uniqueId, waitFor } from '@clickstream/local-infra/testing';
import { parseProcessorConfig } from '../src/env.js';
import { Processor } from '../src/runtime/processor.js';
import { produceStream, readTopicLog } from './support/stream.js';
import { OPERATOR_ENV, outboxDrained } from './support/harness.js';

const event = (id: string, userId: string, eventTime: number, overrides: Partial<EnrichedEvent> = {}): EnrichedEvent => ({
  id, type: 'click', siteId: 'shop', userId, sessionId: `s-${userId}`, ts: eventTime, url: 'https://shop.example/p', receivedAt: eventTime, eventTime,
  browser: 'Firefox', os: 'Linux', deviceType: 'desktop', isBot: false, ...overrides,
});

test('an erased user is not re-created by late events, before or after a restart; others are untouched', async (context) => {
  const t = testScope(context);
  const brokers = testBrokers();
  const { prefix, topics } = await createTestTopics(t, 1);
  const databaseUrl = await createTestDatabase(t);
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  t.after(() => db.end());
  const group = uniqueId('erase-');
  const start = () => {
    const processor = new Processor(
      parseProcessorConfig({ KAFKA_BROKERS: brokers.join(','), DATABASE_URL: databaseUrl, TOPIC_PREFIX: prefix, PROCESSOR_GROUP: group, CHECKPOINT_INTERVAL_MS: '200', ...OPERATOR_ENV }),
      { log: () => {} },
    );
    return processor;
  };
  const settle = async (processor: Processor) => {
    await waitFor('the processor to checkpoint all input', async () => processor.ownedPartitions.length === 1 && processor.idle && Object.values(await processor.consumerLag()).every((l) => l === 0), { timeoutMs: 60_000, intervalMs: 200 });
    await waitFor('the outbox to drain', () => outboxDrained(databaseUrl), { timeoutMs: 30_000, intervalMs: 200 });
  };
  const rowsOf = async (table: string, userId: string) => Number((await db.query(`SELECT count(*) AS n FROM ${table} WHERE user_id = $1`, [userId])).rows[0].n);
  const recordsOf = async (topic: string, userId: string) => (await readTopicLog(brokers, topic)).flat().filter((m) => m.key === userId).length;

  const T = Math.floor((Date.now() - 3_600_000) / 5000) * 5000;
  await produceStream(brokers, topics.clicks, [
    event('gone-0001', 'gone', T + 1000, { type: 'page_view' }),
    event('gone-0002', 'gone', T + 6000),
    event('keep-0001', 'keep', T + 1000, { type: 'page_view' }),
    event('clock-001', 'clock', T + 20_000),
  ], 1, { sentinels: false });
  let processor = start();
  await processor.start();
  await settle(processor);
  assert.ok((await rowsOf('user_metrics', 'gone')) > 0 && (await rowsOf('user_sessions', 'gone')) > 0, 'the user has windows and a visit');

  const { records: [erasure] } = await recordErasure(db, 'gone', 'shop');
  assert.ok(erasure && erasure.windowStarts.length === 2 && erasure.sessionStarts.length === 1, 'the erasure kept the deleted keys for markers');
  assert.equal(await rowsOf('user_metrics', 'gone'), 0);
  assert.equal(await rowsOf('visitor_presence', 'gone'), 0);
  const metricsBefore = await recordsOf(topics.metrics, 'gone');
  const sessionsBefore = await recordsOf(topics.sessions, 'gone');

  // Late, within allowed lateness: both would correct their windows.
  await produceStream(brokers, topics.clicks, [event('gone-0003', 'gone', T + 2000), event('keep-0002', 'keep', T + 2000), event('clock-002', 'clock', T + 25_000)], 1, { sentinels: false });
  await settle(processor);
  await processor.stop();
  processor = start();
  await processor.start();
  await produceStream(brokers, topics.clicks, [event('gone-0004', 'gone', T + 7000), event('keep-0003', 'keep', T + 7000), event('clock-003', 'clock', T + 30_000)], 1, { sentinels: false });
  await settle(processor);
  t.after(() => processor.stop());

  assert.equal(await rowsOf('user_metrics', 'gone'), 0, 'no window re-created');
  assert.equal(await rowsOf('user_sessions', 'gone'), 0, 'no visit re-created');
  assert.equal(await rowsOf('visitor_presence', 'gone'), 0);
  assert.equal(await recordsOf(topics.metrics, 'gone'), metricsBefore, 'no user-metrics record after the erasure');
  assert.equal(await recordsOf(topics.sessions, 'gone'), sessionsBefore, 'no user-sessions record after the erasure');
  const keep = await db.query(`SELECT window_start, events FROM user_metrics WHERE user_id = 'keep' ORDER BY window_start`);
  assert.deepEqual(keep.rows.map((r) => r.events), [2, 1], 'the other user got both late corrections');
});

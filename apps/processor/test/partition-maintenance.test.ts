/**
 * Bounded storage (README, "Storage"): the processor reads RETENTION_DAYS, and on start and then
 * every interval it creates partitions (from RAW_RETENTION_DAYS back to days ahead) and drops those
 * wholly past RETENTION_DAYS. The partitioning itself is tested in packages/db/test/partitions.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { listPartitions, maintainPartitions, partitionName, periodStart, upsertWindowResults } from '@clickstream/db';
import { ConfigError, type WindowResult } from '@clickstream/shared';
import { createTestDatabase, createTestTopics, testBrokers, testScope, uniqueId, waitFor } from '@clickstream/local-infra/testing';
import { parseProcessorConfig } from '../src/env.js';
import { startPartitionMaintenance } from '../src/partition-maintenance.js';
import { spawnProcessor } from './support/harness.js';

const DAY = 86_400_000;

function windowAt(userId: string, ms: number): WindowResult {
  const start = ms - (ms % 5000);
  return {
    siteId: 'shop', userId, windowStart: new Date(start).toISOString(), windowEnd: new Date(start + 5000).toISOString(), events: 1,
    pageViews: 1, clicks: 0, customEvents: 0, uniquePages: 1, engagedMs: 0, sessions: 1, revision: 0,
  };
}

test('RETENTION_DAYS: a whole number of days from 1, 400 by default; a bad value names the setting', () => {
  assert.equal(parseProcessorConfig({}).retentionDays, 400);
  assert.equal(parseProcessorConfig({ RETENTION_DAYS: '30' }).retentionDays, 30);
  for (const bad of ['0', '-1', '1.5', 'year', '36501']) {
    assert.throws(
      () => parseProcessorConfig({ RETENTION_DAYS: bad }),
      (error: unknown) => error instanceof ConfigError && error.setting === 'RETENTION_DAYS' && /RETENTION_DAYS/.test(error.message),
      bad,
    );
  }
});

test('the maintenance loop runs at start and again every interval', async (context) => {
  const t = testScope(context);
  const databaseUrl = await createTestDatabase(t);
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  t.after(() => db.end());
  const lines: string[] = [];
  const log = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(`warn: ${m}`) };
  const maintenance = startPartitionMaintenance({ databaseUrl, retentionDays: 400, rawRetentionMs: 3 * DAY }, log, { intervalMs: 200 });
  t.after(() => maintenance.stop());

  const first = await maintenance.current;
  assert.ok(first && first.ran, 'the first run at start');
  const threeDaysBack = partitionName('user_metrics', periodStart('day', Date.now() - 3 * DAY));
  assert.ok(first.created.includes(threeDaysBack), `partitions from RAW_RETENTION_DAYS back: ${first.created.join(', ')}`);
  assert.match(lines.join('\n'), /partitions: created \d+/);

  // A partition that goes missing is back at a later turn.
  const ahead = partitionName('user_metrics', periodStart('day', Date.now() + 7 * DAY));
  await db.query(`ALTER TABLE user_metrics DETACH PARTITION ${ahead}`);
  await db.query(`DROP TABLE ${ahead}`);
  await waitFor(`${ahead} to be created again`, async () => (await listPartitions(db, 'user_metrics')).some((p) => p.name === ahead), { timeoutMs: 30_000 });
  assert.deepEqual(lines.filter((l) => l.startsWith('warn')), []);
});

test('the processor drops partitions past RETENTION_DAYS on start', async (context) => {
  const t = testScope(context);
  const { prefix } = await createTestTopics(t, 1);
  const databaseUrl = await createTestDatabase(t);
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  t.after(() => db.end());
  // Windows 20 and 5 days old, given partitions by a run with a longer retention.
  await upsertWindowResults(db, [windowAt('old', Date.now() - 20 * DAY), windowAt('recent', Date.now() - 5 * DAY)]);
  await maintainPartitions(db, { retentionDays: 1000 });
  const old = partitionName('user_metrics', periodStart('day', Date.now() - 20 * DAY));
  assert.ok((await listPartitions(db, 'user_metrics')).some((p) => p.name === old));

  const processor = spawnProcessor({
    KAFKA_BROKERS: testBrokers().join(','),
    DATABASE_URL: databaseUrl,
    TOPIC_PREFIX: prefix,
    PROCESSOR_GROUP: uniqueId('partitions-'),
    RETENTION_DAYS: '10',
  });
  t.after(async () => {
    processor.child.kill('SIGKILL');
    await processor.exited;
  });
  await waitFor(`${old} to be dropped`, async () => !(await listPartitions(db, 'user_metrics')).some((p) => p.name === old), { timeoutMs: 60_000 }).catch(
    (error: Error) => {
      throw new Error(`${error.message}\nprocessor output:\n${processor.output().slice(-3000)}`);
    },
  );
  const { rows } = await db.query<{ user_id: string }>('SELECT user_id FROM user_metrics ORDER BY user_id');
  assert.deepEqual(rows.map((r) => r.user_id), ['recent'], 'the window inside the retention stays');
  await waitFor('the maintenance log line', async () => /dropped \d+ past RETENTION_DAYS=10/.test(processor.output()), { timeoutMs: 10_000 });
});

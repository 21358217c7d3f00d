/** The checkpoint store against a real PostgreSQL: fencing, restore, cluster changes, outbox trim. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestDatabase, testScope } from '@clickstream/local-infra/testing';
import { CheckpointStore, type Checkpoint, type PartitionRef } from '../../src/state/checkpoint-store.js';
import { FencedError } from '../../src/errors.js';
import type { VisitSnapshot } from '../../src/operators/session-windows.js';
import type { VisitResult } from '@clickstream/shared';
import pg from 'pg';
import { toVisitResult, type UserSessionsRow } from '@clickstream/db';

const ref: PartitionRef = { consumerGroup: 'g', topic: 'website-clicks', partition: 3 };
const watermark = { maxEventTime: 12_000, watermark: 10_000 };
const window = (userId: string, start: number) => ({
  siteId: 's', userId, start, ids: [`id-${userId}-${start}`], paths: ['/'], sessions: ['x'],
  pageViews: 1, clicks: 0, customEvents: 0, engagedMs: 0, revision: -1,
});

function visitState(vid: number, userId: string, start: number): VisitSnapshot {
  const origin = { time: start, id: `v-${vid}`, source: 'Direct / None', utmSource: null, utmMedium: null, utmCampaign: null, country: null, browser: 'Firefox', os: 'Linux', deviceType: 'desktop' };
  return { vid, siteId: 's', userId, start, end: start, pageViews: 1, events: 1, interactions: 0, origin, entry: null, exit: null, revision: 0, emittedStart: start };
}

function visit(userId: string, start: number, revision: number, pageViews = 1): VisitResult {
  return {
    siteId: 's', userId, sessionStart: new Date(start).toISOString(), sessionEnd: new Date(start + 1000).toISOString(), durationMs: 1000,
    pageViews, events: pageViews, entryPage: '/', exitPage: '/', source: 'Direct / None', utmSource: null, utmMedium: null,
    utmCampaign: null, country: 'DE', browser: 'Firefox', os: 'Linux', deviceType: 'desktop', bounce: pageViews === 1, open: true, revision,
  };
}

function checkpoint(epoch: number, overrides: Partial<Checkpoint> = {}): Checkpoint {
  return {
    ref, epoch, nextOffset: 100, results: [], resultsReceivedAt: [], visits: [], visitDeletions: [], site: { stats: [], presence: [] }, outbox: [], outboxSeq: 0, stateSeq: 0, deliveredSeq: 0,
    delta: { watermark, upserts: [], removals: [], visits: { upserts: [], removals: [] }, nextVisitId: 1 },
    ...overrides,
  };
}

test('claims fence older owners, restore state, and start over on another Kafka cluster', async (context) => {
  const t = testScope(context);
  const store = new CheckpointStore(await createTestDatabase(t));
  t.after(() => store.close());

  const first = await store.claim(ref, 'cluster-a');
  assert.equal(first.epoch, 1);
  assert.equal(first.nextOffset, -1);
  const delta = {
    watermark,
    upserts: [window('u1', 0), window('u2', 0)],
    removals: [],
    visits: { upserts: [visitState(7, 'u1', 1000)], removals: [] },
    nextVisitId: 8,
  };
  await store.commit(
    checkpoint(first.epoch, {
      delta,
      stateSeq: 1,
      state: { seq: 1, kind: 'delta', payload: JSON.stringify(delta) },
      outboxSeq: 1,
      outbox: [{ seq: 1, records: [{ t: 'metrics', k: 'u1', v: '{}' }] }],
    }),
  );

  const second = await store.claim(ref, 'cluster-a');
  assert.equal(second.epoch, 2);
  assert.equal(second.nextOffset, 100);
  assert.equal(second.clusterChanged, false);
  assert.deepEqual(second.snapshot.watermark, watermark);
  assert.deepEqual(second.snapshot.windows.map((w) => w.userId).sort(), ['u1', 'u2']);
  assert.deepEqual(second.snapshot.visits.map((v) => [v.vid, v.userId]), [[7, 'u1']], 'visits are restored too');
  assert.equal(second.snapshot.nextVisitId, 8, 'visit ids are never reused');
  assert.deepEqual((await store.readOutbox(ref, 0)).map((e) => e.seq), [1]);

  await assert.rejects(store.commit(checkpoint(first.epoch, { nextOffset: 200 })), FencedError, 'the old owner is fenced');

  await store.commit(checkpoint(second.epoch, { nextOffset: 150, outboxSeq: 1, stateSeq: 1, deliveredSeq: 1 }));
  assert.deepEqual(await store.readOutbox(ref, 0), [], 'delivered entries are trimmed by the checkpoint');

  const third = await store.claim(ref, 'cluster-b');
  assert.equal(third.clusterChanged, true);
  assert.equal(third.nextOffset, -1, 'offsets of another cluster are discarded');
  assert.equal(third.epoch, 3);
});

test('visits are upserted by revision and deleted in the checkpoint transaction', async (context) => {
  const t = testScope(context);
  const databaseUrl = await createTestDatabase(t);
  const store = new CheckpointStore(databaseUrl);
  t.after(() => store.close());
  const rows = async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<UserSessionsRow>('SELECT * FROM user_sessions ORDER BY user_id, session_start');
      return rows.map(toVisitResult);
    } finally {
      await client.end();
    }
  };
  const { epoch } = await store.claim(ref, 'c');
  await store.commit(checkpoint(epoch, { visits: [visit('u1', 0, 0), visit('u1', 3_600_000, 0), visit('u2', 0, 1, 3)] }));
  assert.deepEqual((await rows()).map((v) => [v.userId, v.sessionStart, v.revision]), [
    ['u1', new Date(0).toISOString(), 0],
    ['u1', new Date(3_600_000).toISOString(), 0],
    ['u2', new Date(0).toISOString(), 1],
  ]);
  await store.commit(
    checkpoint(epoch, {
      visits: [visit('u1', 0, 1, 2), visit('u2', 0, 0, 9)],
      visitDeletions: [{ siteId: 's', userId: 'u1', start: 3_600_000 }],
    }),
  );
  const after = await rows();
  assert.deepEqual(after.map((v) => [v.userId, v.revision, v.pageViews, v.bounce]), [
    ['u1', 1, 2, false],
    ['u2', 1, 3, false],
  ], 'the merged-away visit is gone, a higher revision replaced its row, an older one did not');
  assert.equal(after[0]!.country, 'DE');
});

test('site rollup deltas add up across checkpoints at every granularity; presence rows are distinct', async (context) => {
  const t = testScope(context);
  const databaseUrl = await createTestDatabase(t);
  const store = new CheckpointStore(databaseUrl);
  t.after(() => store.close());
  const { epoch } = await store.claim(ref, 'c');
  const minute = Date.UTC(2026, 10, 29, 10, 59);
  const stat = (m: number, value: string, pageviews: number, events: number) => ({ siteId: 's', minute: m, dimension: 'event:page', value, pageviews, events });
  const seen = (userId: string) => ({ siteId: 's', quarter: Date.UTC(2026, 10, 29, 10, 45), dimension: 'event:page', value: '/a', userId });
  await store.commit(checkpoint(epoch, { site: { stats: [stat(minute, '/a', 2, 3), stat(minute + 60_000, '/a', 1, 1)], presence: [seen('u1'), seen('u2')] } }));
  await store.commit(checkpoint(epoch, { site: { stats: [stat(minute, '/a', 1, 1), stat(minute, '/b', 0, 4)], presence: [seen('u1')] } }));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  t.after(() => client.end());
  const read = async (table: string) =>
    (await client.query(`SELECT bucket_start, value, pageviews::int, events::int FROM ${table} ORDER BY bucket_start, value`)).rows.map((r) => [
      (r.bucket_start as Date).toISOString(),
      r.value,
      r.pageviews,
      r.events,
    ]);
  assert.deepEqual(await read('site_stats_minute'), [
    ['2026-11-29T10:59:00.000Z', '/a', 3, 4],
    ['2026-11-29T10:59:00.000Z', '/b', 0, 4],
    ['2026-11-29T11:00:00.000Z', '/a', 1, 1],
  ]);
  assert.deepEqual(await read('site_stats_hour'), [
    ['2026-11-29T10:00:00.000Z', '/a', 3, 4],
    ['2026-11-29T10:00:00.000Z', '/b', 0, 4],
    ['2026-11-29T11:00:00.000Z', '/a', 1, 1],
  ]);
  assert.deepEqual(await read('site_stats_day'), [
    ['2026-11-29T00:00:00.000Z', '/a', 4, 5],
    ['2026-11-29T00:00:00.000Z', '/b', 0, 4],
  ]);
  const presence = await client.query('SELECT user_id FROM visitor_presence ORDER BY user_id');
  assert.deepEqual(presence.rows.map((r) => r.user_id), ['u1', 'u2']);
});

/**
 * Model test of the timeline rollup on a real PostgreSQL: after any sequence of processor-style
 * upserts (new windows, later revisions, stale revisions ignored), GDPR erasures and folds, the
 * timeline from the rollup equals the sums computed straight from user_metrics.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import pg from 'pg';
import { createTestDatabase, testScope, waitFor } from '@clickstream/local-infra/testing';
import { upsertWindowResults } from '@clickstream/db';
import type { WindowResult } from '@clickstream/shared';
import { UserErasure } from '../../src/server/erasure.js';
import { timeline } from '../../src/server/metrics-store.js';
import { RollupFolder, foldDeltas } from '../../src/server/timeline-rollup.js';
import { windowResult } from './helpers.js';

const BASE = Date.UTC(2024, 0, 1);
const scope = testScope({ after });
let pool: pg.Pool;

before(async () => {
  pool = new pg.Pool({ connectionString: await createTestDatabase(scope), max: 4 });
  // The database is dropped WITH (FORCE) at the end; an idle client's resulting error is expected.
  pool.on('error', () => {});
  scope.after(() => pool.end());
});

/** The processor's own upsert: only a higher revision replaces a row. */
async function upsert(results: WindowResult[]): Promise<void> {
  await upsertWindowResults(pool, results);
}

async function truth(siteId: string): Promise<Array<Record<string, number>>> {
  const { rows } = await pool.query(
    `SELECT (extract(epoch FROM window_start) * 1000)::int8 AS ws, count(*)::int AS users, sum(events)::int AS events,
            sum(page_views)::int AS page_views, sum(clicks)::int AS clicks, sum(engaged_ms)::int AS engaged_ms
       FROM user_metrics WHERE site_id = $1 GROUP BY window_start ORDER BY window_start`,
    [siteId],
  );
  return rows.map((r) => ({ ws: Number(r.ws), activeUsers: r.users, events: r.events, pageViews: r.page_views, clicks: r.clicks, engagedMs: r.engaged_ms }));
}

async function fromRollup(siteId: string): Promise<Array<Record<string, number>>> {
  const points = await timeline(pool, { siteId, from: BASE, to: BASE + 60_000 });
  return [...points.entries()]
    .sort(([a], [b]) => a - b)
    .map(([ws, p]) => ({ ws, activeUsers: p.activeUsers, events: p.events, pageViews: p.pageViews, clicks: p.clicks, engagedMs: p.engagedMs }));
}

const result = fc
  .record({
    siteId: fc.constantFrom('a', 'b'),
    userId: fc.constantFrom('u1', 'u2', 'u3', 'u4'),
    slot: fc.integer({ min: 0, max: 3 }),
    events: fc.integer({ min: 0, max: 20 }),
    clicks: fc.integer({ min: 0, max: 5 }),
    engagedMs: fc.integer({ min: 0, max: 5000 }),
    revision: fc.integer({ min: 0, max: 3 }),
  })
  .map((r) => windowResult({ ...r, windowStart: new Date(BASE + r.slot * 5000).toISOString(), pageViews: r.events % 3 }));

// A batch holds each (site, user, window) once, as one processor checkpoint does.
const batch = fc.uniqueArray(result, { selector: (r) => `${r.siteId}/${r.userId}/${r.windowStart}`, minLength: 1, maxLength: 8 });
const op = fc.oneof(
  { weight: 5, arbitrary: batch.map((results) => ({ kind: 'upsert' as const, results })) },
  { weight: 1, arbitrary: fc.record({ userId: fc.constantFrom('u1', 'u2'), siteId: fc.constantFrom('a', undefined) }).map((r) => ({ kind: 'delete' as const, ...r })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'fold' as const }) },
);

test('the rollup timeline always equals the sums over user_metrics', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), async (ops) => {
      await pool.query('TRUNCATE user_metrics');
      for (const o of ops) {
        if (o.kind === 'upsert') await upsert(o.results);
        else if (o.kind === 'delete') await new UserErasure(pool).erase(o.userId, o.siteId);
        else await foldDeltas(pool);
        for (const site of ['a', 'b']) assert.deepEqual(await fromRollup(site), await truth(site));
      }
    }),
    { numRuns: 40 },
  );
});

test('folding empties the deltas and keeps the totals', async () => {
  await pool.query('TRUNCATE user_metrics');
  await upsert([windowResult({ siteId: 'a', userId: 'u1', windowStart: new Date(BASE).toISOString(), events: 4 })]);
  await upsert([windowResult({ siteId: 'a', userId: 'u1', windowStart: new Date(BASE).toISOString(), events: 6, revision: 1 })]);
  assert.ok((await foldDeltas(pool)) >= 1);
  assert.equal((await pool.query('SELECT count(*)::int AS n FROM site_window_deltas')).rows[0].n, 0);
  assert.deepEqual((await pool.query('SELECT active_users::int, events::int FROM site_window_totals')).rows, [{ active_users: 1, events: 6 }]);
  assert.deepEqual(await fromRollup('a'), await truth('a'));
});

test('the background folder folds what writers append', async () => {
  await pool.query('TRUNCATE user_metrics');
  const folder = new RollupFolder(pool, 100);
  folder.start();
  try {
    await upsert([windowResult({ siteId: 'b', userId: 'u9', windowStart: new Date(BASE + 5000).toISOString(), events: 3 })]);
    await waitFor('the delta folded', async () => (await pool.query('SELECT count(*)::int AS n FROM site_window_deltas')).rows[0].n === 0);
    assert.deepEqual((await pool.query("SELECT active_users::int, events::int FROM site_window_totals WHERE site_id = 'b'")).rows, [{ active_users: 1, events: 3 }]);
  } finally {
    await folder.stop();
  }
});

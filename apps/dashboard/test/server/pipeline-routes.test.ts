/**
 * GET /api/v1/pipeline against a real, migrated PostgreSQL: instances as the processor's
 * heartbeat writes them (processor_instances), live and stale, the totals, the thresholds from
 * the FRESHNESS_* settings, and the last reconcile run once a reconcile_runs table exists.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from '@clickstream/shared';
import { testScope } from '@clickstream/local-infra/testing';
import { parseDashboardConfig } from '../../src/server/env.js';
import { levelOf, summarise, type InstanceRow } from '../../src/server/pipeline-store.js';
import { AUTH, READ_AUTH, startTestDashboard, type TestDashboard } from './helpers.js';

const THRESHOLDS = parseDashboardConfig({ API_TOKEN: 'a-token-of-enough-length' }).freshnessThresholds;

function freshness(f: { p50: number | null; p99: number | null; samples?: number; wm: number | null; lag: number; cp: number | null; inRate: number; outRate: number }) {
  return {
    eventToVisibleMs: { p50: f.p50, p99: f.p99, samples: f.samples ?? 10 },
    watermarkLagMs: f.wm,
    consumerLag: f.lag,
    checkpointAgeMs: f.cp,
    eventsInPerSec: f.inRate,
    resultsOutPerSec: f.outRate,
  };
}

const A = freshness({ p50: 800, p99: 2400, wm: 2100, lag: 12, cp: 400, inRate: 120.5, outRate: 30 });
const B = freshness({ p50: 1200, p99: 1900, samples: 3, wm: 3500, lag: 30, cp: 900, inRate: 80, outRate: 12.25 });
const DEAD = freshness({ p50: 99_000, p99: 99_000, wm: 999_000, lag: 5_000_000, cp: 999_000, inRate: 1000, outRate: 1000 });

async function heartbeat(d: TestDashboard, id: string, partitions: number[], f: object, secondsAgo = 0) {
  await d.pool.query(
    `INSERT INTO processor_instances (instance_id, consumer_group, partitions, freshness, updated_at)
     VALUES ($1, 'clickstream-processor', $2, $3, now() - make_interval(secs => $4))
     ON CONFLICT (instance_id) DO UPDATE SET partitions = $2, freshness = $3, updated_at = now() - make_interval(secs => $4)`,
    [id, partitions, JSON.stringify(f), secondsAgo],
  );
}

describe('GET /api/v1/pipeline', () => {
  let d: TestDashboard;
  const scope = testScope({ after });
  before(async () => {
    d = await startTestDashboard(scope, { env: { FRESHNESS_CONSUMER_LAG: '40,1000' } });
  });
  const get = async (headers: Record<string, string> = AUTH) => {
    const response = await d.app.inject({ method: 'GET', url: '/api/v1/pipeline', headers });
    return { status: response.statusCode, body: response.json(), headers: response.headers };
  };

  test('needs a token; a read token may read it', async () => {
    assert.equal((await get({})).status, 401);
    assert.equal((await get(READ_AUTH)).status, 200);
  });

  test('without any processor: no instance, every total null, level red, thresholds from the settings', async () => {
    const { status, body, headers } = await get();
    assert.equal(status, 200);
    assert.equal(headers['cache-control'], 'no-store');
    assert.deepEqual(body.instances, []);
    assert.equal(body.total.instances, 0);
    assert.equal(body.total.level, 'red');
    assert.deepEqual(body.total.eventToVisibleMs, { p50: null, p99: null });
    assert.equal(body.total.consumerLag, null);
    assert.equal(body.staleAfterMs, 15_000);
    assert.deepEqual(body.thresholds.consumerLag, { amber: 40, red: 1000 });
    assert.deepEqual(body.thresholds.eventToVisibleMs, { amber: 10_000, red: 30_000 });
    assert.equal(body.lastReconcile, null, 'no audit has run (or the database has no reconcile_runs table yet): null, not an error');
  });

  test('per instance and in total: maxima of latency, watermark lag and checkpoint age, sums of lag and rates; stale rows listed apart', async () => {
    await heartbeat(d, 'host-a:1', [2, 0], A);
    await heartbeat(d, 'host-b:2', [1], B, 3);
    await heartbeat(d, 'host-c:3', [3], DEAD, 40);
    await heartbeat(d, 'host-gone:4', [4], DEAD, 3600);
    const { body } = await get();
    assert.deepEqual(
      body.instances.map((i: { instanceId: string; stale: boolean }) => [i.instanceId, i.stale]),
      [
        ['host-a:1', false],
        ['host-b:2', false],
        ['host-c:3', true],
      ],
      'live first, then stale; an instance silent for an hour is forgotten',
    );
    const [a, b, c] = body.instances;
    assert.deepEqual(a.partitions, [0, 2]);
    assert.deepEqual(a.eventToVisibleMs, { p50: 800, p99: 2400 });
    assert.equal(a.samples, 10);
    assert.equal(b.samples, 3);
    assert.equal(a.consumerLag, 12);
    assert.ok(a.ageMs >= 0 && a.ageMs < 15_000, String(a.ageMs));
    assert.ok(b.ageMs >= 3000, String(b.ageMs));
    assert.ok(c.ageMs >= 40_000, String(c.ageMs));
    assert.equal(c.consumerLag, 5_000_000, 'a stale instance still shows what it last said');

    const t = body.total;
    assert.equal(t.instances, 2);
    assert.deepEqual(t.eventToVisibleMs, { p50: 1200, p99: 2400 });
    assert.equal(t.watermarkLagMs, 3500);
    assert.equal(t.checkpointAgeMs, 900);
    assert.equal(t.consumerLag, 42);
    assert.equal(t.eventsInPerSec, 200.5);
    assert.equal(t.resultsOutPerSec, 42.25);
    assert.equal(t.level, 'amber', 'consumer lag 42 is past the amber threshold of 40 set by FRESHNESS_CONSUMER_LAG');
  });

  test('the last reconcile run, newest first, with its summary as `pnpm reconcile` stored it', async () => {
    // The table as migration 1796000000010 makes it (created here too, should this database predate it).
    await d.pool.query(`CREATE TABLE IF NOT EXISTS reconcile_runs (
      id bigserial PRIMARY KEY, site_id text NOT NULL, range_from timestamptz NOT NULL, range_to timestamptz NOT NULL,
      started_at timestamptz NOT NULL, finished_at timestamptz NOT NULL, ok boolean NOT NULL, summary jsonb NOT NULL)`);
    const tally = (matching: number, different = 0) => ({ matching, different, missing: 0, extra: 0, examples: { different: [], missing: [], extra: [] } });
    const summary = { version: 1, siteId: 'shop', ok: false, checks: { user_metrics: tally(400, 2), user_sessions: tally(20) } };
    await d.pool.query(
      `INSERT INTO reconcile_runs (site_id, range_from, range_to, started_at, finished_at, ok, summary) VALUES
       ('shop', '2026-01-01T11:00:00Z', '2026-01-01T12:00:00Z', '2026-01-01T12:05:00Z', '2026-01-01T12:05:07Z', false, $1),
       ('shop', '2026-01-01T10:00:00Z', '2026-01-01T11:00:00Z', '2026-01-01T12:00:00Z', '2026-01-01T12:00:09Z', true, '{"version": 1}')`,
      [JSON.stringify(summary)],
    );
    let { body } = await get();
    assert.deepEqual(body.lastReconcile, {
      id: body.lastReconcile.id,
      siteId: 'shop',
      from: '2026-01-01T11:00:00.000Z',
      to: '2026-01-01T12:00:00.000Z',
      startedAt: '2026-01-01T12:05:00.000Z',
      finishedAt: '2026-01-01T12:05:07.000Z',
      ok: false,
      summary,
    });
    await d.pool.query(
      `INSERT INTO reconcile_runs (site_id, range_from, range_to, started_at, finished_at, ok, summary)
       VALUES ('blog', '2026-01-02T00:00:00Z', '2026-01-02T01:00:00Z', '2026-01-02T09:00:00Z', '2026-01-02T09:00:04Z', true, '{"version": 1}')`,
    );
    ({ body } = await get());
    assert.equal(body.lastReconcile.siteId, 'blog', 'the newest run of any site');
    assert.equal(body.lastReconcile.ok, true);
  });

  test('in the OpenAPI document', async () => {
    const response = await d.app.inject({ method: 'GET', url: '/docs/json' });
    const doc = response.json() as { paths: Record<string, { get?: { tags?: string[] } }> };
    assert.deepEqual(doc.paths['/api/v1/pipeline']?.get?.tags, ['pipeline']);
  });
});

describe('summarise (pure)', () => {
  const row = (id: string, f: unknown, ageMs: number): InstanceRow => ({
    instance_id: id,
    consumer_group: 'g',
    partitions: [0],
    freshness: f,
    updated_at: new Date(0),
    age_ms: ageMs,
  });

  test('levels: amber and red from the threshold up, inclusive; null is ok', () => {
    const t = { amber: 10, red: 20 };
    assert.deepEqual([levelOf(null, t), levelOf(9, t), levelOf(10, t), levelOf(19.9, t), levelOf(20, t)], ['ok', 'ok', 'amber', 'amber', 'red']);
  });

  test('the total level is the worst figure; fields an older processor did not write are null, not zero', () => {
    const slowCheckpoint = summarise([row('a', { ...A, checkpointAgeMs: 30_000 }, 0)], THRESHOLDS);
    assert.equal(slowCheckpoint.total.level, 'red');
    const healthy = summarise([row('a', A, 1000)], THRESHOLDS);
    assert.equal(healthy.total.level, 'ok');
    const partial = summarise([row('a', { consumerLag: 3 }, 0), row('b', 'not an object', 0)], THRESHOLDS);
    assert.equal(partial.total.consumerLag, 3);
    assert.equal(partial.total.watermarkLagMs, null);
    assert.deepEqual(partial.total.eventToVisibleMs, { p50: null, p99: null });
    assert.equal(partial.instances[1]!.samples, 0);
  });

  test('only stale instances: total red with no figures', () => {
    const view = summarise([row('a', A, 15_001)], THRESHOLDS);
    assert.equal(view.instances[0]!.stale, true);
    assert.equal(view.total.instances, 0);
    assert.equal(view.total.level, 'red');
    assert.equal(view.total.eventsInPerSec, null);
  });
});

describe('FRESHNESS_* settings', () => {
  const setting = (env: Record<string, string>) => {
    try {
      return parseDashboardConfig({ API_TOKEN: 'a-token-of-enough-length', ...env }).freshnessThresholds;
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return `${error.setting}: ${error.message}`;
    }
  };

  test('defaults, and "amber,red" pairs', () => {
    assert.deepEqual(setting({}), {
      eventToVisibleMs: { amber: 10_000, red: 30_000 },
      watermarkLagMs: { amber: 10_000, red: 60_000 },
      consumerLag: { amber: 10_000, red: 100_000 },
      checkpointAgeMs: { amber: 5000, red: 30_000 },
    });
    const set = setting({ FRESHNESS_LATENCY_MS: '2000, 8000', FRESHNESS_WATERMARK_LAG_MS: '1,2', FRESHNESS_CHECKPOINT_AGE_MS: '0,1' });
    assert.ok(typeof set === 'object');
    assert.deepEqual(set.eventToVisibleMs, { amber: 2000, red: 8000 });
    assert.deepEqual(set.watermarkLagMs, { amber: 1, red: 2 });
    assert.deepEqual(set.checkpointAgeMs, { amber: 0, red: 1 });
  });

  test('a bad value names the setting and says what is wanted', () => {
    assert.match(String(setting({ FRESHNESS_LATENCY_MS: '5000' })), /^FRESHNESS_LATENCY_MS: .*"amber,red"/);
    assert.match(String(setting({ FRESHNESS_CONSUMER_LAG: 'ten,twenty' })), /^FRESHNESS_CONSUMER_LAG: /);
    assert.match(String(setting({ FRESHNESS_WATERMARK_LAG_MS: '-1,5' })), /^FRESHNESS_WATERMARK_LAG_MS: /);
    assert.match(String(setting({ FRESHNESS_CHECKPOINT_AGE_MS: '9000,9000' })), /^FRESHNESS_CHECKPOINT_AGE_MS: .*amber \(9000\) must be below red \(9000\)/);
    assert.match(String(setting({ FRESHNESS_LATENCY_MS: '1,2,3' })), /^FRESHNESS_LATENCY_MS: /);
  });
});

describe('GET /api/v1/pipeline on a database without reconcile_runs', () => {
  const scope = testScope({ after });
  test('the last audit is null, not an error', async () => {
    const d = await startTestDashboard(scope);
    await d.pool.query('DROP TABLE IF EXISTS reconcile_runs');
    const response = await d.app.inject({ method: 'GET', url: '/api/v1/pipeline', headers: AUTH });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().lastReconcile, null);
  });
});

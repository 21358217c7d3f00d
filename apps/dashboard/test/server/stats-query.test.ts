/**
 * POST /api/v1/query against a real, freshly migrated PostgreSQL: rows are written straight into
 * the tables the processor fills, and every answer is checked exactly. A noisy site shares every
 * table and instant with the sites under test, so a leak across sites would change every number.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { testScope } from '@clickstream/local-infra/testing';
import { AUTH, READ_AUTH, startTestDashboard, type TestDashboard } from './helpers.js';
import { seedEvents, seedVisits, seedWindows, type SeedEvent, type SeedWindow } from './stats-seed.js';

/** 20:00 UTC on 2024-01-10 is 01:30 on 2024-01-11 in Kolkata. */
const NOW = Date.parse('2024-01-10T20:00:00Z');

let d: TestDashboard;
const scope = testScope({ after });

interface Answer {
  results: Array<{ dimensions: string[]; metrics: number[] }>;
  meta: Record<string, unknown>;
  query: Record<string, unknown>;
  error?: string;
  message?: string;
}

async function query(body: unknown, headers: Record<string, string> = AUTH, app = d.app): Promise<{ status: number; body: Answer }> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/query', headers, payload: body as object });
  return { status: response.statusCode, body: response.json() as Answer };
}

/** The rows of a 200 answer as [dimensions..., metrics...]. */
async function rows(body: Record<string, unknown>): Promise<Array<Array<string | number>>> {
  const { status, body: answer } = await query(body);
  assert.equal(status, 200, JSON.stringify(answer));
  return answer.results.map((r) => [...r.dimensions, ...r.metrics]);
}

/** The 5-second windows of these events, as the processor stores them: one row per (site, user, window). */
function withWindows(events: SeedEvent[]): SeedWindow[] {
  const windows = new Map<string, SeedWindow & { pageViews: number; clicks: number; customEvents: number }>();
  for (const e of events) {
    const t = Date.parse(e.at);
    const start = new Date(t - (t % 5000)).toISOString();
    const key = `${e.siteId}|${e.userId}|${start}`;
    const w = windows.get(key) ?? { siteId: e.siteId, userId: e.userId, start, pageViews: 0, clicks: 0, customEvents: 0 };
    const type = e.type ?? 'page_view';
    if (type === 'page_view') w.pageViews += 1;
    else if (type === 'click') w.clicks += 1;
    else w.customEvents += 1;
    windows.set(key, w);
  }
  return [...windows.values()];
}

async function seedWithWindows(events: SeedEvent[]) {
  await seedEvents(d.pool, events);
  await seedWindows(d.pool, withWindows(events));
}

before(async () => {
  d = await startTestDashboard(scope, { now: () => NOW });
  // The noisy site: a user every 20 minutes over five days, on the pages and sources the tests use.
  const noise: SeedEvent[] = [];
  const noiseVisits = [];
  for (let t = Date.parse('2024-01-07T00:00:00Z'); t < Date.parse('2024-01-12T00:00:00Z'); t += 20 * 60_000) {
    const at = new Date(t + 7000).toISOString();
    const userId = `n${(t / 60_000) % 7}`;
    noise.push({ siteId: 'noise', userId, at, page: '/pricing' }, { siteId: 'noise', userId, at, type: 'custom', name: 'signup', page: '/blog/one', props: { plan: 'pro' } });
    noiseVisits.push({ siteId: 'noise', userId, start: at, source: 'Google', pageViews: 2, durationMs: 1000, utmCampaign: 'spring' });
  }
  await seedWithWindows(noise);
  await seedVisits(d.pool, noiseVisits);
});

describe('visitors are distinct users over the whole range', () => {
  before(async () => {
    await seedWithWindows([
      { siteId: 'a', userId: 'u1', at: '2024-01-08T10:00:00Z', page: '/home' },
      { siteId: 'a', userId: 'u1', at: '2024-01-09T10:00:00Z', page: '/home' },
      { siteId: 'a', userId: 'u2', at: '2024-01-09T11:00:00Z', page: '/pricing' },
      { siteId: 'a', userId: 'u1', at: '2024-01-09T12:00:00Z', page: '/pricing', type: 'click' },
    ]);
  });

  test('two days: 2 visitors, while the days have 1 and 2', async () => {
    const range = { site_id: 'a', date_range: ['2024-01-08', '2024-01-09'] };
    assert.deepEqual(await rows({ ...range, metrics: ['visitors', 'pageviews', 'events'] }), [[2, 3, 4]]);
    assert.deepEqual(await rows({ ...range, metrics: ['visitors', 'pageviews', 'events'], dimensions: ['time:day'] }), [
      ['2024-01-08', 1, 1, 1],
      ['2024-01-09', 2, 2, 3],
    ]);
  });

  test('by page and by event name: a user seen on both days counts once per value', async () => {
    const range = { site_id: 'a', date_range: ['2024-01-08', '2024-01-09'], metrics: ['visitors', 'pageviews', 'events'] };
    assert.deepEqual(await rows({ ...range, dimensions: ['event:page'] }), [
      ['/pricing', 2, 1, 2],
      ['/home', 1, 2, 2],
    ]);
    assert.deepEqual(await rows({ ...range, dimensions: ['event:name'] }), [
      ['pageview', 2, 3, 3],
      ['click', 1, 0, 1],
    ]);
    assert.deepEqual(await rows({ ...range, dimensions: ['event:page', 'time:day'] }), [
      ['/home', '2024-01-08', 1, 1, 1],
      ['/pricing', '2024-01-09', 2, 1, 2],
      ['/home', '2024-01-09', 1, 1, 1],
    ]);
  });

  test('order_by, pagination and total_rows', async () => {
    const body = { site_id: 'a', date_range: ['2024-01-08', '2024-01-09'], metrics: ['pageviews'], dimensions: ['event:page'] };
    const { body: page } = await query({ ...body, order_by: [['event:page', 'asc']], pagination: { limit: 1, offset: 1 }, include: { total_rows: true } });
    assert.deepEqual(page.results, [{ dimensions: ['/pricing'], metrics: [1] }]);
    assert.equal(page.meta.total_rows, 2);
    assert.deepEqual(page.query.pagination, { limit: 1, offset: 1 });
    assert.deepEqual(page.query.order_by, [['event:page', 'asc']]);
    const { body: past } = await query({ ...body, pagination: { offset: 5 }, include: { total_rows: true } });
    assert.deepEqual(past.results, []);
    assert.equal(past.meta.total_rows, 2);
  });
});

describe('Asia/Kolkata (+05:30)', () => {
  before(async () => {
    const k = (userId: string, at: string, n = 1) => Array.from({ length: n }, () => ({ siteId: 'k', userId, at }));
    await seedWithWindows([
      ...k('kA', '2024-01-10T18:29:00Z', 3), // 23:59 on the 10th, local
      ...k('kB', '2024-01-10T18:30:00Z'), // 00:00 on the 11th
      ...k('kC', '2024-01-10T19:10:00Z'), // 00:40
      ...k('kC', '2024-01-10T19:40:00Z'), // 01:10: same UTC hour, next local hour
      ...k('kD', '2024-01-11T18:29:00Z', 2), // 23:59 on the 11th
      ...k('kE', '2024-01-11T18:30:00Z'), // 00:00 on the 12th
    ]);
    await seedVisits(
      d.pool,
      [
        ['kA', '2024-01-10T18:29:00Z'],
        ['kB', '2024-01-10T18:30:00Z'],
        ['kC', '2024-01-10T19:10:00Z'],
        ['kD', '2024-01-11T18:29:00Z'],
        ['kE', '2024-01-11T18:30:00Z'],
      ].map(([userId, start]) => ({ siteId: 'k', userId: userId!, start: start! })),
    );
  });

  test('"day" is the local day, 18:30 to 18:30 UTC, echoed with its offset', async () => {
    const { status, body } = await query({ site_id: 'k', metrics: ['visitors', 'pageviews', 'visits'], date_range: 'day', timezone: 'Asia/Kolkata' });
    assert.equal(status, 200);
    assert.deepEqual(body.results, [{ dimensions: [], metrics: [3, 5, 3] }]);
    assert.deepEqual(body.query.date_range, ['2024-01-11T00:00:00+05:30', '2024-01-12T00:00:00+05:30']);
    assert.equal(body.query.timezone, 'Asia/Kolkata');
    // The UTC day of the same instant holds other events.
    assert.deepEqual(await rows({ site_id: 'k', metrics: ['visitors', 'pageviews', 'visits'], date_range: 'day' }), [[3, 6, 3]]);
  });

  test('time:hour buckets start at :30 UTC', async () => {
    assert.deepEqual(
      await rows({ site_id: 'k', metrics: ['visitors', 'pageviews', 'visits'], date_range: 'day', timezone: 'Asia/Kolkata', dimensions: ['time:hour'] }),
      [
        ['2024-01-11 00:00:00', 2, 2, 2],
        ['2024-01-11 01:00:00', 1, 1, 0],
        ['2024-01-11 23:00:00', 1, 2, 1],
      ],
    );
  });

  test('time:day over three local days', async () => {
    assert.deepEqual(
      await rows({ site_id: 'k', metrics: ['visitors', 'pageviews'], date_range: ['2024-01-10', '2024-01-12'], timezone: 'Asia/Kolkata', dimensions: ['time:day'] }),
      [
        ['2024-01-10', 1, 3],
        ['2024-01-11', 3, 5],
        ['2024-01-12', 1, 1],
      ],
    );
  });
});

describe('filters', () => {
  before(async () => {
    const pages = ['/pricing', '/blog/one', '/blog/two', '/Blog/Three', '/50%_off', '/50x_off'];
    await seedWithWindows(pages.map((page, i) => ({ siteId: 'f', userId: `f${i}`, at: `2024-01-10T0${i}:10:00Z`, page })));
    await seedVisits(d.pool, [
      { siteId: 'f', userId: 'f0', start: '2024-01-10T00:10:00Z', source: 'Google', utmCampaign: 'spring' },
      { siteId: 'f', userId: 'f1', start: '2024-01-10T01:10:00Z', source: 'google.com' },
      { siteId: 'f', userId: 'f2', start: '2024-01-10T02:10:00Z', source: 'Direct / None', country: null },
      { siteId: 'f', userId: 'f3', start: '2024-01-10T03:10:00Z', source: 'Newsletter' },
    ]);
  });
  const page = (op: string, values: string[], modifiers?: object) =>
    rows({ site_id: 'f', metrics: ['visitors', 'pageviews'], date_range: 'day', filters: [[op, 'event:page', values, ...(modifiers ? [modifiers] : [])]] });
  const source = (op: string, values: string[], modifiers?: object) =>
    rows({ site_id: 'f', metrics: ['visits'], date_range: 'day', filters: [[op, 'visit:source', values, ...(modifiers ? [modifiers] : [])]] });

  test('is, is_not, contains on event:page; case-insensitive on request; % and _ are literal', async () => {
    assert.deepEqual(await page('is', ['/pricing']), [[1, 1]]);
    assert.deepEqual(await page('is', ['/pricing', '/blog/one']), [[2, 2]]);
    assert.deepEqual(await page('is_not', ['/pricing']), [[5, 5]]);
    assert.deepEqual(await page('contains', ['/blog']), [[2, 2]]);
    assert.deepEqual(await page('contains', ['/blog'], { case_sensitive: false }), [[3, 3]]);
    assert.deepEqual(await page('is', ['/PRICING'], { case_sensitive: false }), [[1, 1]]);
    assert.deepEqual(await page('contains', ['%_']), [[1, 1]]);
    const blog = await rows({ site_id: 'f', metrics: ['pageviews'], date_range: 'day', dimensions: ['event:page'], filters: [['contains', 'event:page', ['blog'], { case_sensitive: false }]] });
    assert.deepEqual(blog.map((r) => r[0]).sort(), ['/Blog/Three', '/blog/one', '/blog/two']);
    assert.ok(blog.every((r) => r[1] === 1));
  });

  test('is, is_not, contains on visit dimensions; a missing value reads as (not set)', async () => {
    assert.deepEqual(await source('is', ['Google']), [[1]]);
    assert.deepEqual(await source('is_not', ['Google']), [[3]]);
    assert.deepEqual(await source('contains', ['oogle']), [[2]]);
    assert.deepEqual(await source('contains', ['GOOGLE'], { case_sensitive: false }), [[2]]);
    assert.deepEqual(await rows({ site_id: 'f', metrics: ['visits'], date_range: 'day', dimensions: ['visit:utm_campaign'] }), [
      ['(not set)', 3],
      ['spring', 1],
    ]);
    assert.deepEqual(await rows({ site_id: 'f', metrics: ['visits'], date_range: 'day', filters: [['is', 'visit:country', ['(not set)']]] }), [[1]]);
    // Two filters: both must hold.
    assert.deepEqual(
      await rows({ site_id: 'f', metrics: ['visitors'], date_range: 'day', filters: [['contains', 'visit:source', ['oogle']], ['is_not', 'visit:utm_campaign', ['spring']]] }),
      [[1]],
    );
  });
});

describe('visit metrics', () => {
  before(async () => {
    await seedVisits(d.pool, [
      { siteId: 'v', userId: 'v1', start: '2024-01-10T08:00:00Z', source: 'Google', pageViews: 1, durationMs: 0 },
      { siteId: 'v', userId: 'v2', start: '2024-01-10T09:00:00Z', source: 'Google', pageViews: 3, durationMs: 120_000 },
      { siteId: 'v', userId: 'v1', start: '2024-01-10T11:00:00Z', source: 'Google', pageViews: 3, durationMs: 45_500 },
      { siteId: 'v', userId: 'v3', start: '2024-01-10T12:00:00Z', source: 'Direct / None', pageViews: 2, durationMs: 10_000 },
      // Starts the day before: not a visit of this day.
      { siteId: 'v', userId: 'v4', start: '2024-01-09T23:59:00Z', source: 'Google', pageViews: 1, durationMs: 300_000 },
    ]);
  });

  test('bounce_rate, visit_duration and views_per_visit over the visits that start in the range', async () => {
    // 1 bounce of 4 visits; (0 + 120 + 45.5 + 10) / 4 = 43.875 s; 9 views / 4 visits.
    assert.deepEqual(await rows({ site_id: 'v', metrics: ['visits', 'bounce_rate', 'visit_duration', 'views_per_visit'], date_range: 'day' }), [[4, 25, 44, 2.25]]);
  });

  test('by source: visitors are distinct users of those visits, page views their sum', async () => {
    assert.deepEqual(
      await rows({ site_id: 'v', metrics: ['visitors', 'visits', 'pageviews', 'bounce_rate', 'visit_duration', 'views_per_visit'], date_range: 'day', dimensions: ['visit:source'] }),
      [
        // 1/3 bounced; (0 + 120 + 45.5) / 3 = 55.17 s; 7 / 3 views.
        ['Google', 2, 3, 7, 33, 55, 2.33],
        ['Direct / None', 1, 1, 2, 0, 10, 2],
      ],
    );
  });

  test('a site without data answers zeros, and no rows when grouped', async () => {
    assert.deepEqual(await rows({ site_id: 'empty', metrics: ['visitors', 'visits', 'pageviews', 'bounce_rate', 'visit_duration', 'views_per_visit', 'events'], date_range: '30d' }), [
      [0, 0, 0, 0, 0, 0, 0],
    ]);
    assert.deepEqual(await rows({ site_id: 'empty', metrics: ['visitors'], date_range: '30d', dimensions: ['visit:browser'] }), []);
  });
});

describe('ranges that are not whole quarter hours', () => {
  before(async () => {
    await seedWithWindows([
      { siteId: 'w', userId: 'w1', at: '2024-01-10T10:20:00Z' },
      { siteId: 'w', userId: 'w2', at: '2024-01-10T10:07:00Z' },
      { siteId: 'w', userId: 'w3', at: '2024-01-10T10:02:00Z' },
      { siteId: 'w', userId: 'w5', at: '2024-01-10T10:50:00Z' },
      { siteId: 'w', userId: 'w6', at: '2024-01-10T10:46:00Z' },
      // Realtime: the last five minutes before NOW (19:56-20:01).
      { siteId: 'r', userId: 'r1', at: '2024-01-10T19:57:05Z' },
      { siteId: 'r', userId: 'r2', at: '2024-01-10T19:55:55Z' },
      { siteId: 'r', userId: 'r4', at: '2024-01-10T20:00:30Z', type: 'click' },
    ]);
    await seedWindows(d.pool, [
      { siteId: 'w', userId: 'w4', start: '2024-01-10T10:47:00Z', engagementOnly: true },
      { siteId: 'r', userId: 'r3', start: '2024-01-10T19:58:00Z', engagementOnly: true },
    ]);
  });

  test('visitors over 10:05-10:50 are exact: presence inside, windows at the edges, engagement-only windows left out', async () => {
    const { body } = await query({ site_id: 'w', metrics: ['visitors', 'pageviews'], date_range: ['2024-01-10T10:05:00Z', '2024-01-10T10:50:00Z'] });
    assert.deepEqual(body.results, [{ dimensions: [], metrics: [3, 3] }]);
    assert.deepEqual(body.meta, {});
  });

  test('realtime: visitors now, and per minute in the query zone', async () => {
    const { body } = await query({ site_id: 'r', metrics: ['visitors', 'pageviews', 'events'], date_range: 'realtime' });
    assert.deepEqual(body.results, [{ dimensions: [], metrics: [2, 1, 2] }]);
    assert.deepEqual(body.query.date_range, ['2024-01-10T19:56:00+00:00', '2024-01-10T20:01:00+00:00']);
    assert.deepEqual(await rows({ site_id: 'r', metrics: ['visitors'], date_range: 'realtime', dimensions: ['time:minute'], timezone: 'Asia/Kolkata' }), [
      ['2024-01-11 01:27:00', 1],
      ['2024-01-11 01:30:00', 1],
    ]);
  });

  test('realtime by page says visitors are counted per quarter hour', async () => {
    const { body } = await query({ site_id: 'r', metrics: ['visitors', 'pageviews'], date_range: 'realtime', dimensions: ['event:page'] });
    assert.deepEqual(body.results, [{ dimensions: ['/'], metrics: [3, 1] }]);
    assert.equal((body.meta.metric_warnings as Record<string, { code: string }>).visitors?.code, 'quarter_hour_resolution');
  });
});

test('custom event properties', async () => {
  const signup = (userId: string, plan: string) => ({ siteId: 'p', userId, at: '2024-01-10T05:00:00Z', type: 'custom' as const, name: 'signup', props: { plan } });
  await seedWithWindows([signup('p1', 'pro'), signup('p2', 'pro'), signup('p2', 'pro'), signup('p3', 'free')]);
  assert.deepEqual(await rows({ site_id: 'p', metrics: ['visitors', 'events'], date_range: 'day', dimensions: ['event:props:plan'] }), [
    ['pro', 2, 3],
    ['free', 1, 1],
  ]);
  assert.deepEqual(await rows({ site_id: 'p', metrics: ['visitors'], date_range: 'day', filters: [['is', 'event:name', ['signup']]] }), [[3]]);
});

test('sites never mix: the noisy site answers its own numbers only', async () => {
  // 72 twenty-minute slots a day, each one page view and one custom event, by 7 users.
  assert.deepEqual(await rows({ site_id: 'noise', metrics: ['visitors', 'pageviews', 'events', 'visits'], date_range: 'day' }), [[7, 72, 144, 72]]);
  assert.deepEqual(await rows({ site_id: 'noise', metrics: ['pageviews'], date_range: 'day', dimensions: ['event:page'] }), [
    ['/pricing', 72],
    ['/blog/one', 0],
  ]);
});

describe('requests', () => {
  test('the answer echoes the normalised query', async () => {
    const filters = [['contains', 'event:page', ['/p'], { case_sensitive: false }]];
    const { body } = await query({ site_id: 'a', metrics: ['pageviews', 'visitors'], date_range: ['2024-01-08', '2024-01-09'], timezone: 'Europe/Berlin', dimensions: ['event:page'], filters });
    assert.deepEqual(body.query, {
      site_id: 'a',
      metrics: ['pageviews', 'visitors'],
      date_range: ['2024-01-08T00:00:00+01:00', '2024-01-10T00:00:00+01:00'],
      timezone: 'Europe/Berlin',
      filters,
      dimensions: ['event:page'],
      order_by: [['pageviews', 'desc']],
      pagination: { limit: 10000, offset: 0 },
    });
    assert.deepEqual(body.results, [{ dimensions: ['/pricing'], metrics: [1, 2] }]);
  });

  test('the OpenAPI document describes the route and what it refuses', async () => {
    const doc = (await d.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, { description?: string; requestBody?: unknown }>> };
    const route = doc.paths['/api/v1/query']?.post;
    assert.ok(route, 'POST /api/v1/query is documented');
    assert.match(route.description!, /cannot be combined with metric bounce_rate/);
    assert.match(route.description!, /QUERY_TIMEOUT_MS/);
    assert.ok(route.requestBody);
  });

  test('a read-only token may query; no token may not', async () => {
    assert.equal((await query({ site_id: 'a', metrics: ['visitors'], date_range: 'day' }, READ_AUTH)).status, 200);
    const anonymous = await query({ site_id: 'a', metrics: ['visitors'], date_range: 'day' }, {});
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.error, 'unauthorized');
  });

  test('every bad field is a 400 invalid_query naming it', async () => {
    const ok = { site_id: 'a', metrics: ['visitors'], date_range: 'day' };
    const cases: Array<[unknown, RegExp]> = [
      [{ metrics: ['visitors'], date_range: 'day' }, /site_id/],
      [{ ...ok, metrics: ['visitors', 'sessions'] }, /metrics\[1\].*"sessions"/],
      [{ ...ok, date_range: 'yesterday' }, /date_range/],
      [{ ...ok, timezone: 'Asia/Mumbai' }, /timezone/],
      [{ ...ok, dimensions: ['event:goal'] }, /dimensions\[0\].*"event:goal"/],
      [{ ...ok, filters: [['is_not_contains', 'event:page', ['/a']]] }, /filters\[0\].*operator/],
      [{ ...ok, order_by: [['pageviews', 'desc']] }, /order_by\[0\].*"pageviews"/],
      [{ ...ok, pagination: { limit: 20000 } }, /pagination.limit/],
      [{ ...ok, metrics: ['bounce_rate'], filters: [['is', 'event:page', ['/pricing']]] }, /filter on event:page cannot be combined with metric bounce_rate/],
      [['an', 'array'], /JSON object/],
    ];
    for (const [body, pattern] of cases) {
      const { status, body: answer } = await query(body);
      assert.equal(status, 400, JSON.stringify(body));
      assert.equal(answer.error, 'invalid_query');
      assert.match(answer.message!, pattern);
    }
    // Known to this process's Intl data, not to PostgreSQL's (removed from tzdata in 2020).
    const legacyZone = await query({ ...ok, site_id: 'noise', timezone: 'US/Pacific-New', dimensions: ['time:hour'] });
    assert.equal(legacyZone.status, 400);
    assert.equal(legacyZone.body.error, 'invalid_query');
    assert.match(legacyZone.body.message!, /timezone/);
    const broken = await d.app.inject({ method: 'POST', url: '/api/v1/query', headers: { ...AUTH, 'content-type': 'application/json' }, payload: '{"site_id": ' });
    assert.equal(broken.statusCode, 400);
  });
});

test('a query past QUERY_TIMEOUT_MS answers 503; the pool holds 4 connections and stays usable', async (t) => {
  const dash = await startTestDashboard(testScope(t), { now: () => NOW, env: { QUERY_TIMEOUT_MS: '1500' } });
  await seedVisits(dash.pool, [{ siteId: 'x', userId: 'x1', start: '2024-01-10T08:00:00Z' }]);
  const body = { site_id: 'x', metrics: ['visits'], date_range: 'day' };
  // A transaction that holds user_sessions: stats queries wait for the lock until their timeout.
  const locker = new pg.Client({ connectionString: dash.config.databaseUrl });
  // Dropping the test database at the end ends this session from the server side.
  locker.on('error', () => {});
  await locker.connect();
  t.after(() => locker.end());
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE user_sessions IN ACCESS EXCLUSIVE MODE');

  const pending = Array.from({ length: 6 }, () => query(body, AUTH, dash.app));
  const statsBackends = async () =>
    Number(
      (
        await dash.pool.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'clickstream-dashboard-stats'",
        )
      ).rows[0]!.n,
    );
  let most = 0;
  const settled = Promise.all(pending);
  let done = false;
  void settled.then(() => (done = true));
  while (!done) {
    most = Math.max(most, await statsBackends());
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const answers = await settled;
  for (const { status, body: answer } of answers) {
    assert.equal(status, 503, JSON.stringify(answer));
    assert.ok(['query_timeout', 'unavailable'].includes(answer.error!), answer.error);
  }
  assert.ok(answers.some((a) => a.body.error === 'query_timeout' && /QUERY_TIMEOUT_MS/.test(a.body.message!)));
  assert.ok(most >= 1 && most <= 4, `stats connections seen: ${most}`);

  await locker.query('ROLLBACK');
  assert.deepEqual((await query(body, AUTH, dash.app)).body.results, [{ dimensions: [], metrics: [1] }]);
});

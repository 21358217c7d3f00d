/**
 * `pnpm bench dashboard`: the timeline over a day of data for 50,000 users, through the real app
 * (HTTP via inject, JSON included) and as bare SQL over the rollup, with EXPLAINs. Baselines
 * measured in the same run: the same timeline aggregated straight from user_metrics (what the
 * rollup replaces) and a plain count of the day's rows.
 *
 * Data: 50,000 users on one site, each active in two 1-minute bursts (12 windows each) spread
 * over the day, inserted in time order as the processor writes them: ~1.2 M rows.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { ensureDatabase, migrate } from '@clickstream/db';
import { serverUrlOf } from '@clickstream/local-infra';
import { uniqueId } from '@clickstream/local-infra/testing';
import { buildDashboardApp } from '../src/server/app.js';
import { UserErasure } from '../src/server/erasure.js';
import { parseDashboardConfig } from '../src/server/env.js';
import { LiveHub } from '../src/server/live/live-hub.js';
import { timeline } from '../src/server/metrics-store.js';
import { createDashboardMetrics } from '../src/server/metrics.js';
import { foldDeltas } from '../src/server/timeline-rollup.js';

const USERS = Number(process.env.BENCH_USERS ?? 50_000);
const BURSTS = 2;
const BURST_WINDOWS = 12;
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 15);
const TARGET_MS = 200;
const SITE = 'bench';
const DAY_MS = 86_400_000;
const DAY_START = Date.UTC(2024, 0, 1);
const TOKEN = 'bench-token-0123456789abcdef';

const log = (message: string) => process.stdout.write(`${message}\n`);
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('DATABASE_URL is not set: run through `pnpm bench dashboard`');
const server = serverUrlOf(databaseUrl);
const name = uniqueId('cs_bench_dashboard_').toLowerCase();
const url = `${server}/${name}`;

async function timeIt(label: string, fn: () => Promise<unknown>): Promise<{ label: string; median: number; p95: number; min: number }> {
  for (let i = 0; i < 2; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const pick = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  return { label, median: pick(0.5), p95: pick(0.95), min: samples[0]! };
}

await ensureDatabase(url);
const pool = new pg.Pool({ connectionString: url, max: 4 });
try {
  await migrate(url);
  const t0 = performance.now();
  await pool.query(
    `INSERT INTO user_metrics (site_id, user_id, window_start, window_end, events, page_views, clicks, custom_events,
                               unique_pages, engaged_ms, sessions, revision)
     SELECT $1, 'user-' || u, ws, ws + interval '5 seconds', 1 + (u + j) % 7, 1 + (u + j) % 2, (u + j) % 4, 0,
            1, ((u * 31 + j * 17) % 50) * 100, 1, 0
       FROM generate_series(0, $2::int - 1) AS u,
            generate_series(0, $3::int - 1) AS b,
            generate_series(0, $4::int - 1) AS j,
            LATERAL (SELECT to_timestamp($5::float8 / 1000)
                            + (((u * 7919 + b * 86413) % (17280 - $4::int)) + j) * interval '5 seconds' AS ws) AS w
      ORDER BY ws
     ON CONFLICT DO NOTHING`,
    [SITE, USERS, BURSTS, BURST_WINDOWS, DAY_START],
  );
  const folded = await foldDeltas(pool);
  await pool.query('VACUUM ANALYZE user_metrics, site_window_totals, site_window_deltas');
  const { rows } = await pool.query<{ n: number; size: string }>(
    "SELECT count(*)::int AS n, pg_size_pretty(pg_total_relation_size('user_metrics')) AS size FROM user_metrics",
  );
  log(`folded ${folded} per-window site totals`);
  log(`seeded ${rows[0]!.n.toLocaleString('en')} windows of ${USERS.toLocaleString('en')} users over one day in ${((performance.now() - t0) / 1000).toFixed(1)} s (table + indexes ${rows[0]!.size})`);

  const config = parseDashboardConfig({ DATABASE_URL: url, API_TOKEN: TOKEN });
  const hub = new LiveHub(config.liveMaxBufferedBytes);
  const app = await buildDashboardApp({ config, db: pool, hub, consumer: { healthy: () => true }, metrics: createDashboardMetrics(() => 0), erasure: new UserErasure(pool) });
  const headers = { authorization: `Bearer ${TOKEN}` };
  const dayQuery = `siteId=${SITE}&from=${DAY_START}&to=${DAY_START + DAY_MS}`;

  const check = await app.inject({ method: 'GET', url: `/api/v1/metrics/timeline?${dayQuery}`, headers });
  if (check.statusCode !== 200) throw new Error(`timeline answered ${check.statusCode}: ${check.body.slice(0, 300)}`);
  const windows = (check.json() as { windows: Array<{ events: number }> }).windows;
  log(`timeline over the day: ${windows.length} windows, ${(check.body.length / 1024).toFixed(0)} KiB of JSON, ${windows.reduce((s, w) => s + w.events, 0).toLocaleString('en')} events`);

  // What the rollup replaces: every user's rows of the day, aggregated per window.
  const directSql = `SELECT (extract(epoch FROM window_start) * 1000)::int8 AS ws, count(*)::int AS users, sum(events)::int8 AS events,
            sum(page_views)::int8 AS page_views, sum(clicks)::int8 AS clicks, sum(engaged_ms)::int8 AS engaged_ms
       FROM user_metrics
      WHERE site_id = $1 AND window_start > $2 AND window_start < $3
      GROUP BY window_start`;
  const rollupSql = `SELECT (extract(epoch FROM window_start) * 1000)::int8 AS ws, sum(active_users)::int8 AS users, sum(events)::int8 AS events
       FROM (SELECT window_start, active_users, events FROM site_window_totals WHERE site_id = $1 AND window_start > $2 AND window_start < $3
             UNION ALL
             SELECT window_start, active_users, events FROM site_window_deltas WHERE site_id = $1 AND window_start > $2 AND window_start < $3) AS parts
      GROUP BY window_start HAVING sum(active_users) > 0`;
  const dayParams = [SITE, new Date(DAY_START - 5000), new Date(DAY_START + DAY_MS)];
  const explained: Array<[string, string, unknown[]]> = [
    ['day timeline, rollup (what the API runs)', rollupSql, dayParams],
    ['day timeline, direct aggregation over user_metrics (baseline)', directSql, dayParams],
    [
      'top users by events over the day',
      `SELECT user_id, sum(events)::int8 AS events, count(*)::int AS windows FROM user_metrics
        WHERE site_id = $1 AND window_start > $2 AND window_start < $3 GROUP BY user_id ORDER BY events DESC, user_id LIMIT 10`,
      dayParams,
    ],
    [
      "one user's windows over the day",
      'SELECT * FROM user_metrics WHERE site_id = $1 AND user_id = $2 AND window_start > $3 AND window_start < $4 ORDER BY window_start LIMIT 1000',
      [SITE, 'user-4242', dayParams[1], dayParams[2]],
    ],
    [
      'live gap fill (windows written in the last minute)',
      `SELECT * FROM user_metrics WHERE updated_at >= now() - interval '1 minute' AND ($1::text IS NULL OR site_id = $1)
        ORDER BY updated_at DESC LIMIT 10000`,
      [SITE],
    ],
  ];
  for (const [label, sql, params] of explained) {
    const explain = await pool.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
    log(`\nEXPLAIN (ANALYZE, BUFFERS), ${label}:`);
    for (const row of explain.rows as Array<{ 'QUERY PLAN': string }>) log(`  ${row['QUERY PLAN']}`);
  }

  const results = [
    await timeIt('baseline: day timeline straight from user_metrics', () => pool.query(directSql, dayParams)),
    await timeIt('baseline: count(*) of the day in user_metrics', () =>
      pool.query('SELECT count(*) FROM user_metrics WHERE site_id = $1 AND window_start > $2 AND window_start < $3', dayParams),
    ),
    await timeIt('timeline over the day (SQL over the rollup)', () => timeline(pool, { siteId: SITE, from: DAY_START, to: DAY_START + DAY_MS })),
    await timeIt('timeline over the day (HTTP, JSON)', () => app.inject({ method: 'GET', url: `/api/v1/metrics/timeline?${dayQuery}`, headers })),
    await timeIt('timeline, last 15 minutes (HTTP)', () =>
      app.inject({ method: 'GET', url: `/api/v1/metrics/timeline?siteId=${SITE}&to=${DAY_START + DAY_MS / 2}`, headers }),
    ),
    await timeIt('top users by events over the day (HTTP)', () =>
      app.inject({ method: 'GET', url: `/api/v1/metrics/top-users?${dayQuery}&by=events&limit=10`, headers }),
    ),
    await timeIt("one user's windows over the day (HTTP)", () =>
      app.inject({ method: 'GET', url: `/api/v1/users/user-4242/metrics?${dayQuery}`, headers }),
    ),
  ];
  const baseline = results[0]!.median;
  log(`\n${'query'.padEnd(52)} ${'median'.padStart(9)} ${'p95'.padStart(9)} ${'min'.padStart(9)}  vs baseline`);
  for (const r of results) {
    log(`${r.label.padEnd(52)} ${r.median.toFixed(1).padStart(7)}ms ${r.p95.toFixed(1).padStart(7)}ms ${r.min.toFixed(1).padStart(7)}ms  ${(r.median / baseline).toFixed(2)}x`);
  }
  const day = results[3]!;
  log(`\ntimeline over a day for ${USERS.toLocaleString('en')} users: median ${day.median.toFixed(1)} ms (target < ${TARGET_MS} ms: ${day.median < TARGET_MS ? 'met' : 'NOT met'})`);
  await app.close();
} finally {
  await pool.end();
  const admin = new pg.Client({ connectionString: `${server}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`);
  await admin.end();
}

/**
 * Bounded storage on a real PostgreSQL: the time-partitions migration keeps every row of the old
 * layout, partitions exist ahead, rows with no partition land in DEFAULT and are moved out of it,
 * and expired partitions are dropped while writers keep writing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import type { VisitResult, WindowResult } from '@clickstream/shared';
import { ensureDatabase } from '../src/database.js';
import { migrate } from '../src/migrate.js';
import {
  PARTITIONED_TABLES,
  PERIODS_AHEAD,
  listPartitions,
  maintainPartitions,
  nextPeriod,
  partitionName,
  periodStart,
  type PartitionMaintenanceResult,
} from '../src/partitions.js';
import { upsertVisitResults } from '../src/upsert-visit-results.js';
import { upsertWindowResults } from '../src/upsert-window-results.js';
import { writeSiteStats, type PresenceRowInput, type SiteStatRow } from '../src/write-site-stats.js';

const DAY = 86_400_000;
const migrationsDir = fileURLToPath(new URL('../migrations', import.meta.url));
const PARTITIONING = readdirSync(migrationsDir).find((f) => f.endsWith('_time-partitions.sql'))!;
const serverUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');

async function freshDatabase(t: TestContext): Promise<string> {
  const name = `cs_parts_${randomBytes(5).toString('hex')}`;
  const url = new URL(`/${name}`, serverUrl).toString();
  await ensureDatabase(url);
  t.after(async () => {
    const admin = new pg.Client({ connectionString: new URL('/postgres', serverUrl).toString() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });
  return url;
}

async function connect(t: TestContext, url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {}); // the database is dropped WITH (FORCE) at the end
  await client.connect();
  t.after(() => client.end().catch(() => {}));
  return client;
}

const iso = (ms: number) => new Date(ms).toISOString();
const windowStartOf = (ms: number) => ms - (ms % 5000);

function windowRow(siteId: string, userId: string, start: number, revision = 0, events = 1): WindowResult {
  return {
    siteId, userId, windowStart: iso(start), windowEnd: iso(start + 5000), events, pageViews: events, clicks: 0,
    customEvents: 0, uniquePages: 1, engagedMs: 100, sessions: 1, revision,
  };
}

function visitRow(siteId: string, userId: string, start: number, revision = 0): VisitResult {
  return {
    siteId, userId, sessionStart: iso(start), sessionEnd: iso(start + 60_000), durationMs: 60_000, pageViews: 2, events: 3,
    entryPage: '/', exitPage: '/b', source: 'Direct / None', utmSource: null, utmMedium: null, utmCampaign: null,
    country: 'DE', browser: 'Firefox', os: 'Linux', deviceType: 'desktop', bounce: false, open: revision === 0, revision,
  };
}

function statRow(siteId: string, ms: number, value = '/'): SiteStatRow {
  return { siteId, minute: ms - (ms % 60_000), dimension: 'event:page', value, pageviews: 1, events: 1 };
}

function presenceRow(siteId: string, ms: number, userId: string): PresenceRowInput {
  return { siteId, quarter: ms - (ms % 900_000), dimension: '', value: '', userId };
}

/**
 * One processor-like checkpoint's writes, in one transaction: for the i-th time, user `u<i>` (or
 * the one given) has a window, a visit, a page view and presence then.
 */
async function writeCheckpoint(client: pg.ClientBase, siteId: string, times: number[], revision = 0, users = times.map((_, i) => `u${i}`)): Promise<void> {
  await client.query('BEGIN');
  try {
    await upsertWindowResults(client, times.map((ms, i) => windowRow(siteId, users[i]!, windowStartOf(ms), revision, revision + 1)));
    await upsertVisitResults(client, times.map((ms, i) => visitRow(siteId, users[i]!, ms - (ms % 1000), revision)));
    await writeSiteStats(client, times.map((ms, i) => statRow(siteId, ms, `/${users[i]}`)), times.map((ms, i) => presenceRow(siteId, ms, users[i]!)));
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

const ALL_TABLES = PARTITIONED_TABLES.map((p) => p.table);

/** Per table: row count and a digest of every row's text. */
async function contents(client: pg.ClientBase): Promise<Record<string, { rows: number; digest: string }>> {
  const out: Record<string, { rows: number; digest: string }> = {};
  for (const table of ALL_TABLES) {
    const { rows } = await client.query<{ n: number; digest: string | null }>(
      `SELECT count(*)::int AS n, md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest FROM ${table} t`,
    );
    out[table] = { rows: rows[0]!.n, digest: rows[0]!.digest ?? '' };
  }
  return out;
}

/** Index definitions and triggers per table, in a form that does not depend on partitioning. */
async function schemaOf(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ line: string }>(
    `SELECT 'index ' || regexp_replace(indexdef, ' ON (ONLY )?', ' ON ') AS line FROM pg_indexes WHERE tablename = ANY($1)
     UNION ALL
     SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE t.tgrelid = ANY(SELECT c.oid FROM pg_class c WHERE c.relname = ANY($1)) AND NOT t.tgisinternal
     UNION ALL
     SELECT 'constraint ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = ANY(SELECT c.oid FROM pg_class c WHERE c.relname = ANY($1))
     ORDER BY 1`,
    [ALL_TABLES],
  );
  return rows.map((r) => r.line);
}

/** Rows that are not in the partition of their own period (DEFAULT counts as wrong). */
async function misplacedRows(client: pg.ClientBase): Promise<string[]> {
  const wrong: string[] = [];
  for (const { table, key, unit } of PARTITIONED_TABLES) {
    const { rows } = await client.query<{ part: string; ms: number }>(
      `SELECT DISTINCT tableoid::regclass::text AS part, (extract(epoch FROM ${key}) * 1000)::float8 AS ms FROM ${table}`,
    );
    for (const r of rows) if (r.part !== partitionName(table, periodStart(unit, r.ms))) wrong.push(`${table}: ${iso(r.ms)} in ${r.part}`);
  }
  return wrong;
}

test('the partitioning migration keeps every row, index, constraint and trigger of the old layout', async (t) => {
  const url = await freshDatabase(t);
  const client = await connect(t, url);
  const partitioningTs = Number(PARTITIONING.split('_')[0]);
  await runner({
    dbClient: client, dir: migrationsDir, direction: 'up', migrationsTable: 'clickstream_migrations',
    count: partitioningTs - 1, timestamp: true, log: () => {}, singleTransaction: true, noLock: true,
  });
  assert.equal((await client.query(`SELECT relkind FROM pg_class WHERE relname = 'user_metrics'`)).rows[0].relkind, 'r', 'starts from the old layout');

  // Rows over six weeks, a day decades back and one far ahead, 3 sites, as the processor writes them.
  const now = Date.now();
  const times: number[] = [];
  for (let i = 0; i < 600; i++) times.push(now - Math.floor((i * 7919) % 45) * DAY - ((i * 104_729) % DAY));
  times.push(Date.UTC(1999, 11, 31, 23, 59, 59), Date.UTC(2150, 5, 1, 12));
  const users = times.map((_, j) => `u${j}`);
  for (const [i, site] of ['shop', 'blog', 'docs'].entries()) {
    const mine = (step: number) => (_: unknown, j: number) => j % step === i;
    await writeCheckpoint(client, site, times.filter(mine(3)), 0, users.filter(mine(3)));
    await writeCheckpoint(client, site, times.filter(mine(6)), 1, users.filter(mine(6))); // later revisions update rows
  }
  // The dashboard's fold: deltas into site_window_totals.
  await client.query(`WITH moved AS (DELETE FROM site_window_deltas RETURNING *)
    INSERT INTO site_window_totals SELECT site_id, window_start, sum(active_users), sum(events), sum(page_views), sum(clicks), sum(engaged_ms)
      FROM moved GROUP BY site_id, window_start`);
  const before = await contents(client);
  const schemaBefore = await schemaOf(client);
  for (const table of ALL_TABLES) assert.ok(before[table]!.rows >= 200, `${table} holds rows before (${before[table]!.rows})`);

  await migrate(url);

  assert.deepEqual(await contents(client), before, 'every row of every table, unchanged');
  assert.deepEqual(await schemaOf(client), schemaBefore, 'the same indexes, constraints and triggers');
  const kinds = await client.query<{ relname: string; relkind: string }>(`SELECT relname, relkind FROM pg_class WHERE relname = ANY($1) ORDER BY 1`, [ALL_TABLES]);
  assert.deepEqual(kinds.rows.map((r) => r.relkind), ALL_TABLES.map(() => 'p'), 'every table is partitioned');
  assert.deepEqual(await misplacedRows(client), [], 'each row is in the partition of its period, none in DEFAULT');

  // The timeline rollup still sees writes to every partition, DEFAULT included.
  await client.query('DELETE FROM site_window_deltas');
  const far = Date.UTC(2300, 0, 1);
  await upsertWindowResults(client, [windowRow('shop', 'late', windowStartOf(now), 0, 4), windowRow('shop', 'late', far, 0, 2)]);
  await upsertWindowResults(client, [windowRow('shop', 'late', windowStartOf(now), 1, 5)]);
  const deltas = await client.query<{ window_start: Date; users: number; events: number }>(
    `SELECT window_start, sum(active_users)::int AS users, sum(events)::int AS events FROM site_window_deltas GROUP BY 1 ORDER BY 1`,
  );
  assert.deepEqual(deltas.rows.map((r) => [r.window_start.getTime(), r.users, r.events]), [[windowStartOf(now), 1, 5], [far, 1, 2]]);
});

test('a fresh database has partitions from now to at least 7 days ahead; maintenance adds those behind, once', async (t) => {
  const url = await freshDatabase(t);
  await migrate(url);
  const client = await connect(t, url);
  const now = Date.now();
  for (const { table, unit } of PARTITIONED_TABLES) {
    const ranged = (await listPartitions(client, table)).filter((p) => !p.isDefault);
    const covered = (ms: number) => ranged.some((p) => p.from! <= ms && ms < p.to!);
    for (let ms = now; ms <= now + 7 * DAY; ms += 3_600_000) assert.ok(covered(ms), `${table} has a partition for ${iso(ms)}`);
    assert.equal(ranged[0]!.from, periodStart(unit, now), `${table} starts with the current ${unit}`);
    assert.equal(ranged.length, PERIODS_AHEAD[unit] + 1);
    assert.ok((await listPartitions(client, table)).some((p) => p.isDefault), `${table} has a DEFAULT partition`);
  }

  const first = await maintainPartitions(client, { retentionDays: 400, behindDays: 7, now });
  assert.equal(first.ran, true);
  const expected = PARTITIONED_TABLES.flatMap(({ table, unit }) => {
    const names: string[] = [];
    for (let p = periodStart(unit, now - 7 * DAY); p < periodStart(unit, now); p = nextPeriod(unit, p)) names.push(partitionName(table, p));
    return names;
  });
  assert.deepEqual(first.created.sort(), expected.sort(), 'the periods back to behindDays');
  const again = await maintainPartitions(client, { retentionDays: 400, behindDays: 7, now });
  assert.deepEqual([again.created, again.dropped], [[], []], 'a second run changes nothing');
});

test("upserts into today's partition and into DEFAULT (far future) work; maintenance moves DEFAULT's rows out, or deletes them past the retention", async (t) => {
  const url = await freshDatabase(t);
  await migrate(url);
  const client = await connect(t, url);
  const now = Date.now();
  const future = Date.UTC(2200, 2, 3, 4, 5, 10);
  const ancient = Date.UTC(1990, 0, 1, 12);
  for (let revision = 0; revision < 3; revision++) await writeCheckpoint(client, 'shop', [now, future, ancient], revision);

  const where = await client.query<{ part: string; revision: number; events: number }>(
    `SELECT tableoid::regclass::text AS part, revision, events FROM user_metrics ORDER BY window_start`,
  );
  assert.deepEqual(where.rows, [
    { part: 'user_metrics_default', revision: 2, events: 3 },
    { part: partitionName('user_metrics', periodStart('day', now)), revision: 2, events: 3 },
    { part: 'user_metrics_default', revision: 2, events: 3 },
  ]);
  const stats = await client.query<{ part: string; pageviews: string }>(`SELECT tableoid::regclass::text AS part, pageviews FROM site_stats_day ORDER BY bucket_start`);
  assert.deepEqual(stats.rows.map((r) => [r.part, Number(r.pageviews)]), [
    ['site_stats_day_default', 3],
    [partitionName('site_stats_day', periodStart('month', now)), 3],
    ['site_stats_day_default', 3],
  ], 'additive upserts summed in every partition');

  const result = await maintainPartitions(client, { retentionDays: 400, now });
  // site_window_totals holds nothing: no fold ran.
  assert.equal(result.movedFromDefault, ALL_TABLES.length - 1, 'the future row of each table moved into a partition of its own');
  assert.equal(result.deletedFromDefault, ALL_TABLES.length - 1, 'the ancient rows deleted');
  for (const name of ['user_metrics_p22000303', partitionName('user_sessions', periodStart('week', future)), 'site_stats_hour_p22000301']) {
    assert.ok(result.created.includes(name), `${name} created`);
  }
  assert.deepEqual(await misplacedRows(client), []);

  // ON CONFLICT finds the moved rows in their new partition.
  await writeCheckpoint(client, 'shop', [now, future], 3);
  const after = await client.query<{ part: string; revision: number; n: number }>(
    `SELECT tableoid::regclass::text AS part, revision, count(*) OVER ()::int AS n FROM user_metrics WHERE window_start > now() + interval '1 year'`,
  );
  assert.deepEqual(after.rows, [{ part: 'user_metrics_p22000303', revision: 3, n: 1 }]);
  const day = await client.query<{ pageviews: string }>(`SELECT pageviews FROM site_stats_day WHERE bucket_start > now() + interval '1 year'`);
  assert.deepEqual(day.rows.map((r) => Number(r.pageviews)), [4]);
});

test('partitions past RETENTION_DAYS are dropped while writers keep writing; one maintenance at a time', async (t) => {
  const url = await freshDatabase(t);
  await migrate(url);
  const setup = await connect(t, url);
  const now = Date.now();
  // 410 to 470 days old: rows with no partition yet, which a first run (longer retention) moves
  // into partitions of their own.
  const old = Array.from({ length: 61 }, (_, i) => now - (410 + i) * DAY + i * 1000);
  await writeCheckpoint(setup, 'old', old);
  const prepared = await maintainPartitions(setup, { retentionDays: 1000, now });
  assert.equal(prepared.movedFromDefault, old.length * 6, 'every old row moved out of DEFAULT (no totals folded)');
  const cutoff = now - 400 * DAY;
  const expired = new Map<string, string[]>();
  for (const { table } of PARTITIONED_TABLES) {
    expired.set(table, (await listPartitions(setup, table)).filter((p) => p.to !== undefined && p.to <= cutoff).map((p) => p.name));
  }
  assert.equal(expired.get('user_metrics')!.length, 61);
  assert.ok(expired.get('site_stats_day')!.length >= 1 && expired.get('user_sessions')!.length >= 8);

  // A writer committing checkpoints into today's partitions all along.
  const writer = await connect(t, url);
  let writing = true;
  let commits = 0;
  const errors: Error[] = [];
  let slowest = 0;
  let commitsDuringMaintenance = 0;
  let maintaining = false;
  const writes = (async () => {
    for (let k = 0; writing; k++) {
      const started = performance.now();
      try {
        await writeCheckpoint(writer, 'live', [now + k * 5000, now + k * 5000 + 1]);
        commits++;
        if (maintaining) commitsDuringMaintenance++;
      } catch (error) {
        errors.push(error as Error);
      }
      slowest = Math.max(slowest, performance.now() - started);
    }
  })();

  // A checkpoint that stays open in today's partition until the maintenance has given up on the
  // parent's lock once: the detach must wait for it, not fail it.
  const long = await connect(t, url);
  await long.query('BEGIN');
  await upsertWindowResults(long, [windowRow('live', 'long', windowStartOf(now))]);
  let longOpen = true;
  const other = await connect(t, url);
  let concurrent: PartitionMaintenanceResult | undefined;
  const maintenance = await connect(t, url);
  maintaining = true;
  const result = await maintainPartitions(maintenance, {
    retentionDays: 400,
    now,
    lockTimeoutMs: 100,
    retryDelayMs: 20,
    attempts: 200,
    onLockTimeout: async () => {
      if (!longOpen) return;
      concurrent = await maintainPartitions(other, { retentionDays: 400, now });
      await long.query('COMMIT');
      longOpen = false;
    },
  });
  maintaining = false;
  writing = false;
  await writes;
  t.diagnostic(`writer: ${commits} checkpoints, ${commitsDuringMaintenance} while the maintenance ran; slowest ${slowest.toFixed(0)} ms (lock_timeout 100 ms, ${result.lockTimeouts} lock timeouts)`);

  assert.deepEqual(errors.map((e) => e.message), [], 'the writer never failed');
  assert.ok(commitsDuringMaintenance > 0, 'the writer committed while partitions were dropped');
  assert.equal(concurrent?.ran, false, 'a second maintenance skips while one runs');
  assert.ok(result.lockTimeouts >= 1, 'the detach gave way to the open checkpoint');
  assert.equal(longOpen, false);
  assert.deepEqual(result.postponed, []);
  assert.deepEqual(result.dropped.sort(), [...expired.values()].flat().sort(), 'every partition wholly past the retention, nothing else');
  const left = await setup.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_class WHERE relname = ANY($1)`, [[...expired.values()].flat()]);
  assert.equal(left.rows[0]!.n, 0, 'detached and dropped, no table left behind');
  for (const { table, key, unit } of PARTITIONED_TABLES) {
    const stale = await setup.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${key} < $1`, [iso(periodStart(unit, cutoff))]);
    assert.equal(stale.rows[0]!.n, 0, `${table} holds nothing past the retention`);
  }
  const kept = await setup.query<{ n: number }>(`SELECT count(*)::int AS n FROM user_metrics WHERE site_id = 'live'`);
  assert.equal(kept.rows[0]!.n, commits * 2 + 1, "every writer's row is there");
  assert.deepEqual(await misplacedRows(setup), []);
});

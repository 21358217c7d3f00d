/**
 * `pnpm bench db`: what time partitioning costs the processor's biggest write. The processor's own
 * statement (upsertWindowResults: unnest arrays, ON CONFLICT, revision guard) upserts the same
 * window results into the partitioned `user_metrics` (daily partitions, DEFAULT partition, rollup
 * triggers with transition tables) and into an unpartitioned copy of it (same columns, indexes,
 * checks and triggers, in schema `flat`, picked by search_path), batch by batch in alternating
 * order, so both see the same table sizes and the same machine. Two phases: new windows
 * (revision 0), then late corrections of all of them (revision 1: ON CONFLICT DO UPDATE).
 *
 * Env: BENCH_ROWS (1000000), BENCH_BATCH (25000, as a catch-up checkpoint), BENCH_USERS (50000).
 */
import pg from 'pg';
import type { WindowResult } from '@clickstream/shared';
import { ensureDatabase, migrate, periodStart, upsertWindowResults } from '../src/index.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 25_000);
const USERS = Number(process.env.BENCH_USERS ?? 50_000);
const say = (line: string) => process.stdout.write(`${line}\n`);
const serverUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const name = `clickstream_bench_db_${Date.now().toString(36)}`;
const url = new URL(`/${name}`, serverUrl).toString();

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: new URL('/postgres', serverUrl).toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The i-th result: USERS users per 5-second window, windows from the start of the current UTC hour. */
function batchOf(from: number, to: number, base: number, revision: number): WindowResult[] {
  const results: WindowResult[] = [];
  for (let i = from; i < to; i++) {
    const start = base + Math.floor(i / USERS) * 5000;
    results.push({
      siteId: `site${i % 5}`,
      userId: `user-${(i * 7919) % USERS}`,
      windowStart: new Date(start).toISOString(),
      windowEnd: new Date(start + 5000).toISOString(),
      events: 1 + revision,
      pageViews: 1,
      clicks: revision,
      customEvents: 0,
      uniquePages: 1,
      engagedMs: 0,
      sessions: 1,
      revision,
    });
  }
  return results;
}

async function timedUpsert(client: pg.Client, results: WindowResult[]): Promise<number> {
  const started = performance.now();
  await client.query('BEGIN');
  await upsertWindowResults(client, results);
  await client.query('COMMIT');
  return performance.now() - started;
}

await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
await ensureDatabase(url);
await migrate(url);
const partitioned = new pg.Client({ connectionString: url, application_name: 'bench-partitioned' });
const flat = new pg.Client({ connectionString: url, application_name: 'bench-flat' });
await partitioned.connect();
await flat.connect();
try {
  const version = (await partitioned.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
  // The unpartitioned copy: LIKE ... INCLUDING ALL copies the indexes and checks; the rollup
  // triggers are recreated on it and append to a deltas table of its own (found first on its
  // search_path by the same trigger functions).
  await flat.query(`
    CREATE SCHEMA flat;
    CREATE TABLE flat.user_metrics (LIKE public.user_metrics INCLUDING ALL);
    CREATE TABLE flat.site_window_deltas (LIKE public.site_window_deltas INCLUDING ALL);
    CREATE TRIGGER user_metrics_rollup_insert AFTER INSERT ON flat.user_metrics
      REFERENCING NEW TABLE AS rollup_new FOR EACH STATEMENT EXECUTE FUNCTION public.user_metrics_rollup_insert();
    CREATE TRIGGER user_metrics_rollup_update AFTER UPDATE ON flat.user_metrics
      REFERENCING OLD TABLE AS rollup_old NEW TABLE AS rollup_new FOR EACH STATEMENT EXECUTE FUNCTION public.user_metrics_rollup_update();
    CREATE TRIGGER user_metrics_rollup_delete AFTER DELETE ON flat.user_metrics
      REFERENCING OLD TABLE AS rollup_old FOR EACH STATEMENT EXECUTE FUNCTION public.user_metrics_rollup_delete();
    SET search_path = flat, public;`);
  const check = await flat.query<{ schema: string }>(`SELECT relnamespace::regnamespace::text AS schema FROM pg_class WHERE oid = 'user_metrics'::regclass`);
  if (check.rows[0]!.schema !== 'flat') throw new Error(`the flat client writes to ${check.rows[0]!.schema}.user_metrics`);

  const hour = Date.now() - (Date.now() % 3_600_000);
  const windows = Math.ceil(ROWS / USERS);
  if (periodStart('day', hour) !== periodStart('day', hour + windows * 5000)) say('(the rows span midnight: two daily partitions)');
  say(`PostgreSQL ${version}; ${ROWS.toLocaleString()} window results in batches of ${BATCH.toLocaleString()}, ${USERS.toLocaleString()} users, ${windows} windows from ${new Date(hour).toISOString()}`);
  say(`${'phase'.padEnd(34)}${'unpartitioned'.padStart(17)}${'partitioned'.padStart(17)}   ratio   median of batch ratios`);
  for (const revision of [0, 1]) {
    const elapsed = { flat: 0, partitioned: 0 };
    const ratios: number[] = [];
    for (let from = 0, n = 0; from < ROWS; from += BATCH, n++) {
      const results = batchOf(from, Math.min(ROWS, from + BATCH), hour, revision);
      // ABBA: neither table always goes first (a warm cache, a checkpoint, another process).
      const order = n % 2 === 0 ? (['flat', 'partitioned'] as const) : (['partitioned', 'flat'] as const);
      const took = { flat: 0, partitioned: 0 };
      for (const which of order) took[which] = await timedUpsert(which === 'flat' ? flat : partitioned, results);
      elapsed.flat += took.flat;
      elapsed.partitioned += took.partitioned;
      ratios.push(took.flat / took.partitioned);
    }
    // On a shared machine a stall (a checkpoint, another process) hits one side of a pair: the
    // median of the per-batch ratios is the figure that such outliers do not move.
    ratios.sort((a, b) => a - b);
    const median = ratios[Math.floor(ratios.length / 2)]!;
    const rate = (ms: number) => ROWS / (ms / 1000);
    const label = revision === 0 ? 'new windows (INSERT)' : 'corrections (ON CONFLICT UPDATE)';
    const column = (ms: number) => `${Math.round(rate(ms)).toLocaleString()} rows/s`.padStart(17);
    say(`${label.padEnd(34)}${column(elapsed.flat)}${column(elapsed.partitioned)}   ${(elapsed.flat / elapsed.partitioned).toFixed(3)}   ${median.toFixed(3)} (${ratios.length} batches)`);
  }
  const sizes = await partitioned.query<{ part: string; rows: number }>(
    `SELECT tableoid::regclass::text AS part, count(*)::int AS rows FROM public.user_metrics GROUP BY 1 ORDER BY 1`,
  );
  const copy = await flat.query<{ rows: number }>('SELECT count(*)::int AS rows FROM flat.user_metrics');
  say(`rows: ${sizes.rows.map((r) => `${r.part} ${r.rows.toLocaleString()}`).join(', ')}; flat.user_metrics ${copy.rows[0]!.rows.toLocaleString()}`);
  say('ratio: partitioned rate / unpartitioned rate (goal: at least 0.90)');
} finally {
  await partitioned.end();
  await flat.end();
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
